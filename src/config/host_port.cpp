#include "config/host_port.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>

#include "config/text_util.hpp"

namespace onair::config::detail {

namespace {

bool looks_like_ipv4(std::string_view host) {
  return std::all_of(host.begin(), host.end(), [](char c) {
    return c == '.' || std::isdigit(static_cast<unsigned char>(c));
  });
}

bool valid_label(std::string_view label) {
  if (label.empty() || label.size() > 63) return false;
  return std::all_of(label.begin(), label.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

}  // namespace

std::optional<HostPort> split_host_port(std::string_view text, std::string* error) {
  HostPort out;
  std::string_view rest;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) {
      *error = "missing ']' after IPv6 address in " + quoted(text);
      return std::nullopt;
    }
    out.host = std::string(text.substr(1, close - 1));
    if (out.host.empty()) {
      *error = "empty IPv6 address \"[]\" in " + quoted(text);
      return std::nullopt;
    }
    rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') {
      *error = "unexpected " + quoted(rest) + " after IPv6 address in " + quoted(text);
      return std::nullopt;
    }
  } else {
    const auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) != std::string_view::npos) {
      *error = "IPv6 address must be in brackets, e.g. [::1]:9000, got " + quoted(text);
      return std::nullopt;
    }
    out.host = std::string(text.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (!rest.empty()) {
    out.has_port = true;
    out.port_text = std::string(rest.substr(1));
  }
  return out;
}

std::optional<std::string> host_problem(std::string_view host) {
  const std::string text(host);
  if (host.find(':') != std::string_view::npos) {
    in6_addr v6{};
    if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) return std::nullopt;
    return "invalid IPv6 address " + quoted(host);
  }
  if (looks_like_ipv4(host)) {
    in_addr v4{};
    if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return std::nullopt;
    return "invalid IPv4 address " + quoted(host);
  }
  std::string_view name = host;
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);  // fully qualified "host."
  bool ok = !name.empty() && name.size() <= 253;
  for (std::size_t start = 0; ok && start <= name.size();) {
    const auto dot = std::min(name.find('.', start), name.size());
    ok = valid_label(name.substr(start, dot - start));
    start = dot + 1;
  }
  if (ok) return std::nullopt;
  return "invalid host name " + quoted(host);
}

std::optional<uint16_t> parse_port(std::string_view text, int min) {
  if (text.empty() || text.size() > 5 || !std::all_of(text.begin(), text.end(), [](char c) {
        return std::isdigit(static_cast<unsigned char>(c));
      })) {
    return std::nullopt;
  }
  const auto value = parse_integer(text);
  if (!value || *value < min || *value > 65535) return std::nullopt;
  return static_cast<uint16_t>(*value);
}

}  // namespace onair::config::detail
