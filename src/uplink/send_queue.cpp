// Bounded by bytes, gated on keyframes; see send_queue.hpp for the policy.
#include "uplink/send_queue.hpp"

#include <utility>

namespace onair::uplink {

void SendQueue::push(TsPayload payload) {
  std::deque<TsPayload> dropped;  // released outside the lock
  {
    std::lock_guard lock(mutex_);
    if (!open_) return;
    if (wait_keyframe_) {
      if (!payload.keyframe) {
        if (overflowed_) ++drops_;
        return;
      }
      wait_keyframe_ = false;
      overflowed_ = false;
    }
    // An empty queue always takes the payload, so one big keyframe cannot stall the link.
    if (!queue_.empty() && bytes_ + payload.size > max_bytes_) {
      drops_ += queue_.size();
      dropped.swap(queue_);
      bytes_ = 0;
      if (!payload.keyframe) {
        ++drops_;
        wait_keyframe_ = true;
        overflowed_ = true;
        return;
      }
    }
    bytes_ += payload.size;
    queue_.push_back(std::move(payload));
  }
  ready_.notify_one();
}

void SendQueue::open() {
  std::lock_guard lock(mutex_);
  open_ = true;
  wait_keyframe_ = true;
  overflowed_ = false;
}

void SendQueue::close() {
  std::deque<TsPayload> discarded;  // released outside the lock: owners may be GstBuffers
  {
    std::lock_guard lock(mutex_);
    open_ = false;
    discarded.swap(queue_);
    bytes_ = 0;
  }
}

std::optional<TsPayload> SendQueue::pop_until(Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  ready_.wait_until(lock, deadline, [&] { return !queue_.empty() || interrupted_; });
  if (interrupted_) {
    interrupted_ = false;
    return std::nullopt;
  }
  if (queue_.empty()) return std::nullopt;
  TsPayload payload = std::move(queue_.front());
  queue_.pop_front();
  bytes_ -= payload.size;
  return payload;
}

void SendQueue::interrupt() {
  {
    std::lock_guard lock(mutex_);
    interrupted_ = true;
  }
  ready_.notify_all();
}

uint64_t SendQueue::drops() const {
  std::lock_guard lock(mutex_);
  return drops_;
}

size_t SendQueue::queued_bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

}  // namespace onair::uplink
