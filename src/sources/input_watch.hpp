// What a source's input really is, observed on the streaming threads: the bytes arriving from
// the network element (name=net), the SRT caller on a listener, the codecs decodebin (name=dec)
// finds, and the inputs onair will not take: a video codec outside the fragment's
// @accept-video, or no video at all (an audio-only phone). Readers on other threads get copies.
#pragma once

#include <gst/gst.h>

typedef struct _GSocketAddress GSocketAddress;  // gio's, passed through srtsrc's caller signals

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace onair::sources {

struct InputInfo {
  std::string video_codec;  // "h264", "h265", ...; "" until known
  std::string audio_codec;  // "aac", "opus", ...; "" until known or when there is none
  std::string caller;       // listener: the connected caller's address
  bool connected = false;   // a peer is sending (listener: a caller; caller mode: bytes came)
  int64_t connected_us = 0;
};

class InputWatch {
 public:
  using Reject = std::function<void(const std::string& reason)>;
  // `label` names the source in logs. Hooks the elements named net and dec, when present.
  // `reject`: input onair will not take; `on_caller_left`: a listener's caller went away.
  InputWatch(GstElement* pipeline, std::string label, std::vector<std::string> accepted_video, Reject reject,
             Reject on_caller_left);
  ~InputWatch();  // disconnects every hook; the pipeline must be stopped first
  InputWatch(const InputWatch&) = delete;
  InputWatch& operator=(const InputWatch&) = delete;

  bool network() const { return net_ != nullptr; }
  int64_t last_input_us() const { return last_input_us_.load(std::memory_order_relaxed); }
  uint64_t input_bytes() const { return input_bytes_.load(std::memory_order_relaxed); }
  // The longest wait between two input buffers since the last call (µs), and resets it.
  int64_t take_input_gap_max_us() { return input_gap_max_us_.exchange(0, std::memory_order_relaxed); }
  InputInfo info() const;

 private:
  static GstPadProbeReturn on_input(GstPad* pad, GstPadProbeInfo* info, gpointer self);
  static void on_caller_added(GstElement*, gint, GSocketAddress* address, gpointer self);
  static void on_caller_removed(GstElement*, gint, GSocketAddress* address, gpointer self);
  static void on_caller_rejected(GstElement*, GSocketAddress* address, gchar* streamid, gpointer self);
  static gboolean on_autoplug_continue(GstElement*, GstPad* pad, GstCaps* caps, gpointer self);
  static void on_pad_added(GstElement*, GstPad* pad, gpointer self);
  static void on_no_more_pads(GstElement*, gpointer self);
  void note_codec(const GstCaps* caps);
  void connect(GstElement* element, const char* signal, GCallback callback);

  std::string label_;
  std::vector<std::string> accepted_video_;
  Reject reject_;
  Reject on_caller_left_;
  GstElement* net_ = nullptr;  // borrowed from the pipeline, which outlives this
  GstElement* dec_ = nullptr;
  std::vector<std::pair<GstElement*, gulong>> handlers_;
  gulong probe_id_ = 0;
  std::atomic<int64_t> last_input_us_{0};
  std::atomic<uint64_t> input_bytes_{0};
  std::atomic<int64_t> input_gap_max_us_{0};
  std::atomic<bool> video_pad_{false};
  mutable std::mutex mutex_;  // guards info_: written by streaming and libsrt threads
  InputInfo info_;
};

// "h264", "h265", "aac", "opus", ... for compressed caps; "" for raw or unknown media.
std::string codec_name(const GstCaps* caps);

// max = the larger of max and value, from any thread.
void store_max(std::atomic<int64_t>& max, int64_t value);

}  // namespace onair::sources
