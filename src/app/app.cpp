// onair's wiring and its media side: every module started in order, the program pipeline
// (re)built, sources polled for failover, and a clean stop on SIGTERM. The control plane's side
// of the App is app_control.cpp.
#include "app/app.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "app/encoder_report.hpp"
#include "app/onair_app.hpp"
#include "media/gst.hpp"

namespace onair::app {
using sources::Role;

namespace {

constexpr unsigned kMediaTickMs = 10;     // failover decisions: detect timeout + at most this
constexpr int kSnapshotEveryTicks = 10;   // media snapshot to the control thread every 100 ms

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
  for (const std::string& line : encoder_choice_lines(encoder_)) spdlog::info("{}", line);
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

  start_senders();
  if (!start_control()) {
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
