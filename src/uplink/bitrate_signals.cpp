// The adaptive bitrate controller's reading of the link: the windows of recent samples, the RTT
// floor, and the signals (backlog over its limit, queueing, sudden drop, late packets) that
// bitrate_controller.cpp acts on. See bitrate_controller.hpp for the idea.
#include "uplink/bitrate_controller.hpp"
#include "uplink/bitrate_tuning.hpp"

#include <algorithm>
#include <cmath>

namespace onair::uplink {

using namespace abr_tuning;

void BitrateController::restart_windows(const LinkSample& sample) {
  connection_ = sample.connection;
  window_.clear();
  have_previous_ = false;
  over_since_ms_ = -1;
  calm_since_ms_ = sample.now_ms;
}

double BitrateController::delivered_ratio(const LinkSample& sample, bool count_loss) const {
  // Measured over the congestion itself, not the good seconds before it.
  const int64_t span = over_since_ms_ < 0 ? kRatioWindowMs
                                          : std::clamp(sample.now_ms - over_since_ms_ + kRatioLeadMs,
                                                       kMinRatioWindowMs, kRatioWindowMs);
  return delivered_since(sample, sample.now_ms - span, count_loss);
}

double BitrateController::delivered_since(const LinkSample& sample, int64_t from_ms, bool count_loss) const {
  const auto from = std::find_if(window_.begin(), window_.end(), [&](const Point& p) { return p.now_ms >= from_ms; });
  if (from == window_.end() || sample.packets_submitted < from->submitted + kMinPacketsForRatio) return 1;
  const double submitted = double(sample.packets_submitted - from->submitted);
  // Whatever left SRT's buffer without being dropped was acknowledged by the receiver.
  // (Retransmissions are left out on purpose: under congestion they are mostly lost again.)
  const double delivered = submitted - (double(sample.send_buffer_packets) - double(from->buffered)) -
                           double(sample.packets_dropped - std::min(sample.packets_dropped, from->dropped));
  // The receiver acknowledges what it gave up on too (older than the latency), so once the
  // link is known to be jammed its reported loss says more: a full queue drops the share it
  // cannot carry. (Never to decide whether it is jammed: reordering is reported as loss too.)
  double kept = 1;
  if (count_loss) {
    const double sent = double(sample.packets_sent - std::min(sample.packets_sent, from->sent));
    const double lost = double(sample.packets_lost - std::min(sample.packets_lost, from->lost));
    if (sent > 0) kept = 1 - std::min(1.0, lost / sent);
  }
  return std::clamp(std::min(delivered / submitted, kept), 0.0, 1.0);
}

bool BitrateController::draining(const LinkSample& sample) const {
  const auto then = std::find_if(window_.begin(), window_.end(), [&](const Point& p) {
    return p.now_ms >= sample.now_ms - kTrendMs;
  });
  // Any measure going down will do: once the receiver gives up on packets older than the
  // latency, the buffer's age span stays put while a cut flushes the old backlog, but the
  // number of packets in it falls (and later the RTT).
  return then != window_.end() && then->now_ms <= sample.now_ms - kTrendMs / 2 &&
         (sample.send_buffer_ms < then->buffer_ms - kShrinkMs || sample.rtt_ms < then->rtt_ms - kShrinkMs ||
          double(sample.send_buffer_packets) < kShrinkShare * double(then->buffered));
}

void BitrateController::note_rtt(int64_t now_ms, double rtt_ms) {
  const int64_t bucket = now_ms / kRttBucketMs;
  if (rtt_lows_.empty() || rtt_lows_.back().first != bucket) rtt_lows_.push_back({bucket, rtt_ms});
  rtt_lows_.back().second = std::min(rtt_lows_.back().second, rtt_ms);
  while (rtt_lows_.size() > kRttBuckets) rtt_lows_.pop_front();
  rtt_base_ms_ = rtt_lows_.front().second;
  for (const auto& [b, low] : rtt_lows_) rtt_base_ms_ = std::min(rtt_base_ms_, low);
}

void BitrateController::reset_rtt_floor(int64_t now_ms, double rtt_ms) {
  rtt_lows_.clear();
  note_rtt(now_ms, rtt_ms);
}

double BitrateController::queue_ceiling_ms() const {
  return rtt_base_ms_ + std::max(kQueueSlackMs, kQueueRtts * rtt_base_ms_);
}

bool BitrateController::building(const LinkSample& sample) const {
  double floor = sample.send_buffer_ms;
  double low = sample.send_buffer_ms;
  for (const Point& p : window_) {
    low = std::min(low, p.buffer_ms);
    if (p.now_ms >= sample.now_ms - kFloorMs) floor = std::min(floor, p.buffer_ms);
  }
  return floor - low > std::max(kGrowSlackMs, kGrowRtts * rtt_base_ms_);
}

bool BitrateController::near_capacity() const {
  return capacity_kbps_ > 0 && target_kbps_ >= kCarefulLow * capacity_kbps_;
}

bool BitrateController::backlog_over(const LinkSample& sample, double limit_ms) {
  double threshold = limit_ms;
  // Right after a cut or an outage the backlog is old data on its way out: only growth counts.
  if (sample.now_ms < grace_until_ms_) threshold = std::max(threshold, grace_backlog_ms_ + kGrowMs);
  if (sample.send_buffer_ms <= threshold) {
    over_since_ms_ = -1;
    return false;
  }
  if (over_since_ms_ < 0) over_since_ms_ = sample.now_ms;
  return sample.now_ms - over_since_ms_ >= kOverMs;
}

BitrateController::Signals BitrateController::read_link(const LinkSample& sample) {
  if (sample.rtt_ms > 0) note_rtt(sample.now_ms, sample.rtt_ms);
  Signals s;
  s.limit_ms = std::max(kMinBacklogMs, kBacklogRtts * rtt_base_ms_ + kBacklogSlackMs);
  s.hard = have_previous_ && (sample.queue_drops > previous_.queue_drops ||
                              sample.packets_dropped > previous_.packets_dropped);
  // Standing queue: even the lowest RTT of the last 300 ms is up (a keyframe's burst through a
  // narrow link raises the RTT for a moment only). A longer look lags: a queue growing by 5% of
  // the link's rate fills a 200 ms router buffer in 4 s.
  double recent_rtt_ms = sample.rtt_ms;
  for (const Point& p : window_)
    if (p.now_ms >= sample.now_ms - kQueueWindowMs) recent_rtt_ms = std::min(recent_rtt_ms, p.rtt_ms);
  s.recent_rtt_ms = recent_rtt_ms;
  s.queueing = recent_rtt_ms > queue_ceiling_ms();
  if (above_since_ms_ >= 0) {
    if (above_rtt_ms_ <= 0) above_rtt_ms_ = recent_rtt_ms;
    else if (recent_rtt_ms > above_rtt_ms_ + kConfirmRttShare * (queue_ceiling_ms() - rtt_base_ms_)) {
      above_since_ms_ = sample.now_ms;  // not clear yet: the confirmation starts again from here
      above_rtt_ms_ = recent_rtt_ms;
    } else {
      above_rtt_ms_ = std::min(above_rtt_ms_, recent_rtt_ms);
    }
  }
  // An RTT that stays up, flat, for seconds while the bitrate is at its floor is the path's own
  // (a narrow link's serialization, a longer route): it becomes the floor, or nothing would ever
  // climb again. (Above the floor it may be a queue of ours: easing tells, see below.) Three
  // seconds from the first sample that queues, however close the RTT just before it was.
  if (!s.queueing || queueing_since_ms_ < 0 || std::abs(recent_rtt_ms - queueing_rtt_ms_) >= kShrinkMs) {
    queueing_since_ms_ = s.queueing ? sample.now_ms : -1;
    queueing_rtt_ms_ = recent_rtt_ms;
  } else if (sample.now_ms - queueing_since_ms_ >= kNewFloorMs && !building(sample) && target_kbps_ <= min_kbps_) {
    reset_rtt_floor(sample.now_ms, recent_rtt_ms);
    s.queueing = false;
    queueing_since_ms_ = -1;
  }
  // Packets nearly as old as the latency while the link queues: the receiver is giving up on them.
  s.late = s.queueing && sample.send_buffer_ms > kLateShare * latency_ms_;
  if (!s.late) late_since_ms_ = -1;
  else if (late_since_ms_ < 0) late_since_ms_ = sample.now_ms;
  s.late_long = s.late && sample.now_ms - late_since_ms_ >= kOverMs;
  // A sudden drop: a queue worth a quarter of the latency appears and the link stops delivering
  // what is sent (jitter and loss raise the RTT or the loss but not both). No waiting. Not while
  // the stream steps carefully around the rate the link last carried: that overflow is our own
  // probe a few percent over, and an ordinary cut answers it. (Seen on bench-network steps: a
  // probe 2% past the remembered rate, 9% over a 1 Mbit/s link, was taken for a drop: the floor,
  // then the slow climb of an unknown link; the network came back 3 s later, the bitrate 10.3 s
  // after that.) Nor within kUndoMs of a step through what a sudden drop read (or up from one
  // that read nothing), an ease since included: that climb is finding the link (seen in the link
  // model: 10% steps past a 2 Mbit/s link overflowed it, and a second drain at the floor and climb
  // took 11 s where a cut takes 7; on bench-network, an ease 1.5 s after such a step and the
  // sudden drop 0.1 s later).
  s.sudden = sample.rtt_ms > rtt_base_ms_ + std::max(kSuddenQueueMs, latency_ms_ / 4.0) &&
             delivered_ratio(sample, false) < kSuddenRatio &&
             !(near_capacity() && target_kbps_ <= kCarefulHigh * capacity_kbps_) &&
             !rough_step_within(sample.now_ms, kUndoMs);
  if (!s.sudden) sudden_since_ms_ = -1;
  else if (sudden_since_ms_ < 0) sudden_since_ms_ = sample.now_ms;
  s.emergency = s.sudden && sample.now_ms - sudden_since_ms_ >= kSuddenMs;
  if (s.late_long || s.emergency) frames_at_risk_ = true;
  s.over = !draining(sample) &&
           ((backlog_over(sample, s.limit_ms) && (sample.send_buffer_ms > std::max(kHardBacklogMs, s.limit_ms) ||
                                                  delivered_ratio(sample, false) < kDeficitRatio)) ||
            s.late_long || s.emergency);
  if (sample.send_buffer_ms > kCalmFraction * s.limit_ms || s.queueing) calm_since_ms_ = sample.now_ms;
  s.filling = building(sample) || (sample.send_buffer_ms > s.limit_ms && !draining(sample));
  return s;
}

void BitrateController::remember(const LinkSample& sample) {
  window_.push_back({sample.now_ms, sample.packets_submitted, sample.send_buffer_packets, sample.packets_dropped,
                     sample.packets_sent, sample.packets_lost, sample.send_buffer_ms, sample.rtt_ms});
  while (!window_.empty() && window_.front().now_ms < sample.now_ms - kWindowMs) window_.pop_front();
  previous_ = sample;
  have_previous_ = true;
}

}  // namespace onair::uplink
