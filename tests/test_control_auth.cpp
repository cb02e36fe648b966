// Who may do what: the auth matrix over every kind of route and credential (bearer, read-only
// token, panel session cookie), login/logout, cookie flags, same-origin checks, the failed-login
// limiter, and that no token ever shows up in a response or a log line.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "control/sessions.hpp"
#include "test_control_fixture.hpp"

using namespace control_test;
using onair::control::Clock;
using onair::control::LoginLimiter;
using onair::control::Role;
using onair::control::SessionStore;

namespace {

// Logs in with `token` and returns the "onair_session=..." cookie (empty on failure).
std::string login(TestServer& server, const std::string& token) {
  return session_cookie_of(server.post("/api/v1/login", json{{"token", token}}.dump(), {}));
}

}  // namespace

TEST_CASE("auth matrix: every route kind against every kind of credential") {
  TestServer server;
  const auto control_cookie = login(server, kToken);
  const auto read_cookie = login(server, kReadToken);
  REQUIRE(control_cookie.starts_with("onair_session="));
  REQUIRE(read_cookie.starts_with("onair_session="));
  const std::vector<std::pair<std::string, HttpHeaders>> who = {
      {"nobody", {}},
      {"wrong bearer", {{"Authorization", "Bearer " + kWrongToken}}},
      {"read bearer", kReadAuth},
      {"control bearer", kAuth},
      {"read cookie", {{"Cookie", read_cookie}}},
      {"control cookie", {{"Cookie", "theme=dark; " + control_cookie}}},
      {"stale cookie", {{"Cookie", "onair_session=" + std::string(64, 'a')}}},
      {"basic auth", {{"Authorization", "Basic dXNlcjpwYXNz"}}},
  };
  struct Row {
    std::string method, target, body;
    std::vector<unsigned> expected;  // in the order of `who`
  };
  const std::vector<Row> rows = {
      {"GET", "/healthz", "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/metrics", "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/api/v1/openapi.yaml", "", {200, 200, 200, 200, 200, 200, 200, 200}},
      {"GET", "/api/v1/status", "", {401, 403, 200, 200, 200, 200, 401, 401}},
      {"GET", "/api/v1/events", "", {401, 403, 200, 200, 200, 200, 401, 401}},
      {"GET", "/api/v1/preview.jpg", "", {401, 403, 200, 200, 200, 200, 401, 401}},
      {"GET", "/api/v1/backup", "", {401, 403, 200, 200, 200, 200, 401, 401}},
      {"GET", "/api/v1/backup/qr.svg", "", {401, 403, 200, 200, 200, 200, 401, 401}},
      {"GET", "/api/v1/live", "", {401, 403, 426, 426, 426, 426, 401, 401}},
      {"GET", "/api/v1/session", "", {401, 401, 200, 200, 200, 200, 401, 401}},
      {"POST", "/api/v1/stream/start", "", {401, 403, 403, 200, 403, 200, 401, 401}},
      {"POST", "/api/v1/stream/stop", "", {401, 403, 403, 200, 403, 200, 401, 401}},
      {"POST", "/api/v1/source", R"({"source":"backup"})", {401, 403, 403, 200, 403, 200, 401, 401}},
      {"POST", "/api/v1/encoder", R"({"bitrate_kbps":900})", {401, 403, 403, 200, 403, 200, 401, 401}},
  };
  for (const auto& row : rows) {
    for (size_t i = 0; i < who.size(); ++i) {
      CAPTURE(row.target);
      CAPTURE(who[i].first);
      const auto res = http_request(kHost, server.port(), row.method, row.target, row.body, who[i].second);
      CHECK(res.status == row.expected[i]);
      if (res.status == 401) {
        CHECK(res.header("WWW-Authenticate") == "Bearer realm=\"onair\"");
      }
      if (res.status == 403 && who[i].first.starts_with("read")) {
        CHECK(res.json() == json{{"error", "read-only access: this call needs the control token"}});
      }
      if (res.status == 403 && who[i].first == "wrong bearer") CHECK(res.json() == json{{"error", "invalid token"}});
    }
  }
  CHECK(server.log.starts == 2);  // control bearer and control cookie, nobody else
  CHECK(server.log.stops == 2);
  std::lock_guard lock{server.log.mutex};
  CHECK(server.log.sources == std::vector<std::string>{"backup", "backup"});
}

TEST_CASE("public_health: false puts /healthz, /readyz and /metrics behind a token too") {
  auto options = test_options();
  options.public_health = false;
  TestServer server{options};
  for (const std::string target : {"/healthz", "/readyz", "/metrics"}) {
    CAPTURE(target);
    CHECK(server.get(target).status == 401);
    CHECK(server.get(target, kReadAuth).status == 200);
  }
  CHECK(server.get("/api/v1/openapi.yaml").status == 200);  // the description stays public
}

