// /api/v1/live: one push round per interval builds the document once (status + recent events),
// diffs it against the last one (merge patch) and hands the same bytes to every viewer. A viewer
// joins with the whole document and the recent chart history. The timer runs only while someone
// watches, so nobody watching costs nothing. io thread only (stats() from any thread).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "control/control.hpp"

namespace onair::control {

using LiveMessage = std::shared_ptr<const std::string>;

// A viewer as the hub sees it.
class LiveViewer {
 public:
  virtual ~LiveViewer() = default;
  // Queues a message without blocking; a viewer that cannot keep up drops itself.
  virtual void push(const LiveMessage& message) = 0;
};

class LiveHub : public std::enable_shared_from_this<LiveHub> {
 public:
  LiveHub(boost::asio::io_context& ioc, Hooks hooks, std::chrono::milliseconds interval);

  void join(const std::shared_ptr<LiveViewer>& viewer);  // sends the snapshot at once
  void leave(const LiveViewer* viewer);
  void count_drop() { dropped_.fetch_add(1, std::memory_order_relaxed); }
  void stop();
  LiveStats stats() const;

 private:
  void schedule();
  void tick();
  nlohmann::json document() const;
  LiveMessage snapshot_message() const;

  boost::asio::io_context& ioc_;
  Hooks hooks_;
  std::chrono::milliseconds interval_;
  boost::asio::steady_timer timer_;
  bool running_ = false;
  bool stopped_ = false;
  std::unordered_map<const LiveViewer*, std::weak_ptr<LiveViewer>> viewers_;
  nlohmann::json last_doc_;              // what every viewer has, as of seq_
  uint64_t seq_ = 0;
  std::deque<nlohmann::json> history_;   // recent chart samples, oldest first
  std::atomic<size_t> clients_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> pushes_{0};
};

}  // namespace onair::control
