// The panel's static files: content types, caching, and nothing outside web_root, however asked.
#include "test_control_fixture.hpp"

using namespace control_test;

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
    if (type.starts_with("text/html")) {
      CHECK(res.header("X-Frame-Options") == "DENY");
      CHECK(res.header("Content-Security-Policy").starts_with("default-src 'self';"));
    }
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

