// Picks the encoder and display fragments from pipelines/: the configured one, or for `auto`
// the best one that really works on this box, and says why.
#pragma once

#include <string>
#include <vector>

#include "media/fragment.hpp"

namespace onair::program {

struct Choice {
  media::Fragment fragment;
  std::string name;                      // e.g. "x264"
  std::string note;                      // how it was chosen, for log and status
  std::vector<std::string> unavailable;  // "vaapi: missing vaapih264enc (install ...)"
  // Encoders only: why its bitrate cannot change while it runs (see fixed_bitrate_reason(), e.g.
  // vah264enc in GStreamer 1.22); empty when it can.
  std::string bitrate_fixed;
};

struct ProbeFormat {
  int width = 1280;
  int height = 720;
  int framerate = 30;
};

// type: auto | a fragment @name. A configured encoder that is missing on this box falls back to
// `auto` (the stream must go out) with a note that says so. Throws when nothing works at all.
Choice choose_encoder(const std::string& pipelines_dir, const std::string& type, const ProbeFormat& format);

// The @name of every encoder fragment in pipelines_dir/encoders, highest priority first: what
// encoder.type may name besides `auto`. Empty when the folder cannot be read.
std::vector<std::string> encoder_names(const std::string& pipelines_dir);

// sink: auto | kms | gl | x | none. `auto`: a desktop window when $DISPLAY/$WAYLAND_DISPLAY is set,
// else the HDMI output through KMS when a DRM card exists, else none.
Choice choose_display(const std::string& pipelines_dir, const std::string& sink);

// The encoder's rate-control buffer (x264's VBV), in ms of the bitrate: how far above its share
// one frame may go. A frame is on time only when all of it, and a retransmission of what the
// link lost, crosses within the SRT latency; on a link that carries little more than the bitrate
// a frame of B ms of the bitrate takes about B ms to cross. So a keyframe may take half the
// tightest destination's latency, the other half being the retransmission's (measured: on a
// 1 Mbit/s link at 200 ms latency, 500 ms let 16 kB keyframes arrive at the deadline and take
// the next second's frames with them). Between 100 ms (keyframes still cost ~3 frames) and
// x264's usual 500 ms; 500 ms with no destination. Fragments take it as {vbv_ms} (x264, vaapi).
int encoder_buffer_ms(const std::vector<int>& destination_latencies_ms);
constexpr int kMinEncoderBufferMs = 100;
constexpr int kMaxEncoderBufferMs = 500;

// Why the fragment's `venc` cannot take a new bitrate while it plays, or "" when it can. The
// fragment's @bitrate-runtime says: `yes` (the default: x264enc, openh264enc, vaapih264enc and
// v4l2's extra-controls all apply a new value while playing, though only some flag it), `flags`
// (only when the @bitrate-property is flagged GST_PARAM_MUTABLE_PLAYING: vah264enc ignores every
// change once it encodes, as Debian's 1.22.0 says, and upstream does not flag it), or `no`. Throws when the fragment
// does not parse, names a property venc does not have, or gives another @bitrate-runtime.
std::string fixed_bitrate_reason(const media::Fragment& fragment, const ProbeFormat& format);

// Fills an encoder fragment's placeholders (`buffer_ms`: {vbv_ms}, see encoder_buffer_ms()).
std::string render_encoder(const media::Fragment& fragment, int bitrate_kbps, int keyint_frames, int buffer_ms,
                           const ProbeFormat& format);

}  // namespace onair::program
