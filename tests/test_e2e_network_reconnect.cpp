// build/onair when the uplink dies: a 3 s blackout (the venue Wi-Fi drops out, nothing is
// closed) is noticed within the idle timeout and the same link streams again within 1 s of the
// network; a 600 ms drop-out (one or two destinations) gets the picture back at once thanks to
// the keyframes asked for while the link is quiet (and none with uplink.recovery_keyframes off), at once too under an ingest that
// serves the newest publisher; an ingest process restarted ten times (killed: found by silence, the connection
// dialled as soon as it went quiet is served; stopped: says goodbye) is rejoined within 1 s every time. The encoder never stops.
#include <doctest/doctest.h>

#include <csignal>
#include <chrono>
#include <string>
#include <thread>

#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"
#include "support/ts_analyzer.hpp"
#include "test_metrics_text.hpp"
#include "uplink_impair.hpp"

using namespace onair::test;
using nlohmann::json;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string caller_to(uint16_t port) {
  return "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=200\" }";
}

milliseconds since(Clock::time_point t) { return std::chrono::duration_cast<milliseconds>(Clock::now() - t); }

uint64_t frames_encoded(const OnairInstance& onair) {
  return onair.status()["program"]["frames_encoded"].get<uint64_t>();
}

double keyframes_forced(const OnairInstance& onair, const std::string& reason) {
  return parse_prometheus_text(onair.get("/metrics").body)
      .value("onair_encoder_keyframes_forced_total", {{"reason", reason}})
      .value_or(-1);
}

