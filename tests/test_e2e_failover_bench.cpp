// The engine of scripts/bench-failover (skipped in ctest: it runs for minutes). N kill/restore
// cycles of the primary phone against build/onair; the uplink is recorded and decoded, and each
// switch is measured at the receiver. Lines for the script start with "bench: ".
//   ONAIR_BENCH_CYCLES (default 20), ONAIR_BENCH_DETECT_MS (100), ONAIR_BENCH_HOLD_MS (1000).
#include <doctest/doctest.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "support/frame_rig.hpp"

using namespace onair::test;

namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(p * double(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

}  // namespace

TEST_CASE("bench: kill/restore cycles of the primary phone" * doctest::skip()) {
  const int cycles = env_int("ONAIR_BENCH_CYCLES", 20);
  RigOptions options;
  options.detect_timeout_ms = env_int("ONAIR_BENCH_DETECT_MS", 100);
  options.failback_hold_ms = env_int("ONAIR_BENCH_HOLD_MS", 1000);
  FailoverRig rig(options);
  rig.start_backup();
  rig.start_primary();
  REQUIRE_MESSAGE(rig.wait_healthy("backup", 20s), (rig.backup().log() + rig.onair().log()));
  REQUIRE_MESSAGE(rig.wait_active("primary", 20s), (rig.primary().log() + rig.onair().log()));

  double rss_before = 0;
  int failback_ok = 0;
  std::vector<double> held_ms;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    CAPTURE(cycle);
    const std::size_t bytes = rig.ingest().byte_count();
    REQUIRE(wait_until([&] { return rig.ingest().byte_count() > bytes + 150'000; }, 10s));  // ~1 s on air
    if (cycle == 1) rss_before = rig.onair_rss_mb();  // after one full cycle: everything loaded once
    rig.primary().stop(SIGKILL);  // the phone vanishes: detection by silence, the slow case
    REQUIRE_MESSAGE(rig.wait_active("backup", 5s), rig.onair().log());
    REQUIRE(wait_until([&] { return rig.source("primary").value("reason", "").rfind("waiting for a caller", 0) == 0; }, 10s));
    rig.start_primary();
    REQUIRE_MESSAGE(rig.wait_healthy("primary", 20s), rig.primary().log());
    const auto healthy_at = Clock::now();
    const bool early = rig.active() == "primary";  // back on air before any hold
    const bool back = rig.wait_active("primary", std::chrono::milliseconds(options.failback_hold_ms + 5000));
    const double held = ms_since(healthy_at);
    held_ms.push_back(held);
    // The status is a snapshot every 100 ms: a hold that ended up to 150 ms "early" is on time.
    if (back && !early && held >= options.failback_hold_ms - 150) ++failback_ok;
    std::printf("bench: cycle %d: failover ok, failback after %.0f ms of health%s, onair RSS %.1f MB\n", cycle + 1,
                held, back ? "" : " (did not happen)", rig.onair_rss_mb());
    std::fflush(stdout);
  }
  const std::size_t bytes = rig.ingest().byte_count();
  REQUIRE(wait_until([&] { return rig.ingest().byte_count() > bytes + 150'000; }, 10s));
  const double rss_after = rig.onair_rss_mb();

  std::string error;
  const auto frames = rig.frames(&error);
  REQUIRE_MESSAGE(error.empty(), error);
  const TsReport report = rig.report();
  std::vector<double> gaps, pts_gaps, failback_gaps;
  int keyframes = 0, switches_seen = 0, decoded_failbacks = 0;
  for (const auto& s : find_switches(frames)) {
    ++switches_seen;
    keyframes += s.starts_with_keyframe ? 1 : 0;
    if (!s.starts_with_keyframe)
      std::printf("bench: switch %d %s→%s at %.3f s starts without a keyframe\n", switches_seen, to_string(s.from),
                  to_string(s.to), frames[s.first_index].pts_s);
    if (s.from == Look::primary && s.to == Look::backup) {
      gaps.push_back(s.arrival_gap_ms);
      pts_gaps.push_back(s.pts_gap_ms);
    } else if (s.from == Look::backup && s.to == Look::primary) {
      failback_gaps.push_back(s.arrival_gap_ms);
      ++decoded_failbacks;
    } else if (switches_seen > 1) {  // the first one is the slate giving way at start-up
      std::printf("bench: unexpected switch %s→%s at %.3f s (pts gap %.1f ms)\n", to_string(s.from), to_string(s.to),
                  frames[s.first_index].pts_s, s.pts_gap_ms);
    }
  }
  std::string events;
  for (const auto& e : rig.source_events()) events += e["from"].get<std::string>() + "→" + e["to"].get<std::string>() + " ";
  if (gaps.size() != static_cast<std::size_t>(cycles)) std::printf("bench: source events: %s\n", events.c_str());
  const double frame_ms = 1000.0 / 30;
  const double baseline = options.detect_timeout_ms + frame_ms;
  std::printf("bench: %d cycles, detect_timeout_ms %d, failback_hold_ms %d, 30 fps program, senders 320x240 H.264\n",
              cycles, options.detect_timeout_ms, options.failback_hold_ms);
  std::printf("bench: primary→backup at the receiver (arrival):  p50 %.1f  p90 %.1f  max %.1f ms  (n=%zu)\n",
              percentile(gaps, 0.5), percentile(gaps, 0.9), percentile(gaps, 1), gaps.size());
  std::printf("bench: primary→backup in the stream (pts):        p50 %.1f  p90 %.1f  max %.1f ms\n",
              percentile(pts_gaps, 0.5), percentile(pts_gaps, 0.9), percentile(pts_gaps, 1));
  std::printf("bench: backup→primary failback (arrival):         p50 %.1f  max %.1f ms; hold observed p50 %.0f ms\n",
              percentile(failback_gaps, 0.5), percentile(failback_gaps, 1), percentile(held_ms, 0.5));
  std::printf("bench: switches decoded %d, starting on a keyframe %d; decode errors %zu; pts monotonic %s\n",
              switches_seen, keyframes, report.total_errors(), report.pts_monotonic ? "yes" : "no");
  std::printf("bench: baseline = detect_timeout + one frame = %.1f ms (GStreamer's fallbacksrc is not in Debian 12;"
              " its default timeout is 5 s); gap p50/baseline %.2f, max/baseline %.2f\n",
              baseline, percentile(gaps, 0.5) / baseline, percentile(gaps, 1) / baseline);
  std::printf("bench: onair RSS %.1f MB after cycle 1, %.1f MB at the end\n", rss_before, rss_after);
  const int ok = std::min(failback_ok, decoded_failbacks);
  std::printf("bench: gap_p50_ms=%.1f gap_max_ms=%.1f detect_timeout_ms=%d failback_ok=%d/%d rss_growth_mb=%.1f "
              "baseline_ms=%.1f gap_p50_ratio=%.2f\n",
              percentile(gaps, 0.5), percentile(gaps, 1), options.detect_timeout_ms, ok, cycles, rss_after - rss_before,
              baseline, percentile(gaps, 0.5) / baseline);
  CHECK(gaps.size() == static_cast<std::size_t>(cycles));
  CHECK(ok == cycles);
  CHECK(report.total_errors() == 0);
}
