// UplinkSender against real libsrt peers on 127.0.0.1: delivery, modes, passphrase and
// streamid rejections, reconnect, dead-link detection, back-pressure, stop, stats.
#include <doctest/doctest.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "uplink/uplink.hpp"
#include "uplink_peer.hpp"

using namespace onair;
using namespace onair::uplink;
using namespace onair::uplink::test;
using std::chrono::seconds;

namespace {

const SrtLibrary srt_library;  // the tests' own libsrt peers need it too

// Records what the sender reports; lets a test wait for a condition with a deadline.
struct Observer {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<SenderStats> history;
  int connections = 0;

  SenderCallbacks callbacks() {
    return {[this] {
              std::lock_guard lock(mutex);
              ++connections;
              changed.notify_all();
            },
            [this](const SenderStats& stats) {
              std::lock_guard lock(mutex);
              history.push_back(stats);
              changed.notify_all();
            }};
  }
  // Waits until pred(latest stats, connections) holds; false at the deadline.
  bool wait(const std::function<bool(const SenderStats&, int)>& pred, milliseconds timeout = seconds(10)) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] {
      return !history.empty() && pred(history.back(), connections);
    });
  }
  bool wait_state(LinkState state, const std::string& reason, milliseconds timeout = seconds(10)) {
    return wait([&](const SenderStats& s, int) { return s.state == state && s.reason == reason; }, timeout);
  }
  bool wait_connections(int n) {
    return wait([&](const SenderStats& s, int c) { return c >= n && s.state == LinkState::connected; });
  }
  SenderStats last() {
    std::lock_guard lock(mutex);
    return history.empty() ? SenderStats{} : history.back();
  }
};

config::Destination destination(config::SrtMode mode, uint16_t port, std::string passphrase = "",
                                 std::string streamid = "") {
  config::Destination d;
  d.name = "ingest";
  d.url.host = mode == config::SrtMode::listener ? "" : "127.0.0.1";
  d.url.port = port;
  d.url.mode = mode;
  d.url.latency_ms = 1000;  // a loaded CI box must not drop packets as too late
  d.url.passphrase = std::move(passphrase);
  d.url.streamid = std::move(streamid);
  d.url_text = d.url.redacted();
  return d;
}

SenderOptions fast_options() {
  SenderOptions options;
  options.reconnect_min_ms = 100;
  options.reconnect_max_ms = 400;
  options.stats_interval_ms = 50;
  options.connect_timeout_ms = 1000;
  return options;
}

// A payload of whole TS packets whose bytes say which payload and packet they are.
struct Stream {
  std::string pushed;  // every byte handed to push(), in order
  uint32_t next_id = 1;

  TsPayload make(size_t packets, bool keyframe, int64_t capture_time_us = 0) {
    auto bytes = std::make_shared<std::vector<uint8_t>>(packets * 188);
    for (size_t i = 0; i < bytes->size(); ++i)
      (*bytes)[i] = i % 188 == 0 ? 0x47 : static_cast<uint8_t>(next_id * 31 + i * 7);
    ++next_id;
    TsPayload p;
    p.data = bytes->data();
    p.size = bytes->size();
    p.owner = bytes;
    p.keyframe = keyframe;
    p.capture_time_us = capture_time_us;
    return p;
  }
  // Pushes and remembers it as expected at the receiver.
  void send(UplinkSender& sender, size_t packets, bool keyframe, int64_t capture_time_us = 0) {
    TsPayload p = make(packets, keyframe, capture_time_us);
    pushed.append(reinterpret_cast<const char*>(p.data), p.size);
    sender.push(std::move(p));
  }
};

// The SRT message sizes a payload of `packets` TS packets must become.
std::vector<int> expected_messages(const std::vector<size_t>& payload_packets) {
  std::vector<int> sizes;
  for (size_t packets : payload_packets) {
    for (; packets > 7; packets -= 7) sizes.push_back(1316);
    sizes.push_back(static_cast<int>(packets * 188));
  }
  return sizes;
}

PeerOptions ingest_options(std::function<void(PeerOptions&)> edit) {
  PeerOptions options;
  edit(options);
  return options;
}

