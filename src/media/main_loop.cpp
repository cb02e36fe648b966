#include "media/main_loop.hpp"

#include <future>

namespace onair::media {
namespace {

gboolean run_once(gpointer data) {
  (*static_cast<std::function<void()>*>(data))();
  return G_SOURCE_REMOVE;
}
gboolean run_repeating(gpointer data) {
  return (*static_cast<std::function<bool()>*>(data))() ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}
void delete_once(gpointer data) { delete static_cast<std::function<void()>*>(data); }
void delete_repeating(gpointer data) { delete static_cast<std::function<bool()>*>(data); }

}  // namespace

// The default context: gst_bus_add_watch and g_timeout_add attach there, so they run here.
MainLoop::MainLoop() : context_(g_main_context_default()), loop_(g_main_loop_new(context_, FALSE)) {
  thread_ = std::thread([this] {
    g_main_context_push_thread_default(context_);
    g_main_loop_run(loop_);
    g_main_context_pop_thread_default(context_);
  });
}

MainLoop::~MainLoop() {
  stop();
  g_main_loop_unref(loop_);
}

void MainLoop::post(std::function<void()> fn) {
  if (on_loop_thread()) return fn();
  // An idle source, not g_main_context_invoke: invoke would run fn on the calling thread
  // whenever the loop thread does not hold the context at that instant.
  GSource* source = g_idle_source_new();
  g_source_set_priority(source, G_PRIORITY_DEFAULT);
  g_source_set_callback(source, run_once, new std::function<void()>(std::move(fn)), delete_once);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void MainLoop::run_sync(std::function<void()> fn) {
  if (on_loop_thread()) return fn();
  std::promise<void> done;
  auto finished = done.get_future();
  post([&] {
    fn();
    done.set_value();
  });
  finished.wait();
}

void MainLoop::every(unsigned interval_ms, std::function<bool()> fn) {
  GSource* source = g_timeout_source_new(interval_ms);
  g_source_set_callback(source, run_repeating, new std::function<bool()>(std::move(fn)),
                        delete_repeating);
  g_source_attach(source, context_);
  g_source_unref(source);
}

void MainLoop::after(unsigned delay_ms, std::function<void()> fn) {
  GSource* source = g_timeout_source_new(delay_ms);
  g_source_set_callback(source, run_once, new std::function<void()>(std::move(fn)), delete_once);
  g_source_attach(source, context_);
  g_source_unref(source);
}

bool MainLoop::on_loop_thread() const { return std::this_thread::get_id() == thread_.get_id(); }

void MainLoop::stop() {
  if (!thread_.joinable()) return;
  g_main_loop_quit(loop_);
  g_main_context_wakeup(context_);
  thread_.join();
}

}  // namespace onair::media
