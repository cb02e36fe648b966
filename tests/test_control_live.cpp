// /api/v1/live over real WebSockets: snapshot then merge-patch deltas several times a second,
// many viewers at once, viewers that stop reading dropped without slowing the others, who may
// connect. Plus merge_diff's table.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "control/merge_patch.hpp"
#include "support/process.hpp"
#include "test_control_fixture.hpp"

using namespace control_test;
using onair::control::merge_diff;
using onair::test::wait_until;

namespace {

ServerOptions live_options() {
  auto options = test_options();
  options.live_interval_ms = 250;
  return options;
}

// A viewer that completes the upgrade request and then never reads a byte: the kernel buffers
// fill and stay full, as with a phone that went to sleep mid-stream.
class StalledViewer {
 public:
  explicit StalledViewer(uint16_t port) : socket_(ioc_) {
    socket_.open(boost::asio::ip::tcp::v4());
    socket_.set_option(boost::asio::socket_base::receive_buffer_size(4096));
    socket_.connect({boost::asio::ip::make_address(kHost), port});
    const std::string upgrade = "GET /api/v1/live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + kReadToken + "\r\n\r\n";
    boost::asio::write(socket_, boost::asio::buffer(upgrade));
  }
  // Reads (finally) until the server's close; true when it closed within `timeout`.
  bool closed_by_server(std::chrono::milliseconds timeout) {
    std::array<char, 65536> buf{};
    bool closed = false;
    std::function<void()> next = [&] {
      socket_.async_read_some(boost::asio::buffer(buf), [&](boost::system::error_code ec, size_t) {
        if (ec) closed = true;
        else next();
      });
    };
    next();
    ioc_.run_for(timeout);
    return closed;
  }

 private:
  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
};

// Reads from every viewer for `duration`, round robin; messages received per viewer.
std::vector<int> read_for(std::vector<std::unique_ptr<WsClient>>& viewers, std::chrono::milliseconds duration) {
  std::vector<int> counts(viewers.size(), 0);
  const auto end = std::chrono::steady_clock::now() + duration;
  for (int round = 0; round < 10000 && std::chrono::steady_clock::now() < end; ++round) {
    for (size_t i = 0; i < viewers.size(); ++i) {
      if (viewers[i]->read(2s)) ++counts[i];
    }
  }
  return counts;
}

}  // namespace

TEST_CASE("merge_diff: what changed, null for what went, arrays whole; applying it gives the target") {
  const std::vector<std::tuple<json, json, std::optional<json>>> table = {
      {{{"a", 1}}, {{"a", 1}}, json::object()},
      {{{"a", 1}}, {{"a", 2}}, json{{"a", 2}}},
      {{{"a", 1}, {"b", 2}}, {{"a", 1}}, json{{"b", nullptr}}},
      {{{"s", {{"x", 1}, {"y", 2}}}}, {{"s", {{"x", 1}, {"y", 3}}}}, json{{"s", {{"y", 3}}}}},
      {{{"s", {{"x", 1}}}}, {{"s", "flat"}}, json{{"s", "flat"}}},
      {{{"s", "flat"}}, {{"s", {{"x", 1}}}}, json{{"s", {{"x", 1}}}}},
      {{{"l", {1, 2, 3}}}, {{"l", {1, 2}}}, json{{"l", {1, 2}}}},
      {{{"l", {1, 2}}}, {{"l", {1, nullptr}}}, json{{"l", {1, nullptr}}}},  // nulls inside arrays are fine
      {json::object(), {{"new", {{"deep", true}}}}, json{{"new", {{"deep", true}}}}},
      {{{"a", 1}}, {{"a", nullptr}}, std::nullopt},  // a merge patch cannot set null
      {{{"a", 1}}, json::array(), std::nullopt},
  };
  for (const auto& [from, to, expected] : table) {
    CAPTURE(from.dump());
    CAPTURE(to.dump());
    const auto patch = merge_diff(from, to);
    REQUIRE(patch.has_value() == expected.has_value());
    if (!patch) continue;
    CHECK(*patch == *expected);
    json applied = from;
    applied.merge_patch(*patch);
    CHECK(applied == to);
  }
}

TEST_CASE("live: a snapshot, then a delta every interval; the patches rebuild the status exactly") {
  TestServer server{live_options()};
  server.log.status_counter = 1;
  WsClient viewer{server.port(), kReadAuth};
  REQUIRE(viewer.status == 101);
  const auto snapshot = viewer.read();
  REQUIRE(snapshot);
  CHECK((*snapshot)["type"] == "snapshot");
  json doc = (*snapshot)["doc"];
  CHECK(doc["events"] == json::array({{{"type", "source"}, {"message", "switched to primary"}}}));
  int counter = doc["status"]["counter"];
  auto seq = (*snapshot)["seq"].get<uint64_t>();
  const auto begin = std::chrono::steady_clock::now();
  for (int i = 0; i < 8; ++i) {
    const auto delta = viewer.read();
    REQUIRE(delta);
    CHECK((*delta)["type"] == "delta");
    CHECK((*delta)["seq"] == ++seq);
    CHECK((*delta)["sample"]["fps"] == 30);
    CHECK((*delta)["patch"] == json{{"status", {{"counter", counter + 1}}}});  // only what changed
    doc.merge_patch((*delta)["patch"]);
    CHECK(doc["status"] == json{{"state", "live"}, {"source", "primary"}, {"encoder", "x264"}, {"counter", ++counter}});
  }
  // 8 pushes at 250 ms take 2 s; 4 s still means at least 2 a second on a loaded box.
  CHECK(std::chrono::steady_clock::now() - begin < 4s);
}

