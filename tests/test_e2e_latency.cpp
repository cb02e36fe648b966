// build/onair end to end, seen by a remote producer: /metrics parses as Prometheus text with
// every documented metric, the figures move as the stream does (frames, RTT, reconnects after
// the ingest restarts), the status API carries the same figures with 10 s percentiles, and the
// stream itself carries a capture stamp in every frame.
#include <doctest/doctest.h>

#include <functional>
#include <stdexcept>

#include "program/sei.hpp"
#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"
#include "support/ts_analyzer.hpp"
#include "test_metrics_text.hpp"

using namespace onair::test;
using nlohmann::json;

namespace {

Exposition scrape(const OnairInstance& onair) {
  const auto r = onair.get("/metrics");
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  auto e = parse_prometheus_text(r.body);
  std::string problems;
  for (const auto& p : e.problems) problems += p + "\n";
  INFO(problems);
  CHECK(e.problems.empty());
  return e;
}

// The status with the token: a venue network must not read it without one.
json status_of(const OnairInstance& onair) {
  const auto r = http_request("127.0.0.1", onair.http_port(), "GET", "/api/v1/status", "",
                              {{"Authorization", "Bearer " + onair.token()}});
  if (r.status != 200) throw std::runtime_error("status answered " + std::to_string(r.status) + ": " + r.body);
  return r.json();
}

bool wait_status(const OnairInstance& onair, const std::function<bool(const json&)>& pred,
                 std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        try {
          return pred(status_of(onair));
        } catch (const std::exception&) {
          return false;
        }
      },
      timeout, 50ms);
}

double metric(const Exposition& e, const std::string& name, const Labels& labels = {}) {
  const auto v = e.value(name, labels);
  INFO(name);
  REQUIRE(v.has_value());
  return *v;
}

struct Live {
  uint16_t port = free_udp_port();
  SrtReceiver ingest{{.mode = SrtReceiverOptions::Mode::listener, .port = port}};
  OnairInstance onair{[this] {
    OnairSettings s;
    s.destinations =
        "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120\" }";
    return s;
  }()};
};

}  // namespace

