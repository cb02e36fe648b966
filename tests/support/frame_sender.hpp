// A test "phone": ffmpeg encoding live (a solid colour with a small moving test pattern, a tone)
// and pushing MPEG-TS over SRT to onair, as Larix or Moblin would: one frame's bytes leave as
// it is encoded. (A pre-encoded clip sent with -re -c copy was tried: ffmpeg paces copied
// packets in bursts up to 260 ms apart, which no phone does.) Not thread-safe: the test thread
// owns it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace onair::test {

struct SenderSpec {
  std::string color = "blue";             // lavfi colour: blue = primary, red = backup (frame_content.hpp)
  int width = 320;
  int height = 240;
  std::string rate = "30";                // "30000/1001", "25", "60", ...
  bool variable_rate = false;             // drop every 7th frame: irregular frame intervals
  std::string video_codec = "libx264";    // libx264, libx265, vc2, libvpx; "" = no video
  std::string audio_codec = "aac";        // aac, libopus; "" = no audio
  int gop_frames = 30;
};

class FrameSender {
 public:
  explicit FrameSender(SenderSpec spec);
  ~FrameSender();
  FrameSender(const FrameSender&) = delete;
  FrameSender& operator=(const FrameSender&) = delete;

  // Starts pushing to srt://127.0.0.1:port as a caller (latency in ms).
  void start(uint16_t port, int latency_ms = 120);
  bool running();
  // SIGKILL = the phone vanished (battery, Wi-Fi gone); SIGTERM = the app closed the connection.
  void stop(int signo);
  std::string log() const;
  std::vector<std::string> args(uint16_t port, int latency_ms) const;  // the ffmpeg command

 private:
  SenderSpec spec_;
  std::unique_ptr<ChildProcess> process_;
  std::string last_log_;
};

// Sends raw bytes of a file, paced at `bytes_per_second`, to srt://127.0.0.1:port with no
// MPEG-TS framing of its own (random bytes, a truncated capture): ffmpeg's "u8 audio" trick.
std::vector<std::string> raw_sender_args(const std::filesystem::path& file, int bytes_per_second, uint16_t port);

}  // namespace onair::test
