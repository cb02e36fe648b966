#include "support/frame_sender.hpp"

#include <signal.h>

namespace onair::test {
namespace {

std::string srt_url(uint16_t port, int latency_ms) {
  // ffmpeg's srt:// takes the latency in microseconds.
  return "srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=" + std::to_string(latency_ms * 1000) +
         "&connect_timeout=2000";
}

}  // namespace

FrameSender::FrameSender(SenderSpec spec) : spec_(std::move(spec)) {}

FrameSender::~FrameSender() = default;

std::vector<std::string> FrameSender::args(uint16_t port, int latency_ms) const {
  std::vector<std::string> a = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re"};
  const std::string size = std::to_string(spec_.width) + "x" + std::to_string(spec_.height);
  if (!spec_.video_codec.empty()) {
    // A solid colour fills the centre (what the tests classify); a small moving pattern in a
    // corner keeps every frame different, as a camera's would be.
    const std::string pattern = std::to_string(spec_.width / 4) + "x" + std::to_string(spec_.height / 4);
    a.insert(a.end(), {"-f", "lavfi", "-i", "color=c=" + spec_.color + ":s=" + size + ":r=" + spec_.rate,
                       "-f", "lavfi", "-i", "testsrc2=s=" + pattern + ":r=" + spec_.rate});
  }
  if (!spec_.audio_codec.empty()) a.insert(a.end(), {"-f", "lavfi", "-i", "sine=f=660:sample_rate=48000"});
  if (!spec_.video_codec.empty()) {
    std::string graph = "[0:v][1:v]overlay=x=0:y=0,format=yuv420p";
    if (spec_.variable_rate) graph += ",select='not(eq(mod(n\\,7)\\,3))'";
    a.insert(a.end(), {"-filter_complex", graph + "[v]", "-map", "[v]", "-fps_mode", spec_.variable_rate ? "vfr" : "cfr",
                       "-c:v", spec_.video_codec, "-g", std::to_string(spec_.gop_frames)});
    if (spec_.video_codec == "libx264" || spec_.video_codec == "libx265")
      a.insert(a.end(), {"-preset", "ultrafast", "-tune", "zerolatency"});
    if (spec_.video_codec == "libx265") a.insert(a.end(), {"-x265-params", "log-level=error"});
    if (spec_.video_codec == "vc2" || spec_.video_codec == "libvpx") a.insert(a.end(), {"-b:v", "1M"});
  }
  if (!spec_.audio_codec.empty())
    a.insert(a.end(), {"-map", spec_.video_codec.empty() ? "0:a" : "2:a", "-c:a", spec_.audio_codec, "-ar", "48000"});
  a.insert(a.end(), {"-f", "mpegts", srt_url(port, latency_ms)});
  return a;
}

void FrameSender::start(uint16_t port, int latency_ms) {
  if (process_) last_log_ = process_->log_text();
  process_ = std::make_unique<ChildProcess>(args(port, latency_ms));
}

bool FrameSender::running() { return process_ && process_->running(); }

void FrameSender::stop(int signo) {
  if (!process_) return;
  process_->signal(signo);
  process_->wait_exit(5s);
  last_log_ = process_->log_text();
  process_.reset();
}

std::string FrameSender::log() const { return process_ ? process_->log_text() : last_log_; }

std::vector<std::string> raw_sender_args(const std::filesystem::path& file, int bytes_per_second, uint16_t port) {
  return {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-re", "-f", "u8", "-ar", std::to_string(bytes_per_second),
          "-ac", "1", "-i", file.string(), "-c:a", "copy", "-f", "u8", srt_url(port, 120)};
}

}  // namespace onair::test
