// The adaptive bitrate controller, pure, with an injected clock: single decisions from exact
// samples, then whole scenarios through a link model (uplink_link_model.hpp), then the policy
// that picks one bitrate for several destinations.
#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "metrics/metrics.hpp"
#include "uplink/abr.hpp"
#include "uplink/bitrate_controller.hpp"
#include "uplink_link_model.hpp"

using namespace onair;
using namespace onair::uplink;
using onair::uplink::test::LinkConditions;
using onair::uplink::test::LinkModel;

namespace {

// A healthy sample at `t` ms: 40 ms RTT, 60 ms of buffer, 20 packets submitted per 50 ms.
LinkSample healthy(int64_t t) {
  LinkSample s;
  s.now_ms = t;
  s.connected = true;
  s.rtt_ms = 40;
  s.send_buffer_ms = 60;
  s.send_buffer_packets = 20;
  s.packets_submitted = uint64_t(t / 50) * 20;
  return s;
}

std::vector<config::Destination> destinations(std::vector<std::string> names) {
  std::vector<config::Destination> out;
  for (auto& name : names) {
    config::Destination d;
    d.name = std::move(name);
    d.url.latency_ms = 1000;
    out.push_back(d);
  }
  return out;
}

// A sample at `t` ms with this RTT and backlog (`buffered` packets spanning `buffer_ms`).
LinkSample sample_at(int64_t t, double rtt, double buffer_ms, uint64_t buffered) {
  LinkSample s = healthy(t);
  s.rtt_ms = rtt;
  s.send_buffer_ms = buffer_ms;
  s.send_buffer_packets = buffered;
  return s;
}

// Feeds healthy samples for `ms`, then returns the controller's state.
void settle(BitrateController& c, int64_t from, int64_t to) {
  for (int64_t t = from; t < to; t += 50) c.update(healthy(t));
}

// Healthy until t = 2000; then the link delivers half of what is sent, and from t = 2500 the
// backlog reads 400 ms: one cut, to 1700 kbps, the link known to carry 2000 (t = 2800 after).
BitrateController cut_once() {
  BitrateController c(500, 4000, 1000);
  settle(c, 0, 2000);
  const uint64_t submitted0 = healthy(2000).packets_submitted;
  for (int64_t t = 2000; t <= 2800; t += 50) {
    LinkSample s = healthy(t);
    s.send_buffer_packets = 20 + (s.packets_submitted - submitted0) / 2;
    if (t >= 2500) s.send_buffer_ms = 400;
    c.update(s);
  }
  return c;
}

// The drop of "a sudden drop is drained at the floor" (3000 kbps + audio onto a link carrying
// 30% of it), drained and settled; returns the time of the next sample (a clean link from then).
// `delivered`: the share acknowledged from the drop to the cut (0: the drop read nothing).
int64_t after_a_sudden_drop(BitrateController& c, double delivered = 0.3) {
  for (int64_t t = 0; t < 2000; t += 50) c.update(sample_at(t, 20, 30, 20));
  const uint64_t submitted0 = healthy(2000).packets_submitted;
  int64_t t = 2000;
  for (bool cut = false; !cut; t += 50) {
    const uint64_t piled = uint64_t((1 - delivered) * double(healthy(t).packets_submitted - submitted0));
    cut = c.update(sample_at(t, 220, 220, 20 + piled)).changed;
  }
  REQUIRE(c.phase() == AbrPhase::draining);
  for (const int64_t from = t; t < from + 600; t += 50) c.update(sample_at(t, 220 - double(t - from) / 5, 200, 200));
  c.update(sample_at(t, 22, 30, 20));
  return t + 50;
}

}  // namespace

TEST_CASE("one decision at a time: when it cuts, by how much, and when it holds") {
  // From t = 2000 the link delivers only a share of what is sent (the rest piles up in SRT's
  // buffer); from t = 2500 the buffer reads `buffer_ms`, for `over_for_ms`.
  struct Row {
    std::string what;
    double buffer_ms;
    double delivered;
    int64_t silent_ms;
    uint64_t srt_drops;
    int64_t over_for_ms;
    int expect_kbps;
  };
  const std::vector<Row> rows = {
      {"a buffer just under the limit (3 RTT + 60 ms) is fine", 179, 0.5, 0, 0, 1000, 4000},
      {"over the limit but under the hard one, all delivered (loss, jitter): fine", 240, 1.0, 0, 0, 1000, 4000},
      {"over the limit for less than 300 ms (a keyframe's way through): no cut", 400, 0.5, 0, 0, 250, 4000},
      {"over the limit, the link delivers half: cut to 85% of that", 400, 0.5, 0, 0, 300, 1700},
      {"over the hard limit, the link delivers all of it: still 15% off", 400, 1.0, 0, 0, 300, 3400},
      {"over the limit, the link delivers 10%: at most 75% off per step", 400, 0.1, 0, 0, 300, 1000},
      {"the peer is silent: an outage, not congestion, hold", 900, 0.0, 400, 0, 1000, 4000},
      {"SRT dropped 15% as too late: cut to 85% of the 85% delivered", 100, 1.0, 0, 30, 60, 2890},
  };
  for (const Row& row : rows) {
    CAPTURE(row.what);
    BitrateController c(500, 4000, 1000);
    settle(c, 0, 2000);
    REQUIRE(c.target_kbps() == 4000);
    const uint64_t submitted0 = healthy(2000).packets_submitted;
    for (int64_t t = 2000; t <= 2500 + row.over_for_ms; t += 50) {
      LinkSample s = healthy(t);
      const double submitted = double(s.packets_submitted - submitted0);
      s.send_buffer_packets = 20 + uint64_t(submitted * (1 - row.delivered));
      if (t >= 2500) {
        s.send_buffer_ms = row.buffer_ms;
        s.peer_silent_ms = row.silent_ms;
        s.packets_dropped = t > 2500 ? row.srt_drops : 0;
      }
      c.update(s);
    }
    CHECK(c.target_kbps() == row.expect_kbps);
    CHECK(c.decreases() == (row.expect_kbps < 4000 ? 1u : 0u));
  }
}

