// build/onair-impair (the impairment relay) as a child process for end-to-end tests, with its
// control socket: set impairments, black the link out, read its counters. Loopback only.
#pragma once

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace onair::test {

inline const std::string kImpairBinary = std::string(ONAIR_BUILD_DIR) + "/onair-impair";

// One UDP socket on 127.0.0.1 (any port), closed on destruction.
class LoopbackUdp {
 public:
  LoopbackUdp() : fd_(::socket(AF_INET, SOCK_DGRAM, 0)) {
    sockaddr_in a = address(0);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("cannot bind a loopback UDP socket");
    const int buffer = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  }
  ~LoopbackUdp() { ::close(fd_); }
  LoopbackUdp(const LoopbackUdp&) = delete;
  LoopbackUdp& operator=(const LoopbackUdp&) = delete;

  static sockaddr_in address(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }
  uint16_t port() const {
    sockaddr_in a{};
    socklen_t length = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &length);
    return ntohs(a.sin_port);
  }
  void send_to(uint16_t port, const std::string& bytes) const {
    const sockaddr_in a = address(port);
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<const sockaddr*>(&a), sizeof a);
  }
  // One datagram within timeout_ms, or nullopt-like empty optional.
  std::optional<std::string> receive(int timeout_ms, uint16_t* from_port = nullptr) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
    char buffer[65536];
    sockaddr_in from{};
    socklen_t length = sizeof from;
    const ssize_t n = ::recvfrom(fd_, buffer, sizeof buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n < 0) return std::nullopt;
    if (from_port) *from_port = ntohs(from.sin_port);
    return std::string(buffer, size_t(n));
  }

 private:
  int fd_;
};

class ImpairRelay {
 public:
  // Relays 127.0.0.1:port() → 127.0.0.1:target_port with `args` (settings, --schedule, ...).
  explicit ImpairRelay(uint16_t target_port, std::vector<std::string> args = {}) {
    std::vector<std::string> argv = {kImpairBinary, "--target", std::to_string(target_port)};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<ChildProcess>(argv);
    const std::regex first_line(R"(listen=127\.0\.0\.1:(\d+) target=\S+ control=127\.0\.0\.1:(\d+))");
    std::smatch match;
    const bool up = wait_until([&] {
      const std::string log = process_->log_text();
      return std::regex_search(log, match, first_line) || !process_->running();
    }, 5s);
    if (!up || match.size() != 3)
      throw std::runtime_error("onair-impair did not start; log:\n" + process_->log_text());
    port_ = static_cast<uint16_t>(std::stoi(match[1]));
    control_port_ = static_cast<uint16_t>(std::stoi(match[2]));
  }

  uint16_t port() const { return port_; }
  ChildProcess& process() { return *process_; }
  std::string log() const { return process_->log_text(); }

  // Sends one control command and returns the answer ("" when none came within 2 s).
  std::string command(const std::string& text) {
    control_.send_to(control_port_, text);
    return control_.receive(2000).value_or("");
  }
  nlohmann::json stats() { return nlohmann::json::parse(command("stats")); }

 private:
  std::unique_ptr<ChildProcess> process_;
  LoopbackUdp control_;
  uint16_t port_ = 0;
  uint16_t control_port_ = 0;
};

}  // namespace onair::test
