#include "app/status_board.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "media/gst.hpp"

namespace onair::app {
namespace {

constexpr size_t kMaxEvents = 200;

bool is_camera(sources::Role role) { return role != sources::Role::slate; }

std::string iso_time(int64_t ms) {
  const std::time_t seconds = ms / 1000;
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", buf, static_cast<int>(ms % 1000));
}

}  // namespace

const char* to_string(StreamState state) {
  switch (state) {
    case StreamState::idle: return "idle";
    case StreamState::starting: return "starting";
    case StreamState::live: return "live";
    case StreamState::reconnecting: return "reconnecting";
    case StreamState::stopping: return "stopping";
    case StreamState::error: return "error";
  }
  return "?";
}

StatusBoard::StatusBoard(const config::Config& config, program::Choice encoder, program::Choice display)
    : config_(config), encoder_(std::move(encoder)), display_(std::move(display)) {}

void StatusBoard::set_media(MediaSnapshot snapshot) {
  const auto now = std::chrono::steady_clock::now();
  if (last_rate_at_.time_since_epoch().count() != 0) {
    const double seconds = std::chrono::duration<double>(now - last_rate_at_).count();
    if (seconds >= 0.9) {
      const auto bytes = snapshot.program.ts_bytes - std::min(snapshot.program.ts_bytes, last_ts_bytes_);
      const auto frames = snapshot.program.frames_encoded - std::min(snapshot.program.frames_encoded, last_frames_);
      actual_bitrate_bps_ = double(bytes) * 8 / seconds;
      program_fps_ = double(frames) / seconds;
      last_rate_at_ = now;
      last_ts_bytes_ = snapshot.program.ts_bytes;
      last_frames_ = snapshot.program.frames_encoded;
    }
  } else {
    last_rate_at_ = now;
    last_ts_bytes_ = snapshot.program.ts_bytes;
    last_frames_ = snapshot.program.frames_encoded;
  }
  media_ = std::move(snapshot);
}

void StatusBoard::set_destination(const uplink::SenderStats& stats) {
  auto it = destinations_.find(stats.name);
  if (it == destinations_.end() || it->second.state != stats.state) {
    const std::string from = it == destinations_.end() ? "" : uplink::to_string(it->second.state);
    add_event("destination", from, uplink::to_string(stats.state), stats.name + (stats.reason.empty() ? "" : ": " + stats.reason));
  }
  destinations_[stats.name] = stats;
  follow_links();
}

void StatusBoard::follow_links() {
  // While streaming, the state follows the links: live while any destination is connected.
  if (state_ != StreamState::starting && state_ != StreamState::live && state_ != StreamState::reconnecting) return;
  if (any_destination_connected()) set_stream_state(StreamState::live, "");
  else if (state_ == StreamState::live) set_stream_state(StreamState::reconnecting, "all destinations lost");
}

void StatusBoard::set_stream_state(StreamState state, const std::string& reason) {
  if (state == state_ && reason == state_reason_) return;
  if (state != state_) {
    spdlog::info("stream: {} → {}{}", to_string(state_), to_string(state), reason.empty() ? "" : " (" + reason + ")");
    add_event("stream", to_string(state_), to_string(state), reason);
  }
  state_ = state;
  state_reason_ = reason;
}

void StatusBoard::add_event(std::string kind, std::string from, std::string to, std::string reason) {
  events_.push_back({media::wall_clock_us() / 1000, std::move(kind), std::move(from), std::move(to), std::move(reason)});
  while (events_.size() > kMaxEvents) events_.pop_front();
}

bool StatusBoard::any_destination_connected() const {
  return std::any_of(destinations_.begin(), destinations_.end(),
                     [](const auto& d) { return d.second.state == uplink::LinkState::connected; });
}

bool StatusBoard::another_destination_reaching(const std::string& name) const {
  return std::any_of(destinations_.begin(), destinations_.end(),
                     [&](const auto& d) { return d.first != name && d.second.reaching(); });
}

control::Readiness StatusBoard::readiness() const {
  if (!media_.program.playing)
    return {false, media_.program_error.empty() ? "program pipeline is not playing" : "program pipeline is not playing: " + media_.program_error};
  // Ready means real pictures go out: the slate alone is a fallback, not a ready box.
  const bool camera_on_air = std::any_of(media_.sources.begin(), media_.sources.end(), [&](const auto& s) {
    return is_camera(s.role) && s.role == media_.active && s.healthy;
  });
  if (!camera_on_air) {
    std::string reason = "no camera source is healthy";
    for (const auto& s : media_.sources)
      if (is_camera(s.role))
        reason += std::string("; ") + sources::to_string(s.role) + ": " + (s.reason.empty() ? sources::to_string(s.state) : s.reason);
    return {false, reason};
  }
  if (state_ == StreamState::idle || state_ == StreamState::stopping) return {false, "stream is not started (POST /api/v1/stream/start)"};
  if (!any_destination_connected()) {
    std::string reason = "no destination connected";
    for (const auto& [name, d] : destinations_) reason += "; " + name + ": " + (d.reason.empty() ? uplink::to_string(d.state) : d.reason);
    return {false, reason};
  }
  return {true, ""};
}

nlohmann::json StatusBoard::status_json() const {
  using nlohmann::json;
  const auto& p = media_.program;
  json sources = json::array();
  for (const auto& s : media_.sources) {
    sources.push_back({{"role", sources::to_string(s.role)}, {"type", s.type}, {"state", sources::to_string(s.state)},
                       {"healthy", s.healthy}, {"active", s.role == media_.active}, {"reason", s.reason},
                       {"last_failure", s.last_failure},
                       {"fps", std::round(s.fps * 10) / 10}, {"input", s.input}, {"restarts", s.restarts},
                       {"frames", s.video_frames}, {"last_frame_age_ms", s.last_frame_age_ms},
                       {"width", config_.video.width}, {"height", config_.video.height},
                       {"input_width", s.input_width}, {"input_height", s.input_height},
                       {"input_fps", std::round(s.input_fps * 100) / 100}, {"video_codec", s.video_codec},
                       {"audio_codec", s.audio_codec}, {"caller", s.caller},
                       {"frame_gap_max_ms", s.frame_gap_max_ms},
                       {"input_gap_max_ms", s.input_gap_max_ms}, {"detect_timeout_ms", s.detect_timeout_ms}});
    // The configured name (sources.*.label) the panel shows.
    const auto* cfg = s.role == sources::Role::primary ? &config_.sources.primary
                      : s.role == sources::Role::backup && config_.sources.backup ? &*config_.sources.backup : nullptr;
    sources.back()["label"] = cfg && !cfg->label.empty() ? cfg->label : sources::to_string(s.role);
  }
  json destinations = json::array();
  for (const auto& d : config_.uplink.destinations) {
    json entry = {{"name", d.name}, {"url", d.url.redacted()}, {"mode", config::to_string(d.url.mode)},
                  {"latency_ms", d.url.latency_ms}, {"state", "stopped"}};
    auto it = destinations_.find(d.name);
    if (it != destinations_.end()) {
      const auto& s = it->second;
      entry.update({{"state", uplink::to_string(s.state)}, {"reason", s.reason}, {"uptime_s", s.uptime_s},
                    {"rtt_ms", s.rtt_ms}, {"send_buffer_ms", s.send_buffer_ms},
                    {"send_buffer_packets", s.send_buffer_packets}, {"bandwidth_mbps", s.bandwidth_mbps},
                    {"send_rate_mbps", s.send_rate_mbps}, {"bytes_sent", s.bytes_sent}, {"packets_sent", s.packets_sent},
                    {"packets_lost", s.packets_lost}, {"packets_retransmitted", s.packets_retransmitted},
                    {"packets_dropped", s.packets_dropped}, {"queue_drops", s.queue_drops}, {"reconnects", s.reconnects}, {"resumes", s.resumes},
                    {"peer_silent_ms", s.peer_silent_ms}});
    }
    destinations.push_back(std::move(entry));
  }
  const auto ready = readiness();
  return {
      {"version", ONAIR_VERSION},
      {"uptime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count()},
      {"state", to_string(state_)},
      {"state_reason", state_reason_},
      {"ready", ready.ready},
      {"ready_reason", ready.reason},
      {"active_source", sources::to_string(media_.active)},
      {"source_mode", media_.source_mode},
      {"forced_source", media_.forced},
      {"program", {{"playing", p.playing}, {"error", media_.program_error}, {"width", config_.video.width},
                   {"height", config_.video.height}, {"framerate", config_.video.framerate},
                   {"fps", std::round(program_fps_ * 10) / 10}, {"frames_captured", p.frames_in},
                   {"frames_encoded", p.frames_encoded}, {"frames_dropped", p.frames_dropped},
                   {"display_frames_dropped", p.display_dropped}}},
      {"encoder", {{"name", encoder_.name}, {"element", encoder_.fragment.header("requires")}, {"note", encoder_.note},
                   {"unavailable", encoder_.unavailable}, {"bitrate_kbps", p.bitrate_kbps},
                   {"bitrate_fixed", encoder_.bitrate_fixed.empty() ? nlohmann::json(nullptr)
                                                                     : nlohmann::json(encoder_.bitrate_fixed)},
                   {"bitrate_max_kbps", config_.encoder.bitrate_kbps}, {"bitrate_min_kbps", config_.encoder.bitrate_min_kbps},
                   {"actual_kbps", std::round(actual_bitrate_bps_ / 100) / 10},
                   {"keyframe_interval_s", config_.encoder.keyframe_interval_s},
                   {"abr", abr_ ? abr_->status_json() : nlohmann::json(nullptr)}}},
      {"display", {{"sink", display_.name}, {"note", display_.note}, {"unavailable", display_.unavailable}}},
      {"audio", {{"enabled", config_.audio.enabled}, {"codec", "aac"}, {"bitrate_kbps", config_.audio.bitrate_kbps}}},
      {"sources", sources},
      {"destinations", destinations},
  };
}

nlohmann::json StatusBoard::events_json() const {
  nlohmann::json out = nlohmann::json::array();
  for (auto it = events_.rbegin(); it != events_.rend(); ++it)
    out.push_back({{"time", iso_time(it->time_ms)}, {"kind", it->kind}, {"from", it->from}, {"to", it->to}, {"reason", it->reason}});
  return {{"events", out}};
}

}  // namespace onair::app
