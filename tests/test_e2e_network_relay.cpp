// build/onair-impair, the impairment relay the network tests and bench rely on: each impairment
// does what it says, measured with real UDP datagrams on 127.0.0.1, and it refuses anything
// but loopback.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "uplink_impair.hpp"

using namespace onair::test;
using Clock = std::chrono::steady_clock;

namespace {

// Sends `count` numbered datagrams of `size` bytes through the relay at `kbps` (0 = at once)
// and collects what arrives until `quiet_ms` passes with nothing new.
std::vector<int> send_numbered(ImpairRelay& relay, LoopbackUdp& sink, int count, size_t size = 1316,
                               double kbps = 0, int quiet_ms = 400) {
  LoopbackUdp sender;
  std::vector<int> arrived;
  const auto start = Clock::now();
  for (int i = 0; i < count; ++i) {
    std::string bytes = std::to_string(i);
    bytes.resize(size, '.');
    sender.send_to(relay.port(), bytes);
    if (kbps > 0) {  // the source's pacing
      const auto due = start + std::chrono::microseconds(int64_t((i + 1) * size * 8 * 1000 / kbps));
      std::this_thread::sleep_until(due);
    }
    while (auto d = sink.receive(0)) arrived.push_back(std::stoi(*d));
  }
  while (auto d = sink.receive(quiet_ms)) arrived.push_back(std::stoi(*d));
  return arrived;
}

}  // namespace

TEST_CASE("random loss drops about the asked share, and the counters account for every packet") {
  LoopbackUdp sink;
  ImpairRelay relay(sink.port(), {"loss=20", "--seed", "3"});
  const std::vector<int> arrived = send_numbered(relay, sink, 2000, 200);
  const auto stats = relay.stats();
  INFO(stats.dump());
  CHECK(arrived.size() >= 1450);  // 1600 expected; 4 standard deviations either side
  CHECK(arrived.size() <= 1750);
  CHECK(stats["up"]["packets_in"] == 2000);
  CHECK(stats["up"]["lost_random"].get<size_t>() == 2000 - arrived.size());
  CHECK(stats["up"]["delivered"].get<size_t>() == arrived.size());
}

TEST_CASE("burst loss drops runs of packets, not single ones") {
  LoopbackUdp sink;
  ImpairRelay relay(sink.port(), {"burst=1", "burst_len=20", "--seed", "5"});
  const std::vector<int> arrived = send_numbered(relay, sink, 3000, 200);
  std::vector<int> gaps;
  for (size_t i = 1; i < arrived.size(); ++i)
    if (arrived[i] != arrived[i - 1] + 1) gaps.push_back(arrived[i] - arrived[i - 1] - 1);
  REQUIRE(gaps.size() >= 5);
  double mean = 0;
  for (int g : gaps) mean += g;
  mean /= double(gaps.size());
  CHECK(mean >= 8);  // mean burst 20 packets
  CHECK(relay.stats()["up"]["lost_burst"].get<size_t>() == 3000 - arrived.size());
}

TEST_CASE("the bandwidth cap holds the rate and drops what its queue cannot hold") {
  LoopbackUdp sink;
  ImpairRelay relay(sink.port(), {"rate=2000", "queue=100"});
  const auto start = Clock::now();
  const std::vector<int> arrived = send_numbered(relay, sink, 700, 1316, 4000, 300);  // ~1.8 s at 4 Mbit/s
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const auto stats = relay.stats();
  INFO(stats.dump());
  const double kbps = double(stats["up"]["bytes_delivered"].get<size_t>() + 28 * arrived.size()) * 8 / 1000 /
                      (seconds - 0.3);
  CHECK(kbps == doctest::Approx(2000).epsilon(0.2));
  CHECK(stats["up"]["dropped_queue"].get<size_t>() > 200);
  CHECK(std::is_sorted(arrived.begin(), arrived.end()));  // a FIFO link: no reordering
}

