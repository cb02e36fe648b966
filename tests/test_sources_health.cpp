// Source health as tables: frame and byte arrival times in, verdicts out. No media, no sleeps.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sources/health.hpp"

using onair::sources::HealthAction;
using onair::sources::HealthInput;
using onair::sources::HealthOptions;
using onair::sources::judge_health;

namespace {

constexpr int64_t ms = 1000;  // µs per ms
constexpr int64_t t0 = 1'000'000'000;

struct Row {
  const char* what;
  HealthInput in;
  bool healthy;
  int timeout_ms;
  HealthAction action;
  const char* reason;
};

HealthInput local(int64_t frame_age_ms, double interval_ms = 33.3) {
  HealthInput in;
  in.now_us = t0;
  in.last_frame_us = frame_age_ms < 0 ? 0 : t0 - frame_age_ms * ms;
  in.frame_interval_ms = interval_ms;
  return in;
}

HealthInput network(int64_t frame_age_ms, int64_t input_age_ms, int64_t connected_ms = 60'000, double interval_ms = 33.3) {
  HealthInput in = local(frame_age_ms, interval_ms);
  in.network = true;
  in.connected = true;
  in.connected_us = t0 - connected_ms * ms;
  in.last_input_us = input_age_ms < 0 ? 0 : t0 - input_age_ms * ms;
  return in;
}

void run(const std::vector<Row>& rows) {
  const HealthOptions options{100, 500, 1000, 10000};
  for (const auto& r : rows) {
    CAPTURE(r.what);
    const auto v = judge_health(r.in, options);
    CHECK(v.healthy == r.healthy);
    CHECK(v.timeout_ms == r.timeout_ms);
    CHECK(v.action == r.action);
    CHECK(v.reason == r.reason);
  }
}

}  // namespace

TEST_CASE("a local camera is healthy while its frames arrive within the detect timeout") {
  run({
      {"fresh frame", local(20), true, 100, HealthAction::none, ""},
      {"at the timeout", local(100), true, 100, HealthAction::none, ""},
      {"past it", local(101), false, 100, HealthAction::none, "no frame for 101 ms"},
      {"never a frame", local(-1), false, 100, HealthAction::none, "waiting for the first frame"},
  });
}

TEST_CASE("a slow source gets two of its own frame intervals, never less than the configured timeout") {
  run({
      {"60 fps", local(90, 16.7), true, 100, HealthAction::none, ""},
      {"10 fps, 150 ms since the last frame", local(150, 100), true, 200, HealthAction::none, ""},
      {"10 fps, two frames missing", local(201, 100), false, 200, HealthAction::none, "no frame for 201 ms"},
      {"5 fps slides", local(399, 200), true, 400, HealthAction::none, ""},
      {"unknown rate", local(99, 0), true, 100, HealthAction::none, ""},
  });
}

TEST_CASE("a network source is lost when its bytes stop, but a late frame over flowing bytes is only a stall") {
  run({
      {"all fresh", network(30, 5), true, 100, HealthAction::none, ""},
      {"decoder 150 ms late, bytes flowing", network(150, 10), true, 100, HealthAction::none, ""},
      {"decoder 480 ms late, bytes flowing", network(480, 10), true, 100, HealthAction::none, ""},
      {"no frame for 501 ms though bytes flow", network(501, 10), false, 100, HealthAction::none,
       "data arrives but no frame for 501 ms"},
      {"bytes stopped 101 ms ago", network(110, 101), false, 100, HealthAction::none, "no data for 101 ms"},
      {"bytes stopped, frames still draining", network(20, 120), false, 100, HealthAction::none, "no data for 120 ms"},
  });
}

TEST_CASE("a connected peer that goes silent is a dead link; one that sends no video is restarted later") {
  run({
      {"silent for the link timeout", network(900, 1000), false, 100, HealthAction::none, "no data for 1000 ms"},
      {"silent past it", network(1200, 1001), false, 100, HealthAction::restart_dead_link,
       "the caller sent nothing for 1001 ms"},
      {"connected 2 s ago, nothing yet", network(-1, -1, 2000), false, 100, HealthAction::restart_dead_link,
       "the caller sent nothing for 2000 ms"},
      {"connected, bytes flowing, waiting for a keyframe", network(-1, 5, 4000), false, 100, HealthAction::none,
       "connected, waiting for the first frame"},
      {"connected 10 s, bytes but never a frame", network(-1, 5, 10001), false, 100, HealthAction::restart_no_video,
       "connected and sending, but no decodable video for 10001 ms"},
      {"frames stopped 10 s ago, bytes flowing", network(10001, 5), false, 100, HealthAction::restart_no_video,
       "connected and sending, but no decodable video for 10001 ms"},
  });
}

TEST_CASE("a listener with no caller waits without a verdict to act on") {
  HealthInput in = network(-1, -1);
  in.connected = false;
  run({{"no caller", in, false, 100, HealthAction::none, "waiting for the first frame"}});
}
