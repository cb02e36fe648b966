// The panel's API on the real build/onair (test camera → x264 → a real SRT ingest on loopback):
// the real program picture as JPEG, /api/v1/live with real figures, the read-only token and
// private health endpoints, the backup phone's link, and a panel session driving the stream.
#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"
#include "test_control_fixture.hpp"

using namespace onair::test;
using control_test::WsClient;
using nlohmann::json;

namespace {

const std::string kViewer = "viewer-token-5e6f7a";

std::string dest(uint16_t port) {
  return "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120\" }";
}

// Width and height from a baseline or progressive JPEG's start-of-frame marker.
std::pair<int, int> jpeg_size(const std::string& jpeg) {
  for (size_t i = 2; i + 9 < jpeg.size();) {
    if (uint8_t(jpeg[i]) != 0xff) return {0, 0};
    const uint8_t marker = uint8_t(jpeg[i + 1]);
    const size_t length = (uint8_t(jpeg[i + 2]) << 8) | uint8_t(jpeg[i + 3]);
    if (marker == 0xc0 || marker == 0xc2) {
      return {(uint8_t(jpeg[i + 7]) << 8) | uint8_t(jpeg[i + 8]), (uint8_t(jpeg[i + 5]) << 8) | uint8_t(jpeg[i + 6])};
    }
    i += 2 + length;
  }
  return {0, 0};
}

}  // namespace

TEST_CASE("the real box: preview JPEG, live pushes with real figures, read-only token, private health") {
  const uint16_t ingest_port = free_udp_port();
  const uint16_t backup_port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = ingest_port});
  OnairSettings settings;
  settings.destinations = dest(ingest_port);
  settings.backup = "{ type: srt, url: \"srt://:" + std::to_string(backup_port) + "?mode=listener&latency=200\", label: phone }";
  settings.control_extra = "read_token: " + kViewer + ", public_health: false";
  OnairInstance onair(settings);
  // "live" comes with the first connected link, which may beat the first media snapshot: wait for both.
  REQUIRE_MESSAGE(onair.wait_status([](const json& s) {
    return s["state"] == "live" && s["program"]["playing"] == true && !s["sources"].empty() &&
           s["encoder"]["bitrate_kbps"] == 1500;
  }, 15s), onair.log());
  const HttpHeaders viewer = {{"Authorization", "Bearer " + kViewer}};
  const auto port = onair.http_port();

  SUBCASE("preview: the program picture as a 640x360 JPEG, served again from the cache within 0.5 s") {
    HttpResponse first;
    REQUIRE(wait_until([&] { return (first = http_request("127.0.0.1", port, "GET", "/api/v1/preview.jpg", "", viewer)).status == 200; }, 10s));
    CHECK(first.header("Content-Type") == "image/jpeg");
    CHECK(first.body.starts_with("\xff\xd8"));
    CHECK(first.body.ends_with("\xff\xd9"));
    CHECK(jpeg_size(first.body) == std::pair{640, 360});
    CHECK(first.body.size() > 5000);  // a real picture, not a blank frame
  }

  SUBCASE("live: snapshot of the real status, then deltas with the chart figures, 2+ a second") {
    WsClient ws{port, viewer};
    REQUIRE(ws.status == 101);
    const auto snapshot = ws.read();
    REQUIRE(snapshot);
    json doc = (*snapshot)["doc"];
    CHECK(doc["status"]["state"] == "live");
    CHECK(doc["status"]["sources"][0]["label"] == "primary");
    std::set<std::string> figures;
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < 12; ++i) {
      const auto delta = ws.read();
      REQUIRE(delta);
      doc.merge_patch((*delta)["patch"]);
      for (const auto& [key, value] : (*delta)["sample"].items()) figures.insert(key);
      CHECK((*delta)["sample"]["bitrate_target_kbps"] == 1500);
    }
    CHECK(std::chrono::steady_clock::now() - begin < 6s);
    for (const std::string key : {"bitrate_actual_kbps", "fps", "rtt_ms", "encode_ms", "pipeline_ms", "cpu_pct", "loss_pct"}) {
      CAPTURE(key);
      CHECK(figures.count(key));
    }
    CHECK(doc["status"]["program"]["frames_encoded"].get<uint64_t>() > 0);  // the patches kept it current
  }

  SUBCASE("auth on the real box: private health, read-only cannot change, backup link, session drives") {
    CHECK(http_request("127.0.0.1", port, "GET", "/healthz").status == 401);
    CHECK(http_request("127.0.0.1", port, "GET", "/metrics", "", viewer).status == 200);
    CHECK(http_request("127.0.0.1", port, "GET", "/api/v1/status", "", viewer).status == 200);
    CHECK(http_request("127.0.0.1", port, "POST", "/api/v1/stream/stop", "", viewer).status == 403);
    CHECK(onair.status()["state"] == "live");

    const auto backup = http_request("127.0.0.1", port, "GET", "/api/v1/backup", "", viewer);
    REQUIRE(backup.status == 200);
    CHECK(backup.json()["url"].get<std::string>().ends_with(":" + std::to_string(backup_port) + "?mode=caller&latency=200"));
    CHECK(backup.json()["label"] == "phone");
    CHECK(http_request("127.0.0.1", port, "GET", "/api/v1/backup/qr.svg", "", viewer).header("Content-Type") == "image/svg+xml");

    const auto login = http_request("127.0.0.1", port, "POST", "/api/v1/login", json{{"token", onair.token()}}.dump());
    REQUIRE(login.status == 200);
    const HttpHeaders session = {{"Cookie", control_test::session_cookie_of(login)}};
    CHECK(http_request("127.0.0.1", port, "POST", "/api/v1/stream/stop", "", session).json()["state"] == "idle");
    CHECK(onair.wait_status([](const json& s) { return s["state"] == "idle"; }, 5s));
    CHECK(http_request("127.0.0.1", port, "POST", "/api/v1/stream/start", "", session).status == 200);
    CHECK(onair.wait_status([](const json& s) { return s["state"] == "live"; }, 15s));
    const auto log = onair.log();
    CHECK(log.find(onair.token()) == std::string::npos);
    CHECK(log.find(kViewer) == std::string::npos);
  }
}
