// Private to uplink/: how often to ask for a keyframe while frames are being lost (a silent
// link, a drained sudden drop), so that the first frames that reach the receiver in time, at
// most one SRT latency old, start with one and the picture is back at once.
#pragma once

#include <algorithm>
#include <cstdint>

namespace onair::uplink {

inline constexpr int64_t kMinRecoveryKeyframeMs = 100;

// Every half latency, at least kMinRecoveryKeyframeMs apart.
inline int64_t recovery_keyframe_interval_ms(int latency_ms) {
  return std::max<int64_t>(kMinRecoveryKeyframeMs, latency_ms / 2);
}

}  // namespace onair::uplink
