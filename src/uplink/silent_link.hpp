// Private to uplink/: a link declared down for silence but kept. A Wi-Fi drop-out often ends with
// the same path and the same ingest, and a link that resumes sends at once, with no handshake and
// nothing new for the ingest (or whoever relays from it) to notice. Meanwhile a new connection is
// dialled beside it (caller and rendezvous; in listener mode the sender accepts one instead):
// whichever answers first is served. The dial goes out as soon as the peer is quiet, before the
// link is declared down: an ingest that crashed and restarted at once answers it within a round
// trip, where waiting for the idle timeout kept the stream away for 1.25 s after it was back.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "uplink/backoff.hpp"
#include "uplink/srt_connect.hpp"

namespace onair::uplink {

class SilentLink {
 public:
  using Clock = std::chrono::steady_clock;

  // `settings` must outlive this; `log_name` starts its log lines ("uplink main (srt://…)").
  // Dials again `min_ms` after one nobody answered (its handshake kept probing all along);
  // after a refusal or a local failure the delay doubles from `min_ms` up to `max_ms`.
  SilentLink(const ConnectSettings& settings, int min_ms, int max_ms, std::string log_name);

  // The peer went quiet: the first dial beside the link goes out at once (if not under way).
  void quiet(Clock::time_point now);
  // The link was declared down at `now`, and is kept; dialling beside it as after quiet().
  void begin(Clock::time_point now);
  // It answers again, or the connection is over: the dial beside it is abandoned (at `now`).
  void end(Clock::time_point now = Clock::now());
  // The link is over: the dial still in flight beside it, if any, is waited for until
  // `deadline` and returned once it connects. An ingest that serves the newest publisher of a
  // stream (MediaMTX by default) closes the old connection the moment it accepts the new one:
  // the answer to the dial is then a round trip behind, and a fresh dial after the backoff
  // would keep the stream away for ~250 ms more.
  SrtSocket settle(Clock::time_point deadline);
  // A dial beside the link was abandoned (the old link answered first) at or after `since`.
  // Closed by the ingest soon after that: the ingest took the abandoned dial and dropped this
  // link for it, and the next connection goes out at once rather than after the backoff.
  bool abandoned_since(Clock::time_point since) const { return abandoned_at_ && *abandoned_at_ >= since; }
  bool active() const { return active_; }      // declared down
  bool dialling() const { return dialling_; }  // quiet or declared down: a dial goes out beside it
  // Since begin().
  int64_t silent_ms(Clock::time_point now) const;
  // One step of the connection dialled beside it; the connected socket once that answers.
  SrtSocket redial(Clock::time_point now);

 private:
  const ConnectSettings& settings_;
  Backoff backoff_;
  const std::string log_name_;
  bool active_ = false;
  bool dialling_ = false;
  Clock::time_point since_{};
  Clock::time_point next_dial_{};
  std::optional<Clock::time_point> abandoned_at_;
  SrtDial dial_;
};

}  // namespace onair::uplink
