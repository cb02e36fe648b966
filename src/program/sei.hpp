// onair's capture stamp in H.264: one SEI user_data_unregistered message per access unit,
// payload = the 16-byte UUID below + the frame's capture time as 8-byte big-endian microseconds
// since the Unix epoch. Players ignore it; any receiver (onair-probe) can measure latency with it.
// Pure byte work, header-only, so tools can read stamps without linking the media code.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace onair::program::sei {

// 3c0f54d4-7c54-4385-b6f8-ceac4c576701 (random, version 4; documented in the README).
inline constexpr std::array<uint8_t, 16> kStampUuid = {0x3c, 0x0f, 0x54, 0xd4, 0x7c, 0x54, 0x43, 0x85,
                                                       0xb6, 0xf8, 0xce, 0xac, 0x4c, 0x57, 0x67, 0x01};
inline constexpr size_t kStampPayloadSize = 24;  // UUID + 8-byte time
inline constexpr size_t npos = static_cast<size_t>(-1);

// The complete NAL unit, 4-byte start code first, ready to splice into an Annex B access unit.
inline std::vector<uint8_t> stamp_nal(int64_t capture_us) {
  std::vector<uint8_t> rbsp = {5, static_cast<uint8_t>(kStampPayloadSize)};  // payload type, size
  rbsp.insert(rbsp.end(), kStampUuid.begin(), kStampUuid.end());
  for (int shift = 56; shift >= 0; shift -= 8) rbsp.push_back(static_cast<uint8_t>(uint64_t(capture_us) >> shift));
  rbsp.push_back(0x80);                           // rbsp_trailing_bits
  std::vector<uint8_t> nal = {0, 0, 0, 1, 0x06};  // start code, nal_unit_type 6 (SEI)
  int zeros = 0;
  for (uint8_t byte : rbsp) {
    // Emulation prevention: 00 00 followed by 00..03 would read as a start code.
    if (zeros == 2 && byte <= 3) {
      nal.push_back(3);
      zeros = 0;
    }
    nal.push_back(byte);
    zeros = byte == 0 ? zeros + 1 : 0;
  }
  return nal;
}

// Where the first VCL NAL unit (slice, types 1..5) of an Annex B access unit starts, at its
// start code (a 4-byte one included); npos when there is none.
inline size_t first_vcl_offset(const uint8_t* data, size_t size) {
  for (size_t i = 0; i + 3 < size; ++i) {
    if (data[i] != 0 || data[i + 1] != 0 || data[i + 2] != 1) continue;
    const int type = data[i + 3] & 0x1f;
    if (type >= 1 && type <= 5) return (i > 0 && data[i - 1] == 0) ? i - 1 : i;
    i += 2;
  }
  return npos;
}

// A copy of an Annex B access unit with the stamp inserted before its first slice (after any
// AUD, SPS, PPS and other SEI, as H.264 orders NAL units); unchanged when it has no slice.
inline std::vector<uint8_t> stamped_access_unit(const uint8_t* au, size_t size, int64_t capture_us) {
  const size_t at = first_vcl_offset(au, size);
  if (at == npos) return std::vector<uint8_t>(au, au + size);
  const auto nal = stamp_nal(capture_us);
  std::vector<uint8_t> out;
  out.reserve(size + nal.size());
  out.insert(out.end(), au, au + at);
  out.insert(out.end(), nal.begin(), nal.end());
  out.insert(out.end(), au + at, au + size);
  return out;
}

// The capture time in a user_data_unregistered payload (UUID first, emulation prevention
// already removed, as decoders hand it out); nullopt when it is not onair's stamp.
inline std::optional<int64_t> parse_stamp(const uint8_t* payload, size_t size) {
  if (size < kStampPayloadSize) return std::nullopt;
  for (size_t i = 0; i < kStampUuid.size(); ++i)
    if (payload[i] != kStampUuid[i]) return std::nullopt;
  uint64_t us = 0;
  for (size_t i = 16; i < 24; ++i) us = (us << 8) | payload[i];
  return static_cast<int64_t>(us);
}

}  // namespace onair::program::sei
