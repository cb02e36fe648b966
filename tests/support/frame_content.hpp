// What each decoded frame of a captured MPEG-TS shows, for failover tests: the mean colour of
// its picture (so a test tells the blue primary from the red backup and the dark slate), its
// pts, whether it is a keyframe, and when its bytes arrived at the receiver. Plus the switches
// between sources found in that sequence, with the gap a viewer sees at each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace onair::test {

// The colours the test senders paint (frame_sender.hpp) and what onair's slate looks like.
enum class Look { primary, backup, slate, unknown };
const char* to_string(Look look);

struct FrameSample {
  double pts_s = 0;
  bool key = false;
  double y = 0, u = 0, v = 0;  // mean of each plane, 0..255
  int64_t pos = -1;            // byte offset of the frame's first TS packet in the capture
  int64_t arrival_us = -1;     // when that byte arrived (ArrivalLog), -1 = unknown
  Look look = Look::unknown;
};

// Primary = blue, backup = red (mean chroma far apart even letterboxed to a third of the
// picture), slate = dark and nearly grey.
Look classify(double y, double u, double v);

// Decodes every video frame (from the first keyframe on) of `ts`. `arrival_us(offset)` maps a
// byte offset to its arrival time when given. An empty result and `error` set when the bytes
// cannot be opened or hold no video.
std::vector<FrameSample> decode_frame_samples(const std::vector<uint8_t>& ts, std::string* error,
                                              const std::function<int64_t(std::size_t)>& arrival_us = {});

// A change of source in a decoded sequence: the last frame of one look, the first of the next.
struct Switch {
  Look from = Look::unknown;
  Look to = Look::unknown;
  std::size_t first_index = 0;  // index of the first frame of `to`
  double pts_gap_ms = 0;        // pts of the first `to` frame minus pts of the last `from` one
  double arrival_gap_ms = -1;   // the same at the receiver (-1 when arrivals are unknown)
  bool starts_with_keyframe = false;
};
// Runs of fewer than `min_run` frames of a look are ignored (a frame mixing two sources, e.g.
// the first one after a cut, is no source of its own).
std::vector<Switch> find_switches(const std::vector<FrameSample>& frames, std::size_t min_run = 3);

// Records when bytes arrive at a receiver by sampling its byte counter every millisecond on
// its own thread: arrival_us(offset) = the first sample that counted past `offset`.
class ArrivalLog {
 public:
  explicit ArrivalLog(std::function<std::size_t()> byte_count);
  ~ArrivalLog();
  ArrivalLog(const ArrivalLog&) = delete;
  ArrivalLog& operator=(const ArrivalLog&) = delete;

  int64_t arrival_us(std::size_t offset) const;  // steady clock µs; -1 when not yet arrived

 private:
  struct Mark {
    std::size_t count;
    int64_t at_us;
  };
  std::function<std::size_t()> byte_count_;
  mutable std::mutex mutex_;
  std::vector<Mark> marks_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int64_t steady_now_us();

}  // namespace onair::test
