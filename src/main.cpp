// onair: arguments in, then everything happens in app/.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <iostream>
#include <string>

#include "app/app.hpp"
#include "config/config.hpp"
#include "program/select.hpp"

namespace {

constexpr const char* kUsage =
    "usage: onair --config FILE            run the appliance\n"
    "       onair --check-config FILE      validate FILE: prints OK, or every error (exit 2)\n"
    "       onair --print-config FILE      the effective configuration, secrets redacted\n"
    "       onair --print-encoder FILE     the encoder it picks here and why, and its pipeline part\n"
    "       onair --version\n"
    "options: --data-dir DIR (where pipelines/ and web/ live), --log-level LEVEL\n";

int usage_error(const std::string& message) {
  std::cerr << "onair: " << message << "\n" << kUsage;
  return 64;  // EX_USAGE
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode, path, data_dir, log_level;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (arg == "--config" || arg == "--check-config" || arg == "--print-config" || arg == "--print-encoder") {
      if (!mode.empty())
        return usage_error("give only one of --config, --check-config, --print-config, --print-encoder");
      mode = arg;
      if (!value(path)) return usage_error(arg + " needs a file");
    } else if (arg == "--data-dir") {
      if (!value(data_dir)) return usage_error("--data-dir needs a folder");
    } else if (arg == "--log-level") {
      if (!value(log_level)) return usage_error("--log-level needs a level");
    } else if (arg == "--version") {
      std::cout << "onair " << ONAIR_VERSION << "\n";
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else {
      return usage_error("unknown argument \"" + arg + "\"");
    }
  }
  if (mode.empty()) return usage_error("no configuration given");

  // encoder.type names a fragment of the pipelines/ onair runs with: a new encoder is one file.
  if (data_dir.empty()) data_dir = onair::app::find_data_dir();
  const onair::config::LoadOptions options{onair::program::encoder_names(data_dir + "/pipelines")};
  const auto loaded = onair::config::load_config_file(path, options);
  if (!loaded.config) {
    for (const auto& error : loaded.errors) std::cerr << error << "\n";
    std::cerr << "onair: " << loaded.errors.size() << " error(s) in " << path << "\n";
    return 2;
  }
  if (mode == "--check-config") {
    std::cout << "OK\n";
    return 0;
  }
  if (mode == "--print-config") {
    std::cout << onair::config::dump_redacted(*loaded.config);
    return 0;
  }
  if (mode == "--print-encoder") {
    spdlog::set_default_logger(spdlog::stderr_color_st("onair"));  // stdout is the pipeline text alone
    spdlog::set_level(spdlog::level::warn);
    return onair::app::print_encoder(*loaded.config, {data_dir});
  }
  const std::string level = log_level.empty() ? loaded.config->log.level : log_level;
  spdlog::set_level(spdlog::level::from_str(level));
  // systemd's journal adds its own timestamps; a terminal wants them.
  spdlog::set_pattern(std::getenv("JOURNAL_STREAM") ? "[%l] %v" : "%Y-%m-%d %H:%M:%S.%e [%l] %v");
  spdlog::info("onair {} starting with {}", ONAIR_VERSION, path);
  return onair::app::run(*loaded.config, {data_dir});
}
