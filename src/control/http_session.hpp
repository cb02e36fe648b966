// One HTTP/1.1 connection, plain or TLS: read a request (body_limit, timeouts), route it, write
// the answer, repeat while keep-alive holds; hand a WebSocket upgrade at /api/v1/live over to a
// WebsocketSession. Shape of Beast's advanced_server_flex http_session.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control/http_types.hpp"
#include "control/server_state.hpp"

namespace onair::control {

using PlainStream = boost::beast::tcp_stream;
using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

template <class Stream>
class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  HttpSession(Stream&& stream, std::shared_ptr<ServerState> state);
  ~HttpSession() override;

  void run();  // serve requests until the peer leaves, a timeout fires or stop() closes it
  void refuse(http::status status, std::string message);  // answer once without reading, then close
  void close() override;

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  void handshake_then(void (HttpSession::*next)());
  void do_read();
  void on_read(boost::beast::error_code ec);
  void upgrade(Request&& req);
  void send_refusal();
  void fail_request(http::status status, std::string message);
  void send(Response&& response, bool keep_alive, std::string_view why = {});
  template <class Body>
  void write(http::response<Body>&& res, bool keep_alive);
  void on_write(boost::beast::error_code ec, bool keep_alive);
  void linger_close();
  void drain();
  boost::beast::tcp_stream& lowest() { return boost::beast::get_lowest_layer(stream_); }

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerState> state_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;  // keeps the message alive while async_write runs
  RequestContext context_;
  std::string refusal_;
  http::status refusal_status_ = http::status::service_unavailable;
  // The request being answered, for the response and the log line.
  unsigned version_ = 11;
  http::verb method_ = http::verb::unknown;
  std::string method_name_ = "-";
  std::string path_ = "-";
  std::array<char, 4096> drain_buffer_{};
};

extern template class HttpSession<PlainStream>;
extern template class HttpSession<TlsStream>;

// "address:port" of the peer ("[v6]:port"), and the bare addresses of both ends.
RequestContext context_of(const boost::asio::ip::tcp::socket& socket, bool tls);

}  // namespace onair::control
