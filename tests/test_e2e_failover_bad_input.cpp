// Garbage on the primary phone's listener while the backup is on air never touches the program:
// build/onair keeps streaming the backup without a glitch, says what was wrong with each caller,
// and its memory stays flat. (test_sources_bad_input covers each kind in depth.)
#include <doctest/doctest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>

#include "support/frame_rig.hpp"

using namespace onair::test;
using nlohmann::json;

TEST_CASE("bad callers on the primary listener: each is named and refused, the backup stays on air untouched") {
  const auto dir = std::filesystem::temp_directory_path() / ("onair-e2e-bad-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string random(600'000, '\0');
  std::mt19937 rng(99);
  for (auto& b : random) b = static_cast<char>(rng());
  std::ofstream(dir / "random.bin", std::ios::binary) << random;

  FailoverRig rig;
  rig.start_backup();
  REQUIRE_MESSAGE(rig.wait_active("backup", 15s), (rig.backup().log() + rig.onair().log()));
  REQUIRE(wait_until([&] { return rig.ingest().byte_count() > 100'000; }, 10s));
  const uint64_t encoded_before = rig.status()["program"]["frames_encoded"].get<uint64_t>();

  FrameSender dirac({.video_codec = "vc2", .audio_codec = ""});
  FrameSender audio_only({.video_codec = "", .audio_codec = "aac"});
  FrameSender vp8({.video_codec = "libvpx", .audio_codec = ""});
  struct Bad {
    std::vector<std::string> args;
    std::string reason_prefix;
  };
  const std::vector<Bad> bad = {
      {raw_sender_args(dir / "random.bin", 400'000, rig.primary_port()), "the input is not a media stream onair can read"},
      {dirac.args(rig.primary_port(), 120), "unsupported video codec dirac (send h264 or h265)"},
      {audio_only.args(rig.primary_port(), 120), "the stream carries audio only (aac), no video"},
      {vp8.args(rig.primary_port(), 120), "the input carries no stream onair can decode"},
      {dirac.args(rig.primary_port(), 120), "unsupported video codec dirac"},
      {audio_only.args(rig.primary_port(), 120), "the stream carries audio only"},
  };
  double warm_mb = 0;
  for (std::size_t i = 0; i < bad.size(); ++i) {
    CAPTURE(i);
    const int restarts = rig.source("primary").value("restarts", 0);
    REQUIRE(wait_until([&] { return rig.source("primary").value("reason", "").rfind("waiting for a caller", 0) == 0; }, 10s));
    ChildProcess caller(bad[i].args);
    REQUIRE_MESSAGE(wait_until([&] { return rig.source("primary").value("restarts", 0) > restarts; }, 15s), caller.log_text());
    const std::string reason = rig.source("primary").value("last_failure", "");
    CHECK(reason.rfind(bad[i].reason_prefix, 0) == 0);
    CHECK(rig.onair().log().find(bad[i].reason_prefix) != std::string::npos);  // the log says what
    CHECK(rig.active() == "backup");
    if (i == 2) warm_mb = rig.onair_rss_mb();
  }
  const double growth_mb = rig.onair_rss_mb() - warm_mb;
  MESSAGE("onair RSS after warm-up " << warm_mb << " MB, growth over 3 more bad callers " << growth_mb << " MB");
  CHECK(growth_mb < 10);
  CHECK(rig.onair().process().running());
  const json status = rig.status();
  CHECK(status["program"]["playing"] == true);
  CHECK(status["program"]["frames_encoded"].get<uint64_t>() > encoded_before + 100);

  // The viewer saw the backup throughout, cleanly: no switch since it went on air.
  const TsReport report = rig.report();
  INFO(report.summary());
  CHECK(report.total_errors() == 0);
  CHECK(report.pts_monotonic);
  std::string error;
  const auto frames = rig.frames(&error);
  REQUIRE_MESSAGE(error.empty(), error);
  std::size_t first_backup = 0;
  while (first_backup < frames.size() && frames[first_backup].look != Look::backup) ++first_backup;
  std::size_t other = 0;
  for (std::size_t i = first_backup; i < frames.size(); ++i) other += frames[i].look != Look::backup ? 1 : 0;
  CHECK(frames.size() - first_backup > 300);
  CHECK(other == 0);
  for (const auto& e : rig.source_events()) CHECK(e["to"] != "primary");
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}