TEST_CASE("metrics: valid Prometheus text, every documented metric, figures that move with the stream") {
  Live live;
  auto& onair = live.onair;
  REQUIRE_MESSAGE(wait_status(
                      onair, [](const json& s) { return destination(s).value("state", "") == "connected"; }, 15s),
                  onair.log());
  REQUIRE(wait_until([&] { return live.ingest.byte_count() > 200'000; }, 20s));
  // Let the control thread's 250 ms metrics tick see a connected link with a measured RTT.
  REQUIRE(wait_until(
      [&] {
        return scrape(onair).value("onair_uplink_srt_rtt_seconds", {{"destination", "ingest"}}).value_or(0) > 0;
      },
      10s));
  const Exposition first = scrape(onair);

  const auto documented = documented_metrics(readme_text());
  REQUIRE(documented.size() >= 25);
  for (const auto& name : documented) {
    CAPTURE(name);
    if (name == "onair_cpu_temperature_celsius") continue;  // only where the box exposes one
    REQUIRE(first.has(name));
    CHECK_FALSE(first.families.at(name).samples.empty());
  }
  CHECK(metric(first, "onair_program_playing") == 1);
  CHECK(metric(first, "onair_stream_state", {{"state", "live"}}) == 1);
  CHECK(metric(first, "onair_uplink_up", {{"destination", "ingest"}}) == 1);
  CHECK(metric(first, "onair_uplink_srt_rtt_seconds", {{"destination", "ingest"}}) > 0);
  CHECK(metric(first, "onair_uplink_srt_rtt_seconds", {{"destination", "ingest"}}) < 0.5);
  CHECK(metric(first, "onair_encoder_bitrate_target_bps") > 0);
  CHECK(metric(first, "onair_encoder_bitrate_target_bps") <= 1'500'000);  // the ceiling (abr may cut)
  CHECK(metric(first, "onair_uplink_reconnects_total", {{"destination", "ingest"}}) == 0);
  CHECK(metric(first, "process_resident_memory_bytes") > 10e6);
  // Keyframes out of schedule: the program's first, the connection's; no drop-out, no repair.
  CHECK(metric(first, "onair_encoder_keyframes_forced_total", {{"reason", "program"}}) == 1);
  const double link_keyframes = metric(first, "onair_encoder_keyframes_forced_total", {{"reason", "link"}});
  CHECK(link_keyframes == 1);
  CHECK(metric(first, "onair_abr_phase", {{"destination", "ingest"}, {"phase", "outage"}}) == 0);

  // A second later: frames, bytes, packets and the latency histograms have moved.
  REQUIRE(wait_until(
      [&] {
        return metric(scrape(onair), "onair_video_frames_total", {{"stage", "encoded"}}) >=
               metric(first, "onair_video_frames_total", {{"stage", "encoded"}}) + 20;
      },
      10s));
  const Exposition second = scrape(onair);
  for (const char* stage : {"captured", "encoded"})
    CHECK(metric(second, "onair_video_frames_total", {{"stage", stage}}) >
          metric(first, "onair_video_frames_total", {{"stage", stage}}));
  CHECK(metric(second, "onair_uplink_bytes_sent_total", {{"destination", "ingest"}}) >
        metric(first, "onair_uplink_bytes_sent_total", {{"destination", "ingest"}}));
  CHECK(metric(second, "onair_uplink_srt_packets_sent_total", {{"destination", "ingest"}}) >
        metric(first, "onair_uplink_srt_packets_sent_total", {{"destination", "ingest"}}));
  CHECK(metric(second, "onair_pipeline_latency_seconds_count") > metric(first, "onair_pipeline_latency_seconds_count"));
  CHECK(metric(second, "onair_encode_latency_seconds_count") > metric(first, "onair_encode_latency_seconds_count"));
  CHECK(metric(second, "onair_stage_latency_seconds_count", {{"stage", "encode"}}) ==
        metric(second, "onair_encode_latency_seconds_count"));
  CHECK(metric(second, "onair_video_fps") == doctest::Approx(30).epsilon(0.25));
  CHECK(metric(second, "onair_encoder_bitrate_actual_bps") > 300'000);
  // Mean latencies a live 640x360 stream should have on any box: above zero, under a second.
  const double pipeline_mean =
      metric(second, "onair_pipeline_latency_seconds_sum") / metric(second, "onair_pipeline_latency_seconds_count");
  const double encode_mean =
      metric(second, "onair_encode_latency_seconds_sum") / metric(second, "onair_encode_latency_seconds_count");
  CHECK(pipeline_mean > 0);
  CHECK(pipeline_mean < 1.0);
  CHECK(encode_mean > 0);
  CHECK(encode_mean <= pipeline_mean);
  CHECK(metric(second, "process_cpu_seconds_total") > metric(first, "process_cpu_seconds_total"));

  // The ingest restarts: the link goes down, comes back, and the reconnect is counted.
  REQUIRE(live.ingest.pause());
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        return metric(scrape(onair), "onair_uplink_up", {{"destination", "ingest"}}) == 0;
                      },
                      10s),
                  onair.log());
  live.ingest.resume();
  REQUIRE_MESSAGE(wait_until(
                      [&] {
                        const auto e = scrape(onair);
                        return metric(e, "onair_uplink_reconnects_total", {{"destination", "ingest"}}) == 1 &&
                               metric(e, "onair_uplink_up", {{"destination", "ingest"}}) == 1;
                      },
                      20s),
                  onair.log());
  // The new connection started with a keyframe.
  CHECK(metric(scrape(onair), "onair_encoder_keyframes_forced_total", {{"reason", "link"}}) == link_keyframes + 1);
}

TEST_CASE("status: the same figures, with p50/p95/max of the last 10 s; the stream carries capture stamps") {
  Live live;
  auto& onair = live.onair;
  REQUIRE_MESSAGE(wait_status(
                      onair, [](const json& s) { return destination(s).value("state", "") == "connected"; }, 15s),
                  onair.log());
  json status;
  REQUIRE(wait_status(
      onair,
      [&](const json& s) {
        status = s;
        return s.contains("latency") && s["latency"]["pipeline_ms"].value("count", 0) >= 60 &&
               !s["latency"]["rtt_ms"].empty();
      },
      20s));
  const Exposition e = scrape(onair);
  INFO(status.dump(2));
  const json& lat = status["latency"];
  CHECK(lat["window_s"] == 10);
  for (const json& p : {lat["pipeline_ms"], lat["encode_ms"], lat["stages_ms"]["source"], lat["stages_ms"]["queue"],
                        lat["stages_ms"]["encode"], lat["stages_ms"]["mux"], lat["rtt_ms"]["ingest"]}) {
    CHECK(p["count"].get<int>() > 0);
    CHECK(p["p50"].get<double>() >= 0);
    CHECK(p["p50"].get<double>() <= p["p95"].get<double>());
    CHECK(p["p95"].get<double>() <= p["max"].get<double>());
  }
  CHECK(lat["pipeline_ms"]["p50"].get<double>() > 0);
  CHECK(lat["pipeline_ms"]["p50"].get<double>() < 1000);
  CHECK(lat["encode_ms"]["p50"].get<double>() <= lat["pipeline_ms"]["p50"].get<double>());
  // 10 s of a 30 fps stream at most (plus a frame or two at the edges).
  CHECK(lat["pipeline_ms"]["count"].get<int>() <= 310);
  // The same figures as /metrics, taken a moment apart.
  const double frames_metric = metric(e, "onair_video_frames_total", {{"stage", "encoded"}});
  const double frames_status = status_of(onair)["program"]["frames_encoded"].get<double>();
  CHECK(frames_status >= frames_metric - 30);
  CHECK(frames_status <= frames_metric + 60);
  CHECK(status["encoder"]["bitrate_kbps"].get<double>() * 1000 <= 1'500'000);
  CHECK(metric(e, "onair_encoder_bitrate_target_bps") <= 1'500'000);
  CHECK(status["process"]["resident_bytes"].get<double>() > 10e6);
  CHECK(status["process"]["cpu_seconds"].get<double>() > 0);
  CHECK(status["process"].contains("cpu_temperature_celsius"));

  // What the ingest received: every decoded frame has exactly one stamp, from before it arrived.
  REQUIRE(wait_until([&] { return live.ingest.byte_count() > 400'000; }, 20s));
  const auto received_at =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count();
  const TsReport r = analyze_ts(live.ingest.connection_bytes(0));
  INFO(r.summary());
  REQUIRE(r.video_frames > 30);
  CHECK(r.total_errors() == 0);
  CHECK(r.audio_codec == "aac");
  // Stamps are true capture times: they step back only where a switch (the startup failover to
  // the slate and back) lands on a source captured a little earlier than the last frame.
  int64_t previous = 0;
  int back_steps = 0;
  for (const auto& frame : r.frames) {
    std::vector<int64_t> stamps;
    for (const auto& payload : frame.sei_unregistered)
      if (auto us = onair::program::sei::parse_stamp(payload.data(), payload.size())) stamps.push_back(*us);
    CAPTURE(frame.pts_s);
    REQUIRE(stamps.size() == 1);
    if (stamps[0] <= previous) {
      ++back_steps;
      CHECK(previous - stamps[0] < 100'000);
    }
    CHECK(stamps[0] < received_at);
    CHECK(received_at - stamps[0] < 60'000'000);
    previous = stamps[0];
  }
  CHECK(back_steps <= 2);
}
