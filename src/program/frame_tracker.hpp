// Follows each video frame through the program pipeline by its running time: when it entered
// the program, the encoder and left the encoder; at the end (TS handed to the senders) it says
// where the frame spent its time. The encoder probes run on the encoder's streaming thread and
// the rest on the source and output threads: the ring is the only shared state, under one short
// lock (a handful of marks per frame).
#pragma once

#include <gst/gst.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>

namespace onair::program {

// Where one video frame spent its time, in seconds (negative when a stage was not seen).
struct FrameTiming {
  int64_t capture_us = 0;  // capture wall clock, µs since the Unix epoch
  double source_s = -1;    // capture → into the program (source pipeline, convert/scale, switch)
  double queue_s = -1;     // into the program → into the encoder (tee, encode queue)
  double encode_s = -1;    // into the encoder → encoded frame out
  double mux_s = -1;       // encoder out → TS handed to the senders (h264parse, stamp, TS mux)
  double pipeline_s = -1;  // capture → TS handed to the senders
};

class FrameTracker {
 public:
  // Installs the probes on the encoder's sink and src pads. The tracker must outlive the
  // pipeline's PLAYING state.
  void attach(GstElement* encoder);
  void set_base_time(GstClockTime base) { base_time_.store(base); }
  bool has_base_time() const { return base_time_.load() != 0; }  // false until the pipeline plays

  // Keys are running times (the program appsrc's PTS); encoders may shift PTS, not running time.
  // A frame was pushed into the program; `captured` is its true capture (running) time, which
  // its running time may have been moved forward from to keep timestamps going forward.
  void mark_program_in(GstClockTime running_time, GstClockTime captured);
  // The frame's TS was handed out: its timing, or nullopt when it was not tracked.
  std::optional<FrameTiming> finish(GstClockTime running_time);
  // Capture wall time (µs since the epoch) of the frame with this running time (its true
  // capture time while it is tracked).
  int64_t capture_wall_us(GstClockTime running_time);
  GstClockTime running_time_now() const;

  uint64_t frames_encoded() const { return frames_encoded_.load(std::memory_order_relaxed); }

 private:
  enum Mark { kProgramIn, kEncoderIn, kEncoderOut, kMarks };
  struct Entry {
    GstClockTime running_time = GST_CLOCK_TIME_NONE;
    GstClockTime captured = GST_CLOCK_TIME_NONE;  // running time of the capture
    std::array<GstClockTime, kMarks> at{};
  };
  static constexpr size_t kRing = 64;  // ~2 s at 30 fps: far more than the frames in flight

  void mark(GstClockTime running_time, Mark which, GstClockTime captured = GST_CLOCK_TIME_NONE);
  int64_t wall_us_of(GstClockTime captured_running_time) const;
  static GstPadProbeReturn on_encoder_in(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static GstPadProbeReturn on_encoder_out(GstPad* pad, GstPadProbeInfo* info, gpointer self);

  std::atomic<GstClockTime> base_time_{0};
  std::atomic<uint64_t> frames_encoded_{0};
  std::mutex mutex_;
  std::array<Entry, kRing> ring_{};
  size_t next_ = 0;
};

// A buffer time as running time in the segment of the pad (or sample) it travels with.
GstClockTime to_running_time(const GstSegment* segment, GstClockTime time);

}  // namespace onair::program
