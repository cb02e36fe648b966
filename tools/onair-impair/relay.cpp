// The relay's sockets and event loop: ppoll on every socket and a signalfd, deliveries from a
// time-ordered heap; everything bounded (clients, packets in flight, each wait).
#include "relay.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <queue>

namespace onair::impair {
namespace {

constexpr size_t kMaxClients = 16;
constexpr size_t kMaxInFlight = 20'000;  // packets held for later delivery, both ways
constexpr Ms kClientIdleMs = 60'000;
constexpr int kMaxReadsPerWake = 256;
constexpr Ms kMaxWaitMs = 50;

using Clock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

sockaddr_in loopback(uint16_t port, in_addr host = {htonl(INADDR_LOOPBACK)}) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr = host;
  return a;
}

Fd udp_socket(uint16_t port, uint16_t* bound_port) {
  Fd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a = loopback(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
    throw std::runtime_error(fmt::format("cannot bind 127.0.0.1:{}: {}", port, std::strerror(errno)));
  socklen_t length = sizeof a;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &length);
  if (bound_port) *bound_port = ntohs(a.sin_port);
  const int buffer = 4 << 20;  // bursts of a 20 Mbit/s stream fit
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
  return fd;
}

struct Client {
  sockaddr_in address{};
  Fd back;  // connected to the target
  Ms last_seen = 0;
};

struct Pending {
  Ms at;
  uint64_t order;
  bool upstream;
  size_t client;
  std::vector<uint8_t> bytes;
  bool operator>(const Pending& other) const { return at != other.at ? at > other.at : order > other.order; }
};

nlohmann::json counters_json(const PathCounters& c) {
  return {{"packets_in", c.packets_in},           {"bytes_in", c.bytes_in},
          {"delivered", c.delivered},             {"bytes_delivered", c.bytes_delivered},
          {"lost_random", c.lost_random},         {"lost_burst", c.lost_burst},
          {"dropped_queue", c.dropped_queue},     {"dropped_blackout", c.dropped_blackout},
          {"dropped_overflow", c.dropped_overflow}};
}

class Relay {
 public:
  explicit Relay(const RelayOptions& options)
      : options_(options), settings_(options.initial), up_(true, options.seed), down_(false, options.seed + 1),
        schedule_(options.schedule), started_(Clock::now()) {
    front_ = udp_socket(options.listen_port, &listen_port_);
    control_ = udp_socket(options.control_port, &control_port_);
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    sigprocmask(SIG_BLOCK, &signals, nullptr);  // they arrive through the signalfd instead
    signal_fd_ = Fd(::signalfd(-1, &signals, SFD_NONBLOCK | SFD_CLOEXEC));
  }

  int run() {
    char target_text[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &options_.target, target_text, sizeof target_text);
    fmt::print("listen=127.0.0.1:{} target={}:{} control=127.0.0.1:{}\n", listen_port_, target_text,
               options_.target_port, control_port_);
    fmt::print("t=0.0s {}\n", describe(settings_, 0));
    std::fflush(stdout);
    while (!quit_) {
      const Ms now = elapsed();
      if (options_.duration_s > 0 && now >= options_.duration_s * 1000) break;
      run_schedule(now);
      deliver_due(now);
      wait_and_read(now);
    }
    fmt::print("final {}\n", stats_json().dump());
    std::fflush(stdout);
    return 0;
  }

 private:
  Ms elapsed() const { return std::chrono::duration<double, std::milli>(Clock::now() - started_).count(); }

  void run_schedule(Ms now) {
    while (next_step_ < schedule_.size() && now - schedule_start_ >= schedule_[next_step_].at_ms) {
      apply_words(schedule_[next_step_].words, settings_, now);  // validated when parsed
      fmt::print("t={:.1f}s {}\n", now / 1000, describe(settings_, now));
      std::fflush(stdout);
      ++next_step_;
    }
  }

  void wait_and_read(Ms now) {
    Ms wait = kMaxWaitMs;
    if (!pending_.empty()) wait = std::min(wait, std::max(0.0, pending_.top().at - now));
    if (next_step_ < schedule_.size())
      wait = std::min(wait, std::max(0.0, schedule_start_ + schedule_[next_step_].at_ms - now));
    std::vector<pollfd> fds = {{front_.get(), POLLIN, 0}, {control_.get(), POLLIN, 0}, {signal_fd_.get(), POLLIN, 0}};
    for (const Client& c : clients_) fds.push_back({c.back.get(), POLLIN, 0});
    const timespec timeout{0, static_cast<long>(wait * 1e6)};
    if (::ppoll(fds.data(), fds.size(), &timeout, nullptr) <= 0) return;
    if (fds[2].revents & POLLIN) quit_ = true;
    if (fds[0].revents & POLLIN) read_front();
    if (fds[1].revents & POLLIN) read_control();
    for (size_t i = 3; i < fds.size(); ++i)
      if (fds[i].revents & POLLIN) read_back(i - 3);
  }

