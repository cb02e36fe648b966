// Encoder and display choice against this box's real GStreamer registry. The box has no GPU:
// hardware profiles are checked by element availability, and their absence must be explained.
#include <doctest/doctest.h>
#include <gst/app/gstappsink.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

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

TEST_CASE("encoder_names: the fragments' names, highest priority first; none for a missing folder") {
  const auto names = encoder_names(kPipelines);
  REQUIRE(names.size() == onair::media::load_fragments(kPipelines + "/encoders").size());
  CHECK(names.front() == "nvenc");  // @priority 50
  CHECK(std::find(names.begin(), names.end(), "x264") != names.end());
  CHECK(encoder_names("/nonexistent-onair").empty());
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

TEST_CASE("an encoder whose bitrate cannot change while it plays is found out (stand-in: x264enc's quantizer)") {
  // vah264enc is such an encoder (no VA device here): it ignores property changes once it
  // encodes, and upstream leaves its bitrate unflagged as changeable in PLAYING. x264enc's
  // quantizer is not flagged either.
  CHECK(fixed_bitrate_reason(onair::media::load_fragment(kPipelines + "/encoders/x264.pipeline"), kFormat).empty());
  CHECK(choose_encoder(kPipelines, "x264", kFormat).bitrate_fixed.empty());

  const auto dir = std::filesystem::temp_directory_path() / "onair-select-fixed";
  std::filesystem::create_directories(dir / "encoders");
  const std::string body = "x264enc name=venc tune=zerolatency speed-preset=superfast quantizer=30 pass=qual ! video/x-h264\n";
  std::ofstream(dir / "encoders" / "fixedrate.pipeline")
      << "# @name fixedrate\n# @requires x264enc\n# @priority 5\n# @bitrate-property quantizer\n# @bitrate-runtime flags\n"
      << body;
  // Without `flags` the fragment is taken at its word (vaapih264enc and v4l2's extra-controls
  // apply a new value while playing without flagging it); `no` says fixed whatever the flags.
  std::ofstream(dir / "encoders" / "trusted.pipeline") << "# @name trusted\n# @bitrate-property quantizer\n" << body;
  std::ofstream(dir / "encoders" / "never.pipeline") << "# @name never\n# @bitrate-runtime no\n" << body;
  std::ofstream(dir / "encoders" / "maybe.pipeline") << "# @name maybe\n# @bitrate-runtime sometimes\n" << body;
  std::ofstream(dir / "encoders" / "nosuch.pipeline")
      << "# @name nosuch\n# @requires x264enc\n# @bitrate-property kbits\nx264enc name=venc ! video/x-h264\n";
  const auto version = [] {
    guint major = 0, minor = 0, micro = 0, nano = 0;
    gst_version(&major, &minor, &micro, &nano);
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
  }();
  const Choice c = choose_encoder(dir.string(), "fixedrate", kFormat);
  CHECK(c.name == "fixedrate");
  CHECK(c.bitrate_fixed == "x264enc's quantizer cannot change while it plays (GStreamer " + version + ")");
  const auto fragment = [&](const char* name) {
    return onair::media::load_fragment((dir / "encoders" / (std::string(name) + ".pipeline")).string());
  };
  CHECK(fixed_bitrate_reason(fragment("trusted"), kFormat).empty());
  CHECK(fixed_bitrate_reason(fragment("never"), kFormat) == "x264enc's bitrate cannot change while it plays (@bitrate-runtime no)");
  CHECK_THROWS_WITH(fixed_bitrate_reason(fragment("maybe"), kFormat),
                    ((dir / "encoders" / "maybe.pipeline").string() +
                     ": @bitrate-runtime must be yes, flags or no, got \"sometimes\"").c_str());
  CHECK_THROWS_WITH(fixed_bitrate_reason(onair::media::load_fragment((dir / "encoders" / "nosuch.pipeline").string()),
                                         kFormat),
                    ((dir / "encoders" / "nosuch.pipeline").string() +
                     ": @bitrate-property kbits: x264enc has no property \"kbits\"").c_str());
  std::filesystem::remove_all(dir);
}

TEST_CASE("render_encoder fills bitrate in the fragment's unit") {
  const auto fragments = onair::media::load_fragments(kPipelines + "/encoders");
  for (const auto& f : fragments) {
    const std::string text = render_encoder(f, 2500, 30, 500, kFormat);
    CAPTURE(f.path);
    if (f.header("bitrate-unit") == "bps") CHECK(text.find("2500000") != std::string::npos);
    else CHECK(text.find("=2500 ") != std::string::npos);
  }
}

TEST_CASE("the encoder's rate-control buffer is half the tightest SRT latency, within 100..500 ms") {
  CHECK(encoder_buffer_ms({}) == 500);           // no destination: x264's usual buffer
  CHECK(encoder_buffer_ms({200}) == 100);
  CHECK(encoder_buffer_ms({500}) == 250);
  CHECK(encoder_buffer_ms({2000, 400}) == 200);  // the tightest destination decides
  CHECK(encoder_buffer_ms({120}) == 100);        // never below 100 ms: keyframes need room
  CHECK(encoder_buffer_ms({0}) == 100);
  CHECK(encoder_buffer_ms({4000}) == 500);
}

namespace {
// A shipped encoder fragment by its @name.
onair::media::Fragment shipped_encoder(const std::string& name) {
  const auto fragments = onair::media::load_fragments(kPipelines + "/encoders");
  const auto f = std::find_if(fragments.begin(), fragments.end(), [&](const auto& f) { return f.header("name") == name; });
  REQUIRE_MESSAGE(f != fragments.end(), "no encoder fragment named ", name);
  return *f;
}
}  // namespace

TEST_CASE("x264 and vaapi (rendered only: no VA-API device here) take the rate-control buffer they are given") {
  const auto x264 = shipped_encoder("x264");
  CHECK(render_encoder(x264, 2500, 30, 120, kFormat).find("vbv-buf-capacity=120 ") != std::string::npos);
  CHECK(render_encoder(x264, 2500, 30, 500, kFormat).find("vbv-buf-capacity=500 ") != std::string::npos);
  // vaapih264enc's cpb-length is in ms too (1..10000, default 1500).
  const auto vaapi = shipped_encoder("vaapi");
  CHECK(render_encoder(vaapi, 2500, 30, 100, kFormat).find("cpb-length=100 ") != std::string::npos);
  CHECK(render_encoder(vaapi, 2500, 30, 350, kFormat).find("cpb-length=350 ") != std::string::npos);
}

namespace {
// Encodes 5 s of noise (every frame incompressible: the worst case for keyframe size) through the
// x264 fragment; returns the sizes of its keyframes after the first (x264 starts its buffer full).
std::vector<size_t> x264_keyframe_sizes(int bitrate_kbps, int buffer_ms) {
  const auto x264 = shipped_encoder("x264");
  const ProbeFormat format{640, 360, 30};
  auto pipeline = onair::media::parse_pipeline(
      "videotestsrc pattern=snow num-buffers=150 ! video/x-raw,format=I420,width=640,height=360,framerate=30/1 ! " +
          render_encoder(x264, bitrate_kbps, 30, buffer_ms, format) + " ! appsink name=out sync=false",
      "x264 keyframe probe");
  auto sink = onair::media::child(pipeline.get(), "out");
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  std::vector<size_t> sizes;
  bool first = true;
  while (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 10 * GST_SECOND)) {
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    if (!GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) {
      if (!first) sizes.push_back(gst_buffer_get_size(buffer));
      first = false;
    }
    gst_sample_unref(sample);
  }
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return sizes;
}
}  // namespace

TEST_CASE("real x264: a keyframe stays within the rate-control buffer it is given") {
  onair::media::init_gstreamer();
  const int kbps = 690;
  const auto tight = x264_keyframe_sizes(kbps, 100);
  const auto loose = x264_keyframe_sizes(kbps, 500);
  REQUIRE(tight.size() == 4);
  REQUIRE(loose.size() == 4);
  const size_t budget = size_t(kbps) * 100 / 8;  // 100 ms of 690 kbps, in bytes
  for (size_t size : tight) CHECK(size <= budget);
  // Unconstrained, noise makes keyframes far bigger (measured 7.5 to 14.5 kB): the limit matters.
  CHECK(*std::max_element(loose.begin(), loose.end()) > budget);
}
