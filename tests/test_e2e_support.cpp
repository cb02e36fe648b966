// Proves the end-to-end test helpers (child processes, ports, SRT receiver, TS analyser)
// against real external producers: gst-launch-1.0 with x264enc/mpegtsmux/srtsink, and libsrt.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <srt/access_control.h>
#include <srt/srt.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>
#include <sstream>

#include "support/ports.hpp"
#include "support/process.hpp"
#include "support/srt_peer.hpp"
#include "support/ts_analyzer.hpp"

using namespace onair::test;

namespace {

constexpr auto kProcessDeadline = 40s;  // a 3 s live stream on a loaded 2-core box, plus startup
constexpr auto kConnectDeadline = 15s;

std::vector<std::string> split_words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// H.264 640x360@30 (keyframe every 30 frames) + AAC 48 kHz stereo in MPEG-TS into `sink`.
// scenecut=0: x264 otherwise cuts a GOP every ~20 frames on videotestsrc's noise patch.
// capssetter drops the caps' streamheader: with it, GStreamer 1.22's srtsink silently skips every
// buffer mpegtsmux flags HEADER, which includes each keyframe carrying SPS/PPS.
ChildProcess start_gst_av(const std::string& sink, int seconds) {
  const int video_buffers = 30 * seconds;
  const int audio_buffers = seconds * 48000 / 1024 + 1;  // audiotestsrc: 1024 samples a buffer
  std::string pipeline =
      "videotestsrc is-live=true num-buffers=" + std::to_string(video_buffers) +
      " ! video/x-raw,width=640,height=360,framerate=30/1,format=I420"
      " ! x264enc tune=zerolatency speed-preset=superfast key-int-max=30 bframes=0 "
      "option-string=scenecut=0"
      " ! h264parse config-interval=-1 ! queue ! mpegtsmux name=m"
      " ! capssetter replace=true caps=video/mpegts,systemstream=true,packetsize=188 ! " +
      sink + " audiotestsrc is-live=true num-buffers=" + std::to_string(audio_buffers) +
      " ! audio/x-raw,rate=48000,channels=2 ! audioconvert ! avenc_aac ! aacparse ! queue ! m.";
  auto argv = split_words(pipeline);
  argv.insert(argv.begin(), "gst-launch-1.0");
  return ChildProcess(argv);
}

std::string srt_uri(uint16_t port, const std::string& mode) {
  return "uri=srt://127.0.0.1:" + std::to_string(port) + "?mode=" + mode + "&latency=120";
}

struct Capture {
  std::vector<uint8_t> ts;
  std::map<std::size_t, std::size_t> message_sizes;
  std::size_t connections = 0;
  std::optional<int> exit_status;
  std::string log;
};

// One reference stream per process (3 s, gst caller → SrtReceiver listener), shared by tests.
const Capture& reference_capture() {
  static const Capture capture = [] {
    Capture c;
    SrtReceiverOptions opt;
    opt.port = free_udp_port();
    SrtReceiver receiver(opt);
    ChildProcess gst = start_gst_av("srtsink " + srt_uri(opt.port, "caller"), 3);
    c.exit_status = gst.wait_exit(kProcessDeadline);
    wait_until([&] { return !receiver.connected(); }, 5s);  // srtsink closes after EOS
    receiver.stop();
    c.ts = receiver.bytes();
    c.message_sizes = receiver.message_sizes();
    c.connections = receiver.connections();
    c.log = gst.log_text();
    return c;
  }();
  return capture;
}

}  // namespace

TEST_CASE("ChildProcess: exit codes, captured output, extra environment") {
  ChildProcess child({"sh", "-c", "echo out-$ONAIR_T; echo err >&2; exit 3"},
                     {.env = {{"ONAIR_T", "42"}}});
  CHECK(child.pid() > 0);
  REQUIRE(child.wait_exit(10s) == 3);
  CHECK_FALSE(child.running());
  CHECK(child.log_text().find("out-42") != std::string::npos);
  CHECK(child.log_text().find("err") != std::string::npos);

  ChildProcess ok({"true"});
  CHECK(ok.wait_exit(10s) == 0);
}

