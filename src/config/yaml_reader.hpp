// Reads YAML mappings against a schema: every value is type- and range-checked where it is
// read, and every problem is collected as "file:line: key.path: what is wrong".
#pragma once

#include <yaml-cpp/yaml.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace onair::config::detail {

class Errors {
 public:
  explicit Errors(std::string file) : file_(std::move(file)) {}
  // "file:line: path: what"
  void add(int line, std::string_view path, std::string_view what);
  // "file:line: what" (for problems that have no key path, like YAML syntax)
  void add_plain(int line, std::string_view what);
  bool empty() const { return entries_.empty(); }
  // All errors, ordered by line (errors on one line keep the order they were found in).
  std::vector<std::string> sorted() const;

 private:
  struct Entry {
    int line;
    std::string text;
  };
  std::string file_;
  std::vector<Entry> entries_;
};

// A value found in the document, with where it is.
struct Field {
  YAML::Node node;
  std::string path;  // "uplink.destinations[0].url"
  int line = 0;      // 1-based; the key's line when the value is empty
};

// `"big"` for a scalar, else "a mapping", "a list" or "an empty value".
std::string describe(const YAML::Node& node);

// An inclusive range, shown in messages as "must be 16..7680 ms".
struct Range {
  double min;
  double max;
  std::string_view unit;  // "ms", "kbps", "s", or empty
};

// Shortest plain decimal text for a number: "0.1", "600000".
std::string plain_number(double value);

// One mapping of the document and the keys it may hold. Unknown and duplicate keys are reported
// when it is constructed; an absent or empty section reads as an empty mapping.
class MapReader {
 public:
  MapReader(const YAML::Node& node, std::string path, int line, std::vector<std::string_view> known,
            Errors& errors);

  bool is_mapping() const { return is_mapping_; }
  const std::string& path() const { return path_; }
  int line() const { return line_; }  // where this mapping was introduced
  Errors& errors() const { return *errors_; }

  std::string path_of(std::string_view key) const;
  std::optional<Field> get(std::string_view key) const;  // nullopt when absent
  bool has(std::string_view key) const { return get(key).has_value(); }
  int line_of(std::string_view key) const;  // the value's line, or this mapping's when absent
  void require(std::string_view key, std::string_view what);  // "path.key: what" when absent

  // Each read sets `out` and returns true when `key` is present and valid; reports a problem
  // and leaves `out` as it was otherwise (so defaults survive).
  bool read_int(std::string_view key, int& out, const Range& range);
  bool read_number(std::string_view key, double& out, const Range& range);
  bool read_bool(std::string_view key, bool& out);
  bool read_string(std::string_view key, std::string& out);
  bool read_choice(std::string_view key, std::string& out,
                   std::span<const std::string_view> allowed, std::string_view what);

  // A nested mapping (an empty reader when absent or not a mapping; the latter is reported).
  MapReader map(std::string_view key, std::vector<std::string_view> known);
  // A nested list; nullopt when absent or not a list (the latter is reported).
  std::optional<Field> list(std::string_view key);

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    int key_line;
  };
  using ParseNumber = std::optional<double> (*)(std::string_view);
  std::optional<std::string> scalar(std::string_view key, std::string_view expected, Field* field);
  std::optional<double> read_in_range(std::string_view key, std::string_view expected,
                                      ParseNumber parse, const Range& range);

  std::string path_;
  int line_;
  Errors* errors_;
  bool is_mapping_ = true;
  std::vector<Entry> entries_;
};

// Reports `min_key` > `max_key` on whichever of the two the file wrote (`min_key` when both),
// so a default never takes the blame.
void check_order(MapReader& map, std::string_view min_key, int min_value, std::string_view max_key,
                 int max_value);

// The 1-based line of a node, or `fallback` when the node has no position (absent, empty).
int node_line(const YAML::Node& node, int fallback);

}  // namespace onair::config::detail