TEST_CASE("no control.token configured: every change is refused with 403, reading still works") {
  auto options = test_options();
  options.token.clear();
  TestServer server{options};
  for (const std::string target : {"/api/v1/stream/start", "/api/v1/stream/stop", "/api/v1/source"}) {
    for (const auto& headers : {HttpHeaders{}, HttpHeaders{{"Authorization", "Bearer "}}, kReadAuth}) {
      CAPTURE(target);
      check_json(server.post(target, R"({"source":"auto"})", headers), 403, {{"error", "control.token is not configured"}});
    }
  }
  CHECK(server.get("/api/v1/status", kReadAuth).status == 200);
  CHECK(server.log.starts + server.log.stops == 0);
}

TEST_CASE("login: HttpOnly SameSite=Strict session cookie; logout ends it; bad logins say little") {
  TestServer server;
  const auto res = server.post("/api/v1/login", json{{"token", kToken}}.dump(), {});
  check_json(res, 200, {{"role", "control"}});
  const auto set_cookie = res.header("Set-Cookie");
  const std::string prefix = "onair_session=", suffix = "; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200";
  REQUIRE(set_cookie.size() == prefix.size() + 64 + suffix.size());
  CHECK(set_cookie.starts_with(prefix));
  CHECK(set_cookie.ends_with(suffix));
  CHECK(set_cookie.substr(prefix.size(), 64).find_first_not_of("0123456789abcdef") == std::string::npos);
  const auto cookie = session_cookie_of(res);
  check_json(server.get("/api/v1/session", {{"Cookie", cookie}}), 200, {{"role", "control"}, {"via", "cookie"}});
  CHECK(login(server, kToken) != cookie);  // every login gets a fresh id

  const auto out = server.post("/api/v1/logout", "", {{"Cookie", cookie}});
  check_json(out, 200, {{"role", "none"}});
  CHECK(out.header("Set-Cookie") == "onair_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
  CHECK(server.get("/api/v1/status", {{"Cookie", cookie}}).status == 401);
  CHECK(server.post("/api/v1/stream/start", "", {{"Cookie", cookie}}).status == 401);

  const std::vector<std::tuple<std::string, unsigned, json>> table = {
      {json{{"token", kWrongToken}}.dump(), 401, {{"error", "invalid token"}}},
      {json{{"token", ""}}.dump(), 401, {{"error", "invalid token"}}},
      {"{\"token\": \"" + kToken, 400, {{"error", "invalid JSON"}}},  // the parser's message would quote it
      {R"({"token": 42})", 400, {{"error", "field \"token\" must be a string"}}},
      {R"({"tok": "x"})", 400, {{"error", "missing field \"token\""}}},
  };
  for (const auto& [body, status, expected] : table) {
    CAPTURE(body);
    const auto bad = server.post("/api/v1/login", body, {});
    check_json(bad, status, expected);
    CHECK_FALSE(bad.has_header("Set-Cookie"));
  }
  check_json(server.post("/api/v1/login", json{{"token", kReadToken}}.dump(), {}), 200, {{"role", "read"}});
}

TEST_CASE("cross-origin: a page elsewhere cannot use the panel's cookie; same origin and scripts can") {
  TestServer server;
  const auto cookie = login(server, kToken);
  const std::string self = "http://" + kHost + ":" + std::to_string(server.port());
  const std::vector<std::tuple<HttpHeaders, unsigned>> table = {
      {{{"Cookie", cookie}, {"Origin", "http://evil.example"}}, 403},
      {{{"Cookie", cookie}, {"Origin", "https://" + kHost + ":" + std::to_string(server.port())}}, 403},
      {{{"Cookie", cookie}, {"Origin", "null"}}, 403},
      {{{"Cookie", cookie}, {"Origin", self}}, 200},
      {{{"Cookie", cookie}}, 200},
      {{{"Authorization", "Bearer " + kToken}}, 200},
  };
  for (const auto& [headers, status] : table) {
    const auto res = server.post("/api/v1/stream/stop", "", headers);
    CHECK(res.status == status);
    if (status == 403) CHECK(res.json() == json{{"error", "cross-origin request refused"}});
  }
  CHECK(server.log.stops == 3);
  CHECK(server.post("/api/v1/login", json{{"token", kToken}}.dump(), {{"Origin", "http://evil.example"}}).status == 403);
}

TEST_CASE("failed logins and wrong bearer tokens are rate-limited per address with 429") {
  auto options = test_options();
  options.login_max_failures = 3;
  options.login_window_s = 60;
  TestServer server{options};
  CHECK(server.post("/api/v1/login", json{{"token", "guess-1"}}.dump(), {}).status == 401);
  CHECK(server.post("/api/v1/stream/start", "", {{"Authorization", "Bearer guess-2"}}).status == 403);
  CHECK(server.post("/api/v1/login", json{{"token", "guess-3"}}.dump(), {}).status == 401);
  // Locked: even the right token waits, so guessing cannot continue.
  for (const auto& res : {server.post("/api/v1/login", json{{"token", kToken}}.dump(), {}),
                          server.post("/api/v1/stream/start", "", kAuth)}) {
    CHECK(res.status == 429);
    const int retry = std::stoi(res.header("Retry-After"));
    CHECK(retry >= 1);
    CHECK(retry <= 60);
    CHECK(res.json()["error"] == "too many failed attempts from this address; retry in " + std::to_string(retry) + " s");
  }
  CHECK(server.log.starts == 0);
  CHECK(server.get("/healthz").status == 200);  // no credentials: not affected
}

TEST_CASE("LoginLimiter: per address, window from the first failure, bounded memory (injected time)") {
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  LoginLimiter limiter{3, std::chrono::seconds(60), 4};
  for (int i = 0; i < 2; ++i) limiter.failed("10.0.0.1", t0 + std::chrono::seconds(i));
  CHECK(limiter.blocked_for("10.0.0.1", t0 + 2s) == 0);
  limiter.failed("10.0.0.1", t0 + 2s);
  CHECK(limiter.blocked_for("10.0.0.1", t0 + 2s) == 58);
  CHECK(limiter.blocked_for("10.0.0.1", t0 + 59500ms) == 1);
  CHECK(limiter.blocked_for("10.0.0.2", t0 + 3s) == 0);  // other addresses are not affected
  CHECK(limiter.blocked_for("10.0.0.1", t0 + 60s) == 0);  // the window is over
  limiter.failed("10.0.0.1", t0 + 61s);
  CHECK(limiter.blocked_for("10.0.0.1", t0 + 61s) == 0);  // a fresh window
  for (int i = 0; i < 3; ++i) limiter.failed("10.0.0.3", t0 + 62s);
  limiter.succeeded("10.0.0.3");
  CHECK(limiter.blocked_for("10.0.0.3", t0 + 62s) == 0);
  for (int i = 0; i < 100; ++i) limiter.failed("192.168.0." + std::to_string(i), t0 + 63s);  // a flood: stays bounded
  for (int i = 0; i < 3; ++i) limiter.failed("10.0.0.9", t0 + 64s);
  CHECK(limiter.blocked_for("10.0.0.9", t0 + 64s) > 0);
}

TEST_CASE("SessionStore: random ids, sliding expiry, logout, bounded (injected time)") {
  const auto t0 = Clock::time_point{} + std::chrono::hours(1);
  SessionStore store{std::chrono::seconds(100), 3};
  const auto a = store.create(Role::control, t0);
  const auto b = store.create(Role::read, t0);
  CHECK(a.size() == 64);
  CHECK(a != b);
  CHECK(store.find(a, t0 + 50s) == Role::control);
  CHECK(store.find(b, t0 + 50s) == Role::read);
  CHECK(store.find(a, t0 + 140s) == Role::control);  // refreshed at +50 s
  CHECK(store.find(b, t0 + 151s) == Role::none);     // expired
  CHECK(store.find(a.substr(0, 63), t0 + 150s) == Role::none);
  CHECK(store.find("", t0 + 150s) == Role::none);
  store.erase(a);
  CHECK(store.find(a, t0 + 150s) == Role::none);
  const auto c = store.create(Role::read, t0 + 200s);
  store.create(Role::read, t0 + 200s);
  store.create(Role::read, t0 + 200s);
  store.create(Role::read, t0 + 200s);  // over the cap: the oldest goes
  CHECK(store.size() == 3);
  CHECK(store.find(c, t0 + 200s) == Role::none);
}

TEST_CASE("no token ever appears in a response or a log line, right or wrong") {
  std::ostringstream captured;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(captured);
  const auto previous = spdlog::default_logger();
  const auto previous_level = spdlog::get_level();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
  spdlog::set_level(spdlog::level::trace);
  std::vector<HttpResponse> responses;
  {
    TestServer server;
    const HttpHeaders wrong = {{"Authorization", "Bearer " + kWrongToken}};
    for (const auto& headers : {kAuth, kReadAuth, wrong, HttpHeaders{}}) {
      for (const std::string target : {"/api/v1/stream/start", "/api/v1/login", "/api/v1/source", "/nope",
                                       "/api/v1/status", "/metrics", "/", "/api/v1/session"}) {
        responses.push_back(server.post(target, "{", headers));
        responses.push_back(server.get(target + "?token=" + kToken, headers));
      }
    }
    for (const auto& token : {kToken, kReadToken, kWrongToken}) {
      responses.push_back(server.post("/api/v1/login", json{{"token", token}}.dump(), {}));
      responses.push_back(server.post("/api/v1/login", "{\"token\":\"" + token, {}));
    }
    WsClient ws{server.port(), kAuth};
    CHECK(ws.read().has_value());
  }
  spdlog::set_default_logger(previous);
  spdlog::set_level(previous_level);
  for (const auto& res : responses) {
    for (const auto& secret : {kToken, kReadToken, kWrongToken}) {
      CHECK(res.body.find(secret) == std::string::npos);
      for (const auto& [name, value] : res.headers) {
        CAPTURE(name);
        CHECK(value.find(secret) == std::string::npos);
      }
    }
  }
  CHECK(responses.size() == 70);
  const auto log = captured.str();
  CHECK(log.find("control: 127.0.0.1:") != std::string::npos);  // it did log
  CHECK(log.find("wrong token") != std::string::npos);
  for (const auto& secret : {kToken, kReadToken, kWrongToken}) CHECK(log.find(secret) == std::string::npos);
}