TEST_CASE("ChildProcess: a log path chosen by the caller is kept") {
  const auto path = std::filesystem::temp_directory_path() /
                    ("onair-e2e-support-" + std::to_string(::getpid()) + ".log");
  {
    ChildProcess child({"echo", "hello"}, {.log_path = path});
    REQUIRE(child.wait_exit(10s) == 0);
    CHECK(child.log_path() == path);
    CHECK(child.log_text() == "hello\n");
  }
  CHECK(std::filesystem::exists(path));
  std::filesystem::remove(path);
}

TEST_CASE("ChildProcess: signal, kill_and_wait and the destructor reap the child") {
  ChildProcess sleeper({"sleep", "30"});
  CHECK(sleeper.running());
  CHECK_FALSE(sleeper.wait_exit(100ms).has_value());
  CHECK(sleeper.signal(SIGTERM));
  CHECK(sleeper.wait_exit(10s) == -SIGTERM);
  CHECK_FALSE(sleeper.signal(SIGTERM));  // already gone

  // SIGTERM ignored: kill_and_wait escalates to SIGKILL after the grace period.
  ChildProcess stubborn({"sh", "-c", "trap '' TERM; echo ready; exec sleep 30"});
  REQUIRE(wait_until([&] { return stubborn.log_text().find("ready") != std::string::npos; }, 10s));
  CHECK(stubborn.kill_and_wait(300ms) == -SIGKILL);

  pid_t pid = 0;
  std::filesystem::path log;
  {
    ChildProcess scoped({"sleep", "30"});
    pid = scoped.pid();
    log = scoped.log_path();
    CHECK(::kill(pid, 0) == 0);
  }
  CHECK(::kill(pid, 0) == -1);                // killed and reaped, not a zombie
  CHECK_FALSE(std::filesystem::exists(log));  // the temp log went with it
}

TEST_CASE("ChildProcess: a program that cannot run throws") {
  CHECK_THROWS_AS(ChildProcess({"/nonexistent/onair-no-such-program"}), std::system_error);
  CHECK_THROWS_AS(ChildProcess({"onair-no-such-program-in-path"}), std::system_error);
}

TEST_CASE("wait_until: true as soon as the predicate holds, false after the timeout") {
  int calls = 0;
  CHECK(wait_until([&] { return ++calls >= 3; }, 5s, 1ms));
  CHECK(calls == 3);
  const auto start = std::chrono::steady_clock::now();
  CHECK_FALSE(wait_until([] { return false; }, 100ms, 10ms));
  CHECK(std::chrono::steady_clock::now() - start >= 100ms);
}

TEST_CASE("free ports: distinct, below the ephemeral range, bindable") {
  std::set<uint16_t> seen;
  for (int i = 0; i < 20; ++i) {
    const uint16_t udp = free_udp_port();
    const uint16_t tcp = free_tcp_port();
    CHECK(seen.insert(udp).second);
    CHECK(seen.insert(tcp).second);
    CHECK(udp >= 20000);
    CHECK(udp < 32768);
  }
  const uint16_t port = free_tcp_port();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  ::close(fd);
}

