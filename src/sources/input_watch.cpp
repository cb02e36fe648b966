#include "sources/input_watch.hpp"

#include <arpa/inet.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "media/gst.hpp"

namespace onair::sources {
namespace {

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

// Containers look like video caps ("video/mpegts") but carry no codec.
bool is_container(const std::string& name, const GstStructure* s) {
  gboolean system = FALSE;
  if (gst_structure_get_boolean(s, "systemstream", &system) && system) return true;
  static const char* const kContainers[] = {"video/mpegts", "video/quicktime", "video/x-matroska", "video/webm",
                                            "video/x-flv", "video/x-msvideo"};
  return std::any_of(std::begin(kContainers), std::end(kContainers), [&](const char* c) { return name == c; });
}

// "host:port" of a GInetSocketAddress, through its GObject properties (no libgio link needed).
std::string address_text(GSocketAddress* address) {
  if (!address || !g_object_class_find_property(G_OBJECT_GET_CLASS(address), "port")) return "?";
  GObject* inet = nullptr;
  guint port = 0;
  g_object_get(address, "address", &inet, "port", &port, nullptr);
  std::string host = "?";
  if (inet) {
    gpointer bytes = nullptr;
    int family = 0;
    g_object_get(inet, "bytes", &bytes, "family", &family, nullptr);
    char text[INET6_ADDRSTRLEN] = "?";
    if (bytes && inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, bytes, text, sizeof text)) host = text;
    g_object_unref(inet);
  }
  return host + ":" + std::to_string(port);
}

bool is_video(const std::string& name) { return starts_with(name, "video/") || starts_with(name, "image/"); }

}  // namespace

void store_max(std::atomic<int64_t>& max, int64_t value) {
  int64_t seen = max.load(std::memory_order_relaxed);
  while (value > seen && !max.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {}
}

std::string codec_name(const GstCaps* caps) {
  if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return {};
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  const std::string name = gst_structure_get_name(s);
  if (name == "video/x-raw" || name == "audio/x-raw" || is_container(name, s)) return {};
  int version = 0;
  if (name == "video/mpeg" && gst_structure_get_int(s, "mpegversion", &version))
    return version == 4 ? "mpeg4" : "mpeg" + std::to_string(version);
  if (name == "audio/mpeg" && gst_structure_get_int(s, "mpegversion", &version)) {
    if (version == 2 || version == 4) return "aac";
    int layer = 0;
    return gst_structure_get_int(s, "layer", &layer) ? "mp" + std::to_string(layer) : "mpeg-audio";
  }
  if (name == "image/jpeg") return "mjpeg";
  for (const char* prefix : {"video/x-", "audio/x-", "video/", "audio/", "image/x-", "image/"})
    if (starts_with(name, prefix)) return name.substr(std::strlen(prefix));
  return name;
}

InputWatch::InputWatch(GstElement* pipeline, std::string label, std::vector<std::string> accepted_video,
                       Reject reject, Reject on_caller_left)
    : label_(std::move(label)),
      accepted_video_(std::move(accepted_video)),
      reject_(std::move(reject)),
      on_caller_left_(std::move(on_caller_left)) {
  if (auto net = media::child(pipeline, "net")) {
    net_ = net.get();
    media::PadPtr pad(gst_element_get_static_pad(net_, "src"));
    if (pad) probe_id_ = gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, on_input, this, nullptr);
    // srtsrc in listener mode tells who calls; other network elements simply lack the signals.
    // A second caller never reaches us: srtsrc listens with a backlog of one, so libsrt refuses
    // it in the handshake and the phone on air is not disturbed.
    if (g_signal_lookup("caller-added", G_OBJECT_TYPE(net_))) {
      connect(net_, "caller-added", G_CALLBACK(on_caller_added));
      connect(net_, "caller-removed", G_CALLBACK(on_caller_removed));
      connect(net_, "caller-rejected", G_CALLBACK(on_caller_rejected));
    }
  }
  if (auto dec = media::child(pipeline, "dec")) {
    dec_ = dec.get();
    connect(dec_, "autoplug-continue", G_CALLBACK(on_autoplug_continue));
    connect(dec_, "pad-added", G_CALLBACK(on_pad_added));
    connect(dec_, "no-more-pads", G_CALLBACK(on_no_more_pads));
  }
}

