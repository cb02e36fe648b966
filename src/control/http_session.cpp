#include "control/http_session.hpp"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

namespace onair::control {
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;
// How long a closing connection may keep sending before we drop it (lets the client read our answer).
constexpr auto kLingerTimeout = std::chrono::seconds(2);

std::string peer_of(const tcp::socket& socket) {
  beast::error_code ec;
  const auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  const auto address = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + address + "]" : address) + ":" + std::to_string(ep.port());
}

// A zero or negative setting would expire every operation at once: at least one second.
std::chrono::seconds request_timeout_of(const ServerOptions& options) {
  return std::chrono::seconds(std::max(1, options.request_timeout_s));
}

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::error_code{http::error::bad_method}.category();
}

}  // namespace

HttpSession::HttpSession(tcp::socket&& socket, std::shared_ptr<ServerState> state)
    : stream_(std::move(socket)), state_(std::move(state)), peer_(peer_of(stream_.socket())) {}

HttpSession::~HttpSession() { state_->remove(this); }

void HttpSession::run() {
  state_->add(shared_from_this());
  do_read();
}

void HttpSession::refuse(http::status status, std::string message) {
  state_->add(shared_from_this());
  auto res = error_response(status, message);
  res.set(http::field::retry_after, "1");
  send(std::move(res), false, message);
}

void HttpSession::close() { stream_.close(); }

void HttpSession::do_read() {
  if (state_->stopping) return;
  parser_.emplace();
  parser_->body_limit(state_->options.body_limit);
  parser_->header_limit(kHeaderLimit);
  method_ = http::verb::unknown;
  method_name_ = path_ = "-";
  version_ = 11;
  stream_.expires_after(request_timeout_of(state_->options));
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

void HttpSession::on_read(beast::error_code ec) {
  // The start line may be known even when the rest failed (e.g. body_limit at the header's end).
  const auto& header = parser_->get();
  if (!header.method_string().empty()) {
    version_ = header.version();
    method_ = header.method();
    method_name_ = std::string{to_sv(header.method_string())};
    path_ = std::string{path_of(to_sv(header.target()))};
  }
  if (ec == http::error::end_of_stream) return linger_close();  // the client is done: no answer due
  if (ec == http::error::body_limit) {
    return fail_request(http::status::payload_too_large,
                        "request body exceeds " + std::to_string(state_->options.body_limit) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return fail_request(http::status::request_header_fields_too_large, "request header too large");
  }
  if (ec && is_http_parse_error(ec) && ec != http::error::partial_message) {
    return fail_request(http::status::bad_request, "malformed request: " + ec.message());
  }
  if (ec) {
    // Timeout, reset, or stop(): nobody is left to answer.
    spdlog::debug("control: {} connection ended: {}", peer_, ec.message());
    return;
  }
  const auto req = parser_->release();
  const bool keep_alive = req.keep_alive() && !state_->stopping;
  send(state_->router.handle(req, peer_), keep_alive);
}

void HttpSession::fail_request(http::status status, std::string message) {
  auto res = error_response(status, message);
  send(std::move(res), false, message);
}

void HttpSession::send(Response&& response, bool keep_alive, std::string_view why) {
  const auto status = status_code(response);
  const auto level = status >= 500                                      ? spdlog::level::warn
                     : status >= 400 || method_ == http::verb::post     ? spdlog::level::info
                                                                        : spdlog::level::debug;
  spdlog::log(level, "control: {} {} {} -> {}{}{}", peer_, method_name_, path_, status,
              why.empty() ? "" : ": ", why);
  std::visit(
      [&](auto& res) {
        res.version(version_);
        res.keep_alive(keep_alive);
        res.set(http::field::server, "onair");
        res.set("X-Content-Type-Options", "nosniff");
        if (method_ == http::verb::head) {
          // Same header (Content-Length included) without the body.
          write(http::response<http::empty_body>{std::move(res.base())}, keep_alive);
        } else {
          write(std::move(res), keep_alive);
        }
      },
      response);
}

template <class Body>
void HttpSession::write(http::response<Body>&& res, bool keep_alive) {
  auto message = std::make_shared<http::response<Body>>(std::move(res));
  response_ = message;
  stream_.expires_after(request_timeout_of(state_->options));
  http::async_write(stream_, *message,
                    [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                      self->on_write(ec, keep_alive);
                    });
}

void HttpSession::on_write(beast::error_code ec, bool keep_alive) {
  response_.reset();
  if (ec) {
    spdlog::debug("control: {} write failed: {}", peer_, ec.message());
    return;
  }
  if (!keep_alive) return linger_close();
  do_read();
}

void HttpSession::linger_close() {
  // Half-close and read what is still in flight, so the kernel does not answer our last
  // response with a reset that could destroy it before the client reads it.
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(std::min<std::chrono::steady_clock::duration>(
      kLingerTimeout, request_timeout_of(state_->options)));
  drain();
}

void HttpSession::drain() {
  if (state_->stopping) return;
  stream_.async_read_some(boost::asio::buffer(drain_buffer_),
                          [self = shared_from_this()](beast::error_code ec, size_t) {
                            if (!ec) self->drain();
                          });
}

}  // namespace onair::control
