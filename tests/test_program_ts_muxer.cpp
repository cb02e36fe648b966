// onair's low-latency MPEG-TS muxer, checked byte by byte with an independent little TS reader:
// packet structure, continuity, PSI CRCs, PES reassembly, PTS/DTS, PCR, random access points.
// (Real H.264/AAC through it, decoded by libavcodec, is in test_program_pipeline.)
#include <doctest/doctest.h>

#include <map>
#include <string>
#include <vector>

#include "program/ts_muxer.hpp"

using onair::program::TsMuxer;

namespace {

struct Pes {
  uint16_t pid = 0;
  int64_t pts = -1;
  int64_t dts = -1;
  size_t declared_length = 0;
  bool random_access = false;
  bool discontinuity = false;
  std::vector<uint8_t> payload;
};

int64_t read_ts(const uint8_t* p) {
  return (int64_t(p[0] & 0x0e) << 29) | (int64_t(p[1]) << 22) | (int64_t(p[2] & 0xfe) << 14) | (int64_t(p[3]) << 7) |
         (p[4] >> 1);
}

// A strict reader of what the muxer wrote: fails the test on any structural fault.
struct Reader {
  std::vector<Pes> pes;
  std::vector<std::pair<size_t, int64_t>> pcrs;  // packet index, PCR base
  std::vector<size_t> pat_at, pmt_at;            // packet indexes
  std::vector<uint8_t> pmt_section;
  std::map<uint16_t, int> last_cc;
  std::map<uint16_t, Pes> open;
  size_t packets = 0;

  void flush(uint16_t pid) {
    auto it = open.find(pid);
    if (it == open.end()) return;
    Pes done = std::move(it->second);
    open.erase(it);
    const auto& b = done.payload;
    REQUIRE(b.size() >= 14);
    REQUIRE((b[0] == 0 && b[1] == 0 && b[2] == 1));
    done.declared_length = (size_t(b[4]) << 8) | b[5];
    if (done.declared_length) CHECK(done.declared_length == b.size() - 6);
    const int flags = b[7] >> 6;
    REQUIRE((flags == 2 || flags == 3));
    done.pts = read_ts(&b[9]);
    if (flags == 3) done.dts = read_ts(&b[14]);
    done.payload.erase(done.payload.begin(), done.payload.begin() + 9 + b[8]);
    pes.push_back(std::move(done));
  }

  void read(const std::vector<uint8_t>& ts) {
    REQUIRE(ts.size() % 188 == 0);
    for (size_t at = 0; at < ts.size(); at += 188, ++packets) {
      const uint8_t* p = &ts[at];
      REQUIRE(p[0] == 0x47);
      const uint16_t pid = uint16_t((p[1] & 0x1f) << 8) | p[2];
      const bool start = p[1] & 0x40;
      const int afc = (p[3] >> 4) & 3;
      const int cc = p[3] & 0x0f;
      REQUIRE(afc != 0);
      if (last_cc.count(pid)) CHECK(cc == ((afc & 1) ? (last_cc[pid] + 1) & 0x0f : last_cc[pid]));
      last_cc[pid] = cc;
      size_t pos = 4;
      bool random_access = false, discontinuity = false;
      if (afc & 2) {
        const size_t length = p[4];
        REQUIRE(5 + length <= 188);
        if (afc == 3) REQUIRE(length <= 182);
        if (length > 0) {
          random_access = p[5] & 0x40;
          discontinuity = p[5] & 0x80;
          if (p[5] & 0x10)
            pcrs.emplace_back(packets, (int64_t(p[6]) << 25) | (p[7] << 17) | (p[8] << 9) | (p[9] << 1) | (p[10] >> 7));
        }
        pos = 5 + length;
      }
      if (!(afc & 1)) continue;
      if (pid == 0 || pid == TsMuxer::kPmtPid) {
        REQUIRE(start);
        const size_t section_at = pos + 1 + p[pos];
        const size_t length = ((p[section_at + 1] & 0x0f) << 8) | p[section_at + 2];
        const std::vector<uint8_t> section(p + section_at, p + section_at + 3 + length);
        CHECK(onair::program::mpeg_crc32(section.data(), section.size()) == 0);  // CRC included: residue 0
        (pid == 0 ? pat_at : pmt_at).push_back(packets);
        if (pid == TsMuxer::kPmtPid) pmt_section = section;
        continue;
      }
      if (start) {
        flush(pid);
        open[pid].pid = pid;
        open[pid].random_access = random_access;
        open[pid].discontinuity = discontinuity;
      }
      REQUIRE(open.count(pid));
      open[pid].payload.insert(open[pid].payload.end(), p + pos, p + 188);
    }
  }
  void finish() {
    for (uint16_t pid : {TsMuxer::kVideoPid, TsMuxer::kAudioPid}) flush(pid);
  }
};

std::vector<uint8_t> fake_au(size_t size, uint8_t nal_type, uint8_t fill) {
  std::vector<uint8_t> au = {0, 0, 0, 1, nal_type};
  au.resize(size, fill);
  return au;
}

const std::vector<uint8_t> kAud = {0, 0, 0, 1, 0x09, 0xf0};

}  // namespace

