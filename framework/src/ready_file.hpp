// SPDX-License-Identifier: MIT
// --ready-file: a file that appears once every plugin is attached, so that a
// script can start its traffic only when netmon-host counts it.
#pragma once

#include <string>

namespace netmon::host {

// Created as a temporary file beside `path` at construction (so a path that
// cannot be used fails before anything is loaded or attached), renamed to
// `path` by publish(): the file appears whole, holding netmon-host's PID and
// a newline. Its directory must let a plain uid 0 write (netmon-host has no
// capabilities left when it removes the file). A file already at `path` is
// removed only if it is a ready file left by a run that was killed (a PID
// that is not a running netmon-host); any other file there is an error.
// Removed by the destructor, if it still holds our PID: a ready file
// outlives its run only when netmon-host is killed (SIGKILL).
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
