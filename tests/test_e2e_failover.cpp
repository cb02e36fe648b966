// Failover end to end with real streams: two test phones push SRT to build/onair (blue
// primary, red portrait backup), the uplink is recorded by a real SRT listener and decoded, and
// what a viewer saw is checked frame by frame: who was on air, the gap at each switch at the
// receiver, a keyframe at each switch, failback only after the hold, the slate when both are
// gone, no decode errors, monotonic timestamps.
#include <doctest/doctest.h>

#include <csignal>
#include <sstream>

#include "support/frame_rig.hpp"
#include "test_metrics_text.hpp"

using namespace onair::test;
using nlohmann::json;

namespace {

// The bound a switch must meet at the receiver: detect timeout + two program frame intervals
// (the issue's), plus a margin for a loaded 2-core CI box: the 10 ms media tick, scheduling
// delays of onair's loop thread and of this test's 1 ms arrival sampler under a load of 8,
// measured at up to ~60 ms together. scripts/bench-failover reports the real distribution.
constexpr double kFrameMs = 1000.0 / 30;
constexpr double kMarginMs = 100;
double gap_bound_ms(int detect_timeout_ms) { return detect_timeout_ms + 2 * kFrameMs + kMarginMs; }

std::string describe(const std::vector<Switch>& switches) {
  std::ostringstream out;
  for (const auto& s : switches)
    out << to_string(s.from) << "→" << to_string(s.to) << " pts gap " << s.pts_gap_ms << " ms, arrival gap "
        << s.arrival_gap_ms << " ms, key " << s.starts_with_keyframe << "; ";
  return out.str();
}

using Clock = std::chrono::steady_clock;

}  // namespace

