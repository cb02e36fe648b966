// The panel's preview: the program picture as a small JPEG, taken from the display sink's
// last-sample only when someone asks, converted on a thread of its own (never on the main loop
// or the io thread), and cached briefly so many viewers cost one conversion.
#pragma once

#include <gst/gst.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "media/gst.hpp"

namespace onair::program {

struct PreviewOptions {
  int max_width = 640;       // scaled down (aspect kept) to at most this
  int cache_ms = 500;        // a picture younger than this is served again
  int timeout_ms = 2000;     // one conversion's limit
};

// The sink's last frame as JPEG; nullopt and *error set when it has none or conversion fails.
std::optional<std::string> snapshot_jpeg(GstElement* sink, int max_width, int timeout_ms, std::string* error);

class PreviewGrabber {
 public:
  using Done = std::function<void(std::optional<std::string> jpeg, std::string error)>;

  explicit PreviewGrabber(PreviewOptions options = {});
  ~PreviewGrabber();  // answers whoever still waits with an error, then joins
  PreviewGrabber(const PreviewGrabber&) = delete;
  PreviewGrabber& operator=(const PreviewGrabber&) = delete;

  // Any thread. `sink` is the display sink (null: no program running). `done` runs once: at once
  // on the caller's thread from the cache or on an error, else on the grabber's thread.
  void grab(media::ElementPtr sink, Done done);
  uint64_t conversions() const;  // how many JPEGs were really made

 private:
  void run();

  const PreviewOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  media::ElementPtr sink_;     // the one to convert next
  std::vector<Done> waiting_;  // answered together by the next conversion
  bool stopping_ = false;
  std::string cached_;
  std::chrono::steady_clock::time_point cached_at_{};
  uint64_t conversions_ = 0;
  std::thread thread_;
};

}  // namespace onair::program
