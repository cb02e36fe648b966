// An SRT peer that receives a TS stream with libsrt directly, as a remote ingest would.
// All accessors are thread-safe; the receiving runs on the receiver's own thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

struct sockaddr;

namespace onair::test {

using namespace std::chrono_literals;

struct SrtReceiverOptions {
  enum class Mode { listener, caller };
  Mode mode = Mode::listener;
  std::string host = "127.0.0.1";  // listener: address to bind; caller: address to call
  uint16_t port = 0;
  int latency_ms = 120;
  std::string passphrase{};  // empty = no encryption; else 10..79 characters
  int pbkeylen = 0;          // 16, 24 or 32; 0 = libsrt's default
  // caller: the streamid it sends. listener: the expected one, enforced when
  // reject_other_streamids is set (other callers are refused with code 1403, SRT_REJX_FORBIDDEN).
  std::string streamid{};
  bool reject_other_streamids = false;
  // listener: a caller accepted closes every older connection, as an ingest that takes the
  // newest publisher of a stream does (MediaMTX's overridePublisher, on by default).
  bool newest_publisher_only = false;
  // caller: between calls; listener: between attempts to bind.
  std::chrono::milliseconds retry_interval = 100ms;
  std::chrono::milliseconds connect_timeout = 1000ms;  // caller: one call's timeout
  std::size_t max_bytes = std::size_t{512} << 20;      // keep at most this much (memory bound)
};

// listener: binds host:port, accepts every caller (a new one while an old one is still
// lingering too) and keeps accepting after a sender goes away. caller: calls host:port and
// calls again, every retry_interval, whenever it is not connected.
// Bytes are kept per connection, in accept/connect order: a reconnect starts a new segment
// (a new TS stream joined mid-GOP), so analyse connection_bytes(i) rather than the seam. An old
// connection that is still sending after a newer one was accepted keeps filling its own segment.
class SrtReceiver {
 public:
  explicit SrtReceiver(SrtReceiverOptions options);  // starts receiving at once
  ~SrtReceiver();
  SrtReceiver(const SrtReceiver&) = delete;
  SrtReceiver& operator=(const SrtReceiver&) = delete;

  void stop();  // closes everything and joins the thread (within ~connect_timeout)
  // Simulates the ingest going away: closes the connection(s) and the listening socket and
  // neither accepts nor calls until resume(). Returns once that is done (false on timeout).
  bool pause(std::chrono::milliseconds timeout = 3s);
  void resume();  // the ingest comes back on the same port

  std::vector<uint8_t> bytes() const;  // everything received, all connections in order
  std::vector<uint8_t> connection_bytes(std::size_t index) const;  // empty if no such connection
  // The longest pause in one connection's bytes arriving, counted from byte `after` of that
  // connection on: a drop-out seen by the ingest itself, independent of when a test thread
  // looks. offset = the connection's first byte after the pause (its size when none); length
  // = how long nothing came before it (0 when fewer than two messages came after `after`).
  struct ArrivalGap {
    std::size_t offset = 0;
    std::chrono::milliseconds length{0};
  };
  ArrivalGap longest_gap(std::size_t connection, std::size_t after = 0) const;
  // When the first message at or after `from` arrived, on any connection (none yet: nullopt).
  std::optional<std::chrono::steady_clock::time_point> first_arrival(std::chrono::steady_clock::time_point from) const;
  // The longest time within [from, to] in which no message arrived on any connection (from
  // `from` to the first arrival and from the last to `to` included): what a viewer behind the
  // ingest waited, whichever connection carried the stream.
  std::chrono::milliseconds longest_pause(std::chrono::steady_clock::time_point from,
                                          std::chrono::steady_clock::time_point to) const;
  void clear();                    // drops the bytes kept so far (counters stay)
  std::size_t byte_count() const;  // all bytes received, including any beyond max_bytes
  std::size_t message_count() const;
  std::map<std::size_t, std::size_t> message_sizes() const;  // message size -> how many
  std::size_t max_message_size() const;

  std::size_t connections() const;       // connections accepted (listener) or established (caller)
  bool connected() const;                // at least one connection is open now
  std::size_t connect_attempts() const;  // caller: srt_connect calls made

  // Why the last connection was refused: caller = srt_getrejectreason after a failed call
  // (e.g. SRT_REJ_BADSECRET for a wrong passphrase, 1403 from a streamid check); listener = a
  // streamid it refused itself. 0 / "" when nothing was refused. A listener cannot see a
  // caller's wrong passphrase (libsrt refuses it internally): it just never connects.
  int last_reject_code() const;
  std::string last_reject_reason() const;
  std::string last_streamid() const;  // listener: streamid of the last caller seen
  std::string last_error() const;     // local failures, e.g. the port could not be bound

 private:
  struct Sockets;
  void run();
  void handle_listener_ready(Sockets& s);
  void try_connect(Sockets& s);
  void add_connection(Sockets& s, int sock);  // takes ownership of the SRT socket
  void drain(Sockets& s, int sock);
  void close_connections(Sockets& s);  // the accepted or established ones, not the listener
  void close_all(Sockets& s);
  void append(std::size_t segment, const uint8_t* data, std::size_t size);
  void set_reject(int code, std::string reason);
  void set_error(std::string error);
  template <class T>
  T locked(const T& member) const {  // a copy taken under the mutex
    std::lock_guard lock(mutex_);
    return member;
  }
  bool accept_streamid(int sock, const char* streamid);  // on libsrt's thread, before accept
  friend int srt_receiver_listen_hook(void*, int, int, const struct sockaddr*, const char*);

  const SrtReceiverOptions options_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::vector<uint8_t>> segments_;  // one per connection
  struct Arrival {
    std::chrono::steady_clock::time_point at;
    std::size_t offset;  // in its segment
  };
  std::vector<std::vector<Arrival>> arrivals_;  // one per connection, a message each
  std::size_t byte_count_ = 0;
  std::size_t message_count_ = 0;
  std::size_t kept_bytes_ = 0;
  std::map<std::size_t, std::size_t> message_sizes_;
  int last_reject_code_ = 0;
  std::string last_reject_reason_;
  std::string last_streamid_;
  std::string last_error_;
  bool pause_requested_ = false;
  bool paused_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> open_connections_{0};
  std::atomic<std::size_t> connect_attempts_{0};
  std::thread thread_;
};

// The last libsrt log lines of this process, oldest first, one a line. Once an SrtReceiver
// exists, libsrt logs here instead of to stderr; show them on failure: INFO(srt_log_tail()).
std::string srt_log_tail(std::size_t max_lines = 50);

}  // namespace onair::test
