// The control plane: Boost.Beast HTTP(S) + WebSocket server for health, metrics, the REST API,
// the live push to the panel, and the panel itself. Runs on the caller's io_context, which must
// be run by ONE thread; every hook is called on that thread (except where a hook says so).
// start() before run() (or on that thread); stop() from any thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

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

// Where the backup phone sends its stream (a caller URL to this box), never with a passphrase.
struct BackupLink {
  std::string url;
  bool passphrase_required = false;  // the phone needs the passphrase from the config too
  std::string label;
};

// Answers a preview request: a JPEG, or nullopt and why not. May be called from any thread, once.
using PreviewDone = std::function<void(std::optional<std::string> jpeg, std::string error)>;

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
  // Chart figures for /api/v1/live, called once per push (rates over the time since the last call).
  std::function<nlohmann::json()> live_sample;
  // GET /api/v1/preview.jpg: the program picture, taken only when asked.
  std::function<void(PreviewDone)> preview;
  // GET /api/v1/backup[/qr.svg]: the phone's URL given the box's address the client reached;
  // nullopt when no SRT listener backup is configured.
  std::function<std::optional<BackupLink>(const std::string& box_host)> backup_link;
};

struct ServerOptions {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;          // 0 = pick a free port (see ControlServer::port())
  std::string token;             // control token; empty = mutating calls refused
  std::string read_token;        // optional read-only token
  bool public_health = true;     // /healthz, /readyz, /metrics without a token
  std::string web_root;          // static panel files served at /
  std::string openapi_file;      // served at /api/v1/openapi.yaml
  std::string tls_cert;          // PEM; both set = HTTPS and WSS only
  std::string tls_key;
  size_t body_limit = 64 * 1024;
  int request_timeout_s = 10;
  size_t max_connections = 256;
  // /api/v1/live: push period; a viewer that answers no ping for idle_timeout, has max_queue
  // messages waiting or one write stuck for write_timeout is dropped.
  int live_interval_ms = 250;
  int live_idle_timeout_s = 10;
  size_t live_max_queue = 16;
  int live_write_timeout_ms = 5000;
  int login_max_failures = 10;   // per client address per login_window_s, then 429
  int login_window_s = 60;
  int session_ttl_s = 12 * 3600;
};

struct RouteInfo {
  std::string method;  // "GET", "POST"
  std::string path;
  std::string access;  // open | health | read | control
};

struct LiveStats {
  size_t clients = 0;        // WebSocket viewers connected now
  uint64_t dropped = 0;      // viewers dropped as too slow or stalled
  uint64_t pushes = 0;       // push rounds so far
};

class ControlServer {
 public:
  // Throws std::runtime_error when the TLS files cannot be loaded.
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

  std::vector<RouteInfo> routes() const;  // every route answered, the WebSocket and "/" included
  LiveStats live_stats() const;           // any thread

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace onair::control
