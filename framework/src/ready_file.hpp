// SPDX-License-Identifier: MIT
// --ready-file: a file that appears once every plugin is attached, so that a
// script can start its traffic only when netmon-host counts it.
#pragma once

#include <string>

namespace netmon::host {

// Created as a temporary file beside `path` at construction (so a path that
// cannot be written fails before anything is attached), renamed to `path`
// by publish(): the file appears whole, holding netmon-host's PID and a
// newline. A file already at `path` (left by a run that was killed) is
// removed first. Removed by the destructor: a ready file outlives its run
// only when netmon-host is killed (SIGKILL).
class ReadyFile {
 public:
  explicit ReadyFile(std::string path);
  ~ReadyFile();
  ReadyFile(const ReadyFile&) = delete;
  ReadyFile& operator=(const ReadyFile&) = delete;

  void publish();

 private:
  std::string path_;
  std::string temp_;
  bool published_ = false;
};

}  // namespace netmon::host
