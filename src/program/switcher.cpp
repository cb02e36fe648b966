#include "program/switcher.hpp"

namespace onair::program {

void Switcher::set_program(std::shared_ptr<ProgramPipeline> program) { program_.store(std::move(program)); }

void Switcher::set_active(sources::Role role) {
  if (active_.exchange(static_cast<int>(role)) == static_cast<int>(role)) return;
  if (auto program = program_.load()) program->force_keyframe();
}

void Switcher::on_video(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns) {
  if (static_cast<int>(role) != active_.load(std::memory_order_relaxed)) return;
  if (auto program = program_.load()) program->push_video(sample, capture_clock_ns);
}

void Switcher::on_audio(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns) {
  if (static_cast<int>(role) != active_.load(std::memory_order_relaxed)) return;
  if (auto program = program_.load()) program->push_audio(sample, capture_clock_ns);
}

}  // namespace onair::program
