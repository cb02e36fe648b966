#include "app/app.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

#include "app/panel_feeds.hpp"
#include "app/status_board.hpp"
#include "app/systemd.hpp"
#include "control/control.hpp"
#include "failover/policy.hpp"
#include "media/gst.hpp"
#include "media/main_loop.hpp"
#include "metrics/metrics.hpp"
#include "program/preview.hpp"
#include "program/program.hpp"
#include "program/select.hpp"
#include "program/switcher.hpp"
#include "sources/supervisor.hpp"
#include "uplink/abr.hpp"
#include "uplink/uplink.hpp"

namespace onair::app {
namespace asio = boost::asio;
using sources::Role;

namespace {

// "va cannot change its bitrate while it runs (vah264enc's bitrate cannot change while it plays
// (GStreamer 1.22.0))": the log, the API's 409 and --print-encoder say it in the same words.
std::string fixed_bitrate_sentence(const program::Choice& encoder) {
  return encoder.name + " cannot change its bitrate while it runs (" + encoder.bitrate_fixed + ")";
}

// The log line for an encoder whose bitrate is fixed (see fixed_bitrate_sentence()).
std::string fixed_bitrate_note(const program::Choice& encoder, const config::EncoderConfig& config) {
  return "encoder: " + fixed_bitrate_sentence(encoder) + ": it stays at " + std::to_string(config.bitrate_kbps) +
         " kbps" + (config.abr ? "; adaptive bitrate (encoder.abr) is off" : "");
}

constexpr unsigned kMediaTickMs = 10;     // failover decisions: detect timeout + at most this
constexpr int kSnapshotEveryTicks = 10;   // media snapshot to the control thread every 100 ms
constexpr auto kControlTick = std::chrono::milliseconds(250);

Role to_role(failover::Source s) { return static_cast<Role>(static_cast<int>(s)); }

std::vector<sources::SourceSpec> source_specs(const config::Config& c, const std::string& pipelines) {
  const sources::Canonical canonical{c.video.width, c.video.height, c.video.framerate};
  std::vector<sources::SourceSpec> specs;
  specs.push_back({Role::primary, c.sources.primary, "", "", canonical, pipelines});
  if (c.sources.backup) specs.push_back({Role::backup, *c.sources.backup, "", "", canonical, pipelines});
  config::SourceConfig slate;
  slate.type = "slate";
  specs.push_back({Role::slate, slate, c.sources.slate.text, c.sources.slate.image, canonical, pipelines});
  return specs;
}

}  // namespace

class App {
 public:
  App(const config::Config& config, std::string data_dir)
      : config_(config), data_dir_(std::move(data_dir)), pipelines_(data_dir_ + "/pipelines"),
        policy_(config.failover.failback_hold_ms) {}

  int run();

 private:
  void build_program(bool display_failed);  // main loop thread
  void media_tick();                        // main loop thread
  void control_tick();                      // io thread
  control::ActionResult start_stream();     // io thread
  control::ActionResult stop_stream();      // io thread
  control::ActionResult select_source(const std::string& name);  // io thread
  control::ActionResult set_bitrate(int64_t kbps);                 // io thread
  void adapt_bitrate(const uplink::SenderStats& stats);            // io thread
  void force_keyframe(const char* reason);  // io thread; reason: one of metrics::kKeyframeReasons
  void on_keyframe_wanted(const std::string& destination, uplink::KeyframeWant want);  // io thread
  void shutdown();                          // io thread

