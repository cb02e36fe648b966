#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace onair::test {
namespace {

// A file descriptor closed on scope exit.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const std::string& what, int err) {
  throw std::system_error(err, std::generic_category(), what);
}

// PATH lookup done before fork, because execvp may allocate and the child may not.
std::string resolve_program(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return name;  // execve fails with ENOENT and the constructor reports it
}

std::vector<std::string> merged_environment(const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (char** entry = environ; entry && *entry; ++entry) {
    std::string_view kv(*entry);
    std::string key(kv.substr(0, kv.find('=')));
    if (!extra.contains(key)) env.emplace_back(kv);
  }
  for (const auto& [key, value] : extra) env.push_back(key + "=" + value);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int decode_wait_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1;
}

// Runs in the forked child: only async-signal-safe calls until execve.
[[noreturn]] void exec_child(pid_t parent, int devnull, int log_fd, int error_fd, const char* cwd,
                             const char* program, char* const* argv, char* const* envp) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < 32; ++s) ::sigaction(s, &dfl, nullptr);  // ignored signals survive exec
  if (::dup2(devnull, 0) < 0 || ::dup2(log_fd, 1) < 0 || ::dup2(log_fd, 2) < 0 ||
      (cwd && ::chdir(cwd) != 0)) {
    int err = errno;
    [[maybe_unused]] auto n = ::write(error_fd, &err, sizeof err);
    ::_exit(127);
  }
  ::execve(program, argv, envp);
  int err = errno;
  [[maybe_unused]] auto n = ::write(error_fd, &err, sizeof err);
  ::_exit(127);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, ChildOptions options)
    : argv_(std::move(argv)) {
  if (argv_.empty()) throw std::invalid_argument("ChildProcess: empty argv");
  int log_fd = -1;
  if (options.log_path.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "onair-child-XXXXXX.log");
    log_fd = ::mkostemps(pattern.data(), 4, O_CLOEXEC | O_APPEND);
    if (log_fd < 0) throw_errno("ChildProcess: cannot create a temp log", errno);
    log_path_ = pattern;
    temp_log_ = true;
  } else {
    log_path_ = options.log_path;
    log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) throw_errno("ChildProcess: cannot open log " + log_path_.string(), errno);
  }
  Fd log(log_fd);
  Fd devnull(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw_errno("ChildProcess: pipe2", errno);
  Fd error_read(pipe_fds[0]);
  Fd error_write(pipe_fds[1]);

  std::string program = resolve_program(argv_[0]);
  std::vector<std::string> args = argv_;
  std::vector<std::string> env = merged_environment(options.env);
  std::vector<char*> c_args = c_strings(args);
  std::vector<char*> c_env = c_strings(env);
  std::string cwd = options.working_dir.string();

  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw_errno("ChildProcess: fork", errno);
  if (pid == 0) {
    exec_child(parent, devnull.get(), log.get(), error_write.get(),
               cwd.empty() ? nullptr : cwd.c_str(), program.c_str(), c_args.data(), c_env.data());
  }
  pid_ = pid;
  error_write.reset();
  int child_errno = 0;
  ssize_t n;
  do {
    n = ::read(error_read.get(), &child_errno, sizeof child_errno);  // EOF = execve succeeded
  } while (n < 0 && errno == EINTR);
  if (n == static_cast<ssize_t>(sizeof child_errno)) {
    reap(true);
    pid_ = -1;
    if (temp_log_) std::filesystem::remove(log_path_);
    throw_errno("ChildProcess: cannot run " + program, child_errno);
  }
}

ChildProcess::~ChildProcess() { release(); }

ChildProcess::ChildProcess(ChildProcess&& other) noexcept { *this = std::move(other); }

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    release();
    argv_ = std::move(other.argv_);
    pid_ = std::exchange(other.pid_, -1);
    status_ = std::exchange(other.status_, std::nullopt);
    log_path_ = std::move(other.log_path_);
    temp_log_ = std::exchange(other.temp_log_, false);
  }
  return *this;
}

void ChildProcess::release() noexcept {
  if (pid_ > 0 && !status_) kill_and_wait();
  if (temp_log_) {
    std::error_code ignored;
    std::filesystem::remove(log_path_, ignored);
  }
  pid_ = -1;
  temp_log_ = false;
}

bool ChildProcess::reap(bool block) {
  if (status_) return true;
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid_, &status, block ? 0 : WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid_) {
    status_ = decode_wait_status(status);
    return true;
  }
  if (r < 0) status_ = -1;  // ECHILD: someone else reaped it; treat as gone
  return status_.has_value();
}

bool ChildProcess::running() { return pid_ > 0 && !reap(false); }

bool ChildProcess::signal(int signo) {
  if (!running()) return false;
  return ::kill(pid_, signo) == 0;  // not reaped yet, so the pid cannot have been reused
}

std::optional<int> ChildProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return status_;
  wait_until([this] { return reap(false); }, timeout, 5ms);
  return status_;
}

int ChildProcess::kill_and_wait(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return status_.value_or(-1);
  signal(SIGTERM);
  if (!wait_exit(grace)) {
    ::kill(pid_, SIGKILL);
    reap(true);  // SIGKILL cannot be ignored, so this returns promptly
  }
  return status_.value_or(-1);
}

std::string ChildProcess::log_text() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string ChildProcess::command_line() const {
  std::string line;
  for (const auto& arg : argv_) {
    if (!line.empty()) line += ' ';
    line += arg;
  }
  return line;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(poll_interval);
  }
  return pred();
}

}  // namespace onair::test
