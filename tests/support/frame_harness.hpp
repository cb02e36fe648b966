// A real SourceSupervisor on a real main loop, for the sources tests (header-only: only the
// tests that link onair_sources include it). It polls every 10 ms like onair's media tick and
// records what the appsinks deliver: canonical caps, frame and audio counts.
#pragma once

#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "media/gst.hpp"
#include "media/main_loop.hpp"
#include "sources/supervisor.hpp"
#include "support/process.hpp"

namespace onair::test {

struct Delivered {
  std::atomic<uint64_t> video{0};
  std::atomic<uint64_t> audio{0};
  std::mutex mutex;
  std::string video_caps;  // caps of the last canonical frame
  std::string audio_caps;
};

class SourceHarness {
 public:
  // One srt listener source as the primary on `port` (canonical 640x360 at 30 fps).
  SourceHarness(uint16_t port, sources::SupervisorOptions options = {}) {
    media::init_gstreamer();
    config::SourceConfig source;
    source.type = "srt";
    source.url.mode = config::SrtMode::listener;
    source.url.host = "127.0.0.1";
    source.url.port = port;
    source.url.latency_ms = 120;
    std::vector<sources::SourceSpec> specs;
    specs.push_back({sources::Role::primary, source, "", "", {640, 360, 30}, ONAIR_SOURCE_DIR "/pipelines"});
    loop_.run_sync([&] {
      supervisor_ = std::make_unique<sources::SourceSupervisor>(
          loop_, std::move(specs), [this](sources::Role, GstSample* s, GstClockTime) { record(s, true); },
          [this](sources::Role, GstSample* s, GstClockTime) { record(s, false); }, options);
      supervisor_->start_all();
      // Guarded: the GLib default context outlives this harness (the next test's loop runs it).
      loop_.every(10, [this, alive = alive_] {
        if (!*alive || !supervisor_) return false;
        auto statuses = supervisor_->poll(media::monotonic_us());
        std::lock_guard lock(mutex_);
        status_ = statuses.front();
        return true;
      });
    });
  }
  ~SourceHarness() {
    loop_.run_sync([&] {
      *alive_ = false;
      supervisor_.reset();
    });
  }

  sources::SourceStatus status() {
    std::lock_guard lock(mutex_);
    return status_;
  }
  bool wait_status(const std::function<bool(const sources::SourceStatus&)>& pred, std::chrono::milliseconds timeout) {
    return wait_until([&] { return pred(status()); }, timeout);
  }
  Delivered& delivered() { return delivered_; }
  std::string video_caps() {
    std::lock_guard lock(delivered_.mutex);
    return delivered_.video_caps;
  }
  std::string audio_caps() {
    std::lock_guard lock(delivered_.mutex);
    return delivered_.audio_caps;
  }

 private:
  void record(GstSample* sample, bool video) {
    (video ? delivered_.video : delivered_.audio).fetch_add(1);
    const std::string caps = media::caps_to_string(gst_sample_get_caps(sample));
    std::lock_guard lock(delivered_.mutex);
    (video ? delivered_.video_caps : delivered_.audio_caps) = caps;
  }

  media::MainLoop loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // loop thread only
  std::unique_ptr<sources::SourceSupervisor> supervisor_;
  std::mutex mutex_;
  sources::SourceStatus status_;
  Delivered delivered_;
};

// Resident memory of this process, in MB.
inline double rss_mb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  return 0;
}

}  // namespace onair::test
