// The srt source with real phones-to-be: ffmpeg senders pushing H.264/H.265 + AAC/Opus in any
// size, orientation and rate to a real SRT listener; what comes out must be canonical.
#include <doctest/doctest.h>

#include <signal.h>

#include <filesystem>

#include "support/frame_harness.hpp"
#include "support/frame_sender.hpp"
#include "support/ports.hpp"

using namespace onair::test;
using onair::sources::SourceStatus;

namespace {

struct Phone {
  std::string what;
  SenderSpec spec;
  const char* video_codec;
  const char* audio_codec;
  const char* input;  // as status reports it
};

}  // namespace

TEST_CASE("phones: any codec, size, orientation and rate becomes canonical; each reconnect is accepted at once") {
  const uint16_t port = free_udp_port();
  // What is checked here is the picture, not detection speed: a lenient detect timeout keeps
  // an ffmpeg sender starved on a loaded box from failing the test (test_sources_health and
  // the e2e failover tests hold the timing).
  SourceHarness harness(port, {.detect_timeout_ms = 400});
  REQUIRE(harness.wait_status([](const SourceStatus& s) { return s.reason.find("waiting for a caller") == 0; }, 5s));
  const std::vector<Phone> phones = {
      {"H.264 + AAC, 720p at 29.97", {.color = "blue", .width = 1280, .height = 720, .rate = "30000/1001"},
       "h264", "aac", "1280x720@29.97"},
      {"H.265 + Opus, portrait 480x640 at 25", {.color = "red", .width = 480, .height = 640, .rate = "25",
       .video_codec = "libx265", .audio_codec = "libopus", .gop_frames = 25}, "h265", "opus", "480x640@25"},
      {"H.264 at 60 fps, no audio", {.width = 640, .height = 360, .rate = "60", .audio_codec = "", .gop_frames = 60},
       "h264", "", "640x360@60"},
      {"H.264 with a variable frame rate", {.width = 320, .height = 240, .rate = "30", .variable_rate = true},
       "h264", "aac", "320x240@"},
  };
  uint64_t restarts = 0;
  for (const auto& phone : phones) {
    CAPTURE(phone.what);
    FrameSender sender(phone.spec);
    const uint64_t video_before = harness.delivered().video.load();
    const uint64_t audio_before = harness.delivered().audio.load();
    sender.start(port);
    CHECK_MESSAGE(harness.wait_status([](const SourceStatus& s) { return s.healthy; }, 15s), sender.log());
    // Two seconds of steady delivery, after the first second (the start may burst).
    const auto connected = std::chrono::steady_clock::now();
    auto steady = connected;
    uint64_t steady_frames = 0;
    CHECK(harness.wait_status([&](const SourceStatus&) {
      const auto now = std::chrono::steady_clock::now();
      if (now - connected < 1s) {
        steady = now;
        steady_frames = harness.delivered().video.load();
      }
      return now - connected > 3s;
    }, 5s));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - steady).count();
    const double fps = double(harness.delivered().video.load() - steady_frames) / seconds;
    const SourceStatus s = harness.status();
    INFO(sender.log());
    INFO(harness.audio_caps());
    CHECK(s.video_codec == phone.video_codec);
    CHECK(s.audio_codec == phone.audio_codec);
    CHECK(s.input.rfind(phone.input, 0) == 0);
    CHECK(s.caller.rfind("127.0.0.1:", 0) == 0);
    // Never more than the canonical rate, whatever the phone sends (a 60 fps phone is halved);
    // the floor is loose because an ffmpeg sender on a loaded 2-core box falls behind itself.
    CHECK(fps <= 31);
    CHECK(fps >= 15);
    CHECK(harness.delivered().video.load() - video_before >= 40);
    CHECK(harness.video_caps().find("video/x-raw, format=(string)I420, width=(int)640, height=(int)360") == 0);
    CHECK(harness.video_caps().find("pixel-aspect-ratio=(fraction)1/1") != std::string::npos);
    if (*phone.audio_codec) {
      CHECK(harness.delivered().audio.load() > audio_before);
      for (const char* field : {"audio/x-raw,", "format=(string)S16LE", "rate=(int)48000", "channels=(int)2"})
        CHECK(harness.audio_caps().find(field) != std::string::npos);
    }
    // The app closes its connection: a normal end. The listener reopens at once, no backoff.
    sender.stop(SIGTERM);
    ++restarts;
    CHECK(harness.wait_status([&](const SourceStatus& st) {
      return st.restarts == restarts && st.reason.find("waiting for a caller") == 0;
    }, 3s));
    INFO(harness.status().last_failure);
    const std::string left = harness.status().last_failure;
    CHECK((left.rfind("the caller 127.0.0.1:", 0) == 0 || left == "the sender left (end of stream)"));
    CHECK(left.find("left") != std::string::npos);
  }
}

TEST_CASE("a phone that vanishes without closing frees the listener after the link timeout, and reconnects") {
  const uint16_t port = free_udp_port();
  SourceHarness harness(port);
  FrameSender phone({.color = "red"});
  phone.start(port);
  REQUIRE_MESSAGE(harness.wait_status([](const SourceStatus& s) { return s.healthy; }, 15s), phone.log());
  const auto killed = std::chrono::steady_clock::now();
  phone.stop(SIGKILL);  // battery out: no goodbye on the wire
  // Unhealthy once no byte came for the detect timeout (100 ms); generous bound for a loaded box.
  REQUIRE(harness.wait_status([](const SourceStatus& s) { return !s.healthy; }, 2s));
  CHECK(std::chrono::steady_clock::now() - killed < 1000ms);
  CHECK(harness.status().reason.rfind("no data for", 0) == 0);
  // The dead link (1 s of silence) reopens the listener, long before SRT's own 5 s peer timeout.
  REQUIRE(harness.wait_status([](const SourceStatus& s) {
    return s.restarts == 1 && s.reason.rfind("waiting for a caller", 0) == 0;
  }, 4s));
  CHECK(harness.status().last_failure.rfind("the caller sent nothing for", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - killed < 3500ms);
  phone.start(port);
  CHECK_MESSAGE(harness.wait_status([](const SourceStatus& s) { return s.healthy; }, 15s), phone.log());
  CHECK(harness.status().restarts == 1);
}
