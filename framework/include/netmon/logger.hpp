// SPDX-License-Identifier: MIT
// netmon::Logger: a plugin's or sink's handle on the host's log (stderr).
// Thread safe; a default-constructed Logger discards everything.
#pragma once

#include <netmon/plugin_abi.h>

#include <string>

namespace netmon {

class Logger {
 public:
  Logger() = default;
  Logger(netmon_log_fn fn, void* host_ctx) : fn_(fn), ctx_(host_ctx) {}

  void debug(const std::string& msg) const { emit(NETMON_LOG_DEBUG, msg); }
  void info(const std::string& msg) const { emit(NETMON_LOG_INFO, msg); }
  void warn(const std::string& msg) const { emit(NETMON_LOG_WARN, msg); }
  void error(const std::string& msg) const { emit(NETMON_LOG_ERROR, msg); }

 private:
  void emit(int level, const std::string& msg) const {
    if (fn_) fn_(ctx_, level, msg.c_str());
  }
  netmon_log_fn fn_ = nullptr;
  void* ctx_ = nullptr;
};

}  // namespace netmon