  const config::Config& config_;
  std::string data_dir_;
  std::string pipelines_;
  asio::io_context ioc_;
  uplink::SrtLibrary srt_;
  std::unique_ptr<media::MainLoop> loop_;
  program::Choice encoder_;
  program::Choice display_;
  std::unique_ptr<StatusBoard> board_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<control::ControlServer> server_;
  LiveSampler sampler_;              // the panel's chart figures; its meters are fed from media threads
  program::PreviewGrabber preview_;  // the panel's preview, converted on its own thread
  std::unique_ptr<uplink::AdaptiveBitrate> abr_;  // io thread
  SystemdNotifier systemd_;
  std::vector<std::unique_ptr<uplink::UplinkSender>> senders_;
  std::set<std::string> drop_out_refused_;  // destinations whose drop-out keyframes were held back (io thread)
  program::Switcher switcher_;
  // Main loop thread only:
  std::shared_ptr<program::ProgramPipeline> program_;
  std::unique_ptr<sources::SourceSupervisor> supervisor_;
  failover::FailoverPolicy policy_;
  std::string program_error_;
  int program_restarts_ = 0;
  int tick_ = 0;
  // Control thread only:
  asio::steady_timer control_timer_{ioc_};
  uint64_t watchdog_frames_ = 0;
  std::chrono::steady_clock::time_point frames_moved_at_ = std::chrono::steady_clock::now();
  bool shutting_down_ = false;
};

void App::build_program(bool display_failed) {
  if (program_) {
    switcher_.set_program(nullptr);
    program_->stop(0);
    program_.reset();
  }
  if (display_failed && display_.name != "none") {
    display_ = program::choose_display(pipelines_, "none");
    display_.note = "display failed; running without one";
  }
  program::ProgramOptions options = program::program_options(config_, display_.name, pipelines_);
  program::ProgramCallbacks callbacks;
  callbacks.on_ts = [this](uplink::TsPayload payload) {
    for (auto& sender : senders_) sender->push(payload);
  };
  // Video frames only (audio payloads carry AAC's own framing delay): metrics on the io thread.
  callbacks.on_frame = [this](const program::FrameTiming& t) {
    if (t.encode_s >= 0) sampler_.encode_latency.add(t.encode_s);
    if (t.pipeline_s >= 0) sampler_.pipeline_latency.add(t.pipeline_s);
    asio::post(ioc_, [this, f = metrics::FrameSample{t.pipeline_s, t.source_s, t.queue_s, t.encode_s, t.mux_s}] {
      metrics_->observe_frame(f);
    });
  };
  callbacks.on_error = [this](const std::string& reason, bool from_display) {
    program_error_ = reason;
    // Rebuilt from a timer, never inside the failing pipeline's own bus callback.
    const unsigned delay = std::min(5000, 200 << std::min(program_restarts_++, 5));
    loop_->after(delay, [this, from_display] { build_program(from_display); });
  };
  auto program = std::make_shared<program::ProgramPipeline>(options, encoder_, display_, callbacks);
  try {
    program->start();
  } catch (const std::exception& e) {
    program_error_ = e.what();
    spdlog::error("program: {}; retrying in 2 s", program_error_);
    loop_->after(2000, [this] { build_program(false); });
    return;
  }
  program_error_.clear();
  program_ = program;
  switcher_.set_program(program_);
  program_->force_keyframe();
  asio::post(ioc_, [this] { metrics_->count_keyframe("program"); });
}

void App::media_tick() {
  if (!supervisor_) return;
  const int64_t now_us = media::monotonic_us();
  auto statuses = supervisor_->poll(now_us);
  std::array<bool, failover::kSourceCount> healthy{};
  for (const auto& s : statuses) healthy[static_cast<int>(s.role)] = s.healthy;
  const auto decision = policy_.update(now_us / 1000, healthy);
  if (decision.changed) {
    const Role from = switcher_.active();
    const Role to = to_role(decision.active);
    const bool keyframe = switcher_.set_active(to);
    spdlog::warn("failover: {} → {} ({})", sources::to_string(from), sources::to_string(to), decision.reason);
    asio::post(ioc_, [this, from, to, keyframe, reason = decision.reason] {
      board_->add_event("source", sources::to_string(from), sources::to_string(to), reason);
      metrics_->count_failover(sources::to_string(from), sources::to_string(to));
      if (keyframe) metrics_->count_keyframe("switch");  // the new source starts with one
    });
  }
  if (++tick_ % kSnapshotEveryTicks != 0) return;
  MediaSnapshot snap;
  if (program_) snap.program = program_->stats();
  snap.sources = std::move(statuses);
  snap.active = switcher_.active();
  snap.source_mode = policy_.mode() == failover::Mode::manual ? "manual" : "auto";
  if (policy_.forced()) snap.forced = failover::to_string(*policy_.forced());
  snap.program_error = program_error_;
  asio::post(ioc_, [this, snap = std::move(snap)]() mutable { board_->set_media(std::move(snap)); });
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

void App::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  spdlog::info("onair: shutting down");
  systemd_.stopping();
  board_->set_stream_state(StreamState::stopping, "shutting down");
  control_timer_.cancel();
  // Sources first (no new frames), then EOS through the program so the muxer flushes to SRT.
  loop_->run_sync([this] {
    if (supervisor_) supervisor_->stop_all();
    switcher_.set_program(nullptr);
    if (program_) program_->stop(2000);
    program_.reset();
    supervisor_.reset();
  });
  senders_.clear();  // each stops, closes its socket, joins its thread
  if (server_) server_->stop();
  ioc_.stop();
}

int App::run() {
  media::init_gstreamer();
  loop_ = std::make_unique<media::MainLoop>();
  try {
    const program::ProbeFormat format{config_.video.width, config_.video.height, config_.video.framerate};
    encoder_ = program::choose_encoder(pipelines_, config_.encoder.type, format);
    display_ = program::choose_display(pipelines_, config_.display.sink);
  } catch (const std::exception& e) {
    spdlog::critical("onair: {}", e.what());
    return 1;
  }
  spdlog::info("encoder: {} — {}", encoder_.name, encoder_.note);
  for (const auto& u : encoder_.unavailable) spdlog::info("encoder: not available here: {}", u);
  spdlog::info("display: {} — {}", display_.name, display_.note);
  board_ = std::make_unique<StatusBoard>(config_, encoder_, display_);
  metrics_ = std::make_unique<metrics::Metrics>(ONAIR_VERSION, encoder_.name, display_.name);
  config::EncoderConfig encoder_config = config_.encoder;
  if (!encoder_.bitrate_fixed.empty()) {
    spdlog::warn("{}", fixed_bitrate_note(encoder_, config_.encoder));
    encoder_config.abr = false;  // its decisions could not reach the encoder
  }
  abr_ = std::make_unique<uplink::AdaptiveBitrate>(encoder_config, config_.uplink.destinations,
                                                   config_.audio.enabled ? config_.audio.bitrate_kbps : 0);
  board_->set_abr(abr_.get());

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
    senders_.clear();
    return 1;
  }

