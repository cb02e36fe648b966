// The network sources' rate limiter as tables: timestamps in, frames kept out. No media.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "sources/rate_limit.hpp"

using onair::sources::RateLimiter;

namespace {

constexpr int64_t kSecond = 1'000'000'000;

// Frames kept out of `frames` input frames at `fps`, with a per-frame jitter pattern (ms).
int kept(double fps, int frames, const std::vector<int>& jitter_ms = {0}) {
  RateLimiter limiter(kSecond / 30);
  int n = 0;
  for (int i = 0; i < frames; ++i) {
    const auto pts = static_cast<int64_t>(std::llround(i * kSecond / fps)) + jitter_ms[i % jitter_ms.size()] * 1'000'000LL;
    n += limiter.pass(pts) ? 1 : 0;
  }
  return n;
}

}  // namespace

TEST_CASE("faster phones are brought down to the canonical 30 fps (10 s of each); slower ones pass untouched") {
  struct Row {
    double fps;
    int frames;
    int expect;
  };
  for (const auto& r : std::vector<Row>{{60, 600, 300}, {50, 500, 300}, {120, 1200, 300}, {40, 400, 300},
                                        {30, 300, 300}, {30000.0 / 1001, 300, 300}, {25, 250, 250}, {15, 150, 150}}) {
    CAPTURE(r.fps);
    CHECK(std::abs(kept(r.fps, r.frames) - r.expect) <= 1);  // the first frame may add one
  }
}

TEST_CASE("network jitter on a 30 fps phone drops nothing") {
  CHECK(kept(30, 300, {0, 8, -8, 5, -3}) == 300);
  CHECK(kept(30000.0 / 1001, 300, {0, -8, 8}) == 300);
  CHECK(kept(25, 250, {0, 10, -10, 15}) == 250);
}

TEST_CASE("after a stall a burst is capped, then the rate holds") {
  RateLimiter limiter(kSecond / 30);
  int64_t t = 0;
  for (int i = 0; i < 10; ++i, t += kSecond / 30) CHECK(limiter.pass(t));
  t += kSecond;  // a second of nothing, then four frames at once
  int burst = 0;
  for (int i = 0; i < 4; ++i) burst += limiter.pass(t + i * kSecond / 240) ? 1 : 0;
  CHECK(burst == 2);
  int steady = 0;
  for (int i = 1; i <= 30; ++i) steady += limiter.pass(t + i * kSecond / 30) ? 1 : 0;
  CHECK(steady >= 29);
}
