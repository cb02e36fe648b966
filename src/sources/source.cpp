#include "sources/source.hpp"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <spdlog/spdlog.h>

#include <map>
#include <sstream>
#include <stdexcept>

#include "media/fragment.hpp"
#include "media/frame_stamp.hpp"
#include "sources/srt_uri.hpp"

namespace onair::sources {
namespace {

// What a user can act on, for GStreamer's generic error texts.
std::string explain(const std::string& origin, const std::string& message) {
  if (message.find("Could not determine type of stream") != std::string::npos)
    return "the input is not a media stream onair can read (expected MPEG-TS): " + origin + ": " + message;
  if (message.find("no valid or supported streams") != std::string::npos)
    return "the input carries no stream onair can decode (expected H.264/H.265 video): " + origin + ": " + message;
  return origin + ": " + message;
}

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// base_time + PTS = the clock time of capture; NONE when the buffer has no timestamp.
GstClockTime capture_clock_time(GstElement* sink, GstSample* sample) {
  GstBuffer* buffer = gst_sample_get_buffer(sample);
  if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_CLOCK_TIME_NONE;
  return gst_element_get_base_time(sink) + GST_BUFFER_PTS(buffer);
}

}  // namespace

const char* to_string(Role role) {
  switch (role) {
    case Role::primary: return "primary";
    case Role::backup: return "backup";
    case Role::slate: return "slate";
  }
  return "?";
}

const char* to_string(SourceState state) {
  switch (state) {
    case SourceState::stopped: return "stopped";
    case SourceState::starting: return "starting";
    case SourceState::running: return "running";
    case SourceState::failed: return "failed";
  }
  return "?";
}

Source::Source(SourceSpec spec, SampleHandler on_video, SampleHandler on_audio,
               FailureHandler on_failure)
    : spec_(std::move(spec)),
      type_(spec_.role == Role::slate ? "slate" : spec_.config.type),
      on_video_(std::move(on_video)),
      on_audio_(std::move(on_audio)),
      on_failure_(std::move(on_failure)) {}

Source::~Source() { stop(); }

std::string Source::build_description(std::string* redacted, std::vector<std::string>* accepted_video) const {
  const auto& c = spec_.canonical;
  std::string file = type_;
  if (spec_.role == Role::slate && !spec_.slate_image.empty()) file = "slate-image";
  const auto fragment = media::load_fragment(spec_.pipelines_dir + "/sources/" + file + ".pipeline");
  const auto missing = fragment.missing_elements();
  if (!missing.empty()) {
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m + media::package_hint(m);
    throw std::runtime_error("missing GStreamer element " + names);
  }
  *accepted_video = words(fragment.header("accept-video"));
  std::map<std::string, std::string> values = {
      {"width", std::to_string(c.width)},
      {"height", std::to_string(c.height)},
      {"framerate", std::to_string(c.framerate)},
      {"device", media::quote_escape(spec_.config.device)},
      {"camera", media::quote_escape(spec_.config.camera)},
      {"pattern", spec_.config.pattern.empty() ? "smpte" : spec_.config.pattern},
      {"label", media::quote_escape(spec_.config.label.empty() ? to_string(spec_.role)
                                                              : spec_.config.label)},
      {"text", media::quote_escape(spec_.slate_text)},
      {"image", media::quote_escape(spec_.slate_image)},
      {"uri", ""},
  };
  auto values_redacted = values;
  if (type_ == "srt") {
    values["uri"] = srtsrc_uri(spec_.config.url, false);
    values_redacted["uri"] = srtsrc_uri(spec_.config.url, true);
  }
  // Network sources arrive at any rate: on_new_video drops them down to the canonical rate
  // (rate_limit.hpp). Local sources are asked for it.
  const std::string video_tail =
      " ! videoconvert name=vconv ! videoscale add-borders=true ! "
      "video/x-raw,format=I420,width=" + std::to_string(c.width) + ",height=" +
      std::to_string(c.height) + ",pixel-aspect-ratio=1/1" +
      " ! appsink name=video sync=false async=false max-buffers=2 drop=true";
  const std::string audio_tail =
      " ! audioconvert ! audioresample ! audio/x-raw,format=S16LE,rate=48000,channels=2,"
      "layout=interleaved ! appsink name=audio sync=false async=false max-buffers=16 drop=true";
  // async=false: a branch that never gets data (a phone with no audio) must not hold the
  // whole pipeline in PAUSED waiting for its preroll, with the video sink blocked behind it.
  auto compose = [&](const std::map<std::string, std::string>& v) {
    std::string d = fragment.render("video", v) + video_tail;
    if (fragment.sections.count("audio")) d += " " + fragment.render("audio", v) + audio_tail;
    return d;
  };
  *redacted = compose(values_redacted);
  return compose(values);
}

bool Source::start() {
  if (pipeline_) return true;
  failed_ = false;
  std::vector<std::string> accepted_video;
  try {
    const std::string description = build_description(&description_redacted_, &accepted_video);
    has_audio_ = description.find("name=audio") != std::string::npos;
    if (type_ == "srt") limiter_.emplace(GST_SECOND / spec_.canonical.framerate);
    else limiter_.reset();
    pipeline_ = media::parse_pipeline(description, std::string(to_string(spec_.role)) + " source");
  } catch (const std::exception& e) {
    fail(e.what());
    return false;
  }
  gst_element_set_name(pipeline_.get(), (std::string("source-") + to_string(spec_.role)).c_str());
  media::use_system_clock(pipeline_.get());
  watch_ = std::make_unique<InputWatch>(pipeline_.get(), to_string(spec_.role), std::move(accepted_video),
                                        [this](const std::string& reason) { fail(reason); },
                                        [this](const std::string& reason) { fail(reason, true); });
  GstAppSinkCallbacks video_callbacks{};
  // The video branch ending is the source ending: the pipeline's own EOS would also wait for
  // an audio branch that may never have had data.
  video_callbacks.eos = [](GstAppSink*, gpointer self) {
    auto* source = static_cast<Source*>(self);
    source->fail(source->network() ? "the sender left (end of stream)" : "end of stream", true);
  };
  video_callbacks.new_sample = [](GstAppSink* s, gpointer self) { return on_new_video(GST_ELEMENT(s), self); };
  gst_app_sink_set_callbacks(GST_APP_SINK(media::child(pipeline_.get(), "video").get()),
                             &video_callbacks, this, nullptr);
  if (has_audio_) {
    GstAppSinkCallbacks audio_callbacks{};
    audio_callbacks.new_sample = [](GstAppSink* s, gpointer self) { return on_new_audio(GST_ELEMENT(s), self); };
    gst_app_sink_set_callbacks(GST_APP_SINK(media::child(pipeline_.get(), "audio").get()),
                               &audio_callbacks, this, nullptr);
  }
  if (type_ == "test" && spec_.config.stamp) {
    // At the appsink the frame is canonical I420 at the program size: the bar code goes in as
    // the program will encode it, over anything the fragment drew.
    media::PadPtr pad(gst_element_get_static_pad(media::child(pipeline_.get(), "video").get(), "sink"));
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_stamp_frame, nullptr, nullptr);
  }
  if (auto conv = media::child(pipeline_.get(), "vconv")) {
    media::PadPtr pad(gst_element_get_static_pad(conv.get(), "sink"));
    gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_input_caps, this, nullptr);
  }
  media::BusPtr bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_ = gst_bus_add_watch(bus.get(), on_bus_message, this);
  spdlog::info("source {}: starting {} source: {}", to_string(spec_.role), type_, description_redacted_);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The bus usually holds the precise error (e.g. the device does not exist): use it.
    media::MessagePtr error(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    std::string reason = "cannot start the pipeline";
    if (error) {
      GError* raw = nullptr;
      gst_message_parse_error(error.get(), &raw, nullptr);
      media::GErrorPtr err(raw);
      reason = err->message;
    }
    fail(reason);
    return false;
  }
  return true;
}

