// Bad input on a phone listener never hurts anything else: random bytes, a truncated capture,
// codecs onair does not take, a stream with no video, a second phone. The source is marked bad
// with a reason a host can act on, the listener reopens, a good phone still gets in, and the
// memory stays flat across many bad callers.
#include <doctest/doctest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "support/frame_harness.hpp"
#include "support/frame_sender.hpp"
#include "support/ports.hpp"

using namespace onair::test;
using onair::sources::SourceStatus;

namespace {

// Quick restarts: each bad caller costs one short backoff, so many fit in a test.
const onair::sources::SupervisorOptions kQuick{.detect_timeout_ms = 100, .backoff_min_ms = 50, .backoff_max_ms = 200};

struct TempDir {
  std::filesystem::path path = std::filesystem::temp_directory_path() / ("onair-bad-input-" + std::to_string(::getpid()));
  TempDir() { std::filesystem::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::filesystem::path write_random(const std::filesystem::path& dir, std::size_t size) {
  std::mt19937 rng(1234);
  std::string bytes(size, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng());
  const auto file = dir / "random.bin";
  std::ofstream(file, std::ios::binary) << bytes;
  return file;
}

// A real capture cut at odd byte offsets at both ends: it starts mid-packet and mid-GOP, with
// no PAT first, and stops in the middle of a frame.
std::filesystem::path write_truncated(const std::filesystem::path& dir) {
  const auto full = dir / "full.ts";
  ChildProcess encode({"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                       "testsrc2=s=320x240:r=30:d=4", "-f", "lavfi", "-i", "sine=d=4", "-c:v", "libx264", "-preset",
                       "ultrafast", "-g", "30", "-c:a", "aac", "-f", "mpegts", full.string()});
  REQUIRE(encode.wait_exit(60s) == 0);
  std::ifstream in(full, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t from = bytes.size() / 5 + 77, to = bytes.size() * 4 / 5 + 101;
  const auto file = dir / "truncated.ts";
  std::ofstream(file, std::ios::binary) << bytes.substr(from, to - from);
  return file;
}

bool listening(SourceHarness& harness, std::chrono::milliseconds timeout = 5s) {
  return harness.wait_status([](const SourceStatus& s) { return s.reason.rfind("waiting for a caller", 0) == 0; }, timeout);
}

// Sends one bad caller and returns the failure it caused (empty when none within the timeout).
std::string failure_from(SourceHarness& harness, const std::vector<std::string>& args, std::chrono::milliseconds timeout) {
  REQUIRE(listening(harness));
  const uint64_t before = harness.status().restarts;
  ChildProcess sender(args);
  if (!harness.wait_status([&](const SourceStatus& s) { return s.restarts > before; }, timeout)) return "";
  return harness.status().last_failure;
}

void a_good_phone_still_gets_in(SourceHarness& harness, uint16_t port) {
  REQUIRE(listening(harness));
  FrameSender phone({.color = "blue"});
  phone.start(port);
  CHECK_MESSAGE(harness.wait_status([](const SourceStatus& s) { return s.healthy; }, 15s), phone.log());
  phone.stop(SIGTERM);
}

}  // namespace

TEST_CASE("random bytes: marked not a media stream, and a good phone still gets in afterwards") {
  TempDir dir;
  const uint16_t port = free_udp_port();
  SourceHarness harness(port, kQuick);
  const auto reason = failure_from(harness, raw_sender_args(write_random(dir.path, 2'000'000), 500'000, port), 10s);
  CHECK(reason.rfind("the input is not a media stream onair can read (expected MPEG-TS)", 0) == 0);
  CHECK(harness.delivered().video.load() == 0);
  a_good_phone_still_gets_in(harness, port);
}

TEST_CASE("a truncated capture (starts mid-GOP, stops mid-frame): what decodes is used, the end is a normal leave") {
  TempDir dir;
  const uint16_t port = free_udp_port();
  SourceHarness harness(port, kQuick);
  const auto reason = failure_from(harness, raw_sender_args(write_truncated(dir.path), 120'000, port), 15s);
  INFO(reason);
  CHECK((reason.find("left") != std::string::npos || reason.rfind("the caller sent nothing", 0) == 0));
  CHECK(harness.delivered().video.load() > 10);  // frames from the first keyframe on came through
  a_good_phone_still_gets_in(harness, port);
}

TEST_CASE("codecs onair does not take are refused by name") {
  const uint16_t port = free_udp_port();
  SourceHarness harness(port, kQuick);
  SUBCASE("VC-2 (Dirac) video: a codec tsdemux knows, outside @accept-video") {
    FrameSender dirac({.video_codec = "vc2", .audio_codec = ""});
    CHECK(failure_from(harness, dirac.args(port, 120), 10s) == "unsupported video codec dirac (send h264 or h265)");
  }
  SUBCASE("VP8 in MPEG-TS: no stream tsdemux can even expose") {
    FrameSender vp8({.video_codec = "libvpx", .audio_codec = ""});
    const auto reason = failure_from(harness, vp8.args(port, 120), 10s);
    CHECK(reason.rfind("the input carries no stream onair can decode (expected H.264/H.265 video)", 0) == 0);
  }
  CHECK(harness.delivered().video.load() == 0);
  a_good_phone_still_gets_in(harness, port);
}

TEST_CASE("a phone that sends audio only is refused at once, not left waiting for video") {
  const uint16_t port = free_udp_port();
  SourceHarness harness(port, kQuick);
  FrameSender audio_only({.video_codec = "", .audio_codec = "aac"});
  const auto started = std::chrono::steady_clock::now();
  CHECK(failure_from(harness, audio_only.args(port, 120), 10s) == "the stream carries audio only (aac), no video");
  CHECK(std::chrono::steady_clock::now() - started < 5s);  // not the 10 s no-video fallback
}

TEST_CASE("a second phone while one is on air never reaches it; the first one stays on, undisturbed") {
  const uint16_t port = free_udp_port();
  SourceHarness harness(port, {.detect_timeout_ms = 400});  // health over 3 s of a loaded box
  FrameSender first({.color = "blue"});
  first.start(port);
  REQUIRE_MESSAGE(harness.wait_status([](const SourceStatus& s) { return s.healthy; }, 15s), first.log());
  const std::string caller = harness.status().caller;
  const uint64_t frames = harness.delivered().video.load();
  FrameSender second({.color = "red"});
  second.start(port);
  // srtsrc accepts one caller; libsrt parks the next in the listen backlog (or refuses it when
  // that is full), so its bytes never reach the pipeline. Three seconds of the two at once:
  const auto both = std::chrono::steady_clock::now();
  CHECK_FALSE(harness.wait_status([&](const SourceStatus& st) { return !st.healthy || st.caller != caller; }, 3s));
  CHECK(std::chrono::steady_clock::now() - both >= 3s);
  const SourceStatus s = harness.status();
  CHECK(s.healthy);
  CHECK(s.restarts == 0);
  CHECK(s.caller == caller);
  CHECK(harness.delivered().video.load() > frames + 10);
}

TEST_CASE("memory stays flat across many bad callers") {
  TempDir dir;
  const uint16_t port = free_udp_port();
  SourceHarness harness(port, kQuick);
  const auto random = write_random(dir.path, 400'000);
  FrameSender dirac({.video_codec = "vc2", .audio_codec = ""});
  FrameSender audio_only({.video_codec = "", .audio_codec = "aac"});
  const std::vector<std::vector<std::string>> bad = {raw_sender_args(random, 400'000, port), dirac.args(port, 120),
                                                     audio_only.args(port, 120)};
  double warm = 0;
  constexpr int kRounds = 12;
  for (int i = 0; i < kRounds; ++i) {
    CAPTURE(i);
    CHECK_FALSE(failure_from(harness, bad[i % bad.size()], 10s).empty());
    if (i == 2) warm = rss_mb();  // after every kind ran once: libraries and pools are loaded
  }
  const double growth = rss_mb() - warm;
  MESSAGE("RSS after warm-up " << warm << " MB, growth over " << kRounds - 3 << " more bad callers " << growth << " MB");
  CHECK(growth < 8);
  CHECK(harness.status().restarts == kRounds);
}
