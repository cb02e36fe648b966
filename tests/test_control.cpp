// The control plane over real TCP: a real ControlServer on 127.0.0.1 (port 0) with test hooks
// standing in for the pipeline, driven by a real HTTP client. The io_context runs on its own thread.
#include <doctest/doctest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <unistd.h>

#include "control/control.hpp"
#include "support/http_client.hpp"

namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using onair::control::ActionResult;
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

const std::string kHost = "127.0.0.1";
const std::string kToken = "tok-3f9a2c77e1b4-secret";
const std::string kWrongToken = "guess-0d1e2f-wrong";
const std::string kOutsideSecret = "TOP-SECRET-OUTSIDE-WEB-ROOT";
const std::string kHiddenContent = "DOTFILE-NOT-FOR-CLIENTS";
const HttpHeaders kAuth = {{"Authorization", "Bearer " + kToken}};

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream{path, std::ios::binary} << content;
}

// A panel tree plus a secret next to it (never servable) and a symlink pointing at that secret.
struct WebTree {
  fs::path dir = fs::temp_directory_path() / ("onair-test-control-" + std::to_string(::getpid()));
  fs::path root = dir / "web";
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
    fs::create_symlink(dir / "secret.txt", root / "link-out.txt");
  }
  ~WebTree() { fs::remove_all(dir); }
};
const WebTree& web_tree() {
  static const WebTree tree;
  return tree;
}

// What the test hooks saw; hooks run on the io thread, the test reads from its own.
struct HookLog {
  std::atomic<int> starts{0}, stops{0};
  std::atomic<bool> ready{true}, events_throw{false};
  std::mutex mutex;
  std::vector<std::string> sources;
};

Hooks test_hooks(HookLog& log) {
  Hooks hooks;
  hooks.status = [] { return json{{"state", "live"}, {"source", "primary"}, {"encoder", "x264"}}; };
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
  return hooks;
}

ServerOptions test_options() {
  ServerOptions options;
  options.host = kHost;
  options.port = 0;
  options.token = kToken;
  options.web_root = web_tree().root.string();
  options.body_limit = 4096;
  options.request_timeout_s = 5;
  options.max_connections = 64;
  return options;
}

// A started ControlServer whose io_context runs on a thread until stop_and_join().
class TestServer {
 public:
  explicit TestServer(ServerOptions options = test_options())
      : server_(ioc_, std::move(options), test_hooks(log)) {
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
  HttpResponse get(const std::string& target) { return http_request(kHost, port(), "GET", target); }

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
  boost::asio::io_context ioc_;
  ControlServer server_;
  std::promise<void> done_;
  std::future<void> finished_ = done_.get_future();
  std::thread thread_;
};

void check_json(const HttpResponse& res, unsigned status, const json& body) {
  CHECK(res.status == status);
  CHECK(res.header("Content-Type") == "application/json");
  CHECK(res.header("Cache-Control") == "no-store");
  CHECK(res.json() == body);
}

}  // namespace