template <typename F>
milliseconds time_of(F&& f) {
  const auto started = Clock::now();
  f();
  return std::chrono::duration_cast<milliseconds>(Clock::now() - started);
}

}  // namespace

TEST_CASE("caller: every byte arrives in order, in 7x188 messages, starting at a keyframe") {
  TestIngest ingest({});
  REQUIRE(ingest.listening());
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, ingest.port()), fast_options(),
                      observer.callbacks());
  Stream stream;
  sender.push(stream.make(7, true));  // stopped: discarded
  sender.start();
  PeerConnection peer = ingest.accept(seconds(10));
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));

  sender.push(stream.make(7, false));  // connected, but no keyframe yet: never sent
  const std::vector<size_t> sizes = {15, 1, 7, 8, 14, 20, 3, 6, 21, 2};
  for (size_t i = 0; i < sizes.size(); ++i) stream.send(sender, sizes[i], i == 0 || i == 6);
  REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(peer.received == stream.pushed);
  CHECK(peer.message_sizes == expected_messages(sizes));
  for (int size : peer.message_sizes) CHECK((size <= 1316 && size % 188 == 0));

  const auto stop_time = time_of([&] { sender.stop(); });
  CHECK(stop_time < seconds(1));
  CHECK(observer.last().state == LinkState::stopped);
  CHECK(peer.wait_broken(seconds(5)));  // the socket was really closed
}

TEST_CASE("listener: waits for the ingest, serves it, and a newer ingest replaces it") {
  const uint16_t port = free_udp_port();
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::listener, port), fast_options(), observer.callbacks());
  sender.start();
  const std::string waiting = "waiting for the ingest to connect on :" + std::to_string(port);
  REQUIRE(observer.wait_state(LinkState::connecting, waiting));

  PeerConnection first = connect_peer(port, {}, seconds(10));
  REQUIRE(first.valid());
  REQUIRE(observer.wait_connections(1));
  Stream stream;
  stream.send(sender, 9, true);
  REQUIRE(first.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(first.received == stream.pushed);

  // An ingest that restarted calls again before the old link timed out: the newest wins.
  PeerConnection second = connect_peer(port, {}, seconds(10));
  REQUIRE(second.valid());
  REQUIRE(observer.wait_connections(2));
  stream.pushed.clear();
  stream.send(sender, 3, false);  // mid-GOP after the switch: held back
  stream.pushed.clear();
  stream.send(sender, 4, true);
  REQUIRE(second.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(second.received == stream.pushed);
  CHECK(first.wait_broken(seconds(5)));
  CHECK(observer.wait([](const SenderStats& s, int) { return s.reconnects == 1; }));

  CHECK(time_of([&] { sender.stop(); }) < seconds(1));
}

TEST_CASE("rendezvous: both sides meet and data flows") {
  const uint16_t sender_port = free_udp_port();
  const uint16_t peer_port = free_udp_port();
  Observer observer;
  SenderOptions options = fast_options();
  options.rendezvous_local_port = sender_port;
  UplinkSender sender(destination(config::SrtMode::rendezvous, peer_port), options, observer.callbacks());
  sender.start();
  PeerConnection peer = connect_peer(sender_port, {}, seconds(10), peer_port);
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));
  Stream stream;
  stream.send(sender, 10, true);
  REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(peer.received == stream.pushed);
}

TEST_CASE("passphrase: the right one delivers, a wrong or missing one is reported as such") {
  const std::string secret = "correct horse battery";
  struct Row {
    std::string ingest_passphrase;
    std::string sender_passphrase;
    std::string reason;  // empty: must connect and deliver
  };
  const std::vector<Row> rows = {
      {secret, secret, ""},
      {secret, "wrong horse battery", "rejected by ingest: wrong passphrase"},
      {secret, "", "rejected by ingest: ingest requires a passphrase"},
      {"", secret, "rejected by ingest: ingest has no passphrase set"},
  };
  for (const Row& row : rows) {
    CAPTURE(row.sender_passphrase);
    TestIngest ingest(ingest_options([&](PeerOptions& o) { o.passphrase = row.ingest_passphrase; }));
    REQUIRE(ingest.listening());
    Observer observer;
    UplinkSender sender(destination(config::SrtMode::caller, ingest.port(), row.sender_passphrase),
                        fast_options(), observer.callbacks());
    sender.start();
    if (row.reason.empty()) {
      PeerConnection peer = ingest.accept(seconds(10));
      REQUIRE(peer.valid());
      REQUIRE(observer.wait_connections(1));
      Stream stream;
      stream.send(sender, 7, true);
      REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
      CHECK(peer.received == stream.pushed);
      const SenderStats stats = observer.last();
      CHECK(stats.url_redacted.find(secret) == std::string::npos);
      CHECK(stats.url_redacted.find("***") != std::string::npos);
    } else {
      CHECK(observer.wait_state(LinkState::rejected, row.reason));
      CHECK(observer.last().reason.find(secret) == std::string::npos);
    }
  }
}

