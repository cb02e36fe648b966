#include "config/yaml_reader.hpp"

#include <algorithm>
#include <charconv>

#include "config/text_util.hpp"

namespace onair::config::detail {

void Errors::add(int line, std::string_view path, std::string_view what) {
  entries_.push_back({line, file_ + ":" + std::to_string(line) + ": " + std::string(path) + ": " +
                                std::string(what)});
}

void Errors::add_plain(int line, std::string_view what) {
  entries_.push_back({line, file_ + ":" + std::to_string(line) + ": " + std::string(what)});
}

std::vector<std::string> Errors::sorted() const {
  std::vector<Entry> ordered = entries_;
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const Entry& a, const Entry& b) { return a.line < b.line; });
  std::vector<std::string> out;
  out.reserve(ordered.size());
  for (auto& entry : ordered) out.push_back(std::move(entry.text));
  return out;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      // A URL's query may hold a passphrase: never echo it.
      const std::string& text = node.Scalar();
      const auto query = text.find('?');
      if (text.find("://") != std::string::npos && query != std::string::npos) {
        return quoted(text.substr(0, query + 1) + "...");
      }
      return quoted(text);
    }
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    default:
      return "an empty value";
  }
}

std::string plain_number(double value) {
  char buffer[64];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed);
  return ec == std::errc{} ? std::string(buffer, end) : std::to_string(value);
}

int node_line(const YAML::Node& node, int fallback) {
  if (!node.IsDefined() || node.IsNull()) return fallback;
  const int line = node.Mark().line;
  return line < 0 ? fallback : line + 1;
}

MapReader::MapReader(const YAML::Node& node, std::string path, int line,
                     std::vector<std::string_view> known, Errors& errors)
    : path_(std::move(path)), line_(line), errors_(&errors) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsMap()) {
    is_mapping_ = false;
    errors.add(node_line(node, line), path_.empty() ? "(top level)" : path_,
               "expected a mapping, got " + describe(node));
    return;
  }
  for (auto it = node.begin(); it != node.end(); ++it) {
    const int key_line = node_line(it->first, line);
    if (!it->first.IsScalar()) {
      errors.add(key_line, path_.empty() ? "(top level)" : path_,
                 "keys must be plain names, got " + describe(it->first));
      continue;
    }
    const std::string key = it->first.Scalar();
    const std::string key_path = path_of(key);
    const auto first = std::find_if(entries_.begin(), entries_.end(),
                                    [&](const Entry& e) { return e.key == key; });
    if (first != entries_.end()) {
      errors.add(key_line, key_path,
                 "duplicate key (first at line " + std::to_string(first->key_line) + ")");
      continue;
    }
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      if (const auto hint = closest(key, known)) {
        errors.add(key_line, key_path,
                   "unknown key (did you mean \"" + std::string(*hint) + "\"?)");
      } else {
        errors.add(key_line, key_path, "unknown key (expected " + join_or(known) + ")");
      }
      continue;
    }
    entries_.push_back({key, it->second, key_line});
  }
}

std::string MapReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::optional<Field> MapReader::get(std::string_view key) const {
  for (const auto& entry : entries_) {
    if (entry.key == key)
      return Field{entry.value, path_of(key), node_line(entry.value, entry.key_line)};
  }
  return std::nullopt;
}

int MapReader::line_of(std::string_view key) const {
  const auto field = get(key);
  return field ? field->line : line_;
}

void MapReader::require(std::string_view key, std::string_view what) {
  if (!has(key)) errors_->add(line_, path_of(key), what);
}

std::optional<std::string> MapReader::scalar(std::string_view key, std::string_view expected,
                                             Field* field) {
  auto found = get(key);
  if (!found) return std::nullopt;
  *field = *found;
  if (!found->node.IsScalar()) {
    errors_->add(found->line, found->path,
                 "expected " + std::string(expected) + ", got " + describe(found->node));
    return std::nullopt;
  }
  return found->node.Scalar();
}