TEST_CASE("primary lost → backup at once; back → failback after the hold; both gone → slate; a clean stream throughout") {
  FailoverRig rig;
  auto& onair = rig.onair();
  rig.start_backup();
  rig.start_primary();
  REQUIRE_MESSAGE(rig.wait_healthy("backup", 15s), (rig.backup().log() + onair.log()));
  REQUIRE_MESSAGE(rig.wait_active("primary", 15s), (rig.primary().log() + onair.log()));
  REQUIRE(rig.wait_status([](const json& s) { return destination(s).value("state", "") == "connected"; }, 10s));

  // What the host's panel shows for each phone.
  const json primary = rig.source("primary"), backup = rig.source("backup");
  CHECK(primary["video_codec"] == "h264");
  CHECK(primary["audio_codec"] == "aac");
  CHECK(primary["input"] == "320x240@30");
  CHECK(primary["caller"].get<std::string>().rfind("127.0.0.1:", 0) == 0);
  CHECK(backup["input"] == "240x320@30");
  CHECK(backup["detect_timeout_ms"] == 100);

  // 1. The primary phone vanishes (no goodbye on the wire): the backup takes over.
  REQUIRE(wait_until([&] { return rig.ingest().byte_count() > 200'000; }, 10s));
  rig.primary().stop(SIGKILL);
  REQUIRE_MESSAGE(rig.wait_active("backup", 3s), onair.log());

  // 2. The primary comes back: on air again only after it stayed healthy for the hold.
  REQUIRE(wait_until([&] { return rig.source("primary").value("reason", "").rfind("waiting for a caller", 0) == 0; }, 5s));
  rig.start_primary();
  REQUIRE(rig.wait_healthy("primary", 15s));
  const auto healthy_at = Clock::now();
  CHECK(rig.active() == "backup");
  REQUIRE(rig.wait_active("primary", 10s));
  const auto held = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - healthy_at).count();
  CHECK(held >= rig.options().failback_hold_ms - 150);  // the status is a snapshot every 100 ms
  CHECK(held <= rig.options().failback_hold_ms + 1500);

  // 3. The app on the phone closes the connection (an SRT goodbye, EOS): over at once, too.
  REQUIRE(wait_until([&] { return rig.ingest().byte_count() > 600'000; }, 10s));
  rig.primary().stop(SIGTERM);
  REQUIRE(rig.wait_active("backup", 3s));
  REQUIRE(wait_until([&] { return rig.source("primary").value("reason", "").rfind("waiting for a caller", 0) == 0; }, 5s));
  rig.start_primary();  // a reconnect: accepted without restarting onair
  REQUIRE(rig.wait_active("primary", 15s));

  // 4. Both phones gone: the slate goes out, the stream never stops.
  rig.backup().stop(SIGKILL);
  REQUIRE(rig.wait_status([](const json& s) {
    for (const auto& src : s.at("sources"))
      if (src.value("role", "") == "backup") return !src.value("healthy", true);
    return false;
  }, 3s));
  const size_t bytes_before_slate = rig.ingest().byte_count();
  rig.primary().stop(SIGKILL);
  REQUIRE(rig.wait_active("slate", 3s));
  REQUIRE(wait_until([&] { return rig.ingest().byte_count() > bytes_before_slate + 150'000; }, 10s));

  // The events say the same, with reasons.
  const auto events = rig.source_events();
  std::vector<std::string> seen;
  for (const auto& e : events) seen.push_back(e["from"].get<std::string>() + "→" + e["to"].get<std::string>());
  // (Start-up, before: slate → whichever phone arrives first → primary.)
  const std::vector<std::string> expected = {"primary→backup", "backup→primary", "primary→backup", "backup→primary",
                                             "primary→slate"};
  std::string seen_text;
  for (const auto& e : seen) seen_text += e + " ";
  INFO("events: " << seen_text);
  CHECK(std::vector<std::string>(seen.end() - std::min(seen.size(), expected.size()), seen.end()) == expected);
  bool hold_reason = false;
  for (const auto& e : events) hold_reason |= e["reason"] == "primary healthy for 1500 ms";
  CHECK(hold_reason);
  // /metrics counts each switch, and the keyframe each one started the new source with.
  const Exposition metrics = parse_prometheus_text(onair.get("/metrics").body);
  REQUIRE(metrics.has("onair_failovers_total"));
  double failovers = 0;
  for (const auto& sample : metrics.families.at("onair_failovers_total").samples) failovers += sample.value;
  CHECK(failovers >= double(expected.size()));
  CHECK(metrics.value("onair_encoder_keyframes_forced_total", {{"reason", "switch"}}) == failovers);

  // What a viewer got, frame by frame.
  const TsReport report = rig.report();
  INFO(report.summary());
  CHECK(report.total_errors() == 0);
  CHECK(report.pts_monotonic);
  CHECK(report.video_codec == "h264");
  std::string error;
  const auto frames = rig.frames(&error);
  REQUIRE_MESSAGE(error.empty(), error);
  auto switches = find_switches(frames);
  INFO(describe(switches));
  std::vector<std::string> looks;
  for (const auto& s : switches) looks.push_back(std::string(to_string(s.from)) + "→" + to_string(s.to));
  // Before the phones connect the slate is on air; from the first primary frame on:
  while (!looks.empty() && looks.front() != "primary→backup") {
    looks.erase(looks.begin());
    switches.erase(switches.begin());
  }
  CHECK(looks == std::vector<std::string>{"primary→backup", "backup→primary", "primary→backup", "backup→primary",
                                           "primary→slate"});
  for (const auto& s : switches) {
    CAPTURE(describe({s}));
    CHECK(s.starts_with_keyframe);
    CHECK(s.pts_gap_ms > 0);
    CHECK(s.arrival_gap_ms >= 0);
    // A failback switches between two live sources: a frame or two, not a detection.
    const double bound = s.from == Look::backup && s.to == Look::primary ? 3 * kFrameMs + kMarginMs
                                                                         : gap_bound_ms(rig.options().detect_timeout_ms);
    CHECK(s.pts_gap_ms <= bound);
    CHECK(s.arrival_gap_ms <= bound);
  }
}