TEST_CASE("streamid: a refused one is reported with its code; an accepted one reaches the ingest") {
  const std::string refused = "#!::r=live/other-event,m=publish";
  TestIngest ingest(ingest_options([&](PeerOptions& o) { o.refused_streamids = {refused}; }));
  REQUIRE(ingest.listening());
  {
    Observer observer;
    UplinkSender sender(destination(config::SrtMode::caller, ingest.port(), "", refused),
                        fast_options(), observer.callbacks());
    sender.start();
    CHECK(observer.wait_state(LinkState::rejected,
                              "rejected by ingest: streamid \"" + refused + "\" refused (code 1403)"));
  }
  const std::string accepted = "#!::r=live/onair,m=publish";
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, ingest.port(), "", accepted),
                      fast_options(), observer.callbacks());
  sender.start();
  PeerConnection peer = ingest.accept(seconds(10));
  REQUIRE(peer.valid());
  CHECK(ingest.streamids().back() == accepted);
}

TEST_CASE("no ingest at the address: 'no answer', then retries with backoff") {
  const uint16_t port = free_udp_port();
  Observer observer;
  SenderOptions options = fast_options();
  options.connect_timeout_ms = 300;
  UplinkSender sender(destination(config::SrtMode::caller, port), options, observer.callbacks());
  sender.start();
  CHECK(observer.wait_state(LinkState::backoff, "no answer from 127.0.0.1:" + std::to_string(port)));
  // It keeps trying: a later attempt shows up as connecting again.
  CHECK(observer.wait_state(LinkState::connecting, "connecting to 127.0.0.1:" + std::to_string(port)));
  CHECK(time_of([&] { sender.stop(); }) < seconds(1));
}

TEST_CASE("ingest closed and reopened: the sender reconnects and resumes at a keyframe") {
  auto ingest = std::make_unique<TestIngest>(PeerOptions{});
  REQUIRE(ingest->listening());
  const uint16_t port = ingest->port();
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, port), fast_options(), observer.callbacks());
  sender.start();
  PeerConnection peer = ingest->accept(seconds(10));
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));
  Stream stream;
  stream.send(sender, 7, true);
  REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));

  // The ingest goes away mid-stream: the sender notices on its next send.
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    Stream frames;
    for (int i = 0; feeding && i < 1000; ++i) {
      sender.push(frames.make(14, i % 30 == 0));
      std::this_thread::sleep_for(milliseconds(10));  // the source's frame pacing
    }
  });
  peer.close();
  ingest.reset();
  CHECK(observer.wait_state(LinkState::backoff, "connection closed by the ingest"));
  feeding = false;
  feeder.join();
  ingest = std::make_unique<TestIngest>(PeerOptions{}, port);
  REQUIRE(ingest->listening());
  PeerConnection again = ingest->accept(seconds(10));
  REQUIRE(again.valid());
  REQUIRE(observer.wait_connections(2));
  stream.pushed.clear();
  sender.push(stream.make(7, false));  // before the forced keyframe: not sent
  stream.send(sender, 12, true);
  stream.send(sender, 5, false);
  REQUIRE(again.receive_until(stream.pushed.size(), seconds(10)));
  CHECK(again.received == stream.pushed);
  CHECK(observer.wait([](const SenderStats& s, int) { return s.reconnects == 1; }));
}

