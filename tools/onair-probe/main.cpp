// onair-probe: receives an SRT (or any MPEG-TS) stream like a viewer would and reports latency
// from onair's capture stamps, frame rate, gaps, errors and bitrate. See `onair-probe --help`.
#include <csignal>
#include <cstdio>
#include <iostream>

extern "C" {
#include <libavformat/avformat.h>
}

#include "options.hpp"
#include "receiver.hpp"
#include "report.hpp"

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true); }  // only a flag: the receive loop notices it

}  // namespace

int main(int argc, char** argv) {
  using namespace onair::probe;
  std::string error;
  const auto options = parse_options(std::vector<std::string>(argv + 1, argv + argc), &error);
  if (!options) {
    if (error.empty()) {
      std::cout << usage();
      return kExitOk;
    }
    std::cerr << "onair-probe: " << error << "\n";
    return kExitUsage;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  av_log_set_level(AV_LOG_ERROR);
  avformat_network_init();
  const Capture capture = receive(*options, &g_stop);
  const Report report = analyze(*options, capture);
  if (options->json)
    std::cout << to_json(report).dump(2) << "\n";
  else
    std::cout << human_text(report);
  std::cout.flush();
  avformat_network_deinit();
  return report.exit_code();
}
