// The metrics module against a strict Prometheus text reader: the exposition parses, every
// metric the README documents is there, figures move as they should, and the status view's
// 10 s windows report the same figures. The window itself is table-tested with explicit times.
#include <doctest/doctest.h>

#include <algorithm>

#include "metrics/metrics.hpp"
#include "metrics/window.hpp"
#include "test_metrics_text.hpp"

using namespace onair;
using onair::test::Labels;
using onair::test::parse_prometheus_text;

namespace {

// Everything a running box would report: a program, a connected destination, two sources, a failover.
void feed(metrics::Metrics& m, uint64_t frames, uint64_t reconnects, double rtt_s, uint64_t resumes = 0) {
  m.update_media({true, "live", frames, frames - 1, 1, 29.9, 4e6, 3.8e6});
  m.update_destination({"ingest", true, rtt_s, 0.01, 100e6, frames * 1000, frames * 3, 2, 3, 0, 0, reconnects, resumes});
  m.update_source({"primary", true, true, 1});
  m.update_source({"slate", false, true, 0});
  m.count_failover("primary", "slate");
  m.update_abr({"ingest", "probing", 2, 5 + reconnects, 1.2e6});
  m.count_keyframe("link");
  m.observe_frame({0.020, 0.002, 0.001, 0.012, 0.005});
}

std::string all_problems(const test::Exposition& e) {
  std::string out;
  for (const auto& p : e.problems) out += p + "\n";
  return out;
}

}  // namespace

TEST_CASE("a fresh registry already parses as Prometheus text") {
  metrics::Metrics m("1.2.3", "x264", "none");
  const auto e = parse_prometheus_text(m.render());
  INFO(all_problems(e));
  CHECK(e.problems.empty());
  CHECK(e.value("onair_info", {{"version", "1.2.3"}, {"encoder", "x264"}, {"display", "none"}}) == 1);
  CHECK(e.value("process_resident_memory_bytes") > 0);
  CHECK(e.value("process_start_time_seconds") > 1.6e9);
  CHECK(e.value("onair_failovers_total", {{"from", "backup"}, {"to", "slate"}}) == 0);
  for (const char* reason : metrics::kKeyframeReasons) CHECK(e.value("onair_encoder_keyframes_forced_total", {{"reason", reason}}) == 0);
  CHECK_FALSE(e.has("onair_abr_phase"));  // no controller has spoken yet
}

TEST_CASE("every metric documented in the README is exposed, with the documented type") {
  const auto documented = test::documented_metrics(test::readme_text());
  REQUIRE(documented.size() >= 25);
  metrics::Metrics m("1.2.3", "x264", "none");
  feed(m, 100, 1, 0.004);
  const auto e = parse_prometheus_text(m.render());
  INFO(all_problems(e));
  CHECK(e.problems.empty());
  for (const auto& name : documented) {
    CAPTURE(name);
    // The temperature exists only where the box exposes one (not in most containers).
    if (name == "onair_cpu_temperature_celsius" && metrics::cpu_temperature_celsius() < -273) continue;
    REQUIRE(e.has(name));
    CHECK_FALSE(e.families.at(name).samples.empty());
    CHECK_FALSE(e.families.at(name).help.empty());
    const std::string& type = e.families.at(name).type;
    if (name.size() > 6 && name.compare(name.size() - 6, 6, "_total") == 0)
      CHECK(type == "counter");
    else if (name.find("latency_seconds") != std::string::npos)
      CHECK(type == "histogram");
    else
      CHECK(type == "gauge");
  }
  // Nothing is exposed that the README does not explain.
  for (const auto& [name, family] : e.families) {
    CAPTURE(name);
    CHECK(std::find(documented.begin(), documented.end(), name) != documented.end());
  }
}

