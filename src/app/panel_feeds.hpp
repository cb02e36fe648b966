// What the panel shows beyond the status document: the chart sample pushed with every live
// update (rates over the time since the last one), and the backup phone's link.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "app/status_board.hpp"
#include "config/config.hpp"
#include "control/control.hpp"

namespace onair::app {

// A mean fed from media threads and taken (and reset) by the control thread.
class LatencyMeter {
 public:
  void add(double seconds) {
    sum_us_.fetch_add(static_cast<uint64_t>(std::max(0.0, seconds) * 1e6), std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
  }
  // Milliseconds since the last take; nullopt when nothing was added.
  std::optional<double> take_mean_ms() {
    const auto n = count_.exchange(0, std::memory_order_relaxed);
    const auto sum = sum_us_.exchange(0, std::memory_order_relaxed);
    if (n == 0) return std::nullopt;
    return double(sum) / double(n) / 1000.0;
  }

 private:
  std::atomic<uint64_t> sum_us_{0};
  std::atomic<uint64_t> count_{0};
};

// Control thread: one call per live push.
class LiveSampler {
 public:
  LatencyMeter encode_latency;    // frame into the encoder → encoded frame out
  LatencyMeter pipeline_latency;  // capture → TS handed to the senders

  // bitrate_target_kbps, bitrate_actual_kbps, fps, rtt_ms, loss_pct, retrans_pct, encode_ms,
  // pipeline_ms, cpu_pct; a figure with nothing behind it (no link, no frames) is left out.
  nlohmann::json sample(const StatusBoard& board);

 private:
  std::chrono::steady_clock::time_point last_at_{};
  double last_cpu_s_ = -1;
  uint64_t last_sent_ = 0, last_lost_ = 0, last_retrans_ = 0;
};

// The URL a phone pushes the backup stream to (a caller to `box_host`), when the backup source
// is an SRT listener. Never carries the passphrase: the host types it from the config.
std::optional<control::BackupLink> backup_link(const config::Config& config, const std::string& box_host);

}  // namespace onair::app
