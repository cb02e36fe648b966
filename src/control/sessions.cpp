#include "control/sessions.hpp"

#include <sys/random.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "control/auth.hpp"

namespace onair::control {

const char* to_string(Role role) {
  switch (role) {
    case Role::none: return "none";
    case Role::read: return "read";
    case Role::control: return "control";
  }
  return "?";
}

std::string random_hex_id() {
  std::array<unsigned char, 32> bytes{};
  size_t got = 0;
  for (int attempt = 0; attempt < 8 && got < bytes.size(); ++attempt) {
    const auto n = ::getrandom(bytes.data() + got, bytes.size() - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
    else if (errno != EINTR) break;
  }
  if (got < bytes.size()) {
    throw std::runtime_error(std::string("control: getrandom failed: ") + std::strerror(errno));
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const auto b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

SessionStore::SessionStore(std::chrono::seconds ttl, size_t max_sessions)
    : ttl_(ttl), max_sessions_(std::max<size_t>(1, max_sessions)) {}

std::string SessionStore::create(Role role, Clock::time_point now) {
  std::erase_if(sessions_, [&](const Session& s) { return s.expires <= now; });
  while (sessions_.size() >= max_sessions_) sessions_.erase(sessions_.begin());
  sessions_.push_back({random_hex_id(), role, now + ttl_});
  return sessions_.back().id;
}

Role SessionStore::find(std::string_view id, Clock::time_point now) {
  Role found = Role::none;
  // Every entry is compared, match or not: no early exit to time.
  for (auto& s : sessions_) {
    const bool match = constant_time_equal(id, s.id);
    if (match && s.expires > now) {
      found = s.role;
      s.expires = now + ttl_;  // sliding: a panel left open stays logged in
    }
  }
  return found;
}

void SessionStore::erase(std::string_view id) {
  std::erase_if(sessions_, [&](const Session& s) { return constant_time_equal(id, s.id); });
}

LoginLimiter::LoginLimiter(int max_failures, std::chrono::seconds window, size_t max_addresses)
    : max_failures_(std::max(1, max_failures)), window_(window), max_addresses_(std::max<size_t>(1, max_addresses)) {}

int LoginLimiter::blocked_for(const std::string& address, Clock::time_point now) {
  const auto it = entries_.find(address);
  if (it == entries_.end()) return 0;
  const auto ends = it->second.window_start + window_;
  if (now >= ends) {
    entries_.erase(it);
    return 0;
  }
  if (it->second.failures < max_failures_) return 0;
  const auto left = std::chrono::ceil<std::chrono::seconds>(ends - now).count();
  return static_cast<int>(std::max<int64_t>(1, left));
}

void LoginLimiter::failed(const std::string& address, Clock::time_point now) {
  auto it = entries_.find(address);
  if (it != entries_.end() && now >= it->second.window_start + window_) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= max_addresses_) {
      std::erase_if(entries_, [&](const auto& e) { return now >= e.second.window_start + window_; });
      // Still full: a flood of addresses; forget the oldest rather than grow without bound.
      if (entries_.size() >= max_addresses_) {
        entries_.erase(std::min_element(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
          return a.second.window_start < b.second.window_start;
        }));
      }
    }
    it = entries_.emplace(address, Entry{0, now}).first;
  }
  ++it->second.failures;
}

}  // namespace onair::control
