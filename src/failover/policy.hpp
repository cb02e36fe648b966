// Which source goes on air: pure logic, time passed in, no GStreamer. Order primary → backup →
// slate; failover at once when the active source is unhealthy; failback to a higher-priority
// source only after it stayed healthy for failback_hold_ms; a manual override holds until
// `auto` (or until the forced source is unhealthy, when the best healthy one stands in).
// A source's first arrival is not a failback: it needs no hold (so the box goes live on the
// camera at boot), but once it has failed, it must prove itself for the hold again.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

namespace onair::failover {

enum class Source { primary = 0, backup = 1, slate = 2 };
constexpr int kSourceCount = 3;
const char* to_string(Source source);
std::optional<Source> source_from_string(const std::string& text);

enum class Mode { automatic, manual };

struct Decision {
  Source active = Source::slate;
  bool changed = false;
  std::string reason;  // e.g. "primary unhealthy", "primary healthy for 3000 ms", "manual: backup"
};

class FailoverPolicy {
 public:
  explicit FailoverPolicy(int64_t failback_hold_ms, Source initial = Source::primary)
      : failback_hold_ms_(failback_hold_ms), active_(initial) {}

  // healthy[i]: source i is configured and delivering frames. now_ms: a monotonic clock.
  Decision update(int64_t now_ms, const std::array<bool, kSourceCount>& healthy);

  void force(std::optional<Source> source);  // nullopt = back to automatic
  Mode mode() const { return forced_ ? Mode::manual : Mode::automatic; }
  std::optional<Source> forced() const { return forced_; }
  Source active() const { return active_; }

 private:
  Decision switch_to(Source next, std::string reason);

  int64_t failback_hold_ms_;
  Source active_;
  std::optional<Source> forced_;
  std::array<std::optional<int64_t>, kSourceCount> healthy_since_{};
  std::array<bool, kSourceCount> has_failed_{};
};

}  // namespace onair::failover
