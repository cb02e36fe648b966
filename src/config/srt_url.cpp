#include "config/srt_url.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "config/host_port.hpp"
#include "config/text_util.hpp"

namespace onair::config {

namespace {

using detail::quoted;

constexpr std::string_view kScheme = "srt://";
constexpr std::array<std::string_view, 6> kQueryKeys = {"mode",     "latency",  "passphrase",
                                                        "pbkeylen", "streamid", "peeridletimeo"};
constexpr int kMaxLatencyMs = 60000;
constexpr int kMinPeerIdleMs = 100;
constexpr int kMaxPeerIdleMs = 600000;
constexpr std::size_t kMinPassphrase = 10;  // libsrt rejects shorter or longer passphrases
constexpr std::size_t kMaxPassphrase = 79;
constexpr std::size_t kMaxStreamId = 512;

bool starts_with_scheme(std::string_view text) {
  if (text.size() < kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != kScheme[i]) return false;
  }
  return true;
}

// Everything before the query: errors may echo it, since only the query can hold a secret.
std::string_view before_query(std::string_view text) { return text.substr(0, text.find('?')); }

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoding; '+' stays '+' (passphrases use it), a NUL byte is refused.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int hi = hex_value(text[i + 1]);
    const int lo = hex_value(text[i + 2]);
    if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    // Only what would break re-parsing is encoded, so "#!::r=live/x,m=publish" stays readable.
    if (c == '%' || c == '&' || byte <= 0x20 || byte >= 0x7f) {
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0f];
    } else {
      out += c;
    }
  }
  return out;
}

std::optional<int> parse_ms(std::string_view text, int min, int max) {
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text.front()))) return std::nullopt;
  const auto value = detail::parse_integer(text);
  if (!value || *value < min || *value > max) return std::nullopt;
  return static_cast<int>(*value);
}

std::optional<SrtMode> parse_mode(std::string_view text) {
  // client/server are srt-live-transmit's aliases.
  if (text == "caller" || text == "client") return SrtMode::caller;
  if (text == "listener" || text == "server") return SrtMode::listener;
  if (text == "rendezvous") return SrtMode::rendezvous;
  return std::nullopt;
}

// Applies one decoded query parameter; returns what is wrong, or nothing.
std::optional<std::string> apply_query(SrtUrl& url, std::string_view key,
                                       const std::string& value) {
  if (key == "mode") {
    const auto mode = parse_mode(value);
    if (!mode) {
      return "unknown SRT mode " + quoted(value) + " (expected caller, listener or rendezvous)";
    }
    url.mode = *mode;
  } else if (key == "latency") {
    const auto ms = parse_ms(value, 0, kMaxLatencyMs);
    if (!ms)
      return "latency must be 0.." + std::to_string(kMaxLatencyMs) + " ms, got " + quoted(value);
    url.latency_ms = *ms;
  } else if (key == "passphrase") {
    if (!value.empty() && (value.size() < kMinPassphrase || value.size() > kMaxPassphrase)) {
      return "passphrase must be 10..79 characters, got " + std::to_string(value.size());
    }
    url.passphrase = value;
  } else if (key == "pbkeylen") {
    if (value != "16" && value != "24" && value != "32") {
      return "pbkeylen must be 16, 24 or 32, got " + quoted(value);
    }
    url.pbkeylen = std::stoi(value);
  } else if (key == "streamid") {
    if (value.size() > kMaxStreamId) {
      return "streamid must be at most 512 characters, got " + std::to_string(value.size());
    }
    url.streamid = value;
  } else if (key == "peeridletimeo") {
    const auto ms = parse_ms(value, kMinPeerIdleMs, kMaxPeerIdleMs);
    if (!ms) {
      return "peeridletimeo must be " + std::to_string(kMinPeerIdleMs) + ".." +
             std::to_string(kMaxPeerIdleMs) + " ms, got " + quoted(value);
    }
    url.peer_idle_timeout_ms = *ms;
  }
  return std::nullopt;
}

