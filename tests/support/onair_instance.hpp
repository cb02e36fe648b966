// The real build/onair, started as a child process with a generated config, for end-to-end
// tests: a loopback HTTP port of its own, helpers to talk to its API and wait on its status.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "support/http_client.hpp"
#include "support/process.hpp"

namespace onair::test {

struct OnairSettings {
  int width = 640;
  int height = 360;
  int framerate = 30;
  int bitrate_kbps = 1500;
  double keyframe_interval_s = 1;
  std::string encoder_type = "x264";
  std::string primary = "{ type: test }";  // YAML flow mapping for sources.primary
  std::string backup;                      // empty = none
  std::string destinations;                // YAML list items, e.g. "- { name: ingest, url: \"srt://...\" }"
  std::string uplink_extra;                // more keys inside uplink:, e.g. "  queue_ms: 500\n"
  bool autostart = true;
  bool audio = true;
  std::string extra;                       // more top-level YAML
  std::string token = "test-token-0123456789";
  std::string control_extra;               // more keys inside control: { ... }, e.g. "read_token: x"
  std::map<std::string, std::string> env;  // extra environment for the process
};

std::string render_config(const OnairSettings& settings, uint16_t http_port);

class OnairInstance {
 public:
  explicit OnairInstance(const OnairSettings& settings);
  ~OnairInstance();

  uint16_t http_port() const { return http_port_; }
  ChildProcess& process() { return *process_; }
  const std::string& token() const { return token_; }
  std::string log() const { return process_->log_text(); }

  HttpResponse get(const std::string& target) const;  // with the control token
  HttpResponse post(const std::string& target, const std::string& body = "", bool with_token = true) const;
  nlohmann::json status() const;  // GET /api/v1/status; throws when it is not 200 JSON
  // Polls the status until pred(status) holds; false after timeout (status errors count as false).
  bool wait_status(const std::function<bool(const nlohmann::json&)>& pred, std::chrono::milliseconds timeout,
                   std::chrono::milliseconds poll = std::chrono::milliseconds(50)) const;

 private:
  std::filesystem::path dir_;
  uint16_t http_port_ = 0;
  std::string token_;
  std::unique_ptr<ChildProcess> process_;
};

// The first destination's entry in a status document (empty object when absent).
nlohmann::json destination(const nlohmann::json& status, const std::string& name = "ingest");

}  // namespace onair::test
