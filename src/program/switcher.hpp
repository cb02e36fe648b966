// Routes the active source's frames into the program; every other source's frames are dropped
// where they arrive, except the latest one of each, kept (by reference) so a switch puts the
// new source on air at once instead of waiting up to a frame interval for its next frame.
// Called from every source's streaming thread; switched from the main loop.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

#include "media/gst.hpp"
#include "program/program.hpp"
#include "sources/source.hpp"

namespace onair::program {

class Switcher {
 public:
  // Main loop thread.
  void set_program(std::shared_ptr<ProgramPipeline> program);
  // Forces a keyframe and pushes the new source's latest frame (if fresh) so receivers show
  // the new source at once. True when it asked for a keyframe (a program runs, the role changed).
  bool set_active(sources::Role role);
  sources::Role active() const { return static_cast<sources::Role>(active_.load()); }

  // Source streaming threads.
  void on_video(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns);
  void on_audio(sources::Role role, GstSample* sample, GstClockTime capture_clock_ns);

  // A kept frame older than this is not worth showing: the new source's next one will do.
  static constexpr int64_t kFreshUs = 100'000;

 private:
  struct Latest {
    media::SamplePtr sample;
    GstClockTime capture_clock_ns = GST_CLOCK_TIME_NONE;
    int64_t arrived_us = 0;
  };

  std::atomic<int> active_{static_cast<int>(sources::Role::primary)};
  std::atomic<std::shared_ptr<ProgramPipeline>> program_;
  // Serialises a switch with the sources' pushes: the kept frame goes out exactly once and
  // before any newer frame of the same source.
  std::mutex mutex_;
  std::array<Latest, sources::kRoleCount> latest_;
};

}  // namespace onair::program
