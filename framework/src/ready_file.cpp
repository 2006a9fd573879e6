// SPDX-License-Identifier: MIT
#include "ready_file.hpp"

#include <netmon/error.hpp>

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

namespace netmon::host {

namespace {

// The PID a ready file holds: its whole content is one number and a
// newline. Nothing if the file is anything else.
std::optional<pid_t> pid_in(const std::string& path) {
  std::ifstream in(path);
  std::string text;
  if (!in || !std::getline(in, text) || in.peek() != std::char_traits<char>::eof()) return std::nullopt;
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (ec != std::errc() || end != text.data() + text.size() || pid <= 0) return std::nullopt;
  return pid;
}

// Whether pid is a running netmon-host.
bool running_netmon_host(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  return std::getline(comm, name) && name == "netmon-host";
}

// Whether this process, once it has given up its capabilities, may still
// create and remove files in dir: by the mode bits alone, as a plain uid 0.
bool writable_unprivileged(const struct stat& dir) {
  const mode_t need_owner = S_IWUSR | S_IXUSR, need_group = S_IWGRP | S_IXGRP, need_other = S_IWOTH | S_IXOTH;
  if (dir.st_uid == ::geteuid()) return (dir.st_mode & need_owner) == need_owner;
  bool in_group = dir.st_gid == ::getegid();
  if (!in_group) {
    std::vector<gid_t> groups(static_cast<std::size_t>(std::max(::getgroups(0, nullptr), 0)));
    const int n = ::getgroups(static_cast<int>(groups.size()), groups.data());
    for (int i = 0; i < n && !in_group; ++i) in_group = groups[static_cast<std::size_t>(i)] == dir.st_gid;
  }
  if (in_group) return (dir.st_mode & need_group) == need_group;
  return (dir.st_mode & need_other) == need_other;
}

}  // namespace

ReadyFile::ReadyFile(std::string path) : path_(std::move(path)) {
  const std::string where = "--ready-file " + path_ + ": ";
  if (path_.empty() || path_.back() == '/') throw Error("--ready-file: name a file, such as /run/netmon.ready");
  // netmon-host gives up its capabilities once attached, and must still be
  // able to remove the file at exit: its directory must let a plain uid 0 in.
  const std::filesystem::path parent = std::filesystem::path(path_).parent_path();
  const std::string dir = parent.empty() ? "." : parent.string();
  struct stat ds {};
  if (::stat(dir.c_str(), &ds) != 0) {
    const int err = errno;
    throw Error(errno_message(where + "cannot use directory " + dir, err) +
                " (name a file in an existing directory, such as /run/netmon.ready)");
  }
  if (!S_ISDIR(ds.st_mode)) throw Error(where + dir + " is not a directory (name a file such as /run/netmon.ready)");
  if (!writable_unprivileged(ds))
    throw Error(where + "netmon-host drops its privileges once attached and could not remove the file from " + dir +
                fmt::format(" (owner uid {}, mode {:04o}", ds.st_uid, ds.st_mode & 07777) +
                "): name a file in a directory root owns, such as /run/netmon.ready");

  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0) {
    // Only a ready file that a run killed before it could clean up leaves
    // behind is removed: one PID, not a running netmon-host's.
    const auto pid = S_ISREG(st.st_mode) ? pid_in(path_) : std::nullopt;
    if (!pid) throw Error(where + "the file exists and is not a ready file: remove it or name another");
    if (running_netmon_host(*pid))
      throw Error(where + "the ready file of a running netmon-host (PID " + std::to_string(*pid) +
                  "): give each netmon-host its own");
    if (::unlink(path_.c_str()) != 0) {
      const int err = errno;
      if (err != ENOENT) throw Error(errno_message(where + "cannot remove the stale ready file", err));
    }
  }

  std::string temp = path_ + ".XXXXXX";
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw Error(errno_message(where + "cannot create a file in " + dir, err));
  }
  temp_ = temp;
  const std::string text = std::to_string(::getpid()) + "\n";
  const ssize_t n = ::write(fd, text.data(), text.size());
  const int write_errno = n < 0 ? errno : ENOSPC;
  ::fchmod(fd, 0644);
  ::close(fd);
  if (n != static_cast<ssize_t>(text.size())) {
    ::unlink(temp_.c_str());
    throw Error(errno_message(where + "cannot write " + temp_, write_errno));
  }
}

void ReadyFile::publish() {
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    throw Error(errno_message("--ready-file " + path_ + ": cannot rename " + temp_ + " to it", err));
  }
  published_ = true;
  spdlog::debug("ready: wrote {}", path_);
}

ReadyFile::~ReadyFile() {
  if (published_) {
    // Another run may have taken the path since (its own choice): leave
    // a file that no longer holds our PID.
    if (pid_in(path_) != ::getpid()) return;
  }
  const std::string& name = published_ ? path_ : temp_;
  if (::unlink(name.c_str()) != 0 && errno != ENOENT)
    spdlog::warn("--ready-file: cannot remove {}: {}", name, std::strerror(errno));
}

}  // namespace netmon::host