void Source::stop() {
  if (!pipeline_) return;
  if (bus_watch_) g_source_remove(bus_watch_);
  bus_watch_ = 0;
  // NULL waits for the streaming threads: no appsink callback runs after this returns.
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  watch_.reset();
  pipeline_.reset();
}

std::string Source::input_format() const {
  const int w = input_width_.load(), h = input_height_.load();
  if (w == 0) return {};
  const int n = input_fps_n_.load(), d = input_fps_d_.load();
  std::string fps = d == 1 ? std::to_string(n) : (n ? fmt::format("{:.2f}", double(n) / d) : "variable");
  return fmt::format("{}x{}@{}", w, h, fps);
}

double Source::input_fps() const {
  const int n = input_fps_n_.load(), d = input_fps_d_.load();
  return d > 0 ? double(n) / d : 0;
}

void Source::fail(const std::string& reason, bool ended) {
  if (failed_.exchange(true)) return;
  if (ended) spdlog::info("source {}: {}", to_string(spec_.role), reason);
  else spdlog::warn("source {}: {}", to_string(spec_.role), reason);
  // Posted, so the handler may destroy this Source without pulling the rug from under us.
  auto handler = on_failure_;
  auto role = spec_.role;
  auto* call = new std::function<void()>([handler, role, failure = SourceFailure{reason, ended}] { handler(role, failure); });
  g_idle_add_full(G_PRIORITY_DEFAULT, [](gpointer data) -> gboolean {
    (*static_cast<std::function<void()>*>(data))();
    return G_SOURCE_REMOVE;
  }, call, [](gpointer data) { delete static_cast<std::function<void()>*>(data); });
}

