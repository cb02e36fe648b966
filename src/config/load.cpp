#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

#include "config/config.hpp"
#include "config/schema.hpp"
#include "config/yaml_reader.hpp"

namespace onair::config {

namespace {

// Closes the descriptor on every path out of read_file.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

constexpr std::size_t kMaxConfigBytes = 1 << 20;  // a config file is never this big

// The file's contents, or the OS reason it could not be read.
std::optional<std::string> read_file(const std::string& path, std::string* reason) {
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    *reason = std::error_code(errno, std::generic_category()).message();
    return std::nullopt;
  }
  std::string text;
  char buffer[8192];
  while (text.size() <= kMaxConfigBytes) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *reason = std::error_code(errno, std::generic_category()).message();
      return std::nullopt;
    }
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  *reason = "larger than 1 MiB; is this really a config file?";
  return std::nullopt;
}

}  // namespace

LoadResult load_config_text(const std::string& yaml, const std::string& name, const LoadOptions& options) {
  detail::Errors errors(name);
  Config config;
  config.path = name;
  try {
    const YAML::Node root = YAML::Load(yaml);
    detail::read_config(root, config, errors, options);
  } catch (const YAML::Exception& e) {  // syntax errors (and anything yaml-cpp refuses later)
    errors.add_plain(e.mark.line < 0 ? 1 : e.mark.line + 1, "invalid YAML: " + e.msg);
  }
  LoadResult result;
  result.errors = errors.sorted();
  if (result.errors.empty()) result.config = std::move(config);
  return result;
}

LoadResult load_config_file(const std::string& path, const LoadOptions& options) {
  std::string reason;
  const auto text = read_file(path, &reason);
  if (!text) return LoadResult{std::nullopt, {path + ": cannot read config file: " + reason}};
  LoadResult result = load_config_text(*text, path, options);
  // Relative files (slate image, TLS cert/key) are relative to the config file, not to
  // wherever onair was started.
  if (result.config) {
    auto& c = *result.config;
    for (std::string* file : {&c.sources.slate.image, &c.control.tls_cert, &c.control.tls_key}) {
      const std::filesystem::path given(*file);
      if (!file->empty() && given.is_relative()) {
        *file = (std::filesystem::path(path).parent_path() / given).lexically_normal().string();
      }
    }
  }
  return result;
}

}  // namespace onair::config
