// The App's io thread: the control plane's actions (start, stop, source, bitrate), the uplinks'
// statistics and keyframe requests, the bitrate controller, metrics and systemd. See onair_app.hpp.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>

#include "app/encoder_report.hpp"
#include "app/onair_app.hpp"
#include "media/gst.hpp"

namespace onair::app {
namespace {

constexpr auto kControlTick = std::chrono::milliseconds(250);

}  // namespace

void App::start_senders() {
  const size_t queue_bytes = std::max<size_t>(256 * 1024,
      size_t(config_.encoder.bitrate_kbps + config_.audio.bitrate_kbps) * 125 * size_t(config_.uplink.queue_ms) / 1000 * 2);
  for (const auto& destination : config_.uplink.destinations) {
    uplink::SenderOptions options{config_.uplink.peer_idle_timeout_ms, queue_bytes,
                                  config_.uplink.reconnect_min_ms, config_.uplink.reconnect_max_ms,
                                  50};  // the bitrate controller's tick
    uplink::SenderCallbacks callbacks;
    callbacks.on_keyframe_wanted = [this, name = destination.name](uplink::KeyframeWant want) {
      asio::post(ioc_, [this, want, name] { on_keyframe_wanted(name, want); });
    };
    callbacks.on_stats = [this](const uplink::SenderStats& stats) {
      asio::post(ioc_, [this, stats] {
        board_->set_destination(stats);
        const auto& d = stats;
        metrics_->update_destination({d.name, d.state == uplink::LinkState::connected, d.rtt_ms / 1000,
                                      d.send_buffer_ms / 1000, d.bandwidth_mbps * 1e6, d.bytes_sent, d.packets_sent,
                                      d.packets_lost, d.packets_retransmitted, d.packets_dropped, d.queue_drops,
                                      d.reconnects, d.resumes});
        adapt_bitrate(stats);
      });
    };
    senders_.push_back(std::make_unique<uplink::UplinkSender>(destination, options, callbacks));
  }
}

bool App::start_control() {
  control::ServerOptions server_options;
  server_options.host = config_.control.host;
  server_options.port = config_.control.port;
  server_options.token = config_.control.token;
  server_options.read_token = config_.control.read_token;
  server_options.public_health = config_.control.public_health;
  server_options.tls_cert = config_.control.tls_cert;
  server_options.tls_key = config_.control.tls_key;
  server_options.web_root = data_dir_ + "/web";
  server_options.openapi_file = data_dir_ + "/docs/openapi.yaml";
  control::Hooks hooks;
  hooks.status = [this] {
    auto status = board_->status_json();
    status.update(metrics_->status_json());  // + "latency" (p50/p95 over 10 s) and "process"
    return status;
  };
  hooks.metrics = [this] { return metrics_->render(); };
  hooks.readiness = [this] { return board_->readiness(); };
  hooks.stream_start = [this] { return start_stream(); };
  hooks.stream_stop = [this] { return stop_stream(); };
  hooks.select_source = [this](const std::string& name) { return select_source(name); };
  hooks.events = [this] { return board_->events_json(); };
  hooks.set_bitrate = [this](int64_t kbps) { return set_bitrate(kbps); };
  hooks.live_sample = [this] { return sampler_.sample(*board_); };
  hooks.backup_link = [this](const std::string& host) { return backup_link(config_, host); };
  hooks.preview = [this](control::PreviewDone done) {
    // The sink belongs to the main loop; the JPEG is made on the grabber's thread.
    loop_->post([this, done = std::move(done)]() mutable {
      preview_.grab(program_ ? program_->display_sink() : nullptr, std::move(done));
    });
  };
  try {
    server_ = std::make_unique<control::ControlServer>(ioc_, server_options, hooks);
    server_->start();
  } catch (const std::exception& e) {
    spdlog::critical("control: {}", e.what());
    return false;
  }
  return true;
}

void App::control_tick() {
  if (shutting_down_) return;
  const auto& media = board_->media();
  metrics::MediaSample m;
  m.playing = media.program.playing;
  m.stream_state = to_string(board_->stream_state());
  m.frames_captured = media.program.frames_in;
  m.frames_encoded = media.program.frames_encoded;
  m.frames_dropped = media.program.frames_dropped;
  m.fps = board_->program_fps();
  m.bitrate_target_bps = media.program.bitrate_kbps * 1000.0;
  m.bitrate_actual_bps = board_->actual_bitrate_bps();
  metrics_->update_media(m);
  for (const auto& s : media.sources)
    metrics_->update_source({sources::to_string(s.role), s.role == media.active, s.healthy, s.restarts});
  // systemd: ready once serving and playing; the watchdog only while frames move.
  const auto now = std::chrono::steady_clock::now();
  if (media.program.frames_encoded != watchdog_frames_) {
    watchdog_frames_ = media.program.frames_encoded;
    frames_moved_at_ = now;
  }
  const std::string summary = std::string(to_string(board_->stream_state())) + ", source " +
                              sources::to_string(media.active) + ", encoder " + encoder_.name;
  if (media.program.playing) systemd_.ready(summary);
  systemd_.status(summary);
  if (now - frames_moved_at_ < std::chrono::seconds(3)) systemd_.watchdog();

  control_timer_.expires_after(kControlTick);
  control_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) control_tick();
  });
}

