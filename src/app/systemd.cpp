#include "app/systemd.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstdlib>

namespace onair::app {

SystemdNotifier::SystemdNotifier() {
  enabled_ = std::getenv("NOTIFY_SOCKET") != nullptr;
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0) watchdog_us_ = usec;
  if (enabled_) spdlog::info("systemd: notify socket found, watchdog {} ms", watchdog_us_ / 1000);
}

void SystemdNotifier::ready(const std::string& status) {
  if (!enabled_ || ready_sent_) return;
  ready_sent_ = true;
  sd_notifyf(0, "READY=1\nSTATUS=%s", status.c_str());
  last_status_ = status;
  spdlog::info("systemd: READY=1 ({})", status);
}

void SystemdNotifier::status(const std::string& status) {
  if (!enabled_ || status == last_status_) return;
  last_status_ = status;
  sd_notifyf(0, "STATUS=%s", status.c_str());
}

void SystemdNotifier::watchdog() {
  if (enabled_ && watchdog_us_) sd_notify(0, "WATCHDOG=1");
}

void SystemdNotifier::stopping() {
  if (enabled_) sd_notify(0, "STOPPING=1");
}

}  // namespace onair::app