TEST_CASE("SrtReceiver listener + analyze_ts: gst-launch H.264/AAC over SRT decodes cleanly") {
  const Capture& c = reference_capture();
  INFO(c.log);
  CHECK(c.exit_status == 0);
  CHECK(c.connections == 1);
  REQUIRE(c.ts.size() > 100'000);
  for (const auto& [size, count] : c.message_sizes) {
    CHECK(size % 188 == 0);  // whole TS packets in every SRT message
    CHECK(size <= 1316);
  }

  const TsReport r = analyze_ts(c.ts);
  INFO(r.summary());
  CHECK(r.open_error.empty());
  CHECK(r.video_codec == "h264");
  CHECK(r.pix_fmt == "yuv420p");
  CHECK(r.width == 640);
  CHECK(r.height == 360);
  CHECK(r.fps == doctest::Approx(30).epsilon(0.02));
  REQUIRE(r.has_video());
  CHECK(r.video_frames >= 75);  // 90 sent; the last latency's worth may go with srtsink's close
  CHECK(r.video_frames <= 90);
  CHECK(r.video_packets_skipped == 0);  // the listener was there from the first byte
  CHECK(r.keyframe_pts_s.size() >= 3);
  CHECK(r.keyframe_interval_s == doctest::Approx(1.0).epsilon(0.02));
  CHECK(r.frames.front().key);
  CHECK(r.pts_monotonic);
  CHECK(r.duration_s == doctest::Approx(r.video_frames / 30.0).epsilon(0.05));
  CHECK(r.audio_codec == "aac");
  CHECK(r.sample_rate == 48000);
  CHECK(r.channels == 2);
  CHECK(r.audio_frames >= 100);
  CHECK(r.total_errors() == 0);

  const auto path = std::filesystem::temp_directory_path() /
                    ("onair-e2e-support-" + std::to_string(::getpid()) + ".ts");
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(c.ts.data()), static_cast<std::streamsize>(c.ts.size()));
  CHECK(analyze_ts_file(path).video_frames == r.video_frames);
  std::filesystem::remove(path);

  // The per-frame SEI hook: x264 writes its version as user-data-unregistered on the first IDR.
  const std::vector<uint8_t> x264_uuid = {0xdc, 0x45, 0xe9, 0xbd, 0xe6, 0xd9, 0x48, 0xb7,
                                          0x96, 0x2c, 0xd8, 0x20, 0xd9, 0x23, 0xee, 0xef};
  REQUIRE_FALSE(r.frames.front().sei_unregistered.empty());
  const auto& sei = r.frames.front().sei_unregistered.front();
  REQUIRE(sei.size() > 16);
  CHECK(std::vector<uint8_t>(sei.begin(), sei.begin() + 16) == x264_uuid);
  CHECK(std::string(sei.begin() + 16, sei.end()).find("x264") != std::string::npos);
}

