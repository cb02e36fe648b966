// Routes the active source's frames into the program; every other source's frames are dropped
// where they arrive. Called from every source's streaming thread; switched from the main loop.
#pragma once

#include <atomic>
#include <memory>

#include "program/program.hpp"
#include "sources/source.hpp"

namespace onair::program {

class Switcher {
 public:
  // Main loop thread.
  void set_program(std::shared_ptr<ProgramPipeline> program);
  void set_active(sources::Role role);  // forces a keyframe so receivers show the new source at once
  sources::Role active() const { return static_cast<sources::Role>(active_.load()); }

  // Source streaming threads.
  void on_video(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns);
  void on_audio(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns);

 private:
  std::atomic<int> active_{static_cast<int>(sources::Role::primary)};
  std::atomic<std::shared_ptr<ProgramPipeline>> program_;
};

}  // namespace onair::program
