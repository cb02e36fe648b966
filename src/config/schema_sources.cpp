#include <algorithm>
#include <array>

#include "config/schema.hpp"
#include "config/text_util.hpp"

namespace onair::config::detail {

namespace {

constexpr std::string_view kSourceTypes[] = {"test", "v4l2", "libcamera", "srt"};
// videotestsrc's pattern names (GStreamer 1.22).
constexpr std::string_view kPatterns[] = {"smpte",
                                          "snow",
                                          "black",
                                          "white",
                                          "red",
                                          "green",
                                          "blue",
                                          "checkers-1",
                                          "checkers-2",
                                          "checkers-4",
                                          "checkers-8",
                                          "circular",
                                          "blink",
                                          "smpte75",
                                          "zone-plate",
                                          "gamut",
                                          "chroma-zone-plate",
                                          "solid-color",
                                          "ball",
                                          "smpte100",
                                          "bar",
                                          "pinwheel",
                                          "spokes",
                                          "gradient",
                                          "colors",
                                          "smpte-rp-219"};

// Keys that only mean something for one source type.
struct TypedKey {
  std::string_view key;
  std::string_view type;
};
constexpr std::array<TypedKey, 5> kTypedKeys = {{{"device", "v4l2"},
                                                {"camera", "libcamera"},
                                                {"url", "srt"},
                                                {"pattern", "test"},
                                                {"stamp", "test"}}};

void read_source(MapReader m, std::string_view role, SourceConfig& out,
                 std::vector<SrtEndpoint>& endpoints) {
  if (!m.is_mapping()) return;
  m.require("type", "required (expected " + join_or(kSourceTypes) + ")");
  const bool typed = m.read_choice("type", out.type, kSourceTypes, "source type");
  m.read_string("device", out.device);
  m.read_string("camera", out.camera);
  m.read_choice("pattern", out.pattern, kPatterns, "test pattern");
  m.read_bool("stamp", out.stamp);
  m.read_string("label", out.label);
  if (out.label.empty()) out.label = std::string(role);
  if (!typed) return;
  for (const auto& typed_key : kTypedKeys) {
    if (m.has(typed_key.key) && typed_key.type != out.type) {
      m.errors().add(m.line_of(typed_key.key), m.path_of(typed_key.key),
                     "only applies to a " + std::string(typed_key.type) + " source (this one is " +
                         out.type + ")");
    }
  }
  if (out.type == "v4l2") {
    m.require("device", "required for a v4l2 source (e.g. /dev/video0)");
    if (m.has("device") && out.device.rfind("/", 0) != 0) {
      m.errors().add(m.line_of("device"), m.path_of("device"),
                     "must be a device path like /dev/video0, got " + quoted(out.device));
    }
  } else if (out.type == "srt") {
    m.require("url", "required for an srt source (e.g. srt://:9001?mode=listener)");
    read_srt_url(m, "url", out.url_text, out.url, endpoints);
  }
}

void read_slate(MapReader m, SlateConfig& out) {
  m.read_string("image", out.image);
  m.read_string("text", out.text);
}

}  // namespace

bool read_srt_url(MapReader& map, std::string_view key, std::string& text, SrtUrl& url,
                  std::vector<SrtEndpoint>& endpoints) {
  if (!map.read_string(key, text)) return false;
  std::string error;
  const auto parsed = parse_srt_url(text, &error);
  if (!parsed) {
    map.errors().add(map.line_of(key), map.path_of(key), error);
    return false;
  }
  url = *parsed;
  endpoints.push_back({map.path_of(key), map.line_of(key), url});
  return true;
}

void read_sources(MapReader& sources, SourcesConfig& out, std::vector<SrtEndpoint>& endpoints) {
  const std::vector<std::string_view> kSourceKeys = {"type",    "device", "camera", "url",
                                                     "pattern", "stamp",  "label"};
  if (!sources.is_mapping()) return;
  if (sources.has("primary")) {
    read_source(sources.map("primary", kSourceKeys), "primary", out.primary, endpoints);
  } else {
    sources.require("primary", "required (e.g. primary: { type: test })");
  }
  const auto backup = sources.get("backup");
  if (backup && !backup->node.IsNull()) {  // "backup:" left empty means no backup
    out.backup.emplace();
    read_source(sources.map("backup", kSourceKeys), "backup", *out.backup, endpoints);
  }
  read_slate(sources.map("slate", {"image", "text"}), out.slate);
}

void check_listener_ports(const std::vector<SrtEndpoint>& endpoints, Errors& errors) {
  for (std::size_t i = 0; i < endpoints.size(); ++i) {
    const SrtEndpoint& later = endpoints[i];
    if (later.url.mode != SrtMode::listener) continue;
    for (std::size_t j = 0; j < i; ++j) {
      const SrtEndpoint& earlier = endpoints[j];
      const bool same_address =
          earlier.url.host == later.url.host || earlier.url.host.empty() || later.url.host.empty();
      if (earlier.url.mode == SrtMode::listener && earlier.url.port == later.url.port &&
          same_address) {
        errors.add(later.line, later.path,
                   "port " + std::to_string(later.url.port) +
                       " is already taken by the SRT listener at " + earlier.path + " (line " +
                       std::to_string(earlier.line) + ")");
        break;
      }
    }
  }
}

}  // namespace onair::config::detail
