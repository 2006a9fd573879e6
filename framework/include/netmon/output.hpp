// SPDX-License-Identifier: MIT
// netmon::Output: where a sink writes, stdout or a file, with the error
// handling every sink needs: partial writes and EINTR retried, EPIPE reported
// as "the reader went away" (a clean end), any other error thrown with the
// path and the reason.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace netmon {

class Output {
 public:
  Output() = default;
  ~Output();
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // No target, "" or "-": stdout. Otherwise the file is created or truncated.
  // Throws netmon::Error naming the path and the fix if it cannot be opened.
  // The fix names where the path was given: "--sink NAME:PATH", or, for a
  // path read from an option, `given_as` (e.g. "-o my_sink.path=PATH").
  void open(const std::optional<std::string>& target, const std::string& sink_name);
  void open(const std::optional<std::string>& target, const std::string& sink_name, const std::string& given_as);
  // Writes all of data. False when the reader has gone away (EPIPE).
  [[nodiscard]] bool write(std::string_view data);
  void close();

  [[nodiscard]] bool is_terminal() const;
  [[nodiscard]] const std::string& describe() const { return what_; }  // "stdout" or the path

 private:
  int fd_ = -1;
  bool owned_ = false;
  std::string what_;
};

}  // namespace netmon
