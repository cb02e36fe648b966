// UplinkSender: one thread per destination that connects, sends the queued TS, watches the
// link, and reconnects with backoff until stopped.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "uplink/backoff.hpp"
#include "uplink/link_monitor.hpp"
#include "uplink/link_reasons.hpp"
#include "uplink/recovery_keyframes.hpp"
#include "uplink/send_queue.hpp"
#include "uplink/silent_link.hpp"
#include "uplink/srt_connect.hpp"
#include "uplink/uplink.hpp"

namespace onair::uplink {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How often the connected loop checks link health and a newer listener-mode ingest.
constexpr milliseconds kHousekeeping{25};
// How long stop() waits for the thread to close its socket before giving up loudly.
constexpr milliseconds kStopGrace{2000};
// The receiver's latency (the larger of both sides' settings); 0 when it cannot be read.
// It is also every message's time to live: the receiver plays a packet `latency` after it was
// sent and skips it if it is not there by then, so resending it later only delays what can
// still be played. Alone libsrt resends for max(latency, 1000 ms); with the TTL it sends a drop
// request instead. On a link that suddenly narrows this is what lets the cut to the floor clear
// the queue: without it the link spends most of a second carrying useless retransmissions
// (scripts/bench-network steps: 11-14 frames lost at the drop in 5 runs with it, 18-23 without).
int negotiated_latency_ms(SRTSOCKET socket) {
  int32_t latency = 0;
  int length = sizeof latency;
  if (srt_getsockflag(socket, SRTO_PEERLATENCY, &latency, &length) == SRT_ERROR || latency <= 0) return 0;
  return latency;
}

enum class SendStep { done, would_block, failed };

struct ServeEnd {
  std::string reason;       // why the connection ended; empty when stopped
  SrtSocket replacement;    // a newer connection to serve instead (a newer ingest, or a redial)
  bool taken_over = false;  // closed by an ingest that took a dial just abandoned: no backoff
};

constexpr const char* kClosedByIngest = "connection closed by the ingest";
// How long a link that is over waits for the dial in flight beside it (SilentLink::settle):
// the ingest's answer to a handshake it has accepted, a round trip away.
constexpr milliseconds kSettleWait{250};
// Closed by the ingest this soon after a dial beside the link was abandoned: taken over.
constexpr milliseconds kTakeOverWindow{2000};

}  // namespace

struct UplinkSender::Impl {
  Impl(config::Destination d, SenderOptions o, SenderCallbacks c)
      : destination(std::move(d)),
        options(o),
        callbacks(std::move(c)),
        url_redacted(destination.url.redacted()),
        queue(options.max_queue_bytes) {
    settings.url = destination.url;
    settings.peer_idle_timeout_ms =
        destination.url.peer_idle_timeout_ms.value_or(options.peer_idle_timeout_ms);
    settings.connect_timeout_ms = options.connect_timeout_ms;
    settings.send_buffer_bytes = options.send_buffer_bytes;
    settings.rendezvous_local_port = options.rendezvous_local_port;
    thread = std::thread([this] { run(); });
  }

  ~Impl() {
    {
      std::lock_guard lock(control_mutex);
      quit = true;
      want_running = false;
      running = false;
    }
    control_cv.notify_all();
    queue.interrupt();
    thread.join();
  }

  void start() {
    {
      std::lock_guard lock(control_mutex);
      if (want_running) return;
      want_running = true;
      running = true;
    }
    control_cv.notify_all();
  }

  void stop() {
    std::unique_lock lock(control_mutex);
    want_running = false;
    running = false;
    control_cv.notify_all();
    queue.interrupt();
    // A callback calling stop() on the sender thread must not wait for itself.
    if (std::this_thread::get_id() == thread.get_id()) return;
    if (!control_cv.wait_for(lock, kStopGrace, [&] { return !session_active; }))
      spdlog::error("uplink {} ({}): sender thread did not stop within {} ms", destination.name,
                    url_redacted, kStopGrace.count());
  }

  // ---- sender thread ----

  void run() {
    std::unique_lock lock(control_mutex);
    while (true) {
      control_cv.wait(lock, [&] { return quit || want_running; });
      if (quit) return;
      session_active = true;
      lock.unlock();
      run_session();
      lock.lock();
      session_active = false;
      control_cv.notify_all();
    }
  }

