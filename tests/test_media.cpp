// Pipeline fragments: the file format, every shipped fragment, and real GStreamer parsing.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>

#include "media/fragment.hpp"
#include "media/gst.hpp"

namespace fs = std::filesystem;
using onair::media::Fragment;

namespace {

std::string write_temp(const std::string& name, const std::string& text) {
  const auto dir = fs::temp_directory_path() / "onair-test-media";
  fs::create_directories(dir);
  const auto path = (dir / name).string();
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("a fragment's headers, sections and placeholders") {
  const auto path = write_temp("two.pipeline",
                               "# a comment\n# @requires videotestsrc  fakesink\n# @priority 7\n"
                               "# @video\nvideotestsrc pattern={pattern}\n  ! fakesink\n# @audio\naudiotestsrc\n");
  const Fragment f = onair::media::load_fragment(path);
  CHECK(f.header("priority") == "7");
  CHECK(f.header("missing", "x") == "x");
  CHECK(f.requires_elements() == std::vector<std::string>{"videotestsrc", "fakesink"});
  CHECK(f.render("video", {{"pattern", "ball"}}) == "videotestsrc pattern=ball ! fakesink");
  CHECK(f.render("audio", {}) == "audiotestsrc");
  CHECK(f.render("nothing", {}) == "");
  CHECK(f.uses("video", "pattern"));
  CHECK_FALSE(f.uses("audio", "pattern"));
  CHECK_FALSE(f.uses("video", "patter"));  // a whole name, braces and all
  CHECK_FALSE(f.uses("nothing", "pattern"));
  CHECK(error_of([&] { f.render("video", {}); }) == path + ": unknown placeholder {pattern} in @video");
}

TEST_CASE("malformed fragments are refused with file and line") {
  const auto a = write_temp("bad-section.pipeline", "# @requires x\n# @vidoe\nfoo\n");
  CHECK(error_of([&] { onair::media::load_fragment(a); }) ==
        a + ":2: @vidoe needs a value (or is not a known section: video, audio)");
  const auto b = write_temp("bad-brace.pipeline", "x264enc bitrate={bitrate\n");
  CHECK(error_of([&] { onair::media::load_fragment(b).render("", {}); }) == b + ": unclosed '{' in @");
  CHECK(error_of([] { onair::media::load_fragment("/nonexistent/x.pipeline"); }) ==
        "cannot read pipeline fragment /nonexistent/x.pipeline");
}

TEST_CASE("missing elements are named") {
  const auto path = write_temp("missing.pipeline", "# @requires fakesink nosuchelement_onair\nfakesink\n");
  CHECK(onair::media::load_fragment(path).missing_elements() == std::vector<std::string>{"nosuchelement_onair"});
}

TEST_CASE("every shipped encoder fragment follows the naming contract") {
  const auto fragments = onair::media::load_fragments(std::string(ONAIR_SOURCE_DIR) + "/pipelines/encoders");
  CHECK(fragments.size() >= 7);
  for (const auto& f : fragments) {
    CAPTURE(f.path);
    CHECK_FALSE(f.header("name").empty());
    CHECK_FALSE(f.requires_elements().empty());
    CHECK((f.header("bitrate-unit") == "kbps" || f.header("bitrate-unit") == "bps"));
    CHECK_FALSE(f.header("bitrate-property").empty());
    const std::string text = f.render("", {{"bitrate_kbps", "1"}, {"bitrate_bps", "1000"}, {"keyint_frames", "30"},
                                           {"vbv_ms", "250"}, {"framerate", "30"}, {"width", "1280"}, {"height", "720"}});
    CHECK(text.find("name=venc") != std::string::npos);
  }
}

TEST_CASE("shipped fragments whose elements exist here parse as real GStreamer pipelines") {
  const std::string root = std::string(ONAIR_SOURCE_DIR) + "/pipelines";
  int parsed = 0;
  for (const char* dir : {"/encoders", "/displays"}) {
    for (const auto& f : onair::media::load_fragments(root + dir)) {
      CAPTURE(f.path);
      if (!f.missing_elements().empty()) continue;  // hardware this box lacks: checked by name above
      const std::string body = f.render("", {{"bitrate_kbps", "1000"}, {"bitrate_bps", "1000000"}, {"keyint_frames", "30"},
                                             {"vbv_ms", "250"}, {"framerate", "30"}, {"width", "320"}, {"height", "240"}});
      const std::string head = "videotestsrc num-buffers=1 ! video/x-raw,format=I420,width=320,height=240 ! ";
      const bool is_encoder = std::string(dir) == "/encoders";
      CHECK_NOTHROW(onair::media::parse_pipeline(head + body + (is_encoder ? " ! fakesink" : ""), f.path));
      ++parsed;
    }
  }
  CHECK(parsed >= 2);  // x264 and the fakesink display exist on every box onair supports
}

TEST_CASE("a launch-syntax error names what was being built") {
  CHECK(error_of([] { onair::media::parse_pipeline("videotestsrc ! nosuchelement_onair", "primary source"); }) ==
        "primary source: no element \"nosuchelement_onair\"");
}

TEST_CASE("quote_escape keeps user text inside its quotes") {
  CHECK(onair::media::quote_escape(R"(say "hi" \o/)") == R"(say \"hi\" \\o/)");
}
