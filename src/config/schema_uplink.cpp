#include <algorithm>
#include <cctype>

#include "config/schema.hpp"
#include "config/text_util.hpp"

namespace onair::config::detail {

namespace {

constexpr std::size_t kMaxNameLength = 64;

// Names label metrics and API paths, so they stay plain.
bool plain_name(std::string_view name) {
  return !name.empty() && name.size() <= kMaxNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
         });
}

struct NameUse {
  std::string name;
  int line;
};

void read_destination(MapReader d, std::size_t index, Destination& out, std::vector<NameUse>& names,
                      std::vector<SrtEndpoint>& endpoints) {
  out.name = "dest" + std::to_string(index);  // an unnamed destination is named after its index
  if (d.read_string("name", out.name) && !plain_name(out.name)) {
    d.errors().add(d.line_of("name"), d.path_of("name"),
                   out.name.empty()
                       ? std::string("must not be empty")
                       : "must be 1..64 letters, digits, '-', '_' or '.', got " + quoted(out.name));
  } else {
    const int line = d.line_of("name");
    const auto twin = std::find_if(names.begin(), names.end(),
                                   [&](const NameUse& use) { return use.name == out.name; });
    if (twin != names.end()) {
      d.errors().add(line, d.path_of("name"),
                     "duplicate destination name " + quoted(out.name) + " (also at line " +
                         std::to_string(twin->line) + ")");
    } else {
      names.push_back({out.name, line});
    }
  }
  if (!d.is_mapping()) return;
  d.require("url", "required (e.g. srt://ingest.example.org:9000?mode=caller)");
  read_srt_url(d, "url", out.url_text, out.url, endpoints);
}

void read_destinations(MapReader& uplink, UplinkConfig& out, std::vector<SrtEndpoint>& endpoints) {
  const auto written = uplink.get("destinations");
  const auto list = uplink.list("destinations");
  if (written && !written->node.IsNull() && !list) return;  // not a list: list() reported it
  if (!list || list->node.size() == 0) {
    uplink.errors().add(uplink.line_of("destinations"), uplink.path_of("destinations"),
                        "at least one destination is required");
    return;
  }
  std::vector<NameUse> names;
  for (std::size_t i = 0; i < list->node.size(); ++i) {
    const YAML::Node item = list->node[i];
    MapReader d(item, list->path + "[" + std::to_string(i) + "]", node_line(item, list->line),
                {"name", "url"}, uplink.errors());
    read_destination(d, i, out.destinations.emplace_back(), names, endpoints);
  }
}

}  // namespace

void read_uplink(MapReader& uplink, UplinkConfig& out, std::vector<SrtEndpoint>& endpoints) {
  if (!uplink.is_mapping()) return;
  read_destinations(uplink, out, endpoints);
  uplink.read_int("peer_idle_timeout_ms", out.peer_idle_timeout_ms, {100, 600000, "ms"});
  uplink.read_int("queue_ms", out.queue_ms, {20, 10000, "ms"});
  const bool min_ok = uplink.read_int("reconnect_min_ms", out.reconnect_min_ms, {10, 60000, "ms"});
  const bool max_ok = uplink.read_int("reconnect_max_ms", out.reconnect_max_ms, {10, 600000, "ms"});
  if ((min_ok || !uplink.has("reconnect_min_ms")) && (max_ok || !uplink.has("reconnect_max_ms"))) {
    check_order(uplink, "reconnect_min_ms", out.reconnect_min_ms, "reconnect_max_ms",
                out.reconnect_max_ms);
  }
  uplink.read_bool("recovery_keyframes", out.recovery_keyframes);
}

}  // namespace onair::config::detail