std::optional<double> MapReader::read_in_range(std::string_view key, std::string_view expected,
                                               ParseNumber parse, const Range& range) {
  Field field;
  const auto text = scalar(key, expected, &field);
  if (!text) return std::nullopt;
  const auto value = parse(*text);
  if (!value) {
    errors_->add(field.line, field.path,
                 "expected " + std::string(expected) + ", got " + quoted(*text));
    return std::nullopt;
  }
  if (*value < range.min || *value > range.max) {
    std::string what = "must be " + plain_number(range.min) + ".." + plain_number(range.max);
    if (!range.unit.empty()) what += " " + std::string(range.unit);
    errors_->add(field.line, field.path, what + ", got " + *text);
    return std::nullopt;
  }
  return value;
}

bool MapReader::read_int(std::string_view key, int& out, const Range& range) {
  const auto value = read_in_range(
      key, "an integer",
      [](std::string_view text) {
        const auto integer = parse_integer(text);
        return integer ? std::optional<double>(static_cast<double>(*integer)) : std::nullopt;
      },
      range);
  if (value) out = static_cast<int>(*value);
  return value.has_value();
}

bool MapReader::read_number(std::string_view key, double& out, const Range& range) {
  const auto value = read_in_range(key, "a number", parse_number, range);
  if (value) out = *value;
  return value.has_value();
}

bool MapReader::read_bool(std::string_view key, bool& out) {
  Field field;
  const auto text = scalar(key, "true or false", &field);
  if (!text) return false;
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "on", "On"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no",
                                                "No",    "off",   "Off"};
  if (std::find(std::begin(kTrue), std::end(kTrue), *text) != std::end(kTrue)) {
    out = true;
    return true;
  }
  if (std::find(std::begin(kFalse), std::end(kFalse), *text) != std::end(kFalse)) {
    out = false;
    return true;
  }
  errors_->add(field.line, field.path, "expected true or false, got " + quoted(*text));
  return false;
}

bool MapReader::read_string(std::string_view key, std::string& out) {
  const auto found = get(key);
  if (!found) return false;
  if (found->node.IsNull()) {  // "label:" with nothing after it is an empty string
    out.clear();
    return true;
  }
  Field field;
  const auto text = scalar(key, "a string", &field);
  if (!text) return false;
  out = *text;
  return true;
}

bool MapReader::read_choice(std::string_view key, std::string& out,
                            std::span<const std::string_view> allowed, std::string_view what) {
  std::string value;
  if (!read_string(key, value)) return false;
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) {
    out = value;
    return true;
  }
  std::string message = "unknown " + std::string(what) + " " + quoted(value);
  const auto hint = closest(value, allowed);
  // Short lists are shown whole; long ones only as a hint, when there is a close match.
  if (allowed.size() <= 8 || !hint) {
    message += " (expected " + join_or(allowed) + ")";
  } else {
    message += " (did you mean \"" + std::string(*hint) + "\"?)";
  }
  errors_->add(line_of(key), path_of(key), message);
  return false;
}

MapReader MapReader::map(std::string_view key, std::vector<std::string_view> known) {
  const auto found = get(key);
  if (!found) return MapReader(YAML::Node(), path_of(key), line_, std::move(known), *errors_);
  const int key_line = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) {
                         return e.key == key;
                       })->key_line;
  return MapReader(found->node, found->path, key_line, std::move(known), *errors_);
}

std::optional<Field> MapReader::list(std::string_view key) {
  auto found = get(key);
  if (!found || found->node.IsNull()) return std::nullopt;
  if (!found->node.IsSequence()) {
    errors_->add(found->line, found->path, "expected a list, got " + describe(found->node));
    return std::nullopt;
  }
  return found;
}

void check_order(MapReader& map, std::string_view min_key, int min_value, std::string_view max_key,
                 int max_value) {
  if (min_value <= max_value) return;
  if (map.has(min_key) || !map.has(max_key)) {
    map.errors().add(map.line_of(min_key), map.path_of(min_key),
                     "must be at most " + map.path_of(max_key) + " (" + std::to_string(max_value) +
                         "), got " + std::to_string(min_value));
  } else {
    map.errors().add(map.line_of(max_key), map.path_of(max_key),
                     "must be at least " + map.path_of(min_key) + " (" + std::to_string(min_value) +
                         "), got " + std::to_string(max_value));
  }
}

}  // namespace onair::config::detail
