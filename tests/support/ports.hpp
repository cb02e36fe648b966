// Free loopback ports for tests that start real servers and peers.
#pragma once

#include <cstdint>

namespace onair::test {

// A port on 127.0.0.1 that could be bound just now (UDP, resp. TCP). Ports are picked at random
// below the kernel's ephemeral range (so an SRT caller's or HTTP client's automatic local port
// never lands on them) and never returned twice by one process. Throws std::runtime_error when
// none is found after a bounded number of tries.
uint16_t free_udp_port();
uint16_t free_tcp_port();

}  // namespace onair::test
