// A small fluid model of an SRT uplink for the bitrate controller's tables: the encoder's
// rate goes into a link of a given capacity; what the link cannot carry piles up in SRT's send
// buffer (and is dropped by SRT once over a second old); random loss and jitter wobble the
// buffer and the RTT without making it grow. Pure and deterministic (seeded), no sockets.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>

#include "uplink/bitrate_controller.hpp"

namespace onair::uplink::test {

struct LinkConditions {
  double capacity_kbps = 100'000;  // what the link carries, all headers included
  double rtt_ms = 40;
  double loss_pct = 0;             // random loss: retransmissions keep lost packets ~2 RTT longer
  double jitter_ms = 0;            // per-packet extra delay, uniform 0..jitter, each way
  bool silent = false;             // blackout: nothing comes back
  bool connected = true;
};

class LinkModel {
 public:
  static constexpr double kPacketBits = 1316 * 8;
  static constexpr double kOverheadKbps = 160;  // audio + TS + SRT headers at any video rate
  static constexpr double kSrtDropMs = 1000;    // SRT drops what waited longer

  explicit LinkModel(uint64_t seed = 7) : random_(seed) {}

  // Advances by `dt_ms` with the encoder at `video_kbps`; returns what SRT would report.
  LinkSample step(int64_t now_ms, double dt_ms, int video_kbps, const LinkConditions& link) {
    const double offered_kbps = video_kbps * 1.04 + kOverheadKbps;
    const double offered_bits = offered_kbps * dt_ms;
    submitted_ += offered_bits / kPacketBits;
    if (!link.connected) {
      backlog_bits_ = 0;
      silent_ms_ = 0;
      ++connection_when_back_;
      return sample(now_ms, false, 0, 0);
    }
    if (connection_when_back_ > 0) {  // a reconnect starts a fresh connection
      connection_ += 1;
      connection_when_back_ = 0;
    }
    silent_ms_ = link.silent ? silent_ms_ + dt_ms : 0;
    // The RTT SRT measures now is that of packets sent a moment ago, before this step's backlog.
    const double queued_before_ms = backlog_bits_ / std::max(1.0, link.capacity_kbps);
    const double carried_bits = link.silent ? 0 : link.capacity_kbps * dt_ms;
    backlog_bits_ = std::max(0.0, backlog_bits_ + offered_bits - carried_bits);
    const double rate_kbps = link.silent ? offered_kbps : std::min(offered_kbps, link.capacity_kbps);
    double queue_ms = backlog_bits_ / std::max(1.0, rate_kbps);
    if (queue_ms > kSrtDropMs && !link.silent) {
      const double excess_bits = (queue_ms - kSrtDropMs) * rate_kbps;
      backlog_bits_ -= excess_bits;
      dropped_ += excess_bits / kPacketBits;
      queue_ms = kSrtDropMs;
    }
    // SRT smooths its RTT; queueing in the link shows up in it as well.
    const double rtt_sample = link.rtt_ms + 2 * unit() * link.jitter_ms + std::min(queued_before_ms, 200.0);
    rtt_ = rtt_ <= 0 ? rtt_sample : rtt_ * 7 / 8 + rtt_sample / 8;
    double wobble_ms = link.rtt_ms + unit() * 2 * link.jitter_ms;
    if (link.loss_pct > 0) wobble_ms += link.rtt_ms * (0.5 + 1.5 * unit()) * std::min(1.0, link.loss_pct / 2);
    const double buffered = (offered_kbps * wobble_ms + backlog_bits_) / kPacketBits;
    return sample(now_ms, true, wobble_ms + queue_ms, buffered);
  }

 private:
  double unit() { return std::uniform_real_distribution<double>(0, 1)(random_); }
  LinkSample sample(int64_t now_ms, bool connected, double buffer_ms, double buffered_packets) {
    LinkSample s;
    s.now_ms = now_ms;
    s.connected = connected;
    s.connection = connection_;
    s.rtt_ms = connected ? rtt_ : 0;
    s.send_buffer_ms = buffer_ms;
    s.send_buffer_packets = static_cast<uint64_t>(buffered_packets);
    s.packets_submitted = static_cast<uint64_t>(submitted_);
    s.packets_dropped = static_cast<uint64_t>(dropped_);
    s.peer_silent_ms = static_cast<int64_t>(silent_ms_);
    return s;
  }

  std::mt19937_64 random_;
  double backlog_bits_ = 0;
  double submitted_ = 0;
  double dropped_ = 0;
  double rtt_ = 0;
  double silent_ms_ = 0;
  uint64_t connection_ = 0;
  int connection_when_back_ = 0;
};

}  // namespace onair::uplink::test
