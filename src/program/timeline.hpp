// Running times for buffers entering the program from whichever source is on air. A buffer's
// running time is its capture time, except where that would not move forward: sources have
// their own capture delays, so a switch can land on an earlier time than the last buffer's.
// Pure and header-only (table-tested); times in ns on the program's running-time scale.
#pragma once

#include <cstdint>
#include <optional>

namespace onair::program {

inline constexpr uint64_t kNoTime = ~uint64_t{0};

// Video: the capture time, or half a frame after the previous frame when the capture time is
// less than that: timestamps only go forward, and a lag left by a switch closes within a few
// frames instead of staying (which would skew A/V sync and the capture stamps for good).
inline uint64_t next_video_time(uint64_t capture, uint64_t previous, uint64_t duration) {
  if (previous == kNoTime) return capture;
  const uint64_t earliest = previous + duration / 2;
  return capture < earliest ? earliest : capture;
}

// Audio: the capture time, or right after the previous buffer's end when it overlaps it;
// nullopt (drop) when it lies wholly before that end: its time has already been played.
inline std::optional<uint64_t> next_audio_time(uint64_t capture, uint64_t duration, uint64_t previous_end) {
  if (previous_end == kNoTime || capture >= previous_end) return capture;
  if (capture + duration <= previous_end) return std::nullopt;
  return previous_end;
}

}  // namespace onair::program
