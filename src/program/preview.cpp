#include "program/preview.hpp"

#include <gst/video/video.h>
#include <spdlog/spdlog.h>

#include <algorithm>

namespace onair::program {

std::optional<std::string> snapshot_jpeg(GstElement* sink, int max_width, int timeout_ms, std::string* error) {
  GstSample* raw = nullptr;
  g_object_get(sink, "last-sample", &raw, nullptr);
  const media::SamplePtr sample{raw};
  if (!sample) {
    *error = "the display has shown no frame yet";
    return std::nullopt;
  }
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get())) || info.width <= 0) {
    *error = "the display's frame has no video format";
    return std::nullopt;
  }
  const int width = std::min(std::max(16, max_width), GST_VIDEO_INFO_WIDTH(&info)) & ~1;
  const int height = std::max(2, int(int64_t(GST_VIDEO_INFO_HEIGHT(&info)) * width / GST_VIDEO_INFO_WIDTH(&info)) & ~1);
  const media::CapsPtr jpeg_caps{gst_caps_new_simple("image/jpeg", "width", G_TYPE_INT, width, "height", G_TYPE_INT,
                                                     height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr)};
  GError* raw_error = nullptr;
  const media::SamplePtr jpeg{
      gst_video_convert_sample(sample.get(), jpeg_caps.get(), GstClockTime(timeout_ms) * GST_MSECOND, &raw_error)};
  const media::GErrorPtr convert_error{raw_error};
  if (!jpeg) {
    *error = std::string("JPEG conversion failed: ") + (convert_error ? convert_error->message : "no sample");
    return std::nullopt;
  }
  GstBuffer* buffer = gst_sample_get_buffer(jpeg.get());
  GstMapInfo map;
  if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    *error = "JPEG conversion gave no readable buffer";
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(map.data), map.size);
  gst_buffer_unmap(buffer, &map);
  return out;
}

PreviewGrabber::PreviewGrabber(PreviewOptions options) : options_(options), thread_([this] { run(); }) {}

PreviewGrabber::~PreviewGrabber() {
  std::vector<Done> waiting;
  {
    std::lock_guard lock{mutex_};
    stopping_ = true;
    waiting.swap(waiting_);
  }
  wake_.notify_all();
  thread_.join();
  for (auto& done : waiting) done(std::nullopt, "onair is shutting down");
}

uint64_t PreviewGrabber::conversions() const {
  std::lock_guard lock{mutex_};
  return conversions_;
}

void PreviewGrabber::grab(media::ElementPtr sink, Done done) {
  if (!sink) return done(std::nullopt, "the program pipeline is not running");
  std::unique_lock lock{mutex_};
  const auto now = std::chrono::steady_clock::now();
  if (!cached_.empty() && now - cached_at_ < std::chrono::milliseconds(options_.cache_ms)) {
    auto copy = cached_;
    lock.unlock();
    return done(std::move(copy), "");
  }
  if (stopping_) {
    lock.unlock();
    return done(std::nullopt, "onair is shutting down");
  }
  sink_ = std::move(sink);
  waiting_.push_back(std::move(done));
  lock.unlock();
  wake_.notify_one();
}

void PreviewGrabber::run() {
  std::unique_lock lock{mutex_};
  while (true) {
    wake_.wait(lock, [this] { return stopping_ || !waiting_.empty(); });
    if (stopping_) return;
    auto sink = std::move(sink_);
    auto waiting = std::move(waiting_);
    waiting_.clear();
    lock.unlock();
    std::string error;
    auto jpeg = snapshot_jpeg(sink.get(), options_.max_width, options_.timeout_ms, &error);
    sink.reset();
    if (!jpeg) spdlog::debug("preview: {}", error);
    lock.lock();
    if (jpeg) {
      cached_ = *jpeg;
      cached_at_ = std::chrono::steady_clock::now();
      ++conversions_;
    }
    lock.unlock();
    for (auto& done : waiting) done(jpeg, error);
    lock.lock();
  }
}

}  // namespace onair::program
