// One capture source (camera, network camera/phone, slate) as its own GstPipeline ending in
// appsinks with the canonical caps. A dying source errors only its own pipeline.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "media/gst.hpp"
#include "sources/input_watch.hpp"
#include "sources/rate_limit.hpp"

namespace onair::sources {

enum class Role { primary = 0, backup = 1, slate = 2 };
constexpr int kRoleCount = 3;
const char* to_string(Role role);

struct Canonical {
  int width = 1280;
  int height = 720;
  int framerate = 30;
};

enum class SourceState {
  stopped,   // not running (waiting for a restart, or shut down)
  starting,  // pipeline playing, no frame yet (a listener waits for its caller here)
  running,   // frames arriving
  failed,    // could not start or died; see reason
};
const char* to_string(SourceState state);

// Called on the source's streaming thread with every canonical video frame or audio buffer.
// The sample is borrowed: take a ref to keep it. `capture_clock_ns` is when it was captured,
// on the shared system clock (CLOCK_MONOTONIC ns): every pipeline runs on that clock, so the
// program maps it onto its own running time without guessing.
using SampleHandler = std::function<void(Role, GstSample*, GstClockTime capture_clock_ns)>;
struct SourceFailure {
  std::string reason;
  bool ended = false;  // the input ended normally (a phone left: EOS), not an error
};
// Called on the main loop thread when the pipeline fails (error, EOS, cannot start, input
// onair will not take).
using FailureHandler = std::function<void(Role, const SourceFailure&)>;

struct SourceSpec {
  Role role = Role::primary;
  config::SourceConfig config;  // for the slate: type "slate"
  std::string slate_text;
  std::string slate_image;
  Canonical canonical;
  std::string pipelines_dir;
};

class Source {
 public:
  Source(SourceSpec spec, SampleHandler on_video, SampleHandler on_audio, FailureHandler on_failure);
  ~Source();
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  // Main loop thread only. start() builds and plays the pipeline; a failure to build or play
  // is reported through the FailureHandler (posted, never re-entrantly) and returned as false.
  bool start();
  void stop();

  Role role() const { return spec_.role; }
  const std::string& type() const { return type_; }
  bool has_audio() const { return has_audio_; }
  // The pipeline description with secrets redacted (for logs and status).
  const std::string& description() const { return description_redacted_; }

  // Any thread.
  int64_t last_video_us() const { return last_video_us_.load(std::memory_order_relaxed); }
  // The longest wait between two frames since the last call (µs), and resets it.
  int64_t take_frame_gap_max_us() { return frame_gap_max_us_.exchange(0, std::memory_order_relaxed); }
  // Network sources: bytes are seen arriving apart from frames (see health.hpp). These four
  // read the input watch, which start()/stop() replace: main loop or the source's own threads.
  bool network() const { return watch_ && watch_->network(); }
  int64_t last_input_us() const { return watch_ ? watch_->last_input_us() : 0; }
  int64_t take_input_gap_max_us() { return watch_ ? watch_->take_input_gap_max_us() : 0; }
  InputInfo input_info() const { return watch_ ? watch_->info() : InputInfo{}; }
  uint64_t video_frames() const { return video_frames_.load(std::memory_order_relaxed); }
  uint64_t audio_buffers() const { return audio_buffers_.load(std::memory_order_relaxed); }
  std::string input_format() const;  // e.g. "1920x1080@60" as seen before conversion
  int input_width() const { return input_width_.load(); }
  int input_height() const { return input_height_.load(); }
  double input_fps() const;  // from the caps; 0 = unknown or variable

 private:
  static GstFlowReturn on_new_video(GstElement* sink, gpointer self);
  static GstFlowReturn on_new_audio(GstElement* sink, gpointer self);
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer self);
  static GstPadProbeReturn on_input_caps(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  // Test sources with `stamp: true`: draws the capture time into each frame (media/frame_stamp.hpp).
  static GstPadProbeReturn on_stamp_frame(GstPad* pad, GstPadProbeInfo* info, gpointer unused);
  std::string build_description(std::string* redacted, std::vector<std::string>* accepted_video) const;
  void fail(const std::string& reason, bool ended = false);

  SourceSpec spec_;
  std::string type_;
  SampleHandler on_video_;
  SampleHandler on_audio_;
  FailureHandler on_failure_;
  media::ElementPtr pipeline_;
  guint bus_watch_ = 0;
  std::unique_ptr<InputWatch> watch_;
  std::optional<RateLimiter> limiter_;  // network sources: down to the canonical rate
  bool has_audio_ = false;
  std::atomic<bool> failed_{false};
  std::string description_redacted_;
  std::atomic<int64_t> last_video_us_{0};
  std::atomic<int64_t> frame_gap_max_us_{0};
  std::atomic<uint64_t> video_frames_{0};
  std::atomic<uint64_t> audio_buffers_{0};
  std::atomic<int> input_width_{0}, input_height_{0}, input_fps_n_{0}, input_fps_d_{1};
};

}  // namespace onair::sources
