// Rejection codes → reasons a host can act on ("wrong passphrase", not "SRT error 10").
#include "uplink/link_reasons.hpp"

#include <srt/srt.h>

#include <string>

namespace onair::uplink {

const char* to_string(LinkState state) {
  switch (state) {
    case LinkState::stopped: return "stopped";
    case LinkState::connecting: return "connecting";
    case LinkState::connected: return "connected";
    case LinkState::backoff: return "backoff";
    case LinkState::rejected: return "rejected";
  }
  return "unknown";
}

std::string endpoint_text(const config::SrtUrl& url) {
  const bool ipv6 = url.host.find(':') != std::string::npos;
  std::string host = ipv6 ? "[" + url.host + "]" : url.host;
  return host + ":" + std::to_string(url.port);
}

LinkFailure describe_connect_failure(int reject_reason, const config::SrtUrl& url) {
  const std::string prefix = "rejected by ingest: ";
  switch (reject_reason) {
    case SRT_REJ_TIMEOUT:
      return {LinkState::backoff, "no answer from " + endpoint_text(url), true};
    case SRT_REJ_BADSECRET:
      return {LinkState::rejected, prefix + "wrong passphrase"};
    case SRT_REJ_UNSECURE:
      // libsrt uses one code for both directions of a passphrase mismatch.
      return {LinkState::rejected, prefix + (url.passphrase.empty()
                                                 ? "ingest requires a passphrase"
                                                 : "ingest has no passphrase set")};
    // Local trouble, not the ingest's decision: report it as a failure, not a rejection.
    case SRT_REJ_UNKNOWN:
    case SRT_REJ_SYSTEM:
    case SRT_REJ_RESOURCE:
    case SRT_REJ_IPE:
    case SRT_REJ_CLOSE:
      return {LinkState::backoff,
              "connection to " + endpoint_text(url) + " failed: " +
                  srt_rejectreason_str(reject_reason)};
    default:
      break;
  }
  if (reject_reason == SRT_REJ_PEER || reject_reason >= SRT_REJC_PREDEFINED) {
    return {LinkState::rejected, prefix + "streamid \"" + url.streamid + "\" refused (code " +
                                     std::to_string(reject_reason) + ")"};
  }
  return {LinkState::rejected, prefix + srt_rejectreason_str(reject_reason)};
}

std::string connecting_reason(const config::SrtUrl& url) {
  switch (url.mode) {
    case config::SrtMode::caller: return "connecting to " + endpoint_text(url);
    case config::SrtMode::listener:
      return "waiting for the ingest to connect on " + endpoint_text(url);
    case config::SrtMode::rendezvous: return "rendezvous with " + endpoint_text(url);
  }
  return {};
}

}  // namespace onair::uplink
