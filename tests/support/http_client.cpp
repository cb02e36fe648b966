#include "support/http_client.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <stdexcept>

namespace onair::test {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string host_port(const std::string& host, uint16_t port) {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

// A stream on a private io_context; each operation runs to completion, bounded by the expiry.
struct Channel {
  asio::io_context ioc;
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;
  std::string where;
  std::chrono::milliseconds timeout;

  Channel(const std::string& host, uint16_t port, std::chrono::milliseconds t)
      : where(host_port(host, port)), timeout(t) {
    tcp::resolver resolver{ioc};
    beast::error_code ec;
    const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
    if (ec) fail("resolve", ec);
    stream.expires_after(timeout);
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    finish();
    if (ec) fail("connect", ec);
  }

  void finish() {
    ioc.restart();
    ioc.run();
  }

  [[noreturn]] void fail(const std::string& step, const beast::error_code& ec) const {
    throw std::runtime_error("http " + where + ": " + step + ": " + ec.message());
  }
};

}  // namespace

std::string HttpResponse::header(const std::string& name) const {
  const auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

bool HttpResponse::has_header(const std::string& name) const { return headers.count(lower(name)) > 0; }

nlohmann::json HttpResponse::json() const {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& e) {
    throw std::runtime_error("response body is not JSON (" + std::string{e.what()} + "): " + body);
  }
}

struct HttpConnection::Impl : Channel {
  using Channel::Channel;
};

HttpConnection::HttpConnection(const std::string& host, uint16_t port, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(host, port, timeout)) {}

HttpConnection::~HttpConnection() = default;

uint16_t HttpConnection::local_port() const {
  beast::error_code ec;
  return impl_->stream.socket().local_endpoint(ec).port();
}

HttpResponse HttpConnection::request(std::string method, std::string target, std::string body,
                                     HttpHeaders headers) {
  auto& c = *impl_;
  http::request<http::string_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, c.where);
  req.set(http::field::user_agent, "onair-test");
  for (const auto& [name, value] : headers) req.insert(name, value);
  req.body() = std::move(body);
  req.prepare_payload();

  const auto step = method + " " + target;
  beast::error_code ec;
  c.stream.expires_after(c.timeout);
  http::async_write(c.stream, req, [&](beast::error_code e, size_t) { ec = e; });
  c.finish();
  if (ec) c.fail(step + ": write", ec);

  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  parser.skip(req.method() == http::verb::head);  // a HEAD answer has a Content-Length, no body
  c.stream.expires_after(c.timeout);
  http::async_read(c.stream, c.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  c.finish();
  if (ec) c.fail(step + ": read", ec);

  HttpResponse out;
  const auto& res = parser.get();
  out.status = res.result_int();
  for (const auto& field : res) {
    auto name = lower(std::string{field.name_string()});
    auto& slot = out.headers[name];
    slot += (slot.empty() ? "" : ", ") + std::string{field.value()};
  }
  out.body = res.body();
  return out;
}

bool HttpConnection::closed_by_peer() {
  auto& c = *impl_;
  char byte = 0;
  beast::error_code ec;
  c.stream.expires_after(c.timeout);
  c.stream.async_read_some(asio::buffer(&byte, 1), [&](beast::error_code e, size_t) { ec = e; });
  c.finish();
  if (!ec) throw std::runtime_error("http " + c.where + ": unexpected bytes while waiting for close");
  return ec != beast::error::timeout;
}

HttpResponse http_request(const std::string& host, uint16_t port, std::string method,
                          std::string target, std::string body, HttpHeaders headers,
                          std::chrono::milliseconds timeout) {
  const bool has_connection = std::any_of(headers.begin(), headers.end(),
                                          [](const auto& h) { return lower(h.first) == "connection"; });
  if (!has_connection) headers.emplace_back("Connection", "close");
  HttpConnection connection{host, port, timeout};
  return connection.request(std::move(method), std::move(target), std::move(body), std::move(headers));
}

std::string raw_tcp_exchange(const std::string& host, uint16_t port, const std::string& bytes,
                             std::chrono::milliseconds timeout, bool* peer_closed) {
  Channel c{host, port, timeout};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  beast::error_code ec;
  c.stream.expires_at(deadline);
  // A server that rejects early may reset before all bytes are written: read what it said anyway.
  asio::async_write(c.stream, asio::buffer(bytes), [&](beast::error_code e, size_t) { ec = e; });
  c.finish();

  std::string received;
  std::array<char, 4096> chunk{};
  constexpr size_t kMaxBytes = 16 * 1024 * 1024;  // bounds the loop even against an endless sender
  while (received.size() < kMaxBytes) {
    size_t n = 0;
    c.stream.expires_at(deadline);
    c.stream.async_read_some(asio::buffer(chunk), [&](beast::error_code e, size_t got) {
      ec = e;
      n = got;
    });
    c.finish();
    received.append(chunk.data(), n);
    if (ec) break;
  }
  if (peer_closed) *peer_closed = ec && ec != beast::error::timeout;
  return received;
}

}  // namespace onair::test
