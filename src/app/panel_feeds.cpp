#include "app/panel_feeds.hpp"

#include <algorithm>
#include <cmath>

#include "metrics/metrics.hpp"

namespace onair::app {
namespace {

double round1(double v) { return std::round(v * 10) / 10; }

}  // namespace

nlohmann::json LiveSampler::sample(const StatusBoard& board) {
  const auto& media = board.media();
  nlohmann::json out = {{"bitrate_target_kbps", media.program.bitrate_kbps},
                        {"bitrate_actual_kbps", round1(board.actual_bitrate_bps() / 1000)},
                        {"fps", round1(board.program_fps())}};
  double rtt = -1;
  uint64_t sent = 0, lost = 0, retrans = 0;
  for (const auto& [name, d] : board.destinations()) {
    if (d.state == uplink::LinkState::connected) rtt = std::max(rtt, d.rtt_ms);
    sent += d.packets_sent;
    lost += d.packets_lost;
    retrans += d.packets_retransmitted;
  }
  if (rtt >= 0) out["rtt_ms"] = round1(rtt);
  // Counters restart with a reconnect: a step backwards is a new connection, not negative loss.
  if (sent > last_sent_ && lost >= last_lost_ && retrans >= last_retrans_) {
    const double packets = double(sent - last_sent_);
    out["loss_pct"] = std::round(double(lost - last_lost_) / packets * 1000) / 10;
    out["retrans_pct"] = std::round(double(retrans - last_retrans_) / packets * 1000) / 10;
  }
  last_sent_ = sent;
  last_lost_ = lost;
  last_retrans_ = retrans;
  if (auto ms = encode_latency.take_mean_ms()) out["encode_ms"] = round1(*ms);
  if (auto ms = pipeline_latency.take_mean_ms()) out["pipeline_ms"] = round1(*ms);

  const auto now = std::chrono::steady_clock::now();
  const double cpu = metrics::process_cpu_seconds();
  if (last_cpu_s_ >= 0 && now > last_at_) {
    const double wall = std::chrono::duration<double>(now - last_at_).count();
    out["cpu_pct"] = round1(std::max(0.0, cpu - last_cpu_s_) / wall * 100);
  }
  last_cpu_s_ = cpu;
  last_at_ = now;
  return out;
}

std::optional<control::BackupLink> backup_link(const config::Config& config, const std::string& box_host) {
  const auto& backup = config.sources.backup;
  if (!backup || backup->type != "srt" || backup->url.mode != config::SrtMode::listener) return std::nullopt;
  config::SrtUrl phone = backup->url;
  phone.host = box_host;
  phone.mode = config::SrtMode::caller;
  phone.passphrase.clear();
  phone.pbkeylen = 0;
  phone.peer_idle_timeout_ms.reset();
  return control::BackupLink{phone.redacted(), !backup->url.passphrase.empty(),
                             backup->label.empty() ? "backup" : backup->label};
}

}  // namespace onair::app
