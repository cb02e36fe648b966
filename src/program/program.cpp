#include "program/program.hpp"

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <spdlog/spdlog.h>

#include <stdexcept>
#include <utility>
#include <vector>

#include "program/timeline.hpp"

namespace onair::program {

struct ProgramPipeline::Counters {
  std::atomic<uint64_t> frames_in{0};
  std::atomic<uint64_t> frames_dropped{0};
  std::atomic<uint64_t> display_dropped{0};
};

namespace {

constexpr const char* kAudioCaps = "audio/x-raw,format=S16LE,rate=48000,channels=2,layout=interleaved";

std::string aac_encoder(int bitrate_kbps) {
  const std::string bps = std::to_string(bitrate_kbps * 1000);
  // voaacenc first: gst-libav's avenc_aac drags all of libavcodec/libavformat into memory
  // (about 20 MB resident) for one audio encoder.
  if (media::element_exists("voaacenc")) return "voaacenc bitrate=" + bps;
  if (media::element_exists("avenc_aac")) return "avenc_aac bitrate=" + bps;
  if (media::element_exists("fdkaacenc")) return "fdkaacenc bitrate=" + bps;
  throw std::runtime_error("no AAC encoder (install gstreamer1.0-libav)");
}

void count_overrun(GstElement*, gpointer counter) {
  static_cast<std::atomic<uint64_t>*>(counter)->fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

ProgramPipeline::ProgramPipeline(ProgramOptions options, Choice encoder, Choice display,
                                 ProgramCallbacks callbacks)
    : options_(std::move(options)),
      encoder_(std::move(encoder)),
      display_(std::move(display)),
      callbacks_(std::move(callbacks)),
      counters_(std::make_unique<Counters>()),
      tracker_(std::make_unique<FrameTracker>()),
      output_(std::make_unique<TsOutput>(options_.audio, *tracker_, callbacks_.on_ts, callbacks_.on_frame)) {
  bitrate_kbps_ = options_.encoder.bitrate_kbps;
}

ProgramPipeline::~ProgramPipeline() { stop(0); }

ProgramOptions program_options(const config::Config& config, std::string display_sink, std::string pipelines_dir) {
  ProgramOptions options{config.video.width, config.video.height, config.video.framerate, config.audio.enabled,
                         config.audio.bitrate_kbps, config.encoder, std::move(display_sink), std::move(pipelines_dir)};
  std::vector<int> latencies_ms;
  for (const auto& d : config.uplink.destinations) latencies_ms.push_back(d.url.latency_ms);
  options.encoder_buffer_ms = encoder_buffer_ms(latencies_ms);
  return options;
}

std::string render_program_encoder(const Choice& encoder, const ProgramOptions& options, int bitrate_kbps) {
  const ProbeFormat format{options.width, options.height, options.framerate};
  const int keyint = std::max(1, static_cast<int>(options.encoder.keyframe_interval_s * options.framerate + 0.5));
  return render_encoder(encoder.fragment, bitrate_kbps, keyint, options.encoder_buffer_ms, format);
}

std::string encoder_buffer_text(const Choice& encoder, const ProgramOptions& options) {
  return encoder.fragment.uses("", "vbv_ms") ? fmt::format("{} ms", options.encoder_buffer_ms)
                                             : std::string("the encoder's own");
}

std::string ProgramPipeline::build_description() const {
  const std::string video_caps = "video/x-raw,format=I420,width=" + std::to_string(options_.width) +
                                 ",height=" + std::to_string(options_.height) +
                                 ",framerate=" + std::to_string(options_.framerate) + "/1,pixel-aspect-ratio=1/1";
  // Leaky queues: a slow display or encoder drops its own frames, never stalls the other branch.
  std::string d =
      "appsrc name=vsrc is-live=true format=time do-timestamp=false block=false max-bytes=0 "
      "max-buffers=4 leaky-type=downstream caps=\"" + video_caps + "\" ! tee name=t allow-not-linked=true "
      "t. ! queue name=display_queue leaky=downstream max-size-buffers=2 max-size-bytes=0 max-size-time=0 ! " +
      display_.fragment.render("", {}) + " "
      "t. ! queue name=encode_queue leaky=downstream max-size-buffers=3 max-size-bytes=0 max-size-time=0 ! " +
      render_program_encoder(encoder_, options_, bitrate_kbps_.load()) +
      " ! h264parse name=vparse config-interval=-1 ! video/x-h264,stream-format=byte-stream,alignment=au ! "
      "appsink name=vout sync=false max-buffers=0 enable-last-sample=false ";
  if (options_.audio) {
    // The mixer runs on the clock: it fills silence whenever the active source has no audio.
    d += "appsrc name=asrc is-live=true format=time do-timestamp=false block=false max-bytes=0 "
         "max-buffers=32 leaky-type=downstream min-latency=10000000 caps=\"" + std::string(kAudioCaps) + "\" ! "
         "amix. audiotestsrc is-live=true wave=silence samplesperbuffer=480 ! " + kAudioCaps + " ! amix. "
         "audiomixer name=amix latency=30000000 ! " + kAudioCaps + " ! audioconvert ! " + aac_encoder(options_.audio_bitrate_kbps) +
         " ! aacparse ! audio/mpeg,stream-format=adts ! appsink name=aout sync=false max-buffers=0 enable-last-sample=false";
  }
  // No mpegtsmux: it would hold each video frame until audio past it is encoded (TsOutput).
  return d;
}

void ProgramPipeline::start() {
  if (pipeline_) return;
  description_ = build_description();
  spdlog::info("program: encoder {} ({}; rate-control buffer {}), display {} ({})", encoder_.name, encoder_.note,
               encoder_buffer_text(encoder_, options_), display_.name, display_.note);
  spdlog::debug("program: {}", description_);
  pipeline_ = media::parse_pipeline(description_, "program pipeline");
  gst_element_set_name(pipeline_.get(), "program");
  media::use_system_clock(pipeline_.get());
  video_src_ = media::child(pipeline_.get(), "vsrc");
  audio_src_ = media::child(pipeline_.get(), "asrc");
  encoder_element_ = media::child(pipeline_.get(), "venc");
  if (!encoder_element_) throw std::runtime_error(encoder_.fragment.path + ": no element named venc");

  if (auto q = media::child(pipeline_.get(), "encode_queue"))
    g_signal_connect(q.get(), "overrun", G_CALLBACK(count_overrun), &counters_->frames_dropped);
  if (auto q = media::child(pipeline_.get(), "display_queue"))
    g_signal_connect(q.get(), "overrun", G_CALLBACK(count_overrun), &counters_->display_dropped);
  tracker_->attach(encoder_element_.get());
  if (media::PadPtr sink{gst_element_get_static_pad(encoder_element_.get(), "sink")}) {
    gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, on_encoder_input, this, nullptr);
    keyframe_probe_ = true;
  }
  output_->connect(media::child(pipeline_.get(), "vout").get(), media::child(pipeline_.get(), "aout").get());

  media::BusPtr bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_ = gst_bus_add_watch(bus.get(), on_bus_message, this);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    media::MessagePtr error(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    std::string reason = "cannot play the program pipeline";
    if (error) {
      GError* raw = nullptr;
      gst_message_parse_error(error.get(), &raw, nullptr);
      media::GErrorPtr err(raw);
      reason += std::string(": ") + GST_OBJECT_NAME(error->src) + ": " + err->message;
    }
    stop(0);
    throw std::runtime_error(reason);
  }
  base_time_ = gst_element_get_base_time(pipeline_.get());
  tracker_->set_base_time(base_time_.load());
  playing_ = true;
}

void ProgramPipeline::stop(int timeout_ms) {
  if (!pipeline_) return;
  if (bus_watch_) g_source_remove(bus_watch_);
  bus_watch_ = 0;
  if (timeout_ms > 0 && playing_) {
    // EOS on every input, so the muxer flushes what it holds and the uplink gets a clean end.
    if (video_src_) gst_app_src_end_of_stream(GST_APP_SRC(video_src_.get()));
    if (audio_src_) gst_app_src_end_of_stream(GST_APP_SRC(audio_src_.get()));
    if (auto silence = media::child(pipeline_.get(), "audiotestsrc0")) gst_element_send_event(silence.get(), gst_event_new_eos());
    media::BusPtr bus(gst_element_get_bus(pipeline_.get()));
    media::MessagePtr msg(gst_bus_timed_pop_filtered(bus.get(), timeout_ms * GST_MSECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR)));
    spdlog::info("program: {}", msg && GST_MESSAGE_TYPE(msg.get()) == GST_MESSAGE_EOS ? "end of stream flushed" : "stopped without a clean end of stream");
  }
  playing_ = false;
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  video_src_.reset();
  audio_src_.reset();
  encoder_element_.reset();
  pipeline_.reset();
}

GstClockTime ProgramPipeline::capture_running_time(GstClockTime capture_clock_ns) const {
  const GstClockTime base = base_time_.load();
  const GstClockTime now = media::system_clock_now();
  // A capture time in the future or older than a second is not trustworthy: use arrival time.
  if (!GST_CLOCK_TIME_IS_VALID(capture_clock_ns) || capture_clock_ns > now || now - capture_clock_ns > GST_SECOND)
    capture_clock_ns = now;
  return capture_clock_ns < base ? 0 : capture_clock_ns - base;
}

void ProgramPipeline::push_video(GstSample* sample, GstClockTime capture_clock_ns) {
  if (!playing_) return;
  GstBuffer* in = gst_sample_get_buffer(sample);
  if (!in) return;
  const GstClockTime duration = GST_SECOND / options_.framerate;
  const GstClockTime captured = capture_running_time(capture_clock_ns);
  const GstClockTime pts = next_video_time(captured, last_video_pts_.load(), duration);
  last_video_pts_.store(pts);
  // A new GstBuffer sharing the same memory: we re-stamp it without copying pixels.
  GstBuffer* out = gst_buffer_copy(in);
  GST_BUFFER_PTS(out) = pts;
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(out) = duration;
  counters_->frames_in.fetch_add(1, std::memory_order_relaxed);
  tracker_->mark_program_in(pts, captured);  // the stamp keeps the true capture time
  gst_app_src_push_buffer(GST_APP_SRC(video_src_.get()), out);
}

void ProgramPipeline::push_audio(GstSample* sample, GstClockTime capture_clock_ns) {
  if (!playing_ || !audio_src_) return;
  GstBuffer* in = gst_sample_get_buffer(sample);
  if (!in) return;
  const GstClockTime duration = gst_util_uint64_scale(gst_buffer_get_size(in) / 4, GST_SECOND, 48000);
  const auto pts = next_audio_time(capture_running_time(capture_clock_ns), duration, last_audio_end_.load());
  if (!pts) return;  // already played past it (after a switch to a source with a longer delay)
  last_audio_end_.store(*pts + duration);
  GstBuffer* out = gst_buffer_copy(in);
  GST_BUFFER_PTS(out) = *pts;
  GST_BUFFER_DTS(out) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(out) = duration;
  gst_app_src_push_buffer(GST_APP_SRC(audio_src_.get()), out);
}

namespace {
void request_keyframe_now(GstElement* encoder) {
  // An upstream event sent to the element enters through its src pad: the encoder makes the
  // next frame it takes a keyframe. (Not one with a running time: x264enc shifts its running
  // times by 1000 h for DTS, and GstVideoEncoder 1.22 then takes every later request as past.)
  gst_element_send_event(encoder, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}
}  // namespace

void ProgramPipeline::force_keyframe(bool from_next_frame) {
  if (!encoder_element_) return;
  const GstClockTime last = last_video_pts_.load();
  // A switch: frames of the old source may still wait in the encode queue; the keyframe must
  // land on the new source's first frame, which is the first one pushed after `last`.
  // Without the probe (an encoder with no static sink pad) nothing would ever act on it: ask now.
  if (from_next_frame && keyframe_probe_ && GST_CLOCK_TIME_IS_VALID(last)) {
    keyframe_from_pts_.store(last + 1);
    return;
  }
  request_keyframe_now(encoder_element_.get());
}

GstPadProbeReturn ProgramPipeline::on_encoder_input(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<ProgramPipeline*>(data);
  GstClockTime armed = self->keyframe_from_pts_.load(std::memory_order_relaxed);
  if (!GST_CLOCK_TIME_IS_VALID(armed)) return GST_PAD_PROBE_OK;
  const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
  // Streaming thread, before the encoder sees this buffer: the request is queued in time for it.
  if (GST_CLOCK_TIME_IS_VALID(pts) && pts >= armed &&
      self->keyframe_from_pts_.compare_exchange_strong(armed, GST_CLOCK_TIME_NONE))
    request_keyframe_now(self->encoder_element_.get());
  return GST_PAD_PROBE_OK;
}

void ProgramPipeline::set_bitrate_kbps(int kbps) {
  // An encoder that cannot take it while playing would ignore it with a warning of its own
  // (vah264enc 1.22.0) and keep the old rate: App says so once, not here.
  if (!encoder_element_ || kbps <= 0 || !encoder_.bitrate_fixed.empty()) return;
  const std::string property = encoder_.fragment.header("bitrate-property", "bitrate");
  const bool bps = encoder_.fragment.header("bitrate-unit", "kbps") == "bps";
  const guint value = static_cast<guint>(bps ? kbps * 1000 : kbps);
  const auto dot = property.find('.');
  if (dot == std::string::npos) {
    g_object_set(encoder_element_.get(), property.c_str(), value, nullptr);
  } else {  // a field of a GstStructure property, e.g. v4l2 extra-controls.video_bitrate
    GstStructure* s = nullptr;
    g_object_get(encoder_element_.get(), property.substr(0, dot).c_str(), &s, nullptr);
    if (!s) s = gst_structure_new_empty("controls");
    gst_structure_set(s, property.substr(dot + 1).c_str(), G_TYPE_INT, static_cast<int>(value), nullptr);
    g_object_set(encoder_element_.get(), property.substr(0, dot).c_str(), s, nullptr);
    gst_structure_free(s);
  }
  bitrate_kbps_ = kbps;
}

ProgramStats ProgramPipeline::stats() const {
  ProgramStats s;
  s.playing = playing_;
  s.frames_in = counters_->frames_in;
  s.frames_encoded = tracker_->frames_encoded();
  s.frames_dropped = counters_->frames_dropped;
  s.display_dropped = counters_->display_dropped;
  s.ts_bytes = output_->bytes();
  s.bitrate_kbps = bitrate_kbps_;
  return s;
}

gboolean ProgramPipeline::on_bus_message(GstBus*, GstMessage* message, gpointer data) {
  auto* self = static_cast<ProgramPipeline*>(data);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ERROR) {
    GError* raw = nullptr;
    gst_message_parse_error(message, &raw, nullptr);
    media::GErrorPtr error(raw);
    const std::string origin = GST_OBJECT_NAME(message->src);
    const bool from_display = origin == "display" || origin.rfind("display", 0) == 0;
    const std::string reason = origin + ": " + error->message;
    spdlog::error("program: {}", reason);
    self->playing_ = false;
    if (self->callbacks_.on_error) self->callbacks_.on_error(reason, from_display);
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_WARNING) {
    GError* raw = nullptr;
    gst_message_parse_warning(message, &raw, nullptr);
    media::GErrorPtr warning(raw);
    spdlog::warn("program: {}: {}", GST_OBJECT_NAME(message->src), warning->message);
  }
  return G_SOURCE_CONTINUE;
}

}  // namespace onair::program
