#include "control/live_hub.hpp"

#include <spdlog/spdlog.h>

#include "control/http_types.hpp"
#include "control/merge_patch.hpp"

namespace onair::control {
namespace {

constexpr size_t kRecentEvents = 30;
constexpr auto kHistory = std::chrono::seconds(60);  // chart span a new viewer starts with

int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A hook that throws must not end the push for everybody: its part is left out and logged.
template <class F>
nlohmann::json guarded(const char* what, const F& hook, nlohmann::json fallback) {
  if (!hook) return fallback;
  try {
    return hook();
  } catch (const std::exception& e) {
    spdlog::error("control: live {} failed: {}", what, e.what());
  }
  return fallback;
}

}  // namespace

LiveHub::LiveHub(boost::asio::io_context& ioc, Hooks hooks, std::chrono::milliseconds interval)
    : ioc_(ioc), hooks_(std::move(hooks)), interval_(std::max(interval, std::chrono::milliseconds(20))), timer_(ioc) {}

nlohmann::json LiveHub::document() const {
  auto events = guarded("events", hooks_.events, nlohmann::json::object());
  // The events hook answers {"events": [...]}, newest first; viewers get the recent ones.
  auto list = events.is_object() ? events.value("events", nlohmann::json::array()) : events;
  if (list.is_array() && list.size() > kRecentEvents) list.erase(list.begin() + kRecentEvents, list.end());
  return {{"status", guarded("status", hooks_.status, nlohmann::json::object())}, {"events", list}};
}

LiveMessage LiveHub::snapshot_message() const {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& sample : history_) history.push_back(sample);
  return std::make_shared<const std::string>(dump_json(
      {{"type", "snapshot"}, {"seq", seq_}, {"time", epoch_ms()}, {"doc", last_doc_}, {"history", history}}));
}

void LiveHub::join(const std::shared_ptr<LiveViewer>& viewer) {
  if (stopped_) return;
  if (viewers_.empty() && !running_) {
    // First viewer after a quiet spell: start fresh so nobody sees a stale document or chart gap.
    last_doc_ = document();
    history_.clear();
    ++seq_;
    if (hooks_.live_sample) guarded("sample", hooks_.live_sample, {});  // starts the rate window
  }
  viewers_[viewer.get()] = viewer;
  clients_.store(viewers_.size(), std::memory_order_relaxed);
  viewer->push(snapshot_message());
  if (!running_) {
    running_ = true;
    schedule();
  }
}

void LiveHub::leave(const LiveViewer* viewer) {
  viewers_.erase(viewer);
  clients_.store(viewers_.size(), std::memory_order_relaxed);
}

void LiveHub::stop() {
  stopped_ = true;
  timer_.cancel();
  viewers_.clear();
  clients_.store(0, std::memory_order_relaxed);
}

LiveStats LiveHub::stats() const {
  return {clients_.load(std::memory_order_relaxed), dropped_.load(std::memory_order_relaxed),
          pushes_.load(std::memory_order_relaxed)};
}

void LiveHub::schedule() {
  timer_.expires_after(interval_);
  timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self) return;
    self->tick();
  });
}

void LiveHub::tick() {
  if (stopped_ || viewers_.empty()) {
    running_ = false;
    return;
  }
  auto doc = document();
  auto sample = guarded("sample", hooks_.live_sample, nlohmann::json::object());
  const int64_t now = epoch_ms();
  if (sample.is_object()) sample["t"] = now;
  history_.push_back(sample);
  while (history_.size() > size_t(kHistory / interval_)) history_.pop_front();

  LiveMessage message;
  const auto patch = merge_diff(last_doc_, doc);
  last_doc_ = std::move(doc);
  ++seq_;
  if (patch) {
    message = std::make_shared<const std::string>(
        dump_json({{"type", "delta"}, {"seq", seq_}, {"time", now}, {"patch", *patch}, {"sample", sample}}));
  } else {
    message = snapshot_message();  // not expressible as a merge patch: everyone gets it whole
  }
  // Copy: a viewer may drop itself (and leave) while being pushed to.
  const auto viewers = viewers_;
  for (const auto& [raw, weak] : viewers) {
    if (auto viewer = weak.lock()) viewer->push(message);
  }
  pushes_.fetch_add(1, std::memory_order_relaxed);
  schedule();
}

}  // namespace onair::control