std::optional<std::string> parse_query(SrtUrl& url, std::string_view query) {
  std::set<std::string, std::less<>> seen;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;  // "?&mode=x" or a trailing '&'
    const auto eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    const bool known = std::find(kQueryKeys.begin(), kQueryKeys.end(), key) != kQueryKeys.end();
    if (!known) {
      std::string what = "unknown query key " + quoted(key);
      if (const auto hint = detail::closest(key, kQueryKeys)) {
        return what + " (did you mean \"" + std::string(*hint) + "\"?)";
      }
      return what + " (expected " + detail::join_or(kQueryKeys) + ")";
    }
    if (eq == std::string_view::npos) return "query key " + quoted(key) + " has no value";
    if (!seen.insert(std::string(key)).second) return "duplicate query key " + quoted(key);
    const auto value = percent_decode(pair.substr(eq + 1));
    if (!value) return "bad percent-encoding in the value of " + quoted(key);
    if (auto problem = apply_query(url, key, *value)) return problem;
  }
  if (url.pbkeylen != 0 && url.passphrase.empty())
    return std::string("pbkeylen needs a passphrase");
  return std::nullopt;
}

std::optional<std::string> parse_authority(SrtUrl& url, std::string_view authority,
                                           std::string_view shown) {
  if (const auto slash = authority.find('/'); slash != std::string_view::npos) {
    if (slash + 1 != authority.size()) {
      return "unexpected path " + quoted(authority.substr(slash)) + " in " + quoted(shown) +
             " (SRT URLs have no path; name the stream with streamid=)";
    }
    authority.remove_suffix(1);  // a lone trailing '/' is harmless
  }
  std::string error;
  const auto parts = detail::split_host_port(authority, &error);
  if (!parts) return error;
  if (!parts->has_port || parts->port_text.empty()) return "missing port in " + quoted(shown);
  const auto port = detail::parse_port(parts->port_text, 1);
  if (!port) return "port must be 1..65535, got " + quoted(parts->port_text);
  if (!parts->host.empty()) {
    if (auto problem = detail::host_problem(parts->host)) return problem;
  }
  url.host = parts->host;
  url.port = *port;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(SrtMode mode) {
  switch (mode) {
    case SrtMode::caller:
      return "caller";
    case SrtMode::listener:
      return "listener";
    case SrtMode::rendezvous:
      return "rendezvous";
  }
  return "caller";
}

std::string SrtUrl::redacted() const {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = "srt://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  out += "?mode=" + std::string(to_string(mode));
  out += "&latency=" + std::to_string(latency_ms);
  if (!passphrase.empty()) out += "&passphrase=***";
  if (pbkeylen != 0) out += "&pbkeylen=" + std::to_string(pbkeylen);
  if (!streamid.empty()) out += "&streamid=" + percent_encode(streamid);
  if (peer_idle_timeout_ms) out += "&peeridletimeo=" + std::to_string(*peer_idle_timeout_ms);
  return out;
}

std::optional<SrtUrl> parse_srt_url(std::string_view text, std::string* error) {
  const std::string_view shown = before_query(text);
  if (!starts_with_scheme(text)) {
    *error = "not an srt:// URL: " + quoted(shown);
    return std::nullopt;
  }
  SrtUrl url;
  const std::string_view rest = text.substr(kScheme.size());
  const auto question = rest.find('?');
  std::optional<std::string> problem = parse_authority(url, rest.substr(0, question), shown);
  if (!problem && question != std::string_view::npos) {
    problem = parse_query(url, rest.substr(question + 1));
  }
  if (!problem && url.host.empty() && url.mode != SrtMode::listener) {
    problem = std::string(to_string(url.mode)) + " mode needs a host in " + quoted(shown) +
              " (only a listener may leave it empty to bind all interfaces)";
  }
  if (problem) {
    *error = *problem;
    return std::nullopt;
  }
  return url;
}

}  // namespace onair::config
