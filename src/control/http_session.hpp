// One HTTP/1.1 connection: read a request (body_limit, timeouts), route it, write the answer,
// repeat while keep-alive holds. Shape of Beast's advanced_server http_session.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "control/http_types.hpp"
#include "control/server_state.hpp"

namespace onair::control {

class HttpSession : public Connection, public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<ServerState> state);
  ~HttpSession() override;

  void run();  // serve requests until the peer leaves, a timeout fires or stop() closes it
  void refuse(http::status status, std::string message);  // answer once without reading, then close
  void close() override;

 private:
  void do_read();
  void on_read(boost::beast::error_code ec);
  void fail_request(http::status status, std::string message);
  void send(Response&& response, bool keep_alive, std::string_view why = {});
  template <class Body>
  void write(http::response<Body>&& res, bool keep_alive);
  void on_write(boost::beast::error_code ec, bool keep_alive);
  void linger_close();
  void drain();

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  std::shared_ptr<ServerState> state_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;  // keeps the message alive while async_write runs
  std::string peer_;
  // The request being answered, for the response and the log line.
  unsigned version_ = 11;
  http::verb method_ = http::verb::unknown;
  std::string method_name_ = "-";
  std::string path_ = "-";
  std::array<char, 4096> drain_buffer_{};
};

}  // namespace onair::control
