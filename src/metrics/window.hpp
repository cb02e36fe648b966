// Figures over a sliding time window (the last 10 s by default): p50, p95, max of what was
// observed in it. Pure: the caller passes the time in. Not thread-safe (the control thread owns it).
#pragma once

#include <cstddef>
#include <deque>
#include <utility>

namespace onair::metrics {

struct Percentiles {
  size_t count = 0;  // observations in the window
  double p50 = 0;
  double p95 = 0;
  double max = 0;
};

class Window {
 public:
  explicit Window(double span_s = 10, size_t max_samples = 4096) : span_s_(span_s), max_samples_(max_samples) {}

  void add(double now_s, double value);
  // Nearest-rank percentiles of the values observed in (now_s - span, now_s].
  Percentiles summary(double now_s);
  double span_s() const { return span_s_; }

 private:
  void prune(double now_s);

  double span_s_;
  size_t max_samples_;                             // a bound on memory whatever the rate
  std::deque<std::pair<double, double>> samples_;  // (time, value), oldest first
};

}  // namespace onair::metrics
