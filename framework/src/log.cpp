// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace netmon::host {

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_color_mt("netmon-host");
  logger->set_pattern("netmon-host: %^%l%$: %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void plugin_log(void* host_ctx, int level, const char* message) {
  const auto* who = static_cast<const std::string*>(host_ctx);
  const std::string prefix = who ? *who + ": " : "";
  switch (level) {
    case NETMON_LOG_DEBUG: spdlog::debug("{}{}", prefix, message); break;
    case NETMON_LOG_INFO: spdlog::info("{}{}", prefix, message); break;
    case NETMON_LOG_WARN: spdlog::warn("{}{}", prefix, message); break;
    default: spdlog::error("{}{}", prefix, message); break;
  }
}

}  // namespace netmon::host
