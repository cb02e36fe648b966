#include "control/listener.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <spdlog/spdlog.h>
#include <stdexcept>

#include "control/http_session.hpp"

namespace onair::control {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Connections answered 503 beyond max_connections before we stop answering at all.
constexpr size_t kRefusalSlack = 16;
// After an accept error such as EMFILE, wait instead of spinning on the same error.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::string host_port(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

tcp::endpoint resolve(asio::io_context& ioc, const std::string& host, uint16_t port,
                      boost::system::error_code& ec) {
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) return {address, port};
  tcp::resolver resolver{ioc};
  const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec) return {};
  return *results.begin();
}

}  // namespace

Listener::Listener(asio::io_context& ioc, std::shared_ptr<ServerState> state)
    : ioc_(ioc), acceptor_(ioc), retry_timer_(ioc), state_(std::move(state)) {}

uint16_t Listener::listen(const std::string& host, uint16_t port) {
  boost::system::error_code ec;
  const auto endpoint = resolve(ioc_, host, port, ec);
  const auto fail = [&] {
    throw std::runtime_error("cannot listen on " + host_port(host, port) + ": " + ec.message());
  };
  if (ec) fail();
  acceptor_.open(endpoint.protocol(), ec);
  if (ec) fail();
  acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (ec) fail();
  acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    acceptor_.close();
    fail();
  }
  return acceptor_.local_endpoint().port();
}

void Listener::run() { do_accept(); }

void Listener::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
}

void Listener::do_accept() {
  if (state_->stopping || !acceptor_.is_open()) return;
  acceptor_.async_accept(ioc_, [self = shared_from_this()](boost::beast::error_code ec, tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void Listener::on_accept(boost::beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || state_->stopping) return;
  if (ec) {
    spdlog::warn("control: accept failed: {}", ec.message());
    retry_timer_.expires_after(kAcceptRetryDelay);
    retry_timer_.async_wait([self = shared_from_this()](boost::beast::error_code wait_ec) {
      if (!wait_ec) self->do_accept();
    });
    return;
  }
  const auto max = state_->options.max_connections;
  const auto open = state_->connection_count();
  if (open < max + kRefusalSlack) {
    // Answers and pushes are small and complete: send each at once rather than let Nagle wait.
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (state_->tls) {
      start_session(std::make_shared<HttpSession<TlsStream>>(TlsStream(std::move(socket), *state_->tls), state_), open, max);
    } else {
      start_session(std::make_shared<HttpSession<PlainStream>>(PlainStream(std::move(socket)), state_), open, max);
    }
  }  // else: the socket closes here; answering would cost more than the flood deserves
  do_accept();
}

template <class Session>
void Listener::start_session(const std::shared_ptr<Session>& session, size_t open, size_t max) {
  if (open < max) return session->run();
  spdlog::warn("control: {} connections open (max {}): refusing a new one", open, max);
  session->refuse(boost::beast::http::status::service_unavailable, "too many connections");
}

}  // namespace onair::control
