// Prometheus metrics (prometheus-cpp registry + text serializer), and the same figures as
// p50/p95 over the last 10 s for the status API. Fed with plain samples by the app, so this
// module knows nothing of GStreamer or SRT. Control thread only: media threads post their
// samples there (the 10 s windows are not locked).
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace onair::metrics {

struct MediaSample {
  bool playing = false;
  std::string stream_state;  // idle | starting | live | stopping | error
  uint64_t frames_captured = 0;
  uint64_t frames_encoded = 0;
  uint64_t frames_dropped = 0;
  double fps = 0;
  double bitrate_target_bps = 0;
  double bitrate_actual_bps = 0;
};

struct DestinationSample {
  std::string name;
  bool up = false;
  double rtt_seconds = 0;
  double send_buffer_seconds = 0;
  double bandwidth_bps = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_sent = 0;
  uint64_t packets_lost = 0;
  uint64_t packets_retransmitted = 0;
  uint64_t packets_dropped = 0;
  uint64_t queue_drops = 0;
  uint64_t reconnects = 0;
  uint64_t resumes = 0;
};

// One video frame's trip through the program, in seconds (negative: not measured).
struct FrameSample {
  double pipeline_s = -1;  // capture → TS handed to the senders
  double source_s = -1;    // capture → into the program
  double queue_s = -1;     // into the program → into the encoder
  double encode_s = -1;    // into the encoder → encoded frame out
  double mux_s = -1;       // encoded → TS handed to the senders
};

// One destination's bitrate controller (encoder.abr on): what it is doing, what it has done.
struct AbrSample {
  std::string destination;
  std::string phase;          // one of kAbrPhases
  uint64_t decreases = 0;     // bitrate steps down (cuts and easing)
  uint64_t increases = 0;     // bitrate steps up (probing)
  double capacity_bps = 0;    // the video rate the link last carried (0: not known)
};

// The controller's phases (uplink::AbrPhase, by name): onair_abr_phase has one series each.
inline constexpr const char* kAbrPhases[] = {"steady", "congested", "draining", "probing", "outage"};

// Why the encoder was asked for a keyframe out of its schedule (see count_keyframe).
inline constexpr const char* kKeyframeReasons[] = {"program", "switch", "link", "drop_out", "repair"};

struct SourceSample {
  std::string name;  // primary | backup | slate
  bool active = false;
  bool healthy = false;
  uint64_t restarts = 0;
};

class Metrics {
 public:
  // encoder/display: what the box chose; shown as labels of onair_info.
  Metrics(const std::string& version, const std::string& encoder, const std::string& display);
  ~Metrics();

  void update_media(const MediaSample& sample);
  void update_destination(const DestinationSample& sample);
  void update_source(const SourceSample& sample);
  void count_failover(const std::string& from, const std::string& to);
  void update_abr(const AbrSample& sample);
  // A keyframe forced on the encoder: `program` (the pipeline (re)built), `switch` (another
  // source on air), `link` (a link connected or answered again), `drop_out` (a quiet link,
  // every quarter latency), `repair` (a link clear again after it lost frames: abr).
  void count_keyframe(const std::string& reason);
  void observe_pipeline_latency(double seconds);  // capture → TS handed to SRT
  void observe_encode_latency(double seconds);    // frame into encoder → encoded frame out
  void observe_frame(const FrameSample& frame);   // both of the above, and every stage

  // For /api/v1/status: {"latency": p50/p95/max over the last 10 s of the latency histograms,
  // the stages and each destination's RTT, in ms; "process": CPU seconds, resident bytes, CPU
  // temperature (null where the box has none)}.
  nlohmann::json status_json();

  // The exposition in Prometheus text format 0.0.4 (process metrics refreshed on each call).
  std::string render();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Process figures from /proc (Linux): CPU seconds, resident bytes; CPU temperature when the box
// exposes one in /sys/class/thermal (nullopt-like: negative when absent).
double process_cpu_seconds();
double process_resident_bytes();
double cpu_temperature_celsius();

}  // namespace onair::metrics
