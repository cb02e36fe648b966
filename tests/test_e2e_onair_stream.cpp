// build/onair end to end: test camera → onair → real SRT peer on loopback → libavformat decode.
#include <doctest/doctest.h>

#include <csignal>

#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"
#include "support/ts_analyzer.hpp"

using namespace onair::test;
using nlohmann::json;

namespace {

std::string dest(const std::string& url) { return "    - { name: ingest, url: \"" + url + "\" }"; }

bool link_state(const OnairInstance& onair, const std::string& state, std::chrono::milliseconds timeout) {
  return onair.wait_status([&](const json& s) { return destination(s).value("state", "") == state; }, timeout);
}

// Waits for `bytes` from the receiver (bounded), then checks what a viewer would decode.
TsReport receive(SrtReceiver& receiver, size_t bytes, std::chrono::milliseconds timeout, size_t connection = 0) {
  REQUIRE(wait_until([&] { return receiver.connection_bytes(connection).size() >= bytes; }, timeout, 50ms));
  return analyze_ts(receiver.connection_bytes(connection));
}

void check_clean_h264_aac(const TsReport& r, int width, int height) {
  INFO(r.summary());
  CHECK(r.open_error.empty());
  CHECK(r.video_codec == "h264");
  CHECK(r.pix_fmt == "yuv420p");
  CHECK(r.width == width);
  CHECK(r.height == height);
  CHECK(r.fps == doctest::Approx(30).epsilon(0.1));
  CHECK(r.total_errors() == 0);
  CHECK(r.pts_monotonic);
  CHECK(r.audio_codec == "aac");
  CHECK(r.sample_rate == 48000);
  CHECK(r.channels == 2);
  CHECK(r.audio_frames > 0);
}

}  // namespace

TEST_CASE("caller mode: H.264 at the configured size and rate, AAC, keyframes every second, 7x188 packets") {
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.destinations = dest("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120");
  OnairInstance onair(settings);
  REQUIRE_MESSAGE(link_state(onair, "connected", 10s), onair.log());
  // ~5 s of a 1.5 Mbit/s stream
  const TsReport r = receive(ingest, 900'000, 20s);
  check_clean_h264_aac(r, 640, 360);
  CHECK(r.video_packets_skipped == 0);  // the uplink starts every connection at a keyframe
  CHECK(r.keyframe_pts_s.size() >= 3);
  CHECK(r.keyframe_interval_s == doctest::Approx(1.0).epsilon(0.1));
  CHECK(ingest.max_message_size() <= 1316);
  for (const auto& [size, count] : ingest.message_sizes()) {
    CAPTURE(size);
    CHECK(size % 188 == 0);
  }
  // The status carries the link's figures, secrets aside.
  const json d = destination(onair.status());
  CHECK(d["rtt_ms"].get<double>() >= 0);
  CHECK(d["bytes_sent"].get<uint64_t>() > 500'000);
  CHECK(d["url"] == "srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120");
}

TEST_CASE("listener mode: the ingest calls onair and gets a decodable stream") {
  const uint16_t port = free_udp_port();
  OnairSettings settings;
  settings.destinations = dest("srt://127.0.0.1:" + std::to_string(port) + "?mode=listener&latency=120");
  OnairInstance onair(settings);
  CHECK(onair.wait_status([](const json& s) { return destination(s).value("state", "") == "connecting"; }, 10s));
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::caller, .port = port});
  REQUIRE_MESSAGE(link_state(onair, "connected", 10s), onair.log());
  const TsReport r = receive(ingest, 400'000, 20s);
  check_clean_h264_aac(r, 640, 360);
  CHECK(r.video_packets_skipped == 0);
}

TEST_CASE("passphrase: the right one streams encrypted, a wrong one is refused and reported as such") {
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port, .passphrase = "correct-horse-battery"});
  SUBCASE("right passphrase") {
    OnairSettings settings;
    settings.destinations = dest("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120&passphrase=correct-horse-battery");
    OnairInstance onair(settings);
    REQUIRE_MESSAGE(link_state(onair, "connected", 10s), onair.log());
    const TsReport r = receive(ingest, 300'000, 20s);
    CHECK(r.video_codec == "h264");
    CHECK(r.total_errors() == 0);
    const json status = onair.status();
    CHECK(status.dump().find("correct-horse-battery") == std::string::npos);
    CHECK(onair.log().find("correct-horse-battery") == std::string::npos);
  }
  SUBCASE("wrong passphrase") {
    OnairSettings settings;
    settings.destinations = dest("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120&passphrase=wrong-horse-battery");
    OnairInstance onair(settings);
    CHECK_MESSAGE(onair.wait_status([](const json& s) {
      const json d = destination(s);
      return d.value("state", "") == "rejected" && d.value("reason", "") == "rejected by ingest: wrong passphrase";
    }, 10s), onair.log());
    CHECK(ingest.byte_count() == 0);
    // /readyz says why, once the media side has reported (within a few hundred ms).
    HttpResponse ready;
    CHECK(wait_until([&] {
      ready = onair.get("/readyz");
      return ready.body.find("wrong passphrase") != std::string::npos;
    }, 5s));
    INFO(ready.body);
    CHECK(ready.status == 503);
    CHECK(ready.json()["reason"] == "no destination connected; ingest: rejected by ingest: wrong passphrase");
  }
}

TEST_CASE("the ingest goes away and comes back: the stream resumes on its own at a keyframe") {
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.destinations = dest("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120");
  OnairInstance onair(settings);
  REQUIRE(link_state(onair, "connected", 10s));
  REQUIRE(wait_until([&] { return ingest.byte_count() > 100'000; }, 10s));
  REQUIRE(ingest.pause());
  CHECK_MESSAGE(onair.wait_status([](const json& s) {
    const auto st = destination(s).value("state", "");
    return st == "backoff" || st == "connecting";
  }, 10s), onair.log());
  ingest.resume();
  REQUIRE_MESSAGE(wait_until([&] { return ingest.connections() >= 2; }, 15s), onair.log());
  const TsReport r = receive(ingest, 300'000, 20s, 1);
  INFO(r.summary());
  CHECK(r.video_packets_skipped == 0);
  CHECK(r.total_errors() == 0);
  CHECK(r.has_video());
  CHECK(onair.wait_status([](const json& s) { return destination(s).value("reconnects", 0) >= 1; }, 5s));
}

TEST_CASE("SIGTERM stops cleanly: exit 0, the stream ends without damage") {
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.destinations = dest("srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120");
  OnairInstance onair(settings);
  REQUIRE(wait_until([&] { return ingest.byte_count() > 200'000; }, 15s));
  REQUIRE(onair.process().signal(SIGTERM));
  const auto code = onair.process().wait_exit(8s);
  REQUIRE(code.has_value());
  CHECK(*code == 0);
  CHECK(onair.log().find("end of stream flushed") != std::string::npos);
  CHECK(wait_until([&] { return !ingest.connected(); }, 5s));
  const TsReport r = analyze_ts(ingest.connection_bytes(0));
  INFO(r.summary());
  CHECK(r.total_errors() == 0);
}
