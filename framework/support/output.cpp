// SPDX-License-Identifier: MIT
#include <netmon/error.hpp>
#include <netmon/output.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace netmon {

Output::~Output() {
  try {
    close();
  } catch (const Error&) {
    // Destructors must not throw; close() explicitly to see the error.
  }
}

void Output::open(const std::optional<std::string>& target, const std::string& sink_name) {
  open(target, sink_name, "--sink " + sink_name + ":PATH");
}

void Output::open(const std::optional<std::string>& target, const std::string& sink_name, const std::string& given_as) {
  close();
  if (!target || target->empty() || *target == "-") {
    fd_ = STDOUT_FILENO;
    owned_ = false;
    what_ = "stdout";
    return;
  }
  what_ = *target;
  fd_ = ::open(target->c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    const int err = errno;
    throw Error(errno_message("cannot open " + *target + " for writing", err) +
                " (choose a writable path: " + (given_as.empty() ? "--sink " + sink_name + ":PATH" : given_as) + ")");
  }
  owned_ = true;
}

bool Output::write(std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EPIPE) return false;
      throw Error(errno_message("cannot write to " + what_, err));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

void Output::close() {
  if (owned_ && fd_ >= 0) {
    const int rc = ::close(fd_);
    const int err = rc != 0 ? errno : 0;
    fd_ = -1;
    owned_ = false;
    if (rc != 0 && err != EINTR) throw Error(errno_message("cannot close " + what_, err));
  }
  fd_ = -1;
}

bool Output::is_terminal() const { return fd_ >= 0 && ::isatty(fd_); }

}  // namespace netmon
