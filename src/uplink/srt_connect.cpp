// Socket options, address resolution, and the bounded connect / accept waits.
#include "uplink/srt_connect.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstring>

namespace onair::uplink {
namespace {

constexpr int kWaitSliceMs = 50;
constexpr int kKeepSilentLinkMs = 5000;  // libsrt's own default

struct Address {
  sockaddr_storage storage{};
  int length = 0;
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// host empty → the IPv4 wildcard (listening on all interfaces).
bool resolve(const std::string& host, uint16_t port, Address* out, std::string* error) {
  addrinfo hints{};
  hints.ai_family = host.empty() ? AF_INET : AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = host.empty() ? AI_PASSIVE : 0;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  if (rc != 0 || found == nullptr) {
    *error = "cannot resolve \"" + host + "\": " + gai_strerror(rc);
    return false;
  }
  std::memcpy(&out->storage, found->ai_addr, found->ai_addrlen);
  out->length = static_cast<int>(found->ai_addrlen);
  freeaddrinfo(found);
  return true;
}

Address wildcard_like(const Address& remote, uint16_t port) {
  Address local;
  local.storage.ss_family = remote.storage.ss_family;
  if (remote.storage.ss_family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&local.storage);
    in6->sin6_addr = in6addr_any;
    in6->sin6_port = htons(port);
    local.length = sizeof(sockaddr_in6);
  } else {
    auto* in4 = reinterpret_cast<sockaddr_in*>(&local.storage);
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    in4->sin_port = htons(port);
    local.length = sizeof(sockaddr_in);
  }
  return local;
}

std::string address_text(const sockaddr_storage& address) {
  char host[NI_MAXHOST] = "?";
  char port[NI_MAXSERV] = "?";
  getnameinfo(reinterpret_cast<const sockaddr*>(&address), sizeof address, host, sizeof host, port,
              sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  return std::string(host) + ":" + port;
}

// Every option explicit: libsrt defaults have changed between releases.
bool configure(SRTSOCKET s, const ConnectSettings& settings, bool listener, std::string* error) {
  const config::SrtUrl& url = settings.url;
  auto fail = [&](const char* option) {
    *error = std::string("cannot set ") + option + ": " + srt_last_error();
    return false;
  };
  // TRANSTYPE first: it resets the options that depend on the transmission type.
  if (!set_srt_flag(s, SRTO_TRANSTYPE, SRTT_LIVE)) return fail("SRTO_TRANSTYPE");
  if (!set_srt_flag(s, SRTO_SENDER, true)) return fail("SRTO_SENDER");
  if (!set_srt_flag(s, SRTO_LATENCY, int32_t{url.latency_ms})) return fail("SRTO_LATENCY");
  if (!set_srt_flag(s, SRTO_PAYLOADSIZE, int32_t{kSrtPayloadSize})) return fail("SRTO_PAYLOADSIZE");
  // onair declares a link down after peer_idle_timeout_ms of silence by itself; libsrt keeps
  // it a while longer (caller, listener) in case the path comes back (see UplinkSender).
  const int32_t keep_ms = url.mode == config::SrtMode::rendezvous
                              ? settings.peer_idle_timeout_ms
                              : std::max(settings.peer_idle_timeout_ms, kKeepSilentLinkMs);
  if (!set_srt_flag(s, SRTO_PEERIDLETIMEO, keep_ms))
    return fail("SRTO_PEERIDLETIMEO");
  if (!set_srt_flag(s, SRTO_CONNTIMEO, int32_t{settings.connect_timeout_ms}))
    return fail("SRTO_CONNTIMEO");
  if (settings.send_buffer_bytes > 0 &&
      !set_srt_flag(s, SRTO_SNDBUF, int32_t{settings.send_buffer_bytes}))
    return fail("SRTO_SNDBUF");
  if (!url.passphrase.empty()) {
    if (!set_srt_flag(s, SRTO_PASSPHRASE, url.passphrase)) return fail("SRTO_PASSPHRASE");
    const int32_t keylen = url.pbkeylen == 0 ? 16 : url.pbkeylen;
    if (!set_srt_flag(s, SRTO_PBKEYLEN, keylen)) return fail("SRTO_PBKEYLEN");
  }
  if (!listener && !url.streamid.empty() && !set_srt_flag(s, SRTO_STREAMID, url.streamid))
    return fail("SRTO_STREAMID");
  // Non-blocking: every wait goes through epoll in short slices so stop() stays prompt.
  if (!set_srt_flag(s, SRTO_RCVSYN, false)) return fail("SRTO_RCVSYN");
  if (!set_srt_flag(s, SRTO_SNDSYN, false)) return fail("SRTO_SNDSYN");
  return true;
}

}  // namespace

bool SrtDial::start(const ConnectSettings& settings, LinkFailure* failure) {
  cancel();
  const config::SrtUrl& url = settings.url;
  const bool rendezvous = url.mode == config::SrtMode::rendezvous;
  auto fail = [&](std::string reason) {
    *failure = {LinkState::backoff, std::move(reason)};
    cancel();
    return false;
  };
  Address remote;
  std::string error;
  if (!resolve(url.host, url.port, &remote, &error)) return fail(error);
  socket_ = SrtSocket(srt_create_socket());
  if (!socket_) return fail("cannot create an SRT socket: " + srt_last_error());
  if (!configure(socket_.get(), settings, false, &error)) return fail(error);

  int rc;
  if (rendezvous) {
    const uint16_t local_port = settings.rendezvous_local_port ? settings.rendezvous_local_port : url.port;
    const Address local = wildcard_like(remote, local_port);
    rc = srt_rendezvous(socket_.get(), local.get(), local.length, remote.get(), remote.length);
  } else {
    rc = srt_connect(socket_.get(), remote.get(), remote.length);
  }
  if (rc == SRT_ERROR) return fail("cannot connect to " + endpoint_text(url) + ": " + srt_last_error());

  if (!epoll_.valid() || !epoll_.add(socket_.get(), SRT_EPOLL_OUT | SRT_EPOLL_ERR))
    return fail("cannot watch the SRT socket: " + srt_last_error());
  url_ = url;
  // libsrt enforces the timeout (x10 in rendezvous); ours is only a backstop a bit later.
  const int timeout_ms = settings.connect_timeout_ms * (rendezvous ? 10 : 1) + 1000;
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  return true;
}

SrtDial::Progress SrtDial::poll(int wait_ms, LinkFailure* failure) {
  if (!socket_) return Progress::failed;
  const int events = epoll_.wait_for(socket_.get(), wait_ms);
  if (events & SRT_EPOLL_ERR) {
    *failure = describe_connect_failure(srt_getrejectreason(socket_.get()), url_);
    cancel();
    return Progress::failed;
  }
  if ((events & SRT_EPOLL_OUT) && srt_getsockstate(socket_.get()) == SRTS_CONNECTED) return Progress::connected;
  if (std::chrono::steady_clock::now() > deadline_) {
    *failure = describe_connect_failure(SRT_REJ_TIMEOUT, url_);
    cancel();
    return Progress::failed;
  }
  return Progress::pending;
}

SrtSocket SrtDial::take() {
  if (socket_) srt_epoll_remove_usock(epoll_.get(), socket_.get());
  return std::move(socket_);
}

void SrtDial::cancel() {
  SrtSocket abandoned = take();  // closed here
}

ConnectResult connect_out(const ConnectSettings& settings, const KeepWaiting& keep_waiting) {
  ConnectResult result;
  SrtDial dial;
  if (!dial.start(settings, &result.failure)) return result;
  while (keep_waiting()) {
    switch (dial.poll(kWaitSliceMs, &result.failure)) {
      case SrtDial::Progress::connected: result.socket = dial.take(); return result;
      case SrtDial::Progress::failed: return result;
      case SrtDial::Progress::pending: break;
    }
  }
  return result;  // stopped: no socket, no failure
}

bool SrtListener::open(const ConnectSettings& settings, std::string* error) {
  close();
  Address local;
  if (!resolve(settings.url.host, settings.url.port, &local, error)) return false;
  SrtSocket socket(srt_create_socket());
  if (!socket) {
    *error = "cannot create an SRT socket: " + srt_last_error();
    return false;
  }
  if (!configure(socket.get(), settings, true, error)) return false;
  const std::string where = "cannot listen on " + endpoint_text(settings.url) + ": ";
  if (srt_bind(socket.get(), local.get(), local.length) == SRT_ERROR ||
      srt_listen(socket.get(), 1) == SRT_ERROR) {
    *error = where + srt_last_error();
    return false;
  }
  if (!epoll_.valid() || !epoll_.add(socket.get(), SRT_EPOLL_IN | SRT_EPOLL_ERR)) {
    *error = where + "cannot watch the socket: " + srt_last_error();
    return false;
  }
  socket_ = std::move(socket);
  return true;
}

SrtSocket SrtListener::accept(int timeout_ms, std::string* peer) {
  if (!socket_) return {};
  // Ask epoll first: srt_accept with nothing pending logs a warning every time.
  if (!(epoll_.wait_for(socket_.get(), timeout_ms) & SRT_EPOLL_IN)) return {};
  sockaddr_storage address{};
  int length = sizeof address;
  SrtSocket accepted(srt_accept(socket_.get(), reinterpret_cast<sockaddr*>(&address), &length));
  if (accepted && peer) *peer = address_text(address);
  return accepted;
}

void SrtListener::close() {
  if (socket_) srt_epoll_remove_usock(epoll_.get(), socket_.get());
  socket_.reset();
}

}  // namespace onair::uplink
