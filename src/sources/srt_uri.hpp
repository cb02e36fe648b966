// The srtsrc URI for a parsed SRT URL: explicit latency and mode, secrets optionally redacted.
#pragma once

#include <string>

#include "config/srt_url.hpp"

namespace onair::sources {

std::string srtsrc_uri(const config::SrtUrl& url, bool redact);

}  // namespace onair::sources
