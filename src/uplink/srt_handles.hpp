// Private to uplink/: owning fronts for libsrt socket and epoll ids, and option helpers.
#pragma once

#include <srt/srt.h>

#include <cstdint>
#include <string>
#include <utility>

namespace onair::uplink {

// Owns one SRTSOCKET; closes it on destruction (live mode lingers 0 s, so close is prompt).
class SrtSocket {
 public:
  SrtSocket() = default;
  explicit SrtSocket(SRTSOCKET id) : id_(id) {}
  ~SrtSocket() { reset(); }
  SrtSocket(SrtSocket&& other) noexcept : id_(std::exchange(other.id_, SRT_INVALID_SOCK)) {}
  SrtSocket& operator=(SrtSocket&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, SRT_INVALID_SOCK);
    }
    return *this;
  }
  SrtSocket(const SrtSocket&) = delete;
  SrtSocket& operator=(const SrtSocket&) = delete;

  SRTSOCKET get() const { return id_; }
  bool valid() const { return id_ != SRT_INVALID_SOCK; }
  explicit operator bool() const { return valid(); }
  void reset() {
    if (id_ != SRT_INVALID_SOCK) srt_close(std::exchange(id_, SRT_INVALID_SOCK));
  }

 private:
  SRTSOCKET id_ = SRT_INVALID_SOCK;
};

// Owns one libsrt epoll id.
class SrtEpoll {
 public:
  SrtEpoll() : id_(srt_epoll_create()) {}
  ~SrtEpoll() { reset(); }
  SrtEpoll(SrtEpoll&& other) noexcept : id_(std::exchange(other.id_, -1)) {}
  SrtEpoll& operator=(SrtEpoll&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, -1);
    }
    return *this;
  }
  SrtEpoll(const SrtEpoll&) = delete;
  SrtEpoll& operator=(const SrtEpoll&) = delete;

  int get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  bool add(SRTSOCKET socket, int events) { return srt_epoll_add_usock(id_, socket, &events) == 0; }
  // Waits up to timeout_ms; returns the event flags reported for `socket` (0 on timeout).
  int wait_for(SRTSOCKET socket, int64_t timeout_ms) {
    SRT_EPOLL_EVENT events[2];
    const int n = srt_epoll_uwait(id_, events, 2, timeout_ms);
    int flags = 0;
    for (int i = 0; i < n && i < 2; ++i)
      if (events[i].fd == socket) flags |= events[i].events;
    return flags;
  }

 private:
  void reset() {
    if (id_ >= 0) srt_epoll_release(std::exchange(id_, -1));
  }
  int id_ = -1;
};

inline std::string srt_last_error() { return srt_getlasterror_str(); }

template <typename T>
bool set_srt_flag(SRTSOCKET socket, SRT_SOCKOPT option, T value) {
  return srt_setsockflag(socket, option, &value, sizeof value) == 0;
}

inline bool set_srt_flag(SRTSOCKET socket, SRT_SOCKOPT option, const std::string& value) {
  return srt_setsockflag(socket, option, value.data(), static_cast<int>(value.size())) == 0;
}

}  // namespace onair::uplink
