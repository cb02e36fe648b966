// Encoder and display choice against this box's real GStreamer registry. The box has no GPU:
// hardware profiles are checked by element availability, and their absence must be explained.
#include <doctest/doctest.h>

#include <cstdlib>

#include "media/gst.hpp"
#include "program/select.hpp"

using namespace onair::program;

namespace {
const std::string kPipelines = std::string(ONAIR_SOURCE_DIR) + "/pipelines";
const ProbeFormat kFormat{320, 240, 30};

bool mentions(const std::vector<std::string>& list, const std::string& text) {
  for (const auto& s : list)
    if (s.find(text) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("auto picks an encoder that really encodes here and lists what is missing") {
  const Choice c = choose_encoder(kPipelines, "auto", kFormat);
  CHECK_FALSE(c.name.empty());
  CHECK(c.note.rfind("auto: best available", 0) == 0);
  // Without a GPU (this CI box), NVENC cannot be there, and auto must say so.
  if (!onair::media::element_exists("nvh264enc")) CHECK(mentions(c.unavailable, "nvenc: nvh264enc"));
}

TEST_CASE("x264 configured explicitly is used as configured") {
  const Choice c = choose_encoder(kPipelines, "x264", kFormat);
  CHECK(c.name == "x264");
  CHECK(c.note == "configured (encoder.type: x264)");
}

TEST_CASE("a configured hardware encoder that is missing falls back and says why (no GPU here)") {
  if (onair::media::element_exists("vaapih264enc")) return;  // a box with VA-API: nothing to check
  const Choice c = choose_encoder(kPipelines, "vaapi", kFormat);
  CHECK(c.name != "vaapi");
  CHECK(c.note.rfind("encoder.type vaapi is not usable on this box (vaapipostproc (install gstreamer1.0-vaapi), "
                     "vaapih264enc (install gstreamer1.0-vaapi)); auto: best available",
                     0) == 0);
  CHECK(mentions(c.unavailable, "vaapi: vaapipostproc"));
}

TEST_CASE("an encoder name with no fragment is an error naming the folder") {
  CHECK_THROWS_WITH(choose_encoder(kPipelines, "h266magic", kFormat),
                    ("no encoder fragment named \"h266magic\" in " + kPipelines + "/encoders").c_str());
}

TEST_CASE("display: none is always available; auto without any display picks none") {
  CHECK(choose_display(kPipelines, "none").name == "none");
  unsetenv("DISPLAY");
  unsetenv("WAYLAND_DISPLAY");
  const Choice c = choose_display(kPipelines, "auto");
  CHECK((c.name == "none" || c.name == "kms"));
}

TEST_CASE("render_encoder fills bitrate in the fragment's unit") {
  const auto fragments = onair::media::load_fragments(kPipelines + "/encoders");
  for (const auto& f : fragments) {
    const std::string text = render_encoder(f, 2500, 30, kFormat);
    CAPTURE(f.path);
    if (f.header("bitrate-unit") == "bps") CHECK(text.find("2500000") != std::string::npos);
    else CHECK(text.find("=2500 ") != std::string::npos);
  }
}
