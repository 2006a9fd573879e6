// SPDX-License-Identifier: MIT
#include "ready_file.hpp"

#include <netmon/error.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace netmon::host {

namespace {

std::string fix_hint() { return " (name a file in a writable directory)"; }

}  // namespace

ReadyFile::ReadyFile(std::string path) : path_(std::move(path)) {
  if (path_.empty()) throw Error("--ready-file: empty path" + fix_hint());
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    if (!S_ISREG(st.st_mode)) throw Error("--ready-file: '" + path_ + "' exists and is not a file" + fix_hint());
    // A ready file left by a run that was killed: a script must not take it
    // for this run's.
    if (::unlink(path_.c_str()) != 0)
      throw Error(errno_message("--ready-file: cannot remove the stale " + path_, errno) + fix_hint());
  }
  temp_ = path_ + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(errno_message("--ready-file: cannot create " + path_, errno) + fix_hint());
  const std::string text = std::to_string(::getpid()) + "\n";
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int write_errno = n < 0 ? errno : ENOSPC;
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    ::unlink(temp_.c_str());
    throw Error(errno_message("--ready-file: cannot write " + path_, write_errno) + fix_hint());
  }
}

void ReadyFile::publish() {
  if (::rename(temp_.c_str(), path_.c_str()) != 0)
    throw Error(errno_message("--ready-file: cannot create " + path_, errno) + fix_hint());
  published_ = true;
  spdlog::debug("ready: wrote {}", path_);
}

ReadyFile::~ReadyFile() {
  const std::string& name = published_ ? path_ : temp_;
  if (::unlink(name.c_str()) != 0 && errno != ENOENT)
    spdlog::warn("--ready-file: cannot remove {}: {}", name, std::strerror(errno));
}

}  // namespace netmon::host
