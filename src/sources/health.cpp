#include "sources/health.hpp"

#include <algorithm>
#include <cmath>

namespace onair::sources {
namespace {

int64_t age_ms(int64_t now_us, int64_t then_us) { return (now_us - then_us) / 1000; }

}  // namespace

HealthVerdict judge_health(const HealthInput& in, const HealthOptions& options) {
  HealthVerdict v;
  // A 10 fps phone legitimately leaves 100 ms between frames: two of its own frames must be
  // missing before it counts as lost.
  v.timeout_ms = std::max(options.detect_timeout_ms, static_cast<int>(std::ceil(2 * in.frame_interval_ms)));
  const int stall_ms = std::max(v.timeout_ms, options.frame_stall_ms);

  if (in.network && in.connected) {
    const int64_t input_age = in.last_input_us ? age_ms(in.now_us, in.last_input_us) : age_ms(in.now_us, in.connected_us);
    if (input_age > std::max(options.link_timeout_ms, v.timeout_ms)) {
      v.action = HealthAction::restart_dead_link;
      v.reason = "the caller sent nothing for " + std::to_string(input_age) + " ms";
      return v;
    }
    const int64_t since = in.last_frame_us ? in.last_frame_us : in.connected_us;
    if (age_ms(in.now_us, since) > options.first_frame_timeout_ms) {
      v.action = HealthAction::restart_no_video;
      v.reason = "connected and sending, but no decodable video for " + std::to_string(age_ms(in.now_us, since)) + " ms";
      return v;
    }
  }
  if (!in.last_frame_us) {
    v.reason = in.network && in.connected ? "connected, waiting for the first frame" : "waiting for the first frame";
    return v;
  }
  const int64_t frame_age = age_ms(in.now_us, in.last_frame_us);
  if (!in.network) {
    v.healthy = frame_age <= v.timeout_ms;
    if (!v.healthy) v.reason = "no frame for " + std::to_string(frame_age) + " ms";
    return v;
  }
  const int64_t input_age = in.last_input_us ? age_ms(in.now_us, in.last_input_us) : frame_age;
  if (input_age > v.timeout_ms) {
    v.reason = "no data for " + std::to_string(input_age) + " ms";
    return v;
  }
  v.healthy = frame_age <= stall_ms;
  if (!v.healthy) v.reason = "data arrives but no frame for " + std::to_string(frame_age) + " ms";
  return v;
}

}  // namespace onair::sources
