// A strict reader of the Prometheus text exposition format 0.0.4, for tests: every line must
// parse, names and labels must be valid, TYPE/HELP come once and before a family's samples,
// a family's samples are contiguous, series are unique, counters end in _total, histogram
// buckets are cumulative and end at +Inf = _count. Problems are collected, not thrown, so a
// test can print them all.
#pragma once

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace onair::test {

using Labels = std::map<std::string, std::string>;

struct PromSample {
  std::string name;  // e.g. onair_encode_latency_seconds_bucket
  Labels labels;
  double value = 0;
};

struct PromFamily {
  std::string type;  // counter | gauge | histogram | summary | untyped
  std::string help;
  std::vector<PromSample> samples;
};

struct Exposition {
  std::map<std::string, PromFamily> families;
  std::vector<std::string> problems;  // empty when the text is valid

  bool has(const std::string& family) const { return families.count(family) > 0; }
  // The value of one series, if present.
  std::optional<double> value(const std::string& name, const Labels& labels = {}) const {
    for (const auto& [family_name, family] : families)
      for (const auto& s : family.samples)
        if (s.name == name && s.labels == labels) return s.value;
    return std::nullopt;
  }
};

namespace prom_detail {

inline bool valid_name(const std::string& n, bool metric) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    const char c = n[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return metric || n.rfind("__", 0) != 0;
}

inline std::optional<double> parse_value(const std::string& t) {
  if (t == "+Inf") return INFINITY;
  if (t == "-Inf") return -INFINITY;
  if (t == "NaN") return NAN;
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

// The family a sample belongs to: histogram/summary series carry a suffix.
inline std::string family_of(const std::string& sample, const std::map<std::string, PromFamily>& families) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    const std::string s(suffix);
    if (sample.size() > s.size() && sample.compare(sample.size() - s.size(), s.size(), s) == 0) {
      const std::string base = sample.substr(0, sample.size() - s.size());
      auto it = families.find(base);
      if (it != families.end() && (it->second.type == "histogram" || it->second.type == "summary")) return base;
    }
  }
  return sample;
}

}  // namespace prom_detail