TEST_CASE("figures move: frames count up, RTT and reconnects follow the link, histograms fill") {
  metrics::Metrics m("1.2.3", "x264", "none");
  feed(m, 100, 0, 0.004);
  auto e = parse_prometheus_text(m.render());
  CHECK(e.value("onair_video_frames_total", {{"stage", "captured"}}) == 100);
  CHECK(e.value("onair_video_frames_total", {{"stage", "encoded"}}) == 99);
  CHECK(e.value("onair_uplink_srt_rtt_seconds", {{"destination", "ingest"}}) == doctest::Approx(0.004));
  CHECK(e.value("onair_uplink_reconnects_total", {{"destination", "ingest"}}) == 0);
  CHECK(e.value("onair_uplink_resumes_total", {{"destination", "ingest"}}) == 0);
  CHECK(e.value("onair_stream_state", {{"state", "live"}}) == 1);
  CHECK(e.value("onair_stream_state", {{"state", "reconnecting"}}) == 0);

  feed(m, 250, 1, 0.006, 2);
  m.update_media({true, "reconnecting", 250, 249, 1, 29.9, 4e6, 3.8e6});
  e = parse_prometheus_text(m.render());
  INFO(all_problems(e));
  CHECK(e.problems.empty());
  CHECK(e.value("onair_video_frames_total", {{"stage", "captured"}}) == 250);
  CHECK(e.value("onair_uplink_reconnects_total", {{"destination", "ingest"}}) == 1);
  CHECK(e.value("onair_uplink_resumes_total", {{"destination", "ingest"}}) == 2);
  CHECK(e.value("onair_uplink_srt_rtt_seconds", {{"destination", "ingest"}}) == doctest::Approx(0.006));
  CHECK(e.value("onair_stream_state", {{"state", "reconnecting"}}) == 1);
  CHECK(e.value("onair_stream_state", {{"state", "live"}}) == 0);
  CHECK(e.value("onair_encode_latency_seconds_count") == 2);
  CHECK(e.value("onair_pipeline_latency_seconds_sum") == doctest::Approx(0.040));
  CHECK(e.value("onair_stage_latency_seconds_bucket", {{"stage", "encode"}, {"le", "0.02"}}) == 2);
  CHECK(e.value("onair_stage_latency_seconds_bucket", {{"stage", "encode"}, {"le", "0.01"}}) == 0);
  CHECK(e.value("onair_failovers_total", {{"from", "primary"}, {"to", "slate"}}) == 2);
  CHECK(e.value("onair_encoder_keyframes_forced_total", {{"reason", "link"}}) == 2);
  CHECK(e.value("onair_encoder_keyframes_forced_total", {{"reason", "drop_out"}}) == 0);
  CHECK(e.value("onair_abr_bitrate_changes_total", {{"destination", "ingest"}, {"direction", "up"}}) == 6);
  CHECK(e.value("onair_abr_bitrate_changes_total", {{"destination", "ingest"}, {"direction", "down"}}) == 2);
  CHECK(e.value("onair_abr_link_capacity_bps", {{"destination", "ingest"}}) == 1.2e6);
  m.update_abr({"ingest", "congested", 3, 6, 0.9e6});
  e = parse_prometheus_text(m.render());
  CHECK(e.value("onair_abr_phase", {{"destination", "ingest"}, {"phase", "congested"}}) == 1);
  CHECK(e.value("onair_abr_phase", {{"destination", "ingest"}, {"phase", "probing"}}) == 0);
  CHECK(e.value("onair_abr_bitrate_changes_total", {{"destination", "ingest"}, {"direction", "down"}}) == 3);
  // A counter kept elsewhere (SRT's) that restarts lower never makes ours go back.
  m.update_destination({"ingest", false, 0, 0, 0, 10, 10, 0, 0, 0, 0, 1});
  e = parse_prometheus_text(m.render());
  CHECK(e.value("onair_uplink_srt_packets_sent_total", {{"destination", "ingest"}}) == 750);
  CHECK(e.value("onair_uplink_up", {{"destination", "ingest"}}) == 0);
}

TEST_CASE("the status view carries the same latency figures as p50/p95/max over 10 s, in ms") {
  metrics::Metrics m("1.2.3", "x264", "none");
  for (int i = 1; i <= 100; ++i) m.observe_frame({i / 1000.0, 0.001, 0.0005, i / 2000.0, 0.0002});
  m.update_destination({"ingest", true, 0.004, 0, 0, 0, 0, 0, 0, 0, 0, 0});
  const auto s = m.status_json();
  INFO(s.dump(2));
  CHECK(s["latency"]["window_s"] == 10);
  CHECK(s["latency"]["pipeline_ms"]["count"] == 100);
  CHECK(s["latency"]["pipeline_ms"]["p50"] == 50);
  CHECK(s["latency"]["pipeline_ms"]["p95"] == 95);
  CHECK(s["latency"]["pipeline_ms"]["max"] == 100);
  CHECK(s["latency"]["encode_ms"]["p50"] == 25);
  CHECK(s["latency"]["stages_ms"]["encode"]["p95"] == 47.5);
  CHECK(s["latency"]["stages_ms"]["source"]["p50"] == 1);
  CHECK(s["latency"]["stages_ms"]["queue"]["max"] == 0.5);
  CHECK(s["latency"]["stages_ms"]["mux"]["count"] == 100);
  CHECK(s["latency"]["rtt_ms"]["ingest"]["p50"] == 4);
  CHECK(s["process"]["cpu_seconds"].get<double>() >= 0);
  CHECK(s["process"]["resident_bytes"].get<double>() > 0);
  CHECK(s["process"].contains("cpu_temperature_celsius"));
}

TEST_CASE("window: nearest-rank percentiles over the last span only, bounded memory") {
  struct Case {
    const char* what;
    std::vector<std::pair<double, double>> samples;  // (time s, value)
    double now;
    metrics::Percentiles expected;
  };
  const std::vector<Case> cases = {
      {"empty", {}, 5, {0, 0, 0, 0}},
      {"one value", {{1, 7}}, 2, {1, 7, 7, 7}},
      {"1..20",
       [] {
         std::vector<std::pair<double, double>> v;
         for (int i = 1; i <= 20; ++i) v.push_back({0.1 * i, 21 - i});
         return v;
       }(),
       3,
       {20, 10, 19, 20}},
      {"older than 10 s drop out", {{0, 1000}, {5, 1}, {9, 2}, {10.5, 3}}, 10.5, {3, 2, 3, 3}},
      {"exactly 10 s old is out", {{0, 1000}, {1, 1}}, 10, {1, 1, 1, 1}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    metrics::Window w(10);
    for (const auto& [t, v] : c.samples) w.add(t, v);
    const auto p = w.summary(c.now);
    CHECK(p.count == c.expected.count);
    CHECK(p.p50 == c.expected.p50);
    CHECK(p.p95 == c.expected.p95);
    CHECK(p.max == c.expected.max);
  }
  metrics::Window bounded(10, 50);
  for (int i = 0; i < 1000; ++i) bounded.add(1 + i * 1e-6, i);
  CHECK(bounded.summary(1.01).count == 50);
  CHECK(bounded.summary(1.01).max == 999);
}
