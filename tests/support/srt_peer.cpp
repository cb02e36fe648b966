#include "support/srt_peer.hpp"

#include <arpa/inet.h>
#include <srt/access_control.h>
#include <srt/srt.h>

#include <algorithm>
#include <array>
#include <deque>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <utility>

namespace onair::test {
namespace {

constexpr std::size_t kLogLines = 200;
std::mutex g_log_mutex;
std::deque<std::string> g_log;  // the last kLogLines libsrt log lines

void keep_srt_log(void*, int, const char*, int, const char*, const char* message) {
  std::lock_guard lock(g_log_mutex);
  g_log.emplace_back(message ? message : "");
  if (g_log.size() > kLogLines) g_log.pop_front();
}

// srt_startup once per test process; libsrt refcounts it, so onair code calling it too is fine.
void srt_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    srt_startup();
    srt_setlogflags(SRT_LOGF_DISABLE_EOL);
    srt_setloghandler(nullptr,
                      &keep_srt_log);  // refusals log warnings: keep them off the test output
  });
}

// An owned SRTSOCKET.
class SrtSocket {
 public:
  SrtSocket() = default;
  explicit SrtSocket(SRTSOCKET s) : s_(s) {}
  ~SrtSocket() { reset(); }
  SrtSocket(SrtSocket&& o) noexcept : s_(std::exchange(o.s_, SRT_INVALID_SOCK)) {}
  SrtSocket& operator=(SrtSocket&& o) noexcept {
    if (this != &o) {
      reset();
      s_ = std::exchange(o.s_, SRT_INVALID_SOCK);
    }
    return *this;
  }
  SRTSOCKET get() const { return s_; }
  SRTSOCKET release() { return std::exchange(s_, SRT_INVALID_SOCK); }
  explicit operator bool() const { return s_ != SRT_INVALID_SOCK; }
  void reset() {
    if (s_ != SRT_INVALID_SOCK) srt_close(s_);
    s_ = SRT_INVALID_SOCK;
  }

 private:
  SRTSOCKET s_ = SRT_INVALID_SOCK;
};

// An owned SRT epoll id.
class SrtEpoll {
 public:
  SrtEpoll() : eid_(srt_epoll_create()) {
    if (eid_ < 0)
      throw std::runtime_error(std::string("srt_epoll_create: ") + srt_getlasterror_str());
    srt_epoll_set(eid_, SRT_EPOLL_ENABLE_EMPTY);  // an empty set waits instead of failing
  }
  ~SrtEpoll() { srt_epoll_release(eid_); }
  SrtEpoll(const SrtEpoll&) = delete;
  SrtEpoll& operator=(const SrtEpoll&) = delete;
  int get() const { return eid_; }

 private:
  int eid_;
};

constexpr auto kEpollWait = 50ms;  // how quickly stop/pause requests are noticed
constexpr int kMaxReadsPerWakeup = 4096;

bool set_int(SRTSOCKET s, SRT_SOCKOPT opt, int value) {
  return srt_setsockflag(s, opt, &value, sizeof value) == 0;
}

bool set_string(SRTSOCKET s, SRT_SOCKOPT opt, const std::string& value) {
  return srt_setsockflag(s, opt, value.data(), static_cast<int>(value.size())) == 0;
}

// What listener and caller sockets share: latency and encryption.
bool apply_options(SRTSOCKET s, const SrtReceiverOptions& o) {
  return set_int(s, SRTO_LATENCY, o.latency_ms) &&
         (o.pbkeylen == 0 || set_int(s, SRTO_PBKEYLEN, o.pbkeylen)) &&
         (o.passphrase.empty() || set_string(s, SRTO_PASSPHRASE, o.passphrase));
}

sockaddr_in ipv4(const std::string& host, uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  return addr;
}

std::string reject_text(int code) {
  std::string text = std::to_string(code) + " ";
  if (code >= SRT_REJC_PREDEFINED)
    return text + (code == SRT_REJX_FORBIDDEN ? "forbidden" : "rejected by peer");
  return text + srt_rejectreason_str(code);
}

}  // namespace

struct SrtReceiver::Sockets {
  SrtEpoll epoll;
  SrtSocket listener;
  std::vector<SrtSocket> connections;
  std::map<int, std::size_t> segment_of;  // each connection's bytes go to its own segment
  std::chrono::steady_clock::time_point next_attempt{};
};

