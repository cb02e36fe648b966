// build/onair-probe against real streams: an onair stream over SRT (probe as caller and as
// listener), the capture stamp drawn by a test source, thresholds and exit codes, a plain
// GStreamer stream with and without the `onairstamp` element, a dead address, and bad command lines.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/process.hpp"

using namespace onair::test;
using nlohmann::json;

namespace {

const std::string kProbe = std::string(ONAIR_BUILD_DIR) + "/onair-probe";

struct ProbeRun {
  int exit_code = -100;
  std::string output;  // stdout and stderr
  json report;         // the --json document (null when none)
};

// Waits for a running probe to finish (bounded) and reads its report.
ProbeRun finish(ChildProcess& probe, std::chrono::milliseconds timeout) {
  ProbeRun run;
  const auto code = probe.wait_exit(timeout);
  if (!code) probe.kill_and_wait();
  run.exit_code = code.value_or(-100);
  run.output = probe.log_text();
  // libav may log to stderr before the report: the JSON starts at a line holding "{".
  const size_t start = run.output.rfind("\n{\n") != std::string::npos
                           ? run.output.rfind("\n{\n") + 1
                           : (run.output.rfind("{\n", 0) == 0 ? 0 : std::string::npos);
  if (start != std::string::npos) run.report = json::parse(run.output.substr(start), nullptr, false);
  return run;
}

ProbeRun probe(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
  args.insert(args.begin(), kProbe);
  ChildProcess p(args);
  return finish(p, timeout);
}

std::string srt_url(uint16_t port, const std::string& mode) {
  return "srt://127.0.0.1:" + std::to_string(port) + "?mode=" + mode + "&latency=120";
}

OnairSettings sending_to(const std::string& url) {
  OnairSettings s;
  s.destinations = "    - { name: probe, url: \"" + url + "\" }";
  return s;
}

void check_onair_stream(const json& r) {
  CHECK(r["connected"] == true);
  CHECK(r["video"]["codec"] == "h264");
  CHECK(r["video"]["width"] == 640);
  CHECK(r["video"]["height"] == 360);
  CHECK(r["video"]["fps"].get<double>() == doctest::Approx(30).epsilon(0.2));
  CHECK(r["audio"]["codec"] == "aac");
  CHECK(r["audio"]["sample_rate"] == 48000);
  CHECK(r["audio"]["channels"] == 2);
  CHECK(r["decode_errors"] == 0);
  CHECK(r["corrupt_packets"] == 0);
  CHECK(r["bitrate_bps"].get<double>() > 300'000);
  REQUIRE(r["latency"].is_object());
  CHECK(r["latency"]["frames"] == r["video"]["frames"]);  // every frame carries the stamp
  // SRT holds every packet for its latency (120 ms); beyond that: encode, send, decode. A
  // receiver cannot see a frame much before 120 ms, and a loaded test box not seconds late.
  CHECK(r["latency"]["p50_ms"].get<double>() > 60);
  CHECK(r["latency"]["p50_ms"].get<double>() < 120 + 500);
  CHECK(r["latency"]["min_ms"].get<double>() <= r["latency"]["p50_ms"].get<double>());
  CHECK(r["latency"]["p95_ms"].get<double>() <= r["latency"]["max_ms"].get<double>());
}

}  // namespace

TEST_CASE("onair → probe calling in: it reads the capture stamps and reports a sane latency") {
  const uint16_t port = free_udp_port();
  OnairInstance onair(sending_to(srt_url(port, "listener")));
  const auto run = probe({"--json", "--warmup", "1", "--duration", "4", "--require-stamp", "--max-decode-errors", "0",
                          srt_url(port, "caller")});
  INFO(run.output);
  INFO(onair.log());
  CHECK(run.exit_code == 0);
  REQUIRE(run.report.is_object());
  check_onair_stream(run.report);
  CHECK(run.report["ended_by"] == "duration");
  CHECK(run.report["video"]["frames"].get<int>() >= 90);
  CHECK(run.report["video"]["keyframes"].get<int>() >= 3);  // a keyframe every second
  CHECK(run.report["first_frame_ms"].get<double>() < 5000);
  CHECK(run.report["ok"] == true);
  CHECK(run.report["failures"].empty());
  // The test picture (colour bars, clock, timecode) is not mistaken for a drawn stamp.
  CHECK(run.report["drawn_latency"].is_null());
}

TEST_CASE("a test source with stamp: true: the probe reads the drawn stamp, and it agrees with the SEI") {
  const uint16_t port = free_udp_port();
  OnairSettings settings = sending_to(srt_url(port, "listener"));
  // A moving picture at the lowest bitrate the test config allows: the bar code must survive x264.
  settings.primary = "{ type: test, pattern: ball, stamp: true }";
  settings.bitrate_kbps = 300;
  OnairInstance onair(settings);
  const auto run = probe({"--json", "--warmup", "1", "--duration", "4", "--require-stamp", srt_url(port, "caller")});
  INFO(run.output);
  INFO(onair.log());
  CHECK(run.exit_code == 0);
  REQUIRE(run.report.is_object());
  const json& sei = run.report["latency"];
  const json& drawn = run.report["drawn_latency"];
  REQUIRE(sei.is_object());
  REQUIRE(drawn.is_object());
  CHECK(run.report["video"]["width"] == 640);  // the smallest picture a stamp fits (8 px blocks)
  CHECK(run.report["video"]["frames"].get<int>() >= 90);
  // Every decoded frame, not only some: the bar code holds up at 300 kbit/s.
  CHECK(drawn["frames"] == run.report["video"]["frames"]);
  CHECK(drawn["min_ms"].get<double>() > 0);
  CHECK(drawn["max_ms"].get<double>() < 2000);
  // Both stamps carry the same capture time, read at the same moment: they must agree.
  CHECK(std::abs(drawn["p50_ms"].get<double>() - sei["p50_ms"].get<double>()) < 100);
  CHECK(std::abs(drawn["max_ms"].get<double>() - sei["max_ms"].get<double>()) < 100);
}

TEST_CASE("onair calls a listening probe; the human report says what it measured") {
  const uint16_t port = free_udp_port();
  ChildProcess p({kProbe, "--duration", "3", "--timeout", "20", srt_url(port, "listener")});
  OnairInstance onair(sending_to(srt_url(port, "caller")));
  const auto run = finish(p, 40s);
  INFO(run.output);
  INFO(onair.log());
  CHECK(run.exit_code == 0);
  CHECK(run.output.find("video   h264 High 640x360") != std::string::npos);
  CHECK(run.output.find("audio   aac 48000 Hz, 2 channels") != std::string::npos);
  CHECK(run.output.find("latency p50 ") != std::string::npos);
  CHECK(run.output.find("stamped frames") != std::string::npos);
  CHECK(run.output.find("drawn   no drawn stamp in the picture") != std::string::npos);
  CHECK(run.output.find("result  OK") != std::string::npos);
}

TEST_CASE("a missed threshold exits 3 and says which; a dead address exits 2 within the timeout") {
  const uint16_t port = free_udp_port();
  {
    OnairInstance onair(sending_to(srt_url(port, "listener")));
    const auto run =
        probe({"--json", "--duration", "2", "--max-latency-ms", "1", "--min-fps", "1000", srt_url(port, "caller")});
    INFO(run.output);
    CHECK(run.exit_code == 3);
    REQUIRE(run.report.is_object());
    CHECK(run.report["ok"] == false);
    REQUIRE(run.report["failures"].size() == 2);
    CHECK(run.report["failures"][0].get<std::string>().find("> --max-latency-ms 1") != std::string::npos);
    CHECK(run.report["failures"][1].get<std::string>().find("fps < --min-fps 1000") != std::string::npos);
  }
  const auto started = std::chrono::steady_clock::now();
  const auto dead = probe({"--json", "--timeout", "2", srt_url(free_udp_port(), "caller")});
  INFO(dead.output);
  CHECK(dead.exit_code == 2);
  CHECK(std::chrono::steady_clock::now() - started < 15s);
  REQUIRE(dead.report.is_object());
  CHECK(dead.report["connected"] == false);
  CHECK(dead.report["error"].get<std::string>().rfind("cannot open srt://127.0.0.1:", 0) == 0);
}

TEST_CASE("plain GStreamer H.264: no stamp without onairstamp, every frame stamped with it") {
  const auto dir = std::filesystem::temp_directory_path() / ("onair-probe-test-" + std::to_string(free_tcp_port()));
  std::filesystem::create_directories(dir);
  auto make = [&](const std::string& name, bool stamp) {
    const std::string file = (dir / name).string();
    ChildOptions options;
    options.env["GST_PLUGIN_PATH"] = std::string(ONAIR_BUILD_DIR) + "/gst-plugins";
    // A live source: the stamp is a capture time, taken from the running time on the clock.
    ChildProcess gst({"gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "num-buffers=60", "!",
                      "video/x-raw,width=320,height=240,framerate=30/1", "!", "x264enc", "tune=zerolatency", "!",
                      stamp ? "onairstamp" : "identity", "!", "mpegtsmux", "!", "filesink", "location=" + file},
                     options);
    const auto code = gst.wait_exit(30s);
    INFO(gst.log_text());
    REQUIRE(code == 0);
    return file;
  };
  const auto plain = probe({"--json", make("plain.ts", false)});
  INFO(plain.output);
  CHECK(plain.exit_code == 0);
  REQUIRE(plain.report.is_object());
  CHECK(plain.report["video"]["frames"] == 60);
  CHECK(plain.report["latency"].is_null());
  CHECK(plain.report["ended_by"] == "end of stream");
  const auto required = probe({"--json", "--require-stamp", (dir / "plain.ts").string()});
  CHECK(required.exit_code == 3);

  const auto stamped = probe({"--json", "--require-stamp", make("stamped.ts", true)});
  INFO(stamped.output);
  CHECK(stamped.exit_code == 0);
  REQUIRE(stamped.report.is_object());
  REQUIRE(stamped.report["latency"].is_object());
  CHECK(stamped.report["latency"]["frames"] == 60);
  // Decoded from a file made moments ago: the stamps are in the recent past.
  CHECK(stamped.report["latency"]["min_ms"].get<double>() > 0);
  CHECK(stamped.report["latency"]["max_ms"].get<double>() < 60'000);
  std::filesystem::remove_all(dir);
}

TEST_CASE("bad command lines exit 1 with the problem") {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{}, "onair-probe: no URL given (see --help)"},
      {{"--max-gaps", "x", "srt://127.0.0.1:9000"}, "onair-probe: --max-gaps: \"x\" is not a non-negative number"},
      {{"--max-gaps", "1.5", "srt://127.0.0.1:9000"}, "onair-probe: --max-gaps: \"1.5\" is not a whole number"},
      {{"--duration"}, "onair-probe: --duration needs a value"},
      {{"--timeout", "0", "srt://127.0.0.1:9000"}, "onair-probe: --timeout must be more than 0"},
      {{"--fast", "srt://127.0.0.1:9000"}, "onair-probe: unknown option --fast (see --help)"},
      {{"srt://127.0.0.1:9000", "srt://127.0.0.1:9001"},
       "onair-probe: one URL only (got \"srt://127.0.0.1:9000\" and \"srt://127.0.0.1:9001\")"},
      {{"srt://127.0.0.1:9000?mode=calller"},
       "onair-probe: URL: unknown SRT mode \"calller\" (expected caller, listener or rendezvous)"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.message);
    const auto run = probe(c.args, 10s);
    CHECK(run.exit_code == 1);
    CHECK(run.output == c.message + "\n");
  }
  const auto help = probe({"--help"}, 10s);
  CHECK(help.exit_code == 0);
  CHECK(help.output.rfind("usage: onair-probe [options] URL", 0) == 0);
}
