// A small MPEG-TS muxer for one H.264 and one AAC (ADTS) stream, built for latency: each access
// unit becomes TS packets the moment it is handed in. GStreamer 1.22's mpegtsmux holds every
// video frame until the audio encoder has produced audio past it (AAC frames are 21 ms plus
// mixer latency: 20-50 ms measured); here video never waits for audio. Audio may follow its
// video by a few tens of ms, which the PCR delay covers (a T-STD-conformant stream).
// Pure byte work: no GStreamer, no clock of its own (times are passed in), not thread-safe.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace onair::program {

class TsMuxer {
 public:
  static constexpr uint16_t kPmtPid = 0x1000;
  static constexpr uint16_t kVideoPid = 0x100;  // also the PCR PID
  static constexpr uint16_t kAudioPid = 0x101;
  static constexpr int64_t kClock = 90000;                 // PTS/PCR base clock, Hz
  static constexpr int64_t kPcrDelay = kClock / 8;         // PCR runs 125 ms behind "now" (as mpegtsmux)
  static constexpr int64_t kTablesInterval = kClock / 10;  // PAT/PMT at least every 100 ms
  static constexpr int64_t kPcrInterval = kClock / 25;     // a PCR at least every 40 ms (DVB)

  explicit TsMuxer(bool with_audio) : with_audio_(with_audio) {}

  // Appends the TS packets of one H.264 access unit (Annex B; an AUD is added when missing).
  // Times on the 90 kHz clock: pts/dts of the frame (dts < 0: same as pts), now = the muxer's
  // clock (the PCR is now − kPcrDelay). A keyframe starts with PAT and PMT and is flagged as a
  // random access point. The first packet of each stream flags a discontinuity.
  void video(std::vector<uint8_t>& out, const uint8_t* au, size_t size, int64_t pts, int64_t dts, int64_t now,
             bool keyframe);
  // Appends the TS packets of one ADTS AAC frame (or several, back to back).
  void audio(std::vector<uint8_t>& out, const uint8_t* adts, size_t size, int64_t pts, int64_t now);

 private:
  void tables(std::vector<uint8_t>& out, int64_t now);
  void pcr_only(std::vector<uint8_t>& out, int64_t now);
  void packetize(std::vector<uint8_t>& out, uint16_t pid, const std::vector<uint8_t>& pes, bool with_pcr, int64_t now,
                 bool random_access);
  uint8_t next_cc(uint16_t pid);
  static size_t index_of(uint16_t pid);

  const bool with_audio_;
  std::array<uint8_t, 4> cc_{};    // PAT, PMT, video, audio
  std::array<bool, 4> started_{};  // a PES packet went out on this PID
  int64_t last_tables_ = -1;
  int64_t last_pcr_ = -1;
  std::vector<uint8_t> pes_;  // reused between calls
};

// CRC-32/MPEG-2 of PSI sections (poly 0x04C11DB7, init all ones, no reflection).
uint32_t mpeg_crc32(const uint8_t* data, size_t size);

}  // namespace onair::program
