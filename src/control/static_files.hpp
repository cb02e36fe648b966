// The web panel: files under web_root served at /, never anything outside it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "control/http_types.hpp"

namespace onair::control {

class StaticFiles {
 public:
  enum class Lookup { found, not_found, invalid };
  struct Resolved {
    Lookup lookup = Lookup::not_found;
    std::filesystem::path file;  // set when found
  };

  explicit StaticFiles(std::string web_root);  // empty = no panel, every path is not_found

  // Maps a URL path (percent-encoded, no query) to a regular file under the root.
  // invalid: bad escapes, NUL, backslash, "." / ".." or empty segments, not origin-form.
  // not_found: missing, hidden (dot) segments, not a regular file, or resolving outside the root.
  Resolved resolve(std::string_view url_path) const;

  // GET/HEAD response for a found file (the session strips the body for HEAD);
  // nullopt when it cannot be opened after all (removed, unreadable).
  std::optional<FileResponse> serve(const Resolved& resolved) const;

  static std::string_view content_type(const std::filesystem::path& file);

 private:
  std::filesystem::path root_;  // canonical, or empty
};

}  // namespace onair::control