  void read_front() {
    uint8_t buffer[2048];
    for (int i = 0; i < kMaxReadsPerWake; ++i) {
      sockaddr_in from{};
      socklen_t length = sizeof from;
      const ssize_t n = ::recvfrom(front_.get(), buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
      if (n <= 0) return;
      const Ms now = elapsed();
      const size_t client = client_for(from, now);
      if (client == kMaxClients) continue;  // table full: a stranger's packet is dropped
      enqueue(up_, true, client, buffer, size_t(n), now);
    }
  }

  void read_back(size_t client) {
    uint8_t buffer[2048];
    for (int i = 0; i < kMaxReadsPerWake && client < clients_.size(); ++i) {
      const ssize_t n = ::recv(clients_[client].back.get(), buffer, sizeof buffer, 0);
      if (n <= 0) return;
      enqueue(down_, false, client, buffer, size_t(n), elapsed());
    }
  }

  size_t client_for(const sockaddr_in& from, Ms now) {
    for (size_t i = 0; i < clients_.size(); ++i) {
      if (clients_[i].address.sin_port == from.sin_port && clients_[i].address.sin_addr.s_addr == from.sin_addr.s_addr) {
        clients_[i].last_seen = now;
        return i;
      }
    }
    // Forget idle clients before refusing a new one (indices in flight stay valid: only the tail moves).
    while (!clients_.empty() && now - clients_.back().last_seen > kClientIdleMs) clients_.pop_back();
    if (clients_.size() >= kMaxClients) return kMaxClients;
    Client c;
    c.address = from;
    c.last_seen = now;
    c.back = udp_socket(0, nullptr);
    const sockaddr_in target = loopback(options_.target_port, options_.target);
    if (::connect(c.back.get(), reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) return kMaxClients;
    clients_.push_back(std::move(c));
    return clients_.size() - 1;
  }

  void enqueue(Path& path, bool upstream, size_t client, const uint8_t* data, size_t size, Ms now) {
    const auto at = path.admit(size, now, settings_);
    if (!at) return;
    if (pending_.size() >= kMaxInFlight) {
      path.count_overflow();
      return;
    }
    pending_.push({*at, order_++, upstream, client, std::vector<uint8_t>(data, data + size)});
  }

  void deliver_due(Ms now) {
    while (!pending_.empty() && pending_.top().at <= now) {
      const Pending& p = pending_.top();
      Path& path = p.upstream ? up_ : down_;
      if (p.client < clients_.size() && path.deliverable(p.bytes.size(), now, settings_)) {
        const Client& c = clients_[p.client];
        if (p.upstream)
          ::send(c.back.get(), p.bytes.data(), p.bytes.size(), 0);
        else
          ::sendto(front_.get(), p.bytes.data(), p.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&c.address),
                   sizeof c.address);
      }
      pending_.pop();
    }
  }

  void read_control() {
    char buffer[8192];
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n = ::recvfrom(control_.get(), buffer, sizeof buffer - 1, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n <= 0) return;
    const std::string reply = command(std::string(buffer, size_t(n)));
    ::sendto(control_.get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), length);
  }

  std::string command(const std::string& text) {
    const Ms now = elapsed();
    std::vector<std::string> words = split_words(text);
    if (words.empty()) return "error: empty command";
    const std::string verb = words.front();
    words.erase(words.begin());
    if (verb == "stats") return stats_json().dump();
    if (verb == "blackout" && words.size() == 1) words = {"blackout=" + words[0]};
    if (verb == "set" || verb == "blackout") {
      if (std::string problem = apply_words(words, settings_, now); !problem.empty()) return "error: " + problem;
      fmt::print("t={:.1f}s {}\n", now / 1000, describe(settings_, now));
      std::fflush(stdout);
      return "ok";
    }
    if (verb == "schedule") {
      std::string error;
      auto steps = parse_schedule(text.substr(text.find("schedule") + 8), &error);
      if (!steps) return "error: " + error;
      schedule_ = std::move(*steps);
      schedule_start_ = now;
      next_step_ = 0;
      run_schedule(now);
      return "ok";
    }
    return "error: unknown command \"" + verb + "\" (expected set, blackout, schedule or stats)";
  }

  nlohmann::json stats_json() const {
    const Ms now = elapsed();
    return {{"t_s", now / 1000}, {"settings", describe(settings_, now)}, {"clients", clients_.size()},
            {"up", counters_json(up_.counters())}, {"down", counters_json(down_.counters())}};
  }

  const RelayOptions options_;
  Settings settings_;
  Path up_;
  Path down_;
  std::vector<Step> schedule_;
  Ms schedule_start_ = 0;
  size_t next_step_ = 0;
  Clock::time_point started_;
  Fd front_;
  Fd control_;
  Fd signal_fd_;
  uint16_t listen_port_ = 0;
  uint16_t control_port_ = 0;
  std::vector<Client> clients_;
  std::priority_queue<Pending, std::vector<Pending>, std::greater<>> pending_;
  uint64_t order_ = 0;
  bool quit_ = false;
};

}  // namespace

int run_relay(const RelayOptions& options) {
  try {
    Relay relay(options);
    return relay.run();
  } catch (const std::exception& e) {
    fmt::print(stderr, "onair-impair: {}\n", e.what());
    return 1;
  }
}

}  // namespace onair::impair
