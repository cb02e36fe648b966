#include "program/ts_output.hpp"

#include <gst/app/gstappsink.h>

#include "media/gst.hpp"
#include "program/sei.hpp"

namespace onair::program {
namespace {

// Running time (ns) → the 90 kHz MPEG clock, one second in so the PCR (125 ms behind) is positive.
int64_t to_90k(GstClockTime running_time) {
  return static_cast<int64_t>(gst_util_uint64_scale(running_time, TsMuxer::kClock, GST_SECOND)) + TsMuxer::kClock;
}

// The bytes of a buffer, mapped for reading for as long as this object lives.
class MappedBuffer {
 public:
  explicit MappedBuffer(GstBuffer* buffer) : buffer_(buffer) {
    ok_ = buffer && gst_buffer_map(buffer, &map_, GST_MAP_READ);
  }
  ~MappedBuffer() {
    if (ok_) gst_buffer_unmap(buffer_, &map_);
  }
  MappedBuffer(const MappedBuffer&) = delete;
  MappedBuffer& operator=(const MappedBuffer&) = delete;
  bool ok() const { return ok_; }
  const uint8_t* data() const { return map_.data; }
  size_t size() const { return map_.size; }

 private:
  GstBuffer* buffer_;
  GstMapInfo map_{};
  bool ok_ = false;
};

}  // namespace

TsOutput::TsOutput(bool audio, FrameTracker& tracker, PayloadHandler on_ts, TimingHandler on_frame)
    : tracker_(tracker), on_ts_(std::move(on_ts)), on_frame_(std::move(on_frame)), muxer_(audio) {}

void TsOutput::connect(GstElement* video_sink, GstElement* audio_sink) {
  GstAppSinkCallbacks video_callbacks{};
  video_callbacks.new_sample = [](GstAppSink* s, gpointer self) { return on_video(GST_ELEMENT(s), self); };
  gst_app_sink_set_callbacks(GST_APP_SINK(video_sink), &video_callbacks, this, nullptr);
  if (!audio_sink) return;
  GstAppSinkCallbacks audio_callbacks{};
  audio_callbacks.new_sample = [](GstAppSink* s, gpointer self) { return on_audio(GST_ELEMENT(s), self); };
  gst_app_sink_set_callbacks(GST_APP_SINK(audio_sink), &audio_callbacks, this, nullptr);
}

GstFlowReturn TsOutput::on_video(GstElement* sink, gpointer self) {
  media::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) return GST_FLOW_EOS;
  static_cast<TsOutput*>(self)->video(sample.get());
  return GST_FLOW_OK;
}

GstFlowReturn TsOutput::on_audio(GstElement* sink, gpointer self) {
  media::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) return GST_FLOW_EOS;
  static_cast<TsOutput*>(self)->audio(sample.get());
  return GST_FLOW_OK;
}

void TsOutput::video(GstSample* sample) {
  if (!tracker_.has_base_time()) return;  // no clock mapping yet: PCR and stamps would be wrong
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  MappedBuffer au(buffer);
  if (!au.ok() || au.size() == 0) return;
  const GstSegment* segment = gst_sample_get_segment(sample);
  const GstClockTime pts = to_running_time(segment, GST_BUFFER_PTS(buffer));
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  const GstClockTime dts = to_running_time(segment, GST_BUFFER_DTS(buffer));
  const bool keyframe = !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  const int64_t capture_us = tracker_.capture_wall_us(pts);
  const auto stamped = sei::stamped_access_unit(au.data(), au.size(), capture_us);
  if (stamped.size() > au.size()) stamped_.fetch_add(1, std::memory_order_relaxed);
  auto ts = std::make_shared<std::vector<uint8_t>>();
  ts->reserve(stamped.size() + stamped.size() / 8 + 3 * 188);
  {
    std::lock_guard lock(mutex_);
    muxer_.video(*ts, stamped.data(), stamped.size(), to_90k(pts), GST_CLOCK_TIME_IS_VALID(dts) ? to_90k(dts) : -1,
                 to_90k(tracker_.running_time_now()), keyframe);
    hand_out(std::move(ts), keyframe, capture_us);
  }
  if (auto timing = tracker_.finish(pts); timing && on_frame_) on_frame_(*timing);
}

void TsOutput::audio(GstSample* sample) {
  if (!tracker_.has_base_time()) return;
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  MappedBuffer adts(buffer);
  if (!adts.ok() || adts.size() == 0) return;
  const GstClockTime pts = to_running_time(gst_sample_get_segment(sample), GST_BUFFER_PTS(buffer));
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  auto ts = std::make_shared<std::vector<uint8_t>>();
  ts->reserve(4 * 188);
  std::lock_guard lock(mutex_);
  muxer_.audio(*ts, adts.data(), adts.size(), to_90k(pts), to_90k(tracker_.running_time_now()));
  hand_out(std::move(ts), false, tracker_.capture_wall_us(pts));
}

void TsOutput::hand_out(std::shared_ptr<std::vector<uint8_t>> ts, bool keyframe, int64_t capture_us) {
  if (ts->empty()) return;
  bytes_.fetch_add(ts->size(), std::memory_order_relaxed);
  uplink::TsPayload payload;
  payload.data = ts->data();
  payload.size = ts->size();
  payload.keyframe = keyframe;
  payload.capture_time_us = capture_us;
  payload.owner = std::move(ts);
  if (on_ts_) on_ts_(std::move(payload));
}

}  // namespace onair::program
