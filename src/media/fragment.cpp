#include "media/fragment.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "media/gst.hpp"

namespace onair::media {
namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::string Fragment::header(const std::string& key, const std::string& fallback) const {
  auto it = headers.find(key);
  return it == headers.end() ? fallback : it->second;
}

std::vector<std::string> Fragment::requires_elements() const {
  std::vector<std::string> out;
  std::istringstream in(header("requires"));
  for (std::string name; in >> name;) out.push_back(name);
  return out;
}

std::vector<std::string> Fragment::missing_elements() const {
  std::vector<std::string> out;
  for (const auto& name : requires_elements())
    if (!element_exists(name)) out.push_back(name);
  return out;
}

std::string Fragment::render(const std::string& section,
                             const std::map<std::string, std::string>& values) const {
  auto it = sections.find(section);
  if (it == sections.end()) return {};
  const std::string& text = it->second;
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text[i] != '{') {
      out += text[i++];
      continue;
    }
    const auto close = text.find('}', i);
    if (close == std::string::npos) throw std::runtime_error(path + ": unclosed '{' in @" + section);
    const std::string name = text.substr(i + 1, close - i - 1);
    auto v = values.find(name);
    if (v == values.end())
      throw std::runtime_error(path + ": unknown placeholder {" + name + "} in @" + section);
    out += v->second;
    i = close + 1;
  }
  return out;
}

bool Fragment::uses(const std::string& section, const std::string& placeholder) const {
  auto it = sections.find(section);
  return it != sections.end() && it->second.find("{" + placeholder + "}") != std::string::npos;
}

Fragment load_fragment(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read pipeline fragment " + path);
  // Section markers are header lines with no value; everything else with a value is a header.
  static const std::vector<std::string> kSections = {"video", "audio"};
  Fragment f;
  f.path = path;
  std::string current;
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const std::string t = trim(line);
    if (t.empty()) continue;
    if (t[0] == '#') {
      const std::string body = trim(t.substr(1));
      if (body.empty() || body[0] != '@') continue;  // a plain comment
      const auto space = body.find_first_of(" \t");
      const std::string key = body.substr(1, space == std::string::npos ? std::string::npos : space - 1);
      const std::string value = space == std::string::npos ? "" : trim(body.substr(space));
      if (key.empty()) throw std::runtime_error(path + ":" + std::to_string(line_no) + ": empty @header");
      if (value.empty()) {
        if (std::find(kSections.begin(), kSections.end(), key) == kSections.end())
          throw std::runtime_error(path + ":" + std::to_string(line_no) + ": @" + key +
                                   " needs a value (or is not a known section: video, audio)");
        current = key;
      } else {
        f.headers[key] = value;
      }
      continue;
    }
    auto& section = f.sections[current];
    if (!section.empty()) section += ' ';
    section += t;
  }
  return f;
}

std::vector<Fragment> load_fragments(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw std::runtime_error("pipeline folder not found: " + dir);
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".pipeline") files.push_back(entry.path().string());
  std::sort(files.begin(), files.end());
  std::vector<Fragment> out;
  for (const auto& file : files) out.push_back(load_fragment(file));
  return out;
}

std::string quote_escape(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace onair::media
