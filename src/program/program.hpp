// The program pipeline: canonical raw frames in (appsrc) → tee → display branch and encode
// branch → H.264 + AAC → appsinks → SEI capture stamp + MPEG-TS (TsOutput) → uplink. It never
// stops while onair runs.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"
#include "media/gst.hpp"
#include "program/frame_tracker.hpp"
#include "program/select.hpp"
#include "program/ts_output.hpp"
#include "uplink/uplink.hpp"

namespace onair::program {

struct ProgramOptions {
  int width = 1280;
  int height = 720;
  int framerate = 30;
  bool audio = true;
  int audio_bitrate_kbps = 128;
  config::EncoderConfig encoder;
  std::string display_sink = "auto";
  std::string pipelines_dir;
  int encoder_buffer_ms = kMaxEncoderBufferMs;  // see encoder_buffer_ms(): from the uplink's latency
};

// What the program runs with under `config`: its video, audio and encoder settings, and the
// encoder's rate-control buffer from the destinations' SRT latencies.
ProgramOptions program_options(const config::Config& config, std::string display_sink, std::string pipelines_dir);

// The encoder's part of the program pipeline, as it runs at `bitrate_kbps` under `options`
// (`onair --print-encoder` shows it; the benchmarks' baselines run the same).
std::string render_program_encoder(const Choice& encoder, const ProgramOptions& options, int bitrate_kbps);

// The rate-control buffer the encoder runs with, for people: "250 ms", or "the encoder's own"
// when its fragment does not take {vbv_ms}.
std::string encoder_buffer_text(const Choice& encoder, const ProgramOptions& options);

struct ProgramCallbacks {
  // On an output streaming thread, once per access unit (the TS of one video frame or one AAC
  // frame), in stream order: must not block.
  std::function<void(uplink::TsPayload)> on_ts;
  // On the video output thread, once per video frame right after its on_ts: where that frame
  // spent its time. Must not block.
  std::function<void(const FrameTiming&)> on_frame;
  // On the main loop thread when the pipeline fails; the owner rebuilds it.
  std::function<void(const std::string& reason, bool from_display)> on_error;
};

struct ProgramStats {
  bool playing = false;
  uint64_t frames_in = 0;        // raw frames pushed into the program
  uint64_t frames_encoded = 0;   // encoded frames out of the encoder
  uint64_t frames_dropped = 0;   // dropped by the encode branch's leaky queue
  uint64_t display_dropped = 0;  // dropped by the display branch's leaky queue
  uint64_t ts_bytes = 0;
  int bitrate_kbps = 0;          // current encoder target
};

class ProgramPipeline {
 public:
  ProgramPipeline(ProgramOptions options, Choice encoder, Choice display, ProgramCallbacks callbacks);
  ~ProgramPipeline();
  ProgramPipeline(const ProgramPipeline&) = delete;
  ProgramPipeline& operator=(const ProgramPipeline&) = delete;

  // Main loop thread. Throws std::runtime_error when the pipeline cannot be built or played.
  void start();
  // Sends EOS (so the muxer and the uplink finish cleanly), waits up to timeout, then stops.
  void stop(int timeout_ms = 2000);
  bool playing() const { return playing_.load(); }

  // Any thread: hand over one canonical frame / audio buffer (by reference, no copy).
  void push_video(GstSample* sample, GstClockTime capture_clock_ns);
  void push_audio(GstSample* sample, GstClockTime capture_clock_ns);

  // Any thread. `from_next_frame`: the keyframe lands on the next frame pushed, not on one the
  // encode queue still holds (a source switch: the new source must open on a keyframe).
  void force_keyframe(bool from_next_frame = false);
  void set_bitrate_kbps(int kbps);  // main loop thread
  ProgramStats stats() const;       // any thread
  const Choice& encoder() const { return encoder_; }
  const Choice& display() const { return display_; }
  std::string description() const { return description_; }
  // The display branch's sink (name=display in every pipelines/displays fragment): its
  // last-sample feeds the panel preview. Main loop thread; empty before start().
  media::ElementPtr display_sink() const { return pipeline_ ? media::child(pipeline_.get(), "display") : nullptr; }

 private:
  struct Counters;
  std::string build_description() const;
  // A source's capture clock time as program running time (arrival time when untrustworthy).
  GstClockTime capture_running_time(GstClockTime capture_clock_ns) const;
  static gboolean on_bus_message(GstBus* bus, GstMessage* message, gpointer self);

  ProgramOptions options_;
  Choice encoder_;
  Choice display_;
  ProgramCallbacks callbacks_;
  std::string description_;
  media::ElementPtr pipeline_;
  media::ElementPtr video_src_;
  media::ElementPtr audio_src_;
  media::ElementPtr encoder_element_;
  guint bus_watch_ = 0;
  std::atomic<bool> playing_{false};
  std::atomic<GstClockTime> base_time_{GST_CLOCK_TIME_NONE};
  std::atomic<int> bitrate_kbps_{0};
  std::unique_ptr<Counters> counters_;
  std::unique_ptr<FrameTracker> tracker_;  // per-frame stage times
  std::unique_ptr<TsOutput> output_;       // SEI stamp, TS mux, hand-over to the senders
  std::atomic<GstClockTime> last_video_pts_{GST_CLOCK_TIME_NONE};
  std::atomic<GstClockTime> last_audio_end_{GST_CLOCK_TIME_NONE};
  // force_keyframe(true): the first frame at or after this PTS entering the encoder is made a
  // keyframe (by a probe on the encoder's sink pad); NONE = nothing armed.
  std::atomic<GstClockTime> keyframe_from_pts_{GST_CLOCK_TIME_NONE};
  std::atomic<bool> keyframe_probe_{false};  // on_encoder_input is attached (set in start())
  static GstPadProbeReturn on_encoder_input(GstPad* pad, GstPadProbeInfo* info, gpointer self);
};

}  // namespace onair::program
