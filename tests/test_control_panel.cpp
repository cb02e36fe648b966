// The panel's own routes over real TCP: the API description matches the routes both ways, the
// preview picture (deferred answer), the backup phone's link and its QR code (decoded back with
// zbarimg), and HTTPS/WSS with control.tls.
#include <yaml-cpp/yaml.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>

#include "support/process.hpp"
#include "test_control_fixture.hpp"

using namespace control_test;
using onair::test::ChildOptions;
using onair::test::ChildProcess;

namespace {

const std::string kOpenApi = std::string(ONAIR_SOURCE_DIR) + "/docs/openapi.yaml";

std::set<std::string> documented_routes() {
  std::set<std::string> out;
  const auto doc = YAML::LoadFile(kOpenApi);
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      auto method = op.first.as<std::string>();
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      out.insert(method + " " + path.first.as<std::string>() + " " + op.second["x-onair-access"].as<std::string>("?"));
    }
  }
  return out;
}

// The QR code's SVG (our own path format: "M<x> <y>h1v1h-1z" per dark module) as an
// 8-px-per-module grey image, read by zbarimg.
std::string decode_qr(const std::string& svg) {
  const std::string view_box = "viewBox=\"0 0 ";
  const auto box = svg.find(view_box);
  REQUIRE(box != std::string::npos);
  const int side = std::stoi(svg.substr(box + view_box.size())), scale = 8, px = side * scale;
  std::string pixels(size_t(px) * size_t(px), char(255));
  for (auto at = svg.find('M'); at != std::string::npos; at = svg.find('M', at + 1)) {
    int x = -1, y = -1;
    if (std::sscanf(svg.c_str() + at, "M%d %dh1v1h-1z", &x, &y) != 2 || x < 0 || y < 0 || x >= side || y >= side) continue;
    for (int dy = 0; dy < scale; ++dy) std::fill_n(pixels.begin() + (y * scale + dy) * px + x * scale, scale, char(0));
  }
  const auto file = fs::temp_directory_path() / ("onair-qr-" + std::to_string(::getpid()) + ".pgm");
  write_file(file, "P5\n" + std::to_string(px) + " " + std::to_string(px) + "\n255\n" + pixels);
  ChildProcess zbar({"zbarimg", "--raw", "-q", file.string()});
  const auto status = zbar.wait_exit(20s);
  fs::remove(file);
  REQUIRE(status == 0);
  // The log mixes in zbarimg's stderr (it may complain about D-Bus): the decoded text is the last line.
  auto text = zbar.log_text();
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text.substr(text.rfind('\n') + 1);
}

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;

// One HTTPS request, or a WSS upgrade + first message, against the TLS server (cert not verified:
// it is self-signed for the test). Every step bounded by the stream's expiry.
struct TlsClient {
  asio::io_context ioc;
  ssl::context ctx{ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream{ioc, ctx};

  explicit TlsClient(uint16_t port) {
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(5s);
    beast::get_lowest_layer(stream).async_connect({asio::ip::make_address(kHost), port}, [&](auto e) { ec = e; });
    run();
    REQUIRE_FALSE(ec);
    stream.async_handshake(ssl::stream_base::client, [&](auto e) { ec = e; });
    run();
    REQUIRE_MESSAGE(!ec, ec.message());
  }
  void run() {
    ioc.restart();
    ioc.run();
  }
  beast::http::response<beast::http::string_body> request(beast::http::verb verb, const std::string& target,
                                                           const std::string& body = "") {
    beast::http::request<beast::http::string_body> req{verb, target, 11};
    req.set(beast::http::field::host, kHost);
    req.body() = body;
    req.prepare_payload();
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> res;
    beast::error_code ec;
    beast::get_lowest_layer(stream).expires_after(5s);
    beast::http::async_write(stream, req, [&](auto e, size_t) { ec = e; });
    run();
    REQUIRE_FALSE(ec);
    beast::http::async_read(stream, buffer, res, [&](auto e, size_t) { ec = e; });
    run();
    REQUIRE_FALSE(ec);
    return res;
  }
};

}  // namespace

TEST_CASE("docs/openapi.yaml lists exactly the routes the server answers, with the same access rule") {
  auto options = test_options();
  options.openapi_file = kOpenApi;
  TestServer server{options};
  std::set<std::string> served;
  for (const auto& r : server.server().routes()) served.insert(r.method + " " + r.path + " " + r.access);
  const auto documented = documented_routes();
  for (const auto& route : served) CHECK_MESSAGE(documented.count(route), "not documented: " << route);
  for (const auto& route : documented) CHECK_MESSAGE(served.count(route), "documented but not served: " << route);
  CHECK(served.size() >= 18);
  // And each documented route really answers (neither 404 nor 405) when called as documented.
  for (const auto& route : documented) {
    const auto method = route.substr(0, route.find(' '));
    const auto path = route.substr(method.size() + 1, route.rfind(' ') - method.size() - 1);
    CAPTURE(route);
    const auto res = http_request(kHost, server.port(), method, path, "{}", kAuth);
    CHECK(res.status != 404);
    CHECK(res.status != 405);
  }
  const auto doc = server.get("/api/v1/openapi.yaml");
  CHECK(doc.status == 200);
  CHECK(doc.header("Content-Type") == "application/yaml; charset=utf-8");
  CHECK(doc.body.starts_with("openapi: 3.0.3\n"));
}

