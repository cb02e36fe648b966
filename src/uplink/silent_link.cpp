// A silent link kept, and the connection dialled beside it.
#include "uplink/silent_link.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace onair::uplink {

SilentLink::SilentLink(const ConnectSettings& settings, int min_ms, int max_ms, std::string log_name)
    : settings_(settings),
      backoff_(std::chrono::milliseconds(min_ms), std::chrono::milliseconds(max_ms)),
      log_name_(std::move(log_name)) {}

void SilentLink::quiet(Clock::time_point now) {
  if (dialling_) return;
  dialling_ = true;
  next_dial_ = now;
  backoff_.reset();
}

void SilentLink::begin(Clock::time_point now) {
  active_ = true;
  since_ = now;
  quiet(now);
}

void SilentLink::end(Clock::time_point now) {
  active_ = false;
  dialling_ = false;
  if (dial_.active()) abandoned_at_ = now;
  dial_.cancel();
}

SrtSocket SilentLink::settle(Clock::time_point deadline) {
  SrtSocket settled;
  LinkFailure failure;
  while (dialling_ && dial_.active()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    const auto progress = dial_.poll(static_cast<int>(std::clamp<int64_t>(left, 0, 25)), &failure);
    if (progress == SrtDial::Progress::connected) settled = dial_.take();
    if (progress != SrtDial::Progress::pending || left <= 0) break;
  }
  end();
  return settled;
}

int64_t SilentLink::silent_ms(Clock::time_point now) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - since_).count();
}

SrtSocket SilentLink::redial(Clock::time_point now) {
  if (!dialling_) return {};
  LinkFailure failure;
  if (!dial_.active()) {
    if (now < next_dial_) return {};
    if (!dial_.start(settings_, &failure)) {
      next_dial_ = now + backoff_.after_refusal();
      spdlog::warn("{}: {}", log_name_, failure.reason);
      return {};
    }
  }
  switch (dial_.poll(0, &failure)) {
    case SrtDial::Progress::connected: return dial_.take();
    case SrtDial::Progress::failed:
      // Nobody answered: the handshake itself kept probing, go again. Anything else backs off
      // from the same short delay, as a first connection does: libsrt can fail a handshake
      // under way as the ingest starts listening ("Unknown or erroneous", seen on loopback,
      // test_uplink_links), and a flat wait of reconnect_max_ms there kept the stream away
      // for 5 s after the ingest was back.
      next_dial_ = now + (failure.unanswered ? backoff_.after_silence() : backoff_.after_refusal());
      spdlog::debug("{}: redial while silent: {}", log_name_, failure.reason);
      return {};
    case SrtDial::Progress::pending: return {};
  }
  return {};
}

}  // namespace onair::uplink
