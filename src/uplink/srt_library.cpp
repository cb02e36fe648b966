// libsrt's process-wide init and its log, routed to spdlog.
#include <spdlog/spdlog.h>
#include <srt/srt.h>
#include <syslog.h>

#include <string_view>

#include "uplink/uplink.hpp"

namespace onair::uplink {
namespace {

// libsrt logs from its own threads; spdlog is thread-safe, so forward straight through.
void forward_srt_log(void*, int level, const char*, int, const char* area, const char* message) {
  std::string_view text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  // libsrt's "errors" include handshakes we already report with context (rejections,
  // timeouts): at warning they stay visible without shouting.
  const auto spd_level = level <= LOG_WARNING ? spdlog::level::warn : spdlog::level::debug;
  spdlog::log(spd_level, "libsrt [{}]: {}", area ? area : "", text);
}

}  // namespace

SrtLibrary::SrtLibrary() {
  srt_startup();  // reference-counted inside libsrt: nested instances are fine
  srt_setlogflags(SRT_LOGF_DISABLE_TIME | SRT_LOGF_DISABLE_THREADNAME |
                  SRT_LOGF_DISABLE_SEVERITY | SRT_LOGF_DISABLE_EOL);
  srt_setloglevel(LOG_WARNING);
  srt_setloghandler(nullptr, &forward_srt_log);
}

SrtLibrary::~SrtLibrary() { srt_cleanup(); }

}  // namespace onair::uplink
