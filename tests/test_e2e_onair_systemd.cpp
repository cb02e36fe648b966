// systemd's notify protocol against the real build/onair: the test plays systemd's part on a
// real AF_UNIX datagram socket (NOTIFY_SOCKET), as PID 1 would under Type=notify.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/onair_instance.hpp"
#include "support/ports.hpp"
#include "support/srt_peer.hpp"

using namespace onair::test;

namespace {

// The notify socket systemd would own: collects every datagram onair sends.
class NotifySocket {
 public:
  NotifySocket() {
    path_ = (std::filesystem::temp_directory_path() / ("onair-notify-" + std::to_string(getpid()))).string();
    std::filesystem::remove(path_);
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path_.copy(addr.sun_path, sizeof(addr.sun_path) - 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  }
  ~NotifySocket() {
    ::close(fd_);
    std::filesystem::remove(path_);
  }
  const std::string& path() const { return path_; }
  // Reads everything that arrived so far.
  void drain() {
    char buf[4096];
    for (int i = 0; i < 1000; ++i) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return;
      messages_.emplace_back(buf, static_cast<size_t>(n));
    }
  }
  size_t count(const std::string& field) {
    drain();
    size_t n = 0;
    for (const auto& m : messages_) n += m.find(field) != std::string::npos;
    return n;
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace

TEST_CASE("READY only once serving and playing, WATCHDOG while frames flow, STOPPING on SIGTERM") {
  NotifySocket systemd;
  const uint16_t port = free_udp_port();
  SrtReceiver ingest({.mode = SrtReceiverOptions::Mode::listener, .port = port});
  OnairSettings settings;
  settings.destinations = "    - { name: ingest, url: \"srt://127.0.0.1:" + std::to_string(port) + "?mode=caller&latency=120\" }";
  settings.env = {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "2000000"}};
  OnairInstance onair(settings);
  REQUIRE_MESSAGE(wait_until([&] { return systemd.count("READY=1") == 1; }, 10s), onair.log());
  CHECK(onair.status()["program"]["playing"] == true);  // READY came after the program played
  CHECK(wait_until([&] { return systemd.count("WATCHDOG=1") >= 3; }, 10s));
  CHECK(systemd.count("STATUS=") >= 1);
  REQUIRE(onair.process().signal(SIGTERM));
  CHECK(onair.process().wait_exit(8s) == 0);
  CHECK(systemd.count("STOPPING=1") == 1);
  CHECK(systemd.count("READY=1") == 1);  // never twice
}

TEST_CASE("the shipped unit is a valid Type=notify unit with a watchdog and hardening") {
  const std::string unit = std::string(ONAIR_SOURCE_DIR) + "/systemd/onair.service";
  std::ifstream in(unit);
  REQUIRE(in);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* line : {"Type=notify", "WatchdogSec=", "Restart=always", "NoNewPrivileges=yes", "ProtectSystem=strict",
                           "SupplementaryGroups=video render", "ExecStart=/usr/local/bin/onair --config /etc/onair/onair.yaml"}) {
    CAPTURE(line);
    CHECK(text.find(line) != std::string::npos);
  }
  if (std::filesystem::exists("/usr/bin/systemd-analyze")) {
    // systemd's own parser: no unknown keys or bad values (missing binary/user on this box are fine).
    ChildProcess verify({"systemd-analyze", "verify", "--man=no", unit});
    REQUIRE(verify.wait_exit(30s).has_value());
    const std::string out = verify.log_text();
    INFO(out);
    CHECK(out.find("Unknown key") == std::string::npos);
    CHECK(out.find("Failed to parse") == std::string::npos);
    CHECK(out.find("Invalid") == std::string::npos);
  }
}
