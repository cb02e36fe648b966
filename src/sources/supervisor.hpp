// Runs every configured source, restarts the ones that die, and reports each one's health
// (health.hpp) and what its input is. Lives on the main loop thread.
// Restarts: an error waits a capped backoff that doubles (reset after a healthy period); a
// sender that leaves after delivering video (a phone's EOS, or a dead link) is normal: the
// source reopens at once, so the phone's reconnect is accepted; both are counted and logged.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "media/main_loop.hpp"
#include "sources/health.hpp"
#include "sources/source.hpp"

namespace onair::sources {

struct SupervisorOptions {
  int detect_timeout_ms = 100;     // no frame (network: no byte) for this long = unhealthy
  int backoff_min_ms = 250;
  int backoff_max_ms = 5000;
  int healthy_reset_ms = 10000;    // backoff resets after running this long
  int frame_stall_ms = 500;        // see HealthOptions
  int link_timeout_ms = 1000;
  int first_frame_timeout_ms = 10000;
};

struct SourceStatus {
  Role role = Role::primary;
  std::string type;
  SourceState state = SourceState::stopped;
  std::string reason;   // why failed / not yet running; empty when running
  std::string last_failure;  // why it last failed or was restarted (stays after the restart)
  bool healthy = false;
  uint64_t restarts = 0;
  uint64_t video_frames = 0;
  double fps = 0;
  std::string input;    // input format before conversion, e.g. "1920x1080@60"
  int input_width = 0;  // before conversion (a portrait phone: 720x1280); 0 = unknown
  int input_height = 0;
  double input_fps = 0;       // from the input caps; 0 = unknown or variable
  std::string video_codec;    // "h264", "h265", "raw", ...
  std::string audio_codec;    // "aac", "opus", ...; "" = none (silence goes out)
  std::string caller;         // listener: who is connected
  int64_t last_frame_age_ms = -1;  // -1 = never
  int64_t frame_gap_max_ms = 0;    // longest wait between two frames over the last ~10 s
  int64_t input_gap_max_ms = 0;    // network: the same for the bytes under them
  int detect_timeout_ms = 0;       // this source's effective detect timeout
};

class SourceSupervisor {
 public:
  SourceSupervisor(media::MainLoop& loop, std::vector<SourceSpec> specs, SampleHandler on_video,
                   SampleHandler on_audio, SupervisorOptions options);
  ~SourceSupervisor();

  // Loop thread only.
  void start_all();
  void stop_all();
  // Recomputes health and fps at now_us (monotonic µs), restarts a dead-linked or videoless
  // source; returns one status per configured role.
  std::vector<SourceStatus> poll(int64_t now_us);
  bool configured(Role role) const;
  bool has_audio(Role role) const;

 private:
  struct Slot;
  void on_failure(Role role, uint64_t run, const SourceFailure& failure);
  void restart(Role role);
  SourceStatus poll_slot(Slot& slot, int64_t now_us);

  media::MainLoop& loop_;
  SampleHandler on_video_;
  SampleHandler on_audio_;
  SupervisorOptions options_;
  std::array<std::unique_ptr<Slot>, kRoleCount> slots_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards posted restarts
};

}  // namespace onair::sources
