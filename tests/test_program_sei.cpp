// onair's SEI capture stamp as bytes: the NAL unit, emulation prevention, where it goes in an
// access unit, and reading it back. Pure byte work, tables, no GStreamer.
#include <doctest/doctest.h>

#include <vector>

#include "program/sei.hpp"

using namespace onair::program;

namespace {

// The RBSP of a NAL unit (header byte dropped, emulation prevention bytes removed).
std::vector<uint8_t> unescape(const std::vector<uint8_t>& nal, size_t from) {
  std::vector<uint8_t> out;
  int zeros = 0;
  for (size_t i = from; i < nal.size(); ++i) {
    if (zeros == 2 && nal[i] == 3) {
      zeros = 0;
      continue;
    }
    out.push_back(nal[i]);
    zeros = nal[i] == 0 ? zeros + 1 : 0;
  }
  return out;
}

bool has_start_code_emulation(const std::vector<uint8_t>& nal, size_t from) {
  for (size_t i = from; i + 2 < nal.size(); ++i)
    if (nal[i] == 0 && nal[i + 1] == 0 && nal[i + 2] <= 2) return true;  // 00 00 03 is the escape itself
  return false;
}

}  // namespace

TEST_CASE("the stamp NAL: start code, SEI header, payload type 5 size 24, UUID, big-endian µs, trailing bits") {
  const int64_t us = 0x0006'1234'5678'9abcLL;
  const auto nal = sei::stamp_nal(us);
  REQUIRE(nal.size() >= 5 + 2 + 24 + 1);
  CHECK(std::vector<uint8_t>(nal.begin(), nal.begin() + 5) == std::vector<uint8_t>{0, 0, 0, 1, 0x06});
  const auto rbsp = unescape(nal, 5);
  REQUIRE(rbsp.size() == 2 + 24 + 1);
  CHECK(rbsp[0] == 5);
  CHECK(rbsp[1] == 24);
  CHECK(std::equal(sei::kStampUuid.begin(), sei::kStampUuid.end(), rbsp.begin() + 2));
  CHECK(std::vector<uint8_t>(rbsp.begin() + 18, rbsp.begin() + 26) ==
        std::vector<uint8_t>{0x00, 0x06, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc});
  CHECK(rbsp.back() == 0x80);
  CHECK(sei::parse_stamp(rbsp.data() + 2, 24) == us);
}

TEST_CASE("emulation prevention: times full of zero bytes never form a start code") {
  const int64_t cases[] = {0,
                           1,
                           2,
                           3,
                           0x0000'0001'0000'0000LL,
                           0x0000'0000'0003'0000LL,
                           0x0100'0000'0000'0001LL,
                           1'700'000'000'000'000LL,
                           INT64_MAX};
  for (int64_t us : cases) {
    CAPTURE(us);
    const auto nal = sei::stamp_nal(us);
    CHECK_FALSE(has_start_code_emulation(nal, 4));
    const auto rbsp = unescape(nal, 5);
    REQUIRE(rbsp.size() == 27);
    CHECK(sei::parse_stamp(rbsp.data() + 2, 24) == us);
  }
  // 0 µs: eight zero bytes after the UUID need three emulation prevention bytes.
  CHECK(sei::stamp_nal(0).size() == 5 + 27 + 3);
}

TEST_CASE("parse_stamp refuses other UUIDs and short payloads") {
  std::vector<uint8_t> payload(sei::kStampUuid.begin(), sei::kStampUuid.end());
  payload.insert(payload.end(), {0, 0, 0, 0, 0, 0, 0, 42});
  CHECK(sei::parse_stamp(payload.data(), payload.size()) == 42);
  CHECK_FALSE(sei::parse_stamp(payload.data(), 23).has_value());
  payload[15] ^= 1;  // x264's own version SEI, or anyone else's, is not a stamp
  CHECK_FALSE(sei::parse_stamp(payload.data(), payload.size()).has_value());
}

TEST_CASE("first_vcl_offset: the stamp goes after AUD/SPS/PPS/SEI, before the first slice") {
  struct Case {
    const char* what;
    std::vector<uint8_t> au;
    size_t expected;
  };
  const std::vector<Case> cases = {
      {"IDR with SPS, PPS (4-byte start codes)",
       {0, 0, 0, 1, 0x67, 0x64, 0, 0, 0, 1, 0x68, 0xee, 0, 0, 0, 1, 0x65, 0x88},
       12},
      {"non-IDR slice, 3-byte start code", {0, 0, 1, 0x41, 0x9a}, 0},
      {"AUD then slice", {0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a}, 6},
      {"x264's SEI then IDR", {0, 0, 0, 1, 0x06, 0x05, 0x11, 0, 0, 0, 1, 0x25, 0xb8}, 7},
      {"no slice at all", {0, 0, 0, 1, 0x67, 0x64, 0, 0, 0, 1, 0x68}, sei::npos},
      {"empty", {}, sei::npos},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    CHECK(sei::first_vcl_offset(c.au.data(), c.au.size()) == c.expected);
  }
}

TEST_CASE("stamped_access_unit: the stamp NAL lands right before the first slice, nothing else moves") {
  const std::vector<uint8_t> au = {0, 0, 0, 1, 0x67, 0x64, 0, 0, 0, 1, 0x68, 0xee, 0, 0, 0, 1, 0x65, 0x88};
  const auto nal = sei::stamp_nal(1'700'000'000'123'456LL);
  const auto out = sei::stamped_access_unit(au.data(), au.size(), 1'700'000'000'123'456LL);
  std::vector<uint8_t> expected(au.begin(), au.begin() + 12);
  expected.insert(expected.end(), nal.begin(), nal.end());
  expected.insert(expected.end(), au.begin() + 12, au.end());
  CHECK(out == expected);
  const std::vector<uint8_t> no_slice = {0, 0, 0, 1, 0x67, 0x64};
  CHECK(sei::stamped_access_unit(no_slice.data(), no_slice.size(), 5) == no_slice);
}
