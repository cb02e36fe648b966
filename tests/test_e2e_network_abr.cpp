// build/onair through the impairment relay to a real SRT ingest: the venue uplink drops from
// plenty to 700 kbit/s and comes back. The encoder's bitrate follows it down within seconds,
// the ingest keeps decoding on the same connection with no hole longer than the SRT latency,
// and the bitrate climbs back to the ceiling once the link recovers.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "metrics/metrics.hpp"
#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"
#include "support/ts_analyzer.hpp"
#include "test_metrics_text.hpp"
#include "uplink_impair.hpp"

using namespace onair::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kLatencyMs = 800;   // a venue link's SRT latency (belabox defaults to 2000)
constexpr int kCeilingKbps = 1500;
constexpr int kCapKbps = 700;     // the whole stream (video, AAC, TS and SRT headers) must fit

int encoder_kbps(const OnairInstance& onair) {
  try {
    return onair.status()["encoder"]["bitrate_kbps"].get<int>();
  } catch (const std::exception&) {
    return -1;
  }
}

// The producer's view: /metrics, the controller's figures for the one destination.
struct AbrMetrics {
  double down = -1, up = -1, capacity_bps = -1;
  int phases_on = 0;
  std::string phase;
};

AbrMetrics abr_metrics(const OnairInstance& onair) {
  const auto e = parse_prometheus_text(onair.get("/metrics").body);
  AbrMetrics m;
  m.down = e.value("onair_abr_bitrate_changes_total", {{"destination", "ingest"}, {"direction", "down"}}).value_or(-1);
  m.up = e.value("onair_abr_bitrate_changes_total", {{"destination", "ingest"}, {"direction", "up"}}).value_or(-1);
  m.capacity_bps = e.value("onair_abr_link_capacity_bps", {{"destination", "ingest"}}).value_or(-1);
  for (const char* phase : onair::metrics::kAbrPhases)
    if (e.value("onair_abr_phase", {{"destination", "ingest"}, {"phase", phase}}).value_or(0) == 1) {
      ++m.phases_on;
      m.phase = phase;
    }
  return m;
}

// The controller's decisions ("abr: ..." lines) out of onair's log: what a failing check needs.
std::string abr_log_lines(const std::string& log) {
  std::string out;
  for (size_t i = log.find("abr:"); i != std::string::npos; i = log.find("abr:", i)) {
    const size_t end = std::min(log.find('\n', i), log.size());
    out.append(log, i, end - i).push_back('\n');
    i = end;
  }
  return out;
}

}  // namespace

TEST_CASE("bandwidth step down and back up: the bitrate follows, the picture never stops, full recovery") {
  const uint16_t ingest_port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ingest_port, .latency_ms = kLatencyMs});
  ImpairRelay relay(ingest_port, {"delay=10"});
  OnairSettings settings;
  settings.bitrate_kbps = kCeilingKbps;
  settings.primary = "{ type: test, pattern: snow }";  // noise: the encoder really uses every bit
  settings.destinations = "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(relay.port()) +
                          "?mode=caller&latency=" + std::to_string(kLatencyMs) + "\" }";
  OnairInstance onair(settings);
  REQUIRE_MESSAGE(onair.wait_status([](const json& s) { return destination(s).value("state", "") == "connected"; }, 10s),
                  onair.log());
  REQUIRE(wait_until([&] { return ingest.byte_count() > 300'000; }, 10s));
  CHECK(encoder_kbps(onair) == kCeilingKbps);
  const AbrMetrics clear = abr_metrics(onair);
  CHECK(clear.down == 0);
  CHECK(clear.phases_on == 1);

  // The uplink drops to 700 kbit/s: the bitrate is under it within 3 s.
  REQUIRE(relay.command("set rate=" + std::to_string(kCapKbps) + " queue=200") == "ok");
  const auto dropped_at = Clock::now();
  CHECK_MESSAGE(wait_until([&] { return encoder_kbps(onair) > 0 && encoder_kbps(onair) < kCapKbps; }, 3s), onair.log());
  const auto followed_after = Clock::now() - dropped_at;
  MESSAGE("bitrate under the cap after ", std::chrono::duration_cast<std::chrono::milliseconds>(followed_after).count(),
          " ms");
  // ... stays under it while the link stays narrow, and finds its way back up from wherever the
  // first (deliberately deep) cuts left it.
  int highest = 0, last = 0;
  wait_until([&] {
    const int kbps = encoder_kbps(onair);
    if (kbps > 0 && Clock::now() - dropped_at > 3s) {
      highest = std::max(highest, kbps);
      last = kbps;
    }
    return false;
  }, 15s, 100ms);  // the backlog of the first second (up to the SRT latency) drains first
  CHECK(highest < kCapKbps);
  CHECK(last > 300);  // above encoder.bitrate_min_kbps: it uses the link, it does not hide at the floor
  const json abr = onair.status()["encoder"]["abr"];
  INFO(abr.dump());
  CHECK(abr["enabled"] == true);
  CHECK(abr["destinations"][0]["decreases"].get<int>() >= 1);
  // The producer sees the same in /metrics: steps down, and what the narrow link carried.
  const AbrMetrics narrow = abr_metrics(onair);
  MESSAGE("/metrics: ", narrow.down, " steps down, ", narrow.up, " up, phase ", narrow.phase, ", link carried ",
          narrow.capacity_bps / 1000, " kbps of video");
  CHECK(narrow.down >= 1);
  CHECK(narrow.phases_on == 1);
  INFO("the controller's decisions:\n", abr_log_lines(onair.log()));
  CHECK(narrow.capacity_bps >= 300'000);  // encoder.bitrate_min_kbps: the estimate is never below it
  CHECK(narrow.capacity_bps < kCapKbps * 1000);

  // The link recovers: back at the ceiling within 15 s (the bench measures it more finely).
  REQUIRE(relay.command("set rate=0") == "ok");
  const auto recovered_at = Clock::now();
  CHECK_MESSAGE(wait_until([&] { return encoder_kbps(onair) == kCeilingKbps; }, 15s), onair.status()["encoder"].dump());
  MESSAGE("back at the ceiling after ",
          std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - recovered_at).count(), " ms");
  const AbrMetrics back = abr_metrics(onair);
  CHECK(back.up > narrow.up);
  CHECK(back.phases_on == 1);
  REQUIRE(wait_until([&] { return ingest.byte_count() > 0; }, 1s));
  const size_t before = ingest.byte_count();
  REQUIRE(wait_until([&] { return ingest.byte_count() > before + 200'000; }, 10s));

  // One connection all along: the stream rode the congestion out, it was never cut.
  CHECK(ingest.connections() == 1);
  CHECK(destination(onair.status()).value("reconnects", -1) == 0);
  const TsReport report = analyze_ts(ingest.connection_bytes(0));
  INFO(report.summary());
  REQUIRE(report.frames.size() > 300);
  double worst_gap_s = 0;
  for (size_t i = 1; i < report.frames.size(); ++i)
    worst_gap_s = std::max(worst_gap_s, report.frames[i].pts_s - report.frames[i - 1].pts_s);
  MESSAGE("longest gap between decoded frames: ", worst_gap_s * 1000, " ms; ", report.video_decode_errors,
          " decode errors");
  CHECK(worst_gap_s * 1000 <= kLatencyMs);
  CHECK(report.pts_monotonic);
}