  void run_session() {
    Backoff backoff(milliseconds(options.reconnect_min_ms), milliseconds(options.reconnect_max_ms));
    const bool listener_mode = settings.url.mode == config::SrtMode::listener;
    SrtListener listener;
    bool first_connection = true;
    next_stats = Clock::now();
    set_state(LinkState::connecting, connecting_reason(settings.url));
    while (running) {
      std::string peer;
      SrtSocket socket =
          listener_mode ? wait_for_ingest(&listener, &backoff, &peer) : connect_once(&backoff);
      if (!socket) continue;  // failed (already in backoff) or stopped
      // Listener mode: a newer ingest replaces the current one and is served at once.
      while (socket) {
        if (!first_connection) ++reconnects;
        first_connection = false;
        const Clock::time_point connected_at = Clock::now();
        ServeEnd end = serve(std::move(socket), listener_mode ? &listener : nullptr, &peer);
        const milliseconds delay =
            backoff.after_connection(std::chrono::duration_cast<milliseconds>(Clock::now() - connected_at));
        if (!running) break;
        socket = std::move(end.replacement);
        if (socket) {
          spdlog::info("uplink {} ({}): {}", destination.name, url_redacted, end.reason);
          continue;
        }
        if (end.taken_over) {
          spdlog::info("uplink {} ({}): {} just after a connection dialled beside it was abandoned: the ingest took "
                       "that one (it serves the newest publisher); connecting again at once",
                       destination.name, url_redacted, end.reason);
          continue;
        }
        set_state(LinkState::backoff, end.reason);
        if (!listener_mode) wait_backoff(delay);
      }
    }
    listener.close();
    queue.close();
    set_state(LinkState::stopped, "");
  }

  SrtSocket connect_once(Backoff* backoff) {
    // A rejection stays on screen while retrying: the operator has to fix something.
    if (state != LinkState::rejected) set_state(LinkState::connecting, connecting_reason(settings.url));
    ConnectResult result = connect_out(settings, [&] {
      tick_stats(Clock::now());
      return running.load();
    });
    if (result.socket || !running) return std::move(result.socket);
    set_state(result.failure.state, result.failure.reason);
    const milliseconds delay = result.failure.unanswered ? backoff->after_silence() : backoff->after_refusal();
    spdlog::debug("uplink {} ({}): retrying in {} ms", destination.name, url_redacted, delay.count());
    wait_backoff(delay);
    return {};
  }

  SrtSocket wait_for_ingest(SrtListener* listener, Backoff* backoff, std::string* peer) {
    if (!listener->is_open()) {
      std::string error;
      if (!listener->open(settings, &error)) {
        set_state(LinkState::backoff, error);
        wait_backoff(backoff->after_refusal());
        return {};
      }
      backoff->reset();
    }
    set_state(LinkState::connecting, connecting_reason(settings.url));
    while (running) {
      if (SrtSocket socket = listener->accept(static_cast<int>(kHousekeeping.count()), peer)) return socket;
      tick_stats(Clock::now());
    }
    return {};
  }

  // Sends until the link is lost, replaced or stopped.
  ServeEnd serve(SrtSocket socket, SrtListener* listener, std::string* peer) {
    SrtEpoll epoll;
    epoll.add(socket.get(), SRT_EPOLL_OUT | SRT_EPOLL_ERR);
    Clock::time_point now = Clock::now();
    monitor.begin(socket.get(), now);
    latency_ms = negotiated_latency_ms(socket.get());
    queue.open();  // before on_connected, so the keyframe it asks for is accepted
    if (!peer->empty())
      spdlog::info("uplink {} ({}): ingest connected from {}", destination.name, url_redacted, *peer);
    set_state(LinkState::connected, "");
    quiet = false;
    want_keyframe(KeyframeWant::link);

    std::optional<TsPayload> current;
    size_t offset = 0;
    ServeEnd end;
    std::string& lost = end.reason;
    Clock::time_point next_housekeeping = now;
    while (running && lost.empty()) {
      if (!current) current = queue.pop_until(std::min(next_housekeeping, next_stats));
      if (current) {
        const SendStep step = send_payload(socket.get(), *current, &offset, &lost);
        if (step == SendStep::done) {
          if (current->capture_time_us != 0) last_capture_time_us = current->capture_time_us;
          current.reset();
          offset = 0;
        } else if (step == SendStep::would_block) {
          epoll.wait_for(socket.get(), kHousekeeping.count());
        }
      }
      now = Clock::now();
      if (now >= next_housekeeping) {
        next_housekeeping = now + kHousekeeping;
        if (lost.empty()) lost = check_link(socket.get(), listener, peer, now, &end.replacement);
      }
      tick_stats(now);
    }
    queue.close();
    monitor.sample(Clock::now());
    monitor.end();
    if (running && !end.replacement && !lost.empty()) {
      // An ingest that serves the newest publisher closes this link as it accepts the dial
      // beside it: serve that dial, or if it was abandoned just before (this link answered
      // first), dial again at once.
      end.taken_over = lost == kClosedByIngest && silence.abandoned_since(Clock::now() - kTakeOverWindow);
      if (SrtSocket settled = silence.settle(Clock::now() + kSettleWait)) {
        end.replacement = std::move(settled);
        end.reason = "reconnected: the ingest took the connection dialled beside the link (" + lost + ")";
      }
    }
    silence.end();
    if (!running) lost.clear();
    return end;  // `socket` closes here
  }

