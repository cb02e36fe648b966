// HOST:PORT handling shared by SRT URLs and control.listen: IPv4, names and [IPv6].
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onair::config::detail {

struct HostPort {
  std::string host;       // without brackets; empty when not written (":9000")
  std::string port_text;  // as written; empty when there is no port
  bool has_port = false;  // a ':' followed the host
};

// Splits "host:port", "[v6]:port", ":port" or "host". On failure sets *error, e.g.
// `IPv6 address must be in brackets, e.g. [::1]:9000`.
std::optional<HostPort> split_host_port(std::string_view text, std::string* error);

// nullopt when `host` is a valid IPv4 address, IPv6 address or DNS name; else what is wrong.
std::optional<std::string> host_problem(std::string_view host);

// The port as a number when it is all digits within min..65535.
std::optional<uint16_t> parse_port(std::string_view text, int min);

}  // namespace onair::config::detail
