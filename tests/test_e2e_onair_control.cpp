// build/onair's control plane end to end: a real HTTP client against the real process, plus
// the command line. The stream goes to a real SRT listener on loopback.
#include <doctest/doctest.h>

#include <fstream>
#include <iterator>
#include <optional>

#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"

using namespace onair::test;
using nlohmann::json;

namespace {

std::string dest_to(uint16_t port) {
  return "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120\" }";
}

bool has_metric_line(const std::string& text, const std::string& prefix) {
  return text.find("\n" + prefix) != std::string::npos || text.rfind(prefix, 0) == 0;
}

}  // namespace

TEST_CASE("every route answers as documented, with auth on the mutating ones") {
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.destinations = dest_to(port);
  OnairInstance onair(settings);

  CHECK(onair.get("/healthz").status == 200);
  REQUIRE_MESSAGE(wait_until([&] { return onair.get("/readyz").status == 200; }, 15s), onair.log());
  CHECK(onair.get("/readyz").json() == json{{"ready", true}});

  const json s = onair.status();
  CHECK(s["state"] == "live");
  CHECK(s["active_source"] == "primary");
  CHECK(s["encoder"]["name"] == "x264");
  CHECK(s["encoder"]["bitrate_kbps"] == 1500);
  CHECK(s["program"]["playing"] == true);
  CHECK(destination(s)["state"] == "connected");
  CHECK(destination(s)["uptime_s"].get<double>() > 0);

  // Prometheus text with the figures moving.
  const auto m1 = onair.get("/metrics");
  CHECK(m1.status == 200);
  CHECK(m1.header("content-type").rfind("text/plain", 0) == 0);
  CHECK(has_metric_line(m1.body, "onair_uplink_up{destination=\"ingest\"} 1"));
  CHECK(has_metric_line(m1.body, "onair_info{"));
  CHECK(has_metric_line(m1.body, "process_resident_memory_bytes "));

  SUBCASE("mutating calls need the bearer token") {
    CHECK(onair.post("/api/v1/stream/stop", "", false).status == 401);
    auto wrong = http_request("127.0.0.1", onair.http_port(), "POST", "/api/v1/stream/stop", "",
                              {{"Authorization", "Bearer not-the-token"}});
    CHECK(wrong.status == 403);
    CHECK(wrong.json()["error"] == "invalid token");
    CHECK(onair.status()["state"] == "live");  // nothing changed
  }
  SUBCASE("stop and start follow through to the link") {
    const auto stop = onair.post("/api/v1/stream/stop");
    CHECK(stop.status == 200);
    CHECK(stop.json()["state"] == "idle");
    CHECK(onair.wait_status([](const json& st) { return destination(st)["state"] == "stopped"; }, 5s));
    CHECK(wait_until([&] { return !ingest.connected(); }, 5s));
    CHECK(onair.get("/readyz").status == 503);
    const auto start = onair.post("/api/v1/stream/start");
    CHECK(start.status == 200);
    CHECK(onair.wait_status([](const json& st) { return st["state"] == "live"; }, 10s));
    CHECK(wait_until([&] { return ingest.connections() >= 2; }, 10s));
  }
  SUBCASE("source override and back to auto") {
    auto r = onair.post("/api/v1/source", R"({"source": "slate"})");
    CHECK(r.status == 200);
    CHECK(onair.wait_status([](const json& st) { return st["active_source"] == "slate" && st["source_mode"] == "manual"; }, 5s));
    CHECK(onair.post("/api/v1/source", R"({"source": "backup"})").status == 409);  // none configured
    CHECK(onair.post("/api/v1/source", R"({"source": "tertiary"})").status == 400);
    r = onair.post("/api/v1/source", R"({"source": "auto"})");
    CHECK(r.status == 200);
    CHECK(onair.wait_status([](const json& st) { return st["active_source"] == "primary" && st["source_mode"] == "auto"; }, 5s));
    const auto events = onair.get("/api/v1/events").json()["events"];
    bool saw_switch = false;
    for (const auto& e : events) saw_switch |= e["kind"] == "source" && e["from"] == "primary" && e["to"] == "slate";
    CHECK(saw_switch);
  }
  SUBCASE("the encoder bitrate changes while live, within the configured range") {
    const auto bad = onair.post("/api/v1/encoder", R"({"bitrate_kbps": 9000})");
    CHECK(bad.status == 400);
    CHECK(bad.json()["error"] == "bitrate_kbps must be 300..1500 (encoder.bitrate_min_kbps..encoder.bitrate_kbps), got 9000");
    CHECK(onair.post("/api/v1/encoder", R"({"bitrate_kbps": "fast"})").status == 400);
    CHECK(onair.post("/api/v1/encoder", R"({"bitrate_kbps": 400})", false).status == 401);
    // Let the 1500 kbps rate settle first, so the drop below is the change's doing.
    REQUIRE(onair.wait_status([](const json& st) { return st["encoder"]["actual_kbps"].get<double>() > 1000; }, 10s));
    const auto ok = onair.post("/api/v1/encoder", R"({"bitrate_kbps": 400})");
    CHECK(ok.status == 200);
    CHECK(onair.wait_status([](const json& st) { return st["encoder"]["bitrate_kbps"] == 400; }, 5s));
    // The muxed output follows within a few seconds (audio adds ~100 kbps, TS overhead some more).
    CHECK(onair.wait_status([](const json& st) { return st["encoder"]["actual_kbps"].get<double>() < 700; }, 15s));
  }
  SUBCASE("bad requests get JSON errors and change nothing") {
    const auto bad_json = onair.post("/api/v1/source", "{not json");
    CHECK(bad_json.status == 400);
    CHECK(bad_json.json()["error"].get<std::string>().rfind("invalid JSON", 0) == 0);
    const auto missing = onair.get("/api/v1/nothing-here");
    CHECK(missing.status == 404);
    CHECK(missing.json()["error"] == "no route for GET /api/v1/nothing-here");
    CHECK(onair.status()["state"] == "live");
    CHECK(onair.process().running());
  }
}

