// The SRT uplink: one UplinkSender per destination, each on its own thread, fed TS by a
// bounded queue so a slow or dead network never blocks capture, encode or display.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "config/config.hpp"

namespace onair::uplink {

// One muxer output: the TS packets of (part of) one frame, shared by every destination.
// `owner` keeps the bytes alive (e.g. a mapped GstBuffer); nothing is copied per destination.
struct TsPayload {
  std::shared_ptr<const void> owner;
  const uint8_t* data = nullptr;
  size_t size = 0;              // a multiple of 188
  bool keyframe = false;        // starts with a random access point (IDR + SPS/PPS)
  int64_t capture_time_us = 0;  // wall clock (µs since epoch) the frame was captured; 0 = unknown
};

// A peer that has said nothing this long while data waits is out of reach for now: a drop-out
// under way, not congestion (a congested link still acknowledges every 10 ms). The bitrate then
// holds, and the encoder is asked for recovery keyframes (see SenderCallbacks).
inline constexpr int64_t kPeerQuietMs = 250;

enum class LinkState {
  stopped,     // not asked to send (stream idle)
  connecting,  // caller/rendezvous: handshake under way; listener: waiting for the ingest
  connected,   // handshake done, sending
  backoff,     // failed or lost; waiting before the next attempt
  rejected,    // the peer refused us (wrong passphrase, streamid); retried with backoff
};
const char* to_string(LinkState state);

struct SenderStats {
  std::string name;
  std::string url_redacted;
  LinkState state = LinkState::stopped;
  std::string reason;             // why not connected, e.g. "rejected by ingest: wrong passphrase"
  double uptime_s = 0;            // since this connection was established
  double rtt_ms = 0;
  double send_buffer_ms = 0;
  uint64_t send_buffer_packets = 0;
  double bandwidth_mbps = 0;      // libsrt's estimate of the link's capacity
  double send_rate_mbps = 0;
  uint64_t bytes_sent = 0;        // totals over the sender's lifetime
  uint64_t packets_sent = 0;
  uint64_t packets_submitted = 0; // SRT messages handed to libsrt (the bitrate controller's input)
  uint64_t packets_lost = 0;
  uint64_t packets_retransmitted = 0;
  uint64_t packets_dropped = 0;   // dropped by SRT as too late
  uint64_t queue_drops = 0;       // payloads dropped by onair's queue (network too slow / down)
  uint64_t reconnects = 0;        // connections established after the first
  uint64_t resumes = 0;           // links declared down for silence that came back by themselves
  int64_t peer_silent_ms = 0;     // how long the peer has said nothing while data waits (0: fine)
  int64_t last_capture_time_us = 0;  // capture time of the last payload handed to SRT

  // Connected and answering: what it sends now reaches the ingest.
  bool reaching() const { return state == LinkState::connected && peer_silent_ms < kPeerQuietMs; }
};

struct SenderOptions {
  int peer_idle_timeout_ms = 1000;
  size_t max_queue_bytes = 1 << 20;
  int reconnect_min_ms = 200;
  int reconnect_max_ms = 5000;
  int stats_interval_ms = 250;
  int connect_timeout_ms = 3000;       // SRTO_CONNTIMEO for caller (x10 in rendezvous, libsrt's rule)
  int send_buffer_bytes = 0;           // SRTO_SNDBUF; 0 = libsrt's default (8192 payloads)
  uint16_t rendezvous_local_port = 0;  // 0 = the URL's port (ffmpeg/OBS convention)
};

// Why a sender asks for a keyframe (SenderCallbacks::on_keyframe_wanted).
enum class KeyframeWant {
  link,      // a connection was established, or a link declared down resumed: the receiver
             // starts decoding at once
  drop_out,  // every quarter latency while the peer has been quiet for kPeerQuietMs or longer
             // (before and after the link is declared down), so that what the link recovers
             // when the path comes back starts with one
  answered,  // a quiet link (not declared down) answers again: its drop-out ends here
};

struct SenderCallbacks {
  // Called on the sender thread when the encoder should emit a keyframe now. The owner of the
  // encoder decides about drop_out and answered: other destinations may be fine and need no
  // extra keyframes.
  std::function<void(KeyframeWant)> on_keyframe_wanted;
  // Called on the sender thread on every state change and every stats_interval_ms.
  std::function<void(const SenderStats&)> on_stats;
};

// Behaviour worth knowing from outside:
// - Listener mode keeps one ingest at a time; a newer caller replaces the current one (an
//   ingest that restarted reconnects at once instead of waiting for the old link to time out).
// - A link is declared down (state connecting) after peer_idle_timeout_ms without any ACK
//   while data is waiting (libsrt's own SRTO_PEERIDLETIMEO needs ~5 s or more). Caller and
//   listener mode keep sending on it until libsrt gives it up, while a new connection is made
//   (or accepted) beside it: if the silent link answers first it resumes (counted in resumes),
//   if the new connection does, that one is served (counted in reconnects). Rendezvous mode,
//   which cannot open a second connection on its port, reconnects with backoff.
// - Payloads pushed while not connected are discarded and not counted in queue_drops, which
//   stays a "link slower than the stream" signal; an outage shows in state and reason.
// - After a rejection the state stays `rejected` (with its reason) while retrying.
class UplinkSender {
 public:
  UplinkSender(config::Destination destination, SenderOptions options, SenderCallbacks callbacks);
  ~UplinkSender();  // stops and joins the thread, closes sockets
  UplinkSender(const UplinkSender&) = delete;
  UplinkSender& operator=(const UplinkSender&) = delete;

  void start();  // begin connecting/sending (Go Live); idempotent
  void stop();   // disconnect and stay stopped; idempotent
  // Never blocks. Payloads queued while not connected are discarded; after a (re)connect or a
  // queue overflow, sending resumes at the next keyframe so the receiver sees no broken frames.
  void push(TsPayload payload);

  const std::string& name() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// libsrt's global init/cleanup, once per process (RAII; construct in main/app before senders).
class SrtLibrary {
 public:
  SrtLibrary();
  ~SrtLibrary();
  SrtLibrary(const SrtLibrary&) = delete;
  SrtLibrary& operator=(const SrtLibrary&) = delete;
};

}  // namespace onair::uplink
