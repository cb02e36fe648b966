// The failover policy as tables: time and health in, decisions out. No media, no sleeps.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "failover/policy.hpp"

using onair::failover::FailoverPolicy;
using onair::failover::Mode;
using onair::failover::Source;

namespace {

struct Step {
  int64_t at_ms;
  bool primary, backup, slate;
  Source expect;
  const char* reason;  // expected reason when the decision changes, "" when it must not change
};

void run(FailoverPolicy& policy, const std::vector<Step>& steps) {
  for (const auto& s : steps) {
    CAPTURE(s.at_ms);
    const auto d = policy.update(s.at_ms, {s.primary, s.backup, s.slate});
    CHECK(d.active == s.expect);
    CHECK(d.changed == (std::string(s.reason) != ""));
    CHECK(d.reason == s.reason);
  }
}

}  // namespace

TEST_CASE("first arrival of the camera needs no hold; its loss fails over at once") {
  FailoverPolicy p(3000);
  run(p, {
             {0, false, false, true, Source::slate, "primary unhealthy"},
             {20, false, false, true, Source::slate, ""},
             {40, true, false, true, Source::primary, "primary healthy"},
             {1000, true, true, true, Source::primary, ""},
             {1020, false, true, true, Source::backup, "primary unhealthy"},
             {1040, false, false, true, Source::slate, "backup unhealthy"},
         });
}

TEST_CASE("failback only after the hold, and a blink restarts the hold") {
  FailoverPolicy p(3000);
  run(p, {
             {0, true, true, true, Source::primary, ""},
             {100, false, true, true, Source::backup, "primary unhealthy"},
             {200, true, true, true, Source::backup, ""},      // back, hold starts
             {3100, true, true, true, Source::backup, ""},     // 2900 ms: not yet
             {3150, false, true, true, Source::backup, ""},    // blink: hold resets
             {3200, true, true, true, Source::backup, ""},
             {6100, true, true, true, Source::backup, ""},     // 2900 ms since the blink
             {6200, true, true, true, Source::primary, "primary healthy for 3000 ms"},
         });
}

TEST_CASE("a flapping primary never takes the air back while it flaps") {
  FailoverPolicy p(1000);
  std::vector<Step> steps = {{0, true, true, true, Source::primary, ""},
                             {10, false, true, true, Source::backup, "primary unhealthy"}};
  for (int64_t t = 20; t < 5000; t += 20) {
    const bool up = (t / 500) % 2 == 0;  // up 500 ms, down 500 ms: never 1000 ms in a row
    steps.push_back({t, up, true, true, Source::backup, ""});
  }
  run(p, steps);
}

TEST_CASE("backup fails back to primary but slate fails back to the best held source") {
  FailoverPolicy p(500);
  run(p, {
             {0, true, true, true, Source::primary, ""},
             {10, false, false, true, Source::slate, "primary unhealthy"},
             {20, false, true, true, Source::slate, ""},     // backup returns: it had been healthy before, so hold
             {520, false, true, true, Source::backup, "backup healthy for 500 ms"},
             {600, true, true, true, Source::backup, ""},
             {1100, true, true, true, Source::primary, "primary healthy for 500 ms"},
         });
}

TEST_CASE("manual override holds, stands in when the forced source is down, auto releases") {
  FailoverPolicy p(1000);
  run(p, {{0, true, true, true, Source::primary, ""}});
  p.force(Source::backup);
  CHECK(p.mode() == Mode::manual);
  run(p, {
             {20, true, true, true, Source::backup, "manual: backup"},
             {5000, true, true, true, Source::backup, ""},  // no failback while forced
             {5020, true, false, true, Source::primary, "manual backup unhealthy"},
             {5040, true, true, true, Source::backup, "manual: backup"},
         });
  p.force(Source::slate);
  run(p, {{5060, true, true, true, Source::slate, "manual: slate"}});
  p.force(std::nullopt);
  CHECK(p.mode() == Mode::automatic);
  run(p, {{5080, true, true, true, Source::primary, "primary healthy"}});
}

TEST_CASE("source names parse both ways") {
  for (auto s : {Source::primary, Source::backup, Source::slate})
    CHECK(onair::failover::source_from_string(onair::failover::to_string(s)) == s);
  CHECK_FALSE(onair::failover::source_from_string("Primary").has_value());
  CHECK_FALSE(onair::failover::source_from_string("auto").has_value());
}
