// A child process for end-to-end tests: spawned from argv, output captured in a log file,
// always reaped. Not thread-safe: one test thread owns each ChildProcess.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace onair::test {

using namespace std::chrono_literals;

struct ChildOptions {
  std::map<std::string, std::string> env{};  // added to (or overriding) this process's environment
  std::filesystem::path log_path{};          // stdout+stderr go here; empty = a temp file
  std::filesystem::path working_dir{};       // empty = inherit
};

// Spawns argv[0] (searched in PATH) with stdin from /dev/null and stdout+stderr appended to one
// log file. Throws std::system_error when the program cannot be executed (missing, not
// executable), so a typo fails the test at once instead of as a mysterious timeout.
// The child gets SIGKILL if the spawning thread dies (PR_SET_PDEATHSIG), so a crashed or
// timed-out test never leaves an onair holding its ports: spawn from the test's main thread.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv, ChildOptions options = {});
  ~ChildProcess();  // SIGTERM, up to 3 s grace, SIGKILL, reap; removes a temp log
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();          // false once it exited (and then it is reaped)
  bool signal(int signo);  // false when it already exited

  // Exit status once the child has exited within `timeout`: the exit code when it exited,
  // or minus the signal number when a signal killed it (-9 for SIGKILL). nullopt = still running.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGTERM, wait `grace`, then SIGKILL; returns the exit status as wait_exit does.
  int kill_and_wait(std::chrono::milliseconds grace = 3s);
  std::optional<int> exit_status() const { return status_; }

  std::string log_text() const;  // everything it printed so far
  const std::filesystem::path& log_path() const { return log_path_; }
  std::string command_line() const;  // argv joined, for test messages

 private:
  bool reap(bool block);
  void release() noexcept;

  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_path_;
  bool temp_log_ = false;
};

// Polls `pred` every `poll_interval` until it returns true (-> true) or `timeout` passes
// (-> false, after one last check). The bounded way for a test to wait for something.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll_interval = 20ms);

}  // namespace onair::test