TEST_CASE("delay applies both ways; jitter reorders unless order=1") {
  // An echo peer as the target: the round trip crosses the relay twice.
  LoopbackUdp echo;
  std::atomic<bool> stop{false};
  std::thread echoer([&] {
    while (!stop) {
      uint16_t from = 0;
      if (auto d = echo.receive(20, &from)) echo.send_to(from, *d);
    }
  });
  {
    ImpairRelay relay(echo.port(), {"delay=100"});
    LoopbackUdp client;
    const auto sent = Clock::now();
    client.send_to(relay.port(), "ping");
    const auto back = client.receive(2000);
    const auto rtt = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - sent);
    REQUIRE(back.has_value());
    CHECK(rtt >= std::chrono::milliseconds(200));
    CHECK(rtt < std::chrono::milliseconds(600));
  }
  stop = true;
  echoer.join();

  LoopbackUdp sink;
  ImpairRelay reordering(sink.port(), {"jitter=40", "--seed", "2"});
  const std::vector<int> mixed = send_numbered(reordering, sink, 300, 200, 2000);
  CHECK(mixed.size() == 300);
  CHECK_FALSE(std::is_sorted(mixed.begin(), mixed.end()));
  LoopbackUdp sink2;
  ImpairRelay ordered(sink2.port(), {"jitter=40", "order=1", "--seed", "2"});
  const std::vector<int> kept = send_numbered(ordered, sink2, 300, 200, 2000);
  CHECK(kept.size() == 300);
  CHECK(std::is_sorted(kept.begin(), kept.end()));
}

TEST_CASE("blackout and schedules, live through the control socket") {
  LoopbackUdp sink;
  ImpairRelay relay(sink.port());
  CHECK(relay.command("blackout 400") == "ok");
  CHECK(send_numbered(relay, sink, 20, 100, 0, 0).empty());
  // Bounded wait for the blackout to end, then everything passes again.
  CHECK(wait_until([&] { return relay.stats()["settings"].get<std::string>().find("blackout") == std::string::npos; }, 2s));
  CHECK(send_numbered(relay, sink, 20, 100).size() == 20);
  CHECK(relay.stats()["up"]["dropped_blackout"] == 20);

  CHECK(relay.command("schedule 0 loss=100; 0.3 loss=0") == "ok");
  CHECK(send_numbered(relay, sink, 10, 100, 0, 0).empty());
  CHECK(wait_until([&] { return relay.stats()["settings"].get<std::string>().rfind("loss=0%", 0) == 0; }, 2s));
  CHECK(send_numbered(relay, sink, 10, 100).size() == 10);
  CHECK(relay.log().find("t=") != std::string::npos);  // every change is logged with its time

  CHECK(relay.command("set loss=200") == "error: \"loss=200\": loss must be 0..100 (percent)");
  CHECK(relay.command("fly") == "error: unknown command \"fly\" (expected set, blackout, schedule or stats)");
  CHECK(relay.command("schedule soon loss=1").rfind("error: schedule step 1", 0) == 0);
}

TEST_CASE("only loopback targets, and bad arguments are refused with a reason") {
  struct Row {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Row> rows = {
      {{"--target", "10.1.2.3:9000"},
       "onair-impair: --target 10.1.2.3:9000: only loopback targets (127.0.0.0/8) are allowed: this tool "
       "impairs test links"},
      {{"--target", "9000", "lose=5"},
       "onair-impair: \"lose=5\": unknown key lose (expected loss, burst, burst_len, delay, jitter, order, "
       "rate, queue, blackout or clear)"},
      {{"loss=5"}, "onair-impair: --target is required"},
  };
  for (const Row& row : rows) {
    std::vector<std::string> argv = {kImpairBinary};
    argv.insert(argv.end(), row.args.begin(), row.args.end());
    ChildProcess process(argv);
    CHECK(process.wait_exit(5s) == 2);
    CHECK(process.log_text().rfind(row.message, 0) == 0);
  }
}