TEST_CASE("preview: the hook's JPEG, answered later from another thread; its errors are 503") {
  TestServer server;
  const auto res = server.get("/api/v1/preview.jpg", kReadAuth);
  CHECK(res.status == 200);
  CHECK(res.header("Content-Type") == "image/jpeg");
  CHECK(res.header("Cache-Control") == "no-store");
  CHECK(res.body == "\xff\xd8 fake jpeg \xff\xd9");
  HttpConnection keep{kHost, server.port()};  // the connection goes on after a deferred answer
  CHECK(keep.request("GET", "/api/v1/preview.jpg", "", kReadAuth).status == 200);
  CHECK(keep.request("GET", "/healthz").status == 200);
  CHECK(server.log.previews == 2);

  TestServer failing{test_options(), [](Hooks& hooks) {
                       hooks.preview = [](onair::control::PreviewDone done) {
                         done(std::nullopt, "the display has shown no frame yet");
                         done(std::string("twice"), "");  // a second answer is ignored
                       };
                     }};
  check_json(failing.get("/api/v1/preview.jpg", kReadAuth), 503, {{"error", "no preview: the display has shown no frame yet"}});
  TestServer unwired{test_options(), [](Hooks& hooks) { hooks.preview = nullptr; }};
  check_json(unwired.get("/api/v1/preview.jpg", kReadAuth), 503, {{"error", "preview is not available"}});
}

TEST_CASE("backup link: the phone's caller URL to this box, and a QR code that decodes to it") {
  TestServer server;
  const auto res = server.get("/api/v1/backup", kReadAuth);
  REQUIRE(res.status == 200);
  const auto link = res.json();
  const std::string url = link["url"];
  // srt://<an IPv4 address of this box>:9001?mode=caller&latency=200
  const std::string tail = ":9001?mode=caller&latency=200";
  REQUIRE(url.starts_with("srt://"));
  REQUIRE(url.ends_with(tail));
  boost::system::error_code ec;
  CHECK(boost::asio::ip::make_address_v4(url.substr(6, url.size() - 6 - tail.size()), ec).to_uint() != 0);
  CHECK_FALSE(ec);
  CHECK(link["passphrase_required"] == true);
  CHECK(link["label"] == "phone");
  CHECK(link["qr"] == "/api/v1/backup/qr.svg");
  const auto qr = server.get("/api/v1/backup/qr.svg", kReadAuth);
  CHECK(qr.status == 200);
  CHECK(qr.header("Content-Type") == "image/svg+xml");
  CHECK(qr.body.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(decode_qr(qr.body) == url);

  TestServer none{test_options(), [](Hooks& hooks) {
                    hooks.backup_link = [](const std::string&) { return std::optional<BackupLink>{}; };
                  }};
  for (const std::string target : {"/api/v1/backup", "/api/v1/backup/qr.svg"}) {
    check_json(none.get(target, kReadAuth), 404, {{"error", "no SRT listener backup is configured (sources.backup)"}});
  }
}

TEST_CASE("control.tls: HTTPS and WSS only, Secure cookie, HSTS; unreadable files fail at construction") {
  const auto dir = fs::temp_directory_path() / ("onair-tls-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  ChildProcess openssl({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", (dir / "key.pem").string(), "-out",
                        (dir / "cert.pem").string()});
  REQUIRE(openssl.wait_exit(20s) == 0);
  auto options = test_options();
  options.tls_cert = (dir / "cert.pem").string();
  options.tls_key = (dir / "key.pem").string();
  TestServer server{options};

  TlsClient https{server.port()};
  const auto health = https.request(beast::http::verb::get, "/healthz");
  CHECK(health.result_int() == 200);
  CHECK(health[beast::http::field::strict_transport_security] == "max-age=31536000");
  const auto login = https.request(beast::http::verb::post, "/api/v1/login", json{{"token", kToken}}.dump());
  CHECK(login.result_int() == 200);
  CHECK(std::string(login[beast::http::field::set_cookie]).ends_with("; Max-Age=43200; Secure"));

  TlsClient wss{server.port()};
  beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>&> ws{wss.stream};
  ws.set_option(beast::websocket::stream_base::decorator([](beast::websocket::request_type& req) {
    req.set(beast::http::field::authorization, "Bearer " + kReadToken);
  }));
  beast::error_code ec;
  beast::get_lowest_layer(wss.stream).expires_after(5s);
  ws.async_handshake(kHost, "/api/v1/live", [&](auto e) { ec = e; });
  wss.run();
  REQUIRE_MESSAGE(!ec, ec.message());
  beast::flat_buffer buffer;
  ws.async_read(buffer, [&](auto e, size_t) { ec = e; });
  wss.run();
  REQUIRE_FALSE(ec);
  CHECK(json::parse(beast::buffers_to_string(buffer.data()))["type"] == "snapshot");

  bool closed = false;
  const auto plain = raw_tcp_exchange(kHost, server.port(), "GET /healthz HTTP/1.1\r\n\r\n", 5s, &closed);
  CHECK(closed);
  CHECK(plain.find("HTTP/1.1 200") == std::string::npos);

  auto missing = test_options();
  missing.tls_cert = (dir / "nope.pem").string();
  missing.tls_key = options.tls_key;
  boost::asio::io_context ioc;
  HookLog log;
  CHECK_THROWS_WITH_AS(ControlServer(ioc, missing, test_hooks(log)),
                       ("cannot load control.tls.cert " + missing.tls_cert + ": No such file or directory").c_str(),
                       std::runtime_error);
  auto not_pem = options;
  not_pem.tls_key = options.openapi_file;
  try {
    ControlServer refused(ioc, not_pem, test_hooks(log));
    FAIL("a key file that is not PEM was accepted");
  } catch (const std::runtime_error& e) {
    // OpenSSL's reason in brackets differs between versions; the rest is ours.
    CHECK(std::string(e.what()).starts_with("cannot load control.tls.key " + not_pem.tls_key + ": not a usable PEM key ("));
  }
  fs::remove_all(dir);
}
