// The failover rig for end-to-end tests and scripts/bench-failover: the real build/onair with
// a primary and a backup SRT listener, two test phones (blue primary, red portrait backup)
// pushing to them, and the uplink recorded by a real SRT listener with arrival times, so a
// test can decode what a viewer got and measure every switch at the receiver.
#pragma once

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/frame_content.hpp"
#include "support/frame_sender.hpp"
#include "support/onair_instance.hpp"
#include "support/srt_peer.hpp"
#include "support/ts_analyzer.hpp"

namespace onair::test {

struct RigOptions {
  int detect_timeout_ms = 100;
  int failback_hold_ms = 1500;
  // Cheap senders: a 320x240 encode costs a few percent of a core, so on a loaded box the
  // phones themselves rarely stall (a stalled phone is a lost phone at a 100 ms timeout).
  SenderSpec primary{.color = "blue", .width = 320, .height = 240};
  SenderSpec backup{.color = "red", .width = 240, .height = 320};  // a phone held upright
  std::string extra_yaml;
};

class FailoverRig {
 public:
  explicit FailoverRig(RigOptions options = {});
  ~FailoverRig();

  OnairInstance& onair() { return *onair_; }
  SrtReceiver& ingest() { return *ingest_; }
  FrameSender& primary() { return primary_; }
  FrameSender& backup() { return backup_; }
  uint16_t primary_port() const { return primary_port_; }
  uint16_t backup_port() const { return backup_port_; }
  const RigOptions& options() const { return options_; }

  void start_primary() { primary_.start(primary_port_); }
  void start_backup() { backup_.start(backup_port_); }

  // GET with the control token (status and events need a reader).
  nlohmann::json get(const std::string& target) const;
  nlohmann::json status() const { return get("/api/v1/status"); }
  nlohmann::json source(const std::string& role) const;  // one entry of status.sources
  std::string active() const;
  bool wait_status(const std::function<bool(const nlohmann::json&)>& pred, std::chrono::milliseconds timeout) const;
  bool wait_active(const std::string& role, std::chrono::milliseconds timeout) const;
  bool wait_healthy(const std::string& role, std::chrono::milliseconds timeout) const;
  // Source events ({"from","to","reason"}), oldest first.
  std::vector<nlohmann::json> source_events() const;

  double onair_rss_mb() const;  // resident memory of the onair process
  // What the receiver got on its first connection: frames with arrival times, and libav's report.
  std::vector<FrameSample> frames(std::string* error) const;
  TsReport report() const;

 private:
  RigOptions options_;
  uint16_t primary_port_ = 0;
  uint16_t backup_port_ = 0;
  uint16_t ingest_port_ = 0;
  std::unique_ptr<SrtReceiver> ingest_;
  std::unique_ptr<ArrivalLog> arrivals_;
  std::unique_ptr<OnairInstance> onair_;
  FrameSender primary_;
  FrameSender backup_;
};

}  // namespace onair::test
