// Private to uplink/: the words a user reads when a destination is not connected.
#pragma once

#include <string>

#include "config/srt_url.hpp"
#include "uplink/uplink.hpp"

namespace onair::uplink {

struct LinkFailure {
  LinkState state = LinkState::backoff;  // rejected: the ingest refused us; backoff: anything else
  std::string reason;
  bool unanswered = false;  // nobody answered the handshake (nothing refused us)
};

// "host:port" as the user wrote it; ":port" when listening on all interfaces.
std::string endpoint_text(const config::SrtUrl& url);

// Why a caller/rendezvous handshake failed, from srt_getrejectreason() on that socket.
LinkFailure describe_connect_failure(int reject_reason, const config::SrtUrl& url);

// What the destination is doing while not yet connected (state connecting).
std::string connecting_reason(const config::SrtUrl& url);

}  // namespace onair::uplink
