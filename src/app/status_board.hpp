// The status of everything, as the control thread sees it: media snapshots posted from the
// main loop, sender stats posted from sender threads, the stream state and the event log.
// Lives on the control (io_context) thread only; nothing here is shared across threads.
#pragma once

#include <chrono>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "control/control.hpp"
#include "program/program.hpp"
#include "sources/supervisor.hpp"
#include "uplink/abr.hpp"
#include "uplink/uplink.hpp"

namespace onair::app {

enum class StreamState { idle, starting, live, reconnecting, stopping, error };
const char* to_string(StreamState state);

struct MediaSnapshot {
  program::ProgramStats program;
  std::vector<sources::SourceStatus> sources;
  sources::Role active = sources::Role::primary;
  std::string source_mode = "auto";  // auto | manual
  std::string forced;                // the manually chosen source, when manual
  std::string program_error;         // why the program pipeline is down, if it is
};

struct Event {
  int64_t time_ms = 0;  // Unix epoch
  std::string kind;     // source | stream | destination | program
  std::string from;
  std::string to;
  std::string reason;
};

class StatusBoard {
 public:
  StatusBoard(const config::Config& config, program::Choice encoder, program::Choice display);

  void set_media(MediaSnapshot snapshot);
  void set_destination(const uplink::SenderStats& stats);
  void set_stream_state(StreamState state, const std::string& reason);
  void follow_links();
  void add_event(std::string kind, std::string from, std::string to, std::string reason);
  void set_abr(const uplink::AdaptiveBitrate* abr) { abr_ = abr; }  // shown as encoder.abr

  StreamState stream_state() const { return state_; }
  bool any_destination_connected() const;
  // A destination other than `name` is connected and its peer answering (see SenderStats::reaching).
  bool another_destination_reaching(const std::string& name) const;
  const MediaSnapshot& media() const { return media_; }
  const std::map<std::string, uplink::SenderStats>& destinations() const { return destinations_; }
  double actual_bitrate_bps() const { return actual_bitrate_bps_; }
  double program_fps() const { return program_fps_; }

  control::Readiness readiness() const;
  nlohmann::json status_json() const;
  nlohmann::json events_json() const;

 private:
  const config::Config& config_;
  program::Choice encoder_;
  program::Choice display_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  MediaSnapshot media_;
  std::map<std::string, uplink::SenderStats> destinations_;
  StreamState state_ = StreamState::idle;
  std::string state_reason_;
  std::deque<Event> events_;
  const uplink::AdaptiveBitrate* abr_ = nullptr;
  // Output bitrate and fps from counter deltas between snapshots.
  uint64_t last_ts_bytes_ = 0;
  uint64_t last_frames_ = 0;
  std::chrono::steady_clock::time_point last_rate_at_{};
  double actual_bitrate_bps_ = 0;
  double program_fps_ = 0;
};

}  // namespace onair::app
