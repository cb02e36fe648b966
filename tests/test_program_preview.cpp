// The panel preview against a real GStreamer sink: the last frame as a JPEG of the right size,
// made only when asked, cached briefly, concurrent requests sharing one conversion.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "media/gst.hpp"
#include "program/preview.hpp"

using namespace onair;
using namespace std::chrono_literals;

namespace {

// videotestsrc → a sink named "display", as every pipelines/displays fragment ends.
struct DisplayPipeline {
  media::ElementPtr pipeline;
  explicit DisplayPipeline(const std::string& caps) {
    media::init_gstreamer();
    pipeline = media::parse_pipeline("videotestsrc is-live=true ! " + caps + " ! fakesink name=display sync=false", "test display");
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  }
  ~DisplayPipeline() { gst_element_set_state(pipeline.get(), GST_STATE_NULL); }
  media::ElementPtr sink() const { return media::child(pipeline.get(), "display"); }
  bool has_frame() const {
    GstSample* raw = nullptr;
    g_object_get(sink().get(), "last-sample", &raw, nullptr);
    const media::SamplePtr sample{raw};
    return sample != nullptr;
  }
};

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);  // polling a GStreamer property, bounded by `limit`
  }
  return pred();
}

// Width and height from a JPEG's start-of-frame marker.
std::pair<int, int> jpeg_size(const std::string& jpeg) {
  for (size_t i = 2; i + 9 < jpeg.size();) {
    if (uint8_t(jpeg[i]) != 0xff) break;
    const uint8_t marker = uint8_t(jpeg[i + 1]);
    if (marker == 0xc0 || marker == 0xc2)
      return {(uint8_t(jpeg[i + 7]) << 8) | uint8_t(jpeg[i + 8]), (uint8_t(jpeg[i + 5]) << 8) | uint8_t(jpeg[i + 6])};
    i += 2 + ((uint8_t(jpeg[i + 2]) << 8) | uint8_t(jpeg[i + 3]));
  }
  return {0, 0};
}

struct Answer {
  std::optional<std::string> jpeg;
  std::string error;
};

Answer grab(program::PreviewGrabber& grabber, media::ElementPtr sink) {
  auto promise = std::make_shared<std::promise<Answer>>();
  auto future = promise->get_future();
  grabber.grab(std::move(sink), [promise](std::optional<std::string> jpeg, std::string error) {
    promise->set_value({std::move(jpeg), std::move(error)});
  });
  REQUIRE(future.wait_for(10s) == std::future_status::ready);
  return future.get();
}

}  // namespace

TEST_CASE("snapshot_jpeg: the sink's last frame, scaled to max_width with its aspect kept") {
  DisplayPipeline display{"video/x-raw,format=I420,width=1280,height=720,framerate=30/1"};
  REQUIRE(wait_for([&] { return display.has_frame(); }, 10s));
  std::string error;
  const auto jpeg = program::snapshot_jpeg(display.sink().get(), 640, 2000, &error);
  REQUIRE_MESSAGE(jpeg, error);
  CHECK(jpeg->starts_with("\xff\xd8"));
  CHECK(jpeg_size(*jpeg) == std::pair{640, 360});
  const auto small = program::snapshot_jpeg(display.sink().get(), 2000, 2000, &error);  // never scaled up
  REQUIRE(small);
  CHECK(jpeg_size(*small) == std::pair{1280, 720});
}

TEST_CASE("snapshot_jpeg: a sink that has shown nothing yet says so") {
  media::init_gstreamer();
  const auto sink = media::adopt_floating(gst_element_factory_make("fakesink", "display"));
  std::string error;
  CHECK_FALSE(program::snapshot_jpeg(sink.get(), 640, 2000, &error));
  CHECK(error == "the display has shown no frame yet");
}

TEST_CASE("PreviewGrabber: nothing made until asked; a cache for 0.5 s; concurrent asks share one") {
  DisplayPipeline display{"video/x-raw,format=I420,width=640,height=360,framerate=30/1"};
  REQUIRE(wait_for([&] { return display.has_frame(); }, 10s));
  program::PreviewGrabber grabber{{.max_width = 320, .cache_ms = 500, .timeout_ms = 2000}};
  CHECK(grabber.conversions() == 0);  // nobody asked: no work

  const auto first = grab(grabber, display.sink());
  REQUIRE_MESSAGE(first.jpeg, first.error);
  CHECK(jpeg_size(*first.jpeg) == std::pair{320, 180});
  const auto again = grab(grabber, display.sink());  // within the cache window
  CHECK(again.jpeg == first.jpeg);
  CHECK(grabber.conversions() == 1);

  REQUIRE(wait_for([&] { return grab(grabber, display.sink()).jpeg != first.jpeg; }, 5s));  // after it: fresh
  const auto made = grabber.conversions();
  std::this_thread::sleep_for(600ms);  // let the cache expire (timing is the subject here)
  std::vector<std::future<Answer>> asks;
  for (int i = 0; i < 8; ++i) asks.push_back(std::async(std::launch::async, [&] { return grab(grabber, display.sink()); }));
  for (auto& ask : asks) CHECK(ask.get().jpeg.has_value());
  CHECK(grabber.conversions() - made <= 2);  // 8 viewers at once share a conversion, not eight

  const auto none = grab(grabber, nullptr);
  CHECK_FALSE(none.jpeg);
  CHECK(none.error == "the program pipeline is not running");
}
