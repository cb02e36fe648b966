#include "control/static_files.hpp"

#include <algorithm>
#include <array>
#include <optional>
#include <spdlog/spdlog.h>
#include <utility>

namespace onair::control {
namespace fs = std::filesystem;
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return std::nullopt;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool is_within(const fs::path& file, const fs::path& root) {
  const auto [r, f] = std::mismatch(root.begin(), root.end(), file.begin(), file.end());
  return r == root.end();
}

fs::path canonical_root(const std::string& web_root) {
  if (web_root.empty()) return {};
  std::error_code ec;
  auto root = fs::canonical(web_root, ec);
  if (ec || !fs::is_directory(root, ec)) {
    spdlog::warn("control: web_root {} is not a readable directory; the panel is not served",
                 web_root);
    return {};
  }
  return root;
}

}  // namespace

StaticFiles::StaticFiles(std::string web_root) : root_(canonical_root(web_root)) {}

StaticFiles::Resolved StaticFiles::resolve(std::string_view url_path) const {
  if (url_path.empty() || url_path.front() != '/') return {Lookup::invalid, {}};
  const auto decoded = percent_decode(url_path);
  if (!decoded || decoded->find_first_of(std::string_view{"\0\\", 2}) != std::string::npos) {
    return {Lookup::invalid, {}};
  }
  std::string_view rest = std::string_view{*decoded}.substr(1);
  const bool directory = rest.empty() || rest.back() == '/';
  if (directory && !rest.empty()) rest.remove_suffix(1);

  fs::path relative;
  bool hidden = false;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const auto segment = rest.substr(0, slash);
    if (segment.empty() || segment == "." || segment == "..") return {Lookup::invalid, {}};
    hidden = hidden || segment.front() == '.';
    relative /= segment;
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (slash != std::string_view::npos && rest.empty()) return {Lookup::invalid, {}};
  }
  if (root_.empty() || hidden) return {Lookup::not_found, {}};

  std::error_code ec;
  auto file = root_ / relative;
  if (directory || fs::is_directory(file, ec)) file /= "index.html";
  if (!fs::is_regular_file(file, ec)) return {Lookup::not_found, {}};
  // Symlinks may point anywhere; only what really lives under the root is served.
  auto real = fs::canonical(file, ec);
  if (ec || !is_within(real, root_)) return {Lookup::not_found, {}};
  return {Lookup::found, std::move(real)};
}

std::optional<FileResponse> StaticFiles::serve(const Resolved& resolved) const {
  http::file_body::value_type body;
  boost::beast::error_code ec;
  body.open(resolved.file.c_str(), boost::beast::file_mode::scan, ec);
  if (ec) {
    spdlog::warn("control: cannot open {}: {}", resolved.file.string(), ec.message());
    return std::nullopt;
  }
  FileResponse res{http::status::ok, 11};
  const auto type = content_type(resolved.file);
  res.set(http::field::content_type, to_bsv(type));
  // No fingerprinted asset names: the browser revalidates so an upgrade never leaves a stale panel.
  res.set(http::field::cache_control, "no-cache");
  if (type.starts_with("text/html")) {
    res.set("X-Frame-Options", "DENY");
    // The panel loads nothing from elsewhere: an injected script or a framing page gets nowhere.
    res.set("Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; connect-src 'self'; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
  }
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

std::string_view StaticFiles::content_type(const fs::path& file) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 18> types{{
      {".html", "text/html; charset=utf-8"},
      {".htm", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},
      {".gif", "image/gif"},
      {".ico", "image/x-icon"},
      {".webp", "image/webp"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".yaml", "application/yaml"},
  }};
  std::string ext = file.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const auto& [suffix, type] : types) {
    if (ext == suffix) return type;
  }
  return "application/octet-stream";
}

}  // namespace onair::control