InputWatch::~InputWatch() {
  for (auto& [element, id] : handlers_) g_signal_handler_disconnect(element, id);
  if (probe_id_ && net_) {
    media::PadPtr pad(gst_element_get_static_pad(net_, "src"));
    if (pad) gst_pad_remove_probe(pad.get(), probe_id_);
  }
}

void InputWatch::connect(GstElement* element, const char* signal, GCallback callback) {
  handlers_.emplace_back(element, g_signal_connect(element, signal, callback, this));
}

InputInfo InputWatch::info() const {
  std::lock_guard lock(mutex_);
  return info_;
}

GstPadProbeReturn InputWatch::on_input(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  const int64_t now = media::monotonic_us();
  self->input_bytes_.fetch_add(gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)), std::memory_order_relaxed);
  const int64_t previous = self->last_input_us_.exchange(now, std::memory_order_relaxed);
  if (previous > 0) store_max(self->input_gap_max_us_, now - previous);
  if (previous == 0) {
    std::lock_guard lock(self->mutex_);
    if (!self->info_.connected) {  // caller mode (no caller signals): the first byte is the connection
      self->info_.connected = true;
      self->info_.connected_us = now;
    }
  }
  return GST_PAD_PROBE_OK;
}

void InputWatch::on_caller_added(GstElement*, gint, GSocketAddress* address, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  std::lock_guard lock(self->mutex_);
  self->info_.caller = address_text(address);
  self->info_.connected = true;
  self->info_.connected_us = media::monotonic_us();
  spdlog::info("source {}: caller {} connected", self->label_, self->info_.caller);
}

void InputWatch::on_caller_removed(GstElement*, gint, GSocketAddress* address, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  std::lock_guard lock(self->mutex_);
  self->info_.connected = false;
  const std::string caller = address_text(address);
  spdlog::info("source {}: caller {} left", self->label_, caller);
  // Ends the run at once: an EOS would need every branch, and one without data never gets it.
  if (self->on_caller_left_) self->on_caller_left_("the caller " + caller + " left");
}

void InputWatch::on_caller_rejected(GstElement*, GSocketAddress* address, gchar*, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  spdlog::warn("source {}: caller {} rejected by the listener", self->label_, address_text(address));
}

void InputWatch::note_codec(const GstCaps* caps) {
  const std::string codec = codec_name(caps);
  if (codec.empty()) return;
  const bool video = is_video(gst_structure_get_name(gst_caps_get_structure(caps, 0)));
  std::lock_guard lock(mutex_);
  std::string& slot = video ? info_.video_codec : info_.audio_codec;
  if (slot == codec) return;
  slot = codec;
  spdlog::info("source {}: {} codec {}", label_, video ? "video" : "audio", codec);
}

gboolean InputWatch::on_autoplug_continue(GstElement*, GstPad*, GstCaps* caps, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  self->note_codec(caps);
  const std::string codec = codec_name(caps);
  if (codec.empty() || self->accepted_video_.empty()) return TRUE;
  if (!is_video(gst_structure_get_name(gst_caps_get_structure(caps, 0)))) return TRUE;
  const auto& ok = self->accepted_video_;
  if (std::find(ok.begin(), ok.end(), codec) != ok.end()) return TRUE;
  std::string list;
  for (const auto& c : ok) list += (list.empty() ? "" : " or ") + c;
  self->reject_("unsupported video codec " + codec + " (send " + list + ")");
  return FALSE;  // expose it undecoded: nothing links to it, nothing is decoded
}

void InputWatch::on_pad_added(GstElement*, GstPad* pad, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  media::CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  if (caps && !gst_caps_is_empty(caps.get()) && is_video(gst_structure_get_name(gst_caps_get_structure(caps.get(), 0))))
    self->video_pad_ = true;
}

void InputWatch::on_no_more_pads(GstElement*, gpointer data) {
  auto* self = static_cast<InputWatch*>(data);
  if (self->video_pad_) return;
  const std::string audio = self->info().audio_codec;
  self->reject_(audio.empty() ? "the stream carries no video" : "the stream carries audio only (" + audio + "), no video");
}

}  // namespace onair::sources
