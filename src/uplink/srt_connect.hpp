// Private to uplink/: turning an SrtUrl into a connected libsrt socket (caller, rendezvous,
// listener), with every option explicit and every wait bounded and interruptible.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "config/srt_url.hpp"
#include "uplink/link_reasons.hpp"
#include "uplink/srt_handles.hpp"

namespace onair::uplink {

inline constexpr int kTsPacketSize = 188;
inline constexpr int kSrtPayloadSize = 7 * kTsPacketSize;  // 1316: 7 TS packets per SRT message

struct ConnectSettings {
  config::SrtUrl url;
  int peer_idle_timeout_ms = 1000;
  int connect_timeout_ms = 3000;
  int send_buffer_bytes = 0;           // 0: libsrt's default
  uint16_t rendezvous_local_port = 0;  // 0: the URL's port (the ffmpeg/OBS convention)
};

// Called every wait slice (<= 50 ms); returning false abandons the wait (stop requested).
using KeepWaiting = std::function<bool()>;

struct ConnectResult {
  SrtSocket socket;     // connected, non-blocking; invalid on failure or stop
  LinkFailure failure;  // why not, when !socket and not stopped
};

// Caller or rendezvous: one handshake attempt that runs while its owner does other work
// (the sender keeps a silent link while a new connection is being made beside it).
class SrtDial {
 public:
  enum class Progress { pending, connected, failed };
  // Sends the first handshake; false (and *failure) when it cannot even start.
  bool start(const ConnectSettings& settings, LinkFailure* failure);
  // Waits up to wait_ms; connected: take() the socket; failed: *failure says why (dial over).
  Progress poll(int wait_ms, LinkFailure* failure);
  SrtSocket take();
  bool active() const { return socket_.valid(); }
  // Abandons the handshake (closes the socket).
  void cancel();

 private:
  SrtSocket socket_;
  SrtEpoll epoll_;
  config::SrtUrl url_;
  std::chrono::steady_clock::time_point deadline_{};
};

// Caller or rendezvous: one handshake attempt, bounded by connect_timeout_ms.
ConnectResult connect_out(const ConnectSettings& settings, const KeepWaiting& keep_waiting);

// Listener mode: one listening socket kept for the whole session, ingests accepted one by one.
class SrtListener {
 public:
  // Binds host:port (all interfaces when host is empty) and listens; false + *error on failure.
  bool open(const ConnectSettings& settings, std::string* error);
  // Waits up to timeout_ms (0: just checks) for an ingest; an invalid socket when none came.
  SrtSocket accept(int timeout_ms, std::string* peer);
  bool is_open() const { return socket_.valid(); }
  void close();

 private:
  SrtSocket socket_;
  SrtEpoll epoll_;
};

}  // namespace onair::uplink
