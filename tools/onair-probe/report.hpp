// The probe's findings from a Capture: latency percentiles, frame rate, gaps, errors, bitrate;
// checked against the thresholds asked for; printed for people or as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "options.hpp"
#include "receiver.hpp"

namespace onair::probe {

struct Gap {
  double at_s = 0;         // since the probe started
  int64_t wall_us = 0;     // wall clock of the frame that ended the gap
  double duration_ms = 0;  // time between the two frames around it
};

struct LatencyFigures {
  size_t frames = 0;  // frames with an onair capture stamp (of the kind measured)
  double min_ms = 0, p50_ms = 0, p95_ms = 0, max_ms = 0;
};

struct Report {
  std::string url;
  bool connected = false;
  std::string error;
  std::string ended_by;
  double connect_ms = 0;
  std::optional<double> first_frame_ms;  // probe start → first decoded frame
  double duration_s = 0;                 // first → last decoded frame
  size_t frames = 0;                     // decoded video frames measured (after the warm-up)
  size_t keyframes = 0;
  double fps = 0;                // decoded frames per second of stream time
  double frame_interval_ms = 0;  // median timestamp step
  double bitrate_bps = 0;
  std::optional<LatencyFigures> latency;  // capture → decoded, from the SEI stamps
  std::optional<LatencyFigures> drawn_latency;  // capture → decoded, from the stamps drawn in the picture
  std::vector<Gap> gaps;
  uint64_t decode_errors = 0;
  uint64_t corrupt_packets = 0;
  const Capture* capture = nullptr;
  std::vector<std::string> failures;  // thresholds missed, or why nothing was received

  int exit_code() const;
};

Report analyze(const Options& options, const Capture& capture);
std::string human_text(const Report& report);
nlohmann::json to_json(const Report& report);

// Nearest-rank percentile (0..100) of unsorted values; 0 for none.
double percentile(std::vector<double> values, double p);

}  // namespace onair::probe
