// Private to uplink/: how long to wait before the next connection attempt (pure; the caller
// passes durations in). The aim: an ingest that comes back is found within about a second,
// while an ingest that keeps refusing us is not hammered.
#pragma once

#include <algorithm>
#include <chrono>

namespace onair::uplink {

class Backoff {
 public:
  using ms = std::chrono::milliseconds;
  // A connection that stayed up this long counts as healthy and resets the delay.
  static constexpr ms healthy_after{10'000};
  // A connection that ends sooner than this counts as a refusal (an ingest that drops us).
  static constexpr ms flapping_under{1'000};

  Backoff(ms min, ms max) : min_(std::max(min, ms{1})), max_(std::max(max, min_)), next_(min_) {}

  // The peer answered no (rejection) or something failed locally: the delay doubles up to max.
  ms after_refusal() {
    const ms delay = next_;
    next_ = std::min(next_ * 2, max_);
    return delay;
  }
  // Nobody answered the handshake: that attempt already spent its whole connect timeout
  // probing, so the next one starts after min. Probing never stops while the ingest is gone,
  // and a returning ingest answers the next handshake (libsrt repeats it every 250 ms).
  ms after_silence() const { return min_; }
  // An established connection ended after `uptime`: an ingest restart or a network blip,
  // retried after min; a connection that keeps dying young backs off like a refusal.
  ms after_connection(ms uptime) {
    if (uptime >= healthy_after) reset();
    if (uptime < flapping_under) return after_refusal();
    return min_;
  }
  void reset() { next_ = min_; }

 private:
  ms min_;
  ms max_;
  ms next_;
};

}  // namespace onair::uplink