// onair connected and the ingest getting the stream.
void require_streaming(const OnairInstance& onair, const SrtReceiver& ingest) {
  REQUIRE(onair.wait_status([](const json& s) { return destination(s).value("state", "") == "connected"; }, 10s));
  REQUIRE(wait_until([&] { return ingest.byte_count() > 100'000; }, 10s));
}

// A 600 ms drop-out as the ingest saw it, wherever this thread was meanwhile: it waits for the
// ingest's longest pause in arrivals since byte `before` (of its only connection) to have ended,
// ~400 ms from the last bytes played before the drop-out to the first resent after it, and for
// 150 kB after that pause. The bytes from gap.offset on are what came back.
SrtReceiver::ArrivalGap after_drop_out(const SrtReceiver& ingest, size_t before) {
  SrtReceiver::ArrivalGap gap;
  const bool back = wait_until([&] {
    gap = ingest.longest_gap(0, before);
    return gap.length >= milliseconds(200) && ingest.byte_count() > gap.offset + 150'000;
  }, 10s);
  REQUIRE_MESSAGE(back, "longest pause at the ingest: ", gap.length.count(), " ms; connections: ", ingest.connections());
  return gap;
}

}  // namespace

TEST_CASE("a 3 s blackout: declared down within the idle timeout, the same link streams again within 1 s of its end") {
  const uint16_t ingest_port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ingest_port, .latency_ms = 200});
  ImpairRelay relay(ingest_port, {"delay=5"});
  OnairSettings settings;
  settings.destinations = caller_to(relay.port());
  OnairInstance onair(settings);
  require_streaming(onair, ingest);

  const uint64_t frames_before = frames_encoded(onair);
  REQUIRE(relay.command("blackout 3000") == "ok");
  const auto blackout_at = Clock::now();
  json down;
  CHECK(onair.wait_status([&](const json& s) {
    down = destination(s);
    return down.value("state", "") != "connected";
  }, 3s));
  const milliseconds declared_after = since(blackout_at);
  // onair's own count of the silence when it gave up (the poll above only sees it later on a busy box).
  const std::string reason = down.value("reason", "");
  const std::string prefix = "no response from the ingest for ";
  REQUIRE_MESSAGE(reason.starts_with(prefix), reason);
  const long silent_ms = std::stol(reason.substr(prefix.size()));
  MESSAGE("link declared down after ", silent_ms, " ms of silence (peer_idle_timeout_ms 1000), seen by the test after ",
          declared_after.count(), " ms");
  CHECK(silent_ms >= 1000);
  CHECK(silent_ms < 2000);

  // Nothing reaches the ingest during the blackout; the first bytes after it come within 1 s of
  // the network's return.
  REQUIRE(wait_until([&] { return since(blackout_at) >= milliseconds(2900); }, 4s));
  const size_t bytes_at_return = ingest.byte_count();
  REQUIRE(ingest.connection_bytes(0).size() == bytes_at_return);  // all of it came on the first connection
  REQUIRE_MESSAGE(wait_until([&] { return ingest.byte_count() > bytes_at_return; }, 8s, 10ms), onair.log());
  const milliseconds back_after = since(blackout_at) - milliseconds(3000);
  MESSAGE("streaming again ", back_after.count(), " ms after the blackout ended");
  CHECK(back_after <= milliseconds(1000));
  // Usually the old link answers first and resumes: no handshake, nothing new for the ingest.
  // The connection dialled beside it (for an ingest that restarted) may answer first on a busy
  // box; then that one is served. When the old link wins, a dial already under way may still
  // have reached the ingest before onair dropped it: it carries nothing.
  json d;
  REQUIRE_MESSAGE(onair.wait_status([&](const json& s) {
    d = destination(s);
    return d.value("state", "") == "connected" && d.value("resumes", 0) + d.value("reconnects", 0) == 1;
  }, 2s), d.dump());
  const bool resumed = d.value("resumes", 0) == 1;
  const std::string outcome =
      resumed ? "resumed on the same connection" : "reconnected: the connection dialled beside it answered first";
  MESSAGE(outcome);
  if (resumed) {
    CHECK(ingest.connections() <= 2);
    CHECK(ingest.connection_bytes(1).empty());
  } else {
    CHECK(ingest.connections() == 2);
  }
  // The encoder (and the display) never noticed: frames kept coming at ~30 fps throughout.
  const uint64_t frames_during = frames_encoded(onair) - frames_before;
  CHECK(frames_during >= uint64_t(0.8 * 30 * std::chrono::duration<double>(since(blackout_at)).count()));
  // What came after the blackout decodes cleanly, and the picture is back at once: a resumed link
  // recovers the keyframes asked for while it was quiet (every quarter latency), a new connection
  // starts with one, so hardly anything before the first keyframe is skipped.
  REQUIRE(wait_until([&] { return ingest.byte_count() > bytes_at_return + 400'000; }, 10s));
  const std::vector<uint8_t> now = ingest.connection_bytes(resumed ? 0 : 1);
  const size_t from = resumed ? bytes_at_return - bytes_at_return % 188 : 0;
  const TsReport r = analyze_ts(std::vector<uint8_t>(now.begin() + long(from), now.end()));
  INFO(r.summary());
  CHECK(r.total_errors() == 0);
  CHECK(r.video_frames > 30);
  CHECK(r.video_packets_skipped <= 20);
  // The bitrate was held through the outage (an outage is not congestion).
  CHECK(onair.status()["encoder"]["bitrate_kbps"] == settings.bitrate_kbps);
}

TEST_CASE("a 600 ms drop-out: the link stays up and the picture is back at once, not at the next scheduled keyframe") {
  for (const bool recovery_keyframes : {true, false}) {  // uplink.recovery_keyframes
    CAPTURE(recovery_keyframes);
    const uint16_t ingest_port = free_udp_port();
    SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ingest_port, .latency_ms = 200});
    ImpairRelay relay(ingest_port, {"delay=5"});
    OnairSettings settings;
    settings.destinations = caller_to(relay.port());
    settings.keyframe_interval_s = 4;  // a scheduled keyframe would come up to 4 s after the return
    if (!recovery_keyframes) settings.uplink_extra = "  recovery_keyframes: false\n";
    OnairInstance onair(settings);
    require_streaming(onair, ingest);

    const size_t before = ingest.byte_count();  // one connection: its offsets
    REQUIRE(relay.command("blackout 600") == "ok");
    const SrtReceiver::ArrivalGap gap = after_drop_out(ingest, before);
    INFO("the ingest heard nothing for ", gap.length.count(), " ms");
    // Too short to declare the link down (peer_idle_timeout_ms 1000): the same connection throughout.
    const json d = destination(onair.status());
    CHECK(d.value("state", "") == "connected");
    CHECK(d.value("resumes", 1) == 0);
    CHECK(d.value("reconnects", 1) == 0);
    CHECK(ingest.connections() == 1);
    // From 250 ms of quiet on, the encoder was asked for a keyframe every quarter latency: what the
    // link recovered when the path came back (its last ~200 ms, resent) starts the picture again.
    const std::vector<uint8_t> now = ingest.connection_bytes(0);
    const TsReport r = analyze_ts(std::vector<uint8_t>(now.begin() + long(gap.offset - gap.offset % 188), now.end()));
    MESSAGE(r.summary());
    CHECK(r.total_errors() == 0);
    // The producer sees them in /metrics: one for the connection, the rest for the drop-out.
    CHECK(keyframes_forced(onair, "link") == 1);
    const double drop_out = keyframes_forced(onair, "drop_out");
    MESSAGE(drop_out, " keyframes forced for the drop-out");
    if (recovery_keyframes) {
      CHECK(drop_out >= 2);
      CHECK(drop_out <= 12);  // ~(600 - 250 ms) / 50 ms: they stop once the link answers
      // What came back starts with one of them (~50 ms apart): more than one when the link's last
      // ~200 ms were resent in time, just the last when only new packets got through (a ~620 ms
      // pause at the ingest instead of ~430).
      CHECK(r.keyframe_pts_s.size() >= 1);
      CHECK(r.video_frames > 15);
      CHECK(r.video_packets_skipped <= 150);  // under 100 ms of video before the first keyframe
    } else {
      CHECK(drop_out == 0);
      CHECK(r.keyframe_pts_s.size() <= 1);  // at most the scheduled one: the ingest's GOP stays regular
    }
  }
}

TEST_CASE("drop-outs of 0.3 to 1.5 s under an ingest that serves the newest publisher: the stream is back at once each time") {
  // onair dials beside a quiet link (from 250 ms of quiet on). An ingest that hands a stream to
  // its newest publisher (MediaMTX by default) closes the old connection as it accepts that
  // dial, which can happen just as the old link answers again and the dial is abandoned, or
  // just before the dial's own answer reaches onair. Either way the stream must come back at
  // once: the dial in flight is served, or a new one goes out without the backoff. The race is
  // lost when the network returns as the dial repeats its handshake (every 250 ms from 250 ms of
  // quiet): hence the lengths near multiples of 250 ms. The code before lost it in 4 of 4 runs
  // and waited for the backoff: 455-513 ms with no data out of the ingest; now 251-330 ms where it
  // is lost, 200 ms of that the SRT latency the ingest holds a new connection's first packet.
  const uint16_t ingest_port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ingest_port, .latency_ms = 200,
                      .newest_publisher_only = true});
  ImpairRelay relay(ingest_port, {"delay=5"});
  OnairSettings settings;
  settings.destinations = caller_to(relay.port());
  OnairInstance onair(settings);
  require_streaming(onair, ingest);
  for (const int drop_out_ms : {300, 600, 975, 1000, 1025, 1225, 1250, 1275, 1475, 1500, 1525}) {
    CAPTURE(drop_out_ms);
    const auto start = Clock::now();
    REQUIRE(relay.command("blackout " + std::to_string(drop_out_ms)) == "ok");
    const auto back = start + milliseconds(drop_out_ms);
    std::this_thread::sleep_until(back + 3s);
    // From the network's return on, whichever connection brings it: the first message, and
    // every later pause, within the 1 s the issue allows (1.5 Mbit/s: a message every few ms).
    const auto first = ingest.first_arrival(back);
    REQUIRE_MESSAGE(first.has_value(), onair.log());
    const auto first_after = std::chrono::duration_cast<milliseconds>(*first - back);
    const milliseconds longest = ingest.longest_pause(back, back + 3s);
    MESSAGE(drop_out_ms, " ms drop-out: first message ", first_after.count(), " ms after the network returned, "
            "longest pause from then ", longest.count(), " ms; ingest connections so far ", ingest.connections());
    CHECK(longest < milliseconds(1000));
    CHECK(ingest.connected());
    CHECK(destination(onair.status()).value("state", "") == "connected");
  }
  // Whatever the ingest did, no connection waited for the backoff (the old code's "backoff:
  // connection closed by the ingest", or "no response" once the dial under way was dropped).
  const std::string log = onair.log();
  CHECK_MESSAGE(log.find("backoff:") == std::string::npos, log);
  MESSAGE(destination(onair.status()).dump());
}

