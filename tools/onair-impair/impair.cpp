// Settings words, schedules and the per-direction link model.
#include "impair.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <sstream>

namespace onair::impair {
namespace {

constexpr double kIpUdpHeaderBytes = 28;  // the cap counts what a real link carries
constexpr Ms kMaxMs = 600'000;

std::optional<double> number(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

}  // namespace

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

std::string apply_words(const std::vector<std::string>& words, Settings& settings, Ms now) {
  Settings next = settings;
  for (const std::string& word : words) {
    if (word == "clear") {
      next = Settings{};
      continue;
    }
    const auto eq = word.find('=');
    if (eq == std::string::npos) return "\"" + word + "\": expected key=value";
    const std::string key = word.substr(0, eq);
    const auto value = number(word.substr(eq + 1));
    auto bad = [&](const char* range) { return "\"" + word + "\": " + key + " must be " + range; };
    if (!value) return bad("a number");
    const double v = *value;
    if (key == "loss" || key == "burst") {
      if (v < 0 || v > 100) return bad("0..100 (percent)");
      (key == "loss" ? next.loss_pct : next.burst_pct) = v;
    } else if (key == "burst_len") {
      if (v < 1 || v > 10'000) return bad("1..10000 (packets)");
      next.burst_len = v;
    } else if (key == "delay" || key == "jitter" || key == "queue") {
      if (v < 0 || v > 10'000) return bad("0..10000 (ms)");
      (key == "delay" ? next.delay_ms : key == "jitter" ? next.jitter_ms : next.queue_ms) = v;
    } else if (key == "order") {
      if (v != 0 && v != 1) return bad("0 or 1");
      next.keep_order = v == 1;
    } else if (key == "rate") {
      if (v < 0 || v > 10'000'000) return bad("0..10000000 (kbit/s; 0 = no cap)");
      next.rate_kbps = v;
    } else if (key == "blackout") {
      if (v < 0 || v > kMaxMs) return bad("0..600000 (ms)");
      next.blackout_until = now + v;
    } else {
      return "\"" + word + "\": unknown key " + key +
             " (expected loss, burst, burst_len, delay, jitter, order, rate, queue, blackout or clear)";
    }
  }
  settings = next;
  return "";
}

std::optional<std::vector<Step>> parse_schedule(const std::string& text, std::string* error) {
  std::vector<Step> steps;
  std::istringstream in(text);
  int index = 0;
  for (std::string part; std::getline(in, part, ';'); ++index) {
    std::vector<std::string> words = split_words(trim(part));
    if (words.empty()) continue;
    const auto at = number(words.front());
    if (!at || *at < 0 || *at * 1000 > kMaxMs) {
      *error = fmt::format("schedule step {} (\"{}\"): expected a start time in seconds (0..600) first",
                           index + 1, trim(part));
      return std::nullopt;
    }
    words.erase(words.begin());
    Settings probe;
    if (const std::string problem = apply_words(words, probe, 0); !problem.empty()) {
      *error = fmt::format("schedule step {}: {}", index + 1, problem);
      return std::nullopt;
    }
    steps.push_back({*at * 1000, std::move(words)});
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) { return a.at_ms < b.at_ms; });
  return steps;
}

std::string describe(const Settings& s, Ms now) {
  std::string text = fmt::format("loss={}% burst={}%x{} delay={}ms jitter={}ms{} rate={} queue={}ms",
                                 s.loss_pct, s.burst_pct, s.burst_len, s.delay_ms, s.jitter_ms,
                                 s.keep_order ? " order=1" : "",
                                 s.rate_kbps > 0 ? fmt::format("{}kbps", s.rate_kbps) : "none", s.queue_ms);
  if (s.blackout_until > now) text += fmt::format(" blackout={:.0f}ms", s.blackout_until - now);
  return text;
}

std::optional<Ms> Path::admit(size_t bytes, Ms now, const Settings& s) {
  ++counters_.packets_in;
  counters_.bytes_in += bytes;
  if (now < s.blackout_until) {
    ++counters_.dropped_blackout;
    return std::nullopt;
  }
  if (burst_left_ > 0) {
    --burst_left_;
    ++counters_.lost_burst;
    return std::nullopt;
  }
  if (s.burst_pct > 0 && unit_(random_) * 100 < s.burst_pct) {
    // Geometric length with the configured mean; this packet is the first one lost.
    std::geometric_distribution<int> length(1.0 / std::max(1.0, s.burst_len));
    burst_left_ = std::min(length(random_), 100'000);
    ++counters_.lost_burst;
    return std::nullopt;
  }
  if (s.loss_pct > 0 && unit_(random_) * 100 < s.loss_pct) {
    ++counters_.lost_random;
    return std::nullopt;
  }
  Ms departure = now;
  if (capped_ && s.rate_kbps > 0) {
    const Ms start = std::max(now, link_free_at_);
    if (start - now > s.queue_ms) {
      ++counters_.dropped_queue;
      return std::nullopt;
    }
    link_free_at_ = start + (double(bytes) + kIpUdpHeaderBytes) * 8 / s.rate_kbps;
    departure = link_free_at_;
  }
  Ms deliver = departure + s.delay_ms + (s.jitter_ms > 0 ? unit_(random_) * s.jitter_ms : 0);
  if (s.keep_order) deliver = std::max(deliver, last_delivery_);
  last_delivery_ = std::max(last_delivery_, deliver);
  return deliver;
}

bool Path::deliverable(size_t bytes, Ms now, const Settings& s) {
  if (now < s.blackout_until) {
    ++counters_.dropped_blackout;
    return false;
  }
  ++counters_.delivered;
  counters_.bytes_delivered += bytes;
  return true;
}

}  // namespace onair::impair
