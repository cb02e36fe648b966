#include "sources/supervisor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "media/gst.hpp"

namespace onair::sources {

struct SourceSupervisor::Slot {
  SourceSpec spec;
  std::unique_ptr<Source> source;
  SourceState state = SourceState::stopped;
  std::string reason;
  uint64_t restarts = 0;
  int backoff_ms = 0;
  bool stopping = false;
  int64_t running_since_us = 0;
  // fps over a sliding second
  uint64_t fps_frames = 0;
  int64_t fps_since_us = 0;
  double fps = 0;
  uint64_t frames_before_restarts = 0;
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
    if (slot->source) slot->source->stop();
    slot->source.reset();
    slot->state = SourceState::stopped;
  }
}

void SourceSupervisor::restart(Role role) {
  auto& slot = *slots_[static_cast<size_t>(role)];
  if (slot.stopping) return;
  if (slot.source) slot.frames_before_restarts += slot.source->video_frames();
  slot.source = std::make_unique<Source>(
      slot.spec, on_video_, on_audio_,
      [this, alive = alive_](Role r, const std::string& reason) {
        if (*alive) on_failure(r, reason);
      });
  slot.state = SourceState::starting;
  slot.reason = slot.spec.config.type == "srt" && slot.spec.config.url.mode == config::SrtMode::listener
                    ? "waiting for a caller on port " + std::to_string(slot.spec.config.url.port)
                    : "waiting for the first frame";
  slot.running_since_us = 0;
  slot.source->start();  // a failure arrives through on_failure, posted
}

void SourceSupervisor::on_failure(Role role, const std::string& reason) {
  auto& slot = *slots_[static_cast<size_t>(role)];
  if (slot.stopping) return;
  if (slot.source) {
    slot.frames_before_restarts += slot.source->video_frames();
    slot.source->stop();
    slot.source.reset();
  }
  slot.state = SourceState::failed;
  slot.reason = reason;
  ++slot.restarts;
  const int delay = slot.backoff_ms;
  slot.backoff_ms = std::min(slot.backoff_ms * 2, options_.backoff_max_ms);
  spdlog::warn("source {}: failed ({}); restart #{} in {} ms", to_string(role), reason,
               slot.restarts, delay);
  loop_.after(static_cast<unsigned>(delay), [this, role, alive = alive_] {
    if (*alive && slots_[static_cast<size_t>(role)]->state == SourceState::failed) restart(role);
  });
}

std::vector<SourceStatus> SourceSupervisor::poll(int64_t now_us) {
  std::vector<SourceStatus> out;
  for (auto& slot_ptr : slots_) {
    if (!slot_ptr) continue;
    auto& slot = *slot_ptr;
    SourceStatus s;
    s.role = slot.spec.role;
    s.type = slot.source ? slot.source->type() : (s.role == Role::slate ? "slate" : slot.spec.config.type);
    s.restarts = slot.restarts;
    if (slot.source) {
      const int64_t last = slot.source->last_video_us();
      const uint64_t frames = slot.source->video_frames();
      s.video_frames = slot.frames_before_restarts + frames;
      s.input = slot.source->input_format();
      if (last > 0) {
        s.last_frame_age_ms = (now_us - last) / 1000;
        s.healthy = s.last_frame_age_ms <= options_.detect_timeout_ms;
        if (s.healthy && slot.state != SourceState::running) {
          slot.state = SourceState::running;
          slot.reason.clear();
          slot.running_since_us = now_us;
          spdlog::info("source {}: running ({})", to_string(s.role), s.input);
        } else if (!s.healthy && slot.state == SourceState::running) {
          slot.state = SourceState::starting;
          slot.reason = "no frame for " + std::to_string(s.last_frame_age_ms) + " ms";
          spdlog::warn("source {}: {}", to_string(s.role), slot.reason);
        }
      }
      if (slot.state == SourceState::running && now_us - slot.running_since_us > options_.healthy_reset_ms * 1000LL)
        slot.backoff_ms = options_.backoff_min_ms;
      if (slot.fps_since_us == 0) {
        slot.fps_since_us = now_us;
        slot.fps_frames = frames;
      } else if (now_us - slot.fps_since_us >= 1000000) {
        slot.fps = double(frames - std::min(frames, slot.fps_frames)) * 1e6 / double(now_us - slot.fps_since_us);
        slot.fps_since_us = now_us;
        slot.fps_frames = frames;
      }
      s.fps = slot.fps;
    } else {
      s.video_frames = slot.frames_before_restarts;
    }
    s.state = slot.state;
    s.reason = slot.reason;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace onair::sources
