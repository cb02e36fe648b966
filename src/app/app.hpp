// onair's wiring: config in, every module started, signals and systemd handled, until SIGTERM.
#pragma once

#include <string>

#include "config/config.hpp"

namespace onair::app {

struct AppOptions {
  std::string data_dir;  // holds pipelines/ and web/; empty = find_data_dir()
};

// Runs onair until SIGINT/SIGTERM. Returns the process exit code.
int run(const config::Config& config, const AppOptions& options);

// `onair --print-encoder`: the encoder it would pick here and why (stderr), and that encoder's
// part of the program pipeline with the configuration's settings filled in (stdout, one line that
// gst-launch-1.0 takes). 0, or 1 when no encoder works on this box.
int print_encoder(const config::Config& config, const AppOptions& options);

// pipelines/ and web/: $ONAIR_DATA_DIR, then <exe>/../share/onair, then the source tree.
std::string find_data_dir();

}  // namespace onair::app