  void want_keyframe(KeyframeWant want) {
    if (callbacks.on_keyframe_wanted) callbacks.on_keyframe_wanted(want);
  }

  SendStep send_payload(SRTSOCKET socket, const TsPayload& payload, size_t* offset, std::string* lost) {
    while (*offset < payload.size) {
      // The tail goes out at once as a shorter message: it ends a frame, waiting adds latency.
      const size_t length = std::min(payload.size - *offset, size_t{kSrtPayloadSize});
      SRT_MSGCTRL control = srt_msgctrl_default;
      if (latency_ms > 0) control.msgttl = latency_ms;
      const auto* bytes = reinterpret_cast<const char*>(payload.data + *offset);
      if (srt_sendmsg2(socket, bytes, static_cast<int>(length), &control) == SRT_ERROR) {
        if (srt_getlasterror(nullptr) == SRT_EASYNCSND) return SendStep::would_block;
        *lost = "send failed: " + srt_last_error();
        // A lost link says why in its own words (closed or silent), not as a send error.
        if (srt_getsockstate(socket) >= SRTS_BROKEN) *lost = loss_reason(socket, Clock::now());
        return SendStep::failed;
      }
      monitor.count_submitted();
      *offset += length;
    }
    return SendStep::done;
  }

  // Why the link is down, or "" while it is up.
  std::string loss_reason(SRTSOCKET socket, Clock::time_point now) const {
    const milliseconds idle(settings.peer_idle_timeout_ms);
    const bool broken = srt_getsockstate(socket) >= SRTS_BROKEN;
    // libsrt reports a peer's close and its own (slow) timeout alike: our silence clock tells.
    if (monitor.peer_silent(now, idle) || (broken && monitor.silent_ms(now) >= idle.count()))
      return "no response from the ingest for " + std::to_string(monitor.silent_ms(now)) + " ms";
    return broken ? kClosedByIngest : "";
  }

  // Health of the connected link; a non-empty reason means it is over.
  std::string check_link(SRTSOCKET socket, SrtListener* listener, std::string* peer,
                         Clock::time_point now, SrtSocket* replacement) {
    monitor.sample(now);
    std::string reason = loss_reason(socket, now);
    // Rendezvous binds the URL's port: no second connection can be made beside the first.
    const bool keep_silent_link = settings.url.mode != config::SrtMode::rendezvous;
    if (!reason.empty() && (!keep_silent_link || srt_getsockstate(socket) >= SRTS_BROKEN)) return reason;
    if (!reason.empty() && !silence.active()) {
      silence.begin(now);
      set_state(LinkState::connecting, reason + "; reconnecting");
    } else if (reason.empty() && silence.active()) {
      silence.end();
      ++resumes;
      spdlog::info("uplink {} ({}): the ingest answers again after {} ms of silence; resumed on the same connection",
                   destination.name, url_redacted,
                   silence.silent_ms(now));
      set_state(LinkState::connected, "");
      quiet = false;  // the resume's keyframe ends the drop-out
      want_keyframe(KeyframeWant::link);
    }
    // A drop-out under way (quiet, declared down or not yet): what the link recovers in time
    // when the path returns (the stream's last moments, resent) then holds a keyframe, and the
    // picture is back the moment the network is, not at the next scheduled keyframe.
    if (silence.active() || monitor.peer_silent(now, milliseconds(kPeerQuietMs))) {
      quiet = true;
      if (now >= next_recovery_keyframe) {
        next_recovery_keyframe = now + milliseconds(quiet_keyframe_interval_ms(latency_ms));
        want_keyframe(KeyframeWant::drop_out);
      }
    } else {
      next_recovery_keyframe = now;  // the first as soon as the peer goes quiet
      if (quiet) want_keyframe(KeyframeWant::answered);
      quiet = false;
    }
    // A quiet peer may be an ingest that crashed and restarted at once (the same address, a
    // new process knowing nothing of this connection): a new connection beside the link finds
    // out within a round trip, long before the idle timeout. A peer that answers on the old one
    // first (a drop-out) keeps it, and the dial is abandoned.
    if (!listener && keep_silent_link) {
      if (quiet && !silence.dialling()) silence.quiet(now);
      else if (!quiet && silence.dialling() && !silence.active()) silence.end();
      if (SrtSocket redialled = silence.redial(now)) {
        *replacement = std::move(redialled);
        return fmt::format("reconnected: a new connection answered while the old link stayed silent for {} ms{}",
                           monitor.silent_ms(now),
                           silence.active() ? "" : " (not yet declared down: the ingest restarted)");
      }
    }
    if (listener) {
      std::string newer_peer;
      if (SrtSocket newer = listener->accept(0, &newer_peer)) {
        *replacement = std::move(newer);
        *peer = newer_peer;
        return "replaced by a newer ingest connection from " + newer_peer;
      }
    }
    return {};
  }

