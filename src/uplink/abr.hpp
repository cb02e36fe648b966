// Adaptive bitrate for the whole uplink: one BitrateController per destination that counts,
// and the policy that turns their opinions into the one bitrate the single encode uses.
// Pure logic (time passed in); in onair it lives on the io thread and is fed sender stats.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "uplink/bitrate_controller.hpp"
#include "uplink/uplink.hpp"

namespace onair::uplink {

// What the controller needs from one destination's stats.
LinkSample link_sample(const SenderStats& stats, int64_t now_ms);

class AdaptiveBitrate {
 public:
  // `destinations` in config order; the first is the primary. Policy "primary" follows only it,
  // "worst" follows whichever connected destination needs the lowest bitrate.
  // `audio_kbps`: the audio's bitrate (0 without audio); the controllers count it in what a
  // link carries, so a narrow link is not mistaken for one that fits more video.
  AdaptiveBitrate(const config::EncoderConfig& encoder, std::vector<config::Destination> destinations,
                  int audio_kbps = 0);

  struct Decision {
    std::optional<int> kbps;  // the encoder bitrate to set, when it changes
    bool keyframe = false;    // ask the encoder for a keyframe now (a link cleared after losses)
  };
  // One destination's stats.
  Decision on_stats(const SenderStats& stats, int64_t now_ms);
  // The bitrate was set by hand (API). With abr on it becomes the ceiling the controller adapts
  // under (the host capping a metered hotspot), so a clean link does not climb straight past it.
  void set_current(int kbps);
  int ceiling_kbps() const { return ceiling_kbps_; }

  bool enabled() const { return enabled_; }
  int target_kbps() const { return applied_kbps_; }
  const std::string& last_reason() const { return reason_; }
  nlohmann::json status_json() const;  // for /api/v1/status
  // The controller following `destination` (for its metrics), or null: abr off, or a
  // destination the policy does not listen to.
  const BitrateController* controller(const std::string& destination) const;

 private:
  struct Follower {
    std::string name;
    BitrateController controller;
    bool connected = false;
  };
  std::optional<int> decide();

  const bool enabled_;
  const std::string policy_;
  const int min_kbps_;
  const int max_kbps_;
  std::vector<Follower> followers_;
  int ceiling_kbps_;  // max_kbps_ unless the host lowered it through the API
  int applied_kbps_;
  std::string following_;  // the destination whose controller set the bitrate last
  std::string reason_;
};

}  // namespace onair::uplink
