// What every connection of one ControlServer shares. Touched only on the io_context's thread.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <memory>
#include <unordered_map>

#include "control/control.hpp"
#include "control/live_hub.hpp"
#include "control/router.hpp"

namespace onair::control {

// Anything stop() must be able to end: HTTP and WebSocket sessions.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void close() = 0;  // cancel pending I/O; the connection then winds down on its own
};

class ServerState {
 public:
  ServerState(ServerOptions options, Router router, std::shared_ptr<LiveHub> live,
              std::unique_ptr<boost::asio::ssl::context> tls)
      : options(std::move(options)), router(std::move(router)), live(std::move(live)), tls(std::move(tls)) {}

  const ServerOptions options;
  Router router;
  const std::shared_ptr<LiveHub> live;
  const std::unique_ptr<boost::asio::ssl::context> tls;  // null = plain HTTP
  bool stopping = false;

  void add(const std::shared_ptr<Connection>& connection) { connections_[connection.get()] = connection; }
  void remove(const Connection* connection) { connections_.erase(connection); }
  size_t connection_count() const { return connections_.size(); }

  void close_all() {
    // Copy first: closing never re-enters add/remove synchronously, but stay safe if it ever does.
    const auto connections = connections_;
    for (const auto& [raw, weak] : connections) {
      if (auto connection = weak.lock()) connection->close();
    }
  }

 private:
  std::unordered_map<const Connection*, std::weak_ptr<Connection>> connections_;
};

}  // namespace onair::control