  void wait_backoff(milliseconds delay) {
    const Clock::time_point until = Clock::now() + delay;
    std::unique_lock lock(control_mutex);
    while (!quit && want_running && Clock::now() < until) {
      control_cv.wait_until(lock, std::min(until, next_stats));
      lock.unlock();
      tick_stats(Clock::now());
      lock.lock();
    }
  }

  void set_state(LinkState new_state, std::string new_reason) {
    if (new_state == state && new_reason == reason) return;
    state = new_state;
    reason = std::move(new_reason);
    const bool trouble = state == LinkState::backoff || state == LinkState::rejected;
    spdlog::log(trouble ? spdlog::level::warn : spdlog::level::info, "uplink {} ({}): {}{}{}",
                destination.name, url_redacted, to_string(state), reason.empty() ? "" : ": ", reason);
    emit_stats(Clock::now());
  }

  void tick_stats(Clock::time_point now) {
    if (now >= next_stats) emit_stats(now);
  }

  void emit_stats(Clock::time_point now) {
    next_stats = now + milliseconds(std::max(options.stats_interval_ms, 1));
    if (!callbacks.on_stats) return;
    SenderStats stats;
    stats.name = destination.name;
    stats.url_redacted = url_redacted;
    stats.state = state;
    stats.reason = reason;
    monitor.fill(&stats, now);
    stats.queue_drops = queue.drops();
    stats.reconnects = reconnects;
    stats.resumes = resumes;
    stats.last_capture_time_us = last_capture_time_us;
    callbacks.on_stats(stats);
  }

  const config::Destination destination;
  const SenderOptions options;
  const SenderCallbacks callbacks;
  const std::string url_redacted;
  ConnectSettings settings;
  SendQueue queue;

  std::mutex control_mutex;
  std::condition_variable control_cv;
  bool want_running = false;   // guarded by control_mutex
  bool quit = false;           // guarded by control_mutex
  bool session_active = false; // guarded by control_mutex
  std::atomic<bool> running{false};  // lock-free copy of want_running for the thread's loops

  // Sender-thread state.
  LinkMonitor monitor;
  LinkState state = LinkState::stopped;
  std::string reason;
  Clock::time_point next_stats{};
  int latency_ms = 0;  // this connection's, negotiated
  uint64_t reconnects = 0;
  uint64_t resumes = 0;
  SilentLink silence{settings, options.reconnect_min_ms, options.reconnect_max_ms,
                     "uplink " + destination.name + " (" + url_redacted + ")"};
  Clock::time_point next_recovery_keyframe{};
  bool quiet = false;  // this connection's peer has been quiet for kPeerQuietMs, and not answered since
  int64_t last_capture_time_us = 0;

  std::thread thread;  // last: starts after every member above exists
};

UplinkSender::UplinkSender(config::Destination destination, SenderOptions options,
                           SenderCallbacks callbacks)
    : impl_(std::make_unique<Impl>(std::move(destination), options, std::move(callbacks))) {}

UplinkSender::~UplinkSender() = default;

void UplinkSender::start() { impl_->start(); }
void UplinkSender::stop() { impl_->stop(); }
void UplinkSender::push(TsPayload payload) { impl_->queue.push(std::move(payload)); }
const std::string& UplinkSender::name() const { return impl_->destination.name; }

}  // namespace onair::uplink
