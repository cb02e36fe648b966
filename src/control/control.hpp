// The control plane: Boost.Beast HTTP server for health, metrics, the REST API and the panel.
// Runs on the caller's io_context, which must be run by ONE thread; every hook is called on that
// thread. start() before run() (or on that thread); stop() from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

namespace onair::control {

struct Readiness {
  bool ready = false;
  std::string reason;  // why not ready, e.g. "no destination connected"
};

// What a hook that changes something returns: HTTP status + JSON body.
struct ActionResult {
  int status = 200;
  nlohmann::json body;
};

struct Hooks {
  std::function<nlohmann::json()> status;                    // GET /api/v1/status
  std::function<std::string()> metrics;                      // GET /metrics (Prometheus text)
  std::function<Readiness()> readiness;                      // GET /readyz
  std::function<ActionResult()> stream_start;                // POST /api/v1/stream/start
  std::function<ActionResult()> stream_stop;                 // POST /api/v1/stream/stop
  std::function<ActionResult(const std::string&)> select_source;  // POST /api/v1/source
  std::function<nlohmann::json()> events;                    // GET /api/v1/events
  // POST /api/v1/encoder {"bitrate_kbps": N}: the encoder's target, changed while live.
  std::function<ActionResult(int64_t)> set_bitrate;
};

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;          // 0 = pick a free port (see ControlServer::port())
  std::string token;             // Bearer token for mutating calls; empty = mutating calls refused
  std::string web_root;          // static panel files served at /
  size_t body_limit = 64 * 1024;
  int request_timeout_s = 10;
  size_t max_connections = 256;
};

class ControlServer {
 public:
  ControlServer(boost::asio::io_context& ioc, ServerOptions options, Hooks hooks);
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Binds and starts accepting. Throws std::runtime_error with the address and the OS error
  // ("cannot listen on 0.0.0.0:8080: Address already in use").
  void start();
  // Closes the acceptor and every open connection, so run() returns once nothing else is pending.
  // Safe from any thread: the work is dispatched to the io_context. Idempotent and final.
  void stop();
  uint16_t port() const;  // the bound port (after start)

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace onair::control
