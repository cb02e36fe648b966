// libsrt counters → SenderStats, and the "is anyone there" check.
#include "uplink/link_monitor.hpp"

namespace onair::uplink {

void LinkMonitor::begin(SRTSOCKET socket, Clock::time_point now) {
  socket_ = socket;
  last_ = {};
  have_sample_ = false;
  connected_at_ = now;
  last_heard_ = now;
  heard_count_ = 0;
  submitted_ = 0;
}

void LinkMonitor::sample(Clock::time_point now) {
  if (socket_ == SRT_INVALID_SOCK) return;
  SRT_TRACEBSTATS stats{};
  if (srt_bistats(socket_, &stats, 0, 1) == SRT_ERROR) return;
  last_ = stats;
  have_sample_ = true;
  const int64_t heard = int64_t{stats.pktRecvACKTotal} + stats.pktRecvNAKTotal + stats.pktRecvTotal;
  // Nothing outstanding means nothing to hear about: silence only counts while data waits.
  if (heard != heard_count_ || stats.pktSndBuf == 0) last_heard_ = now;
  heard_count_ = heard;
}

bool LinkMonitor::peer_silent(Clock::time_point now, std::chrono::milliseconds idle) const {
  return have_sample_ && last_.pktSndBuf > 0 && now - last_heard_ >= idle;
}

int64_t LinkMonitor::silent_ms(Clock::time_point now) const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - last_heard_).count();
}

LinkMonitor::Totals LinkMonitor::current_totals() const {
  Totals totals = lifetime_;
  totals.packets_submitted += submitted_;
  if (!have_sample_) return totals;
  totals.bytes_sent += last_.byteSentTotal;
  totals.packets_sent += static_cast<uint64_t>(last_.pktSentTotal);
  totals.packets_lost += static_cast<uint64_t>(last_.pktSndLossTotal);
  totals.packets_retransmitted += static_cast<uint64_t>(last_.pktRetransTotal);
  totals.packets_dropped += static_cast<uint64_t>(last_.pktSndDropTotal);
  return totals;
}

void LinkMonitor::end() {
  lifetime_ = current_totals();
  socket_ = SRT_INVALID_SOCK;
  last_ = {};
  have_sample_ = false;
  submitted_ = 0;
}

double LinkMonitor::uptime_s(Clock::time_point now) const {
  if (!connected()) return 0;
  return std::chrono::duration<double>(now - connected_at_).count();
}

void LinkMonitor::fill(SenderStats* stats, Clock::time_point now) const {
  const Totals totals = current_totals();
  stats->bytes_sent = totals.bytes_sent;
  stats->packets_sent = totals.packets_sent;
  stats->packets_submitted = totals.packets_submitted;
  stats->packets_lost = totals.packets_lost;
  stats->packets_retransmitted = totals.packets_retransmitted;
  stats->packets_dropped = totals.packets_dropped;
  stats->uptime_s = uptime_s(now);
  const bool live = connected() && have_sample_;
  stats->rtt_ms = live ? last_.msRTT : 0;
  stats->send_buffer_ms = live ? last_.msSndBuf : 0;
  stats->send_buffer_packets = live ? static_cast<uint64_t>(last_.pktSndBuf) : 0;
  stats->bandwidth_mbps = live ? last_.mbpsBandwidth : 0;
  stats->send_rate_mbps = live ? last_.mbpsSendRate : 0;
  stats->peer_silent_ms = live && last_.pktSndBuf > 0 ? silent_ms(now) : 0;
}

}  // namespace onair::uplink
