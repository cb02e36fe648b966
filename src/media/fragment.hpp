// Pipeline fragments: launch-syntax files in pipelines/ with `# @key value` headers and
// `# @section` markers, filled in from {placeholders}. Data, not code (see pipelines/README.md).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onair::media {

struct Fragment {
  std::string path;
  std::map<std::string, std::string> headers;   // "@priority 10" → {"priority", "10"}
  std::map<std::string, std::string> sections;  // "@video" → launch text; "" = before any section

  std::string header(const std::string& key, const std::string& fallback = "") const;
  std::vector<std::string> requires_elements() const;  // from @requires
  std::vector<std::string> missing_elements() const;   // @requires not registered here
  // The section with every {name} replaced; unknown placeholders are an error (throws).
  std::string render(const std::string& section, const std::map<std::string, std::string>& values) const;
  // Whether the section takes {placeholder} (a missing section takes none).
  bool uses(const std::string& section, const std::string& placeholder) const;
};

// Parses one file. Throws std::runtime_error naming the file and line on a malformed header.
Fragment load_fragment(const std::string& path);

// Every *.pipeline file in `dir`, sorted by file name; throws if the folder is missing.
std::vector<Fragment> load_fragments(const std::string& dir);

// Escapes a value for use inside a double-quoted launch-syntax string.
std::string quote_escape(const std::string& value);

}  // namespace onair::media
