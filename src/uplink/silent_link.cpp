// A silent link kept, and the connection dialled beside it.
#include "uplink/silent_link.hpp"

#include <spdlog/spdlog.h>

namespace onair::uplink {

SilentLink::SilentLink(const ConnectSettings& settings, int retry_ms, int refused_ms, std::string log_name)
    : settings_(settings), retry_(retry_ms), refused_(refused_ms), log_name_(std::move(log_name)) {}

void SilentLink::begin(Clock::time_point now) {
  active_ = true;
  since_ = now;
  next_dial_ = now;
}

void SilentLink::end() {
  active_ = false;
  dial_.cancel();
}

int64_t SilentLink::silent_ms(Clock::time_point now) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since_).count();
}

SrtSocket SilentLink::redial(Clock::time_point now) {
  LinkFailure failure;
  if (!dial_.active()) {
    if (now < next_dial_) return {};
    if (!dial_.start(settings_, &failure)) {
      next_dial_ = now + refused_;
      spdlog::warn("{}: {}", log_name_, failure.reason);
      return {};
    }
  }
  switch (dial_.poll(0, &failure)) {
    case SrtDial::Progress::connected: return dial_.take();
    case SrtDial::Progress::failed:
      // Nobody answered: the handshake itself kept probing, go again; a refusal waits longer.
      next_dial_ = now + (failure.unanswered ? retry_ : refused_);
      spdlog::debug("{}: redial while silent: {}", log_name_, failure.reason);
      return {};
    case SrtDial::Progress::pending: return {};
  }
  return {};
}

}  // namespace onair::uplink
