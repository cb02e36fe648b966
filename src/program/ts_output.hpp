// The end of the program pipeline: encoded video and AAC from their appsinks → onair's SEI
// capture stamp → MPEG-TS (TsMuxer) → one payload per access unit, handed to the senders at
// once. Both appsinks call in on their own streaming threads; one lock keeps the TS in order.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <mutex>

#include "program/frame_tracker.hpp"
#include "program/ts_muxer.hpp"
#include "uplink/uplink.hpp"

namespace onair::program {

class TsOutput {
 public:
  using PayloadHandler = std::function<void(uplink::TsPayload)>;
  using TimingHandler = std::function<void(const FrameTiming&)>;

  TsOutput(bool audio, FrameTracker& tracker, PayloadHandler on_ts, TimingHandler on_frame);
  // Takes over the appsinks' callbacks (audio_sink may be null). Call before PLAYING.
  void connect(GstElement* video_sink, GstElement* audio_sink);

  uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  uint64_t frames_stamped() const { return stamped_.load(std::memory_order_relaxed); }

 private:
  static GstFlowReturn on_video(GstElement* sink, gpointer self);
  static GstFlowReturn on_audio(GstElement* sink, gpointer self);
  void video(GstSample* sample);
  void audio(GstSample* sample);
  void hand_out(std::shared_ptr<std::vector<uint8_t>> ts, bool keyframe, int64_t capture_us);

  FrameTracker& tracker_;
  PayloadHandler on_ts_;
  TimingHandler on_frame_;
  std::mutex mutex_;  // the muxer's state and the order payloads leave in
  TsMuxer muxer_;
  std::atomic<uint64_t> bytes_{0};
  std::atomic<uint64_t> stamped_{0};
};

}  // namespace onair::program