TEST_CASE("the venue's uplink drops out under two destinations: both get the picture back at once") {
  // At once (neither is "fine", so neither holds the keyframes back), and 300 ms apart (each one's
  // drop-out keyframes are held back while the other still reaches its ingest: each asks for one
  // when it answers again, and its picture is back right after what it recovered).
  for (const int apart_ms : {0, 300}) {
    CAPTURE(apart_ms);
    const uint16_t ports[2] = {free_udp_port(), free_udp_port()};
    SrtReceiver main_ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ports[0], .latency_ms = 200});
    SrtReceiver backup_ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ports[1], .latency_ms = 200});
    ImpairRelay main_relay(ports[0], {"delay=5"});
    ImpairRelay backup_relay(ports[1], {"delay=5"});
    OnairSettings settings;
    settings.destinations =
        "    - { name: main, url: \"srt://127.0.0.1:" + std::to_string(main_relay.port()) + "?mode=caller&latency=200\" }\n" +
        "    - { name: backup, url: \"srt://127.0.0.1:" + std::to_string(backup_relay.port()) + "?mode=caller&latency=200\" }";
    settings.keyframe_interval_s = 4;
    OnairInstance onair(settings);
    REQUIRE(wait_until([&] { return main_ingest.byte_count() > 100'000 && backup_ingest.byte_count() > 100'000; }, 10s));

    const size_t main_before = main_ingest.byte_count(), backup_before = backup_ingest.byte_count();
    REQUIRE(main_relay.command("blackout 600") == "ok");
    const auto main_at = Clock::now();
    if (apart_ms > 0) REQUIRE(wait_until([&] { return since(main_at) >= milliseconds(apart_ms); }, 2s, 5ms));
    REQUIRE(backup_relay.command("blackout 600") == "ok");
    const milliseconds apart = since(main_at);
    const SrtReceiver::ArrivalGap main_gap = after_drop_out(main_ingest, main_before);
    const SrtReceiver::ArrivalGap backup_gap = after_drop_out(backup_ingest, backup_before);
    for (auto [ingest, gap] : {std::pair{&main_ingest, main_gap}, std::pair{&backup_ingest, backup_gap}}) {
      const std::vector<uint8_t> bytes = ingest->connection_bytes(0);
      const TsReport r = analyze_ts(std::vector<uint8_t>(bytes.begin() + long(gap.offset - gap.offset % 188), bytes.end()));
      MESSAGE(r.summary());
      INFO("drop-outs began ", apart.count(), " ms apart; the ingest heard nothing for ", gap.length.count(),
           " ms; keyframes forced: ", keyframes_forced(onair, "drop_out"), " for the drop-outs, ",
           keyframes_forced(onair, "link"), " for links (2 connections); onair's log:\n", onair.log());
      CHECK(r.total_errors() == 0);
      CHECK(r.video_frames > 10);
      CHECK(r.video_packets_skipped <= 150);
    }
  }
}

