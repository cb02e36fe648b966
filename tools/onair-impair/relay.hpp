// onair-impair's UDP relay: listens on 127.0.0.1, forwards each client's datagrams to a
// loopback target through the impaired link model, and the answers back the same way.
// One socket per client towards the target (like a NAT), so a sender that reconnects from a
// new port is a new flow. A text control socket changes the impairments while it runs.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <vector>

#include "impair.hpp"

namespace onair::impair {

struct RelayOptions {
  uint16_t listen_port = 0;  // on 127.0.0.1; 0 = any free port (printed at start)
  in_addr target{};          // loopback only
  uint16_t target_port = 0;
  uint16_t control_port = 0; // on 127.0.0.1; 0 = any free port (printed at start)
  uint64_t seed = 1;
  double duration_s = 0;     // 0 = until SIGINT/SIGTERM
  Settings initial;
  std::vector<Step> schedule;  // runs from the start
};

// Control commands, one datagram each, answered with one datagram:
//   set k=v ...          change settings (keys as in impair.hpp); "ok" or "error: ..."
//   blackout MS          same as set blackout=MS
//   schedule T k=v; ...  start a new schedule now (replaces a running one)
//   stats                one line of JSON: settings and counters per direction
// Returns the process exit code.
int run_relay(const RelayOptions& options);

}  // namespace onair::impair
