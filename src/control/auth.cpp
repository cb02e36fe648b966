#include "control/auth.hpp"

#include <algorithm>
#include <cctype>
#include <spdlog/spdlog.h>

namespace onair::control {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(" \t") - first + 1);
}

// The credentials of "Bearer <token>" (scheme case-insensitive), or nullopt for any other scheme.
std::optional<std::string_view> bearer_credentials(std::string_view header) {
  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      header[scheme.size()] != ' ') {
    return std::nullopt;
  }
  const auto token = trim(header.substr(scheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

StringResponse unauthorized(std::string_view message) {
  auto res = error_response(http::status::unauthorized, message);
  res.set(http::field::www_authenticate, "Bearer realm=\"onair\"");
  return res;
}

std::string session_cookie(std::string_view value, std::chrono::seconds max_age, bool tls) {
  return std::string(kSessionCookie) + "=" + std::string(value) + "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
         std::to_string(max_age.count()) + (tls ? "; Secure" : "");
}

}  // namespace

bool constant_time_equal(std::string_view a, std::string_view b) {
  // volatile keeps the compiler from turning the loop into an early-exit comparison.
  volatile unsigned char diff = a.size() == b.size() ? 0 : 1;
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

std::optional<std::string_view> cookie_value(const Request& req, std::string_view name) {
  for (auto it = req.find(http::field::cookie); it != req.end() && it->name() == http::field::cookie; ++it) {
    std::string_view rest = to_sv(it->value());
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      const auto pair = trim(rest.substr(0, semi));
      rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
      const auto eq = pair.find('=');
      if (eq != std::string_view::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
    }
  }
  return std::nullopt;
}

Authenticator::Authenticator(AuthOptions options)
    : options_(std::move(options)),
      sessions_(options_.session_ttl, options_.max_sessions),
      limiter_(options_.max_failures, options_.failure_window) {}

Role Authenticator::role_of_token(std::string_view token) const {
  // Both comparisons always run, so timing does not tell which token was close.
  const bool control = !options_.token.empty() && constant_time_equal(token, options_.token);
  const bool read = !options_.read_token.empty() && constant_time_equal(token, options_.read_token);
  return control ? Role::control : read ? Role::read : Role::none;
}

std::optional<StringResponse> Authenticator::locked_out(const RequestContext& ctx, Clock::time_point now) {
  const int wait = limiter_.blocked_for(ctx.address, now);
  if (wait == 0) return std::nullopt;
  auto res = error_response(http::status::too_many_requests,
                            "too many failed attempts from this address; retry in " + std::to_string(wait) + " s");
  res.set(http::field::retry_after, std::to_string(wait));
  return res;
}

void Authenticator::count_failure(const RequestContext& ctx, Clock::time_point now, std::string_view what) {
  limiter_.failed(ctx.address, now);
  spdlog::warn("control: {} {} with a wrong token", ctx.peer, what);
}

std::optional<StringResponse> Authenticator::identify(const Request& req, RequestContext& ctx, Clock::time_point now) {
  ctx.role = Role::none;
  ctx.via.clear();
  const auto header = req.find(http::field::authorization);
  if (header != req.end()) {
    if (auto refused = locked_out(ctx, now)) return refused;
    const auto token = bearer_credentials(to_sv(header->value()));
    if (!token) return std::nullopt;  // another scheme: as if absent, the route's rule answers 401
    ctx.role = role_of_token(*token);
    if (ctx.role == Role::none) {
      count_failure(ctx, now, "sent a request");
      return error_response(http::status::forbidden, "invalid token");
    }
    ctx.via = "bearer";
    return std::nullopt;
  }
  if (const auto id = cookie_value(req, kSessionCookie)) {
    ctx.role = sessions_.find(*id, now);
    if (ctx.role != Role::none) ctx.via = "cookie";
  }
  return std::nullopt;
}

std::optional<StringResponse> Authenticator::require(Role needed, const RequestContext& ctx) const {
  if (needed == Role::none || ctx.role >= needed) return std::nullopt;
  if (needed == Role::control && options_.token.empty()) {
    return error_response(http::status::forbidden, "control.token is not configured");
  }
  if (ctx.role == Role::none) return unauthorized("authentication required: log in or send Authorization: Bearer <token>");
  return error_response(http::status::forbidden, "read-only access: this call needs the control token");
}

StringResponse Authenticator::login(const Request& req, const RequestContext& ctx, Clock::time_point now) {
  if (auto refused = locked_out(ctx, now)) return std::move(*refused);
  nlohmann::json body;
  nlohmann::json::const_iterator token;
  if (auto error = json_field(req, "token", body, token, true)) return std::move(*error);
  if (!token->is_string()) return error_response(http::status::bad_request, "field \"token\" must be a string");
  const Role role = role_of_token(token->get_ref<const std::string&>());
  if (role == Role::none) {
    count_failure(ctx, now, "tried to log in");
    return unauthorized("invalid token");
  }
  limiter_.succeeded(ctx.address);
  const auto id = sessions_.create(role, now);
  spdlog::info("control: {} logged in ({})", ctx.peer, to_string(role));
  auto res = json_response(http::status::ok, {{"role", to_string(role)}});
  res.set(http::field::set_cookie, session_cookie(id, options_.session_ttl, ctx.tls));
  return res;
}

StringResponse Authenticator::logout(const Request& req, const RequestContext& ctx) {
  if (const auto id = cookie_value(req, kSessionCookie)) sessions_.erase(*id);
  if (ctx.via == "cookie") spdlog::info("control: {} logged out", ctx.peer);
  auto res = json_response(http::status::ok, {{"role", "none"}});
  res.set(http::field::set_cookie, session_cookie("", std::chrono::seconds{0}, ctx.tls));
  return res;
}

StringResponse Authenticator::session(const RequestContext& ctx) const {
  if (ctx.role == Role::none) return unauthorized("not logged in");
  return json_response(http::status::ok, {{"role", to_string(ctx.role)}, {"via", ctx.via}});
}

}  // namespace onair::control
