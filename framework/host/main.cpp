// SPDX-License-Identifier: MIT
// netmon-host: the executable. Everything but process set-up lives in the
// framework (host.cpp), where tests can reach it.
#include "bus.hpp"
#include "cli.hpp"
#include "host.hpp"
#include "log.hpp"

#include <netmon/error.hpp>
#include <netmon/plugin_abi.h>

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  // Block the stop signals before any thread starts, so every thread inherits
  // the mask and the main loop alone reads them (signalfd). Ignore SIGPIPE:
  // a closed stdout becomes EPIPE, which the sinks turn into a clean exit.
  sigset_t set;
  sigemptyset(&set);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&set, s);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  netmon::host::CliResult parsed;
  try {
    parsed = netmon::host::parse_cli(argc, argv);
  } catch (const std::exception& e) {  // parse_cli reports usage errors itself; this is a last resort
    std::fprintf(stderr, "netmon-host: %s\n", e.what());
    return 2;
  }
  if (auto* exit = std::get_if<netmon::host::CliExit>(&parsed)) {
    std::fputs((exit->output + "\n").c_str(), exit->code == 0 ? stdout : stderr);
    return exit->code;
  }
  const auto& cfg = std::get<netmon::host::HostConfig>(parsed);
  netmon::host::setup_logging(cfg.log_level);
  netmon::host::route_libbpf_logs();
  if (cfg.version) {
    std::printf("netmon-host %s (plugin ABI %d.%d)\n", NETMON_VERSION, NETMON_ABI_MAJOR, NETMON_ABI_MINOR);
    return 0;
  }
  if (cfg.print_config) {
    std::printf("%s\n", netmon::host::effective_config(cfg).dump(2).c_str());
    return 0;
  }
  int code = 1;
  try {
    code = cfg.check_config   ? netmon::host::check_config(cfg)
           : cfg.list_plugins ? netmon::host::list_plugins(cfg)
                              : netmon::host::run_host(cfg);
  } catch (const netmon::UsageError& e) {  // an option refused, by the host or by a plugin or sink
    spdlog::error("{}", e.what());
    code = 2;
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
  }
  // A sink thread still blocked writing (a pipe nobody reads) may hold
  // stdout's lock, which exit() would wait for forever, and may yet call the
  // logger that exit()'s destructors free: leave without either.
  if (netmon::host::sinks_left_running()) {
    spdlog::default_logger()->flush();
    std::fflush(stderr);
    // Not stdout: flushing it could block on the very pipe that blocks the
    // sink. Sinks write through their own descriptors (netmon::Output) and
    // flush every batch; nothing of theirs waits in stdio's buffer.
    std::_Exit(code);
  }
  return code;
}
