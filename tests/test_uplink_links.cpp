// UplinkSender against real libsrt peers on 127.0.0.1 when links misbehave: no ingest, an
// ingest that restarts or goes silent, a link slower than the stream, stop in every state, stats.
#include <doctest/doctest.h>

#include "uplink/silent_link.hpp"
#include "uplink_sender_harness.hpp"

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

namespace {

// A sender streaming 30 fps with a keyframe every second to a TestIngest through a UdpRelay the
// test can black out, at a 200 ms latency (what a link may recover on its return: its last 200 ms).
struct RelayedStream {
  explicit RelayedStream(int peer_idle_timeout_ms)
      : ingest(short_latency()), relay(ingest.port()), sender(at(relay.port()), options(peer_idle_timeout_ms),
                                                              observer.callbacks()) {
    REQUIRE(ingest.listening());
    sender.start();
    peer = ingest.accept(seconds(10));
    REQUIRE(peer.valid());
    REQUIRE(observer.wait_connections(1));
    feeder = std::thread([this] {
      Stream stream;
      for (int frame = 0; feeding && frame < 3000; ++frame) {
        sender.push(stream.make(14, frame % 30 == 0));
        std::this_thread::sleep_for(milliseconds(33));  // pacing the source, not waiting for logic
      }
    });
  }
  ~RelayedStream() {
    feeding = false;
    if (feeder.joinable()) feeder.join();
  }
  static PeerOptions short_latency() {
    PeerOptions o;
    o.latency_ms = 200;
    return o;
  }
  static config::Destination at(uint16_t port) {
    config::Destination d = destination(config::SrtMode::caller, port);
    d.url.latency_ms = 200;
    return d;
  }
  static SenderOptions options(int peer_idle_timeout_ms) {
    SenderOptions o = fast_options();
    o.peer_idle_timeout_ms = peer_idle_timeout_ms;
    return o;
  }

  TestIngest ingest;
  UdpRelay relay;
  Observer observer;
  UplinkSender sender;
  PeerConnection peer;
  std::atomic<bool> feeding{true};
  std::thread feeder;
};

}  // namespace

TEST_CASE("a link that goes silent is declared down within the idle timeout, kept, and resumes when the path returns") {
  RelayedStream rig(800);
  TestIngest& ingest = rig.ingest;
  Observer& observer = rig.observer;
  PeerConnection& peer = rig.peer;
  REQUIRE(observer.wait([](const SenderStats& s, int) { return s.packets_sent > 20; }));
  rig.relay.set_blackout(true);
  const auto blackout_at = Clock::now();
  const SenderStats at_blackout = observer.last();
  CHECK(observer.wait([](const SenderStats& s, int) {
    return s.state == LinkState::connecting && s.reason.starts_with("no response from the ingest for ") &&
           s.reason.ends_with("; reconnecting");
  }));
  const auto detected_after = Clock::now() - blackout_at;
  CHECK(detected_after >= milliseconds(700));
  CHECK(detected_after < milliseconds(2500));  // libsrt alone would take over 5 s
  // Meanwhile the encoder is asked for keyframes, so what the link recovers starts with one.
  std::this_thread::sleep_for(milliseconds(700));
  {
    std::lock_guard lock(observer.mutex);
    CHECK(observer.silent_keyframes >= 5);  // every quarter latency (50 ms here)
    CHECK(observer.connections == 1);
  }
  const size_t before_return = peer.received.size();
  const SenderStats at_return = observer.last();

  rig.relay.set_blackout(false);
  // The same connection carries on: no new one reached the ingest, and data flows again.
  CHECK(observer.wait([](const SenderStats& s, int) { return s.state == LinkState::connected && s.resumes == 1; }));
  CHECK(peer.receive_until(before_return + 50 * 1316, seconds(5)));
  CHECK_FALSE(ingest.accept(milliseconds(300)).valid());
  CHECK(observer.last().reconnects == 0);
  // Of the ~1.5 s sent into the blackout only what the receiver can still play was resent (the
  // messages' time to live is the latency); libsrt alone resends the last second of it.
  std::this_thread::sleep_for(milliseconds(500));
  const uint64_t sent_into_blackout = at_return.packets_sent - at_blackout.packets_sent;
  const uint64_t resent = observer.last().packets_retransmitted - at_return.packets_retransmitted;
  MESSAGE(sent_into_blackout, " packets sent into the blackout, ", resent, " resent after it");
  CHECK(sent_into_blackout > 50);
  CHECK(resent < sent_into_blackout / 3);
  {
    std::lock_guard lock(observer.mutex);
    CHECK(observer.connections == 2);  // the resumed link asked for a keyframe at once
    CHECK(observer.answered == 0);     // ... as a resume, not once more as a quiet link's answer
  }
}

