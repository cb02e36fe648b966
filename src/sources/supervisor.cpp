#include "sources/supervisor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "media/gst.hpp"

namespace onair::sources {
namespace {

constexpr int64_t kGapWindowUs = 10'000'000;

// The largest value seen over the current and the previous 10 s window.
struct RecentMax {
  int64_t window_start_us = 0;
  int64_t current = 0;
  int64_t previous = 0;
  void add(int64_t now_us, int64_t value) {
    if (now_us - window_start_us >= kGapWindowUs) {
      previous = current;
      current = 0;
      window_start_us = now_us;
    }
    current = std::max(current, value);
  }
  int64_t max() const { return std::max(current, previous); }
};

bool is_listener(const SourceSpec& spec) {
  return spec.config.type == "srt" && spec.config.url.mode == config::SrtMode::listener;
}

}  // namespace

struct SourceSupervisor::Slot {
  SourceSpec spec;
  std::unique_ptr<Source> source;
  // A failed run stops on a helper thread: tearing an SRT pipeline down can take a poll
  // interval, and the main loop must keep deciding failovers meanwhile.
  std::unique_ptr<Source> dying;
  std::future<void> dying_stopped;
  uint64_t run = 0;  // which Source a posted failure belongs to
  SourceState state = SourceState::stopped;
  std::string reason;
  std::string last_failure;
  uint64_t restarts = 0;
  int backoff_ms = 0;
  bool stopping = false;
  int64_t running_since_us = 0;
  // fps over a sliding second
  uint64_t fps_frames = 0;
  int64_t fps_since_us = 0;
  double fps = 0;
  uint64_t frames_before_restarts = 0;
  RecentMax frame_gap_us;  // longest wait between two frames
  RecentMax input_gap_us;  // network: longest wait between two input buffers
  int detect_timeout_ms = 0;
};

SourceSupervisor::SourceSupervisor(media::MainLoop& loop, std::vector<SourceSpec> specs,
                                   SampleHandler on_video, SampleHandler on_audio,
                                   SupervisorOptions options)
    : loop_(loop), on_video_(std::move(on_video)), on_audio_(std::move(on_audio)), options_(options) {
  for (auto& spec : specs) {
    auto slot = std::make_unique<Slot>();
    slot->backoff_ms = options_.backoff_min_ms;
    const auto index = static_cast<size_t>(spec.role);
    slot->spec = std::move(spec);
    slots_[index] = std::move(slot);
  }
}

SourceSupervisor::~SourceSupervisor() {
  *alive_ = false;
  stop_all();
}

bool SourceSupervisor::configured(Role role) const { return slots_[static_cast<size_t>(role)] != nullptr; }

bool SourceSupervisor::has_audio(Role role) const {
  const auto& slot = slots_[static_cast<size_t>(role)];
  return slot && slot->source && slot->source->has_audio();
}

void SourceSupervisor::start_all() {
  for (auto& slot : slots_)
    if (slot) restart(slot->spec.role);
}

void SourceSupervisor::stop_all() {
  for (auto& slot : slots_) {
    if (!slot) continue;
    slot->stopping = true;
    if (slot->dying_stopped.valid()) slot->dying_stopped.wait();
    slot->dying.reset();
    if (slot->source) slot->source->stop();
    slot->source.reset();
    slot->state = SourceState::stopped;
  }
}

void SourceSupervisor::restart(Role role) {
  auto& slot = *slots_[static_cast<size_t>(role)];
  if (slot.stopping) return;
  if (slot.dying_stopped.valid()) {
    // The old run still holds its port (an SRT listener): start once it has let go.
    if (slot.dying_stopped.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      loop_.after(5, [this, role, run = slot.run, alive = alive_] {
        if (*alive && slots_[static_cast<size_t>(role)]->run == run) restart(role);
      });
      return;
    }
    slot.dying_stopped.get();
    slot.dying.reset();
  }
  if (slot.source) slot.frames_before_restarts += slot.source->video_frames();
  const uint64_t run = ++slot.run;
  slot.source = std::make_unique<Source>(
      slot.spec, on_video_, on_audio_,
      [this, alive = alive_, run](Role r, const SourceFailure& failure) {
        if (*alive) on_failure(r, run, failure);
      });
  slot.state = SourceState::starting;
  slot.reason = is_listener(slot.spec) ? "waiting for a caller on port " + std::to_string(slot.spec.config.url.port)
                                       : "waiting for the first frame";
  slot.running_since_us = 0;
  slot.fps_since_us = 0;  // the new run counts its frames from zero
  slot.fps = 0;
  slot.source->start();  // a failure arrives through on_failure, posted
}

void SourceSupervisor::on_failure(Role role, uint64_t run, const SourceFailure& failure) {
  auto& slot = *slots_[static_cast<size_t>(role)];
  if (slot.stopping || run != slot.run || !slot.source) return;  // a stale report from a replaced run
  const bool delivered = slot.source->video_frames() > 0;
  slot.frames_before_restarts += slot.source->video_frames();
  slot.dying = std::move(slot.source);
  slot.dying_stopped = std::async(std::launch::async, [dying = slot.dying.get()] { dying->stop(); });
  slot.state = SourceState::failed;
  slot.reason = failure.reason;
  slot.last_failure = failure.reason;
  ++slot.restarts;
  int delay = 0;
  if (failure.ended && delivered) {
    // A phone leaving is normal: listen again at once for its reconnect. A sender that leaves
    // without ever delivering video gets the backoff, so it cannot spin the box.
    slot.backoff_ms = options_.backoff_min_ms;
    spdlog::info("source {}: {}; restart #{} at once", to_string(role), failure.reason, slot.restarts);
  } else {
    delay = slot.backoff_ms;
    slot.backoff_ms = std::min(slot.backoff_ms * 2, options_.backoff_max_ms);
    spdlog::warn("source {}: failed ({}); restart #{} in {} ms", to_string(role), failure.reason, slot.restarts, delay);
  }
  loop_.after(static_cast<unsigned>(delay), [this, role, run, alive = alive_] {
    if (*alive && slots_[static_cast<size_t>(role)]->run == run && slots_[static_cast<size_t>(role)]->state == SourceState::failed)
      restart(role);
  });
}

SourceStatus SourceSupervisor::poll_slot(Slot& slot, int64_t now_us) {
  SourceStatus s;
  s.role = slot.spec.role;
  s.type = s.role == Role::slate ? "slate" : slot.spec.config.type;
  if (slot.source) {
    Source& source = *slot.source;
    const int64_t last = source.last_video_us();
    const uint64_t frames = source.video_frames();
    s.video_frames = slot.frames_before_restarts + frames;
    s.input = source.input_format();
    s.input_width = source.input_width();
    s.input_height = source.input_height();
    s.input_fps = source.input_fps();
    const InputInfo info = source.input_info();
    s.video_codec = !info.video_codec.empty() ? info.video_codec : (s.input_width ? "raw" : "");
    s.audio_codec = info.audio_codec;
    s.caller = info.connected ? info.caller : "";
    if (last > 0) s.last_frame_age_ms = (now_us - last) / 1000;

    if (slot.fps_since_us == 0) {
      slot.fps_since_us = now_us;
      slot.fps_frames = frames;
    } else if (now_us - slot.fps_since_us >= 1000000) {
      slot.fps = double(frames - std::min(frames, slot.fps_frames)) * 1e6 / double(now_us - slot.fps_since_us);
      slot.fps_since_us = now_us;
      slot.fps_frames = frames;
    }
    s.fps = slot.fps;
    slot.frame_gap_us.add(now_us, source.take_frame_gap_max_us());
    slot.input_gap_us.add(now_us, source.take_input_gap_max_us());

    HealthInput in;
    in.now_us = now_us;
    in.last_frame_us = last;
    in.network = source.network();
    in.last_input_us = source.last_input_us();
    in.connected = info.connected;
    in.connected_us = info.connected_us;
    const double fps = slot.fps > 0 ? slot.fps : s.input_fps;
    in.frame_interval_ms = fps > 0 ? 1000.0 / fps : 0;
    const HealthOptions options{options_.detect_timeout_ms, options_.frame_stall_ms, options_.link_timeout_ms,
                                options_.first_frame_timeout_ms};
    const HealthVerdict verdict = judge_health(in, options);
    slot.detect_timeout_ms = verdict.timeout_ms;
    if (verdict.action != HealthAction::none) {
      // Reopen: a dead link frees the listener for the phone's reconnect; no video gets the backoff.
      on_failure(s.role, slot.run, {verdict.reason, verdict.action == HealthAction::restart_dead_link});
    } else {
      s.healthy = verdict.healthy;
      if (s.healthy && slot.state != SourceState::running) {
        slot.state = SourceState::running;
        slot.reason.clear();
        slot.running_since_us = now_us;
        spdlog::info("source {}: running ({}, {}{}{})", to_string(s.role), s.input, s.video_codec,
                     s.audio_codec.empty() ? "" : "+" + s.audio_codec, s.caller.empty() ? "" : " from " + s.caller);
      } else if (!s.healthy && slot.state == SourceState::running) {
        slot.state = SourceState::starting;
        slot.reason = verdict.reason;
        spdlog::warn("source {}: {}", to_string(s.role), slot.reason);
      } else if (!s.healthy && (last > 0 || info.connected)) {
        slot.reason = verdict.reason;
      }
      if (slot.state == SourceState::running && now_us - slot.running_since_us > options_.healthy_reset_ms * 1000LL)
        slot.backoff_ms = options_.backoff_min_ms;
    }
  } else {
    s.video_frames = slot.frames_before_restarts;
  }
  s.restarts = slot.restarts;
  s.frame_gap_max_ms = slot.frame_gap_us.max() / 1000;
  s.input_gap_max_ms = slot.input_gap_us.max() / 1000;
  s.detect_timeout_ms = slot.detect_timeout_ms ? slot.detect_timeout_ms : options_.detect_timeout_ms;
  s.state = slot.state;
  s.reason = slot.reason;
  s.last_failure = slot.last_failure;
  return s;
}

std::vector<SourceStatus> SourceSupervisor::poll(int64_t now_us) {
  std::vector<SourceStatus> out;
  for (auto& slot : slots_)
    if (slot) out.push_back(poll_slot(*slot, now_us));
  return out;
}

}  // namespace onair::sources
