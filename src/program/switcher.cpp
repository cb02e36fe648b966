#include "program/switcher.hpp"

namespace onair::program {

void Switcher::set_program(std::shared_ptr<ProgramPipeline> program) { program_.store(std::move(program)); }

bool Switcher::set_active(sources::Role role) {
  std::lock_guard lock(mutex_);
  if (active_.exchange(static_cast<int>(role)) == static_cast<int>(role)) return false;
  auto program = program_.load();
  if (!program) return false;
  program->force_keyframe(/*from_next_frame=*/true);
  Latest& latest = latest_[static_cast<size_t>(role)];
  if (latest.sample && media::monotonic_us() - latest.arrived_us <= kFreshUs)
    program->push_video(latest.sample.get(), latest.capture_clock_ns);
  latest.sample.reset();  // shown (or stale): never pushed twice
  return true;
}

void Switcher::on_video(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns) {
  std::lock_guard lock(mutex_);
  if (static_cast<int>(role) != active_.load(std::memory_order_relaxed)) {
    latest_[static_cast<size_t>(role)] = {media::SamplePtr(gst_sample_ref(sample)), capture_clock_ns, media::monotonic_us()};
    return;
  }
  if (auto program = program_.load()) program->push_video(sample, capture_clock_ns);
}

void Switcher::on_audio(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns) {
  if (static_cast<int>(role) != active_.load(std::memory_order_relaxed)) return;
  if (auto program = program_.load()) program->push_audio(sample, capture_clock_ns);
}

}  // namespace onair::program
