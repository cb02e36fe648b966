// Test-only SRT peers for test_uplink.cpp: an ingest (listener), an ingest that calls the
// sender (listener mode), a rendezvous peer, and a UDP relay that can black the link out.
// Everything on 127.0.0.1, every wait bounded.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <srt/access_control.h>
#include <srt/srt.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "uplink/srt_handles.hpp"

namespace onair::uplink::test {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline sockaddr_in loopback(uint16_t port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

// A UDP port that was free a moment ago (bind port 0, read it back, release it).
inline uint16_t free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in address = loopback(0);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct PeerOptions {
  std::string passphrase;
  std::string streamid;                    // caller/rendezvous peers
  std::set<std::string> refused_streamids; // ingest: reject these with 1403
  int latency_ms = 1000;                   // generous: a loaded CI box must not drop as too late
  int receive_buffer_bytes = 0;            // 0: libsrt default
};

inline bool configure_peer(SRTSOCKET s, const PeerOptions& options) {
  bool ok = set_srt_flag(s, SRTO_TRANSTYPE, SRTT_LIVE) &&
            set_srt_flag(s, SRTO_LATENCY, int32_t{options.latency_ms}) &&
            set_srt_flag(s, SRTO_RCVSYN, false) && set_srt_flag(s, SRTO_SNDSYN, false);
  if (ok && options.receive_buffer_bytes > 0) {
    ok = set_srt_flag(s, SRTO_FC, int32_t{32}) &&
         set_srt_flag(s, SRTO_RCVBUF, int32_t{options.receive_buffer_bytes});
  }
  if (ok && !options.passphrase.empty()) ok = set_srt_flag(s, SRTO_PASSPHRASE, options.passphrase);
  if (ok && !options.streamid.empty()) ok = set_srt_flag(s, SRTO_STREAMID, options.streamid);
  return ok;
}

// One connected peer socket: receives messages with a bounded wait.
class PeerConnection {
 public:
  PeerConnection() = default;
  explicit PeerConnection(SrtSocket socket) : socket_(std::move(socket)) {
    epoll_.add(socket_.get(), SRT_EPOLL_IN | SRT_EPOLL_ERR);
  }
  bool valid() const { return socket_.valid(); }
  SRTSOCKET get() const { return socket_.get(); }
  bool broken() const { return !socket_ || srt_getsockstate(socket_.get()) >= SRTS_BROKEN; }
  void close() { socket_.reset(); }

  // Receives until `bytes` bytes arrived in total (or the deadline); true when they did.
  bool receive_until(size_t bytes, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    char buffer[1500];
    while (received.size() < bytes && Clock::now() < deadline && socket_) {
      const int n = srt_recvmsg(socket_.get(), buffer, sizeof buffer);
      if (n > 0) {
        received.append(buffer, static_cast<size_t>(n));
        message_sizes.push_back(n);
      } else if (srt_getsockstate(socket_.get()) >= SRTS_BROKEN) {
        return false;
      } else {
        epoll_.wait_for(socket_.get(), 20);
      }
    }
    return received.size() >= bytes;
  }
  bool wait_broken(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (!broken() && Clock::now() < deadline) std::this_thread::sleep_for(milliseconds(10));
    return broken();
  }

  std::string received;
  std::vector<int> message_sizes;

 private:
  SrtSocket socket_;
  SrtEpoll epoll_;
};

// An SRT listener on 127.0.0.1 standing in for the remote ingest.
class TestIngest {
 public:
  explicit TestIngest(PeerOptions options, uint16_t port = 0) : options_(std::move(options)) {
    SrtSocket s(srt_create_socket());
    sockaddr_in address = loopback(port);
    if (!configure_peer(s.get(), options_) ||
        srt_bind(s.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == SRT_ERROR)
      return;
    int length = sizeof address;
    srt_getsockname(s.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    srt_listen_callback(s.get(), &TestIngest::on_handshake, this);
    if (srt_listen(s.get(), 4) == SRT_ERROR) return;
    epoll_.add(s.get(), SRT_EPOLL_IN);
    listener_ = std::move(s);
  }
  bool listening() const { return listener_.valid(); }
  uint16_t port() const { return port_; }

  // Waits for the sender to connect; an invalid connection on timeout.
  PeerConnection accept(milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (listener_ && Clock::now() < deadline) {
      if (!(epoll_.wait_for(listener_.get(), 20) & SRT_EPOLL_IN)) continue;
      SrtSocket accepted(srt_accept(listener_.get(), nullptr, nullptr));
      if (accepted) return PeerConnection(std::move(accepted));
    }
    return {};
  }
  void close() { listener_.reset(); }

  std::vector<std::string> streamids() {
    std::lock_guard lock(mutex_);
    return streamids_;
  }

 private:
  static int on_handshake(void* opaque, SRTSOCKET socket, int, const sockaddr*, const char* streamid) {
    auto* self = static_cast<TestIngest*>(opaque);
    const std::string id = streamid ? streamid : "";
    {
      std::lock_guard lock(self->mutex_);
      self->streamids_.push_back(id);
    }
    if (self->options_.refused_streamids.count(id)) {
      srt_setrejectreason(socket, SRT_REJX_FORBIDDEN);
      return -1;
    }
    return 0;
  }

  PeerOptions options_;
  SrtSocket listener_;
  SrtEpoll epoll_;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::vector<std::string> streamids_;
};

// Caller (or rendezvous, with local_port set) to 127.0.0.1:port; invalid on failure.
inline PeerConnection connect_peer(uint16_t port, const PeerOptions& options, milliseconds timeout,
                                   uint16_t rendezvous_local_port = 0) {
  SrtSocket s(srt_create_socket());
  if (!configure_peer(s.get(), options)) return {};
  sockaddr_in remote = loopback(port);
  int rc;
  if (rendezvous_local_port) {
    sockaddr_in local = loopback(rendezvous_local_port);
    rc = srt_rendezvous(s.get(), reinterpret_cast<sockaddr*>(&local), sizeof local,
                        reinterpret_cast<sockaddr*>(&remote), sizeof remote);
  } else {
    rc = srt_connect(s.get(), reinterpret_cast<sockaddr*>(&remote), sizeof remote);
  }
  if (rc == SRT_ERROR) return {};
  SrtEpoll epoll;
  epoll.add(s.get(), SRT_EPOLL_OUT | SRT_EPOLL_ERR);
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    const int events = epoll.wait_for(s.get(), 20);
    if (events & SRT_EPOLL_ERR) return {};
    if (srt_getsockstate(s.get()) == SRTS_CONNECTED) return PeerConnection(std::move(s));
  }
  return {};
}

// UDP relay 127.0.0.1:port() → 127.0.0.1:target; set_blackout(true) silently drops everything,
// like a venue uplink that dies without closing anything.
class UdpRelay {
 public:
  explicit UdpRelay(uint16_t target) : target_(loopback(target)) {
    front_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    back_ = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in any = loopback(0);
    ::bind(front_, reinterpret_cast<sockaddr*>(&any), sizeof any);
    ::bind(back_, reinterpret_cast<sockaddr*>(&any), sizeof any);
    socklen_t length = sizeof any;
    ::getsockname(front_, reinterpret_cast<sockaddr*>(&any), &length);
    port_ = ntohs(any.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~UdpRelay() {
    quit_ = true;
    thread_.join();
    ::close(front_);
    ::close(back_);
  }
  uint16_t port() const { return port_; }
  void set_blackout(bool on) { blackout_ = on; }

 private:
  void run() {
    pollfd fds[2] = {{front_, POLLIN, 0}, {back_, POLLIN, 0}};
    char buffer[2048];
    sockaddr_in client{};
    bool have_client = false;
    while (!quit_) {
      if (::poll(fds, 2, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        sockaddr_in from{};
        socklen_t length = sizeof from;
        const ssize_t n = ::recvfrom(front_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
        client = from;  // follows the sender's newest socket after a reconnect
        have_client = true;
        if (n > 0 && !blackout_)
          ::sendto(back_, buffer, n, 0, reinterpret_cast<const sockaddr*>(&target_), sizeof target_);
      }
      if (fds[1].revents & POLLIN) {
        const ssize_t n = ::recv(back_, buffer, sizeof buffer, 0);
        if (n > 0 && have_client && !blackout_)
          ::sendto(front_, buffer, n, 0, reinterpret_cast<const sockaddr*>(&client), sizeof client);
      }
    }
  }

  sockaddr_in target_;
  int front_ = -1;
  int back_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> quit_{false};
  std::atomic<bool> blackout_{false};
  std::thread thread_;
};

}  // namespace onair::uplink::test
