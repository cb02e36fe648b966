// Shared by the tests/test_control_*.cpp files: a real ControlServer on 127.0.0.1 (port 0) with
// test hooks standing in for the pipeline, its io_context on its own thread, a panel tree on
// disk, and a small WebSocket client. Header-only: each test executable includes it once.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "control/control.hpp"
#include "support/http_client.hpp"

namespace control_test {

using namespace std::chrono_literals;
using nlohmann::json;
using onair::control::ActionResult;
using onair::control::BackupLink;
using onair::control::ControlServer;
using onair::control::Hooks;
using onair::control::Readiness;
using onair::control::ServerOptions;
using onair::test::HttpConnection;
using onair::test::HttpHeaders;
using onair::test::HttpResponse;
using onair::test::http_request;
using onair::test::raw_tcp_exchange;
namespace fs = std::filesystem;

inline const std::string kHost = "127.0.0.1";
inline const std::string kToken = "tok-3f9a2c77e1b4-secret";
inline const std::string kReadToken = "view-77aa01-readonly";
inline const std::string kWrongToken = "guess-0d1e2f-wrong";
inline const std::string kOutsideSecret = "TOP-SECRET-OUTSIDE-WEB-ROOT";
inline const std::string kHiddenContent = "DOTFILE-NOT-FOR-CLIENTS";
inline const HttpHeaders kAuth = {{"Authorization", "Bearer " + kToken}};
inline const HttpHeaders kReadAuth = {{"Authorization", "Bearer " + kReadToken}};

inline void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream{path, std::ios::binary} << content;
}

// A panel tree plus a secret next to it (never servable) and a symlink pointing at that secret.
struct WebTree {
  fs::path dir = fs::temp_directory_path() / ("onair-test-control-" + std::to_string(::getpid()));
  fs::path root = dir / "web";
  fs::path openapi = dir / "openapi.yaml";
  WebTree() {
    fs::remove_all(dir);
    write_file(root / "index.html", "<!doctype html><title>onair</title>");
    write_file(root / "app.js", "console.log('onair');");
    write_file(root / "style.css", "body{background:#000}");
    write_file(root / "logo.svg", "<svg xmlns='http://www.w3.org/2000/svg'/>");
    write_file(root / "data.json", "{\"a\":1}");
    write_file(root / "blob.bin", std::string("\x00\x01\x02", 3));
    write_file(root / "sub" / "index.html", "<p>sub</p>");
    write_file(root / ".hidden", kHiddenContent);
    write_file(dir / "secret.txt", kOutsideSecret);
    write_file(openapi, "openapi: 3.0.3\n");
    fs::create_symlink(dir / "secret.txt", root / "link-out.txt");
  }
  ~WebTree() { fs::remove_all(dir); }
};
inline const WebTree& web_tree() {
  static const WebTree tree;
  return tree;
}

// What the test hooks saw and what they answer; hooks run on the io thread, the test reads and
// steers from its own.
struct HookLog {
  std::atomic<int> starts{0}, stops{0};
  std::atomic<bool> ready{true}, events_throw{false};
  std::atomic<int> status_counter{0};   // moves the status on every call (live deltas)
  std::atomic<size_t> status_padding{0};  // bytes of filler in the status (slow-viewer tests)
  std::atomic<int> previews{0};
  std::mutex mutex;
  std::vector<std::string> sources;
};

inline Hooks test_hooks(HookLog& log) {
  Hooks hooks;
  hooks.status = [&log] {
    json s = {{"state", "live"}, {"source", "primary"}, {"encoder", "x264"}};
    if (log.status_counter > 0) s["counter"] = log.status_counter++;
    if (log.status_padding > 0) s["padding"] = std::string(log.status_padding, char('a' + log.status_counter % 26));
    return s;
  };
  hooks.metrics = [] { return std::string{"# TYPE onair_up gauge\nonair_up 1\n"}; };
  hooks.readiness = [&log] {
    return log.ready ? Readiness{true, ""} : Readiness{false, "no destination connected"};
  };
  hooks.stream_start = [&log] { ++log.starts; return ActionResult{200, {{"state", "starting"}}}; };
  hooks.stream_stop = [&log] { ++log.stops; return ActionResult{200, {{"state", "stopping"}}}; };
  hooks.select_source = [&log](const std::string& source) {
    if (source == "throw-int") throw 42;
    std::lock_guard lock{log.mutex};
    log.sources.push_back(source);
    static const std::set<std::string> known{"auto", "primary", "backup", "slate"};
    if (!known.count(source)) return ActionResult{400, {{"error", "unknown source \"" + source + "\""}}};
    return ActionResult{200, {{"source", source}}};
  };
  hooks.events = [&log] {
    if (log.events_throw) throw std::runtime_error("event store corrupted");
    return json::array({{{"type", "source"}, {"message", "switched to primary"}}});
  };
  hooks.set_bitrate = [](int64_t kbps) { return ActionResult{200, {{"bitrate_kbps", kbps}}}; };
  hooks.live_sample = [] { return json{{"fps", 30}}; };
  hooks.preview = [&log](onair::control::PreviewDone done) {
    ++log.previews;
    // From another thread, as the real grabber answers.
    std::thread([done = std::move(done)] { done(std::string("\xff\xd8 fake jpeg \xff\xd9"), ""); }).detach();
  };
  hooks.backup_link = [](const std::string& host) {
    return BackupLink{"srt://" + host + ":9001?mode=caller&latency=200", true, "phone"};
  };
  return hooks;
}

