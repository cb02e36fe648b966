// The control plane over real TCP: HTTP routing, limits, timeouts, connection cap, stop().
// A real ControlServer on 127.0.0.1 with test hooks standing in for the pipeline.
#include "test_control_fixture.hpp"

using namespace control_test;

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
    check_json(server.get(target, kReadAuth), 200, body);
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
    const auto get = server.get(target, kReadAuth);
    const auto head = http_request(kHost, server.port(), "HEAD", target, "", kReadAuth);
    CHECK(head.status == get.status);
    CHECK(head.header("Content-Type") == get.header("Content-Type"));
    CHECK(head.header("Content-Length") == std::to_string(get.body.size()));
    CHECK(head.body.empty());
  }
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

TEST_CASE("a throwing test hook is a 500 with a generic message, and the server keeps serving") {
  TestServer server;
  server.log.events_throw = true;
  const auto failed = server.get("/api/v1/events", kReadAuth);
  check_json(failed, 500, {{"error", "internal error"}});
  CHECK(failed.body.find("corrupted") == std::string::npos);
  check_json(http_request(kHost, server.port(), "POST", "/api/v1/source", R"({"source":"throw-int"})", kAuth),
             500, {{"error", "internal error"}});
  server.log.events_throw = false;
  CHECK(server.get("/api/v1/events", kReadAuth).status == 200);
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
      return i % 2 ? http_request(kHost, server.port(), "GET", "/api/v1/status", "", kReadAuth)
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