TEST_CASE("easing where no congestion is known yet: the reason names no link rate") {
  // At the ceiling, never cut: a queue forms (RTT 40 → 80 ms) and the backlog's floor rises to
  // 150 ms, under the limit. One careful step back, explained by what was seen, nothing more.
  BitrateController c(500, 4000, 1000);
  settle(c, 0, 2000);
  std::vector<std::string> reasons;
  for (int64_t t = 2000; t <= 5000; t += 50) {
    LinkSample s = healthy(t);
    s.rtt_ms = 80;
    s.send_buffer_ms = std::min(150.0, 60.0 + double(t - 2000) / 5);
    const BitrateDecision d = c.update(s);
    if (d.changed) reasons.push_back(d.reason);
  }
  REQUIRE_FALSE(reasons.empty());
  CHECK(reasons.front() == "easing: send buffer building up");
  // The rate that built the queue is now known to be too much: the climb back is careful.
  const int known = c.capacity_kbps();
  CHECK(known > c.target_kbps());
  CHECK(known < 4000);  // the last ease's rate: the one before it built the queue too
  std::string climb;
  for (int64_t t = 5050; t <= 9000 && climb.empty(); t += 50) {
    const BitrateDecision d = c.update(healthy(t));
    if (d.changed) climb = d.reason;
  }
  CHECK(climb.rfind("probing: ", 0) == 0);  // a careful step near it, not a fast climb ("link clear")
  CHECK(climb.find("the " + std::to_string(known) + " kbps the link last carried") != std::string::npos);
}

TEST_CASE("at the floor, an RTT that stays up 3 s becomes the new RTT floor, not sooner") {
  // At the bitrate floor (min = max) the RTT floor is 40 ms, so a queue shows from 60 ms. The
  // RTT rises to 55 ms (under that), then to 70 ms and stays: a narrow link's own delay. The
  // 3 s count from the first queueing sample, even though 70 is within 20 ms of the 55 before
  // it. (Seen on bench-network steps: counted from nothing, the floor jumped to the RTT of a
  // queue still draining after a sudden drop, and the drain was declared over 0.55 s in.)
  BitrateController c(500, 500, 1000);
  settle(c, 0, 2000);
  REQUIRE(c.rtt_floor_ms() == 40);
  for (int64_t t = 2000; t < 3000; t += 50) c.update(sample_at(t, 55, 60, 20));
  CHECK(c.rtt_floor_ms() == 40);
  int64_t t = 3000;
  for (; t < 8000 && c.rtt_floor_ms() == 40; t += 50) c.update(sample_at(t, 70, 60, 20));
  CHECK(c.rtt_floor_ms() == 70);
  CHECK(t - 3000 >= 3000);  // the first queueing sample is at 3000 + the 300 ms the RTT low needs
  CHECK(t - 3000 <= 3500);
}

TEST_CASE("an ease that leaves the RTT flat: a deeper step before the RTT counts as the path's own") {
  // Congestion at 4000 kbps is cut (the link known to carry 2000); then the RTT stands at 100 ms
  // over its 40 ms floor (queueing from 60 ms), with no backlog building. One ease leaves it
  // there: the path got longer, or the rate is still over a narrow link. A second, deeper step
  // tells. When the RTT stays (a longer path) it becomes the floor and the bitrate climbs back;
  // when the second step drains it (a queue of ours), the floor stays 40 ms. (With one step
  // only, the floor became our own queue's RTT.)
  for (const bool longer_path : {true, false}) {
    CAPTURE(longer_path);
    BitrateController c = cut_once();
    REQUIRE(c.target_kbps() == 1700);
    REQUIRE(c.rtt_floor_ms() == 40);
    double highest_floor = 0;
    std::vector<std::string> eases;
    size_t eases_at_new_floor = 0;
    for (int64_t t = 2850; t < 30'000; t += 50) {  // (under the 30 s the RTT floor is kept)
      LinkSample s = healthy(t);
      s.rtt_ms = longer_path || eases.size() < 2 ? 100 : 45;
      const BitrateDecision d = c.update(s);
      if (d.changed && d.reason.rfind("easing", 0) == 0) eases.push_back(d.reason);
      if (c.rtt_floor_ms() > 40 && eases_at_new_floor == 0) eases_at_new_floor = eases.size();
      highest_floor = std::max(highest_floor, c.rtt_floor_ms());
    }
    REQUIRE(eases.size() == 2);
    CHECK(eases[0].find("where the last step left it") == std::string::npos);
    CHECK(eases[1].find("RTT 100 ms over its 40 ms floor, where the last step left it") != std::string::npos);
    if (longer_path) {
      CHECK(eases_at_new_floor == 2);
      CHECK(c.rtt_floor_ms() == 100);
      CHECK(c.target_kbps() == 4000);
    } else {
      CHECK(highest_floor == 40);
    }
  }
}

