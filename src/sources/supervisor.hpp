// Runs every configured source, restarts the ones that die with capped backoff, and reports
// each one's health from frame arrival. Lives on the main loop thread.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/main_loop.hpp"
#include "sources/source.hpp"

namespace onair::sources {

struct SupervisorOptions {
  int detect_timeout_ms = 100;     // no frame for this long = unhealthy
  int backoff_min_ms = 250;
  int backoff_max_ms = 5000;
  int healthy_reset_ms = 10000;    // backoff resets after running this long
};

struct SourceStatus {
  Role role = Role::primary;
  std::string type;
  SourceState state = SourceState::stopped;
  std::string reason;   // why failed / not yet running; empty when running
  bool healthy = false;
  uint64_t restarts = 0;
  uint64_t video_frames = 0;
  double fps = 0;
  std::string input;    // input format before conversion, e.g. "1920x1080@60"
  int64_t last_frame_age_ms = -1;  // -1 = never
};

class SourceSupervisor {
 public:
  SourceSupervisor(media::MainLoop& loop, std::vector<SourceSpec> specs, SampleHandler on_video,
                   SampleHandler on_audio, SupervisorOptions options);
  ~SourceSupervisor();

  // Loop thread only.
  void start_all();
  void stop_all();
  // Recomputes health and fps at now_us (monotonic µs); returns one status per configured role.
  std::vector<SourceStatus> poll(int64_t now_us);
  bool configured(Role role) const;
  bool has_audio(Role role) const;

 private:
  struct Slot;
  void on_failure(Role role, const std::string& reason);
  void restart(Role role);

  media::MainLoop& loop_;
  SampleHandler on_video_;
  SampleHandler on_audio_;
  SupervisorOptions options_;
  std::array<std::unique_ptr<Slot>, kRoleCount> slots_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted restarts
};

}  // namespace onair::sources