TEST_CASE("a silent link's extra keyframes are not forced on a destination that is fine") {
  const uint16_t lost_port = free_udp_port();
  const uint16_t fine_port = free_udp_port();
  SrtReceiver lost({.mode = SrtReceiverOptions::Mode::listener, .port = lost_port, .latency_ms = 200});
  SrtReceiver fine({.mode = SrtReceiverOptions::Mode::listener, .port = fine_port, .latency_ms = 200});
  ImpairRelay relay(lost_port, {"delay=5"});
  OnairSettings settings;
  settings.destinations =
      "    - { name: venue, url: \"srt://127.0.0.1:" + std::to_string(relay.port()) + "?mode=caller&latency=200\" }\n" +
      "    - { name: backup, url: \"srt://127.0.0.1:" + std::to_string(fine_port) + "?mode=caller&latency=200\" }";
  OnairInstance onair(settings);
  auto state_of = [](const json& s, const std::string& name) {
    for (const json& d : s["destinations"])
      if (d.value("name", "") == name) return d.value("state", "");
    return std::string();
  };
  REQUIRE_MESSAGE(onair.wait_status([&](const json& s) {
    return state_of(s, "venue") == "connected" && state_of(s, "backup") == "connected";
  }, 10s), onair.log());
  REQUIRE(wait_until([&] { return fine.byte_count() > 100'000 && lost.byte_count() > 100'000; }, 10s));

  // The window starts with the blackout (not when a status poll first sees the venue link
  // down: on a busy box that can be late) and ends when the venue link is back after it. Not at
  // the first "connected": a fresh Debian run saw the venue link declared down 1 s before the
  // blackout could have begun and resumed 0.4 s later, which closed the window after 0.9 s
  // (cause not proven; the box was busy with a parallel test, and a stall of this process's
  // receivers, which then acknowledge nothing, would look exactly like that).
  const size_t fine_from = fine.byte_count();
  const auto blackout_at = Clock::now();
  REQUIRE(relay.command("blackout 3000") == "ok");
  REQUIRE(onair.wait_status([&](const json& s) { return state_of(s, "venue") == "connecting"; }, 3s));
  REQUIRE(wait_until([&] { return since(blackout_at) >= 3000ms && state_of(onair.status(), "venue") == "connected"; },
                     6s, 50ms));
  const std::vector<uint8_t> bytes = fine.connection_bytes(0);
  const size_t from = fine_from - fine_from % 188;
  const TsReport r = analyze_ts(std::vector<uint8_t>(bytes.begin() + long(from), bytes.end()));
  INFO(r.summary());
  INFO("backup connections: ", fine.connections(), "; onair's log:\n", onair.log());
  // ~3 s the venue link was quiet (~2 s of it declared down): the backup kept its keyframe every
  // second (the setting), not one every 50 ms (a quarter of the venue link's latency: ~50 of
  // them), and decoded cleanly throughout (from its first keyframe in the window: up to 1 s in).
  // The one keyframe for the venue link's return, when it is already in the window, is shared by
  // the backup (one encoder).
  CHECK(r.duration_s > 1.5);
  CHECK(r.keyframe_interval_s == doctest::Approx(1.0).epsilon(0.15));
  CHECK(r.keyframe_pts_s.size() <= 5);
  CHECK(r.total_errors() == 0);
}

