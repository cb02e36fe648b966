// Decodes a captured MPEG-TS stream with libavformat/libavcodec and reports what a viewer
// would get: codecs, size, rate, keyframes, timestamps and every sign of damage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "support/ts_packets.hpp"

namespace onair::test {

// One decoded video frame, in decoder output (display) order.
struct FrameInfo {
  double pts_s = 0;
  bool key = false;
  char pict_type = '?';  // 'I', 'P', 'B', ...
  // H.264 SEI user-data-unregistered payloads (16-byte UUID first), e.g. onair's capture stamp.
  std::vector<std::vector<uint8_t>> sei_unregistered;
};

// What counts as an error (everything after the start point below):
//  - video/audio decode errors: avcodec_send_packet or avcodec_receive_frame failing (other than
//    EAGAIN/EOF), and decoded frames flagged decode_error_flags or AV_FRAME_FLAG_CORRUPT;
//  - corrupt_packets: demuxed packets flagged AV_PKT_FLAG_CORRUPT (e.g. a lost TS packet);
//  - ts_sync_errors / ts_cc_errors: 188-byte packets not starting with 0x47, and continuity
//    counter jumps on a PID (a lost or reordered TS packet), counted over the raw bytes;
//  - log_errors: libav log lines at AV_LOG_ERROR or worse while analysing (texts in log_messages).
// What does not count: a capture joins a stream at any point, so bytes before the first TS sync,
// video packets before the first keyframe packet (video_packets_skipped) and audio packets
// before it are skipped, and log lines are only counted from that keyframe on (the H.264 parser
// complains about slices without SPS/PPS before it); a capture ends at any byte, so the last
// PES of each stream (possibly cut short) is not decoded (tail_packets_dropped TS packets).
struct TsReport {
  std::string open_error;  // non-empty when the bytes could not be opened as MPEG-TS

  std::size_t ts_packets = 0;
  std::size_t ts_sync_errors = 0;
  std::size_t ts_cc_errors = 0;
  std::size_t corrupt_packets = 0;

  std::string video_codec;    // libavcodec name, e.g. "h264"
  std::string video_profile;  // e.g. "Constrained Baseline", "High"
  std::string pix_fmt;        // e.g. "yuv420p"
  int width = 0;
  int height = 0;
  double fps = 0;  // 1 / median pts delta of decoded frames
  std::size_t video_packets = 0;
  std::size_t video_packets_skipped = 0;
  std::size_t video_frames = 0;
  std::size_t video_decode_errors = 0;
  std::vector<double> keyframe_pts_s;
  double keyframe_interval_s = 0;  // median delta of keyframe_pts_s
  bool pts_monotonic = true;       // decoded video pts strictly increasing
  double first_video_pts_s = 0;
  double last_video_pts_s = 0;
  double duration_s = 0;  // last - first decoded video pts, plus one frame interval

  std::string audio_codec;  // e.g. "aac"
  int sample_rate = 0;
  int channels = 0;
  std::size_t audio_packets = 0;
  std::size_t audio_frames = 0;
  std::size_t audio_samples = 0;
  std::size_t audio_decode_errors = 0;

  std::size_t tail_packets_dropped = 0;
  std::size_t log_errors = 0;
  std::vector<std::string> log_messages;  // the first error-level libav lines, for diagnosis
  std::vector<FrameInfo> frames;

  bool has_video() const { return video_frames > 0; }
  bool has_audio() const { return audio_frames > 0; }
  std::size_t total_errors() const;  // everything listed as an error above
  std::string summary() const;       // one line for test messages: INFO(report.summary())
};

TsReport analyze_ts(const std::vector<uint8_t>& ts);
TsReport analyze_ts_file(const std::filesystem::path& path);

}  // namespace onair::test
