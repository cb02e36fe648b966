// The adaptive bitrate rules; see bitrate_controller.hpp for the idea.
#include "uplink/bitrate_controller.hpp"
#include "uplink/recovery_keyframes.hpp"
#include "uplink/uplink.hpp"  // kPeerQuietMs: no word from the peer is an outage, not congestion

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace onair::uplink {
namespace {

// The backlog SRT may hold before it counts as congestion: a lost packet waits about two round
// trips for its retransmission to be acknowledged, a twice-lost one three. Over that limit it
// is congestion when the link also delivers under 85% of what was sent; over the hard limit
// it is congestion anyway (random loss and jitter delay packets but deliver them all).
constexpr double kBacklogRtts = 3;
constexpr double kBacklogSlackMs = 60;
constexpr double kMinBacklogMs = 120;
constexpr double kHardBacklogMs = 250;
constexpr double kDeficitRatio = 0.85;
constexpr double kLateShare = 0.8;        // of the SRT latency: see `late` in update()
constexpr int64_t kOverMs = 300;          // the backlog must stay over the limit longer than a keyframe takes
// The RTT floor is the lowest RTT of the last 30 s: long enough that a queue we keep standing
// in the link (RTT up for seconds) does not become the new normal.
constexpr int64_t kRttBucketMs = 1000;
constexpr size_t kRttBuckets = 30;
// RTT this far over its floor: our packets queue in the link. No raise; and on a link known to
// be narrow, ease down until the queue is gone: a standing queue eats the time SRT has for
// retransmissions, and what the queue drops comes back too late.
constexpr double kQueueSlackMs = 20;
constexpr double kQueueRtts = 0.5;
constexpr int64_t kQueueWindowMs = 300;
constexpr int64_t kNewFloorMs = 3000;
constexpr int64_t kWindowMs = 3000;       // statistics history kept per connection
constexpr int64_t kRatioWindowMs = 500;   // delivered/submitted is measured over at most this,
constexpr int64_t kRatioLeadMs = 100;     // from a little before the backlog went over the limit
constexpr int64_t kMinRatioWindowMs = 150;
constexpr int64_t kTrendMs = 300;         // a backlog smaller than this long ago is draining
constexpr double kShrinkMs = 20;
constexpr double kShrinkShare = 0.9;
constexpr uint64_t kMinPacketsForRatio = 10;
// A cut lands just under what the link delivered: at least 15% and at most 75% off per step.
constexpr double kCutMargin = 0.85;
constexpr double kMaxCutFactor = kCutMargin;
constexpr double kMinCutFactor = 0.25;
constexpr double kMinRecutFactor = 0.75;  // later cuts of one episode correct the first: at most 25% off
constexpr double kCapacityAtMost = 0.9;   // a cut remembers at most 90% of the old rate as carried
constexpr double kMeasuredRatio = 0.95;   // below this the delivered share measures the link
constexpr int64_t kMinCutSpacingMs = 1000; // a cut takes effect through the encoder and the backlog
constexpr int64_t kLateCutSpacingMs = 500;  // the encoder and the stale backlog need this long to show a cut
// A sudden drop (see update()) is drained at the floor (see kSettleShare); while it lasts after
// that, each later cut takes 30% off. When it clears, the link carries at least what drained it
// and less than the rate before the last cut.
constexpr double kSuddenQueueMs = 40;
constexpr double kSuddenRatio = 0.85;
constexpr int64_t kSuddenMs = 100;
constexpr double kSuddenRecutFactor = 0.7;
constexpr double kGrowMs = 50;            // after a cut or an outage, the backlog must grow this much
constexpr int64_t kGraceMs = 1500;        // ... for this long (SRT drops stale packets up to ~1 s old)
constexpr int64_t kHoldMs = 1000;         // no raise this long after a cut; longer when probes keep failing
constexpr int kMaxRepeats = 1;
constexpr int64_t kRepeatWindowMs = 20'000;
constexpr int64_t kRaiseIntervalMs = 500;
constexpr int64_t kCalmMs = 1000;         // the backlog must stay low this long before a raise
constexpr double kCalmFraction = 0.75;    // "low" = under this share of the limit
// The backlog's floor (its low over the last second, so keyframe bursts do not count) this much
// above its low of the last 3 s is building: no raise, and when it lasts near the rate where the
// link congested, one careful step back instead of a later cut.
constexpr int64_t kFloorMs = 1000;
constexpr double kGrowSlackMs = 30;
constexpr double kGrowRtts = 0.5;
constexpr int64_t kEaseAfterMs = 500;     // building or queueing this long before easing
constexpr int64_t kConfirmMs = 1500;      // clear above the old rate this long: the link improved
// ... unless the RTT crept up meanwhile by half the queue slack: a queue forming slowly in the
// link, under the queueing threshold still (a probe 6% over a 700 kbit/s link fills a 200 ms
// router queue in 3 s). Seen: without this a probe past the rate the link had carried was taken
// for an improved link, the capacity forgotten, and the fast climb overflowed the link again.
constexpr double kConfirmRttShare = 0.5;
constexpr int64_t kAboveIntervalMs = 500; // raise interval once past the old rate
// Near the rate where the link congested, climb 3% a step; clearly past it, climb fast.
constexpr double kCarefulLow = 0.95;
constexpr double kCarefulHigh = 1.06;
constexpr double kCarefulStep = 0.03;
constexpr double kEaseStep = 0.04;
constexpr double kMaxEaseStep = 0.25;
constexpr int kCarefulMinStepKbps = 20;
constexpr double kFastStepFirst = 0.08;  // a slow start: the first steps past the old rate are small
constexpr double kFastStepGrowth = 0.05;
constexpr double kFastStepMax = 0.35;
constexpr int kFastMinStepKbps = 50;
constexpr int64_t kCapacityMemoryMs = 30'000;
// A sudden drop is drained at the floor: any rate near the link's leaves the queue the drop
// built standing (measured: 3000 → 750 kbps onto a 1 Mbit/s link with 128 kbps of audio took
// 2.5 s to drain, every frame meanwhile late). Once the link is clear, a keyframe repairs the
// picture at once and the bitrate settles at half of what the link seemed to carry, and at
// most a quarter of the stream before the drop: measured over the few tenths of a second
// before the cut, what the link carried reads 0.7 to 2 times the truth (by then the receiver
// skips what came too late, and its acknowledgements count those as delivered), and a second
// overflow costs as many frames as the first. Careful probing finds the rest, watching the RTT.
constexpr double kSettleShare = 0.5;
constexpr double kSettleAtMost = 0.25;
constexpr int64_t kSuddenMemoryMs = 10'000;
constexpr double kCarriedBias = 0.85;     // the measured rate above errs high more than low
constexpr int64_t kMaxDrainMs = 2000;     // a link under the floor: settle anyway
// On the wire, video takes ~8% more than its bitrate: TS headers (2%), a PES header and the
// stuffing that ends each frame, SRT, UDP and IP headers (3.3% of a 1316-byte payload).
constexpr double kVideoOverhead = 1.08;

// (The small epsilon keeps 0.85 x 2000 at 1700, not 1690.)
int round_down_10(double kbps) { return static_cast<int>(std::floor(kbps / 10 + 1e-6) * 10); }

}  // namespace

const char* to_string(AbrPhase phase) {
  switch (phase) {
    case AbrPhase::steady: return "steady";
    case AbrPhase::congested: return "congested";
    case AbrPhase::draining: return "draining";
    case AbrPhase::probing: return "probing";
    case AbrPhase::outage: return "outage";
  }
  return "?";
}

BitrateController::BitrateController(int min_kbps, int max_kbps, int latency_ms, int fixed_kbps)
    : min_kbps_(std::min(min_kbps, max_kbps)),
      max_kbps_(max_kbps),
      latency_ms_(latency_ms),
      fixed_kbps_(std::max(0, fixed_kbps)),
      target_kbps_(max_kbps) {}

double BitrateController::wire_kbps(double video_kbps) const { return video_kbps * kVideoOverhead + fixed_kbps_; }

int BitrateController::video_kbps(double wire_kbps) const {
  return std::max(0, round_down_10((wire_kbps - fixed_kbps_) / kVideoOverhead));
}

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

BitrateDecision BitrateController::update(const LinkSample& sample) {
  if (sample.connection != connection_ || !sample.connected) restart_windows(sample);
  if (!sample.connected || sample.peer_silent_ms >= kPeerQuietMs) return outage(sample);
  const Signals s = read_link(sample);
  const BitrateDecision decision = decide(sample, s);
  remember(sample);
  return decision;
}

BitrateDecision BitrateController::outage(const LinkSample& sample) {
  phase_ = AbrPhase::outage;
  over_since_ms_ = -1;
  calm_since_ms_ = sample.now_ms;
  // When the peer speaks again, the backlog it left behind is not new congestion.
  grace_until_ms_ = sample.now_ms + kGraceMs;
  grace_backlog_ms_ = sample.send_buffer_ms;
  return {target_kbps_, false, ""};
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
  // climb again. (Above the floor it may be a queue of ours: easing tells, see below.)
  if (!s.queueing || std::abs(recent_rtt_ms - queueing_rtt_ms_) >= kShrinkMs) {
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
  // what is sent (jitter and loss raise the RTT or the loss but not both). No waiting.
  s.sudden = sample.rtt_ms > rtt_base_ms_ + std::max(kSuddenQueueMs, latency_ms_ / 4.0) &&
             delivered_ratio(sample, false) < kSuddenRatio;
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

BitrateDecision BitrateController::decide(const LinkSample& sample, const Signals& s) {
  BitrateDecision decision{target_kbps_, false, ""};
  // Frames were lost while the link was jammed; now it is clear: a keyframe repairs the picture
  // at once instead of at the next scheduled one.
  const bool keyframe = !draining_ && frames_at_risk_ && !s.late && !s.sudden && sample.send_buffer_ms <= s.limit_ms;
  if (keyframe) {
    frames_at_risk_ = false;
    capacity_kbps_ = std::min(max_kbps_, round_down_10(target_kbps_ / kSuddenRecutFactor));
    capacity_at_ms_ = sample.now_ms;
  }
  if (!s.filling && !s.queueing) {
    building_since_ms_ = -1;
    eased_at_rtt_ms_ = 0;
  }
  if (draining_) {
    // Cut to the floor for a sudden drop: nothing to do but wait for the link to clear (the RTT
    // back near its floor, the backlog gone), or for a link that stays under the floor.
    const bool clear = sample.send_buffer_ms <= s.limit_ms &&
                       sample.rtt_ms <= queue_ceiling_ms();
    if (clear || sample.now_ms - sudden_at_ms_ >= kMaxDrainMs) {
      decision = end_drain(sample);
    } else {
      phase_ = AbrPhase::draining;
      // The first frames that get through in time start the picture again, before the drain
      // is seen to be over (the RTT clears a few hundred ms late).
      if (sample.now_ms >= next_drain_keyframe_ms_) {
        decision.keyframe = true;
        next_drain_keyframe_ms_ = sample.now_ms + recovery_keyframe_interval_ms(latency_ms_);
      }
    }
  } else if (s.over || (s.hard && sample.now_ms >= grace_until_ms_)) {
    // Packets the receiver gives up on are frames lost: cut again soon while that lasts.
    if (sample.now_ms >= next_cut_ms_ || ((s.late_long || s.emergency) && sample.now_ms >= last_cut_ms_ + kLateCutSpacingMs))
      decision = cut(sample, s.limit_ms, s.hard && !s.over, s.sudden, s.late_long);
    else phase_ = AbrPhase::congested;
  } else if (s.filling || (s.queueing && capacity_kbps_ > 0 && !draining(sample))) {
    // Filling up or queueing, not (yet) congested: on a link known to be narrow, step back a little.
    if (building_since_ms_ < 0) building_since_ms_ = sample.now_ms;
    above_since_ms_ = -1;  // not clear of the old rate after all
    // (Queueing always counts: a remembered capacity can be wrong, and a queue growing in the
    // link drops frames when it is full wherever the capacity was thought to be.)
    const bool eligible = s.queueing || (near_capacity() && !in_episode_);
    if (eligible && sample.now_ms >= next_raise_ms_ && sample.now_ms >= grace_until_ms_ &&
        sample.now_ms - building_since_ms_ >= kEaseAfterMs) {
      if (!s.filling && eased_at_rtt_ms_ > 0 && std::abs(sample.rtt_ms - eased_at_rtt_ms_) < kShrinkMs) {
        // Easing left the RTT where it was, neither down nor growing: the path itself got
        // longer. That is the new floor. (Still growing: the queue is ours, ease again.)
        reset_rtt_floor(sample.now_ms, sample.rtt_ms);
        eased_at_rtt_ms_ = 0;
        building_since_ms_ = -1;
      } else {
        eased_at_rtt_ms_ = s.filling ? 0 : sample.rtt_ms;
        decision = ease(sample, !s.filling);
      }
    }
    else if (sample.send_buffer_ms > s.limit_ms)
      phase_ = AbrPhase::draining;
  } else if (sample.send_buffer_ms > s.limit_ms) {
    phase_ = AbrPhase::draining;
  } else if (sample.now_ms - calm_since_ms_ >= kCalmMs && sample.now_ms >= next_raise_ms_ &&
             target_kbps_ < max_kbps_ &&
             sample.rtt_ms <= queue_ceiling_ms()) {
    // (Not while the RTT is up right now: a queue may be forming. A keyframe's burst only
    // postpones the step by a moment.)
    decision = raise(sample);
  } else if (phase_ != AbrPhase::probing || target_kbps_ >= max_kbps_) {
    phase_ = AbrPhase::steady;
  }

  decision.keyframe = decision.keyframe || keyframe;
  return decision;
}

void BitrateController::remember(const LinkSample& sample) {
  window_.push_back({sample.now_ms, sample.packets_submitted, sample.send_buffer_packets, sample.packets_dropped,
                     sample.packets_sent, sample.packets_lost, sample.send_buffer_ms, sample.rtt_ms});
  while (!window_.empty() && window_.front().now_ms < sample.now_ms - kWindowMs) window_.pop_front();
  previous_ = sample;
  have_previous_ = true;
}

BitrateDecision BitrateController::cut(const LinkSample& sample, double limit_ms, bool hard_only, bool sudden,
                                       bool late) {
  phase_ = AbrPhase::congested;
  const double ratio = delivered_ratio(sample, sudden || late);
  double factor = std::clamp(kCutMargin * ratio, in_episode_ ? kMinRecutFactor : kMinCutFactor, kMaxCutFactor);
  // The first cut of a sudden drop drains at the floor (below), so a sudden cut here is a later one.
  const bool drain = sudden && !in_episode_;
  if (sudden) factor = std::max(kMinCutFactor, std::min(factor, kSuddenRecutFactor));
  const int before = target_kbps_;
  // What the link carried, audio and headers included: the cut keeps the whole stream under it.
  const double carried_kbps = wire_kbps(before) * ratio;
  // Cuts of one congestion episode are one; a failed probe soon after the last one waits longer.
  if (!in_episode_) {
    const bool soon = probing_since_ms_ >= 0 && sample.now_ms - probing_since_ms_ < kRepeatWindowMs;
    repeated_cuts_ = soon ? std::min(repeated_cuts_ + 1, kMaxRepeats) : 0;
    in_episode_ = true;
  }
  last_cut_ms_ = sample.now_ms;
  above_since_ms_ = -1;
  grace_until_ms_ = sample.now_ms + kGraceMs;
  grace_backlog_ms_ = sample.send_buffer_ms;
  next_cut_ms_ = sample.now_ms + std::max<int64_t>(kMinCutSpacingMs, int64_t(2 * sample.rtt_ms));
  next_raise_ms_ = sample.now_ms + kHoldMs * (1 + repeated_cuts_);
  raise_step_ = kFastStepFirst;
  if (ratio < kMeasuredRatio)
    capacity_kbps_ = std::max(min_kbps_, video_kbps(carried_kbps));
  else if (capacity_kbps_ == 0 || capacity_kbps_ > before)
    capacity_kbps_ = std::max(min_kbps_, video_kbps(wire_kbps(before) * kCapacityAtMost));
  capacity_at_ms_ = sample.now_ms;
  if (before <= min_kbps_) return {target_kbps_, false, ""};
  if (drain) {
    draining_ = true;
    sudden_at_ms_ = sample.now_ms;
    next_drain_keyframe_ms_ = sample.now_ms + recovery_keyframe_interval_ms(latency_ms_);
    drain_before_kbps_ = before;
    // What the link delivered since the drop showed (the queue it built was full by then), not
    // over the good moments before it.
    drain_ratio_ = std::min(ratio, delivered_since(sample, sudden_since_ms_, false));
    phase_ = AbrPhase::draining;
    ++decreases_;
    ++cuts_;
    return set(min_kbps_, fmt::format("sudden drop: RTT {:.0f} ms (floor {:.0f}), the link delivered {:.0f}% of "
                                      "the {:.0f} kbps sent; draining at the floor",
                                      sample.rtt_ms, rtt_base_ms_, drain_ratio_ * 100, wire_kbps(before)));
  }
  const std::string why =
      hard_only ? fmt::format("packets dropped as too late ({} by SRT, {} by the queue)",
                              sample.packets_dropped - previous_.packets_dropped,
                              sample.queue_drops - previous_.queue_drops)
                : fmt::format("send buffer {:.0f} ms over {:.0f} ms, RTT {:.0f} ms (floor {:.0f})", sample.send_buffer_ms,
                              limit_ms, sample.rtt_ms, rtt_base_ms_);
  ++decreases_;
  ++cuts_;
  return set(std::max(min_kbps_, video_kbps(wire_kbps(before) * factor)),
             fmt::format("congestion: {}, link delivered {:.0f}% of what was sent", why, ratio * 100));
}

BitrateDecision BitrateController::raise(const LinkSample& sample) {
  phase_ = AbrPhase::probing;
  if (in_episode_) probing_since_ms_ = sample.now_ms;
  in_episode_ = false;
  next_raise_ms_ = sample.now_ms + kRaiseIntervalMs;
  if (capacity_kbps_ > 0 && sample.now_ms - capacity_at_ms_ > kCapacityMemoryMs) capacity_kbps_ = 0;
  // Clear of the old rate for a while without the backlog building: the link has improved.
  if (above_since_ms_ >= 0 && sample.now_ms - above_since_ms_ >= kConfirmMs) capacity_kbps_ = 0;
  int next;
  std::string how;
  if (capacity_kbps_ == 0) {
    next = target_kbps_ + std::max(kFastMinStepKbps, round_down_10(target_kbps_ * raise_step_));
    // Soon after a sudden drop the link's rate is not known (see kSettleShare): no growing steps.
    if (sudden_at_ms_ < 0 || sample.now_ms - sudden_at_ms_ >= kSuddenMemoryMs)
      raise_step_ = std::min(kFastStepMax, raise_step_ + kFastStepGrowth);
    above_since_ms_ = -1;
    how = "link clear";
  } else if (target_kbps_ < kCarefulLow * capacity_kbps_) {
    next = std::max(target_kbps_ + kCarefulMinStepKbps,
                    std::min(target_kbps_ + std::max(kFastMinStepKbps, round_down_10(target_kbps_ * raise_step_)),
                             round_down_10(kCarefulLow * capacity_kbps_)));
    how = fmt::format("up toward the {} kbps the link last carried", capacity_kbps_);
  } else {
    next = target_kbps_ + std::max(kCarefulMinStepKbps, round_down_10(target_kbps_ * kCarefulStep));
    // Past the old rate every step must prove itself longer before the next.
    if (target_kbps_ >= capacity_kbps_) next_raise_ms_ = sample.now_ms + kAboveIntervalMs;
    if (next >= kCarefulHigh * capacity_kbps_ && above_since_ms_ < 0) {
      above_since_ms_ = sample.now_ms;
      above_rtt_ms_ = 0;  // the next sample's
    }
    how = fmt::format("careful step near the {} kbps the link last carried", capacity_kbps_);
  }
  ++increases_;
  return set(std::min(max_kbps_, next), "probing: " + how);
}

BitrateDecision BitrateController::ease(const LinkSample& sample, bool queueing) {
  // A queue growing by x ms a second means the stream is x/1000 over what the link carries:
  // step back by that much and a little more.
  double step = kEaseStep;
  const auto then = std::find_if(window_.begin(), window_.end(),
                                 [&](const Point& p) { return p.now_ms >= sample.now_ms - kFloorMs; });
  if (queueing && then != window_.end() && sample.now_ms - then->now_ms >= kFloorMs / 2) {
    const double growth = (sample.rtt_ms - then->rtt_ms) / double(sample.now_ms - then->now_ms);
    step = std::clamp(growth + kEaseStep, kEaseStep, kMaxEaseStep);
  }
  const std::string near =
      capacity_kbps_ > 0 ? fmt::format(" near the {} kbps the link last carried",
                                       std::min(capacity_kbps_, target_kbps_))
                         : std::string();
  // The rate that built the queue is more than the link carries, whatever was thought before;
  // when nothing was known, it is now the rate to climb back to carefully (a fast climb from
  // here would overflow the link again).
  capacity_kbps_ = capacity_kbps_ > 0 ? std::min(capacity_kbps_, target_kbps_) : target_kbps_;
  next_raise_ms_ = sample.now_ms + kHoldMs;
  above_since_ms_ = -1;
  capacity_at_ms_ = sample.now_ms;  // the old rate still holds
  ++decreases_;
  const std::string why = queueing ? fmt::format("RTT {:.0f} ms over its {:.0f} ms floor", sample.rtt_ms, rtt_base_ms_)
                                   : std::string("send buffer building up");
  return set(std::min(target_kbps_ - kCarefulMinStepKbps, video_kbps(wire_kbps(target_kbps_) * (1 - step))),
             "easing: " + why + near);
}

BitrateDecision BitrateController::end_drain(const LinkSample& sample) {
  const double ratio = drain_ratio_;
  const double carried_kbps = wire_kbps(drain_before_kbps_) * ratio;
  capacity_kbps_ = std::clamp(video_kbps(carried_kbps * kCarriedBias), min_kbps_, drain_before_kbps_);
  const int settle_kbps =
      std::clamp(video_kbps(std::min(carried_kbps * kSettleShare, wire_kbps(drain_before_kbps_) * kSettleAtMost)),
                 min_kbps_, drain_before_kbps_);
  draining_ = false;
  frames_at_risk_ = false;  // the keyframe below repairs what the drop damaged
  phase_ = AbrPhase::steady;
  over_since_ms_ = -1;
  grace_until_ms_ = sample.now_ms;
  next_raise_ms_ = sample.now_ms + kHoldMs;
  capacity_at_ms_ = sample.now_ms;
  BitrateDecision decision =
      set(std::max(target_kbps_, settle_kbps),
          fmt::format("link clear after {} ms at the floor; it carried ~{:.0f} kbps ({:.0f}% of the stream, "
                      "~{} kbps of video): settling under that",
                      sample.now_ms - sudden_at_ms_, carried_kbps, ratio * 100, capacity_kbps_));
  decision.keyframe = true;
  return decision;
}

void BitrateController::follow(int kbps) { target_kbps_ = std::clamp(kbps, min_kbps_, max_kbps_); }

BitrateDecision BitrateController::set(int kbps, std::string reason) {
  kbps = std::clamp(kbps, min_kbps_, max_kbps_);
  const bool changed = kbps != target_kbps_;
  target_kbps_ = kbps;
  if (changed) last_reason_ = reason;
  return {kbps, changed, changed ? std::move(reason) : std::string()};
}

}  // namespace onair::uplink
