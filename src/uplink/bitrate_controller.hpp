// The adaptive bitrate controller: pure logic, time passed in. One instance follows one
// destination's SRT statistics and decides the video bitrate the encoder should produce.
//
// Congestion is read from what the link fails to deliver, not from noise: a send buffer
// (packets not yet acknowledged) that outgrows the round trip, or packets dropped as too late
// by SRT or by onair's own queue. Random loss and jitter make the buffer wobble but not grow,
// so they do not lower the bitrate. On congestion it cuts at once to just under what the link
// delivered, the audio and headers counted; a sudden drop goes to the floor until the queue it
// built is gone, then settles low with a keyframe. It then probes upward gently near the rate
// where congestion happened, stepping back as soon as the RTT shows a queue, and quickly once
// it is clearly past it, so a recovered network gets the full bitrate back within seconds. While the peer is silent or the link is down it
// holds: an outage is not congestion, and the reconnected link starts where it left off.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <utility>

namespace onair::uplink {

// One statistics sample of one destination (see SenderStats); counters are lifetime totals.
struct LinkSample {
  int64_t now_ms = 0;                // any monotonic clock, milliseconds
  bool connected = false;
  uint64_t connection = 0;           // changes whenever a new connection starts (e.g. reconnects)
  double rtt_ms = 0;
  double send_buffer_ms = 0;         // age span of the packets SRT holds unacknowledged
  uint64_t send_buffer_packets = 0;
  uint64_t packets_submitted = 0;    // handed to SRT
  uint64_t packets_sent = 0;         // sent by SRT, retransmissions included
  uint64_t packets_lost = 0;         // reported lost by the receiver
  uint64_t packets_dropped = 0;      // dropped by SRT as too late to send
  uint64_t queue_drops = 0;          // dropped by onair's send queue (link slower than the stream)
  int64_t peer_silent_ms = 0;        // how long the peer has said nothing while data waits
};

enum class AbrPhase {
  steady,     // at the ceiling, or holding after a change
  congested,  // the link does not carry the current bitrate; cutting
  draining,   // cut below the link's rate; waiting for the backlog to clear
  probing,    // the link is clear: climbing back toward the ceiling
  outage,     // disconnected or the peer is silent: holding the bitrate
};
const char* to_string(AbrPhase phase);

struct BitrateDecision {
  int kbps = 0;
  bool changed = false;
  std::string reason;  // why it changed (empty when it did not)
  bool keyframe = false;  // the link just cleared after frames were lost: ask the encoder for one
};

class BitrateController {
 public:
  // `latency_ms`: the link's SRT latency; packets older than that are given up by the receiver.
  // `fixed_kbps`: what the stream carries besides the video at any video bitrate (audio, tables,
  // their headers): a link that carries X kbps carries (X - fixed) / 1.08 of video.
  BitrateController(int min_kbps, int max_kbps, int latency_ms, int fixed_kbps = 0);

  // Feed every statistics sample (e.g. every 50 ms); returns the bitrate to use now.
  BitrateDecision update(const LinkSample& sample);
  // The encoder runs at `kbps` for another reason (another destination, the API): adapt from there.
  void follow(int kbps);

  int target_kbps() const { return target_kbps_; }
  AbrPhase phase() const { return phase_; }
  // The video bitrate the link carried when it last congested; 0 when unknown or outgrown.
  int capacity_kbps() const { return capacity_kbps_; }
  const std::string& last_reason() const { return last_reason_; }
  double rtt_floor_ms() const { return rtt_base_ms_; }  // the lowest RTT of the last 30 s
  uint64_t decreases() const { return decreases_; }  // every step down, cuts and eases
  uint64_t cuts() const { return cuts_; }            // decisive cuts for congestion
  uint64_t increases() const { return increases_; }
  int min_kbps() const { return min_kbps_; }
  int max_kbps() const { return max_kbps_; }