TEST_CASE("the ingest process restarted ten times (killed or stopped): the stream resumes within 1 s every time") {
  const uint16_t ingest_port = free_udp_port();
  LoopbackUdp played;  // what the ingest relays on, like a restream to the platform
  OnairSettings settings;
  settings.destinations = caller_to(ingest_port);
  OnairInstance onair(settings);
  milliseconds slowest{0};
  for (int restart = 0; restart < 10; ++restart) {
    CAPTURE(restart);
    while (played.receive(0)) {}  // what the previous ingest left behind
    ChildProcess ingest({"srt-live-transmit", "-q", "srt://127.0.0.1:" + std::to_string(ingest_port) +
                                                        "?mode=listener&latency=200",
                         "udp://127.0.0.1:" + std::to_string(played.port())});
    const auto started = Clock::now();
    REQUIRE_MESSAGE(wait_until([&] { return played.receive(0).has_value(); }, 6s, 10ms), onair.log());
    const milliseconds resumed_after = since(started);
    slowest = std::max(slowest, resumed_after);
    // It flows, not just one packet: 1.2 s of stream (a healthy connection, not a flapping one).
    size_t datagrams = 0;
    const auto flowing = Clock::now();
    while (since(flowing) < milliseconds(1200))
      if (played.receive(50)) ++datagrams;
    CHECK(datagrams > 50);
    // Half crash (no goodbye: found by silence), half stop cleanly (the ingest says goodbye).
    if (restart % 2 == 0) {
      ingest.signal(SIGKILL);
      CHECK(ingest.wait_exit(3s).has_value());
    } else {
      ingest.kill_and_wait();
    }
    MESSAGE("restart ", restart, ": resumed ", resumed_after.count(), " ms after the ingest started");
    // The first packet after the ingest returns goes out within 1 s, a crash included: the new
    // process is dialled as soon as the old connection goes quiet, not after the idle timeout
    // (1000 ms here; waiting for it, a killed ingest's successor got the stream 1.23-1.26 s after
    // it started).
    CHECK(resumed_after < milliseconds(1000));
  }
  MESSAGE("slowest resume: ", slowest.count(), " ms");
  CHECK(onair.wait_status([](const json& s) { return destination(s).value("reconnects", 0) >= 9; }, 5s));
}
