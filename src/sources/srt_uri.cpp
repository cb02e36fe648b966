#include "sources/srt_uri.hpp"

#include <cctype>
#include <cstdio>

namespace onair::sources {
namespace {

std::string percent_encode(const std::string& value) {
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

std::string srtsrc_uri(const config::SrtUrl& url, bool redact) {
  std::string host = url.host;
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  std::string uri = "srt://" + host + ":" + std::to_string(url.port) +
                    "?mode=" + std::string(config::to_string(url.mode)) +
                    "&latency=" + std::to_string(url.latency_ms);
  if (!url.passphrase.empty()) {
    uri += "&passphrase=" + (redact ? std::string("***") : percent_encode(url.passphrase));
    uri += "&pbkeylen=" + std::to_string(url.pbkeylen ? url.pbkeylen : 16);
  }
  if (!url.streamid.empty()) uri += "&streamid=" + percent_encode(url.streamid);
  return uri;
}

}  // namespace onair::sources
