// Shared by the UplinkSender tests (test_uplink*.cpp): an observer of what the sender reports,
// destinations and fast reconnect options for loopback, and a TS stream whose bytes say which
// payload and packet they are, so the receiver's copy can be checked byte for byte.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "uplink/uplink.hpp"
#include "uplink_peer.hpp"

namespace onair::uplink::test {

using std::chrono::seconds;

inline const SrtLibrary srt_library;  // the tests' own libsrt peers need it too

// Records what the sender reports; lets a test wait for a condition with a deadline.
struct Observer {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<SenderStats> history;
  int connections = 0;       // keyframes asked for a connection made (or a silent link resumed)
  int silent_keyframes = 0;  // keyframes asked for while the peer is quiet (a drop-out)
  int answered = 0;          // a quiet link (not declared down) answered again

  SenderCallbacks callbacks() {
    return {[this](KeyframeWant want) {
              std::lock_guard lock(mutex);
              ++(want == KeyframeWant::link ? connections : want == KeyframeWant::drop_out ? silent_keyframes : answered);
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
  bool wait_silent_keyframes(int n, milliseconds timeout) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return silent_keyframes >= n; });
  }
  bool wait_connections(int n) {
    return wait([&](const SenderStats& s, int c) { return c >= n && s.state == LinkState::connected; });
  }
  SenderStats last() {
    std::lock_guard lock(mutex);
    return history.empty() ? SenderStats{} : history.back();
  }
};

inline config::Destination destination(config::SrtMode mode, uint16_t port, std::string passphrase = "",
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

inline SenderOptions fast_options() {
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
inline std::vector<int> expected_messages(const std::vector<size_t>& payload_packets) {
  std::vector<int> sizes;
  for (size_t packets : payload_packets) {
    for (; packets > 7; packets -= 7) sizes.push_back(1316);
    sizes.push_back(static_cast<int>(packets * 188));
  }
  return sizes;
}

inline PeerOptions ingest_options(std::function<void(PeerOptions&)> edit) {
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

}  // namespace onair::uplink::test

using namespace onair;
using namespace onair::uplink;
using namespace onair::uplink::test;
using std::chrono::seconds;
