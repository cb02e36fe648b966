// Who may do what: the control token (everything), the optional read-only token (look, never
// change), panel sessions from POST /api/v1/login (an HttpOnly cookie), and the limiter that
// slows down whoever keeps guessing. Tokens are compared in constant time and never echoed or
// logged. Lives on the io thread.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "control/http_types.hpp"
#include "control/sessions.hpp"

namespace onair::control {

// True when a == b; the time taken depends only on the lengths, never on where they differ.
bool constant_time_equal(std::string_view a, std::string_view b);

inline constexpr std::string_view kSessionCookie = "onair_session";

struct AuthOptions {
  std::string token;       // control; empty = every change refused
  std::string read_token;  // optional read-only token
  int max_failures = 10;   // failed attempts per address per window before 429
  std::chrono::seconds failure_window{60};
  std::chrono::seconds session_ttl{12 * 3600};
  size_t max_sessions = 256;
};

class Authenticator {
 public:
  explicit Authenticator(AuthOptions options);

  // Sets ctx.role and ctx.via from "Authorization: Bearer" (it wins when present) or else the
  // session cookie. Returns the answer to send instead: 429 while the client's address is locked
  // out, 403 for a wrong bearer token (counted as a failure).
  std::optional<StringResponse> identify(const Request& req, RequestContext& ctx, Clock::time_point now);
  // nullopt when ctx.role suffices for `needed`; else 401 (nobody) or 403 (read-only, or no token configured).
  std::optional<StringResponse> require(Role needed, const RequestContext& ctx) const;

  StringResponse login(const Request& req, const RequestContext& ctx, Clock::time_point now);  // POST /api/v1/login
  StringResponse logout(const Request& req, const RequestContext& ctx);                        // POST /api/v1/logout
  StringResponse session(const RequestContext& ctx) const;                                     // GET /api/v1/session

 private:
  Role role_of_token(std::string_view token) const;
  std::optional<StringResponse> locked_out(const RequestContext& ctx, Clock::time_point now);
  void count_failure(const RequestContext& ctx, Clock::time_point now, std::string_view what);

  AuthOptions options_;
  SessionStore sessions_;
  LoginLimiter limiter_;
};

// The value of cookie `name` in the request's Cookie header(s), if any.
std::optional<std::string_view> cookie_value(const Request& req, std::string_view name);

}  // namespace onair::control
