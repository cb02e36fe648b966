#include "program/ts_muxer.hpp"

#include <algorithm>
#include <cstring>

namespace onair::program {
namespace {

constexpr size_t kPacket = 188;
constexpr int64_t kWrap = int64_t{1} << 33;           // PTS and PCR base are 33-bit counters
constexpr uint8_t kAud[] = {0, 0, 0, 1, 0x09, 0xf0};  // access unit delimiter, any picture type

void put_timestamp(std::vector<uint8_t>& out, uint8_t prefix, int64_t t) {
  t = ((t % kWrap) + kWrap) % kWrap;
  out.push_back(static_cast<uint8_t>((prefix << 4) | ((t >> 29) & 0x0e) | 1));
  out.push_back(static_cast<uint8_t>(t >> 22));
  out.push_back(static_cast<uint8_t>(((t >> 14) & 0xfe) | 1));
  out.push_back(static_cast<uint8_t>(t >> 7));
  out.push_back(static_cast<uint8_t>(((t << 1) & 0xfe) | 1));
}

// PES header with PTS (and DTS when it differs); length 0 = unbounded (video only).
void pes_header(std::vector<uint8_t>& out, uint8_t stream_id, size_t payload, int64_t pts, int64_t dts) {
  const bool with_dts = dts >= 0 && dts != pts;
  const size_t header_data = with_dts ? 10 : 5;
  const size_t length = 3 + header_data + payload;
  out.insert(out.end(), {0, 0, 1, stream_id});
  const size_t written = length > 0xffff ? 0 : length;
  out.push_back(static_cast<uint8_t>(written >> 8));
  out.push_back(static_cast<uint8_t>(written));
  out.push_back(0x84);  // '10', data_alignment_indicator: the payload starts with an access unit
  out.push_back(with_dts ? 0xc0 : 0x80);
  out.push_back(static_cast<uint8_t>(header_data));
  put_timestamp(out, with_dts ? 3 : 2, pts);
  if (with_dts) put_timestamp(out, 1, dts);
}

void put_pcr(uint8_t* p, int64_t pcr) {
  const int64_t base = ((pcr % kWrap) + kWrap) % kWrap;
  p[0] = static_cast<uint8_t>(base >> 25);
  p[1] = static_cast<uint8_t>(base >> 17);
  p[2] = static_cast<uint8_t>(base >> 9);
  p[3] = static_cast<uint8_t>(base >> 1);
  p[4] = static_cast<uint8_t>(((base & 1) << 7) | 0x7e);  // extension 0
  p[5] = 0;
}

// One PSI section in one packet: pointer field, section, CRC, 0xff fill.
void section_packet(std::vector<uint8_t>& out, uint16_t pid, uint8_t cc, const std::vector<uint8_t>& section) {
  uint8_t p[kPacket];
  std::memset(p, 0xff, sizeof p);
  p[0] = 0x47;
  p[1] = static_cast<uint8_t>(0x40 | (pid >> 8));
  p[2] = static_cast<uint8_t>(pid);
  p[3] = static_cast<uint8_t>(0x10 | cc);
  p[4] = 0;  // pointer_field
  std::memcpy(p + 5, section.data(), section.size());
  const uint32_t crc = mpeg_crc32(section.data(), section.size());
  for (int i = 0; i < 4; ++i) p[5 + section.size() + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  out.insert(out.end(), p, p + kPacket);
}

}  // namespace

uint32_t mpeg_crc32(const uint8_t* data, size_t size) {
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < size; ++i) {
    crc ^= static_cast<uint32_t>(data[i]) << 24;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 0x80000000) ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc;
}

size_t TsMuxer::index_of(uint16_t pid) { return pid == 0 ? 0 : pid == kPmtPid ? 1 : pid == kVideoPid ? 2 : 3; }

uint8_t TsMuxer::next_cc(uint16_t pid) {
  const uint8_t cc = cc_[index_of(pid)];
  cc_[index_of(pid)] = (cc + 1) & 0x0f;
  return cc;
}

void TsMuxer::tables(std::vector<uint8_t>& out, int64_t now) {
  last_tables_ = now;
  // PAT: program 1 → PMT PID. section_length counts from after itself to the end of the CRC.
  const std::vector<uint8_t> pat = {0x00,
                                    0xb0,
                                    13,
                                    0x00,
                                    0x01,
                                    0xc1,
                                    0x00,
                                    0x00,
                                    0x00,
                                    0x01,
                                    static_cast<uint8_t>(0xe0 | (kPmtPid >> 8)),
                                    static_cast<uint8_t>(kPmtPid & 0xff)};
  section_packet(out, 0, next_cc(0), pat);
  std::vector<uint8_t> pmt = {0x02,
                              0xb0,
                              0,
                              0x00,
                              0x01,
                              0xc1,
                              0x00,
                              0x00,
                              static_cast<uint8_t>(0xe0 | (kVideoPid >> 8)),
                              static_cast<uint8_t>(kVideoPid & 0xff),
                              0xf0,
                              0x00,
                              0x1b,
                              static_cast<uint8_t>(0xe0 | (kVideoPid >> 8)),
                              static_cast<uint8_t>(kVideoPid & 0xff),
                              0xf0,
                              0x00};
  if (with_audio_)
    pmt.insert(pmt.end(), {0x0f, static_cast<uint8_t>(0xe0 | (kAudioPid >> 8)), static_cast<uint8_t>(kAudioPid & 0xff),
                           0xf0, 0x00});
  pmt[2] = static_cast<uint8_t>(pmt.size() - 3 + 4);
  section_packet(out, kPmtPid, next_cc(kPmtPid), pmt);
}

void TsMuxer::pcr_only(std::vector<uint8_t>& out, int64_t now) {
  uint8_t p[kPacket];
  std::memset(p, 0xff, sizeof p);
  p[0] = 0x47;
  p[1] = static_cast<uint8_t>(kVideoPid >> 8);
  p[2] = static_cast<uint8_t>(kVideoPid);
  p[3] = static_cast<uint8_t>(0x20 | ((cc_[2] + 15) & 0x0f));  // no payload: repeats the last counter
  p[4] = 183;
  p[5] = 0x10;  // PCR flag
  put_pcr(p + 6, now - kPcrDelay);
  last_pcr_ = now;
  out.insert(out.end(), p, p + kPacket);
}

void TsMuxer::packetize(std::vector<uint8_t>& out, uint16_t pid, const std::vector<uint8_t>& pes, bool with_pcr,
                        int64_t now, bool random_access) {
  size_t at = 0;
  bool first = true;
  while (at < pes.size()) {
    uint8_t p[kPacket];
    // A new muxer (the program was rebuilt) restarts counters and clock: say so, once per PID.
    const bool discontinuity = first && !started_[index_of(pid)];
    const bool flags = first && (with_pcr || random_access || discontinuity);
    size_t adaptation = flags ? 2 + (with_pcr ? 6 : 0) : 0;  // length byte + flags (+ PCR)
    const size_t left = pes.size() - at;
    if (left < kPacket - 4 - adaptation) adaptation = kPacket - 4 - left;  // stuff the last packet
    p[0] = 0x47;
    p[1] = static_cast<uint8_t>((first ? 0x40 : 0) | (pid >> 8));
    p[2] = static_cast<uint8_t>(pid);
    p[3] = static_cast<uint8_t>((adaptation ? 0x30 : 0x10) | next_cc(pid));
    size_t pos = 4;
    if (adaptation) {
      p[pos++] = static_cast<uint8_t>(adaptation - 1);
      if (adaptation > 1) {
        p[pos++] = static_cast<uint8_t>((discontinuity ? 0x80 : 0) | (flags && random_access ? 0x40 : 0) |
                                        (flags && with_pcr ? 0x10 : 0));
        if (flags && with_pcr) {
          put_pcr(p + pos, now - kPcrDelay);
          pos += 6;
        }
        std::memset(p + pos, 0xff, 4 + adaptation - pos);
        pos = 4 + adaptation;
      }
    }
    const size_t chunk = kPacket - pos;
    std::memcpy(p + pos, pes.data() + at, chunk);
    at += chunk;
    first = false;
    out.insert(out.end(), p, p + kPacket);
  }
  started_[index_of(pid)] = true;
  if (with_pcr) last_pcr_ = now;
}

void TsMuxer::video(std::vector<uint8_t>& out, const uint8_t* au, size_t size, int64_t pts, int64_t dts, int64_t now,
                    bool keyframe) {
  if (keyframe || last_tables_ < 0 || now - last_tables_ >= kTablesInterval) tables(out, now);
  const bool has_aud = size >= 5 && au[0] == 0 && au[1] == 0 &&
                       ((au[2] == 1 && (au[3] & 0x1f) == 9) || (au[2] == 0 && au[3] == 1 && (au[4] & 0x1f) == 9));
  const size_t payload = size + (has_aud ? 0 : sizeof kAud);
  pes_.clear();
  pes_header(pes_, 0xe0, payload, pts, dts);
  if (!has_aud) pes_.insert(pes_.end(), kAud, kAud + sizeof kAud);
  pes_.insert(pes_.end(), au, au + size);
  packetize(out, kVideoPid, pes_, true, now, keyframe);
}

void TsMuxer::audio(std::vector<uint8_t>& out, const uint8_t* adts, size_t size, int64_t pts, int64_t now) {
  if (!with_audio_) return;
  if (last_tables_ < 0 || now - last_tables_ >= kTablesInterval) tables(out, now);
  if (last_pcr_ >= 0 && now - last_pcr_ >= kPcrInterval) pcr_only(out, now);
  pes_.clear();
  pes_header(pes_, 0xc0, size, pts, -1);
  pes_.insert(pes_.end(), adts, adts + size);
  packetize(out, kAudioPid, pes_, false, now, false);
}

}  // namespace onair::program
