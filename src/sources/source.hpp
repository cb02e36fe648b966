// One capture source (camera, network camera/phone, slate) as its own GstPipeline ending in
// appsinks with the canonical caps. A dying source errors only its own pipeline.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "config/config.hpp"
#include "media/gst.hpp"

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
// Called on the main loop thread when the pipeline fails (error, EOS, cannot start).
using FailureHandler = std::function<void(Role, const std::string& reason)>;

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
  uint64_t video_frames() const { return video_frames_.load(std::memory_order_relaxed); }
  uint64_t audio_buffers() const { return audio_buffers_.load(std::memory_order_relaxed); }
  std::string input_format() const;  // e.g. "1920x1080 NV12 60/1" as seen before conversion

 private:
  static GstFlowReturn on_new_video(GstElement* sink, gpointer self);
  static GstFlowReturn on_new_audio(GstElement* sink, gpointer self);
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer self);
  static GstPadProbeReturn on_input_caps(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  std::string build_description(std::string* redacted) const;
  void fail(const std::string& reason);

  SourceSpec spec_;
  std::string type_;
  SampleHandler on_video_;
  SampleHandler on_audio_;
  FailureHandler on_failure_;
  media::ElementPtr pipeline_;
  guint bus_watch_ = 0;
  bool has_audio_ = false;
  bool failed_ = false;
  std::string description_redacted_;
  std::atomic<int64_t> last_video_us_{0};
  std::atomic<uint64_t> video_frames_{0};
  std::atomic<uint64_t> audio_buffers_{0};
  std::atomic<int> input_width_{0}, input_height_{0}, input_fps_n_{0}, input_fps_d_{1};
};

}  // namespace onair::sources
