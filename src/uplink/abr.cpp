// Destination stats → per-destination controllers → one encoder bitrate, by policy.
#include "uplink/abr.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace onair::uplink {

LinkSample link_sample(const SenderStats& stats, int64_t now_ms) {
  LinkSample sample;
  sample.now_ms = now_ms;
  sample.connected = stats.state == LinkState::connected;
  sample.connection = stats.reconnects;
  sample.rtt_ms = stats.rtt_ms;
  sample.send_buffer_ms = stats.send_buffer_ms;
  sample.send_buffer_packets = stats.send_buffer_packets;
  sample.packets_submitted = stats.packets_submitted;
  sample.packets_dropped = stats.packets_dropped;
  sample.packets_sent = stats.packets_sent;
  sample.packets_lost = stats.packets_lost;
  sample.queue_drops = stats.queue_drops;
  sample.peer_silent_ms = stats.peer_silent_ms;
  return sample;
}

AdaptiveBitrate::AdaptiveBitrate(const config::EncoderConfig& encoder, std::vector<config::Destination> destinations,
                                 int audio_kbps)
    : enabled_(encoder.abr),
      policy_(encoder.abr_policy),
      min_kbps_(encoder.bitrate_min_kbps),
      max_kbps_(encoder.bitrate_kbps),
      ceiling_kbps_(encoder.bitrate_kbps),
      applied_kbps_(encoder.bitrate_kbps) {
  // "primary" listens to the first destination only; the others take what they get.
  if (policy_ == "primary" && destinations.size() > 1) destinations.resize(1);
  // Besides the video: the audio in its own small TS and SRT packets (~15% headers) and the
  // tables and clock references (~10 kbps; without audio they hide in the video's overhead).
  const int fixed_kbps = audio_kbps > 0 ? int(audio_kbps * 1.15) + 10 : 0;
  for (const auto& d : destinations)
    followers_.push_back({d.name, BitrateController(min_kbps_, max_kbps_, d.url.latency_ms, fixed_kbps)});
}

AdaptiveBitrate::Decision AdaptiveBitrate::on_stats(const SenderStats& stats, int64_t now_ms) {
  if (!enabled_) return {};
  auto it = std::find_if(followers_.begin(), followers_.end(), [&](const Follower& f) { return f.name == stats.name; });
  if (it == followers_.end()) return {};
  const BitrateDecision decision = it->controller.update(link_sample(stats, now_ms));
  it->connected = stats.state == LinkState::connected;
  if (decision.changed) {
    following_ = it->name;
    reason_ = it->name + ": " + decision.reason;
  }
  return {decide(), decision.keyframe};
}

std::optional<int> AdaptiveBitrate::decide() {
  // Disconnected destinations have no say; with none connected the bitrate stays.
  int chosen = -1;
  for (const Follower& f : followers_)
    if (f.connected) chosen = chosen < 0 ? f.controller.target_kbps() : std::min(chosen, f.controller.target_kbps());
  if (chosen < 0) return std::nullopt;
  chosen = std::min(chosen, ceiling_kbps_);
  // Every controller adapts from the rate the encoder really produces (never above the cap).
  for (Follower& f : followers_)
    if (f.controller.target_kbps() > chosen) f.controller.follow(chosen);
  if (chosen == applied_kbps_) return std::nullopt;
  applied_kbps_ = chosen;
  spdlog::info("abr: encoder bitrate {} kbps ({})", chosen, reason_);
  return chosen;
}

void AdaptiveBitrate::set_current(int kbps) {
  ceiling_kbps_ = std::clamp(kbps, min_kbps_, max_kbps_);
  applied_kbps_ = ceiling_kbps_;
  for (Follower& f : followers_) f.controller.follow(applied_kbps_);
  reason_ = "ceiling set through the API";
}

const BitrateController* AdaptiveBitrate::controller(const std::string& destination) const {
  if (!enabled_) return nullptr;
  for (const Follower& f : followers_)
    if (f.name == destination) return &f.controller;
  return nullptr;
}

nlohmann::json AdaptiveBitrate::status_json() const {
  nlohmann::json destinations = nlohmann::json::array();
  for (const Follower& f : followers_) {
    const BitrateController& c = f.controller;
    destinations.push_back({{"name", f.name}, {"target_kbps", c.target_kbps()}, {"phase", to_string(c.phase())},
                            {"capacity_kbps", c.capacity_kbps()}, {"decreases", c.decreases()},
                            {"increases", c.increases()}, {"reason", c.last_reason()}});
  }
  return {{"enabled", enabled_}, {"policy", policy_}, {"target_kbps", applied_kbps_},
          {"min_kbps", min_kbps_}, {"max_kbps", max_kbps_},
          {"ceiling_kbps", ceiling_kbps_}, {"following", following_},
          {"reason", reason_}, {"destinations", destinations}};
}

}  // namespace onair::uplink