control::ActionResult App::start_stream() {
  const auto state = board_->stream_state();
  if (state == StreamState::idle || state == StreamState::error) {
    board_->set_stream_state(StreamState::starting, "connecting to " + std::to_string(senders_.size()) + " destination(s)");
    for (auto& sender : senders_) sender->start();
  }
  return {200, {{"state", to_string(board_->stream_state())}}};
}

control::ActionResult App::stop_stream() {
  const auto state = board_->stream_state();
  if (state != StreamState::idle) {
    board_->set_stream_state(StreamState::stopping, "requested");
    for (auto& sender : senders_) sender->stop();
    board_->set_stream_state(StreamState::idle, "stopped");
  }
  return {200, {{"state", to_string(board_->stream_state())}}};
}

control::ActionResult App::select_source(const std::string& name) {
  std::optional<failover::Source> forced;
  if (name != "auto") {
    forced = failover::source_from_string(name);
    if (!forced) return {400, {{"error", "unknown source \"" + name + "\" (expected auto, primary, backup or slate)"}}};
    if (*forced == failover::Source::backup && !config_.sources.backup)
      return {409, {{"error", "no backup source is configured (sources.backup)"}}};
  }
  loop_->post([this, forced] { policy_.force(forced); });
  board_->add_event("source", "", name, name == "auto" ? "manual override released" : "manual override");
  spdlog::info("control: source {} requested", name);
  return {200, {{"source_mode", forced ? "manual" : "auto"}, {"requested", name}}};
}

control::ActionResult App::set_bitrate(int64_t kbps) {
  const int lo = config_.encoder.bitrate_min_kbps, hi = config_.encoder.bitrate_kbps;
  if (kbps < lo || kbps > hi)
    return {400, {{"error", "bitrate_kbps must be " + std::to_string(lo) + ".." + std::to_string(hi) +
                                " (encoder.bitrate_min_kbps..encoder.bitrate_kbps), got " + std::to_string(kbps)}}};
  if (!encoder_.bitrate_fixed.empty())
    return {409, {{"error", "encoder " + fixed_bitrate_sentence(encoder_) + "; set encoder.bitrate_kbps and restart onair"}}};
  loop_->post([this, kbps] { if (program_) program_->set_bitrate_kbps(static_cast<int>(kbps)); });
  abr_->set_current(static_cast<int>(kbps));  // with abr on, the ceiling it adapts under
  const std::string what = abr_->enabled() ? "bitrate ceiling set through the API (abr adapts under it)"
                                           : "bitrate set through the API";
  board_->add_event("encoder", "", std::to_string(kbps) + " kbps", what);
  spdlog::info("control: encoder {}: {} kbps", what, kbps);
  return {200, {{"bitrate_kbps", kbps}}};
}

void App::adapt_bitrate(const uplink::SenderStats& stats) {
  const int before = abr_->target_kbps();
  const auto decision = abr_->on_stats(stats, media::monotonic_us() / 1000);
  if (decision.keyframe) force_keyframe("repair");
  if (const uplink::BitrateController* c = abr_->controller(stats.name))
    metrics_->update_abr({stats.name, uplink::to_string(c->phase()), c->decreases(), c->increases(),
                          c->capacity_kbps() * 1000.0});
  const auto kbps = decision.kbps;
  if (!kbps) return;
  loop_->post([this, k = *kbps] { if (program_) program_->set_bitrate_kbps(k); });
  // The log has every step; the event list keeps the cuts and the return to the ceiling.
  if (*kbps < before || *kbps == config_.encoder.bitrate_kbps)
    board_->add_event("encoder", std::to_string(before) + " kbps", std::to_string(*kbps) + " kbps", abr_->last_reason());
}

void App::on_keyframe_wanted(const std::string& destination, uplink::KeyframeWant want) {
  switch (want) {
    case uplink::KeyframeWant::link:
      drop_out_refused_.erase(destination);  // a connection or a resume starts a new picture anyway
      force_keyframe("link");
      return;
    case uplink::KeyframeWant::drop_out:
      // A quiet link's keyframes only while no other destination is fine: they cost it quality.
      // (A venue's uplink failing takes every destination quiet at once: then they all ask.)
      if (!config_.uplink.recovery_keyframes) return;
      if (board_->another_destination_reaching(destination)) {
        drop_out_refused_.insert(destination);
        return;
      }
      force_keyframe("drop_out");
      return;
    case uplink::KeyframeWant::answered:
      // Some of its drop-out keyframes were held back, so what it recovered may hold none (the
      // links did not go quiet at the same moment, or the other one answered first): one now
      // starts its picture right after that, not at the next scheduled keyframe.
      if (drop_out_refused_.erase(destination) > 0) force_keyframe("link");
      return;
  }
}

void App::force_keyframe(const char* reason) {
  metrics_->count_keyframe(reason);
  loop_->post([this] { if (program_) program_->force_keyframe(); });
}
}  // namespace onair::app
