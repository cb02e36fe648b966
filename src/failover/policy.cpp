#include "failover/policy.hpp"

namespace onair::failover {

const char* to_string(Source source) {
  switch (source) {
    case Source::primary: return "primary";
    case Source::backup: return "backup";
    case Source::slate: return "slate";
  }
  return "?";
}

std::optional<Source> source_from_string(const std::string& text) {
  if (text == "primary") return Source::primary;
  if (text == "backup") return Source::backup;
  if (text == "slate") return Source::slate;
  return std::nullopt;
}

void FailoverPolicy::force(std::optional<Source> source) { forced_ = source; }

Decision FailoverPolicy::switch_to(Source next, std::string reason) {
  Decision d{next, next != active_, std::move(reason)};
  active_ = next;
  return d;
}

Decision FailoverPolicy::update(int64_t now_ms, const std::array<bool, kSourceCount>& healthy) {
  for (int i = 0; i < kSourceCount; ++i) {
    if (!healthy[i]) {
      if (healthy_since_[i]) has_failed_[i] = true;
      healthy_since_[i].reset();
    } else if (!healthy_since_[i]) {
      healthy_since_[i] = now_ms;
    }
  }
  auto is_healthy = [&](Source s) { return healthy[static_cast<int>(s)]; };
  auto held = [&](Source s) {
    const auto& since = healthy_since_[static_cast<int>(s)];
    return since && (!has_failed_[static_cast<int>(s)] || now_ms - *since >= failback_hold_ms_);
  };
  // The highest-priority healthy source (the slate is the last resort even when "unhealthy").
  auto best_healthy = [&]() {
    for (int i = 0; i < kSourceCount; ++i)
      if (healthy[i]) return static_cast<Source>(i);
    return Source::slate;
  };

  if (forced_) {
    if (is_healthy(*forced_)) {
      if (active_ != *forced_) return switch_to(*forced_, std::string("manual: ") + to_string(*forced_));
      return {active_, false, {}};
    }
    // The forced source is down: the best healthy one stands in until it returns.
    const Source stand_in = best_healthy();
    if (stand_in != active_)
      return switch_to(stand_in, std::string("manual ") + to_string(*forced_) + " unhealthy");
    return {active_, false, {}};
  }

  if (!is_healthy(active_)) {
    const Source next = best_healthy();
    if (next != active_) return switch_to(next, std::string(to_string(active_)) + " unhealthy");
    return {active_, false, {}};
  }
  // Failback: only to a higher-priority source that has been healthy for the whole hold.
  for (int i = 0; i < static_cast<int>(active_); ++i) {
    const auto candidate = static_cast<Source>(i);
    if (held(candidate))
      return switch_to(candidate, has_failed_[i] ? std::string(to_string(candidate)) + " healthy for " +
                                                       std::to_string(failback_hold_ms_) + " ms"
                                                 : std::string(to_string(candidate)) + " healthy");
  }
  return {active_, false, {}};
}

}  // namespace onair::failover
