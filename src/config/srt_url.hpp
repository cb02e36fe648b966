// SRT URLs in the ffmpeg/OBS convention: srt://host:port?mode=caller&latency=120&passphrase=...
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace onair::config {

enum class SrtMode { caller, listener, rendezvous };

std::string_view to_string(SrtMode mode);

struct SrtUrl {
  std::string host;  // empty: all interfaces (listener mode only)
  uint16_t port = 0;
  SrtMode mode = SrtMode::caller;
  int latency_ms = 120;    // SRTO_LATENCY (both directions); explicit, never libsrt's default
  std::string passphrase;  // empty: no encryption; else 10..79 characters
  int pbkeylen = 0;        // 0: 16 when a passphrase is set; else 16, 24 or 32
  std::string streamid;    // SRTO_STREAMID, at most 512 characters
  // `peeridletimeo` query key (ms); overrides uplink.peer_idle_timeout_ms when set.
  std::optional<int> peer_idle_timeout_ms;

  // The URL with the passphrase replaced by "***": safe for logs, status and errors.
  std::string redacted() const;
};

// Parses an SRT URL (latency and peeridletimeo in milliseconds, query values percent-decoded;
// see the README). Errors never contain the passphrase. On failure returns nullopt and sets
// *error to what is wrong, e.g. `unknown SRT mode "calller" (expected caller, listener or
// rendezvous)`.
std::optional<SrtUrl> parse_srt_url(std::string_view text, std::string* error);

}  // namespace onair::config
