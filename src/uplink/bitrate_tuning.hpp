// Private to uplink/: the adaptive bitrate controller's tuning, shared by its two halves:
// bitrate_signals.cpp (what the link says) and bitrate_controller.cpp (what to do about it).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace onair::uplink::abr_tuning {

// The backlog SRT may hold before it counts as congestion: a lost packet waits about two round
// trips for its retransmission to be acknowledged, a twice-lost one three. Over that limit it
// is congestion when the link also delivers under 85% of what was sent; over the hard limit
// it is congestion anyway (random loss and jitter delay packets but deliver them all).
inline constexpr double kBacklogRtts = 3;
inline constexpr double kBacklogSlackMs = 60;
inline constexpr double kMinBacklogMs = 120;
inline constexpr double kHardBacklogMs = 250;
inline constexpr double kDeficitRatio = 0.85;
inline constexpr double kLateShare = 0.8;  // of the SRT latency: see `late` in read_link()
inline constexpr int64_t kOverMs = 300;    // the backlog must stay over the limit longer than a keyframe takes
// The RTT floor is the lowest RTT of the last 30 s: long enough that a queue we keep standing
// in the link (RTT up for seconds) does not become the new normal.
inline constexpr int64_t kRttBucketMs = 1000;
inline constexpr size_t kRttBuckets = 30;
// RTT this far over its floor: our packets queue in the link. No raise; and on a link known to
// be narrow, ease down until the queue is gone: a standing queue eats the time SRT has for
// retransmissions, and what the queue drops comes back too late.
inline constexpr double kQueueSlackMs = 20;
inline constexpr double kQueueRtts = 0.5;
inline constexpr int64_t kQueueWindowMs = 300;
inline constexpr int64_t kNewFloorMs = 3000;
inline constexpr int64_t kWindowMs = 3000;      // statistics history kept per connection
inline constexpr int64_t kRatioWindowMs = 500;  // delivered/submitted is measured over at most this,
inline constexpr int64_t kRatioLeadMs = 100;    // from a little before the backlog went over the limit
inline constexpr int64_t kMinRatioWindowMs = 150;
inline constexpr int64_t kTrendMs = 300;  // a backlog smaller than this long ago is draining
inline constexpr double kShrinkMs = 20;
inline constexpr double kShrinkShare = 0.9;
inline constexpr uint64_t kMinPacketsForRatio = 10;
// A cut lands just under what the link delivered: at least 15% and at most 75% off per step.
inline constexpr double kCutMargin = 0.85;
inline constexpr double kMaxCutFactor = kCutMargin;
inline constexpr double kMinCutFactor = 0.25;
inline constexpr double kMinRecutFactor = 0.75;    // later cuts of one episode correct the first: at most 25% off
inline constexpr double kCapacityAtMost = 0.9;     // a cut remembers at most 90% of the old rate as carried
inline constexpr double kMeasuredRatio = 0.95;     // below this the delivered share measures the link
inline constexpr int64_t kMinCutSpacingMs = 1000;  // a cut takes effect through the encoder and the backlog
inline constexpr int64_t kLateCutSpacingMs = 500;  // the encoder and the stale backlog need this long to show a cut
// A sudden drop (see read_link()) is drained at the floor (see kSettleShare); while it lasts after
// that, each later cut takes 30% off. When it clears, the link carries at least what drained it
// and less than the rate before the last cut.
inline constexpr double kSuddenQueueMs = 40;
inline constexpr double kSuddenRatio = 0.85;
inline constexpr int64_t kSuddenMs = 100;
inline constexpr double kSuddenRecutFactor = 0.7;
inline constexpr double kGrowMs = 50;      // after a cut or an outage, the backlog must grow this much
inline constexpr int64_t kGraceMs = 1500;  // ... for this long (SRT drops stale packets up to ~1 s old)
inline constexpr int64_t kHoldMs = 1000;   // no raise this long after a cut; longer when probes keep failing
inline constexpr int kMaxRepeats = 1;
inline constexpr int64_t kRepeatWindowMs = 20'000;
inline constexpr int64_t kRaiseIntervalMs = 500;
inline constexpr int64_t kCalmMs = 1000;       // the backlog must stay low this long before a raise
inline constexpr double kCalmFraction = 0.75;  // "low" = under this share of the limit
// The backlog's floor (its low over the last second, so keyframe bursts do not count) this much
// above its low of the last 3 s is building: no raise, and when it lasts near the rate where the
// link congested, one careful step back instead of a later cut.
inline constexpr int64_t kFloorMs = 1000;
inline constexpr double kGrowSlackMs = 30;
inline constexpr double kGrowRtts = 0.5;
inline constexpr int64_t kEaseAfterMs = 500;  // building or queueing this long before easing
inline constexpr int64_t kConfirmMs = 1500;   // clear above the old rate this long: the link improved
// ... unless the RTT crept up meanwhile by half the queue slack: a queue forming slowly in the
// link, under the queueing threshold still (a probe 6% over a 700 kbit/s link fills a 200 ms
// router queue in 3 s). Seen: without this a probe past the rate the link had carried was taken
// for an improved link, the capacity forgotten, and the fast climb overflowed the link again.
inline constexpr double kConfirmRttShare = 0.5;
inline constexpr int64_t kAboveIntervalMs = 500;  // raise interval once past the old rate
// Near the rate where the link congested, climb 3% a step; clearly past it, climb fast.
inline constexpr double kCarefulLow = 0.95;
inline constexpr double kCarefulHigh = 1.06;
inline constexpr double kCarefulStep = 0.03;
inline constexpr double kEaseStep = 0.04;
inline constexpr double kMaxEaseStep = 0.25;
inline constexpr double kFlatEaseStep = 0.15;  // the second step when the first left the RTT flat
inline constexpr int kCarefulMinStepKbps = 20;
inline constexpr double kFastStepFirst = 0.08;  // a slow start: the first steps past the old rate are small
inline constexpr double kFastStepGrowth = 0.05;
inline constexpr double kFastStepMax = 0.35;
inline constexpr int kFastMinStepKbps = 50;
inline constexpr int64_t kCapacityMemoryMs = 30'000;
// A sudden drop is drained at the floor: any rate near the link's leaves the queue the drop
// built standing (measured: 3000 → 750 kbps onto a 1 Mbit/s link with 128 kbps of audio took
// 2.5 s to drain, every frame meanwhile late). Once the link is clear, a keyframe repairs the
// picture at once and the bitrate settles at half of what the link seemed to carry, and at
// most a quarter of the stream before the drop: measured over the few tenths of a second
// before the cut, what the link carried reads 0.7 to 2 times the truth (by then the receiver
// skips what came too late, and its acknowledgements count those as delivered), and a second
// overflow costs as many frames as the first. Probing finds the rest, watching the RTT: it climbs
// through the reading 10% a step (measured on bench-network, 1 Mbit/s links: the reading was 1.0
// to 2.0 times the truth, so the link's own rate lies within 0.55 to 1.22 times the video rate
// it implies). 1.3 times the reading, held for a second and clear for kConfirmMs, is past any
// rate the narrow link could have: the network is back (a Wi-Fi dip often lasts a second), and
// the fast climb may grow. Until then, and for 10 s after the drop once the climb has met a
// queue and passed it carefully, its steps stay small. A reading at the floor read nothing (see
// end_drain): the fast climb grows at once, guarded like the climb through a reading.
inline constexpr double kSettleShare = 0.5;
inline constexpr double kSettleAtMost = 0.25;
inline constexpr int64_t kSuddenMemoryMs = 10'000;
inline constexpr double kRoughStep = 0.10;
inline constexpr double kRoughPast = 1.3;
inline constexpr int64_t kRoughHoldMs = 1000;
inline constexpr double kRoughCreepMs = 5;      // the RTT's low up this much since the last step:
inline constexpr int64_t kRoughWaitMs = 1000;   // no next step until this long after it
// A queue seen while climbing 8% a step or more (fast, or through a sudden drop's reading) was
// built by the steps of the last seconds: the send buffer's floor shows it a second or more late.
inline constexpr int64_t kUndoMs = 2000;
inline constexpr size_t kRaisesKept = 8;
inline constexpr double kCarriedBias = 0.85;  // the measured rate above errs high more than low
inline constexpr int64_t kMaxDrainMs = 2000;  // a link under the floor: settle anyway
// On the wire, video takes ~8% more than its bitrate: TS headers (2%), a PES header and the
// stuffing that ends each frame, SRT, UDP and IP headers (3.3% of a 1316-byte payload).
inline constexpr double kVideoOverhead = 1.08;

// (The small epsilon keeps 0.85 x 2000 at 1700, not 1690.)
inline int round_down_10(double kbps) { return static_cast<int>(std::floor(kbps / 10 + 1e-6) * 10); }

}  // namespace onair::uplink::abr_tuning
