// Decimates a network source's frames to the canonical rate by their timestamps: a 60 or 50 fps
// phone gives 30, 29.97/25/15 fps and a jittery variable-rate phone pass untouched. A credit of
// media time (a token bucket in ns) decides, so timestamp jitter never costs a frame and a burst
// after a stall is capped. (videorate drop-only max-rate let 40 of 60 fps through on live SRT
// input.) One streaming thread calls it; pure, unit-tested.
#pragma once

#include <algorithm>
#include <cstdint>

namespace onair::sources {

class RateLimiter {
 public:
  explicit RateLimiter(int64_t interval_ns) : interval_(interval_ns), credit_(interval_ns) {}

  bool pass(int64_t pts_ns) {
    if (started_) {
      const int64_t delta = pts_ns - last_pts_;
      // A jump back (a new stream) starts over; otherwise time earns credit, capped.
      credit_ = delta < 0 ? interval_ : std::min(credit_ + delta, interval_ * 3 / 2);
    }
    started_ = true;
    last_pts_ = pts_ns;
    if (credit_ <= interval_ / 2) return false;  // a frame in between two canonical ones
    credit_ -= interval_;
    return true;
  }

 private:
  int64_t interval_;
  int64_t credit_;
  int64_t last_pts_ = 0;
  bool started_ = false;
};

}  // namespace onair::sources
