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
};

struct ProbeFormat {
  int width = 1280;
  int height = 720;
  int framerate = 30;
};

// type: auto | a fragment @name. A configured encoder that is missing on this box falls back to
// `auto` (the stream must go out) with a note that says so. Throws when nothing works at all.
Choice choose_encoder(const std::string& pipelines_dir, const std::string& type, const ProbeFormat& format);

// sink: auto | kms | gl | x | none. `auto`: a desktop window when $DISPLAY/$WAYLAND_DISPLAY is set,
// else the HDMI output through KMS when a DRM card exists, else none.
Choice choose_display(const std::string& pipelines_dir, const std::string& sink);

// Fills an encoder fragment's placeholders.
std::string render_encoder(const media::Fragment& fragment, int bitrate_kbps, int keyint_frames,
                           const ProbeFormat& format);

}  // namespace onair::program
