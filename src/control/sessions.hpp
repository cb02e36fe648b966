// Who is logged in (panel session cookies) and who keeps guessing (failed logins per address).
// Pure bookkeeping: time comes in as an argument, so tests need no clock and no sleeps.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace onair::control {

using Clock = std::chrono::steady_clock;

enum class Role { none, read, control };
const char* to_string(Role role);

// Session ids are 256 random bits (getrandom), hex. A lookup compares the given id with every
// stored one in constant time, so the answer's timing says nothing about how close a guess was.
class SessionStore {
 public:
  SessionStore(std::chrono::seconds ttl, size_t max_sessions);

  std::string create(Role role, Clock::time_point now);  // evicts the oldest when full
  Role find(std::string_view id, Clock::time_point now);  // none when unknown or expired
  void erase(std::string_view id);
  size_t size() const { return sessions_.size(); }

 private:
  struct Session {
    std::string id;
    Role role = Role::none;
    Clock::time_point expires;
  };
  std::chrono::seconds ttl_;
  size_t max_sessions_;
  std::vector<Session> sessions_;  // oldest first
};

// After `max_failures` failed attempts from one address within `window`, that address is
// refused until the window that began with its first failure is over. Bounded memory.
class LoginLimiter {
 public:
  LoginLimiter(int max_failures, std::chrono::seconds window, size_t max_addresses = 4096);

  // Seconds the address must still wait (rounded up), 0 when it may try.
  int blocked_for(const std::string& address, Clock::time_point now);
  void failed(const std::string& address, Clock::time_point now);
  void succeeded(const std::string& address) { entries_.erase(address); }

 private:
  struct Entry {
    int failures = 0;
    Clock::time_point window_start;
  };
  int max_failures_;
  std::chrono::seconds window_;
  size_t max_addresses_;
  std::unordered_map<std::string, Entry> entries_;
};

// 32 random bytes as 64 hex characters (getrandom). Throws std::runtime_error if the kernel
// has no randomness to give.
std::string random_hex_id();

}  // namespace onair::control
