// Accepts TCP connections and hands each to an HttpSession (plain or TLS), enforcing max_connections.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "control/server_state.hpp"

namespace onair::control {

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(boost::asio::io_context& ioc, std::shared_ptr<ServerState> state);

  // Binds and listens; returns the bound port. Throws std::runtime_error
  // "cannot listen on HOST:PORT: <OS error>".
  uint16_t listen(const std::string& host, uint16_t port);
  void run();   // start accepting
  void stop();  // close the acceptor; pending accepts end with operation_aborted

 private:
  void do_accept();
  void on_accept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);
  template <class Session>
  void start_session(const std::shared_ptr<Session>& session, size_t open, size_t max);

  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::shared_ptr<ServerState> state_;
};

}  // namespace onair::control
