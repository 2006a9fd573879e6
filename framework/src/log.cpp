// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <string>

#include <bpf/libbpf.h>
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

namespace {
int libbpf_print(enum libbpf_print_level level, const char* fmt, va_list args) {
  char buf[2048];
  std::vsnprintf(buf, sizeof buf, fmt, args);
  std::string msg(buf);
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  if (msg.empty()) return 0;
  if (msg.rfind("libbpf: ", 0) == 0) msg.erase(0, 8);
  const bool extack = msg.find("Kernel error message:") != std::string::npos;
  if (level == LIBBPF_WARN && !extack) spdlog::warn("libbpf: {}", msg);
  else spdlog::debug("libbpf: {}", msg);
  return 0;
}
}  // namespace

void route_libbpf_logs() { libbpf_set_print(libbpf_print); }

std::string attribute(const std::string& name, const std::string& label, const std::string& message) {
  if (name.empty()) return message;
  if (message.rfind(name + ":", 0) == 0) return message;
  const std::string option = name + ".";
  for (std::size_t at = message.find(option); at != std::string::npos; at = message.find(option, at + 1)) {
    const bool starts_word = at == 0 || message[at - 1] == ' ' || message[at - 1] == '\'';
    const std::size_t key = at + option.size();
    const bool has_key =
        key < message.size() && (std::isalnum(static_cast<unsigned char>(message[key])) || message[key] == '_');
    if (starts_word && has_key) return message;
  }
  return label + ": " + message;
}

void plugin_log(void* host_ctx, int level, const char* message) {
  const auto* who = static_cast<const std::string*>(host_ctx);
  const std::string text = who ? attribute(*who, *who, message ? message : "") : std::string(message ? message : "");
  switch (level) {
    case NETMON_LOG_DEBUG: spdlog::debug("{}", text); break;
    case NETMON_LOG_INFO: spdlog::info("{}", text); break;
    case NETMON_LOG_WARN: spdlog::warn("{}", text); break;
    default: spdlog::error("{}", text); break;
  }
}

}  // namespace netmon::host