TEST_CASE("live: 25 viewers at once all get the snapshot and every delta, at least 2 a second") {
  TestServer server{live_options()};
  server.log.status_counter = 1;
  std::vector<std::unique_ptr<WsClient>> viewers;
  for (int i = 0; i < 25; ++i) {
    viewers.push_back(std::make_unique<WsClient>(server.port(), i % 2 ? kReadAuth : kAuth));
    REQUIRE(viewers.back()->status == 101);
  }
  REQUIRE(wait_until([&] { return server.server().live_stats().clients == 25; }, 5s));
  const auto pushes_before = server.server().live_stats().pushes;
  const auto begin = std::chrono::steady_clock::now();
  for (auto& viewer : viewers) {
    const auto snapshot = viewer->read();
    REQUIRE(snapshot);
    CHECK((*snapshot)["type"] == "snapshot");
    auto seq = (*snapshot)["seq"].get<uint64_t>();
    for (int i = 0; i < 8; ++i) {  // buffered while we read the others: none may be missing
      const auto delta = viewer->read();
      REQUIRE(delta);
      CHECK((*delta)["seq"] == ++seq);
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  const auto pushes = server.server().live_stats().pushes - pushes_before;
  CHECK(double(pushes) / seconds >= 2.0);
  CHECK(server.server().live_stats().dropped == 0);
}

TEST_CASE("live: a viewer that stops reading is dropped (no pong), the others keep their pace") {
  auto options = live_options();
  options.live_idle_timeout_s = 2;
  TestServer server{options};
  std::vector<std::unique_ptr<WsClient>> viewers;
  for (int i = 0; i < 3; ++i) viewers.push_back(std::make_unique<WsClient>(server.port(), kReadAuth));
  StalledViewer stalled{server.port()};
  REQUIRE(wait_until([&] { return server.server().live_stats().clients == 4; }, 5s));
  const auto counts = read_for(viewers, 5s);
  for (const int count : counts) CHECK(count >= 10);  // ≥ 2 a second while the stalled one hangs
  CHECK(wait_until([&] { return server.server().live_stats().dropped == 1; }, 5s));
  CHECK(server.server().live_stats().clients == 3);
  CHECK(stalled.closed_by_server(5s));
}

TEST_CASE("live: a slow viewer drowning in big updates is dropped by the queue limit") {
  auto options = live_options();
  options.live_idle_timeout_s = 60;  // only the queue can catch it here
  options.live_max_queue = 4;
  TestServer server{options};
  server.log.status_padding = 200'000;  // every delta carries 200 kB
  std::vector<std::unique_ptr<WsClient>> viewers;
  for (int i = 0; i < 2; ++i) viewers.push_back(std::make_unique<WsClient>(server.port(), kReadAuth));
  StalledViewer stalled{server.port()};
  const auto counts = read_for(viewers, 4s);
  for (const int count : counts) CHECK(count >= 8);
  CHECK(wait_until([&] { return server.server().live_stats().dropped == 1; }, 5s));
  CHECK(stalled.closed_by_server(5s));
}

TEST_CASE("live: who may watch; a plain GET is told to upgrade") {
  TestServer server{live_options()};
  const auto cookie = session_cookie_of(server.post("/api/v1/login", json{{"token", kReadToken}}.dump(), {}));
  const std::string self = "http://" + kHost + ":" + std::to_string(server.port());
  const std::vector<std::tuple<std::string, HttpHeaders, unsigned>> table = {
      {"nobody", {}, 401},
      {"wrong token", {{"Authorization", "Bearer " + kWrongToken}}, 403},
      {"read token", kReadAuth, 101},
      {"session cookie", {{"Cookie", cookie}}, 101},
      {"cookie, same origin", {{"Cookie", cookie}, {"Origin", self}}, 101},
      {"cookie, other origin", {{"Cookie", cookie}, {"Origin", "http://evil.example"}}, 403},
  };
  for (const auto& [who, headers, status] : table) {
    CAPTURE(who);
    WsClient viewer{server.port(), headers};
    CHECK(viewer.status == status);
    CHECK(viewer.open == (status == 101));
    if (status == 101) CHECK(viewer.read().has_value());
  }
  WsClient elsewhere{server.port(), kReadAuth, "/api/v1/status"};
  CHECK(elsewhere.status == 404);
  const auto plain = server.get("/api/v1/live", kReadAuth);
  check_json(plain, 426, {{"error", "/api/v1/live is a WebSocket: send an Upgrade request"}});
  CHECK(plain.header("Upgrade") == "websocket");
}

TEST_CASE("live: a throwing status hook leaves its part out, the pushes go on; stop() ends viewers") {
  TestServer server{live_options()};
  server.log.events_throw = true;
  WsClient viewer{server.port(), kReadAuth};
  const auto snapshot = viewer.read();
  REQUIRE(snapshot);
  CHECK((*snapshot)["doc"]["events"] == json::array());
  CHECK((*snapshot)["doc"]["status"]["state"] == "live");
  CHECK(viewer.read().has_value());
  CHECK(server.stop_and_join());
  CHECK_FALSE(viewer.read(3s).has_value());
}