GstFlowReturn Source::on_new_video(GstElement* sink, gpointer data) {
  auto* self = static_cast<Source*>(data);
  media::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) return GST_FLOW_EOS;
  const int64_t now = media::monotonic_us();
  const int64_t previous = self->last_video_us_.exchange(now, std::memory_order_relaxed);
  if (previous > 0) store_max(self->frame_gap_max_us_, now - previous);
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  if (self->limiter_ && buffer && GST_BUFFER_PTS_IS_VALID(buffer) &&
      !self->limiter_->pass(static_cast<int64_t>(GST_BUFFER_PTS(buffer))))
    return GST_FLOW_OK;  // alive (it counts for health), but one frame too many for the rate
  self->video_frames_.fetch_add(1, std::memory_order_relaxed);
  self->on_video_(self->spec_.role, sample.get(), capture_clock_time(sink, sample.get()));
  return GST_FLOW_OK;
}

GstFlowReturn Source::on_new_audio(GstElement* sink, gpointer data) {
  auto* self = static_cast<Source*>(data);
  media::SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(sink)));
  if (!sample) return GST_FLOW_EOS;
  self->audio_buffers_.fetch_add(1, std::memory_order_relaxed);
  self->on_audio_(self->spec_.role, sample.get(), capture_clock_time(sink, sample.get()));
  return GST_FLOW_OK;
}

gboolean Source::on_bus_message(GstBus*, GstMessage* message, gpointer data) {
  auto* self = static_cast<Source*>(data);
  switch (GST_MESSAGE_TYPE(message)) {
    case GST_MESSAGE_ERROR: {
      GError* raw = nullptr;
      gchar* debug = nullptr;
      gst_message_parse_error(message, &raw, &debug);
      media::GErrorPtr error(raw);
      media::GCharPtr debug_text(debug);
      spdlog::debug("source {}: error detail: {}", to_string(self->spec_.role), debug ? debug : "");
      self->fail(explain(GST_OBJECT_NAME(message->src), error->message));
      break;
    }
    case GST_MESSAGE_EOS:
      self->fail(self->network() ? "the sender left (end of stream)" : "end of stream", true);
      break;
    case GST_MESSAGE_WARNING: {
      GError* raw = nullptr;
      gst_message_parse_warning(message, &raw, nullptr);
      media::GErrorPtr warning(raw);
      spdlog::warn("source {}: {}: {}", to_string(self->spec_.role), GST_OBJECT_NAME(message->src),
                   warning->message);
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

GstPadProbeReturn Source::on_stamp_frame(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  media::CapsPtr caps(gst_pad_get_current_caps(pad));
  GstVideoInfo video_info;
  if (!caps || !gst_video_info_from_caps(&video_info, caps.get())) return GST_PAD_PROBE_OK;
  // The capture wall time exactly as the SEI stamp gets it (program/frame_tracker.cpp): wall
  // clock now minus the frame's age on the pipeline clock, age from base time + PTS.
  media::ElementPtr sink(gst_pad_get_parent_element(pad));
  const auto captured = static_cast<int64_t>(gst_element_get_base_time(sink.get()) + GST_BUFFER_PTS(buffer));
  const int64_t age_ns = static_cast<int64_t>(media::system_clock_now()) - captured;
  const int64_t capture_us = media::wall_clock_us() - age_ns / 1000;
  buffer = gst_buffer_make_writable(buffer);  // copies only when someone else holds the frame
  GST_PAD_PROBE_INFO_DATA(info) = buffer;
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &video_info, buffer, GST_MAP_WRITE)) return GST_PAD_PROBE_OK;
  media::draw_stamp(static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)),
                    GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0), GST_VIDEO_FRAME_WIDTH(&frame),
                    GST_VIDEO_FRAME_HEIGHT(&frame), capture_us);
  gst_video_frame_unmap(&frame);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn Source::on_input_caps(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<Source*>(data);
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  if (GST_EVENT_TYPE(event) != GST_EVENT_CAPS) return GST_PAD_PROBE_OK;
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  GstVideoInfo video_info;
  if (caps && gst_video_info_from_caps(&video_info, caps)) {
    self->input_width_ = video_info.width;
    self->input_height_ = video_info.height;
    self->input_fps_n_ = video_info.fps_n;
    self->input_fps_d_ = video_info.fps_d ? video_info.fps_d : 1;
    spdlog::info("source {}: input {}", to_string(self->spec_.role), self->input_format());
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace onair::sources
