// SPDX-License-Identifier: MIT
// Subprocess: runs a program with its stdout and stderr captured, for tests
// that drive netmon-host as a user would.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace netmon::test {

struct ExitStatus {
  int code = -1;   // exit code, or -1 if killed by a signal
  int signal = 0;  // the signal that killed it, or 0
};

class Subprocess {
 public:
  // argv[0] is the program path. extra_env entries are "NAME=value".
  explicit Subprocess(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env = {});
  ~Subprocess();  // kills (SIGKILL) and reaps if still running
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Next line of stdout (without '\n'), or nullopt on EOF or timeout.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  void signal(int sig) const;
  // Waits for exit; nullopt on timeout. Drains stdout and stderr meanwhile.
  std::optional<ExitStatus> wait(std::chrono::milliseconds timeout);
  // Everything read from stderr so far (complete after wait()).
  [[nodiscard]] const std::string& stderr_text() const { return err_; }
  // stdout not yet consumed by read_line (complete after wait()).
  [[nodiscard]] const std::string& stdout_rest() const { return out_; }

 private:
  void pump(int timeout_ms);
  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::optional<ExitStatus> status_;
};

// Runs to completion with a timeout; returns status, stdout and stderr.
struct RunResult {
  ExitStatus status;
  std::string out;
  std::string err;
};
RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout = std::chrono::seconds(30),
              const std::vector<std::string>& extra_env = {});

// Runs a shell command (sh -c); returns its exit code. For ip(8) and friends.
int sh(const std::string& command);
// Same, returning stdout.
std::string sh_out(const std::string& command);

}  // namespace netmon::test
