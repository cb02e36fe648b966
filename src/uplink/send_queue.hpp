// Private to uplink/: the bounded hand-off from the streaming thread to one sender thread.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>

#include "uplink/uplink.hpp"

namespace onair::uplink {

// push() only takes a short lock and never waits for the network. While closed (not
// connected) payloads are discarded without counting: an outage is reported by the link
// state, and queue_drops stays a pure "link slower than the stream" signal. On overflow the
// queue is emptied, the dropped payloads are counted, and nothing is accepted until the
// next keyframe so the receiver never sees a frame with a hole in it.
class SendQueue {
 public:
  using Clock = std::chrono::steady_clock;

  explicit SendQueue(size_t max_bytes) : max_bytes_(max_bytes) {}

  void push(TsPayload payload);

  // Connected: accept payloads again, starting at the next keyframe.
  void open();
  // Disconnected: discard what is queued and accept nothing.
  void close();
  // The next payload, or nullopt at `deadline` or after interrupt().
  std::optional<TsPayload> pop_until(Clock::time_point deadline);
  // Makes a waiting (or the next) pop_until return at once.
  void interrupt();

  uint64_t drops() const;
  size_t queued_bytes() const;

 private:
  const size_t max_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<TsPayload> queue_;
  size_t bytes_ = 0;
  bool open_ = false;
  bool wait_keyframe_ = true;
  bool overflowed_ = false;  // waiting for a keyframe because of an overflow (count skips)
  bool interrupted_ = false;
  uint64_t drops_ = 0;
};

}  // namespace onair::uplink
