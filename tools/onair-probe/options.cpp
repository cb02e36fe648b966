#include "options.hpp"

#include <charconv>
#include <cmath>

namespace onair::probe {
namespace {

std::optional<double> to_number(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (result.ec != std::errc() || result.ptr != end || !std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace

std::string usage() {
  return R"(usage: onair-probe [options] URL

Receives a live MPEG-TS stream (H.264, optionally AAC), decodes it and reports what a viewer
gets: end-to-end latency from onair's SEI capture stamp (p50/p95/max) and from the stamp drawn
in the picture when there is one (a test source with `stamp: true`), frame rate, gaps,
decode errors, bitrate, codec and size.

URL   srt://HOST:PORT?mode=caller|listener&latency=MS&passphrase=...&streamid=...
      (onair's convention: latency in milliseconds; the default mode is caller), or any
      other address or file libavformat opens (udp://..., a .ts file)

options
  --duration S            report and exit after S seconds of stream (default: until Ctrl-C)
  --warmup S              leave the first S seconds after the first frame out of the figures
                          (a sender's backlog at connect time); --duration counts after it
  --timeout S             give up when nothing connects or no data comes for S seconds (10)
  --json                  print the report as JSON
  --max-latency-ms N      fail when the p95 latency is above N ms
  --max-p50-latency-ms N  fail when the p50 latency is above N ms
  --max-gaps N            fail when there are more than N gaps (> 2 frame intervals)
  --min-fps F             fail when the frame rate is below F
  --max-decode-errors N   fail when there are more than N decode errors
  --max-first-frame-ms N  fail when the first frame took longer than N ms after start
  --require-stamp         fail when the frames carry no onair capture stamp
  -h, --help              this text

exit status: 0 ok, 1 bad usage, 2 no connection / no data / no video, 3 a threshold missed
)";
}

std::optional<Options> parse_options(const std::vector<std::string>& args, std::string* error) {
  Options o;
  auto number = [&](size_t& i, const std::string& name) -> std::optional<double> {
    if (i + 1 >= args.size()) {
      *error = name + " needs a value";
      return std::nullopt;
    }
    const auto value = to_number(args[++i]);
    if (!value || *value < 0) *error = name + ": \"" + args[i] + "\" is not a non-negative number";
    return value && *value >= 0 ? value : std::nullopt;
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::optional<double> v;
    if (a == "-h" || a == "--help") {
      *error = "";
      return std::nullopt;
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--require-stamp") {
      o.require_stamp = true;
    } else if (a == "--duration") {
      if (!(v = number(i, a))) return std::nullopt;
      o.duration_s = *v;
    } else if (a == "--warmup") {
      if (!(v = number(i, a))) return std::nullopt;
      o.warmup_s = *v;
    } else if (a == "--timeout") {
      if (!(v = number(i, a))) return std::nullopt;
      if (*v <= 0) {
        *error = "--timeout must be more than 0";
        return std::nullopt;
      }
      o.timeout_s = *v;
    } else if (a == "--max-latency-ms") {
      if (!(o.max_latency_ms = number(i, a))) return std::nullopt;
    } else if (a == "--max-p50-latency-ms") {
      if (!(o.max_p50_latency_ms = number(i, a))) return std::nullopt;
    } else if (a == "--min-fps") {
      if (!(o.min_fps = number(i, a))) return std::nullopt;
    } else if (a == "--max-first-frame-ms") {
      if (!(o.max_first_frame_ms = number(i, a))) return std::nullopt;
    } else if (a == "--max-gaps" || a == "--max-decode-errors") {
      if (!(v = number(i, a))) return std::nullopt;
      if (*v != std::floor(*v)) {
        *error = a + ": \"" + args[i] + "\" is not a whole number";
        return std::nullopt;
      }
      (a == "--max-gaps" ? o.max_gaps : o.max_decode_errors) = static_cast<int>(*v);
    } else if (a.size() > 1 && a[0] == '-') {
      *error = "unknown option " + a + " (see --help)";
      return std::nullopt;
    } else if (o.url.empty()) {
      o.url = a;
    } else {
      *error = "one URL only (got \"" + o.url + "\" and \"" + a + "\")";
      return std::nullopt;
    }
  }
  if (o.url.empty()) {
    *error = "no URL given (see --help)";
    return std::nullopt;
  }
  if (o.url.rfind("srt://", 0) == 0) {
    std::string problem;
    o.srt = config::parse_srt_url(o.url, &problem);
    if (!o.srt) {
      *error = "URL: " + problem;
      return std::nullopt;
    }
  }
  return o;
}

std::string printable_url(const Options& options) { return options.srt ? options.srt->redacted() : options.url; }

}  // namespace onair::probe
