#include "support/ports.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <stdexcept>

namespace onair::test {
namespace {

constexpr int kLowestPort = 20000;  // above well-known service ports people run locally
constexpr int kMaxTries = 500;

// First port of the kernel's automatic (ephemeral) range: we stay below it.
int ephemeral_low() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  in >> low;
  return low > kLowestPort + 1000 ? low : 32768;
}

bool can_bind(int type, uint16_t port) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

uint16_t pick_port(int type) {
  static std::mutex mutex;
  static std::set<uint16_t> handed_out;
  // Seeded per process so parallel test executables pick different sequences.
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  static const int high = ephemeral_low() - 1;
  std::lock_guard lock(mutex);
  std::uniform_int_distribution<int> dist(kLowestPort, high);
  for (int i = 0; i < kMaxTries; ++i) {
    auto port = static_cast<uint16_t>(dist(rng));
    if (handed_out.contains(port) || !can_bind(type, port)) continue;
    handed_out.insert(port);
    return port;
  }
  throw std::runtime_error("no free loopback port found");
}

}  // namespace

uint16_t free_udp_port() { return pick_port(SOCK_DGRAM); }
uint16_t free_tcp_port() { return pick_port(SOCK_STREAM); }

}  // namespace onair::test
