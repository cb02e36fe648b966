// The adaptive bitrate rules: what to do about what the link says (bitrate_signals.cpp) — cut,
// drain at the floor, ease back, raise. See bitrate_controller.hpp for the idea.
#include "uplink/bitrate_controller.hpp"
#include "uplink/bitrate_tuning.hpp"
#include "uplink/recovery_keyframes.hpp"
#include "uplink/uplink.hpp"  // kPeerQuietMs: no word from the peer is an outage, not congestion

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace onair::uplink {

using namespace abr_tuning;

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

BitrateDecision BitrateController::decide(const LinkSample& sample, const Signals& s) {
  BitrateDecision decision{target_kbps_, false, ""};
  // Frames were lost while the link was jammed; now it is clear: a keyframe repairs the picture
  // at once instead of at the next scheduled one.
  const bool keyframe = !draining_ && frames_at_risk_ && !s.late && !s.sudden && sample.send_buffer_ms <= s.limit_ms;
  if (keyframe) {
    frames_at_risk_ = false;
    capacity_kbps_ = std::min(max_kbps_, round_down_10(target_kbps_ / kSuddenRecutFactor));
    capacity_rough_ = false;
    unread_ = false;
    capacity_at_ms_ = sample.now_ms;
  }
  if (!s.filling && !s.queueing) {
    building_since_ms_ = -1;
    eased_at_rtt_ms_ = 0;
    eased_flat_ = false;
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
  } else if (s.filling || (s.queueing && (capacity_kbps_ > 0 || unread_) && !draining(sample))) {
    // Filling up or queueing, not (yet) congested: on a link known to be narrow (or just after a
    // sudden drop that read nothing of it), step back a little.
    if (building_since_ms_ < 0) building_since_ms_ = sample.now_ms;
    above_since_ms_ = -1;  // not clear of the old rate after all
    // (Queueing always counts: a remembered capacity can be wrong, and a queue growing in the
    // link drops frames when it is full wherever the capacity was thought to be.)
    const bool eligible = s.queueing || (near_capacity() && !in_episode_);
    if (eligible && sample.now_ms >= next_raise_ms_ && sample.now_ms >= grace_until_ms_ &&
        sample.now_ms - building_since_ms_ >= kEaseAfterMs) {
      // Easing left the RTT (its low: one sample may be a keyframe's burst) where it was,
      // neither down nor growing: the path itself got longer, or the rate is still over what a
      // narrow link carries and its queue stays full. A second, deeper step tells: a queue of
      // ours drains under it. Flat after that too: the path's own RTT, the new floor. (Growing:
      // the queue is ours, ease again.) Seen on bench-network steps: a 4% step back that left
      // the stream 3% over a 1 Mbit/s link left the RTT flat, the floor moved up to our queue,
      // and the climb that followed could not see it.
      const bool flat = !s.filling && eased_at_rtt_ms_ > 0 && std::abs(s.recent_rtt_ms - eased_at_rtt_ms_) < kShrinkMs;
      if (flat && eased_flat_) {
        reset_rtt_floor(sample.now_ms, s.recent_rtt_ms);
        eased_at_rtt_ms_ = 0;
        eased_flat_ = false;
        building_since_ms_ = -1;
      } else {
        eased_flat_ = flat;
        if (!flat) eased_at_rtt_ms_ = s.filling ? 0 : s.recent_rtt_ms;
        decision = ease(sample, !s.filling, flat ? kFlatEaseStep : kEaseStep);
      }
    }
    else if (sample.send_buffer_ms > s.limit_ms)
      phase_ = AbrPhase::draining;
  } else if (sample.send_buffer_ms > s.limit_ms) {
    phase_ = AbrPhase::draining;
  } else if (sample.now_ms - calm_since_ms_ >= kCalmMs && sample.now_ms >= next_raise_ms_ &&
             target_kbps_ < max_kbps_ &&
             sample.rtt_ms <= queue_ceiling_ms() &&
             !(rough_step_within(sample.now_ms, kRoughWaitMs) && s.recent_rtt_ms > raised_at_rtt_ms_ + kRoughCreepMs)) {
    // (Not while the RTT is up right now: a queue may be forming. A keyframe's burst only
    // postpones the step by a moment. Nor, 10% a step through what a sudden drop read, while
    // the RTT's low has crept up since the last step: that step may be filling a queue, and the
    // next would overflow it before the queue shows; a second tells. Seen on bench-network
    // steps: 1%, then 10%, then 20% over a 1 Mbit/s link in three steps, the RTT's low 21 → 30
    // → 37 ms, and a second sudden drop.)
    decision = raise(sample);
    raised_at_rtt_ms_ = s.recent_rtt_ms;
  } else if (phase_ != AbrPhase::probing || target_kbps_ >= max_kbps_) {
    phase_ = AbrPhase::steady;
  }

  decision.keyframe = decision.keyframe || keyframe;
  return decision;
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
  capacity_rough_ = false;
  unread_ = false;
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
  // Past what a sudden drop read, that takes a while well past it (see kRoughPast): then the
  // network is back, and the drop is over.
  const bool confirmed = above_since_ms_ >= 0 && sample.now_ms - above_since_ms_ >= kConfirmMs;
  const bool back = confirmed && capacity_rough_ && bitrate_at(sample.now_ms - kRoughHoldMs) >= kRoughPast * capacity_kbps_;
  if (back) {
    sudden_at_ms_ = -1;
    raise_step_ = kRoughStep + kFastStepGrowth;  // the climb through the reading was the fast climb's first steps
  }
  if (back || (confirmed && !capacity_rough_)) capacity_kbps_ = 0;
  if (capacity_kbps_ == 0) capacity_rough_ = false;
  int next;
  std::string how;
  if (capacity_kbps_ == 0) {
    next = target_kbps_ + std::max(kFastMinStepKbps, round_down_10(target_kbps_ * raise_step_));
    // Soon after a sudden drop the link's rate is not known (see kSettleShare): no growing steps,
    // unless the drop read nothing at all: then the climb itself finds it, guarded (see unread_).
    if (unread_ || sudden_at_ms_ < 0 || sample.now_ms - sudden_at_ms_ >= kSuddenMemoryMs)
      raise_step_ = std::min(kFastStepMax, raise_step_ + kFastStepGrowth);
    above_since_ms_ = -1;
    how = back      ? "well past what the sudden drop read and clear: the network is back"
          : unread_ ? "climbing fast to find the link: the sudden drop read nothing of it"
                    : "link clear";
  } else if (capacity_rough_) {
    // What a sudden drop read is no rate to creep up on (see kSettleShare): climb through it at
    // a steady pace, watching the RTT. A queue eases, and leaves a rate the link really carried
    // to step carefully around.
    next = target_kbps_ + std::max(kFastMinStepKbps, round_down_10(target_kbps_ * kRoughStep));
    if (next >= capacity_kbps_ && above_since_ms_ < 0) {
      above_since_ms_ = sample.now_ms;
      above_rtt_ms_ = 0;  // the next sample's
    }
    how = fmt::format("up through the ~{} kbps the sudden drop read", capacity_kbps_);
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
  if (capacity_rough_ || unread_) rough_raise_ms_ = sample.now_ms;
  if (next >= max_kbps_) unread_ = false;  // found: it carries the ceiling
  raises_.push_back({sample.now_ms, target_kbps_});
  while (raises_.size() > kRaisesKept) raises_.pop_front();
  return set(std::min(max_kbps_, next), "probing: " + how);
}

int BitrateController::bitrate_at(int64_t ms) const {
  const auto later = std::find_if(raises_.begin(), raises_.end(), [&](const auto& r) { return r.first > ms; });
  return later == raises_.end() ? target_kbps_ : later->second;
}

bool BitrateController::rough_step_within(int64_t now_ms, int64_t ms) const {
  return rough_raise_ms_ >= 0 && now_ms - rough_raise_ms_ < ms;
}

BitrateDecision BitrateController::ease(const LinkSample& sample, bool queueing, double min_step) {
  // A queue growing by x ms a second means the stream is x/1000 over what the link carries:
  // step back by that much and a little more.
  double step = min_step;
  const auto then = std::find_if(window_.begin(), window_.end(),
                                 [&](const Point& p) { return p.now_ms >= sample.now_ms - kFloorMs; });
  if (queueing && then != window_.end() && sample.now_ms - then->now_ms >= kFloorMs / 2) {
    const double growth = (sample.rtt_ms - then->rtt_ms) / double(sample.now_ms - then->now_ms);
    step = std::clamp(growth + min_step, min_step, kMaxEaseStep);
  }
  int next = std::min(target_kbps_ - kCarefulMinStepKbps, video_kbps(wire_kbps(target_kbps_) * (1 - step)));
  // Climbing through what a sudden drop read or fast, 8% a step or more into the unknown: the
  // steps taken shortly before the queue showed built it (see kUndoMs). Back under where they
  // began, at most kMaxEaseStep off. (Seen on bench-network steps: two steps 8% and 15% over a
  // 1 Mbit/s link, then four 4% eases a second apart while the router's queue overflowed: 45
  // frames lost.)
  // (The bitrate just before the first of those steps; with none, the bitrate now, and the step
  // back stays as above.)
  if ((capacity_rough_ || capacity_kbps_ == 0) && building_since_ms_ >= 0) {
    const int undo_kbps = bitrate_at(building_since_ms_ - kUndoMs - 1);
    next = std::max(std::min(next, video_kbps(wire_kbps(undo_kbps) * (1 - min_step))),
                    video_kbps(wire_kbps(target_kbps_) * (1 - kMaxEaseStep)));
  }
  const std::string near =
      capacity_kbps_ > 0 ? fmt::format(" near the {} kbps the link last carried",
                                       std::min(capacity_kbps_, target_kbps_))
                         : std::string();
  // The rate that built the queue is more than the link carries, whatever was thought before;
  // when nothing was known, or only what a sudden drop read, it is now the rate to climb back to
  // carefully (a fast climb from here would overflow the link again; a reading under the link
  // would be passed "clear" and taken for an improved link: seen in the link model, three
  // sudden drops in a minute on a 700 kbit/s link instead of one).
  capacity_kbps_ = capacity_kbps_ > 0 && !capacity_rough_ ? std::min(capacity_kbps_, target_kbps_) : target_kbps_;
  capacity_rough_ = false;
  unread_ = false;
  next_raise_ms_ = sample.now_ms + kHoldMs;
  above_since_ms_ = -1;
  capacity_at_ms_ = sample.now_ms;  // the old rate still holds
  ++decreases_;
  std::string why = queueing ? fmt::format("RTT {:.0f} ms over its {:.0f} ms floor", sample.rtt_ms, rtt_base_ms_)
                             : std::string("send buffer building up");
  if (min_step > kEaseStep) why += ", where the last step left it";
  return set(next, "easing: " + why + near);
}

BitrateDecision BitrateController::end_drain(const LinkSample& sample) {
  const double ratio = drain_ratio_;
  const double carried_kbps = wire_kbps(drain_before_kbps_) * ratio;
  capacity_kbps_ = std::clamp(video_kbps(carried_kbps * kCarriedBias), min_kbps_, drain_before_kbps_);
  // A reading at the floor read nothing (acknowledgements stalled before the cut: one packet lost
  // then waits for its resend, an RTT of 100 ms and more): 1.3 times it would prove nothing. The
  // link's rate is unknown: the fast climb finds it, guarded as the climb through a reading.
  // (Seen on bench-network: 12 of ~180 drops read 0-16% of the stream on a link carrying ~29%,
  // and careful steps above the floor then took 12.1 s to the ceiling after a 1 s dip.)
  capacity_rough_ = capacity_kbps_ > min_kbps_;
  unread_ = !capacity_rough_;
  if (unread_) capacity_kbps_ = 0;
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
