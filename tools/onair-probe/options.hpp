// onair-probe's command line: what to receive, for how long, how to report, what to demand.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/srt_url.hpp"

namespace onair::probe {

struct Options {
  std::string url;                    // as given (an SRT URL in onair's convention, or any libavformat URL)
  std::optional<config::SrtUrl> srt;  // set when url is srt://
  double duration_s = 0;              // 0: until Ctrl-C
  double timeout_s = 10;              // connect / no-data limit
  double warmup_s = 0;                // frames in the first S seconds are received but not measured
  bool json = false;
  // Thresholds: a report that misses one exits with kExitThresholds.
  std::optional<double> max_latency_ms;      // p95 of capture → decoded
  std::optional<double> max_p50_latency_ms;  // p50 of capture → decoded
  std::optional<int> max_gaps;
  std::optional<double> min_fps;
  std::optional<int> max_decode_errors;
  std::optional<double> max_first_frame_ms;
  bool require_stamp = false;  // fail when frames carry no onair capture stamp
};

inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitStream = 2;      // could not connect, no data, no video
inline constexpr int kExitThresholds = 3;  // received, but a --max/--min threshold was missed

// Parses argv. On an error returns nullopt and sets *error; `--help` sets *error to "" .
std::optional<Options> parse_options(const std::vector<std::string>& args, std::string* error);
std::string usage();

// The URL safe to print (an SRT passphrase as ***).
std::string printable_url(const Options& options);

}  // namespace onair::probe