TEST_CASE("an ingest that goes silent is declared dead within the idle timeout, then rejoined") {
  TestIngest ingest({});
  REQUIRE(ingest.listening());
  UdpRelay relay(ingest.port());
  Observer observer;
  SenderOptions options = fast_options();
  options.peer_idle_timeout_ms = 800;
  UplinkSender sender(destination(config::SrtMode::caller, relay.port()), options, observer.callbacks());
  sender.start();
  PeerConnection peer = ingest.accept(seconds(10));
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));

  std::atomic<bool> feeding{true};
  std::thread feeder([&] {  // a 30 fps stream with a keyframe every second
    Stream stream;
    for (int frame = 0; feeding && frame < 3000; ++frame) {
      sender.push(stream.make(14, frame % 30 == 0));
      std::this_thread::sleep_for(milliseconds(33));  // pacing the source, not waiting for logic
    }
  });
  REQUIRE(observer.wait([](const SenderStats& s, int) { return s.packets_sent > 20; }));
  relay.set_blackout(true);
  const auto blackout_at = Clock::now();
  CHECK(observer.wait([](const SenderStats& s, int) {
    return s.state == LinkState::backoff && s.reason.starts_with("no response from the ingest for ");
  }));
  const auto detected_after = Clock::now() - blackout_at;
  CHECK(detected_after >= milliseconds(700));
  CHECK(detected_after < milliseconds(2500));  // libsrt alone would take over 5 s

  relay.set_blackout(false);
  PeerConnection again = ingest.accept(seconds(10));
  CHECK(again.valid());
  CHECK(observer.wait_connections(2));
  feeding = false;
  feeder.join();
}