TEST_CASE("a drop-out shorter than the idle timeout: recovery keyframes from 250 ms of quiet, the link stays up") {
  RelayedStream rig(2000);
  TestIngest& ingest = rig.ingest;
  Observer& observer = rig.observer;
  // A link that answers asks for nothing.
  REQUIRE(observer.wait([](const SenderStats& s, int) { return s.packets_sent > 100; }));
  size_t reports_before = 0;
  {
    std::lock_guard lock(observer.mutex);
    CHECK(observer.silent_keyframes == 0);
    CHECK(observer.answered == 0);
    reports_before = observer.history.size();
  }
  rig.relay.set_blackout(true);
  const auto blackout_at = Clock::now();
  REQUIRE(observer.wait_silent_keyframes(1, seconds(2)));
  const auto first_after = Clock::now() - blackout_at;
  MESSAGE("first recovery keyframe ", std::chrono::duration_cast<milliseconds>(first_after).count(),
          " ms into the drop-out");
  CHECK(first_after >= milliseconds(150));  // 250 ms after the peer was last heard
  CHECK(first_after < milliseconds(700));
  CHECK(observer.wait_silent_keyframes(3, seconds(2)));  // then every quarter latency (50 ms here)
  rig.relay.set_blackout(false);
  const auto back_at = Clock::now();
  // Not declared down: the same connection, connected all along, no reconnect and no resume.
  REQUIRE(observer.wait([&](const SenderStats& s, int) { return s.peer_silent_ms == 0 && s.packets_sent > 0; }));
  std::this_thread::sleep_for(milliseconds(300));
  int asked_after_return = 0;
  {
    std::lock_guard lock(observer.mutex);
    for (size_t i = reports_before; i < observer.history.size(); ++i)
      CHECK(observer.history[i].state == LinkState::connected);
    asked_after_return = observer.silent_keyframes;
  }
  MESSAGE("drop-out lasted ", std::chrono::duration_cast<milliseconds>(back_at - blackout_at).count(), " ms");
  CHECK(observer.last().reconnects == 0);
  CHECK(observer.last().resumes == 0);
  CHECK_FALSE(ingest.accept(milliseconds(100)).valid());
  // Once the peer answers, the recovery keyframes stop; the answer itself is told once (the
  // owner of the encoder asks for one more if it held some of them back), not as a connection.
  std::this_thread::sleep_for(milliseconds(500));
  {
    std::lock_guard lock(observer.mutex);
    CHECK(observer.silent_keyframes == asked_after_return);
    CHECK(observer.answered == 1);
    CHECK(observer.connections == 1);
  }
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

TEST_CASE("the connection dialled beside a silent link: nobody answering is dialled again after the short delay, "
          "and so is a dial that fails as the ingest starts; the ingest is reached within a second or so") {
  const uint16_t port = free_udp_port();
  ConnectSettings settings;
  settings.url = destination(config::SrtMode::caller, port).url;
  settings.connect_timeout_ms = 300;
  // Delays from 200 ms (reconnect_min_ms) up to 5 s (reconnect_max_ms): the long one would show.
  SilentLink link(settings, 200, 5000, "uplink test");
  const auto began = Clock::now();
  link.begin(began);
  REQUIRE(link.active());
  auto dial_until = [&](Clock::time_point deadline) {
    SrtSocket socket;
    while (!socket && Clock::now() < deadline) {
      socket = link.redial(Clock::now());
      if (!socket) std::this_thread::sleep_for(milliseconds(10));
    }
    return socket;
  };
  // No ingest: the first dial gives up after its 300 ms, the second starts 200 ms later.
  CHECK_FALSE(dial_until(Clock::now() + milliseconds(700)).valid());
  // The ingest starts while that second dial is under way: libsrt fails it ("Unknown or
  // erroneous", in 4 runs of 5; the fifth connected at once). Such a failure used to count as a
  // refusal, after which the next dial waited the full 5 s.
  TestIngest ingest({}, port);
  REQUIRE(ingest.listening());
  const auto listening = Clock::now();
  bool accepted = false;
  std::thread accepting([&] { accepted = ingest.accept(seconds(10)).valid(); });
  SrtSocket connected = dial_until(Clock::now() + seconds(10));
  accepting.join();
  CHECK(connected.valid());
  CHECK(accepted);
  CHECK(Clock::now() - listening < seconds(3));
  CHECK(link.silent_ms(Clock::now()) >= 500);
  link.end();
  CHECK_FALSE(link.active());
}
