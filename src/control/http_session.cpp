#include "control/http_session.hpp"

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "control/websocket_session.hpp"

namespace onair::control {
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

namespace {

constexpr size_t kHeaderLimit = 16 * 1024;
// How long a closing connection may keep sending before we drop it (lets the client read our answer).
constexpr auto kLingerTimeout = std::chrono::seconds(2);

std::string address_text(const boost::asio::ip::address& address) {
  // A v4 client of a dual-stack listener shows up as ::ffff:a.b.c.d: say a.b.c.d.
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

// A zero or negative setting would expire every operation at once: at least one second.
std::chrono::seconds request_timeout_of(const ServerOptions& options) {
  return std::chrono::seconds(std::max(1, options.request_timeout_s));
}

bool is_http_parse_error(const beast::error_code& ec) {
  return ec.category() == beast::error_code{http::error::bad_method}.category();
}

}  // namespace

RequestContext context_of(const tcp::socket& socket, bool tls) {
  RequestContext ctx;
  ctx.tls = tls;
  beast::error_code ec;
  const auto remote = socket.remote_endpoint(ec);
  if (ec) {
    ctx.peer = ctx.address = "?";
  } else {
    ctx.address = address_text(remote.address());
    ctx.peer = (ctx.address.find(':') != std::string::npos ? "[" + ctx.address + "]" : ctx.address) + ":" +
               std::to_string(remote.port());
  }
  const auto local = socket.local_endpoint(ec);
  if (!ec) ctx.local_address = address_text(local.address());
  return ctx;
}

template <class Stream>
HttpSession<Stream>::HttpSession(Stream&& stream, std::shared_ptr<ServerState> state)
    : stream_(std::move(stream)), state_(std::move(state)), context_(context_of(lowest().socket(), kTls)) {}

template <class Stream>
HttpSession<Stream>::~HttpSession() {
  state_->remove(this);
}

template <class Stream>
void HttpSession<Stream>::run() {
  state_->add(this->shared_from_this());
  handshake_then(&HttpSession::do_read);
}

template <class Stream>
void HttpSession<Stream>::refuse(http::status status, std::string message) {
  state_->add(this->shared_from_this());
  refusal_status_ = status;
  refusal_ = std::move(message);
  handshake_then(&HttpSession::send_refusal);
}

template <class Stream>
void HttpSession<Stream>::handshake_then(void (HttpSession::*next)()) {
  if constexpr (kTls) {
    lowest().expires_after(request_timeout_of(state_->options));
    stream_.async_handshake(boost::asio::ssl::stream_base::server,
                            [self = this->shared_from_this(), next](beast::error_code ec) {
                              if (ec) {
                                spdlog::debug("control: {} TLS handshake failed: {}", self->context_.peer, ec.message());
                                return;
                              }
                              ((*self).*next)();
                            });
  } else {
    (this->*next)();
  }
}

template <class Stream>
void HttpSession<Stream>::send_refusal() {
  auto res = error_response(refusal_status_, refusal_);
  res.set(http::field::retry_after, "1");
  send(std::move(res), false, refusal_);
}

template <class Stream>
void HttpSession<Stream>::close() {
  beast::error_code ignored;
  lowest().socket().close(ignored);
}

template <class Stream>
void HttpSession<Stream>::do_read() {
  if (state_->stopping) return;
  parser_.emplace();
  parser_->body_limit(state_->options.body_limit);
  parser_->header_limit(kHeaderLimit);
  method_ = http::verb::unknown;
  method_name_ = path_ = "-";
  version_ = 11;
  lowest().expires_after(request_timeout_of(state_->options));
  http::async_read(stream_, buffer_, *parser_,
                   [self = this->shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
}

template <class Stream>
void HttpSession<Stream>::on_read(beast::error_code ec) {
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
    spdlog::debug("control: {} connection ended: {}", context_.peer, ec.message());
    return;
  }
  auto req = parser_->release();
  if (beast::websocket::is_upgrade(req)) return upgrade(std::move(req));
  const bool keep_alive = req.keep_alive() && !state_->stopping;
  state_->router.handle(req, context_, [self = this->shared_from_this(), keep_alive](Response response) {
    self->send(std::move(response), keep_alive);
  });
}

template <class Stream>
void HttpSession<Stream>::upgrade(Request&& req) {
  if (auto refused = state_->router.authorize_upgrade(req, context_)) {
    return send(std::move(*refused), false, "WebSocket refused");
  }
  spdlog::info("control: {} GET {} -> WebSocket ({})", context_.peer, path_, to_string(context_.role));
  // The connection now belongs to the WebSocket session; this one ends when the handler returns.
  std::make_shared<WebsocketSession<Stream>>(std::move(stream_), state_, context_.peer)->run(std::move(req));
}

template <class Stream>
void HttpSession<Stream>::fail_request(http::status status, std::string message) {
  auto res = error_response(status, message);
  send(std::move(res), false, message);
}

template <class Stream>
void HttpSession<Stream>::send(Response&& response, bool keep_alive, std::string_view why) {
  const auto status = status_code(response);
  const auto level = status >= 500                                      ? spdlog::level::warn
                     : status >= 400 || method_ == http::verb::post     ? spdlog::level::info
                                                                        : spdlog::level::debug;
  spdlog::log(level, "control: {} {} {} -> {}{}{}", context_.peer, method_name_, path_, status,
              why.empty() ? "" : ": ", why);
  std::visit(
      [&](auto& res) {
        res.version(version_);
        res.keep_alive(keep_alive);
        res.set(http::field::server, "onair");
        res.set("X-Content-Type-Options", "nosniff");
        res.set("Referrer-Policy", "no-referrer");
        if (kTls) res.set("Strict-Transport-Security", "max-age=31536000");
        if (method_ == http::verb::head) {
          // Same header (Content-Length included) without the body.
          write(http::response<http::empty_body>{std::move(res.base())}, keep_alive);
        } else {
          write(std::move(res), keep_alive);
        }
      },
      response);
}

template <class Stream>
template <class Body>
void HttpSession<Stream>::write(http::response<Body>&& res, bool keep_alive) {
  auto message = std::make_shared<http::response<Body>>(std::move(res));
  response_ = message;
  lowest().expires_after(request_timeout_of(state_->options));
  http::async_write(stream_, *message,
                    [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                      self->on_write(ec, keep_alive);
                    });
}

template <class Stream>
void HttpSession<Stream>::on_write(beast::error_code ec, bool keep_alive) {
  response_.reset();
  if (ec) {
    spdlog::debug("control: {} write failed: {}", context_.peer, ec.message());
    return;
  }
  if (!keep_alive) return linger_close();
  do_read();
}

template <class Stream>
void HttpSession<Stream>::linger_close() {
  lowest().expires_after(std::min<std::chrono::steady_clock::duration>(kLingerTimeout, request_timeout_of(state_->options)));
  if constexpr (kTls) {
    // close_notify, then the socket goes with the session.
    stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
  } else {
    // Half-close and read what is still in flight, so the kernel does not answer our last
    // response with a reset that could destroy it before the client reads it.
    beast::error_code ignored;
    lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
    drain();
  }
}

template <class Stream>
void HttpSession<Stream>::drain() {
  if (state_->stopping) return;
  lowest().async_read_some(boost::asio::buffer(drain_buffer_), [self = this->shared_from_this()](beast::error_code ec, size_t) {
    if (!ec) self->drain();
  });
}

template class HttpSession<PlainStream>;
template class HttpSession<TlsStream>;

}  // namespace onair::control