TEST_CASE("push never blocks while stopped or connecting, and an outage is not a queue drop") {
  Stream stream;
  const TsPayload payload = stream.make(70, true);
  const uint16_t dead_port = free_udp_port();
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, dead_port), fast_options(), observer.callbacks());
  CHECK(time_of([&] { for (int i = 0; i < 10'000; ++i) sender.push(payload); }) < seconds(1));
  sender.start();
  REQUIRE(observer.wait([](const SenderStats& s, int) { return s.state == LinkState::connecting; }));
  CHECK(time_of([&] { for (int i = 0; i < 10'000; ++i) sender.push(payload); }) < seconds(1));
  CHECK(observer.last().queue_drops == 0);
}

TEST_CASE("queue drops count a link slower than the stream, never a link that keeps up") {
  // The same ~26 Mbit/s source (a 70-packet frame every 4 ms, a keyframe every 25) twice.
  Stream stream;
  std::vector<TsPayload> frames;
  for (int i = 0; i < 250; ++i) frames.push_back(stream.make(70, i % 25 == 0));
  const std::string all_bytes = [&] {
    std::string bytes;
    for (const TsPayload& f : frames) bytes.append(reinterpret_cast<const char*>(f.data), f.size);
    return bytes;
  }();
  auto feed = [&](UplinkSender& sender, const std::function<bool()>& until, milliseconds* longest) {
    return std::thread([&sender, &frames, until, longest] {
      for (int i = 0; i < 25'000 && !until(); ++i) {
        *longest = std::max(*longest, time_of([&] { sender.push(frames[i % frames.size()]); }));
        std::this_thread::sleep_for(milliseconds(4));  // the source's frame pacing
      }
    });
  };

  // Identical sender settings in both runs: only the ingest's reading differs.
  SenderOptions options = fast_options();
  options.max_queue_bytes = 4 << 20;     // ~1.2 s of this stream: rides out a loaded box
  options.send_buffer_bytes = 64 * 1024; // a small SRT buffer so a stall reaches our queue soon
  // A stalled reader ACKs nothing: keep the link (and the queue) up while the queue fills,
  // even when a loaded box slows the source down.
  options.peer_idle_timeout_ms = 30'000;

  SUBCASE("an ingest that reads: every byte arrives, nothing dropped") {
    TestIngest ingest({});
    REQUIRE(ingest.listening());
    Observer observer;
    UplinkSender sender(destination(config::SrtMode::caller, ingest.port()), options, observer.callbacks());
    sender.start();
    PeerConnection peer = ingest.accept(seconds(10));
    REQUIRE(peer.valid());
    REQUIRE(observer.wait_connections(1));
    std::atomic<size_t> pushed{0};
    milliseconds longest{0};
    std::thread feeder = feed(sender, [&] { return pushed++ >= frames.size(); }, &longest);
    const bool all = peer.receive_until(all_bytes.size(), seconds(20));
    feeder.join();
    REQUIRE(all);
    CHECK(peer.received == all_bytes);
    CHECK(observer.wait([](const SenderStats& s, int) { return s.bytes_sent > 0; }));
    CHECK(observer.last().queue_drops == 0);
  }
  SUBCASE("an ingest that accepts and never reads: drops are counted, push stays instant") {
    TestIngest stalled(ingest_options([](PeerOptions& o) { o.receive_buffer_bytes = 64 * 1024; }));
    REQUIRE(stalled.listening());
    Observer observer;
    UplinkSender sender(destination(config::SrtMode::caller, stalled.port()), options, observer.callbacks());
    sender.start();
    PeerConnection peer = stalled.accept(seconds(10));
    REQUIRE(peer.valid());
    REQUIRE(observer.wait_connections(1));
    milliseconds longest{0};
    std::atomic<bool> dropped{false};
    std::thread feeder = feed(sender, [&] { return dropped.load(); }, &longest);
    CHECK(observer.wait([](const SenderStats& s, int) { return s.queue_drops > 0; }, seconds(30)));
    dropped = true;
    feeder.join();
    CHECK(longest < milliseconds(100));
    CHECK(time_of([&] { sender.stop(); }) < seconds(1));
  }
}

TEST_CASE("stop() is prompt in every state, and the destructor joins") {
  const uint16_t dead_port = free_udp_port();
  Observer observer;
  SenderOptions options = fast_options();
  options.connect_timeout_ms = 3000;
  {
    UplinkSender connecting(destination(config::SrtMode::caller, dead_port), options, observer.callbacks());
    connecting.start();
    REQUIRE(observer.wait_state(LinkState::connecting, "connecting to 127.0.0.1:" + std::to_string(dead_port)));
    CHECK(time_of([&] { connecting.stop(); }) < seconds(1));
    CHECK(observer.last().state == LinkState::stopped);
    connecting.stop();  // idempotent
    connecting.start();
    REQUIRE(observer.wait_state(LinkState::connecting, "connecting to 127.0.0.1:" + std::to_string(dead_port)));
    CHECK(time_of([&] { connecting.stop(); }) < seconds(1));
  }
  const uint16_t listen_port = free_udp_port();
  Observer listen_observer;
  auto listening = std::make_unique<UplinkSender>(destination(config::SrtMode::listener, listen_port),
                                                  options, listen_observer.callbacks());
  listening->start();
  REQUIRE(listen_observer.wait([](const SenderStats& s, int) { return s.state == LinkState::connecting; }));
  CHECK(time_of([&] { listening.reset(); }) < seconds(1));
}

TEST_CASE("stats while connected: rtt, packets, bytes, uptime and the last capture time") {
  TestIngest ingest({});
  REQUIRE(ingest.listening());
  Observer observer;
  UplinkSender sender(destination(config::SrtMode::caller, ingest.port()), fast_options(),
                      observer.callbacks());
  sender.start();
  PeerConnection peer = ingest.accept(seconds(10));
  REQUIRE(peer.valid());
  REQUIRE(observer.wait_connections(1));
  Stream stream;
  for (int i = 0; i < 30; ++i) stream.send(sender, 14, i == 0, 1'700'000'000'000'000 + i);
  REQUIRE(peer.receive_until(stream.pushed.size(), seconds(10)));
  const uint64_t pushed = stream.pushed.size();
  CHECK(observer.wait([&](const SenderStats& s, int) {
    return s.state == LinkState::connected && s.rtt_ms > 0 && s.packets_sent >= pushed / 1316 &&
           s.bytes_sent >= pushed && s.uptime_s > 0 &&
           s.last_capture_time_us == 1'700'000'000'000'029;
  }));
  const SenderStats stats = observer.last();
  CHECK(stats.name == "ingest");
  CHECK(stats.reason.empty());
  CHECK(stats.reconnects == 0);
  CHECK(stats.queue_drops == 0);
}
