#include "support/ts_packets.hpp"

#include <array>
#include <functional>

namespace onair::test {
namespace {

constexpr std::size_t kPacket = 188;
constexpr std::size_t kPids = 8192;

// In sync at p: 0x47 there and at the next two packet starts that exist.
bool synced_at(const std::vector<uint8_t>& ts, std::size_t p) {
  for (std::size_t q = p; q < ts.size() && q < p + 3 * kPacket; q += kPacket) {
    if (ts[q] != 0x47) return false;
  }
  return true;
}

std::size_t next_sync(const std::vector<uint8_t>& ts, std::size_t p) {
  while (p + kPacket <= ts.size() && !synced_at(ts, p)) ++p;
  return p;
}

std::size_t pid_of(const uint8_t* p) {
  return static_cast<std::size_t>(((p[1] & 0x1F) << 8) | p[2]);
}
// A packet starting a PES (not a PSI section): payload_unit_start and 00 00 01 after any adaptation
// field.
bool pes_start(const uint8_t* p) {
  if (!(p[1] & 0x40) || !(p[3] & 0x10)) return false;
  const std::size_t off = (p[3] & 0x20) ? 5u + p[4] : 4u;
  return off + 3 <= kPacket && p[off] == 0 && p[off + 1] == 0 && p[off + 2] == 1;
}

// Calls on_packet(offset) for each packet in sync and on_junk(begin, end) for bytes out of sync
// after the first sync; returns the number of times sync was lost after being found.
std::size_t walk(const std::vector<uint8_t>& ts, const std::function<void(std::size_t)>& on_packet,
                 const std::function<void(std::size_t, std::size_t)>& on_junk) {
  std::size_t pos = next_sync(ts, 0);
  std::size_t losses = 0;
  while (pos + kPacket <= ts.size()) {
    if (ts[pos] != 0x47) {
      ++losses;
      const std::size_t resync = next_sync(ts, pos);
      on_junk(pos, resync);
      pos = resync;
      continue;
    }
    on_packet(pos);
    pos += kPacket;
  }
  return losses;
}

}  // namespace

TsPacketStats scan_ts_packets(const std::vector<uint8_t>& ts) {
  TsPacketStats stats;
  std::vector<int> last_cc(kPids, -1);
  stats.sync_errors = walk(
      ts,
      [&](std::size_t pos) {
        const uint8_t* p = &ts[pos];
        ++stats.packets;
        const std::size_t pid = pid_of(p);
        const int afc = (p[3] >> 4) & 0x3;
        const int cc = p[3] & 0x0F;
        if (pid == 0x1FFF || !(afc & 0x1)) return;  // null and payload-less packets keep their CC
        const bool discontinuity = (afc & 0x2) && p[4] > 0 && (p[5] & 0x80);
        const int last = last_cc[pid];
        if (last >= 0 && !discontinuity && cc != ((last + 1) & 0x0F) && cc != last)
          ++stats.cc_errors;
        last_cc[pid] = cc;
      },
      [](std::size_t, std::size_t) {});
  if (stats.packets == 0 && ts.size() >= kPacket) ++stats.sync_errors;  // no TS here at all
  return stats;
}

std::vector<uint8_t> drop_unfinished_pes(const std::vector<uint8_t>& ts, std::size_t& dropped) {
  std::vector<std::size_t> last_start(kPids, SIZE_MAX);
  walk(
      ts,
      [&](std::size_t pos) {
        if (pes_start(&ts[pos])) last_start[pid_of(&ts[pos])] = pos;
      },
      [](std::size_t, std::size_t) {});
  dropped = 0;
  if (scan_ts_packets(ts).packets == 0) return ts;  // not TS at all: let the demuxer judge it
  std::vector<uint8_t> out;
  out.reserve(ts.size());
  walk(
      ts,
      [&](std::size_t pos) {
        const std::size_t start = last_start[pid_of(&ts[pos])];
        if (start != SIZE_MAX && pos >= start) {
          ++dropped;
          return;
        }
        out.insert(out.end(), ts.begin() + static_cast<std::ptrdiff_t>(pos),
                   ts.begin() + static_cast<std::ptrdiff_t>(pos + kPacket));
      },
      [&](std::size_t begin, std::size_t end) {
        out.insert(out.end(), ts.begin() + static_cast<std::ptrdiff_t>(begin),
                   ts.begin() + static_cast<std::ptrdiff_t>(end));
      });
  return out;
}

}  // namespace onair::test
