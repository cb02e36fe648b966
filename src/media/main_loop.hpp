// The GLib main loop thread: owns every GStreamer pipeline, bus watch and media timer.
// Other threads hand it work with post(); nothing media-related is shared under locks.
#pragma once

#include <glib.h>

#include <functional>
#include <thread>

namespace onair::media {

class MainLoop {
 public:
  MainLoop();
  ~MainLoop();  // stops and joins
  MainLoop(const MainLoop&) = delete;
  MainLoop& operator=(const MainLoop&) = delete;

  // Runs fn on the loop thread (at once if called from it). Safe from any thread.
  void post(std::function<void()> fn);
  // Runs fn on the loop thread and waits for it (never call from the loop thread's callbacks
  // of a pipeline being torn down by fn).
  void run_sync(std::function<void()> fn);
  // Calls fn every interval_ms on the loop thread until fn returns false.
  void every(unsigned interval_ms, std::function<bool()> fn);
  // Calls fn once after delay_ms on the loop thread.
  void after(unsigned delay_ms, std::function<void()> fn);
  bool on_loop_thread() const;
  void stop();

 private:
  GMainContext* context_;
  GMainLoop* loop_;
  std::thread thread_;
};

}  // namespace onair::media
