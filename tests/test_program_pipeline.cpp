// The real program pipeline (x264, AAC, mpegtsmux, no display) fed by a real live test source:
// every frame leaves with onair's SEI capture stamp, and its stage times add up.
#include <doctest/doctest.h>
#include <gst/app/gstappsink.h>

#include <mutex>

#include "media/gst.hpp"
#include "program/program.hpp"
#include "program/sei.hpp"
#include "support/process.hpp"
#include "support/ts_analyzer.hpp"

using namespace onair;
using namespace onair::test;

namespace {

const std::string kPipelines = std::string(ONAIR_SOURCE_DIR) + "/pipelines";

// A live videotestsrc + audiotestsrc pushing canonical buffers into the program, stamped with
// their capture clock time as onair's sources do.
class LiveSource {
 public:
  explicit LiveSource(program::ProgramPipeline& program) : program_(program) {
    pipeline_ = media::parse_pipeline(
        "videotestsrc is-live=true pattern=ball ! video/x-raw,format=I420,width=320,height=240,framerate=30/1,"
        "pixel-aspect-ratio=1/1 ! appsink name=video sync=false max-buffers=2 drop=true "
        "audiotestsrc is-live=true samplesperbuffer=480 ! audio/x-raw,format=S16LE,rate=48000,channels=2,"
        "layout=interleaved ! appsink name=audio sync=false max-buffers=16 drop=true",
        "test source");
    media::use_system_clock(pipeline_.get());
    connect("video", true);
    connect("audio", false);
    gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
  }
  ~LiveSource() { gst_element_set_state(pipeline_.get(), GST_STATE_NULL); }

 private:
  void connect(const char* name, bool video) {
    GstAppSinkCallbacks callbacks{};
    callbacks.new_sample = video ? &LiveSource::on_video : &LiveSource::on_audio;
    gst_app_sink_set_callbacks(GST_APP_SINK(media::child(pipeline_.get(), name).get()), &callbacks, this, nullptr);
  }
  static GstClockTime capture_time(GstAppSink* sink, GstSample* sample) {
    return gst_element_get_base_time(GST_ELEMENT(sink)) + GST_BUFFER_PTS(gst_sample_get_buffer(sample));
  }
  static GstFlowReturn on_video(GstAppSink* sink, gpointer self) {
    media::SamplePtr sample(gst_app_sink_pull_sample(sink));
    if (sample) static_cast<LiveSource*>(self)->program_.push_video(sample.get(), capture_time(sink, sample.get()));
    return GST_FLOW_OK;
  }
  static GstFlowReturn on_audio(GstAppSink* sink, gpointer self) {
    media::SamplePtr sample(gst_app_sink_pull_sample(sink));
    if (sample) static_cast<LiveSource*>(self)->program_.push_audio(sample.get(), capture_time(sink, sample.get()));
    return GST_FLOW_OK;
  }

  program::ProgramPipeline& program_;
  media::ElementPtr pipeline_;
};

// What the program handed out, collected from the muxer's thread.
struct Output {
  std::mutex mutex;
  std::vector<uint8_t> ts;
  std::vector<program::FrameTiming> frames;
  std::vector<int64_t> payload_received_us;
  size_t size() {
    std::lock_guard lock(mutex);
    return frames.size();
  }
};

program::ProgramPipeline make_program(Output& out) {
  program::ProgramOptions options;
  options.width = 320;
  options.height = 240;
  options.encoder.bitrate_kbps = 800;
  options.encoder.keyframe_interval_s = 1;
  options.pipelines_dir = kPipelines;
  const program::ProbeFormat format{320, 240, 30};
  program::ProgramCallbacks callbacks;
  callbacks.on_ts = [&out](uplink::TsPayload p) {
    std::lock_guard lock(out.mutex);
    out.ts.insert(out.ts.end(), p.data, p.data + p.size);
  };
  callbacks.on_frame = [&out](const program::FrameTiming& t) {
    std::lock_guard lock(out.mutex);
    out.frames.push_back(t);
    out.payload_received_us.push_back(media::wall_clock_us());
  };
  return program::ProgramPipeline(options, program::choose_encoder(kPipelines, "x264", format),
                                  program::choose_display(kPipelines, "none"), callbacks);
}

}  // namespace

TEST_CASE("every encoded frame carries exactly one onair SEI stamp: its capture time, in order") {
  media::init_gstreamer();
  Output out;
  auto program = make_program(out);
  program.start();
  {
    LiveSource source(program);
    REQUIRE(wait_until([&] { return out.size() >= 60; }, 20s));
  }
  program.stop(2000);
  std::lock_guard lock(out.mutex);
  const TsReport r = analyze_ts(out.ts);
  INFO(r.summary());
  REQUIRE(r.video_frames >= 50);
  CHECK(r.total_errors() == 0);
  int64_t previous = 0;
  size_t stamped = 0;
  for (const auto& frame : r.frames) {
    std::vector<int64_t> stamps;
    for (const auto& payload : frame.sei_unregistered)
      if (auto us = program::sei::parse_stamp(payload.data(), payload.size())) stamps.push_back(*us);
    CAPTURE(frame.pts_s);
    REQUIRE(stamps.size() == 1);
    ++stamped;
    // 30 fps: consecutive stamps are about 33 ms apart and never go back.
    if (previous) CHECK(stamps[0] - previous == doctest::Approx(33'333).epsilon(0.5));
    previous = stamps[0];
  }
  CHECK(stamped == r.video_frames);
  // The timings reported at the muxer carry the same stamps; each was captured before it left.
  REQUIRE(!out.frames.empty());
  for (size_t i = 0; i < out.frames.size(); ++i) {
    CHECK(out.frames[i].capture_us < out.payload_received_us[i]);
    CHECK(out.payload_received_us[i] - out.frames[i].capture_us < 2'000'000);
  }
}

TEST_CASE("frame timings: every stage seen, none negative, and they add up to the pipeline latency") {
  media::init_gstreamer();
  Output out;
  auto program = make_program(out);
  program.start();
  {
    LiveSource source(program);
    REQUIRE(wait_until([&] { return out.size() >= 45; }, 20s));
  }
  const auto stats = program.stats();
  program.stop(0);
  std::lock_guard lock(out.mutex);
  CHECK(stats.frames_encoded >= out.frames.size());
  for (const auto& t : out.frames) {
    CAPTURE(t.source_s);
    CAPTURE(t.queue_s);
    CAPTURE(t.encode_s);
    CAPTURE(t.mux_s);
    for (double stage : {t.source_s, t.queue_s, t.encode_s, t.mux_s}) CHECK(stage >= 0);
    CHECK(t.encode_s > 0);  // x264 takes some time for any frame
    const double sum = t.source_s + t.queue_s + t.encode_s + t.mux_s;
    CHECK(t.pipeline_s == doctest::Approx(sum).epsilon(0.001));
    CHECK(t.pipeline_s < 2.0);
  }
}
