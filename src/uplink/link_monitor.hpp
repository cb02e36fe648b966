// Private to uplink/: per-connection libsrt statistics, lifetime totals, and a fast dead-peer
// check (libsrt's own SRTO_PEERIDLETIMEO needs 16 expiry rounds, about 5 s in 1.5.x).
#pragma once

#include <srt/srt.h>

#include <chrono>
#include <cstdint>

#include "uplink/uplink.hpp"

namespace onair::uplink {

class LinkMonitor {
 public:
  using Clock = std::chrono::steady_clock;

  // A new connection on `socket` began at `now`.
  void begin(SRTSOCKET socket, Clock::time_point now);
  // Reads libsrt's counters (cheap); call at least every few tens of milliseconds.
  void sample(Clock::time_point now);
  // Data is waiting for an ACK and the peer has said nothing (no ACK, NAK or data) for `idle`.
  bool peer_silent(Clock::time_point now, std::chrono::milliseconds idle) const;
  // Milliseconds since the peer was last heard while data was outstanding.
  int64_t silent_ms(Clock::time_point now) const;
  // One SRT message was handed to libsrt on this connection.
  void count_submitted() { ++submitted_; }
  // The connection is over: fold its totals into the lifetime totals.
  void end();

  bool connected() const { return socket_ != SRT_INVALID_SOCK; }
  double uptime_s(Clock::time_point now) const;
  // Fills the SRT fields of `stats` (RTT, buffers, rates, lifetime totals).
  void fill(SenderStats* stats, Clock::time_point now) const;

 private:
  struct Totals {
    uint64_t bytes_sent = 0;
    uint64_t packets_sent = 0;
    uint64_t packets_submitted = 0;
    uint64_t packets_lost = 0;
    uint64_t packets_retransmitted = 0;
    uint64_t packets_dropped = 0;
  };
  Totals current_totals() const;

  SRTSOCKET socket_ = SRT_INVALID_SOCK;
  SRT_TRACEBSTATS last_{};
  bool have_sample_ = false;
  Totals lifetime_;  // of connections already closed
  Clock::time_point connected_at_{};
  Clock::time_point last_heard_{};
  int64_t heard_count_ = 0;
  uint64_t submitted_ = 0;  // this connection's
};

}  // namespace onair::uplink