TEST_CASE("a missing camera keeps onair up, serving, and /readyz says why") {
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.primary = "{ type: v4l2, device: /dev/video-onair-missing }";  // no camera here: a mock of none
  settings.destinations = dest_to(port);
  OnairInstance onair(settings);
  HttpResponse ready;
  CHECK(wait_until([&] {
    ready = onair.get("/readyz");
    return ready.body.find("video-onair-missing") != std::string::npos;
  }, 10s));
  INFO(ready.body);
  CHECK(ready.status == 503);
  CHECK(ready.json()["reason"].get<std::string>().rfind("no camera source is healthy; primary: ", 0) == 0);
  const json s = onair.status();
  CHECK(s.at("sources").at(0).at("state") == "failed");
  CHECK(s["active_source"] == "slate");  // the stream itself goes on with the slate
  CHECK(wait_until([&] { return ingest.byte_count() > 100'000; }, 10s));
  CHECK(onair.get("/healthz").status == 200);
  CHECK(onair.process().running());
}

TEST_CASE("a camera type whose GStreamer element is missing says which package to install") {
  if (onair::test::wait_until([] { return std::filesystem::exists("/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstlibcamera.so"); }, 0ms))
    return;  // this box has libcamera: nothing missing to report
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.primary = "{ type: libcamera }";  // no CSI camera stack here
  settings.destinations = dest_to(port);
  OnairInstance onair(settings);
  CHECK(onair.wait_status([](const json& s) {
    return s.at("sources").at(0).value("reason", "") == "missing GStreamer element libcamerasrc (install gstreamer1.0-libcamera)";
  }, 10s));
  CHECK(onair.get("/readyz").status == 503);
  CHECK(onair.process().running());
}

namespace {

struct PrintedEncoder {
  std::optional<int> exit;
  std::string pipeline;  // stdout
  std::string notes;     // stderr
};

PrintedEncoder print_encoder(const std::string& config_text, const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto config = dir / ("onair-cli-" + name + ".yaml");
  const auto notes = dir / ("onair-cli-" + name + ".stderr");
  std::ofstream(config) << config_text;
  ChildProcess child({"/bin/sh", "-c", std::string(ONAIR_BINARY) + " --print-encoder " + config.string() + " 2>" +
                                           notes.string()});
  PrintedEncoder out{child.wait_exit(20s), child.log_text(), ""};
  std::ifstream in(notes);
  out.notes.assign(std::istreambuf_iterator<char>(in), {});
  return out;
}

}  // namespace

TEST_CASE("an encoder whose bitrate cannot change while it runs (stand-in fragment: x264enc's quantizer; "
          "vah264enc in GStreamer 1.22 needs a VA device): said in log and status, abr off, the API answers 409") {
  // tests/data/fixedrate: the shipped data dir with one encoder file, `fixedrate`: x264 with its
  // bitrate fixed while playing, as vah264enc's is in GStreamer 1.22. A new encoder is one file:
  // encoder.type takes its name.
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.destinations = dest_to(port);
  settings.env["ONAIR_DATA_DIR"] = ONAIR_TEST_DATA "/fixedrate";
  settings.encoder_type = "fixedrate";
  OnairInstance onair(settings);
  const json s = onair.status();
  INFO(onair.log());
  CHECK(s["encoder"]["name"] == "fixedrate");
  CHECK(s["encoder"]["bitrate_fixed"].get<std::string>().rfind("x264enc's quantizer cannot change while it plays (GStreamer ", 0) == 0);
  CHECK(s["encoder"]["abr"]["enabled"] == false);
  const auto refused = onair.post("/api/v1/encoder", R"({"bitrate_kbps": 400})");
  CHECK(refused.status == 409);
  CHECK(refused.json()["error"].get<std::string>().rfind(
            "encoder fixedrate cannot change its bitrate while it runs (x264enc's quantizer cannot change", 0) == 0);
  CHECK(onair.log().find("[warning] encoder: fixedrate cannot change its bitrate while it runs (x264enc's quantizer") !=
        std::string::npos);
  // The stream still goes out: the fixed encoder encodes and the ingest receives it.
  CHECK(onair.wait_status([](const json& st) { return st["program"]["frames_encoded"].get<int>() > 30; }, 10s));
  CHECK(wait_until([&] { return ingest.bytes().size() > 50'000; }, 10s));
}

TEST_CASE("--print-encoder: the encoder's part of the pipeline with the file's settings, and it runs") {
  OnairSettings settings;
  settings.framerate = 25;
  settings.bitrate_kbps = 2500;
  settings.keyframe_interval_s = 2;
  settings.destinations = "    - { name: a, url: \"srt://127.0.0.1:9000?mode=caller&latency=300\" }\n"
                          "    - { name: b, url: \"srt://127.0.0.1:9001?mode=caller&latency=1200\" }";
  const PrintedEncoder printed = print_encoder(render_config(settings, 8080), "encoder");
  INFO(printed.pipeline, printed.notes);
  CHECK(printed.exit == 0);
  REQUIRE(printed.pipeline.find('\n') == printed.pipeline.size() - 1);  // one line
  CHECK(printed.pipeline.rfind("x264enc name=venc ", 0) == 0);
  CHECK(printed.pipeline.find(" bitrate=2500 ") != std::string::npos);
  CHECK(printed.pipeline.find(" key-int-max=50 ") != std::string::npos);         // 2 s at 25 fps
  CHECK(printed.pipeline.find(" vbv-buf-capacity=150 ") != std::string::npos);   // half the tightest latency
  CHECK(printed.pipeline.find('{') == std::string::npos);                        // every placeholder filled
  CHECK(printed.notes.find("encoder: x264 — configured (encoder.type: x264)") != std::string::npos);
  CHECK(printed.notes.find("encoder: rate-control buffer 150 ms") != std::string::npos);

  // What it printed is what gst-launch-1.0 takes in a shell, as the benchmarks use it: 10 frames through it.
  ChildProcess launch({"/bin/sh", "-c",
                       "gst-launch-1.0 -q videotestsrc num-buffers=10 ! "
                       "video/x-raw,format=I420,width=640,height=360,framerate=25/1 ! " +
                           printed.pipeline.substr(0, printed.pipeline.size() - 1) + " ! fakesink"});
  CHECK_MESSAGE(launch.wait_exit(30s) == 0, launch.log_text());
}

TEST_CASE("--print-encoder with a hardware encoder this box lacks (no NVIDIA GPU here): says so, prints the fallback") {
  OnairSettings settings;
  settings.destinations = dest_to(9000);
  settings.encoder_type = "nvenc";
  const PrintedEncoder printed = print_encoder(render_config(settings, 8080), "nvenc");
  INFO(printed.pipeline, printed.notes);
  CHECK(printed.exit == 0);  // onair goes on air with what works, and says which
  CHECK(printed.notes.find("encoder.type nvenc is not usable on this box (nvh264enc (install ") != std::string::npos);
  CHECK(printed.notes.find("encoder: not available here: nvenc: nvh264enc") != std::string::npos);
  CHECK(printed.pipeline.find("nvh264enc") == std::string::npos);
  CHECK(printed.pipeline.find(" name=venc ") != std::string::npos);
  CHECK(printed.pipeline.find(" vbv-buf-capacity=100 ") != std::string::npos);  // latency 120: the 100 ms floor
}

TEST_CASE("--check-config: OK, or every error with file and line, exit 2") {
  const auto dir = std::filesystem::temp_directory_path();
  const auto good = dir / "onair-cli-good.yaml";
  OnairSettings settings;
  settings.destinations = dest_to(9000);
  std::ofstream(good) << render_config(settings, 8080);
  ChildProcess ok({ONAIR_BINARY, "--check-config", good.string()});
  CHECK(ok.wait_exit(10s) == 0);
  CHECK(ok.log_text() == "OK\n");

  const auto bad = dir / "onair-cli-bad.yaml";
  std::ofstream(bad) << "video: { widht: 1280 }\nsources: { primary: { type: test } }\n"
                        "uplink: { destinations: [ { name: a, url: \"srt://h:1?mode=calller\" } ] }\n"
                        "control: { token: \"sekrit-token-123\" }\n";
  ChildProcess fail({ONAIR_BINARY, "--check-config", bad.string()});
  CHECK(fail.wait_exit(10s) == 2);
  const std::string out = fail.log_text();
  INFO(out);
  CHECK(out.find(bad.string() + ":1: video.widht: unknown key (did you mean \"width\"?)") != std::string::npos);
  CHECK(out.find(bad.string() + ":3: uplink.destinations[0].url: unknown SRT mode \"calller\"") != std::string::npos);
  CHECK(out.find("sekrit") == std::string::npos);

  ChildProcess usage({ONAIR_BINARY, "--frobnicate"});
  CHECK(usage.wait_exit(10s) == 64);
}