TEST_CASE("a probe past the rate the link carried: an RTT creeping up keeps that rate in memory") {
  // Congestion at 4000 kbps (the link delivers half) is cut; the climb back passes the rate the
  // link carried. With the RTT flat the link has improved and that rate is forgotten; with the
  // RTT creeping up 12 ms a second (a queue forming at ~1% over a narrow link: the queueing
  // threshold, 60 ms, is crossed after 1.7 s) it is not, and the queue is eased off instead.
  for (const bool creeping : {false, true}) {
    CAPTURE(creeping);
    BitrateController c = cut_once();
    REQUIRE(c.target_kbps() == 1700);
    const int carried = c.capacity_kbps();
    REQUIRE(carried == 2000);
    int64_t t = 2850;
    for (; t < 20'000 && c.target_kbps() < 1.06 * carried; t += 50) c.update(healthy(t));
    REQUIRE(c.target_kbps() >= 1.06 * carried);
    const int64_t past = t;
    int forgotten_at = -1;
    const uint64_t decreases = c.decreases();
    for (; t <= past + 2500; t += 50) {
      LinkSample s = healthy(t);
      if (creeping) s.rtt_ms = 40 + 12.0 * double(t - past) / 1000;
      c.update(s);
      if (c.capacity_kbps() == 0 && forgotten_at < 0) forgotten_at = int(t - past);
    }
    if (creeping) {
      CHECK(forgotten_at == -1);
      CHECK(c.capacity_kbps() > 0);
      CHECK(c.decreases() == decreases + 1);
      CHECK(c.last_reason().rfind("easing: RTT", 0) == 0);
    } else {
      CHECK(forgotten_at > 0);
      CHECK(forgotten_at <= 2000);
    }
  }
}

TEST_CASE("never under the floor; a cut is not repeated while the backlog drains") {
  BitrateController c(500, 4000, 1000);
  settle(c, 0, 2000);
  // A deep, long congestion: the backlog keeps growing, the link delivers 10%.
  uint64_t buffered = 20;
  for (int64_t t = 2000; t < 8000; t += 50) {
    LinkSample s = healthy(t);
    buffered += 18;
    s.send_buffer_packets = buffered;
    s.send_buffer_ms = 200 + double(t - 2000) / 5;
    c.update(s);
    CHECK(c.target_kbps() >= 500);
  }
  CHECK(c.target_kbps() == 500);
  CHECK((c.phase() == AbrPhase::congested || c.phase() == AbrPhase::draining));

  // One cut, then a backlog that shrinks: no second cut while it drains, however high it still is.
  BitrateController d(500, 4000, 1000);
  settle(d, 0, 2000);
  for (int64_t t = 2000; t < 6000; t += 50) {
    LinkSample s = healthy(t);
    if (t < 2500) {  // building: the link delivers half
      s.send_buffer_ms = 400 + double(t - 2000) / 5;
      s.send_buffer_packets = 20 + uint64_t(t - 2000) / 5;
    } else {  // draining by 100 ms a second, still far over the limit
      s.send_buffer_ms = 500 - double(t - 2500) / 10;
    }
    d.update(s);
  }
  CHECK(d.decreases() == 1);
  CHECK(d.phase() != AbrPhase::congested);
}

namespace {

struct Phase {
  double seconds;
  LinkConditions link;
};

struct Expect {
  size_t phase;
  double from_s;  // seconds after the phase starts
  double to_s;    // ... until then (or the phase's end)
  int lo_kbps;
  int hi_kbps;
};

struct Scenario {
  std::string name;
  std::vector<Phase> phases;
  std::vector<Expect> expect;
  int max_cuts;  // decisive cuts over the whole run (careful 3% steps back do not count)
};

struct Run {
  std::vector<std::vector<std::pair<double, int>>> per_phase;  // (seconds into phase, kbps)
  uint64_t cuts = 0;
};

Run simulate(const Scenario& scenario, int min_kbps, int max_kbps) {
  BitrateController c(min_kbps, max_kbps, 1000);
  LinkModel link;
  Run run;
  int64_t now = 0;
  for (const Phase& phase : scenario.phases) {
    run.per_phase.emplace_back();
    for (double t = 0; t < phase.seconds * 1000; t += 50, now += 50) {
      const int kbps = c.update(link.step(now, 50, c.target_kbps(), phase.link)).kbps;
      run.per_phase.back().push_back({t / 1000, kbps});
    }
  }
  run.cuts = c.cuts();
  return run;
}

// The video bitrate a link of `capacity` carries with the model's overheads.
int fits(double capacity_kbps) { return int((capacity_kbps - LinkModel::kOverheadKbps) / 1.04); }

LinkConditions capped(double kbps) {
  LinkConditions l;
  l.capacity_kbps = kbps;
  return l;
}
// The bench-network path: 20 ms RTT, `kbps` wide.
LinkConditions path_20ms(double kbps) {
  LinkConditions l = capped(kbps);
  l.rtt_ms = 20;
  return l;
}
LinkConditions lossy(double pct, double rtt = 40) {
  LinkConditions l;
  l.loss_pct = pct;
  l.rtt_ms = rtt;
  return l;
}
LinkConditions jittery(double ms) {
  LinkConditions l;
  l.jitter_ms = ms;
  return l;
}
LinkConditions blackout() {
  LinkConditions l;
  l.silent = true;
  return l;
}
LinkConditions down() {
  LinkConditions l;
  l.connected = false;
  return l;
}

}  // namespace

TEST_CASE("scenarios through a link model: noise leaves it alone, congestion cuts at once, recovery is full") {
  const LinkConditions clean;
  constexpr double end = 1e9;
  const int f1200 = fits(1200), f2000 = fits(2000), f900 = fits(900);
  const std::vector<Scenario> scenarios = {
      {"a clean link above the ceiling: steady at the ceiling", {{60, clean}}, {{0, 0, end, 4000, 4000}}, 0},
      {"5% random loss: no reaction", {{60, lossy(5)}}, {{0, 0, end, 4000, 4000}}, 0},
      {"10% random loss on a 300 ms RTT: no reaction", {{60, lossy(10, 300)}}, {{0, 0, end, 4000, 4000}}, 0},
      {"50 ms jitter: no reaction", {{60, jittery(50)}}, {{0, 0, end, 4000, 4000}}, 0},
      {"bandwidth 5 → 1.2 → 5 Mbps: under the link within a second, back at the ceiling within 10 s",
       {{10, capped(5000)}, {20, capped(1200)}, {20, capped(5000)}},
       {{0, 0, end, 4000, 4000},
        {1, 0.8, 1.0, 500, f1200},
        {1, 4, end, int(0.65 * f1200), int(1.3 * f1200)},
        {2, 10, end, 4000, 4000}},
       6},
      {"a steady 2 Mbps link: stays within -25%..+20% of it, a decisive cut at most every 7.5 s",
       {{90, capped(2000)}},
       {{0, 1, end, 500, int(1.2 * f2000)}, {0, 5, end, int(0.75 * f2000), int(1.2 * f2000)}},
       12},
      {"a link that starts slow: found from the ceiling",
       {{30, capped(900)}},
       {{0, 3, end, 500, int(1.35 * f900)}, {0, 16, end, int(0.75 * f900), int(1.2 * f900)}},
       6},
      {"a link below the floor: rests at the floor", {{20, capped(300)}}, {{0, 5, end, 500, 500}}, 6},
      {"blackout 3 s, link declared dead, reconnected: the bitrate is held",
       {{10, clean}, {1, blackout()}, {2, down()}, {15, clean}},
       {{0, 0, end, 4000, 4000}, {1, 0, end, 4000, 4000}, {2, 0, end, 4000, 4000}, {3, 0, end, 4000, 4000}},
       0},
      {"a short silence that comes back on its own: no cut for the backlog it left",
       {{10, clean}, {0.8, blackout()}, {10, clean}},
       {{2, 0, end, 4000, 4000}},
       0},
  };
  for (const Scenario& scenario : scenarios) {
    CAPTURE(scenario.name);
    const Run run = simulate(scenario, 500, 4000);
    for (const Expect& e : scenario.expect) {
      CAPTURE(e.phase);
      CAPTURE(e.from_s);
      int lo = 1 << 30, hi = 0;
      for (const auto& [t, kbps] : run.per_phase[e.phase]) {
        if (t < e.from_s || t > e.to_s) continue;
        lo = std::min(lo, kbps);
        hi = std::max(hi, kbps);
      }
      CHECK(lo >= e.lo_kbps);
      CHECK(hi <= e.hi_kbps);
    }
    CHECK(run.cuts <= uint64_t(scenario.max_cuts));
  }
}

TEST_CASE("several destinations: 'primary' follows the first, 'worst' the neediest connected one") {
  auto stats = [](const std::string& name, int64_t t, bool connected, double buffer_ms, uint64_t buffered) {
    SenderStats s;
    s.name = name;
    s.state = connected ? LinkState::connected : LinkState::backoff;
    s.rtt_ms = 40;
    s.send_buffer_ms = buffer_ms;
    s.send_buffer_packets = buffered;
    s.packets_submitted = uint64_t(t / 50) * 20;
    return s;
  };
  struct Row {
    std::string policy;
    bool congested_connected;  // whether the congested destination is connected
    std::string congested;     // which destination congests
    int expect_kbps;
  };
  const std::vector<Row> rows = {
      {"primary", true, "main", 1700},
      {"primary", true, "backup", 4000},  // the backup's trouble is its own
      {"worst", true, "backup", 1700},
      {"worst", true, "main", 1700},
  };
  for (const Row& row : rows) {
    CAPTURE(row.policy);
    CAPTURE(row.congested);
    config::EncoderConfig encoder;
    encoder.abr_policy = row.policy;
    AdaptiveBitrate abr(encoder, destinations({"main", "backup"}));
    std::optional<int> applied;
    for (int64_t t = 0; t < 2900; t += 50) {
      for (const std::string name : {"main", "backup"}) {
        // The congested link delivers half of what is sent from t = 2000; its buffer shows it at 2500.
        const bool bad = t >= 2000 && name == row.congested;
        const double buffer_ms = bad && t >= 2500 ? 400 : 60;
        if (auto k = abr.on_stats(stats(name, t, true, buffer_ms, bad ? 20 + uint64_t(t - 2000) / 5 : 20), t).kbps)
          applied = k;
      }
    }
    CHECK(abr.target_kbps() == row.expect_kbps);
    CHECK(applied.value_or(4000) == row.expect_kbps);
  }
  // A destination that is down has no say under "worst".
  config::EncoderConfig encoder;
  encoder.abr_policy = "worst";
  AdaptiveBitrate abr(encoder, destinations({"main", "backup"}));
  for (int64_t t = 0; t < 3000; t += 50) {
    abr.on_stats(stats("main", t, true, 60, 20), t);
    abr.on_stats(stats("backup", t, false, 0, 0), t);
  }
  CHECK(abr.target_kbps() == 4000);
  const auto status = abr.status_json();
  CHECK(status["policy"] == "worst");
  CHECK(status["destinations"].size() == 2);

  // abr: false never decides anything.
  encoder.abr = false;
  AdaptiveBitrate off(encoder, destinations({"main"}));
  for (int64_t t = 0; t < 3000; t += 50) CHECK_FALSE(off.on_stats(stats("main", t, true, 900, 20 + uint64_t(t)), t).kbps.has_value());
}

TEST_CASE("a bitrate set through the API is the ceiling abr adapts under") {
  auto stats = [](int64_t t, double buffer_ms, uint64_t buffered, uint64_t queue_drops = 0) {
    SenderStats s;
    s.name = "main";
    s.queue_drops = queue_drops;
    s.state = LinkState::connected;
    s.rtt_ms = 40;
    s.send_buffer_ms = buffer_ms;
    s.send_buffer_packets = buffered;
    s.packets_submitted = uint64_t(t / 50) * 20;
    return s;
  };
  config::EncoderConfig encoder;  // 4000 kbps ceiling from the config
  AdaptiveBitrate abr(encoder, destinations({"main"}));
  abr.set_current(1000);
  CHECK(abr.target_kbps() == 1000);
  CHECK(abr.ceiling_kbps() == 1000);
  // A clean link for 30 s: the controller would climb back to 4000; the host's cap holds.
  for (int64_t t = 0; t < 30000; t += 50) CHECK_FALSE(abr.on_stats(stats(t, 60, 20), t).kbps.has_value());
  CHECK(abr.target_kbps() == 1000);
  CHECK(abr.status_json()["ceiling_kbps"] == 1000);
  // Congestion (the send queue dropping packets) still cuts below the cap.
  std::optional<int> applied;
  for (int64_t t = 30000; t < 32000; t += 50)
    if (auto k = abr.on_stats(stats(t, 600, 20 + uint64_t(t - 30000) / 5, uint64_t(t - 30000) / 50), t).kbps) applied = k;
  INFO(abr.status_json().dump());
  REQUIRE(applied.has_value());
  CHECK(*applied < 1000);
  // Raising the cap again lets it climb.
  abr.set_current(4000);
  CHECK(abr.ceiling_kbps() == 4000);
}

TEST_CASE("a sudden drop is drained at the floor, then settles under the link with a keyframe") {
  // 3000 kbps of video + 128 kbps of audio (157 kbps on the wire) over a 200 ms SRT latency;
  // from t = 2000 the link carries 30% of the stream: a queue of 200 ms builds at once.
  BitrateController c(300, 3000, 200, 157);
  for (int64_t t = 0; t < 2000; t += 50) c.update(sample_at(t, 20, 30, 20));
  REQUIRE(c.target_kbps() == 3000);
  const uint64_t submitted0 = healthy(2000).packets_submitted;
  int64_t t = 2000;
  BitrateDecision cut;
  for (; t < 3000 && !cut.changed; t += 50) {
    const uint64_t piled = uint64_t(0.7 * double(healthy(t).packets_submitted - submitted0));
    cut = c.update(sample_at(t, 220, 220, 20 + piled));
  }
  REQUIRE(cut.changed);
  CHECK(t <= 2400);  // within a few ticks, not after the usual 300 ms over the limit
  CHECK(cut.kbps == 300);
  CHECK(cut.reason.find("sudden drop") != std::string::npos);
  CHECK_FALSE(cut.keyframe);
  CHECK(c.phase() == AbrPhase::draining);
  // Draining: the RTT and the backlog come down slowly; the bitrate stays until the link is
  // clear, and from half a latency after the cut a keyframe is asked for every half latency, so
  // the first frames that get through in time start the picture again.
  const int64_t drain_from = t;
  std::vector<int64_t> keyframes;
  for (; t < drain_from + 600; t += 50) {
    const BitrateDecision d = c.update(sample_at(t, 220 - double(t - drain_from) / 5, 200, 200));
    CHECK_FALSE(d.changed);
    if (d.keyframe) keyframes.push_back(t - drain_from);
  }
  CHECK(keyframes == std::vector<int64_t>{50, 150, 250, 350, 450, 550});
  // Clear: a keyframe repairs the picture, and the bitrate settles under what the link carried
  // (~1020 kbps of the 3397 on the wire, 660 kbps of video): half of it, and at most a quarter of
  // the stream before the drop.
  const BitrateDecision settle = c.update(sample_at(t, 22, 30, 20));
  CHECK(settle.keyframe);
  CHECK(settle.changed);
  CHECK(settle.kbps > 300);
  CHECK(settle.kbps <= 640);
  CHECK(c.capacity_kbps() >= 500);
  CHECK(c.capacity_kbps() <= 900);
  // A clean link from here: it climbs back to the ceiling (past the remembered rate once it holds).
  int last = settle.kbps;
  for (t += 50; t < drain_from + 30000; t += 50) last = c.update(sample_at(t, 22, 30, 20)).kbps;
  CHECK(last == 3000);
}

TEST_CASE("a Wi-Fi dip: the network back within a few seconds of a sudden drop, the ceiling within 10 s of it") {
  // Through the link model: 4 Mbit/s, from t = 5 s a narrower link, 4 Mbit/s again from `back`.
  // What the drop read (see kSettleShare) is climbed through at a steady pace, and once the
  // stream has been well past it for a while the network counts as back: no careful steps around
  // the reading, no waiting 10 s for the fast climb.
  for (const double narrow_kbps : {700.0, 1000.0, 1500.0, 2000.0, 2500.0}) {
    for (const int64_t back : {5500, 6000, 7000, 8000}) {
      CAPTURE(narrow_kbps);
      CAPTURE(back);
      BitrateController c(300, 3000, 200, 157);
      LinkModel link(11);
      LinkConditions l = path_20ms(4000);
      bool drained = false;
      int careful = 0;  // steps around the reading, as around a rate the link congested at
      int64_t recovered = -1;
      for (int64_t t = 0; t < back + 20'000 && recovered < 0; t += 50) {
        l.capacity_kbps = t >= 5000 && t < back ? narrow_kbps : 4000;
        const BitrateDecision d = c.update(link.step(t, 50, c.target_kbps(), l));
        drained = drained || c.phase() == AbrPhase::draining;
        if (d.reason.find("careful step") != std::string::npos) ++careful;
        if (t >= back && c.target_kbps() >= 0.95 * 3000) recovered = t;
      }
      REQUIRE(drained);
      REQUIRE(recovered > 0);
      CHECK(recovered - back <= 10'000);
      CHECK(careful == 0);
    }
  }
}

TEST_CASE("a link that stays narrow after a sudden drop: the climb through the reading stops at the link") {
  // 4 Mbit/s, then a narrower link for good from t = 5 s: the network is never taken for back,
  // so the bitrate never runs far over the link and no second drop follows (an overflow of the
  // climb itself is cut as ordinary congestion).
  for (const double narrow_kbps : {700.0, 1000.0, 1500.0, 2000.0, 2500.0}) {
    CAPTURE(narrow_kbps);
    BitrateController c(300, 3000, 200, 157);
    LinkModel link(11);
    LinkConditions l = path_20ms(4000);
    int64_t t = 0;
    for (; t < 5000; t += 50) c.update(link.step(t, 50, c.target_kbps(), l));
    l.capacity_kbps = narrow_kbps;
    int highest = 0;
    int drains = 0;
    int64_t lowest_late = 1 << 30;  // the lowest bitrate over the last 10 s
    for (; t < 60'000; t += 50) {
      const BitrateDecision d = c.update(link.step(t, 50, c.target_kbps(), l));
      if (d.reason.rfind("sudden drop:", 0) == 0) ++drains;
      if (t >= 8000) highest = std::max(highest, c.target_kbps());
      if (t >= 50'000) lowest_late = std::min<int64_t>(lowest_late, c.target_kbps());
    }
    CHECK(drains == 1);
    // (The model's RTT shows a queue late: the climb goes up to two 10% steps past the link
    // before the first step back.)
    CHECK(highest <= 1.25 * fits(narrow_kbps));
    CHECK(lowest_late >= 0.6 * fits(narrow_kbps));
  }
}

TEST_CASE("a sudden drop that read nothing of the link: the fast climb finds it, guarded, and a dip is over within 10 s") {
  // Through the link model as above, but no acknowledgement comes back from the narrowing to the
  // cut (one lost packet waits for its resend, an RTT of 100 ms and more by then): the drop reads
  // 0% of the stream, the floor. Seen on bench-network in 12 of ~180 drops; careful steps above
  // the floor then took 12.1 s to the ceiling after a 1 s dip (in this model 11-12.75 s for a
  // return 0.5-2 s after the narrowing).
  for (const double narrow_kbps : {700.0, 1000.0, 1500.0, 2000.0, 2500.0}) {
    for (const int64_t back : {int64_t(5500), int64_t(6000), int64_t(7000), int64_t(60'000)}) {
      CAPTURE(narrow_kbps);
      CAPTURE(back);
      BitrateController c(300, 3000, 200, 157);
      LinkModel link(11);
      LinkConditions l = path_20ms(4000);
      uint64_t submitted_at_narrowing = 0;
      int drains = 0, careful = 0, highest = 0;
      int lowest_late = 1 << 30;  // over the last 10 s of a link that stays narrow
      int64_t recovered = -1;
      for (int64_t t = 0; t < 60'000 && recovered < 0; t += 50) {
        l.capacity_kbps = t >= 5000 && t < back ? narrow_kbps : 4000;
        LinkSample s = link.step(t, 50, c.target_kbps(), l);
        if (t == 5000) submitted_at_narrowing = s.packets_submitted;
        if (t >= 5000 && drains == 0) s.send_buffer_packets += s.packets_submitted - submitted_at_narrowing;
        const BitrateDecision d = c.update(s);
        if (d.reason.rfind("sudden drop:", 0) == 0) {
          ++drains;
          CHECK(d.reason.find("delivered 0%") != std::string::npos);
        }
        if (d.reason.find("careful step") != std::string::npos && t < back) ++careful;
        if (t >= 8000 && t < back) highest = std::max(highest, c.target_kbps());
        if (t >= 50'000) lowest_late = std::min(lowest_late, c.target_kbps());
        if (t >= back && c.target_kbps() >= 0.95 * 3000) recovered = t;
      }
      CHECK(drains == 1);  // the climb's own overflow is cut, not drained at the floor again
      if (back < 60'000) {
        REQUIRE(recovered > 0);
        CHECK(recovered - back <= 10'000);
        CHECK(careful == 0);
      } else {
        CHECK(highest <= 1.4 * fits(narrow_kbps));
        CHECK(lowest_late >= 0.6 * fits(narrow_kbps));
      }
    }
  }
}

TEST_CASE("after a sudden drop that read nothing: a queue in the RTT alone eases the fast climb") {
  // Where the link's rate is unknown otherwise a rising RTT is not enough to step back (it may be
  // the path's own), and the buffer shows a queue a second or more late. Just after a sudden drop
  // the link is the suspect. (Seen on bench-network without this: 950 kbps on a 1 Mbit/s link,
  // the RTT 26 -> 151 ms over 1.4 s with no step back, then a cut and 41 frames lost.)
  BitrateController c(300, 3000, 200, 157);
  int64_t t = after_a_sudden_drop(c, 0);
  REQUIRE(c.capacity_kbps() == 0);
  int raises = 0;
  for (; t < 20'000 && raises < 3; t += 50)
    if (c.update(sample_at(t, 22, 30, 20)).changed) ++raises;
  REQUIRE(raises == 3);
  CHECK(c.last_reason().find("the sudden drop read nothing") != std::string::npos);
  const int before = c.target_kbps();
  // The RTT up 40 ms, the backlog flat.
  const int64_t from = t;
  BitrateDecision ease;
  for (; t < from + 3000 && !ease.changed; t += 50) ease = c.update(sample_at(t, 62, 30, 20));
  REQUIRE(ease.changed);
  CAPTURE(ease.reason);
  CHECK(ease.reason.rfind("easing: RTT", 0) == 0);
  CHECK(ease.kbps < before);
  CHECK(t - from <= 1000);
}

TEST_CASE("after a sudden drop that read nothing: an overflow soon after a step of the climb is cut, not drained again") {
  // A step up, the link queueing (eased at once), and 100 ms later it stops delivering: the climb
  // overflowed the link it was finding. A cut of ordinary congestion answers, not a second drain at
  // the floor; the ease in between changes nothing. (Seen on bench-network: an ease 1.5 s after
  // such a step, and 0.1 s later a second sudden drop.)
  BitrateController c(300, 3000, 200, 157);
  int64_t t = after_a_sudden_drop(c, 0);
  int64_t raised = -1;
  for (int raises = 0; t < 20'000 && raises < 4; t += 50)
    if (c.update(sample_at(t, 22, 30, 20)).changed) {
      ++raises;
      raised = t;
    }
  REQUIRE(raised > 0);
  BitrateDecision ease;
  for (; t < raised + 1500 && !ease.changed; t += 50) ease = c.update(sample_at(t, 62, 30, 20));
  REQUIRE(ease.changed);
  REQUIRE(ease.reason.rfind("easing", 0) == 0);
  REQUIRE(t - raised < 1500);
  // Then a queue of a quarter of the latency and more, and nothing acknowledged.
  const uint64_t submitted0 = healthy(t).packets_submitted;
  BitrateDecision cut;
  for (const int64_t from = t; t < from + 1500 && !cut.changed; t += 50) {
    const uint64_t piled = healthy(t).packets_submitted - submitted0;
    cut = c.update(sample_at(t, 220, 220, 20 + piled));
  }
  REQUIRE(cut.changed);
  CAPTURE(cut.reason);
  CHECK(cut.reason.rfind("congestion:", 0) == 0);
  CHECK(c.phase() != AbrPhase::draining);
}

TEST_CASE("a queue after climbing through what a sudden drop read: the steps that built it are undone at once") {
  // The drop of "a sudden drop is drained at the floor": settled, then clean until the climb is
  // past what the drop read; from then (t = b) the backlog stands at 100 ms, the link queueing.
  BitrateController c(300, 3000, 200, 157);
  int64_t t = after_a_sudden_drop(c);
  const int reading = c.capacity_kbps();
  REQUIRE(c.target_kbps() < reading);
  std::vector<std::pair<int64_t, int>> rates;  // (since when, kbps)
  for (; t < 20'000 && c.target_kbps() < reading; t += 50) {
    const BitrateDecision d = c.update(sample_at(t, 22, 30, 20));
    if (d.changed) rates.push_back({t, d.kbps});
    REQUIRE(d.reason.find("easing") == std::string::npos);
  }
  REQUIRE(c.target_kbps() >= reading);
  REQUIRE(rates.size() >= 3);
  const int64_t b = t;
  const int before = c.target_kbps();
  BitrateDecision ease;
  for (; t < b + 3000 && !ease.changed; t += 50) ease = c.update(sample_at(t, 22, 100, 40));
  REQUIRE(ease.changed);
  CAPTURE(ease.reason);
  CHECK(ease.reason.rfind("easing: send buffer building up", 0) == 0);
  // Under the rate of a second before the backlog stood (not a 4% step back from `before`),
  // and not more than a quarter off.
  int a_second_before = 0;
  for (const auto& [since, kbps] : rates)
    if (since <= b - 1000) a_second_before = kbps;
  CHECK(ease.kbps < a_second_before);
  CHECK(ease.kbps >= 0.75 * before - 20);
}

TEST_CASE("climbing through what a sudden drop read: an RTT creeping up after a step holds the next one a second") {
  BitrateController c(300, 3000, 200, 157);
  int64_t t = after_a_sudden_drop(c);
  // Two steps up on a clean link, 500 ms apart.
  std::vector<int64_t> raises;
  for (; t < 20'000 && raises.size() < 2; t += 50)
    if (c.update(sample_at(t, 22, 30, 20)).changed) raises.push_back(t);
  REQUIRE(raises.size() == 2);
  CHECK(raises[1] - raises[0] == 500);
  // The RTT's low 7 ms up after the second (a queue may be filling; still 13 ms under what
  // counts as queueing): the next step waits a second from it, then goes.
  int64_t next = -1;
  for (; t < raises[1] + 3000 && next < 0; t += 50)
    if (c.update(sample_at(t, 29, 30, 20)).changed) next = t;
  REQUIRE(next > 0);
  CHECK(c.last_reason().find("the sudden drop read") != std::string::npos);
  CHECK(next - raises[1] >= 1000);
  CHECK(next - raises[1] <= 1100);
}

TEST_CASE("a probe just past the rate the link last carried that overflows it: a cut, not a drain at the floor") {
  // The same overflow as above (a queue of 200 ms at once, the link carrying 30% of the stream),
  // once at the ceiling with nothing known, once while probing carefully around the rate the
  // link last carried: the first is a sudden drop, the second the probe's own overflow.
  for (const bool probing : {false, true}) {
    CAPTURE(probing);
    BitrateController c(300, 3000, 200, 157);
    int64_t t = 0;
    for (; t < 2000; t += 50) c.update(sample_at(t, 20, 30, 20));
    if (probing) {
      // Congestion without a queue in the link (the backlog grows in SRT): an ordinary cut, then
      // the climb back up to the rate it carried.
      const uint64_t submitted0 = healthy(t).packets_submitted;
      for (; t < 2800; t += 50) {
        const uint64_t piled = (healthy(t).packets_submitted - submitted0) / 2;
        c.update(sample_at(t, 20, t >= 2300 ? 300 : 30, 20 + piled));
      }
      REQUIRE(c.capacity_kbps() > 0);
      REQUIRE(c.target_kbps() < 0.95 * c.capacity_kbps());
      for (; t < 30'000 && c.target_kbps() < c.capacity_kbps(); t += 50) c.update(sample_at(t, 20, 30, 20));
      REQUIRE(c.target_kbps() >= c.capacity_kbps());
      REQUIRE(c.target_kbps() <= 1.06 * c.capacity_kbps());
    }
    const int before = c.target_kbps();
    const uint64_t submitted0 = healthy(t).packets_submitted;
    BitrateDecision cut;
    for (const int64_t from = t; t < from + 1500 && !cut.changed; t += 50) {
      const uint64_t piled = uint64_t(0.7 * double(healthy(t).packets_submitted - submitted0));
      cut = c.update(sample_at(t, 220, 220, 20 + piled));
    }
    REQUIRE(cut.changed);
    CAPTURE(cut.reason);
    if (probing) {
      CHECK(cut.reason.rfind("congestion: ", 0) == 0);
      CHECK(cut.kbps > 300);
      CHECK(cut.kbps < before);
      CHECK(c.phase() != AbrPhase::draining);
    } else {
      CHECK(cut.reason.find("sudden drop") != std::string::npos);
      CHECK(cut.kbps == 300);
    }
  }
}

TEST_CASE("a link that collapses while a probe steps around the rate it last carried: cut at once all the same") {
  // Through the link model, at moments where an overflow is not read as a sudden drop, the link
  // falls to 600 kbit/s for good: (1) 1 Mbit/s while the controller probes within 0.95-1.06x of
  // the rate it remembers; (2) 4 Mbit/s, then 2 Mbit/s from t = 5 s (a sudden drop), while the
  // climb through what it read is past 800 kbps.
  for (const bool after_drop : {false, true}) {
    CAPTURE(after_drop);
    BitrateController c(300, 3000, 200, 157);
    LinkModel link(11);
    LinkConditions l = path_20ms(after_drop ? 4000 : 1000);
    int64_t t = 0;
    int64_t collapse = -1;
    for (; t < 80'000 && collapse < 0; t += 50) {
      if (after_drop && t == 5000) l.capacity_kbps = 2000;
      c.update(link.step(t, 50, c.target_kbps(), l));
      const bool careful = t > 20'000 && c.phase() == AbrPhase::probing && c.capacity_kbps() > 0 &&
                           c.target_kbps() >= 0.95 * c.capacity_kbps() && c.target_kbps() <= 1.06 * c.capacity_kbps();
      const bool climbing = c.last_reason().find("the sudden drop read") != std::string::npos && c.target_kbps() > 800;
      if (after_drop ? climbing : careful) collapse = t;
    }
    REQUIRE(collapse > 0);
    l.capacity_kbps = 600;
    for (; t < collapse + 1000 && c.target_kbps() > fits(600); t += 50) c.update(link.step(t, 50, c.target_kbps(), l));
    CHECK(c.target_kbps() <= fits(600));
    CHECK(c.last_reason().rfind("congestion: ", 0) == 0);
  }
}

TEST_CASE("audio counts in what the link carries: the same congestion cuts the video deeper") {
  // The link delivers half of what is sent. Without audio: 85% of half of 4000 = 1700. With
  // 157 kbps of audio on the wire the video gets 85% of half of the whole stream, minus the audio.
  for (const auto& [fixed, expect] : std::vector<std::pair<int, int>>{{0, 1700}, {157, 1610}}) {
    CAPTURE(fixed);
    BitrateController c(500, 4000, 1000, fixed);
    settle(c, 0, 2000);
    const uint64_t submitted0 = healthy(2000).packets_submitted;
    for (int64_t t = 2000; t <= 2800; t += 50) {
      LinkSample s = healthy(t);
      s.send_buffer_packets = 20 + uint64_t(double(s.packets_submitted - submitted0) * 0.5);
      if (t >= 2500) s.send_buffer_ms = 400;
      c.update(s);
    }
    CHECK(c.target_kbps() == expect);
  }
}

TEST_CASE("every phase has its series in onair_abr_phase") {
  const std::vector<std::string> names(std::begin(metrics::kAbrPhases), std::end(metrics::kAbrPhases));
  for (AbrPhase phase : {AbrPhase::steady, AbrPhase::congested, AbrPhase::draining, AbrPhase::probing, AbrPhase::outage})
    CHECK(std::find(names.begin(), names.end(), to_string(phase)) != names.end());
  CHECK(names.size() == 5);
}
