// Private to uplink/: how often to ask for a keyframe while frames are being lost, so that the
// first frames that reach the receiver in time start with one and the picture is back at once.
#pragma once

#include <algorithm>
#include <cstdint>

namespace onair::uplink {

inline constexpr int64_t kMinRecoveryKeyframeMs = 100;
inline constexpr int64_t kMinQuietKeyframeMs = 40;

// Draining a sudden drop (the link carries a little, at the floor bitrate): every half latency,
// at least kMinRecoveryKeyframeMs apart. Each keyframe takes a large share of a narrow link.
inline int64_t recovery_keyframe_interval_ms(int latency_ms) {
  return std::max<int64_t>(kMinRecoveryKeyframeMs, latency_ms / 2);
}

// A quiet link (a drop-out: nothing reaches the receiver, so keyframes cost it nothing): what
// the link recovers in time when the path returns is the last latency minus a few round trips
// of stream (measured: ~70-170 ms at a 200 ms latency), so every quarter latency, at least
// kMinQuietKeyframeMs apart, puts a keyframe in it.
inline int64_t quiet_keyframe_interval_ms(int latency_ms) {
  return std::max<int64_t>(kMinQuietKeyframeMs, latency_ms / 4);
}

}  // namespace onair::uplink