TEST_CASE("video: PAT+PMT before a keyframe, AUD added, PTS and PCR, random access flag, every size") {
  for (size_t size : {size_t(1), size_t(100), size_t(170), size_t(171), size_t(177), size_t(178), size_t(184),
                      size_t(1000), size_t(70'000)}) {
    CAPTURE(size);
    TsMuxer mux(true);
    std::vector<uint8_t> out;
    const auto idr = fake_au(size + 5, 0x65, 0xab);
    const auto p = fake_au(size + 5, 0x41, 0xcd);
    mux.video(out, idr.data(), idr.size(), 900'000, -1, 895'000, true);
    mux.video(out, p.data(), p.size(), 903'000, -1, 898'000, false);
    Reader r;
    r.read(out);
    r.finish();
    REQUIRE(r.pes.size() == 2);
    CHECK(r.pat_at == std::vector<size_t>{0});
    CHECK(r.pmt_at == std::vector<size_t>{1});
    std::vector<uint8_t> expected = kAud;
    expected.insert(expected.end(), idr.begin(), idr.end());
    CHECK(r.pes[0].payload == expected);
    CHECK(r.pes[0].pts == 900'000);
    CHECK(r.pes[0].dts == -1);
    CHECK(r.pes[0].random_access);
    CHECK_FALSE(r.pes[1].random_access);
    CHECK(r.pes[1].pts == 903'000);
    CHECK(r.pes[0].declared_length == (size + 5 + 6 + 8 > 0xffff ? 0 : size + 5 + 6 + 8));
    REQUIRE(r.pcrs.size() == 2);
    CHECK(r.pcrs[0].second == 895'000 - TsMuxer::kPcrDelay);
    CHECK(r.pcrs[1].second == 898'000 - TsMuxer::kPcrDelay);
  }
}

TEST_CASE("an access unit that already has an AUD is left as it is; DTS is written when it differs") {
  TsMuxer mux(false);
  std::vector<uint8_t> out;
  std::vector<uint8_t> au = {0, 0, 0, 1, 0x09, 0x10, 0, 0, 1, 0x41, 1, 2, 3};
  mux.video(out, au.data(), au.size(), 9000, 6000, 5000, false);
  Reader r;
  r.read(out);
  r.finish();
  REQUIRE(r.pes.size() == 1);
  CHECK(r.pes[0].payload == au);
  CHECK(r.pes[0].pts == 9000);
  CHECK(r.pes[0].dts == 6000);
  // The PMT of a video-only stream lists one stream: H.264 on the video PID, which carries the PCR.
  REQUIRE(r.pmt_section.size() == 12 + 5 + 4);
  CHECK(r.pmt_section[12] == 0x1b);
  CHECK((((r.pmt_section[8] & 0x1f) << 8) | r.pmt_section[9]) == TsMuxer::kVideoPid);
}

TEST_CASE("audio: ADTS in PES on its own PID; a PCR-only packet keeps the clock going between video frames") {
  TsMuxer mux(true);
  std::vector<uint8_t> out;
  const auto idr = fake_au(3000, 0x65, 1);
  mux.video(out, idr.data(), idr.size(), 100'000, -1, 95'000, true);
  std::vector<uint8_t> adts(371, 0x5a);
  adts[0] = 0xff;
  adts[1] = 0xf1;
  int64_t now = 95'000;
  for (int i = 0; i < 10; ++i) {  // 10 AAC frames (21.3 ms each) without video: PCRs keep coming
    now += 1920;
    mux.audio(out, adts.data(), adts.size(), 100'000 + i * 1920, now);
  }
  Reader r;
  r.read(out);
  r.finish();
  REQUIRE(r.pes.size() == 11);
  CHECK(r.pmt_section[12 + 5] == 0x0f);  // the second stream: ADTS AAC
  std::vector<Pes> audio;
  for (const auto& pes : r.pes)
    if (pes.pid == TsMuxer::kAudioPid) audio.push_back(pes);
  REQUIRE(audio.size() == 10);
  for (size_t i = 0; i < audio.size(); ++i) {
    CHECK(audio[i].payload == adts);
    CHECK(audio[i].pts == 100'000 + int64_t(i) * 1920);
    CHECK(audio[i].declared_length == 3 + 5 + adts.size());
  }
  REQUIRE(r.pcrs.size() >= 4);
  for (size_t i = 1; i < r.pcrs.size(); ++i) {
    CHECK(r.pcrs[i].second > r.pcrs[i - 1].second);
    CHECK(r.pcrs[i].second - r.pcrs[i - 1].second <= TsMuxer::kPcrInterval + 1920);
  }
  // PAT/PMT repeat at least every 100 ms of muxer time.
  CHECK(r.pat_at.size() >= 2);
}

TEST_CASE("timestamps wrap at 33 bits like every MPEG clock") {
  TsMuxer mux(false);
  std::vector<uint8_t> out;
  const auto au = fake_au(50, 0x65, 7);
  const int64_t wrap = int64_t{1} << 33;
  mux.video(out, au.data(), au.size(), wrap + 1234, -1, wrap + 1000, true);
  Reader r;
  r.read(out);
  r.finish();
  REQUIRE(r.pes.size() == 1);
  CHECK(r.pes[0].pts == 1234);
}

TEST_CASE("CRC-32/MPEG-2 check value") {
  const std::string check = "123456789";
  CHECK(onair::program::mpeg_crc32(reinterpret_cast<const uint8_t*>(check.data()), check.size()) == 0x0376e6e7);
}

TEST_CASE("a new muxer flags a discontinuity on the first packet of each stream, and only there") {
  TsMuxer mux(true);
  std::vector<uint8_t> out;
  const auto idr = fake_au(2000, 0x65, 1);
  const auto p = fake_au(1500, 0x41, 2);
  const std::vector<uint8_t> adts(300, 0x5a);
  mux.video(out, idr.data(), idr.size(), 100'000, -1, 95'000, true);
  mux.audio(out, adts.data(), adts.size(), 100'000, 95'100);
  mux.video(out, p.data(), p.size(), 103'000, -1, 98'000, false);
  mux.audio(out, adts.data(), adts.size(), 101'920, 98'100);
  Reader r;
  r.read(out);
  r.finish();
  REQUIRE(r.pes.size() == 4);
  std::map<uint16_t, std::vector<bool>> flags;
  for (const auto& pes : r.pes) flags[pes.pid].push_back(pes.discontinuity);
  CHECK(flags[TsMuxer::kVideoPid] == std::vector<bool>{true, false});
  CHECK(flags[TsMuxer::kAudioPid] == std::vector<bool>{true, false});
}
