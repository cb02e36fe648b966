#include "program/frame_tracker.hpp"

#include <spdlog/spdlog.h>

#include <memory>

#include "media/gst.hpp"

namespace onair::program {
namespace {

double seconds_between(GstClockTime from, GstClockTime to) {
  if (!GST_CLOCK_TIME_IS_VALID(from) || !GST_CLOCK_TIME_IS_VALID(to) || from == 0 || to == 0) return -1;
  return (static_cast<double>(to) - static_cast<double>(from)) / 1e9;
}

// Encoders may shift timestamps (x264enc adds 1000 hours and moves the segment to match):
// only the running time is comparable across the pipeline.
GstClockTime pad_running_time(GstPad* pad, GstClockTime pts) {
  std::unique_ptr<GstEvent, void (*)(GstEvent*)> event(gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0),
                                                       [](GstEvent* e) {
                                                         if (e) gst_event_unref(e);
                                                       });
  if (!event) return pts;
  const GstSegment* segment = nullptr;
  gst_event_parse_segment(event.get(), &segment);
  return to_running_time(segment, pts);
}

}  // namespace

GstClockTime to_running_time(const GstSegment* segment, GstClockTime time) {
  if (!GST_CLOCK_TIME_IS_VALID(time)) return GST_CLOCK_TIME_NONE;
  if (!segment || segment->format != GST_FORMAT_TIME) return time;
  return gst_segment_to_running_time(segment, GST_FORMAT_TIME, time);
}

void FrameTracker::attach(GstElement* encoder) {
  media::PadPtr sink(gst_element_get_static_pad(encoder, "sink"));
  media::PadPtr src(gst_element_get_static_pad(encoder, "src"));
  if (!sink || !src) {
    spdlog::error("program: encoder {} has no static sink/src pad: no encode latency figures",
                  GST_OBJECT_NAME(encoder));
    return;
  }
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, on_encoder_in, this, nullptr);
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, on_encoder_out, this, nullptr);
}

void FrameTracker::mark_program_in(GstClockTime running_time, GstClockTime captured) {
  mark(running_time, kProgramIn, captured);
}

void FrameTracker::mark(GstClockTime running_time, Mark which, GstClockTime captured) {
  if (!GST_CLOCK_TIME_IS_VALID(running_time)) return;
  const GstClockTime now = media::system_clock_now();
  std::lock_guard lock(mutex_);
  Entry* found = nullptr;
  for (auto& entry : ring_)
    if (entry.running_time == running_time) found = &entry;
  if (!found) {
    found = &ring_[next_];
    next_ = (next_ + 1) % kRing;
    *found = Entry{running_time, GST_CLOCK_TIME_NONE, {}};
  }
  found->at[which] = now;
  if (GST_CLOCK_TIME_IS_VALID(captured)) found->captured = captured;
}

std::optional<FrameTiming> FrameTracker::finish(GstClockTime running_time) {
  if (!GST_CLOCK_TIME_IS_VALID(running_time)) return std::nullopt;
  const GstClockTime now = media::system_clock_now();
  std::array<GstClockTime, kMarks> at{};
  GstClockTime captured_rt = running_time;
  {
    std::lock_guard lock(mutex_);
    Entry* found = nullptr;
    for (auto& entry : ring_)
      if (entry.running_time == running_time) found = &entry;
    if (!found) return std::nullopt;
    at = found->at;
    if (GST_CLOCK_TIME_IS_VALID(found->captured)) captured_rt = found->captured;
    found->running_time = GST_CLOCK_TIME_NONE;
  }
  const GstClockTime captured = base_time_.load() + captured_rt;
  FrameTiming t;
  t.capture_us = wall_us_of(captured_rt);
  t.source_s = seconds_between(captured, at[kProgramIn]);
  t.queue_s = seconds_between(at[kProgramIn], at[kEncoderIn]);
  t.encode_s = seconds_between(at[kEncoderIn], at[kEncoderOut]);
  t.mux_s = seconds_between(at[kEncoderOut], now);
  t.pipeline_s = seconds_between(captured, now);
  return t;
}

int64_t FrameTracker::capture_wall_us(GstClockTime running_time) {
  GstClockTime captured_rt = running_time;
  {
    std::lock_guard lock(mutex_);
    for (const auto& entry : ring_)
      if (entry.running_time == running_time && GST_CLOCK_TIME_IS_VALID(entry.captured)) captured_rt = entry.captured;
  }
  return wall_us_of(captured_rt);
}

int64_t FrameTracker::wall_us_of(GstClockTime captured_running_time) const {
  // Capture wall time = wall clock now − (clock now − the frame's capture clock time).
  const auto captured = static_cast<int64_t>(base_time_.load() + captured_running_time);
  const auto age_ns = static_cast<int64_t>(media::system_clock_now()) - captured;
  return media::wall_clock_us() - age_ns / 1000;
}

GstClockTime FrameTracker::running_time_now() const {
  const GstClockTime now = media::system_clock_now();
  const GstClockTime base = base_time_.load();
  return now > base ? now - base : 0;
}

GstPadProbeReturn FrameTracker::on_encoder_in(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  static_cast<FrameTracker*>(data)->mark(pad_running_time(pad, GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info))),
                                         kEncoderIn);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn FrameTracker::on_encoder_out(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<FrameTracker*>(data);
  self->frames_encoded_.fetch_add(1, std::memory_order_relaxed);
  self->mark(pad_running_time(pad, GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info))), kEncoderOut);
  return GST_PAD_PROBE_OK;
}

}  // namespace onair::program