 private:
  struct Point {
    int64_t now_ms;
    uint64_t submitted;
    uint64_t buffered;
    uint64_t dropped;
    uint64_t sent;
    uint64_t lost;
    double buffer_ms;
    double rtt_ms;
  };
  // What one sample says about the link (read_link also moves the clocks they depend on).
  struct Signals {
    double limit_ms = 0;     // the send buffer's backlog limit
    bool hard = false;       // packets dropped as too late since the last sample
    double recent_rtt_ms = 0;  // the lowest RTT of the last 300 ms
    bool queueing = false;   // the RTT shows a standing queue in the link
    bool late = false;       // ... with packets nearly as old as the latency
    bool late_long = false;  // ... for kOverMs
    bool sudden = false;     // a sudden drop: a queue appeared and the link stopped delivering
    bool emergency = false;  // ... for kSuddenMs
    bool over = false;       // congested: cut
    bool filling = false;    // the backlog is building up
  };
  // update() in steps: an outage holds the bitrate; otherwise read the link, decide, remember.
  BitrateDecision outage(const LinkSample& sample);
  Signals read_link(const LinkSample& sample);
  BitrateDecision decide(const LinkSample& sample, const Signals& s);
  void remember(const LinkSample& sample);
  void restart_windows(const LinkSample& sample);
  double delivered_ratio(const LinkSample& sample, bool count_loss) const;
  double delivered_since(const LinkSample& sample, int64_t from_ms, bool count_loss) const;
  bool backlog_over(const LinkSample& sample, double limit_ms);
  bool draining(const LinkSample& sample) const;
  bool building(const LinkSample& sample) const;
  void note_rtt(int64_t now_ms, double rtt_ms);
  void reset_rtt_floor(int64_t now_ms, double rtt_ms);  // the RTT floor starts again from this RTT
  double queue_ceiling_ms() const;  // an RTT above this shows a queue in the link
  bool near_capacity() const;
  BitrateDecision ease(const LinkSample& sample, bool queueing, double min_step);
  BitrateDecision cut(const LinkSample& sample, double limit_ms, bool hard_only, bool sudden, bool late);
  BitrateDecision raise(const LinkSample& sample);
  BitrateDecision set(int kbps, std::string reason);
  int bitrate_at(int64_t ms) const;  // the bitrate then, as far as the raises since tell
  // A step through a sudden drop's reading (or, where it read nothing, up from it) lately.
  bool rough_step_within(int64_t now_ms, int64_t ms) const;
  BitrateDecision end_drain(const LinkSample& sample);
  double wire_kbps(double video_kbps) const;  // what a video bitrate takes on the link
  int video_kbps(double wire_kbps) const;     // the video bitrate a link rate carries

  const int min_kbps_;
  const int max_kbps_;
  const int latency_ms_;
  const int fixed_kbps_;
  int target_kbps_;
  AbrPhase phase_ = AbrPhase::steady;
  std::string last_reason_;
  uint64_t decreases_ = 0;
  uint64_t cuts_ = 0;
  uint64_t increases_ = 0;

  uint64_t connection_ = 0;
  bool have_previous_ = false;
  LinkSample previous_{};
  std::deque<Point> window_;      // the last ~3 s of this connection
  std::deque<std::pair<int64_t, double>> rtt_lows_;  // (second, lowest RTT in it)
  double rtt_base_ms_ = 0;        // lowest RTT of the last 30 s
  int64_t over_since_ms_ = -1;    // backlog above the limit since then (-1: it is not)
  int64_t calm_since_ms_ = 0;     // backlog comfortably low since then
  int64_t building_since_ms_ = -1;
  int64_t late_since_ms_ = -1;
  int64_t sudden_since_ms_ = -1;
  bool frames_at_risk_ = false;   // the receiver was losing packets since the last keyframe request
  double eased_at_rtt_ms_ = 0;    // RTT (its 300 ms low) when the last ease for queueing happened
  bool eased_flat_ = false;       // ... and an ease since left it there
  int64_t queueing_since_ms_ = -1;  // the RTT has stood this high (queueing_rtt_ms_) since then
  double queueing_rtt_ms_ = 0;

  int capacity_kbps_ = 0;
  bool capacity_rough_ = false;   // ... as a sudden drop read it (see kSettleShare), not where the link congested
  // A sudden drop read nothing of the link (see end_drain): the fast climb grows at once, guarded
  // as the climb through a reading (rough_step_within()); a queue in the RTT eases at once.
  bool unread_ = false;
  int64_t capacity_at_ms_ = 0;
  int64_t above_since_ms_ = -1;   // clear above the remembered capacity since then
  double above_rtt_ms_ = 0;       // ... with the RTT (lowest of the last 300 ms) this low
  int64_t next_cut_ms_ = 0;
  int64_t next_raise_ms_ = 0;
  int64_t grace_until_ms_ = 0;     // until then only backlog growth past grace_backlog_ms_ counts
  double grace_backlog_ms_ = 0;
  int64_t last_cut_ms_ = -1;
  bool in_episode_ = false;       // cut, and not raised since
  int64_t probing_since_ms_ = -1; // the last episode ended (first raise after it)
  int repeated_cuts_ = 0;         // episodes that began soon after the previous one ended
  double raise_step_ = 0;         // the fast climb's current factor, growing while it succeeds
  std::deque<std::pair<int64_t, int>> raises_;  // the last raises: (when, the bitrate before)
  double raised_at_rtt_ms_ = 0;   // the RTT (its 300 ms low) at the last raise
  int64_t rough_raise_ms_ = -1;   // when the last such step was taken (an ease since does not undo it)
  // A sudden drop is drained at the floor; once the link is clear the bitrate settles here.
  bool draining_ = false;
  int64_t sudden_at_ms_ = -1;     // the last sudden drop's cut (the drain began then)
  int64_t next_drain_keyframe_ms_ = -1;  // while draining: a keyframe every half latency
  int drain_before_kbps_ = 0;     // the bitrate the drop hit
  double drain_ratio_ = 1;        // the share the link delivered from the drop to the cut
};

}  // namespace onair::uplink
