// The drawn capture stamp: the capture time written into the picture itself as a bar code, so a
// receiver that only has the decoded pixels (or a camera filming a screen) can still measure
// latency. The SEI stamp (program/sei.hpp) says when the frame entered onair; this one survives
// everything the picture goes through: encoder, transcoder, player, screen.
//
// A row of square blocks along the bottom of the picture, centred: a start pattern, 64 data bits
// (microseconds since the Unix epoch, the SEI stamp's clock, most significant bit first), a stop
// pattern. White (Y 235) is 1, black (Y 16) is 0. Blocks are width/80 pixels, at least 8, so a
// 1280-wide picture gets 16x16 blocks that line up with H.264 macroblocks and survive a low bitrate.
// Luma only; pure byte work, header-only, so onair-probe reads it without linking the media code.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>

namespace onair::media {

namespace frame_stamp {

inline constexpr uint8_t kBlack = 16, kWhite = 235;
// Not periodic, so checkerboards and stripes do not pass for a stamp.
inline constexpr std::array<bool, 6> kStart = {true, true, true, false, true, false};
inline constexpr std::array<bool, 6> kStop = {false, true, false, true, true, true};
inline constexpr int kDataBits = 64;
inline constexpr int kBlocks = int(kStart.size()) + kDataBits + int(kStop.size());
inline constexpr int kMinBlock = 8;

struct Geometry {
  int block = 0;     // block side in pixels; 0 = the picture is too small for a stamp
  int x = 0, y = 0;  // top left of the first block
};

inline Geometry geometry(int width, int height) {
  int block = std::max(kMinBlock, width / 80) & ~1;
  if (width < kBlocks * block || height < block) return {};
  // Centred, on a multiple of the block size, so blocks fall on whole codec blocks when they can.
  const int x = (width - kBlocks * block) / 2 / block * block;
  return {block, x, height - block};
}

// The value of block `index` (start, data, stop in order) for the time `us`.
inline bool bit(int index, uint64_t us) {
  const int start = int(kStart.size());
  if (index < start) return kStart[size_t(index)];
  if (index < start + kDataBits) return (us >> (kDataBits - 1 - (index - start))) & 1;
  return kStop[size_t(index - start - kDataBits)];
}

}  // namespace frame_stamp

// Draws the stamp for `us` into the luma plane; false (nothing drawn) when the picture is smaller
// than the bar code (under 608 pixels wide or 8 high).
inline bool draw_stamp(uint8_t* y_plane, int stride, int width, int height, int64_t us) {
  using namespace frame_stamp;
  const Geometry g = geometry(width, height);
  if (!g.block) return false;
  for (int i = 0; i < kBlocks; ++i) {
    const uint8_t value = bit(i, uint64_t(us)) ? kWhite : kBlack;
    for (int row = 0; row < g.block; ++row)
      std::fill_n(y_plane + std::ptrdiff_t(g.y + row) * stride + g.x + i * g.block, g.block, value);
  }
  return true;
}

// The time in a drawn stamp; nullopt when the picture has none. Each block is read as the mean
// of its middle half (the encoder smears the edges); every block must be clearly black or white
// and the start and stop patterns must match, so ordinary pictures are not read as stamps.
inline std::optional<int64_t> read_stamp(const uint8_t* y_plane, int stride, int width, int height) {
  using namespace frame_stamp;
  const Geometry g = geometry(width, height);
  if (!g.block) return std::nullopt;
  const int from = g.block / 4, to = g.block - g.block / 4;
  uint64_t us = 0;
  for (int i = 0; i < kBlocks; ++i) {
    int sum = 0;
    for (int row = from; row < to; ++row) {
      const uint8_t* line = y_plane + std::ptrdiff_t(g.y + row) * stride + g.x + i * g.block;
      for (int col = from; col < to; ++col) sum += line[col];
    }
    const int mean = sum / ((to - from) * (to - from));
    // Midway is 125; a third of the way from there towards either level is close enough to call.
    const bool white = mean >= 162;
    if (!white && mean > 89) return std::nullopt;
    const int data = i - int(kStart.size());
    if (data >= 0 && data < kDataBits)
      us = (us << 1) | uint64_t(white);
    else if (white != bit(i, 0))
      return std::nullopt;
  }
  return static_cast<int64_t>(us);
}

}  // namespace onair::media