  loop_->run_sync([this] {
    build_program(false);
    supervisor_ = std::make_unique<sources::SourceSupervisor>(
        *loop_, source_specs(config_, pipelines_),
        [this](Role r, GstSample* s, GstClockTime t) { switcher_.on_video(r, s, t); },
        [this](Role r, GstSample* s, GstClockTime t) { switcher_.on_audio(r, s, t); },
        sources::SupervisorOptions{config_.failover.detect_timeout_ms, 250, 5000, 10000});
    supervisor_->start_all();
    loop_->every(kMediaTickMs, [this] { media_tick(); return true; });
  });

  asio::signal_set signals(ioc_, SIGINT, SIGTERM);
  signals.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("onair: signal {} received", signal);
    shutdown();
  });
  if (config_.stream.autostart) start_stream();
  control_tick();
  ioc_.run();
  loop_->stop();
  spdlog::info("onair: stopped");
  return 0;
}

int run(const config::Config& config, const AppOptions& options) {
  App app(config, options.data_dir.empty() ? find_data_dir() : options.data_dir);
  return app.run();
}

int print_encoder(const config::Config& config, const AppOptions& options) {
  const std::string pipelines = (options.data_dir.empty() ? find_data_dir() : options.data_dir) + "/pipelines";
  try {
    const program::ProbeFormat format{config.video.width, config.video.height, config.video.framerate};
    const program::Choice encoder = program::choose_encoder(pipelines, config.encoder.type, format);
    const program::ProgramOptions program = program::program_options(config, "none", pipelines);
    std::cerr << "encoder: " << encoder.name << " — " << encoder.note << "\n";
    for (const auto& u : encoder.unavailable) std::cerr << "encoder: not available here: " << u << "\n";
    std::cerr << "encoder: rate-control buffer " << program::encoder_buffer_text(encoder, program) << "\n";
    if (!encoder.bitrate_fixed.empty()) std::cerr << fixed_bitrate_note(encoder, config.encoder) << "\n";
    std::cout << program::render_program_encoder(encoder, program, config.encoder.bitrate_kbps) << "\n";
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "onair: " << e.what() << "\n";
    return 1;
  }
}

std::string find_data_dir() {
  namespace fs = std::filesystem;
  std::vector<fs::path> candidates;
  if (const char* env = std::getenv("ONAIR_DATA_DIR")) candidates.emplace_back(env);
  std::error_code ec;
  const auto exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) candidates.push_back(exe.parent_path().parent_path() / "share" / "onair");
  candidates.emplace_back(ONAIR_SOURCE_DIR);
  for (const auto& dir : candidates)
    if (fs::is_directory(dir / "pipelines", ec)) return dir.string();
  return ONAIR_SOURCE_DIR;
}

}  // namespace onair::app
