// Receives and decodes a stream with libavformat/libavcodec and records what each decoded video
// frame looked like on arrival: when, its timestamp, its onair capture stamps (SEI and drawn).
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"

namespace onair::probe {

struct FrameRecord {
  int64_t decoded_us = 0;  // wall clock when the decoder handed the frame out
  double pts_s = 0;        // stream timestamp
  bool key = false;
  std::optional<int64_t> capture_us;  // onair's SEI capture stamp, when present
  std::optional<int64_t> drawn_us;    // the capture stamp drawn in the picture, when present
};

struct Capture {
  std::string error;  // why the stream could not be received (empty: it was)
  bool connected = false;
  int64_t start_us = 0;      // wall clock when the probe started
  int64_t connected_us = 0;  // ... when the input was open (SRT connected)
  int64_t end_us = 0;        // ... when receiving stopped
  std::string ended_by;      // duration | interrupted | end of stream | no data for N s | read error: ...
  uint64_t bytes = 0;        // transport bytes read
  std::string video_codec, video_profile, pix_fmt;
  int width = 0, height = 0;
  std::string audio_codec;
  int sample_rate = 0, channels = 0;
  uint64_t audio_frames = 0;
  uint64_t video_decode_errors = 0, audio_decode_errors = 0, corrupt_packets = 0;
  std::vector<FrameRecord> frames;
};

// Receives until `options.duration_s` of stream (counted after warmup_s from the first frame), the
// end of the stream, no data for `options.timeout_s`, or `*stop` (Ctrl-C).
Capture receive(const Options& options, const std::atomic<bool>* stop);

}  // namespace onair::probe
