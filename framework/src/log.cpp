// SPDX-License-Identifier: MIT
#include "log.hpp"

#include <sys/stat.h>

#include <cctype>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <bpf/libbpf.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace netmon::host {

namespace {
// "<3>": the syslog priority prefix by which journald reads a line's level
// from a service's stderr (sd-daemon(3)).
class JournalPriority final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    int priority = 6;  // info
    switch (msg.level) {
      case spdlog::level::trace:
      case spdlog::level::debug: priority = 7; break;
      case spdlog::level::warn: priority = 4; break;
      case spdlog::level::err: priority = 3; break;
      case spdlog::level::critical: priority = 2; break;
      default: break;
    }
    const char text[] = {'<', static_cast<char>('0' + priority), '>'};
    dest.append(text, text + sizeof text);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<JournalPriority>(); }
};
}  // namespace

bool stderr_is_journal() {
  // systemd sets JOURNAL_STREAM to "DEV:INODE" of the stream it connects to
  // stderr; the variable alone may be inherited by a child whose stderr was
  // redirected elsewhere (systemd.exec(5)).
  const char* env = std::getenv("JOURNAL_STREAM");
  struct stat st {};
  if (!env || fstat(2, &st) != 0) return false;
  unsigned long long dev = 0, ino = 0;
  if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2) return false;
  return dev == static_cast<unsigned long long>(st.st_dev) && ino == static_cast<unsigned long long>(st.st_ino);
}

void setup_logging(const std::string& level) {
  std::shared_ptr<spdlog::logger> logger;
  if (stderr_is_journal()) {
    // To the journal: the level as a priority prefix, no colour (nor time:
    // the journal stamps each line itself), no name (it is the unit's).
    logger = spdlog::stderr_logger_mt("netmon-host");
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    formatter->add_flag<JournalPriority>('*').set_pattern("%*%l: %v");
    logger->set_formatter(std::move(formatter));
  } else {
    logger = spdlog::stderr_color_mt("netmon-host");
    logger->set_pattern("netmon-host: %^%l%$: %v");
  }
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
