#include "support/frame_rig.hpp"

#include <csignal>
#include <fstream>
#include <stdexcept>

#include "support/ports.hpp"

namespace onair::test {
namespace {

std::string srt_source(uint16_t port) {
  return "{ type: srt, url: \"srt://127.0.0.1:" + std::to_string(port) + "?mode=listener&latency=120\" }";
}

}  // namespace

FailoverRig::FailoverRig(RigOptions options)
    : options_(std::move(options)), primary_(options_.primary), backup_(options_.backup) {
  primary_port_ = free_udp_port();
  backup_port_ = free_udp_port();
  ingest_port_ = free_udp_port();
  ingest_ = std::make_unique<SrtReceiver>(SrtReceiverOptions{.mode = SrtReceiverOptions::Mode::listener, .port = ingest_port_});
  // The receiver's byte count, sampled every millisecond: when each frame arrived.
  arrivals_ = std::make_unique<ArrivalLog>([r = ingest_.get()] { return r->byte_count(); });
  OnairSettings settings;
  settings.primary = srt_source(primary_port_);
  settings.backup = srt_source(backup_port_);
  settings.destinations =
      "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(ingest_port_) + "?mode=caller&latency=120\" }";
  settings.extra = "failover: { detect_timeout_ms: " + std::to_string(options_.detect_timeout_ms) +
                   ", failback_hold_ms: " + std::to_string(options_.failback_hold_ms) + " }\n" + options_.extra_yaml;
  onair_ = std::make_unique<OnairInstance>(settings);
}

FailoverRig::~FailoverRig() {
  primary_.stop(SIGTERM);
  backup_.stop(SIGTERM);
  onair_.reset();
  arrivals_.reset();
  ingest_.reset();
}

nlohmann::json FailoverRig::get(const std::string& target) const {
  const auto r = onair_->get(target);
  if (r.status != 200) throw std::runtime_error(target + " answered " + std::to_string(r.status) + ": " + r.body);
  return r.json();
}

nlohmann::json FailoverRig::source(const std::string& role) const {
  const nlohmann::json st = status();  // kept: a range-for over a temporary's member dangles
  for (const auto& s : st.at("sources"))
    if (s.value("role", "") == role) return s;
  return nlohmann::json::object();
}

std::string FailoverRig::active() const { return status().value("active_source", ""); }

bool FailoverRig::wait_status(const std::function<bool(const nlohmann::json&)>& pred,
                              std::chrono::milliseconds timeout) const {
  return onair_->wait_status(pred, timeout, 20ms);  // 20 ms: switches are timed in frames
}

bool FailoverRig::wait_active(const std::string& role, std::chrono::milliseconds timeout) const {
  return wait_status([&](const nlohmann::json& s) { return s.value("active_source", "") == role; }, timeout);
}

bool FailoverRig::wait_healthy(const std::string& role, std::chrono::milliseconds timeout) const {
  return wait_status([&](const nlohmann::json& s) {
    for (const auto& src : s.at("sources"))
      if (src.value("role", "") == role) return src.value("healthy", false);
    return false;
  }, timeout);
}

std::vector<nlohmann::json> FailoverRig::source_events() const {
  std::vector<nlohmann::json> out;
  const nlohmann::json events = get("/api/v1/events");
  for (const auto& e : events.at("events"))
    if (e.value("kind", "") == "source" && !e.value("from", "").empty()) out.insert(out.begin(), e);
  return out;
}

double FailoverRig::onair_rss_mb() const {
  std::ifstream status("/proc/" + std::to_string(onair_->process().pid()) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  return 0;
}

std::vector<FrameSample> FailoverRig::frames(std::string* error) const {
  return decode_frame_samples(ingest_->connection_bytes(0), error,
                              [this](std::size_t offset) { return arrivals_->arrival_us(offset); });
}

TsReport FailoverRig::report() const { return analyze_ts(ingest_->connection_bytes(0)); }

}  // namespace onair::test
