// Private to uplink/: capped exponential reconnect delay (pure, time passed in by the caller).
#pragma once

#include <algorithm>
#include <chrono>

namespace onair::uplink {

class Backoff {
 public:
  using ms = std::chrono::milliseconds;
  // A connection that stayed up this long counts as healthy and resets the delay.
  static constexpr ms healthy_after{10'000};

  Backoff(ms min, ms max) : min_(std::max(min, ms{1})), max_(std::max(max, min_)), next_(min_) {}

  // The delay before the next attempt; doubles each call up to max.
  ms next() {
    const ms delay = next_;
    next_ = std::min(next_ * 2, max_);
    return delay;
  }
  void reset() { next_ = min_; }
  // Call when a connection ends: a long healthy connection starts the next outage from min.
  void connection_ended(ms uptime) {
    if (uptime >= healthy_after) reset();
  }

 private:
  ms min_;
  ms max_;
  ms next_;
};

}  // namespace onair::uplink
