#include "metrics/window.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace onair::metrics {

void Window::add(double now_s, double value) {
  samples_.emplace_back(now_s, value);
  while (samples_.size() > max_samples_) samples_.pop_front();
  prune(now_s);
}

void Window::prune(double now_s) {
  while (!samples_.empty() && samples_.front().first <= now_s - span_s_) samples_.pop_front();
}

Percentiles Window::summary(double now_s) {
  prune(now_s);
  Percentiles p;
  p.count = samples_.size();
  if (samples_.empty()) return p;
  std::vector<double> values;
  values.reserve(samples_.size());
  for (const auto& s : samples_) values.push_back(s.second);
  std::sort(values.begin(), values.end());
  auto rank = [&](double q) {
    const auto r = static_cast<size_t>(std::ceil(q * double(values.size())));
    return values[std::clamp<size_t>(r, 1, values.size()) - 1];
  };
  p.p50 = rank(0.50);
  p.p95 = rank(0.95);
  p.max = values.back();
  return p;
}

}  // namespace onair::metrics