std::string srt_log_tail(std::size_t max_lines) {
  std::lock_guard lock(g_log_mutex);
  std::string text;
  for (std::size_t i = g_log.size() - std::min(max_lines, g_log.size()); i < g_log.size(); ++i)
    text += g_log[i] + "\n";
  return text;
}

int srt_receiver_listen_hook(void* self, int sock, int, const sockaddr*, const char* streamid) {
  return static_cast<SrtReceiver*>(self)->accept_streamid(sock, streamid) ? 0 : -1;
}

SrtReceiver::SrtReceiver(SrtReceiverOptions options) : options_(std::move(options)) {
  const auto n = options_.passphrase.size();
  if (n != 0 && (n < 10 || n > 79))
    throw std::invalid_argument("SRT passphrase must be 10..79 characters");
  if (options_.port == 0) throw std::invalid_argument("SrtReceiver needs a port");
  in_addr ignored{};
  if (inet_pton(AF_INET, options_.host.c_str(), &ignored) != 1) {
    throw std::invalid_argument("SrtReceiver host must be an IPv4 address: " + options_.host);
  }
  srt_init_once();
  thread_ = std::thread([this] { run(); });
}

SrtReceiver::~SrtReceiver() { stop(); }

void SrtReceiver::stop() {
  stop_ = true;
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool SrtReceiver::pause(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  pause_requested_ = true;
  return cv_.wait_for(lock, timeout, [this] { return paused_; });
}

void SrtReceiver::resume() {
  {
    std::lock_guard lock(mutex_);
    pause_requested_ = false;
  }
  cv_.notify_all();
}

void SrtReceiver::run() {
  Sockets s;
  while (!stop_) {
    {
      std::unique_lock lock(mutex_);
      if (pause_requested_) {
        lock.unlock();
        close_all(s);
        lock.lock();
        paused_ = true;
        cv_.notify_all();
        cv_.wait_for(lock, kEpollWait, [this] { return !pause_requested_ || stop_; });
        if (!pause_requested_) paused_ = false;
        continue;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now >= s.next_attempt) {
      if (options_.mode == SrtReceiverOptions::Mode::caller && s.connections.empty())
        try_connect(s);
      if (options_.mode == SrtReceiverOptions::Mode::listener && !s.listener)
        handle_listener_ready(s);
    }
    std::array<SRT_EPOLL_EVENT, 16> events{};
    int n = srt_epoll_uwait(s.epoll.get(), events.data(), static_cast<int>(events.size()),
                            kEpollWait.count());
    for (int i = 0; i < n; ++i) {
      if (s.listener && events[i].fd == s.listener.get()) {
        handle_listener_ready(s);
      } else {
        drain(s, events[i].fd);
      }
    }
  }
  close_all(s);
}

// Opens the listening socket when there is none, else accepts what is pending.
void SrtReceiver::handle_listener_ready(Sockets& s) {
  if (!s.listener) {
    SrtSocket sock(srt_create_socket());
    sockaddr_in addr = ipv4(options_.host, options_.port);
    const int in_events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
    const bool ok = set_int(sock.get(), SRTO_RCVSYN, 0) && set_int(sock.get(), SRTO_REUSEADDR, 1) &&
                    apply_options(sock.get(), options_) &&
                    srt_bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    srt_listen_callback(sock.get(), &srt_receiver_listen_hook, this) == 0 &&
                    srt_listen(sock.get(), 8) == 0 &&
                    srt_epoll_add_usock(s.epoll.get(), sock.get(), &in_events) == 0;
    if (!ok) {
      set_error("listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                srt_getlasterror_str());
      s.next_attempt = std::chrono::steady_clock::now() + options_.retry_interval;
      return;
    }
    s.listener = std::move(sock);
    return;
  }
  // One accept per readiness event: epoll is level-triggered, and a failed non-blocking
  // srt_accept would print a libsrt error line.
  sockaddr_storage peer{};
  int len = sizeof peer;
  SrtSocket conn(srt_accept(s.listener.get(), reinterpret_cast<sockaddr*>(&peer), &len));
  if (!conn) return;
  if (options_.newest_publisher_only) close_connections(s);  // the older publishers get a goodbye
  add_connection(s, conn.release());
}

void SrtReceiver::try_connect(Sockets& s) {
  s.next_attempt = std::chrono::steady_clock::now() + options_.retry_interval;
  ++connect_attempts_;
  SrtSocket sock(srt_create_socket());
  const bool ok =
      set_int(sock.get(), SRTO_RCVSYN, 1) &&
      set_int(sock.get(), SRTO_CONNTIMEO, static_cast<int>(options_.connect_timeout.count())) &&
      apply_options(sock.get(), options_) &&
      (options_.streamid.empty() || set_string(sock.get(), SRTO_STREAMID, options_.streamid));
  if (!ok) {
    set_error(std::string("caller socket options: ") + srt_getlasterror_str());
    return;
  }
  sockaddr_in addr = ipv4(options_.host, options_.port);
  if (srt_connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == SRT_ERROR) {
    set_reject(srt_getrejectreason(sock.get()), "");
    return;
  }
  set_int(sock.get(), SRTO_RCVSYN, 0);  // non-blocking reads from here on, driven by epoll
  add_connection(s, sock.release());
}

void SrtReceiver::add_connection(Sockets& s, int sock) {
  s.connections.emplace_back(sock);
  const int in_events = SRT_EPOLL_IN | SRT_EPOLL_ERR;
  srt_epoll_add_usock(s.epoll.get(), sock, &in_events);
  open_connections_ = s.connections.size();
  std::lock_guard lock(mutex_);
  s.segment_of[sock] = segments_.size();
  segments_.emplace_back();
  arrivals_.emplace_back();
}

void SrtReceiver::drain(Sockets& s, int sock) {
  std::array<char, 1500> buf{};  // a live-mode message is at most 1456 bytes
  bool broken = false;
  for (int i = 0; i < kMaxReadsPerWakeup; ++i) {
    int n = srt_recvmsg(sock, buf.data(), static_cast<int>(buf.size()));
    if (n > 0) {
      append(s.segment_of[sock], reinterpret_cast<const uint8_t*>(buf.data()), static_cast<std::size_t>(n));
      continue;
    }
    broken = !(n == SRT_ERROR && srt_getlasterror(nullptr) == SRT_EASYNCRCV);
    break;
  }
  if (!broken) {
    SRT_SOCKSTATUS state = srt_getsockstate(sock);
    broken = state == SRTS_BROKEN || state == SRTS_CLOSED || state == SRTS_NONEXIST;
  }
  if (broken) {
    srt_epoll_remove_usock(s.epoll.get(), sock);
    std::erase_if(s.connections, [sock](const SrtSocket& c) { return c.get() == sock; });
    s.segment_of.erase(sock);
    open_connections_ = s.connections.size();
  }
}

void SrtReceiver::close_connections(Sockets& s) {
  for (auto& c : s.connections) srt_epoll_remove_usock(s.epoll.get(), c.get());
  s.connections.clear();
  s.segment_of.clear();
  open_connections_ = 0;
}

void SrtReceiver::close_all(Sockets& s) {
  close_connections(s);
  if (s.listener) {
    srt_epoll_remove_usock(s.epoll.get(), s.listener.get());
    s.listener.reset();
  }
}

bool SrtReceiver::accept_streamid(int sock, const char* streamid) {
  std::string id = streamid ? streamid : "";
  std::lock_guard lock(mutex_);
  last_streamid_ = id;
  if (!options_.reject_other_streamids || id == options_.streamid) return true;
  srt_setrejectreason(sock, SRT_REJX_FORBIDDEN);
  last_reject_code_ = SRT_REJX_FORBIDDEN;
  last_reject_reason_ = reject_text(SRT_REJX_FORBIDDEN) + ": streamid \"" + id + "\" is not \"" +
                        options_.streamid + "\"";
  return false;
}

void SrtReceiver::append(std::size_t segment, const uint8_t* data, std::size_t size) {
  std::lock_guard lock(mutex_);
  byte_count_ += size;
  ++message_count_;
  ++message_sizes_[size];
  if (kept_bytes_ + size > options_.max_bytes || segment >= segments_.size()) return;
  arrivals_[segment].push_back({std::chrono::steady_clock::now(), segments_[segment].size()});
  segments_[segment].insert(segments_[segment].end(), data, data + size);
  kept_bytes_ += size;
}

void SrtReceiver::set_reject(int code, std::string reason) {
  std::lock_guard lock(mutex_);
  last_reject_code_ = code;
  last_reject_reason_ = reason.empty() ? reject_text(code) : std::move(reason);
}

void SrtReceiver::set_error(std::string error) {
  std::lock_guard lock(mutex_);
  last_error_ = std::move(error);
}

std::vector<uint8_t> SrtReceiver::bytes() const {
  std::lock_guard lock(mutex_);
  std::vector<uint8_t> all;
  all.reserve(kept_bytes_);
  for (const auto& seg : segments_) all.insert(all.end(), seg.begin(), seg.end());
  return all;
}

std::vector<uint8_t> SrtReceiver::connection_bytes(std::size_t index) const {
  std::lock_guard lock(mutex_);
  return index < segments_.size() ? segments_[index] : std::vector<uint8_t>{};
}

SrtReceiver::ArrivalGap SrtReceiver::longest_gap(std::size_t connection, std::size_t after) const {
  std::lock_guard lock(mutex_);
  if (connection >= arrivals_.size()) return {};
  const auto& arrivals = arrivals_[connection];
  ArrivalGap gap{segments_[connection].size(), std::chrono::milliseconds(0)};
  auto it = std::lower_bound(arrivals.begin(), arrivals.end(), after,
                             [](const Arrival& a, std::size_t offset) { return a.offset < offset; });
  for (; it != arrivals.end() && std::next(it) != arrivals.end(); ++it) {
    const auto length = std::chrono::duration_cast<std::chrono::milliseconds>(std::next(it)->at - it->at);
    if (length > gap.length) gap = {std::next(it)->offset, length};
  }
  return gap;
}

namespace {
// The first of one connection's arrivals (in arrival order) at or after `from`.
template <class Arrivals>
auto first_at_or_after(const Arrivals& arrivals, std::chrono::steady_clock::time_point from) {
  return std::lower_bound(arrivals.begin(), arrivals.end(), from, [](const auto& a, auto t) { return a.at < t; });
}
}  // namespace

std::chrono::milliseconds SrtReceiver::longest_pause(std::chrono::steady_clock::time_point from,
                                                    std::chrono::steady_clock::time_point to) const {
  std::vector<std::chrono::steady_clock::time_point> at;
  {
    std::lock_guard lock(mutex_);
    for (const auto& arrivals : arrivals_)
      for (auto it = first_at_or_after(arrivals, from); it != arrivals.end() && it->at <= to; ++it)
        at.push_back(it->at);
  }
  std::sort(at.begin(), at.end());
  auto previous = from;
  std::chrono::steady_clock::duration longest{0};
  for (const auto t : at) {
    longest = std::max(longest, t - previous);
    previous = t;
  }
  longest = std::max(longest, to - previous);
  return std::chrono::duration_cast<std::chrono::milliseconds>(longest);
}

std::optional<std::chrono::steady_clock::time_point> SrtReceiver::first_arrival(
    std::chrono::steady_clock::time_point from) const {
  std::lock_guard lock(mutex_);
  std::optional<std::chrono::steady_clock::time_point> first;
  for (const auto& arrivals : arrivals_) {
    const auto it = first_at_or_after(arrivals, from);
    if (it != arrivals.end() && (!first || it->at < *first)) first = it->at;
  }
  return first;
}

void SrtReceiver::clear() {
  std::lock_guard lock(mutex_);
  for (auto& seg : segments_) seg = {};
  for (auto& a : arrivals_) a = {};
  kept_bytes_ = 0;
}

std::size_t SrtReceiver::byte_count() const { return locked(byte_count_); }
std::size_t SrtReceiver::message_count() const { return locked(message_count_); }
std::map<std::size_t, std::size_t> SrtReceiver::message_sizes() const {
  return locked(message_sizes_);
}

std::size_t SrtReceiver::max_message_size() const {
  std::lock_guard lock(mutex_);
  return message_sizes_.empty() ? 0 : message_sizes_.rbegin()->first;
}

std::size_t SrtReceiver::connections() const {
  std::lock_guard lock(mutex_);
  return segments_.size();
}

bool SrtReceiver::connected() const { return open_connections_ > 0; }
std::size_t SrtReceiver::connect_attempts() const { return connect_attempts_; }

int SrtReceiver::last_reject_code() const { return locked(last_reject_code_); }
std::string SrtReceiver::last_reject_reason() const { return locked(last_reject_reason_); }
std::string SrtReceiver::last_streamid() const { return locked(last_streamid_); }
std::string SrtReceiver::last_error() const { return locked(last_error_); }

}  // namespace onair::test