TEST_CASE("GET routes answer with the test hooks' data (test hooks stand in for the pipeline)") {
  TestServer server;
  const std::vector<std::pair<std::string, json>> table = {
      {"/healthz", {{"status", "ok"}}},
      {"/readyz", {{"ready", true}}},
      {"/api/v1/status", {{"state", "live"}, {"source", "primary"}, {"encoder", "x264"}}},
      {"/api/v1/status?verbose=1", {{"state", "live"}, {"source", "primary"}, {"encoder", "x264"}}},
      {"/api/v1/events", json::array({{{"type", "source"}, {"message", "switched to primary"}}})},
  };
  for (const auto& [target, body] : table) {
    CAPTURE(target);
    check_json(server.get(target), 200, body);
  }
  const auto metrics = server.get("/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(metrics.body == "# TYPE onair_up gauge\nonair_up 1\n");

  server.log.ready = false;
  check_json(server.get("/readyz"), 503, {{"ready", false}, {"reason", "no destination connected"}});
}

TEST_CASE("HEAD on GET routes: same status and Content-Length as GET, no body (test hooks)") {
  TestServer server;
  server.log.ready = false;
  for (const std::string target : {"/healthz", "/readyz", "/metrics", "/api/v1/status", "/api/v1/events"}) {
    CAPTURE(target);
    const auto get = server.get(target);
    const auto head = http_request(kHost, server.port(), "HEAD", target);
    CHECK(head.status == get.status);
    CHECK(head.header("Content-Type") == get.header("Content-Type"));
    CHECK(head.header("Content-Length") == std::to_string(get.body.size()));
    CHECK(head.body.empty());
  }
}

TEST_CASE("mutating routes: bearer auth matrix, hooks called only when authorized (test hooks)") {
  TestServer server;
  struct Case {
    HttpHeaders headers;
    unsigned status;
    std::string error;  // "" = authorized
  };
  const std::vector<Case> cases = {
      {{}, 401, "missing bearer token"},
      {{{"Authorization", "Basic dXNlcjpwYXNz"}}, 401, "missing bearer token"},
      {{{"Authorization", "Bearer"}}, 401, "missing bearer token"},
      {{{"Authorization", "Bearer " + kWrongToken}}, 403, "invalid token"},
      {{{"Authorization", "Bearer " + kToken + "x"}}, 403, "invalid token"},
      {{{"Authorization", "Bearer " + kToken.substr(1)}}, 403, "invalid token"},
      {{{"Authorization", "bearer " + kToken}}, 200, ""},
      {kAuth, 200, ""},
  };
  const std::vector<std::tuple<std::string, std::string, json>> routes = {
      {"/api/v1/stream/start", "", {{"state", "starting"}}},
      {"/api/v1/stream/stop", "", {{"state", "stopping"}}},
      {"/api/v1/source", R"({"source":"backup"})", {{"source", "backup"}}},
  };
  int authorized = 0;
  for (const auto& [target, body, ok_body] : routes) {
    for (const auto& c : cases) {
      CAPTURE(target);
      CAPTURE(c.status);
      const auto res = http_request(kHost, server.port(), "POST", target, body, c.headers);
      check_json(res, c.status, c.error.empty() ? ok_body : json{{"error", c.error}});
      CHECK(res.header("WWW-Authenticate") == (c.status == 401 ? "Bearer realm=\"onair\"" : ""));
      authorized += c.status == 200;
    }
  }
  CHECK(server.log.starts == 2);
  CHECK(server.log.stops == 2);
  std::lock_guard lock{server.log.mutex};
  CHECK(server.log.sources == std::vector<std::string>{"backup", "backup"});
  CHECK(authorized == 6);
}

TEST_CASE("no control.token configured: every mutating call is refused with 403") {
  auto options = test_options();
  options.token.clear();
  TestServer server{options};
  for (const std::string target : {"/api/v1/stream/start", "/api/v1/stream/stop", "/api/v1/source"}) {
    for (const auto& headers : {HttpHeaders{}, HttpHeaders{{"Authorization", "Bearer "}}, kAuth}) {
      CAPTURE(target);
      const auto res = http_request(kHost, server.port(), "POST", target, R"({"source":"auto"})", headers);
      check_json(res, 403, {{"error", "control.token is not configured"}});
    }
  }
  CHECK(server.log.starts == 0);
  CHECK(server.log.stops == 0);
}

TEST_CASE("POST /api/v1/source validates the body; the test hook decides known values") {
  TestServer server;
  const std::vector<std::tuple<std::string, unsigned, json>> table = {
      {R"({"source":"slate"})", 200, {{"source", "slate"}}},
      {R"({"source":"tape"})", 400, {{"error", "unknown source \"tape\""}}},
      {"no", 400,
       {{"error", "invalid JSON: parse error at line 1, column 2: syntax error while parsing value - "
                  "invalid literal; last read: 'no'"}}},
      {"", 400,
       {{"error", "invalid JSON: parse error at line 1, column 1: syntax error while parsing value - "
                  "unexpected end of input; expected '[', '{', or a literal"}}},
      {R"({"source":"auto")", 400,
       {{"error", "invalid JSON: parse error at line 1, column 17: syntax error while parsing object - "
                  "unexpected end of input; expected '}'"}}},
      {"[]", 400, {{"error", "body must be a JSON object"}}},
      {"{}", 400, {{"error", "missing field \"source\""}}},
      {R"({"src":"auto"})", 400, {{"error", "missing field \"source\""}}},
      {R"({"source":1})", 400, {{"error", "field \"source\" must be a string"}}},
      {R"({"source":null})", 400, {{"error", "field \"source\" must be a string"}}},
      {R"({"source":["auto"]})", 400, {{"error", "field \"source\" must be a string"}}},
  };
  for (const auto& [body, status, expected] : table) {
    CAPTURE(body);
    check_json(http_request(kHost, server.port(), "POST", "/api/v1/source", body, kAuth), status, expected);
  }
}

TEST_CASE("unknown routes are 404 and wrong methods 405 with Allow, as exact JSON") {
  TestServer server;
  const std::vector<std::tuple<std::string, std::string, unsigned, std::string, std::string>> table = {
      {"GET", "/x", 404, "no route for GET /x", ""},
      {"GET", "/api/v1/nope", 404, "no route for GET /api/v1/nope", ""},
      {"GET", "/api/v1/status/extra", 404, "no route for GET /api/v1/status/extra", ""},
      {"POST", "/nope", 404, "no route for POST /nope", ""},
      {"DELETE", "/api/x", 404, "no route for DELETE /api/x", ""},
      {"DELETE", "/api/v1/status", 405, "method DELETE not allowed on /api/v1/status", "GET, HEAD"},
      {"PUT", "/healthz", 405, "method PUT not allowed on /healthz", "GET, HEAD"},
      {"POST", "/metrics", 405, "method POST not allowed on /metrics", "GET, HEAD"},
      {"GET", "/api/v1/stream/start", 405, "method GET not allowed on /api/v1/stream/start", "POST"},
      {"HEAD", "/api/v1/source", 405, "", "POST"},  // HEAD answers carry no body
      {"OPTIONS", "/api/v1/stream/stop", 405, "method OPTIONS not allowed on /api/v1/stream/stop", "POST"},
      {"POST", "/index.html", 405, "method POST not allowed on /index.html", "GET, HEAD"},
  };
  for (const auto& [method, target, status, error, allow] : table) {
    CAPTURE(method);
    CAPTURE(target);
    const auto res = http_request(kHost, server.port(), method, target, "", kAuth);
    CHECK(res.status == status);
    CHECK(res.header("Allow") == allow);
    CHECK(res.header("Content-Type") == "application/json");
    if (method != "HEAD") CHECK(res.json() == json{{"error", error}});
  }
  CHECK(server.log.starts + server.log.stops == 0);
}

TEST_CASE("body_limit: a body over the limit is 413, one at the limit is accepted") {
  TestServer server;
  std::string at_limit = R"({"source":"slate"})";
  at_limit.resize(4096, ' ');
  check_json(http_request(kHost, server.port(), "POST", "/api/v1/source", at_limit, kAuth), 200,
             {{"source", "slate"}});
  for (const size_t size : {4097ul, 64ul * 1024, 1024ul * 1024}) {
    CAPTURE(size);
    const auto res = http_request(kHost, server.port(), "POST", "/api/v1/source", std::string(size, ' '), kAuth);
    check_json(res, 413, {{"error", "request body exceeds 4096 bytes"}});
    CHECK(res.header("Connection") == "close");
  }
  CHECK(server.get("/healthz").status == 200);
}

TEST_CASE("the token never appears in any response, right or wrong") {
  TestServer server;
  std::vector<HttpResponse> responses;
  const HttpHeaders wrong = {{"Authorization", "Bearer " + kWrongToken}};
  for (const auto& headers : {kAuth, wrong, HttpHeaders{}}) {
    for (const std::string target : {"/api/v1/stream/start", "/api/v1/stream/stop", "/api/v1/source", "/nope",
                                     "/api/v1/status", "/metrics", "/"}) {
      responses.push_back(http_request(kHost, server.port(), "POST", target, "{", headers));
      responses.push_back(http_request(kHost, server.port(), "GET", target + "?token=" + kToken, "", headers));
    }
  }
  for (const auto& res : responses) {
    CHECK(res.body.find(kToken) == std::string::npos);
    CHECK(res.body.find(kWrongToken) == std::string::npos);
    for (const auto& [name, value] : res.headers) {
      CAPTURE(name);
      CHECK(value.find(kToken) == std::string::npos);
      CHECK(value.find(kWrongToken) == std::string::npos);
    }
  }
  CHECK(responses.size() == 42);
}

TEST_CASE("static panel files: index, content types, no-cache, HEAD") {
  TestServer server;
  const auto& root = web_tree().root;
  const std::vector<std::tuple<std::string, fs::path, std::string>> table = {
      {"/", root / "index.html", "text/html; charset=utf-8"},
      {"/index.html", root / "index.html", "text/html; charset=utf-8"},
      {"/app.js", root / "app.js", "text/javascript; charset=utf-8"},
      {"/app.js?v=2", root / "app.js", "text/javascript; charset=utf-8"},
      {"/style.css", root / "style.css", "text/css; charset=utf-8"},
      {"/logo.svg", root / "logo.svg", "image/svg+xml"},
      {"/data.json", root / "data.json", "application/json"},
      {"/blob.bin", root / "blob.bin", "application/octet-stream"},
      {"/sub/", root / "sub" / "index.html", "text/html; charset=utf-8"},
      {"/sub", root / "sub" / "index.html", "text/html; charset=utf-8"},
      {"/%73tyle.css", root / "style.css", "text/css; charset=utf-8"},
  };
  for (const auto& [target, file, type] : table) {
    CAPTURE(target);
    std::ifstream in{file, std::ios::binary};
    const std::string content{std::istreambuf_iterator<char>{in}, {}};
    const auto res = server.get(target);
    CHECK(res.status == 200);
    CHECK(res.header("Content-Type") == type);
    CHECK(res.header("Cache-Control") == "no-cache");
    CHECK(res.header("X-Content-Type-Options") == "nosniff");
    CHECK(res.body == content);
    const auto head = http_request(kHost, server.port(), "HEAD", target);
    CHECK(head.status == 200);
    CHECK(head.header("Content-Type") == type);
    CHECK(head.header("Content-Length") == std::to_string(content.size()));
    CHECK(head.body.empty());
  }
}

TEST_CASE("traversal and odd paths never serve anything outside web_root") {
  TestServer server;
  const std::vector<std::string> targets = {
      "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/..%2fsecret.txt",
      "/%2e%2e%2fsecret.txt", "/sub/../../secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/./index.html",
      "/..\\secret.txt", "/%5c..%5csecret.txt", "/index.html%00.txt", "//etc/passwd", "/etc/passwd",
      "/link-out.txt", "/.hidden", "/sub//index.html", "/%", "/%zz", "secret.txt",
      "http://127.0.0.1/../secret.txt", "*", "/" + web_tree().dir.string() + "/secret.txt",
  };
  for (const auto& target : targets) {
    CAPTURE(target);
    const auto res = server.get(target);
    CHECK((res.status == 400 || res.status == 404));
    CHECK(res.body.find(kOutsideSecret) == std::string::npos);
    CHECK(res.body.find(kHiddenContent) == std::string::npos);
  }
  bool closed = false;
  const auto raw = raw_tcp_exchange(kHost, server.port(), std::string("GET /\0../secret.txt HTTP/1.1\r\n\r\n", 32),
                                    5s, &closed);
  CHECK(closed);
  CHECK(raw.find(kOutsideSecret) == std::string::npos);
  CHECK(server.get("/").status == 200);
}

TEST_CASE("a throwing test hook is a 500 with a generic message, and the server keeps serving") {
  TestServer server;
  server.log.events_throw = true;
  const auto failed = server.get("/api/v1/events");
  check_json(failed, 500, {{"error", "internal error"}});
  CHECK(failed.body.find("corrupted") == std::string::npos);
  check_json(http_request(kHost, server.port(), "POST", "/api/v1/source", R"({"source":"throw-int"})", kAuth),
             500, {{"error", "internal error"}});
  server.log.events_throw = false;
  CHECK(server.get("/api/v1/events").status == 200);
  check_json(server.get("/healthz"), 200, {{"status", "ok"}});
}

TEST_CASE("malformed HTTP is answered 400 or closed, never a crash") {
  TestServer server;
  const std::vector<std::string> garbage = {
      "GARBAGE\r\n\r\n",
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n", 15),
      std::string("\0\0\0\0\r\n\r\n", 8),
      "GET / HTTP/9.9\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
      "POST /api/v1/source HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
      "GET / HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n",
      "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
  };
  for (const auto& bytes : garbage) {
    CAPTURE(bytes.substr(0, 40));
    bool closed = false;
    const auto answer = raw_tcp_exchange(kHost, server.port(), bytes, 5s, &closed);
    CHECK(closed);
    CHECK((answer.empty() || answer.starts_with("HTTP/1.1 400 ") || answer.starts_with("HTTP/1.1 431 ")));
    check_json(server.get("/healthz"), 200, {{"status", "ok"}});
  }
}

TEST_CASE("50 concurrent clients are all answered") {
  TestServer server;
  std::vector<std::future<HttpResponse>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::async(std::launch::async, [&server, i] {
      return i % 2 ? http_request(kHost, server.port(), "GET", "/api/v1/status")
                   : http_request(kHost, server.port(), "POST", "/api/v1/stream/start", "", kAuth);
    }));
  }
  int answered = 0;
  for (auto& client : clients) answered += client.get().status == 200;
  CHECK(answered == 50);
  CHECK(server.log.starts == 25);
}