TEST_CASE("analyze_ts: a capture joined late or cut short anywhere decodes without errors") {
  const auto& ts = reference_capture().ts;
  REQUIRE(ts.size() > 100'000);
  // Late joiner: starts mid-GOP (SRT delivers whole TS packets, so a 188-byte boundary).
  const std::size_t join = (ts.size() * 45 / 100) / 188 * 188;
  const TsReport late =
      analyze_ts(std::vector<uint8_t>(ts.begin() + static_cast<std::ptrdiff_t>(join), ts.end()));
  INFO("late: " << late.summary());
  REQUIRE(late.has_video());
  CHECK(late.video_packets_skipped > 0);
  CHECK(late.video_frames >= 20);
  CHECK(late.frames.front().key);
  CHECK(late.width == 640);
  CHECK(late.total_errors() == 0);

  // Early stop at odd byte offsets: each stream's possibly cut last PES is left out, not reported.
  for (std::size_t cut : {ts.size() / 3 + 77, ts.size() * 2 / 3 + 5, ts.size() - 1000}) {
    const TsReport head =
        analyze_ts(std::vector<uint8_t>(ts.begin(), ts.begin() + static_cast<std::ptrdiff_t>(cut)));
    INFO("cut at " << cut << ": " << head.summary());
    CHECK(head.video_frames >= 15);
    CHECK(head.total_errors() == 0);
  }
}

TEST_CASE("analyze_ts: lost TS packets in the middle are reported") {
  std::vector<uint8_t> ts = reference_capture().ts;
  REQUIRE(ts.size() > 100'000);
  const std::size_t at = (ts.size() / 2) / 188 * 188;
  ts.erase(ts.begin() + static_cast<std::ptrdiff_t>(at),
           ts.begin() + static_cast<std::ptrdiff_t>(at + 188 * 40));
  const TsReport r = analyze_ts(ts);
  INFO(r.summary());
  CHECK(r.ts_cc_errors > 0);
  // The picture shows it: the decoder complains, or (when the hole swallowed whole frames, as
  // 40 packets of a small frame can) a frame is missing from the sequence.
  bool frame_missing = false;
  for (std::size_t i = 1; i < r.frames.size(); ++i)
    frame_missing = frame_missing || r.frames[i].pts_s - r.frames[i - 1].pts_s > 1.5 / r.fps;
  CHECK((r.video_decode_errors + r.corrupt_packets + r.log_errors > 0 || frame_missing));
  CHECK(r.total_errors() > 0);
}

TEST_CASE("analyze_ts: garbage, empty and misaligned input report damage without crashing") {
  std::mt19937 rng(1234);
  std::vector<uint8_t> garbage(200'000);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  const TsReport r = analyze_ts(garbage);
  INFO(r.summary());
  CHECK_FALSE(r.has_video());
  CHECK_FALSE(r.has_audio());
  CHECK(r.ts_sync_errors > 0);
  CHECK(r.total_errors() > 0);

  const TsReport empty = analyze_ts({});
  CHECK_FALSE(empty.has_video());
  CHECK(analyze_ts_file("/nonexistent/onair.ts").open_error == "cannot read /nonexistent/onair.ts");

  // Real TS with random bytes spliced in: the sync loss is counted, decoding carries on.
  std::vector<uint8_t> spliced = reference_capture().ts;
  spliced.insert(spliced.begin() + static_cast<std::ptrdiff_t>(spliced.size() / 2), garbage.begin(),
                 garbage.begin() + 1000);
  const TsReport s = analyze_ts(spliced);
  INFO(s.summary());
  CHECK(s.ts_sync_errors >= 1);
  CHECK(s.video_frames > 30);
}

TEST_CASE(
    "SrtReceiver caller against a gst srtsink listener: right passphrase works, wrong is refused") {
  const uint16_t port = free_udp_port();
  ChildProcess gst = start_gst_av(
      "srtsink " + srt_uri(port, "listener") + " passphrase=right-secret-123 pbkeylen=16", 3);
  INFO(gst.log_text());

  SrtReceiverOptions wrong{.mode = SrtReceiverOptions::Mode::caller,
                           .port = port,
                           .passphrase = "wrong-secret-456",
                           .pbkeylen = 16};
  SrtReceiver intruder(wrong);
  INFO(srt_log_tail());
  REQUIRE(wait_until([&] { return intruder.last_reject_code() == SRT_REJ_BADSECRET; },
                     kConnectDeadline));
  CHECK(intruder.last_reject_reason() == "10 Incorrect passphrase");
  CHECK(intruder.connections() == 0);
  intruder.stop();
  CHECK(intruder.byte_count() == 0);

  SrtReceiverOptions right = wrong;
  right.passphrase = "right-secret-123";
  SrtReceiver receiver(right);
  REQUIRE(wait_until([&] { return receiver.connections() == 1; }, kConnectDeadline));
  CHECK(gst.wait_exit(kProcessDeadline) == 0);
  wait_until([&] { return !receiver.connected(); }, 5s);
  const TsReport r = analyze_ts(receiver.connection_bytes(0));
  INFO(r.summary());
  CHECK(r.video_codec == "h264");
  CHECK(r.width == 640);
  CHECK(r.video_frames >= 30);
  CHECK(r.audio_codec == "aac");
  CHECK(r.total_errors() == 0);
}

TEST_CASE(
    "SrtReceiver listener with a passphrase: a wrong one gets nothing, the right one streams") {
  SrtReceiverOptions opt{
      .port = free_udp_port(), .passphrase = "listener-secret-1", .pbkeylen = 32};
  SrtReceiver receiver(opt);

  ChildProcess bad = start_gst_av(
      "srtsink " + srt_uri(opt.port, "caller") + " passphrase=not-the-secret-2 pbkeylen=32", 1);
  INFO(bad.log_text());
  // srtsink keeps calling again after the refusal; its own message proves the refusal happened.
  REQUIRE(
      wait_until([&] { return bad.log_text().find("Incorrect passphrase") != std::string::npos; },
                 kProcessDeadline));
  CHECK(receiver.connections() == 0);
  CHECK(receiver.byte_count() == 0);
  bad.kill_and_wait();

  ChildProcess good = start_gst_av(
      "srtsink " + srt_uri(opt.port, "caller") + " passphrase=listener-secret-1 pbkeylen=32", 1);
  CHECK(good.wait_exit(kProcessDeadline) == 0);
  wait_until([&] { return !receiver.connected(); }, 5s);
  CHECK(receiver.connections() == 1);
  const TsReport r = analyze_ts(receiver.bytes());
  INFO(r.summary());
  CHECK(r.video_frames >= 20);
  CHECK(r.total_errors() == 0);
}

TEST_CASE(
    "SrtReceiver listener refuses other streamids with 1403 and re-accepts after a caller leaves") {
  SrtReceiverOptions lopt{
      .port = free_udp_port(), .streamid = "live/onair", .reject_other_streamids = true};
  SrtReceiver listener(lopt);
  SrtReceiverOptions copt{
      .mode = SrtReceiverOptions::Mode::caller, .port = lopt.port, .streamid = "live/other"};
  {
    SrtReceiver stranger(copt);
    REQUIRE(wait_until([&] { return stranger.last_reject_code() == SRT_REJX_FORBIDDEN; },
                       kConnectDeadline));
    CHECK(stranger.connections() == 0);
  }
  CHECK(listener.last_reject_code() == SRT_REJX_FORBIDDEN);
  CHECK(listener.last_reject_reason().find("live/other") != std::string::npos);
  CHECK(listener.last_streamid() == "live/other");
  CHECK(listener.connections() == 0);

  copt.streamid = "live/onair";
  // The second caller comes after the first one left.
  for (std::size_t round = 1; round <= 2; ++round) {
    SrtReceiver caller(copt);
    REQUIRE(
        wait_until([&] { return caller.connected() && listener.connected(); }, kConnectDeadline));
    CHECK(listener.connections() == round);
    CHECK(listener.last_streamid() == "live/onair");
    caller.stop();
    REQUIRE(wait_until([&] { return !listener.connected(); }, kConnectDeadline));
  }
}

TEST_CASE("SrtReceiver pause/resume: the ingest goes away and comes back, the caller reconnects") {
  SrtReceiverOptions lopt{.port = free_udp_port()};
  SrtReceiver ingest(lopt);
  SrtReceiverOptions copt{
      .mode = SrtReceiverOptions::Mode::caller, .port = lopt.port, .connect_timeout = 500ms};
  SrtReceiver caller(copt);
  REQUIRE(wait_until([&] { return caller.connected() && ingest.connected(); }, kConnectDeadline));

  REQUIRE(ingest.pause());
  CHECK_FALSE(ingest.connected());
  REQUIRE(wait_until([&] { return !caller.connected(); }, kConnectDeadline));
  const std::size_t attempts = caller.connect_attempts();
  REQUIRE(wait_until([&] { return caller.connect_attempts() >= attempts + 2; }, kConnectDeadline));
  CHECK(caller.connections() == 1);  // nothing to connect to while paused
  CHECK(ingest.connections() == 1);

  ingest.resume();
  REQUIRE(wait_until([&] { return caller.connections() == 2 && ingest.connections() == 2; },
                     kConnectDeadline));
  CHECK(caller.connected());
}
