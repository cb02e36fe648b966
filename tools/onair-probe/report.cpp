#include "report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

namespace onair::probe {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(v.size() / 2), v.end());
  return v[v.size() / 2];
}

std::string utc_time(int64_t us) {
  const std::time_t seconds = us / 1'000'000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", text, int(us / 1000 % 1000));
}

std::optional<LatencyFigures> figures(const std::vector<double>& latencies) {
  if (latencies.empty()) return std::nullopt;
  return LatencyFigures{latencies.size(), *std::min_element(latencies.begin(), latencies.end()),
                        percentile(latencies, 50), percentile(latencies, 95),
                        *std::max_element(latencies.begin(), latencies.end())};
}

double round1(double v) { return std::round(v * 10) / 10; }
double round3(double v) { return std::round(v * 1000) / 1000; }

}  // namespace

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100 * double(values.size()));
  const size_t index = size_t(std::clamp(rank, 1.0, double(values.size()))) - 1;
  return values[index];
}

int Report::exit_code() const {
  if (!connected || !error.empty() || frames == 0) return kExitStream;
  return failures.empty() ? kExitOk : kExitThresholds;
}

Report analyze(const Options& o, const Capture& c) {
  Report r;
  r.url = printable_url(o);
  r.capture = &c;
  r.connected = c.connected;
  r.error = c.error;
  r.ended_by = c.ended_by;
  r.connect_ms = c.connected ? double(c.connected_us - c.start_us) / 1000 : 0;
  r.frames = c.frames.size();
  r.decode_errors = c.video_decode_errors + c.audio_decode_errors;
  r.corrupt_packets = c.corrupt_packets;
  if (c.connected && c.end_us > c.connected_us)
    r.bitrate_bps = double(c.bytes) * 8 / (double(c.end_us - c.connected_us) / 1e6);
  if (!r.error.empty())
    r.failures.push_back(r.error);
  else if (c.connected && c.frames.empty())
    r.failures.push_back("no video frame decoded (" + c.ended_by + ")");
  if (c.frames.empty()) return r;

  r.first_frame_ms = double(c.frames.front().decoded_us - c.start_us) / 1000;
  const int64_t measured_from = c.frames.front().decoded_us + int64_t(o.warmup_s * 1e6);
  std::vector<FrameRecord> f;
  for (const auto& frame : c.frames)
    if (frame.decoded_us >= measured_from) f.push_back(frame);
  r.frames = f.size();
  if (f.empty()) {
    r.failures.push_back("no video frame after the warm-up (" + c.ended_by + ")");
    return r;
  }
  r.duration_s = f.back().pts_s - f.front().pts_s;
  std::vector<double> steps, latencies, drawn_latencies;
  for (size_t i = 1; i < f.size(); ++i) steps.push_back(f[i].pts_s - f[i - 1].pts_s);
  const double interval_s = steps.empty() ? 0 : median(steps);
  r.frame_interval_ms = interval_s * 1000;
  if (r.duration_s > 0) r.fps = double(f.size() - 1) / r.duration_s;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i].key) ++r.keyframes;
    if (f[i].capture_us) latencies.push_back(double(f[i].decoded_us - *f[i].capture_us) / 1000);
    if (f[i].drawn_us) drawn_latencies.push_back(double(f[i].decoded_us - *f[i].drawn_us) / 1000);
    if (i == 0 || interval_s <= 0) continue;
    // A gap: the viewer's picture stood still (arrival) or frames are missing (timestamps).
    const double arrival_ms = double(f[i].decoded_us - f[i - 1].decoded_us) / 1000;
    const double stream_ms = (f[i].pts_s - f[i - 1].pts_s) * 1000;
    const double longest = std::max(arrival_ms, stream_ms);
    if (longest > 2 * r.frame_interval_ms)
      r.gaps.push_back({double(f[i].decoded_us - c.start_us) / 1e6, f[i].decoded_us, longest});
  }
  r.latency = figures(latencies);
  r.drawn_latency = figures(drawn_latencies);

  auto fail = [&](const std::string& what) { r.failures.push_back(what); };
  if (o.require_stamp && !r.latency) fail("no onair capture stamp in the frames (--require-stamp)");
  if (o.max_latency_ms && (!r.latency || r.latency->p95_ms > *o.max_latency_ms))
    fail(r.latency ? fmt::format("p95 latency {:.1f} ms > --max-latency-ms {}", r.latency->p95_ms, *o.max_latency_ms)
                   : "no latency measured (no capture stamp) for --max-latency-ms");
  if (o.max_p50_latency_ms && (!r.latency || r.latency->p50_ms > *o.max_p50_latency_ms))
    fail(r.latency
             ? fmt::format("p50 latency {:.1f} ms > --max-p50-latency-ms {}", r.latency->p50_ms, *o.max_p50_latency_ms)
             : "no latency measured (no capture stamp) for --max-p50-latency-ms");
  if (o.max_gaps && int(r.gaps.size()) > *o.max_gaps)
    fail(fmt::format("{} gaps > --max-gaps {}", r.gaps.size(), *o.max_gaps));
  if (o.min_fps && r.fps < *o.min_fps) fail(fmt::format("{:.2f} fps < --min-fps {}", r.fps, *o.min_fps));
  if (o.max_decode_errors && r.decode_errors + r.corrupt_packets > uint64_t(*o.max_decode_errors))
    fail(fmt::format("{} decode errors > --max-decode-errors {}", r.decode_errors + r.corrupt_packets,
                     *o.max_decode_errors));
  if (o.max_first_frame_ms && *r.first_frame_ms > *o.max_first_frame_ms)
    fail(
        fmt::format("first frame after {:.0f} ms > --max-first-frame-ms {}", *r.first_frame_ms, *o.max_first_frame_ms));
  return r;
}

