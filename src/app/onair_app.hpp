// Private to app/: the App that wires every module together. Its members are split by the thread
// they run on: app.cpp starts everything and runs the media side (main loop thread);
// app_control.cpp holds the control plane's actions and the uplinks' feedback (io thread).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "app/panel_feeds.hpp"
#include "app/status_board.hpp"
#include "app/systemd.hpp"
#include "config/config.hpp"
#include "control/control.hpp"
#include "failover/policy.hpp"
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
  void start_senders();                     // before the io thread runs
  bool start_control();                     // before the io thread runs; false: cannot serve

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

}  // namespace onair::app
