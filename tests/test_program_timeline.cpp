// Running times across source switches: forward only, true capture times kept where possible,
// a lag left by a switch closed within a few frames (video) or by dropping played audio.
#include <doctest/doctest.h>

#include <vector>

#include "program/timeline.hpp"

using namespace onair::program;

namespace {
constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kFrame = 33'333'333;  // 30 fps
constexpr uint64_t kAudio = 10 * kMs;    // 480 samples at 48 kHz
}  // namespace

TEST_CASE("video: capture times pass through; a switch to a source 50 ms behind catches up in 3 frames") {
  struct Step {
    uint64_t capture;
    uint64_t expected;
  };
  const std::vector<Step> steps = {
      {1000 * kMs, 1000 * kMs},                    // first frame: its capture time
      {1000 * kMs + kFrame, 1000 * kMs + kFrame},  // the same source: untouched
      // Switch: the new source's frame was captured 50 ms before where this one would be.
      {1000 * kMs + 2 * kFrame - 50 * kMs, 1000 * kMs + kFrame + kFrame / 2},
      {1000 * kMs + 3 * kFrame - 50 * kMs, 1000 * kMs + kFrame + 2 * (kFrame / 2)},
      {1000 * kMs + 4 * kFrame - 50 * kMs, 1000 * kMs + 4 * kFrame - 50 * kMs},  // caught up: true time again
      {1000 * kMs + 5 * kFrame - 50 * kMs, 1000 * kMs + 5 * kFrame - 50 * kMs},
  };
  uint64_t previous = kNoTime;
  for (size_t i = 0; i < steps.size(); ++i) {
    CAPTURE(i);
    const uint64_t t = next_video_time(steps[i].capture, previous, kFrame);
    CHECK(t == steps[i].expected);
    if (previous != kNoTime) CHECK(t > previous);
    previous = t;
  }
}

TEST_CASE("video: a burst of frames with the same capture time still moves forward by half a frame") {
  uint64_t previous = next_video_time(500 * kMs, kNoTime, kFrame);
  for (int i = 1; i <= 4; ++i) {
    const uint64_t t = next_video_time(500 * kMs, previous, kFrame);
    CHECK(t == 500 * kMs + uint64_t(i) * (kFrame / 2));
    previous = t;
  }
}

TEST_CASE("audio: contiguous buffers pass; overlap goes after the end; wholly played buffers are dropped") {
  struct Step {
    const char* what;
    uint64_t capture;
    bool kept;
    uint64_t expected;
  };
  const std::vector<Step> steps = {
      {"first", 100 * kMs, true, 100 * kMs},
      {"contiguous", 110 * kMs, true, 110 * kMs},
      {"jitter: 1 ms early goes right after", 119 * kMs, true, 120 * kMs},
      {"switch: 25 ms behind, wholly played", 105 * kMs, false, 0},
      {"still behind, wholly played", 115 * kMs, false, 0},
      {"overlapping half", 125 * kMs, true, 130 * kMs},
      {"after a gap: its own time", 200 * kMs, true, 200 * kMs},
  };
  uint64_t end = kNoTime;
  for (const auto& s : steps) {
    CAPTURE(s.what);
    const auto t = next_audio_time(s.capture, kAudio, end);
    REQUIRE(t.has_value() == s.kept);
    if (!t) continue;
    CHECK(*t == s.expected);
    end = *t + kAudio;
  }
}
