// sd_notify for Type=notify: READY once the control plane is up and the program plays;
// WATCHDOG only while frames really flow, so systemd restarts a wedged process too.
#pragma once

#include <cstdint>
#include <string>

namespace onair::app {

class SystemdNotifier {
 public:
  SystemdNotifier();
  bool enabled() const { return enabled_; }  // started by systemd with NOTIFY_SOCKET
  uint64_t watchdog_interval_us() const { return watchdog_us_; }
  void ready(const std::string& status);
  void status(const std::string& status);
  void watchdog();
  void stopping();

 private:
  bool enabled_ = false;
  bool ready_sent_ = false;
  uint64_t watchdog_us_ = 0;
  std::string last_status_;
};

}  // namespace onair::app
