#include "metrics/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <chrono>
#include <cmath>
#include <map>
#include <mutex>

#include "metrics/window.hpp"

namespace onair::metrics {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

namespace {

// Sets a Prometheus counter to a running total kept elsewhere (SRT's own counters):
// prometheus-cpp counters only go up by increments.
void advance(prometheus::Counter& counter, double total) {
  const double now = counter.Value();
  if (total > now) counter.Increment(total - now);
}

prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.02, 0.033, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5};
}

constexpr const char* kStages[] = {"source", "queue", "encode", "mux"};

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double round1(double v) { return std::round(v * 10) / 10; }

nlohmann::json to_ms_json(const Percentiles& p) {
  return {{"p50", round1(p.p50 * 1000)}, {"p95", round1(p.p95 * 1000)}, {"max", round1(p.max * 1000)}, {"count", p.count}};
}

}  // namespace

struct Metrics::Impl {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  prometheus::Family<prometheus::Gauge>& info = BuildGauge().Name("onair_info").Help("onair build and chosen hardware (always 1)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& playing = BuildGauge().Name("onair_program_playing").Help("1 while the program pipeline is playing").Register(*registry);
  prometheus::Family<prometheus::Gauge>& state = BuildGauge().Name("onair_stream_state").Help("1 for the current stream state").Register(*registry);
  prometheus::Family<prometheus::Counter>& frames = BuildCounter().Name("onair_video_frames_total").Help("Video frames by stage: captured (into the program), encoded, dropped").Register(*registry);
  prometheus::Family<prometheus::Gauge>& fps = BuildGauge().Name("onair_video_fps").Help("Program frames per second (encoded)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& bitrate_target = BuildGauge().Name("onair_encoder_bitrate_target_bps").Help("Encoder target bitrate").Register(*registry);
  prometheus::Family<prometheus::Gauge>& bitrate_actual = BuildGauge().Name("onair_encoder_bitrate_actual_bps").Help("Muxed output bitrate over the last second").Register(*registry);
  prometheus::Family<prometheus::Histogram>& pipeline_latency = BuildHistogram().Name("onair_pipeline_latency_seconds").Help("Capture timestamp to TS handed to SRT").Register(*registry);
  prometheus::Family<prometheus::Histogram>& encode_latency = BuildHistogram().Name("onair_encode_latency_seconds").Help("Frame into the encoder to encoded frame out").Register(*registry);
  prometheus::Family<prometheus::Histogram>& stage_latency = BuildHistogram().Name("onair_stage_latency_seconds").Help("Time a video frame spends in each stage: source (capture to program), queue (to the encoder), encode, mux (encoded to TS handed to SRT)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& up = BuildGauge().Name("onair_uplink_up").Help("1 while the destination is connected").Register(*registry);
  prometheus::Family<prometheus::Gauge>& rtt = BuildGauge().Name("onair_uplink_srt_rtt_seconds").Help("SRT round-trip time").Register(*registry);
  prometheus::Family<prometheus::Gauge>& send_buffer = BuildGauge().Name("onair_uplink_srt_send_buffer_seconds").Help("Media time waiting in the SRT send buffer").Register(*registry);
  prometheus::Family<prometheus::Gauge>& bandwidth = BuildGauge().Name("onair_uplink_srt_bandwidth_bps").Help("SRT's estimate of the link bandwidth").Register(*registry);
  prometheus::Family<prometheus::Counter>& bytes_sent = BuildCounter().Name("onair_uplink_bytes_sent_total").Help("Bytes sent to the destination").Register(*registry);
  prometheus::Family<prometheus::Counter>& packets_sent = BuildCounter().Name("onair_uplink_srt_packets_sent_total").Help("SRT packets sent").Register(*registry);
  prometheus::Family<prometheus::Counter>& packets_lost = BuildCounter().Name("onair_uplink_srt_packets_lost_total").Help("SRT packets reported lost by the receiver").Register(*registry);
  prometheus::Family<prometheus::Counter>& packets_retrans = BuildCounter().Name("onair_uplink_srt_packets_retransmitted_total").Help("SRT packets retransmitted").Register(*registry);
  prometheus::Family<prometheus::Counter>& packets_dropped = BuildCounter().Name("onair_uplink_srt_packets_dropped_total").Help("SRT packets dropped as too late").Register(*registry);
  prometheus::Family<prometheus::Counter>& queue_drops = BuildCounter().Name("onair_uplink_queue_dropped_total").Help("TS payloads dropped by onair's send queue (network too slow or down)").Register(*registry);
  prometheus::Family<prometheus::Counter>& reconnects = BuildCounter().Name("onair_uplink_reconnects_total").Help("Connections re-established after the first").Register(*registry);
  prometheus::Family<prometheus::Counter>& resumes = BuildCounter().Name("onair_uplink_resumes_total").Help("Links declared down for silence that answered again on the same connection").Register(*registry);
  prometheus::Family<prometheus::Gauge>& source_active = BuildGauge().Name("onair_source_active").Help("1 for the source on air").Register(*registry);
  prometheus::Family<prometheus::Gauge>& source_healthy = BuildGauge().Name("onair_source_healthy").Help("1 while the source delivers frames").Register(*registry);
  prometheus::Family<prometheus::Counter>& source_restarts = BuildCounter().Name("onair_source_restarts_total").Help("Source pipeline restarts").Register(*registry);
  prometheus::Family<prometheus::Counter>& failovers = BuildCounter().Name("onair_failovers_total").Help("Source switches").Register(*registry);
  prometheus::Family<prometheus::Gauge>& abr_phase = BuildGauge().Name("onair_abr_phase").Help("1 for the phase of the destination's bitrate controller: steady, congested, draining, probing, outage").Register(*registry);
  prometheus::Family<prometheus::Counter>& abr_changes = BuildCounter().Name("onair_abr_bitrate_changes_total").Help("Bitrate steps the destination's controller took, down or up").Register(*registry);
  prometheus::Family<prometheus::Gauge>& abr_capacity = BuildGauge().Name("onair_abr_link_capacity_bps").Help("Video bitrate the destination's link last carried, as the controller measured it (0: not known)").Register(*registry);
  prometheus::Family<prometheus::Counter>& keyframes = BuildCounter().Name("onair_encoder_keyframes_forced_total").Help("Keyframes asked of the encoder out of its schedule, by reason").Register(*registry);
  prometheus::Family<prometheus::Counter>& cpu = BuildCounter().Name("process_cpu_seconds_total").Help("User and system CPU time").Register(*registry);
  prometheus::Family<prometheus::Gauge>& rss = BuildGauge().Name("process_resident_memory_bytes").Help("Resident memory").Register(*registry);
  prometheus::Family<prometheus::Gauge>& temperature = BuildGauge().Name("onair_cpu_temperature_celsius").Help("CPU temperature (only where the box exposes one)").Register(*registry);
  prometheus::Family<prometheus::Gauge>& start_time = BuildGauge().Name("process_start_time_seconds").Help("Start time of the process since the Unix epoch").Register(*registry);
  prometheus::Histogram* pipeline_hist = nullptr;
  prometheus::Histogram* encode_hist = nullptr;
  std::map<std::string, prometheus::Histogram*> stage_hist;
  // The status API's 10 s windows (control thread).
  Window pipeline_window, encode_window;
  std::map<std::string, Window> stage_windows;
  std::map<std::string, Window> rtt_windows;  // per destination, while connected
  std::mutex state_mutex;  // guards the state label switch only
  std::string last_state;
};

Metrics::Metrics(const std::string& version, const std::string& encoder, const std::string& display)
    : impl_(std::make_unique<Impl>()) {
  impl_->info.Add({{"version", version}, {"encoder", encoder}, {"display", display}}).Set(1);
  impl_->pipeline_hist = &impl_->pipeline_latency.Add({}, latency_buckets());
  impl_->encode_hist = &impl_->encode_latency.Add({}, latency_buckets());
  for (const char* stage : kStages) impl_->stage_hist[stage] = &impl_->stage_latency.Add({{"stage", stage}}, latency_buckets());
  impl_->start_time.Add({}).Set(std::floor(double(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch()).count()) / 1000));
  for (const char* stage : {"captured", "encoded", "dropped"}) impl_->frames.Add({{"stage", stage}});
  // Every possible switch at 0, so rate() and increase() see the first one happen.
  for (const char* from : {"primary", "backup", "slate"})
    for (const char* to : {"primary", "backup", "slate"})
      if (std::string(from) != to) impl_->failovers.Add({{"from", from}, {"to", to}});
  for (const char* reason : kKeyframeReasons) impl_->keyframes.Add({{"reason", reason}});
  impl_->cpu.Add({});
  impl_->rss.Add({});
}

Metrics::~Metrics() = default;

void Metrics::update_media(const MediaSample& s) {
  auto& m = *impl_;
  m.playing.Add({}).Set(s.playing ? 1 : 0);
  for (const char* state : {"idle", "starting", "live", "reconnecting", "stopping", "error"})
    m.state.Add({{"state", state}}).Set(s.stream_state == state ? 1 : 0);
  advance(m.frames.Add({{"stage", "captured"}}), double(s.frames_captured));
  advance(m.frames.Add({{"stage", "encoded"}}), double(s.frames_encoded));
  advance(m.frames.Add({{"stage", "dropped"}}), double(s.frames_dropped));
  m.fps.Add({}).Set(s.fps);
  m.bitrate_target.Add({}).Set(s.bitrate_target_bps);
  m.bitrate_actual.Add({}).Set(s.bitrate_actual_bps);
}

void Metrics::update_destination(const DestinationSample& s) {
  auto& m = *impl_;
  const prometheus::Labels l{{"destination", s.name}};
  m.up.Add(l).Set(s.up ? 1 : 0);
  m.rtt.Add(l).Set(s.rtt_seconds);
  m.send_buffer.Add(l).Set(s.send_buffer_seconds);
  m.bandwidth.Add(l).Set(s.bandwidth_bps);
  advance(m.bytes_sent.Add(l), double(s.bytes_sent));
  advance(m.packets_sent.Add(l), double(s.packets_sent));
  advance(m.packets_lost.Add(l), double(s.packets_lost));
  advance(m.packets_retrans.Add(l), double(s.packets_retransmitted));
  advance(m.packets_dropped.Add(l), double(s.packets_dropped));
  advance(m.queue_drops.Add(l), double(s.queue_drops));
  advance(m.reconnects.Add(l), double(s.reconnects));
  advance(m.resumes.Add(l), double(s.resumes));
  if (s.up) m.rtt_windows[s.name].add(steady_seconds(), s.rtt_seconds);
}

void Metrics::update_source(const SourceSample& s) {
  auto& m = *impl_;
  const prometheus::Labels l{{"source", s.name}};
  m.source_active.Add(l).Set(s.active ? 1 : 0);
  m.source_healthy.Add(l).Set(s.healthy ? 1 : 0);
  advance(m.source_restarts.Add(l), double(s.restarts));
}

void Metrics::count_failover(const std::string& from, const std::string& to) {
  impl_->failovers.Add({{"from", from}, {"to", to}}).Increment();
}

void Metrics::update_abr(const AbrSample& s) {
  auto& m = *impl_;
  for (const char* phase : kAbrPhases)
    m.abr_phase.Add({{"destination", s.destination}, {"phase", phase}}).Set(s.phase == phase ? 1 : 0);
  advance(m.abr_changes.Add({{"destination", s.destination}, {"direction", "down"}}), double(s.decreases));
  advance(m.abr_changes.Add({{"destination", s.destination}, {"direction", "up"}}), double(s.increases));
  m.abr_capacity.Add({{"destination", s.destination}}).Set(s.capacity_bps);
}

void Metrics::count_keyframe(const std::string& reason) { impl_->keyframes.Add({{"reason", reason}}).Increment(); }

void Metrics::observe_pipeline_latency(double seconds) {
  if (seconds < 0) return;
  impl_->pipeline_hist->Observe(seconds);
  impl_->pipeline_window.add(steady_seconds(), seconds);
}

void Metrics::observe_encode_latency(double seconds) {
  if (seconds < 0) return;
  impl_->encode_hist->Observe(seconds);
  impl_->encode_window.add(steady_seconds(), seconds);
}

void Metrics::observe_frame(const FrameSample& f) {
  observe_pipeline_latency(f.pipeline_s);
  observe_encode_latency(f.encode_s);
  const double now = steady_seconds();
  const double stages[] = {f.source_s, f.queue_s, f.encode_s, f.mux_s};
  for (size_t i = 0; i < std::size(kStages); ++i) {
    if (stages[i] < 0) continue;
    impl_->stage_hist[kStages[i]]->Observe(stages[i]);
    impl_->stage_windows[kStages[i]].add(now, stages[i]);
  }
}

nlohmann::json Metrics::status_json() {
  auto& m = *impl_;
  const double now = steady_seconds();
  nlohmann::json stages = nlohmann::json::object();
  for (const char* stage : kStages) stages[stage] = to_ms_json(m.stage_windows[stage].summary(now));
  nlohmann::json rtt = nlohmann::json::object();
  for (auto& [name, window] : m.rtt_windows) rtt[name] = to_ms_json(window.summary(now));
  const double celsius = cpu_temperature_celsius();
  return {
      {"latency", {{"window_s", m.pipeline_window.span_s()},
                   {"pipeline_ms", to_ms_json(m.pipeline_window.summary(now))},
                   {"encode_ms", to_ms_json(m.encode_window.summary(now))},
                   {"stages_ms", stages},
                   {"rtt_ms", rtt}}},
      {"process", {{"cpu_seconds", std::round(process_cpu_seconds() * 100) / 100},
                   {"resident_bytes", process_resident_bytes()},
                   {"cpu_temperature_celsius", celsius > -273 ? nlohmann::json(round1(celsius)) : nlohmann::json(nullptr)}}},
  };
}

std::string Metrics::render() {
  auto& m = *impl_;
  advance(m.cpu.Add({}), process_cpu_seconds());
  m.rss.Add({}).Set(process_resident_bytes());
  const double celsius = cpu_temperature_celsius();
  if (celsius > -273) m.temperature.Add({}).Set(celsius);
  return prometheus::TextSerializer().Serialize(m.registry->Collect());
}

}  // namespace onair::metrics
