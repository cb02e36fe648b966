// Whether a source is fit for air, from when its frames and (network sources) its bytes last
// arrived, and when a connected source must be restarted. Pure: times in, verdict out.
//
// Why two signals for network sources: a phone's frames cross SRT, tsdemux and a decoder on a
// busy box, so decoded frames can arrive 100+ ms apart while the phone is perfectly alive; the
// bytes under them arrive paced by SRT's own latency buffer. "No bytes for detect_timeout" is
// a lost phone (fail over at once); "bytes but no frame" is a local stall, which gets the
// longer frame_stall_ms before it counts, so a hiccup never costs a failback hold.
#pragma once

#include <cstdint>
#include <string>

namespace onair::sources {

struct HealthOptions {
  int detect_timeout_ms = 100;         // failover.detect_timeout_ms
  int frame_stall_ms = 500;            // network: bytes arrive but no frame for this long
  int link_timeout_ms = 1000;          // network: a connected peer sent nothing this long: dead link
  int first_frame_timeout_ms = 10000;  // network: connected, no frame yet (a long GOP is fine)
};

struct HealthInput {
  int64_t now_us = 0;
  int64_t last_frame_us = 0;     // 0 = no frame in this run
  bool network = false;          // bytes are observed apart from frames (SRT)
  int64_t last_input_us = 0;     // network: last byte; 0 = none
  bool connected = false;        // network: a peer is connected now
  int64_t connected_us = 0;      // network: since when
  double frame_interval_ms = 0;  // the source's own frame interval; 0 = unknown
};

enum class HealthAction {
  none,
  restart_dead_link,  // the peer vanished without closing: reopen so it (or another) can call again
  restart_no_video,   // connected and sending, but nothing decodable comes out
};

struct HealthVerdict {
  bool healthy = false;
  int timeout_ms = 0;  // this source's detect timeout: the configured one, or two of its frames
  std::string reason;  // why not healthy (empty when healthy)
  HealthAction action = HealthAction::none;
};

HealthVerdict judge_health(const HealthInput& in, const HealthOptions& options);

}  // namespace onair::sources