inline Exposition parse_prometheus_text(const std::string& text) {
  using namespace prom_detail;
  Exposition e;
  std::set<std::string> series, finished;
  std::string current;  // family whose samples are being read
  auto problem = [&](size_t line, const std::string& what) {
    e.problems.push_back("line " + std::to_string(line) + ": " + what);
  };
  size_t line_no = 0, at = 0;
  if (!text.empty() && text.back() != '\n') e.problems.push_back("the text does not end with a newline");
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (line.empty()) continue;
    if (line[0] == '#') {
      if (line.rfind("# HELP ", 0) != 0 && line.rfind("# TYPE ", 0) != 0) continue;  // a plain comment
      const bool is_type = line[2] == 'T';
      const size_t name_end = line.find(' ', 7);
      const std::string name = line.substr(7, name_end == std::string::npos ? std::string::npos : name_end - 7);
      const std::string rest = name_end == std::string::npos ? "" : line.substr(name_end + 1);
      if (!valid_name(name, true)) problem(line_no, "bad metric name \"" + name + "\"");
      if (finished.count(name) || (e.families.count(name) && !e.families[name].samples.empty()))
        problem(line_no, name + ": HELP/TYPE after its samples");
      PromFamily& f = e.families[name];
      if (is_type) {
        static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary", "untyped"};
        if (!f.type.empty()) problem(line_no, name + ": second TYPE line");
        if (!types.count(rest)) problem(line_no, name + ": unknown type \"" + rest + "\"");
        f.type = rest;
        if (rest == "counter" && (name.size() < 6 || name.compare(name.size() - 6, 6, "_total") != 0))
          problem(line_no, name + ": a counter's name should end in _total");
      } else {
        if (!f.help.empty()) problem(line_no, name + ": second HELP line");
        f.help = rest;
      }
      continue;
    }
    // name{label="value",...} value [timestamp]
    PromSample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!valid_name(s.name, true)) problem(line_no, "bad metric name \"" + s.name + "\"");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        const size_t eq = line.find('=', i);
        if (eq == std::string::npos || eq + 1 >= line.size() || line[eq + 1] != '"') {
          problem(line_no, "bad label syntax");
          break;
        }
        const std::string label = line.substr(i, eq - i);
        if (!valid_name(label, false)) problem(line_no, "bad label name \"" + label + "\"");
        std::string value;
        size_t j = eq + 2;
        for (; j < line.size() && line[j] != '"'; ++j) {
          if (line[j] == '\\' && j + 1 < line.size()) {
            const char c = line[++j];
            if (c != '\\' && c != '"' && c != 'n') problem(line_no, "bad escape in a label value");
            value += c == 'n' ? '\n' : c;
          } else {
            value += line[j];
          }
        }
        if (j >= line.size()) {
          problem(line_no, "unterminated label value");
          break;
        }
        if (s.labels.count(label)) problem(line_no, "label \"" + label + "\" twice");
        s.labels[label] = value;
        i = j + 1;
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        problem(line_no, "missing }");
        continue;
      }
      ++i;  // '}'
    }
    if (i >= line.size() || line[i] != ' ') {
      problem(line_no, "missing value");
      continue;
    }
    std::string value_text = line.substr(i + 1);
    if (const size_t space = value_text.find(' '); space != std::string::npos) {
      if (!parse_value(value_text.substr(space + 1))) problem(line_no, "bad timestamp");
      value_text = value_text.substr(0, space);
    }
    const auto value = parse_value(value_text);
    if (!value) problem(line_no, "bad value \"" + value_text + "\"");
    s.value = value.value_or(0);
    const std::string family = family_of(s.name, e.families);
    auto it = e.families.find(family);
    if (it == e.families.end() || it->second.type.empty()) problem(line_no, s.name + ": no TYPE before its samples");
    if (family != current) {
      if (finished.count(family)) problem(line_no, family + ": samples not contiguous");
      if (!current.empty()) finished.insert(current);
      current = family;
    }
    std::string key = s.name + "{";
    for (const auto& [k, v] : s.labels) key += k + "=" + v + ",";
    if (!series.insert(key).second) problem(line_no, "duplicate series " + key + "}");
    e.families[family].samples.push_back(std::move(s));
  }
  // Histograms: per label set, le ascending, counts cumulative, +Inf last and equal to _count.
  for (const auto& [name, f] : e.families) {
    if (f.type != "histogram") continue;
    std::map<Labels, std::vector<std::pair<double, double>>> buckets;
    std::map<Labels, double> counts;
    std::set<Labels> sums;
    for (const auto& s : f.samples) {
      Labels base = s.labels;
      if (s.name == name + "_bucket") {
        if (!base.count("le")) {
          e.problems.push_back(name + ": a bucket without le");
          continue;
        }
        const auto le = parse_value(base["le"]);
        if (!le) e.problems.push_back(name + ": bad le \"" + base["le"] + "\"");
        base.erase("le");
        buckets[base].emplace_back(le.value_or(0), s.value);
      } else if (s.name == name + "_count") {
        counts[base] = s.value;
      } else if (s.name == name + "_sum") {
        sums.insert(base);
      } else {
        e.problems.push_back(name + ": unexpected sample " + s.name);
      }
    }
    for (const auto& [labels, list] : buckets) {
      for (size_t k = 1; k < list.size(); ++k) {
        if (!(list[k].first > list[k - 1].first)) e.problems.push_back(name + ": le not ascending");
        if (list[k].second < list[k - 1].second) e.problems.push_back(name + ": bucket counts not cumulative");
      }
      if (list.empty() || !std::isinf(list.back().first))
        e.problems.push_back(name + ": no +Inf bucket");
      else if (!counts.count(labels) || counts[labels] != list.back().second)
        e.problems.push_back(name + ": +Inf bucket != _count");
      if (!sums.count(labels)) e.problems.push_back(name + ": no _sum");
    }
  }
  return e;
}

inline std::string readme_text() {
  std::ifstream in(std::string(ONAIR_SOURCE_DIR) + "/README.md");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The metric names in the README's Metrics table (first column, before any `{`).
inline std::vector<std::string> documented_metrics(const std::string& readme) {
  std::vector<std::string> names;
  const size_t section = readme.find("\n## Metrics");
  if (section == std::string::npos) return names;
  const size_t section_end = readme.find("\n## ", section + 1);
  const std::string body =
      readme.substr(section, section_end == std::string::npos ? std::string::npos : section_end - section);
  size_t at = 0;
  while ((at = body.find("\n| `", at)) != std::string::npos) {
    at += 4;
    const size_t end = body.find_first_of("{`", at);
    if (end == std::string::npos) break;
    names.push_back(body.substr(at, end - at));
  }
  return names;
}

}  // namespace onair::test