std::string human_text(const Report& r) {
  const Capture& c = *r.capture;
  std::string t = fmt::format("onair-probe {}\n", r.url);
  if (!r.connected) return t + fmt::format("  not connected: {}\nresult  FAILED\n", r.error);
  t += fmt::format("  connected after {:.0f} ms", r.connect_ms);
  if (r.first_frame_ms) t += fmt::format(", first frame after {:.0f} ms", *r.first_frame_ms);
  t += fmt::format("; ended by {}\n", r.ended_by);
  if (r.frames) {
    t += fmt::format("video   {} {} {}x{} {}, {:.2f} fps ({} frames, {} keyframes, {:.1f} s)\n", c.video_codec,
                     c.video_profile, c.width, c.height, c.pix_fmt, r.fps, r.frames, r.keyframes, r.duration_s);
  }
  if (!c.audio_codec.empty())
    t += fmt::format("audio   {} {} Hz, {} channels ({} frames)\n", c.audio_codec, c.sample_rate, c.channels,
                     c.audio_frames);
  t += fmt::format("bitrate {:.2f} Mbit/s\n", r.bitrate_bps / 1e6);
  if (r.latency)
    t += fmt::format(
        "latency p50 {:.1f} ms, p95 {:.1f} ms, max {:.1f} ms, min {:.1f} ms (capture → decoded, {} stamped frames)\n",
        r.latency->p50_ms, r.latency->p95_ms, r.latency->max_ms, r.latency->min_ms, r.latency->frames);
  else if (r.frames)
    t += "latency unknown: the frames carry no onair capture stamp\n";
  if (r.drawn_latency)
    t += fmt::format(
        "drawn   p50 {:.1f} ms, p95 {:.1f} ms, max {:.1f} ms, min {:.1f} ms (capture → decoded, bar code in {} "
        "frames)\n",
        r.drawn_latency->p50_ms, r.drawn_latency->p95_ms, r.drawn_latency->max_ms, r.drawn_latency->min_ms,
        r.drawn_latency->frames);
  else if (r.frames)
    t += "drawn   no drawn stamp in the picture\n";
  if (r.gaps.empty()) {
    t += "gaps    none (no pause over 2 frame intervals)\n";
  } else {
    t += fmt::format("gaps    {} (over 2 frame intervals of {:.1f} ms)\n", r.gaps.size(), r.frame_interval_ms);
    for (size_t i = 0; i < r.gaps.size() && i < 20; ++i)
      t += fmt::format("        at {:.3f} s ({}): {:.0f} ms\n", r.gaps[i].at_s, utc_time(r.gaps[i].wall_us),
                       r.gaps[i].duration_ms);
  }
  t += fmt::format("errors  {} decode errors, {} corrupt packets\n", r.decode_errors, r.corrupt_packets);
  if (r.failures.empty()) return t + "result  OK\n";
  for (const auto& f : r.failures) t += "result  FAILED: " + f + "\n";
  return t;
}

nlohmann::json to_json(const Report& r) {
  using nlohmann::json;
  const Capture& c = *r.capture;
  json gaps = json::array();
  for (const auto& g : r.gaps)
    gaps.push_back({{"at_s", round3(g.at_s)}, {"time", utc_time(g.wall_us)}, {"duration_ms", round1(g.duration_ms)}});
  auto latency_json = [](const std::optional<LatencyFigures>& l) -> json {
    if (!l) return nullptr;
    return {{"frames", l->frames},
            {"p50_ms", round1(l->p50_ms)},
            {"p95_ms", round1(l->p95_ms)},
            {"max_ms", round1(l->max_ms)},
            {"min_ms", round1(l->min_ms)}};
  };
  return {
      {"url", r.url},
      {"connected", r.connected},
      {"error", r.error},
      {"ended_by", r.ended_by},
      {"connect_ms", round1(r.connect_ms)},
      {"first_frame_ms", r.first_frame_ms ? json(round1(*r.first_frame_ms)) : json(nullptr)},
      {"duration_s", round3(r.duration_s)},
      {"video",
       {{"codec", c.video_codec},
        {"profile", c.video_profile},
        {"width", c.width},
        {"height", c.height},
        {"pix_fmt", c.pix_fmt},
        {"frames", r.frames},
        {"keyframes", r.keyframes},
        {"fps", round3(r.fps)},
        {"frame_interval_ms", round1(r.frame_interval_ms)}}},
      {"audio",
       {{"codec", c.audio_codec},
        {"sample_rate", c.sample_rate},
        {"channels", c.channels},
        {"frames", c.audio_frames}}},
      {"bitrate_bps", std::round(r.bitrate_bps)},
      {"latency", latency_json(r.latency)},
      {"drawn_latency", latency_json(r.drawn_latency)},
      {"gaps", gaps},
      {"decode_errors", r.decode_errors},
      {"corrupt_packets", r.corrupt_packets},
      {"ok", r.exit_code() == kExitOk},
      {"failures", r.failures},
  };
}

}  // namespace onair::probe
