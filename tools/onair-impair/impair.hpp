// onair-impair's model of a bad venue link, one direction at a time: random and burst loss,
// a bandwidth cap with a bounded queue, delay, jitter and blackouts. Pure: time is passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace onair::impair {

using Ms = double;  // milliseconds on the relay's monotonic clock

struct Settings {
  double loss_pct = 0;       // each packet independently
  double burst_pct = 0;      // chance per packet that a loss burst starts
  double burst_len = 10;     // mean packets per burst (geometric)
  Ms delay_ms = 0;           // one way, both directions
  Ms jitter_ms = 0;          // extra delay, uniform in [0, jitter], per packet
  bool keep_order = false;   // false: packets may overtake each other (as with netem)
  double rate_kbps = 0;      // upstream (client → target) cap, IP bytes; 0 = none
  Ms queue_ms = 200;         // what the capped link may queue before it drops (tail drop)
  Ms blackout_until = 0;     // everything is dropped, both ways, until this time
};

// Applies "key=value" words to `settings` at time `now` (blackout=MS counts from now).
// Keys: loss, burst, burst_len, delay, jitter, order (0|1), rate, queue, blackout, clear.
// Returns an error message naming the bad word, or "" when every word applied.
std::string apply_words(const std::vector<std::string>& words, Settings& settings, Ms now);

// A timed list of setting changes: "T k=v k=v; T k=v ...", T in seconds from the start.
struct Step {
  Ms at_ms = 0;
  std::vector<std::string> words;
};
// Parses a schedule; on error returns nullopt and sets *error (which step, what is wrong).
std::optional<std::vector<Step>> parse_schedule(const std::string& text, std::string* error);

std::vector<std::string> split_words(const std::string& text);
std::string describe(const Settings& settings, Ms now);  // "loss=5% delay=20ms ..." for logs

struct PathCounters {
  uint64_t packets_in = 0;
  uint64_t bytes_in = 0;
  uint64_t delivered = 0;
  uint64_t bytes_delivered = 0;
  uint64_t lost_random = 0;
  uint64_t lost_burst = 0;
  uint64_t dropped_queue = 0;     // the capped link's queue was full
  uint64_t dropped_blackout = 0;
  uint64_t dropped_overflow = 0;  // the relay's own bound on packets in flight
};

// One direction of the link. admit() decides a packet's fate as it enters.
class Path {
 public:
  Path(bool capped, uint64_t seed) : capped_(capped), random_(seed) {}
  // When the packet should come out, or nullopt when it is dropped (and counted).
  std::optional<Ms> admit(size_t bytes, Ms now, const Settings& settings);
  // A packet due now is dropped if a blackout began while it was in flight.
  bool deliverable(size_t bytes, Ms now, const Settings& settings);
  void count_overflow() { ++counters_.dropped_overflow; }
  const PathCounters& counters() const { return counters_; }

 private:
  bool capped_;
  std::mt19937_64 random_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
  int burst_left_ = 0;
  Ms link_free_at_ = 0;   // when the capped link finishes sending what it holds
  Ms last_delivery_ = 0;  // for keep_order
  PathCounters counters_;
};

}  // namespace onair::impair
