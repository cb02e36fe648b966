// The drawn capture stamp (media/frame_stamp.hpp): the bar code round trip on real-looking
// pictures, what a codec does to it (blur, noise), and pictures that carry none.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "media/frame_stamp.hpp"

using onair::media::draw_stamp;
using onair::media::read_stamp;

namespace {

// A luma plane with padding at the end of each row (as decoders and GStreamer pools lay it out),
// filled with a moving-picture-like diagonal gradient.
struct Plane {
  int width, height, stride;
  std::vector<uint8_t> data;
  Plane(int w, int h) : width(w), height(h), stride(w + 32), data(size_t(stride) * h) {
    for (int y = 0; y < h; ++y)
      for (int x = 0; x < w; ++x) at(x, y) = uint8_t(16 + (x + 2 * y) % 220);
  }
  uint8_t& at(int x, int y) { return data[size_t(y) * stride + x]; }
  bool draw(int64_t us) { return draw_stamp(data.data(), stride, width, height, us); }
  std::optional<int64_t> read() const { return read_stamp(data.data(), stride, width, height); }
};

// 3x3 box blur: what scaling and a codec's smoothing do to hard block edges.
void blur(Plane& p) {
  const Plane source = p;
  for (int y = 1; y + 1 < p.height; ++y)
    for (int x = 1; x + 1 < p.width; ++x) {
      int sum = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) sum += source.data[size_t(y + dy) * source.stride + x + dx];
      p.at(x, y) = uint8_t(sum / 9);
    }
}

// Every pixel off by up to ±amount: coding noise at a low bitrate.
void add_noise(Plane& p, int amount, unsigned seed) {
  std::mt19937 random(seed);
  std::uniform_int_distribution<int> offset(-amount, amount);
  for (int y = 0; y < p.height; ++y)
    for (int x = 0; x < p.width; ++x) p.at(x, y) = uint8_t(std::clamp(p.at(x, y) + offset(random), 0, 255));
}

constexpr int64_t kNow = 1'767'225'600'123'456;  // 2026-01-01, with microseconds

}  // namespace

TEST_CASE("a drawn stamp reads back exactly, at the sizes onair runs") {
  for (const auto& size : {std::pair{1280, 720}, std::pair{640, 360}, std::pair{1920, 1080}, std::pair{1000, 562}}) {
    const int w = size.first, h = size.second;
    for (const int64_t us : {kNow, int64_t(0), int64_t(1), INT64_MAX, int64_t(0x5555555555555555)}) {
      CAPTURE(w);
      CAPTURE(us);
      Plane p(w, h);
      REQUIRE(p.draw(us));
      CHECK(p.read() == us);
    }
  }
}

TEST_CASE("the stamp is a row of blocks along the bottom, most significant bit first") {
  Plane p(1280, 720);
  const Plane before = p;
  REQUIRE(p.draw(int64_t(1) << 62));  // data bit 0 clear, data bit 1 set
  // 16-pixel blocks (1280 / 80), 76 of them centred: x 32..1247, y 704..719.
  CHECK(p.at(32 + 16 * 6 + 8, 712) == 16);   // first data block: the top bit, 0
  CHECK(p.at(32 + 16 * 7 + 8, 712) == 235);  // second: 1
  CHECK(p.at(32 + 16 * 8 + 8, 712) == 16);
  CHECK(p.at(32 + 16 * 0, 704) == 235);  // start pattern begins white
  // Nothing above the bar and nothing left or right of it changed.
  int changed_outside = 0;
  for (int y = 0; y < 720; ++y)
    for (int x = 0; x < 1280; ++x)
      if ((y < 704 || x < 32 || x >= 32 + 76 * 16) && p.at(x, y) != before.data[size_t(y) * before.stride + x])
        ++changed_outside;
  CHECK(changed_outside == 0);
}

TEST_CASE("a stamp survives blur and coding noise") {
  for (const auto& size : {std::pair{1280, 720}, std::pair{640, 360}}) {
    const int w = size.first, h = size.second;
    CAPTURE(w);
    Plane p(w, h);
    REQUIRE(p.draw(kNow));
    blur(p);
    blur(p);
    add_noise(p, 30, 7);
    CHECK(p.read() == kNow);
  }
}

TEST_CASE("pictures without a stamp read as none") {
  SUBCASE("an ordinary picture") {
    Plane p(1280, 720);
    CHECK_FALSE(p.read().has_value());
  }
  SUBCASE("flat black, flat white") {
    for (const uint8_t level : {uint8_t(16), uint8_t(235)}) {
      Plane p(1280, 720);
      std::fill(p.data.begin(), p.data.end(), level);
      CHECK_FALSE(p.read().has_value());
    }
  }
  SUBCASE("black and white checkerboards and stripes in the block size") {
    for (const int cell : {8, 16, 32}) {
      Plane checkers(1280, 720), stripes(1280, 720);
      for (int y = 0; y < 720; ++y)
        for (int x = 0; x < 1280; ++x) {
          checkers.at(x, y) = ((x / cell + y / cell) % 2) ? 235 : 16;
          stripes.at(x, y) = (x / cell % 2) ? 235 : 16;
        }
      CAPTURE(cell);
      CHECK_FALSE(checkers.read().has_value());
      CHECK_FALSE(stripes.read().has_value());
    }
  }
  SUBCASE("noise") {
    Plane p(640, 360);
    std::fill(p.data.begin(), p.data.end(), uint8_t(125));
    add_noise(p, 110, 3);
    CHECK_FALSE(p.read().has_value());
  }
  SUBCASE("a stamp with a broken start pattern, or a grey data block") {
    Plane broken_start(1280, 720), grey_bit(1280, 720);
    REQUIRE(broken_start.draw(kNow));
    REQUIRE(grey_bit.draw(kNow));
    for (int y = 704; y < 720; ++y)
      for (int x = 0; x < 16; ++x) {
        broken_start.at(32 + 16 + x, y) = 16;  // second start block: white → black
        grey_bit.at(32 + 16 * 40 + x, y) = 128;
      }
    CHECK_FALSE(broken_start.read().has_value());
    CHECK_FALSE(grey_bit.read().has_value());
  }
}

TEST_CASE("a picture too small for the bar code gets no stamp") {
  Plane narrow(600, 400), flat(1280, 6);
  CHECK_FALSE(narrow.draw(kNow));
  CHECK_FALSE(flat.draw(kNow));
  CHECK_FALSE(narrow.read().has_value());
  CHECK_FALSE(flat.read().has_value());
  Plane smallest(608, 8);
  REQUIRE(smallest.draw(kNow));
  CHECK(smallest.read() == kNow);
}
