// The config schema: which keys each section holds, their types, ranges and cross-checks.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/yaml_reader.hpp"

namespace onair::config::detail {

// Reads the whole document over the defaults already in `config`, reporting into `errors`.
void read_config(const YAML::Node& root, Config& config, Errors& errors, const LoadOptions& options = {});

// An SRT URL in the config, kept to find two listeners on one UDP port.
struct SrtEndpoint {
  std::string path;
  int line;
  SrtUrl url;
};

// sources: primary, backup, slate (schema_sources.cpp).
void read_sources(MapReader& sources, SourcesConfig& out, std::vector<SrtEndpoint>& endpoints);
// uplink: destinations and sender tuning (schema_uplink.cpp).
void read_uplink(MapReader& uplink, UplinkConfig& out, std::vector<SrtEndpoint>& endpoints);
// Reports SRT URLs whose listening sockets would collide.
void check_listener_ports(const std::vector<SrtEndpoint>& endpoints, Errors& errors);

// Parses an SRT URL field, reporting "path: what is wrong" at the value's line.
bool read_srt_url(MapReader& map, std::string_view key, std::string& text, SrtUrl& url,
                  std::vector<SrtEndpoint>& endpoints);

}  // namespace onair::config::detail