inline ServerOptions test_options() {
  ServerOptions options;
  options.host = kHost;
  options.port = 0;
  options.token = kToken;
  options.read_token = kReadToken;
  options.web_root = web_tree().root.string();
  options.openapi_file = web_tree().openapi.string();
  options.body_limit = 4096;
  options.request_timeout_s = 5;
  options.max_connections = 64;
  options.login_max_failures = 1000;  // the limiter has its own test; others send many wrong tokens
  return options;
}

// A started ControlServer whose io_context runs on a thread until stop_and_join().
class TestServer {
 public:
  explicit TestServer(ServerOptions options = test_options(), std::function<void(Hooks&)> adjust = {})
      : server_(ioc_, std::move(options), adjusted(log, adjust)) {
    server_.start();
    thread_ = std::thread([this] {
      try {
        ioc_.run();
        done_.set_value();
      } catch (...) {
        done_.set_exception(std::current_exception());
      }
    });
  }
  ~TestServer() {
    try {
      stop_and_join();
    } catch (...) {  // already reported by the test that stopped it
    }
  }

  uint16_t port() const { return server_.port(); }
  ControlServer& server() { return server_; }
  HttpResponse get(const std::string& target, HttpHeaders headers = {}) {
    return http_request(kHost, port(), "GET", target, "", std::move(headers));
  }
  HttpResponse post(const std::string& target, const std::string& body = "", HttpHeaders headers = kAuth) {
    return http_request(kHost, port(), "POST", target, body, std::move(headers));
  }

  // stop() from this (non-io) thread; true when run() returned within the limit.
  bool stop_and_join(std::chrono::milliseconds limit = 5s) {
    if (!thread_.joinable()) return true;
    server_.stop();
    const bool returned = finished_.wait_for(limit) == std::future_status::ready;
    if (!returned) ioc_.stop();  // keep the test bounded; the CHECK on the result reports it
    thread_.join();
    finished_.get();
    return returned;
  }

  HookLog log;

 private:
  static Hooks adjusted(HookLog& log, const std::function<void(Hooks&)>& adjust) {
    auto hooks = test_hooks(log);
    if (adjust) adjust(hooks);
    return hooks;
  }

  boost::asio::io_context ioc_;
  ControlServer server_;
  std::promise<void> done_;
  std::future<void> finished_ = done_.get_future();
  std::thread thread_;
};

inline void check_json(const HttpResponse& res, unsigned status, const json& body) {
  CHECK(res.status == status);
  CHECK(res.header("Content-Type") == "application/json");
  CHECK(res.header("Cache-Control") == "no-store");
  CHECK(res.json() == body);
}

// The session cookie's "name=value" from a login answer ("" when none was set).
inline std::string session_cookie_of(const HttpResponse& res) {
  const auto set = res.header("Set-Cookie");
  return set.substr(0, set.find(';'));
}

// A WebSocket client on its own io_context; every operation is bounded by the given timeout.
class WsClient {
 public:
  WsClient(uint16_t port, const HttpHeaders& headers = {}, const std::string& target = "/api/v1/live",
           std::chrono::milliseconds timeout = 5s) {
    namespace beast = boost::beast;
    beast::error_code ec;
    auto& tcp = beast::get_lowest_layer(ws_);
    tcp.expires_after(timeout);
    tcp.async_connect({boost::asio::ip::make_address(kHost), port}, [&](beast::error_code e) { ec = e; });
    run();
    if (ec) throw std::runtime_error("ws connect: " + ec.message());
    ws_.set_option(beast::websocket::stream_base::decorator([headers](beast::websocket::request_type& req) {
      for (const auto& [name, value] : headers) req.set(name, value);
    }));
    tcp.expires_after(timeout);
    ws_.async_handshake(response_, kHost + ":" + std::to_string(port), target, [&](beast::error_code e) { ec = e; });
    run();
    status = response_.result_int();
    open = !ec;
  }

  // The next message as JSON, or nullopt when none came within `timeout` or the server closed.
  std::optional<json> read(std::chrono::milliseconds timeout = 3s) {
    namespace beast = boost::beast;
    if (!open) return std::nullopt;
    beast::error_code ec;
    buffer_.clear();
    beast::get_lowest_layer(ws_).expires_after(timeout);
    ws_.async_read(buffer_, [&](beast::error_code e, size_t) { ec = e; });
    run();
    if (ec) {
      open = false;
      error = ec.message();
      return std::nullopt;
    }
    return json::parse(beast::buffers_to_string(buffer_.data()));
  }

  unsigned status = 0;  // of the handshake answer: 101 when upgraded
  bool open = false;
  std::string error;

 private:
  void run() {
    ioc_.restart();
    ioc_.run();
  }
  boost::asio::io_context ioc_;
  boost::beast::websocket::stream<boost::beast::tcp_stream> ws_{ioc_};
  boost::beast::websocket::response_type response_;
  boost::beast::flat_buffer buffer_;
};

}  // namespace control_test