TEST_CASE("keep-alive: two requests on one connection; HTTP/1.0 without keep-alive is closed") {
  TestServer server;
  HttpConnection connection{kHost, server.port()};
  const auto first = connection.request("GET", "/healthz");
  const auto second = connection.request("POST", "/api/v1/stream/stop", "", kAuth);
  check_json(first, 200, {{"status", "ok"}});
  CHECK(first.header("Connection") != "close");
  check_json(second, 200, {{"state", "stopping"}});
  CHECK(connection.request("GET", "/readyz").status == 200);

  bool closed = false;
  const auto raw = raw_tcp_exchange(kHost, server.port(), "GET /healthz HTTP/1.0\r\n\r\n", 5s, &closed);
  CHECK(raw.starts_with("HTTP/1.0 200 OK\r\n"));
  CHECK(raw.ends_with("{\"status\":\"ok\"}"));
  CHECK(closed);
}

TEST_CASE("max_connections: one over the cap is answered 503, and a freed slot is usable again") {
  auto options = test_options();
  options.max_connections = 2;
  TestServer server{options};
  auto first = std::make_unique<HttpConnection>(kHost, server.port());
  HttpConnection second{kHost, server.port()};
  REQUIRE(first->request("GET", "/healthz").status == 200);  // both are now accepted and counted
  REQUIRE(second.request("GET", "/healthz").status == 200);
  const auto refused = server.get("/healthz");
  check_json(refused, 503, {{"error", "too many connections"}});
  CHECK(refused.header("Retry-After") == "1");

  first.reset();
  // The server learns of the close asynchronously: poll a bounded number of times.
  unsigned status = 0;
  for (int attempt = 0; attempt < 100 && status != 200; ++attempt) status = server.get("/healthz").status;
  CHECK(status == 200);
  CHECK(second.request("GET", "/healthz").status == 200);
}

