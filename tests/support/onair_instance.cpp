#include "support/onair_instance.hpp"

#include <fstream>
#include <stdexcept>

#include "support/ports.hpp"

namespace onair::test {

std::string render_config(const OnairSettings& s, uint16_t http_port) {
  std::string yaml;
  yaml += "video: { width: " + std::to_string(s.width) + ", height: " + std::to_string(s.height) +
          ", framerate: " + std::to_string(s.framerate) + " }\n";
  yaml += std::string("audio: { enabled: ") + (s.audio ? "true" : "false") + ", bitrate_kbps: 96 }\n";
  yaml += "sources:\n  primary: " + s.primary + "\n";
  if (!s.backup.empty()) yaml += "  backup: " + s.backup + "\n";
  yaml += "encoder: { type: " + s.encoder_type + ", bitrate_kbps: " + std::to_string(s.bitrate_kbps) +
          ", bitrate_min_kbps: 300, keyframe_interval_s: " + std::to_string(s.keyframe_interval_s) + " }\n";
  yaml += "uplink:\n  destinations:\n" + s.destinations + "\n" + s.uplink_extra;
  yaml += "display: { sink: none }\n";
  yaml += "control: { listen: \"127.0.0.1:" + std::to_string(http_port) + "\", token: \"" + s.token + "\"" +
          (s.control_extra.empty() ? "" : ", " + s.control_extra) + " }\n";
  yaml += std::string("stream: { autostart: ") + (s.autostart ? "true" : "false") + " }\n";
  yaml += s.extra;
  return yaml;
}

OnairInstance::OnairInstance(const OnairSettings& settings) : token_(settings.token) {
  http_port_ = free_tcp_port();
  dir_ = std::filesystem::temp_directory_path() / ("onair-e2e-" + std::to_string(http_port_));
  std::filesystem::create_directories(dir_);
  const auto config = dir_ / "onair.yaml";
  std::ofstream(config) << render_config(settings, http_port_);
  ChildOptions options;
  options.log_path = dir_ / "onair.log";
  options.env = settings.env;
  options.env.emplace("ONAIR_DATA_DIR", ONAIR_SOURCE_DIR);  // unless the test brings its own
  process_ = std::make_unique<ChildProcess>(std::vector<std::string>{ONAIR_BINARY, "--config", config.string()}, options);
  const bool up = wait_until([&] {
    if (!process_->running()) return true;
    try {
      return get("/healthz").status == 200;
    } catch (const std::exception&) {
      return false;
    }
  }, 15s, 50ms);
  if (!up || !process_->running())
    throw std::runtime_error("onair did not come up on port " + std::to_string(http_port_) + "; log:\n" + process_->log_text());
}

OnairInstance::~OnairInstance() {
  process_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

HttpResponse OnairInstance::get(const std::string& target) const {
  // Reading the API needs a token too (only /healthz, /readyz and /metrics are public).
  return http_request("127.0.0.1", http_port_, "GET", target, "", {{"Authorization", "Bearer " + token_}});
}

HttpResponse OnairInstance::post(const std::string& target, const std::string& body, bool with_token) const {
  HttpHeaders headers = {{"Content-Type", "application/json"}};
  if (with_token) headers.push_back({"Authorization", "Bearer " + token_});
  return http_request("127.0.0.1", http_port_, "POST", target, body, headers);
}

nlohmann::json OnairInstance::status() const {
  const auto r = get("/api/v1/status");
  if (r.status != 200) throw std::runtime_error("status answered " + std::to_string(r.status) + ": " + r.body);
  return r.json();
}

bool OnairInstance::wait_status(const std::function<bool(const nlohmann::json&)>& pred,
                                std::chrono::milliseconds timeout, std::chrono::milliseconds poll) const {
  return wait_until([&] {
    try {
      return pred(status());
    } catch (const std::exception&) {
      return false;
    }
  }, timeout, poll);
}

nlohmann::json destination(const nlohmann::json& status, const std::string& name) {
  for (const auto& d : status.value("destinations", nlohmann::json::array()))
    if (d.value("name", "") == name) return d;
  return nlohmann::json::object();
}

}  // namespace onair::test
