// MPEG-TS packet-level checks that need no demuxer: sync, continuity, unfinished PES.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace onair::test {

struct TsPacketStats {
  std::size_t packets = 0;      // 188-byte packets found in sync
  std::size_t sync_errors = 0;  // stretches where sync was lost (or never found)
  std::size_t cc_errors = 0;    // continuity counter jumps: TS packets lost on a PID
};

// Bytes before the first sync (a capture joined mid-packet) and a trailing partial packet
// are not errors.
TsPacketStats scan_ts_packets(const std::vector<uint8_t>& ts);

// A copy without each PES stream's last PES (from its last PES-starting packet on): a capture
// stopped at any byte may have cut it short, and a PES without a length (video) can't tell.
// PSI and bytes out of sync are kept as they are; input without any TS sync is returned as is.
// `dropped` = TS packets left out.
std::vector<uint8_t> drop_unfinished_pes(const std::vector<uint8_t>& ts, std::size_t& dropped);

}  // namespace onair::test
