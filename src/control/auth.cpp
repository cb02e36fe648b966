#include "control/auth.hpp"

#include <algorithm>
#include <cctype>

namespace onair::control {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// The credentials of "Bearer <token>" (scheme case-insensitive), or nullopt for any other scheme.
std::optional<std::string_view> bearer_credentials(std::string_view header) {
  constexpr std::string_view scheme = "bearer";
  if (header.size() <= scheme.size() || !iequals(header.substr(0, scheme.size()), scheme) ||
      header[scheme.size()] != ' ') {
    return std::nullopt;
  }
  auto token = header.substr(scheme.size());
  const auto first = token.find_first_not_of(' ');
  if (first == std::string_view::npos) return std::nullopt;
  token = token.substr(first);
  return token.substr(0, token.find_last_not_of(" \t") + 1);
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

BearerAuth::BearerAuth(std::string token) : token_(std::move(token)) {}

std::optional<StringResponse> BearerAuth::check(const Request& req) const {
  if (token_.empty()) {
    return error_response(http::status::forbidden, "control.token is not configured");
  }
  const auto header = req.find(http::field::authorization);
  const auto token = header == req.end() ? std::nullopt : bearer_credentials(to_sv(header->value()));
  if (!token) {
    auto res = error_response(http::status::unauthorized, "missing bearer token");
    res.set(http::field::www_authenticate, "Bearer realm=\"onair\"");
    return res;
  }
  if (!constant_time_equal(*token, token_)) {
    return error_response(http::status::forbidden, "invalid token");
  }
  return std::nullopt;
}

}  // namespace onair::control