TEST_CASE("request and idle timeouts close the connection") {
  auto options = test_options();
  options.request_timeout_s = 1;
  TestServer server{options};
  for (const std::string partial : {"GET /healthz HTTP/1.1\r\nHost: x\r\n", "",
                                    "POST /api/v1/source HTTP/1.1\r\nContent-Length: 10\r\n\r\n{\""}) {
    CAPTURE(partial);
    const auto begin = std::chrono::steady_clock::now();
    bool closed = false;
    const auto answer = raw_tcp_exchange(kHost, server.port(), partial, 5s, &closed);
    CHECK(closed);
    CHECK(answer.empty());
    CHECK(std::chrono::steady_clock::now() - begin < 4s);
  }
  HttpConnection idle{kHost, server.port()};
  CHECK(idle.request("GET", "/healthz").status == 200);
  CHECK(idle.closed_by_peer());
}

TEST_CASE("start() on a port in use throws with the address and the OS error") {
  TestServer server;
  boost::asio::io_context ioc;
  auto options = test_options();
  options.port = server.port();
  HookLog log;
  ControlServer second{ioc, options, test_hooks(log)};
  CHECK_THROWS_WITH_AS(second.start(),
                       ("cannot listen on 127.0.0.1:" + std::to_string(server.port()) + ": Address already in use")
                           .c_str(),
                       std::runtime_error);
}

TEST_CASE("stop() closes the listener and open connections, and io_context::run() returns") {
  TestServer server;
  const auto port = server.port();
  HttpConnection idle{kHost, port};
  REQUIRE(idle.request("GET", "/healthz").status == 200);
  HttpConnection midway{kHost, port};
  REQUIRE(midway.request("GET", "/readyz").status == 200);

  CHECK(server.stop_and_join());
  CHECK(idle.closed_by_peer());
  CHECK(midway.closed_by_peer());
  CHECK_THROWS_AS(http_request(kHost, port, "GET", "/healthz", "", {}, 1s), std::runtime_error);
}
