// SPDX-License-Identifier: MIT
// netmon-bench-console: the console's full-screen view redrawn on a terminal
// (a pseudo-terminal of the given size, TERM=xterm) with flow_top's top 1000
// in the batch, against the plain block of the same batch (the baseline,
// console_view.cpp), as a ratio; and the bytes each redraw sends to the
// terminal: the first screen whole, then only what changed. No root.
//
//   build/bin/netmon-bench-console [--iterations 200] [--trials 7] [--top 1000] [--width 80] [--height 24]
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "bench_util.hpp"
#include "console_tui.hpp"
#include "console_view.hpp"
#include "standard_batch.hpp"

namespace {

using netmon::bench::median;
using netmon::bench::per_call;

// What the terminal received since the last call.
std::size_t drain(int master) {
  std::size_t n = 0;
  char buf[65536];
  for (ssize_t got; (got = ::read(master, buf, sizeof buf)) > 0;) n += static_cast<std::size_t>(got);
  return n;
}

// The batch of the next interval: every flow's counters and rates moved on,
// as they do between two collections.
void advance(netmon::Batch& b) {
  b.timestamp_ns += b.interval_ns;
  for (auto& s : b.samples)
    for (auto& f : s.fields)
      if (auto* u = std::get_if<std::uint64_t>(&f.value)) *u += 1 + *u / 100;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The console's full-screen redraw vs its plain block"};
  int iterations = 200, trials = 7, width = 80, height = 24;
  std::size_t top = 1000;
  app.add_option("--iterations", iterations, "redraws per trial")->check(CLI::PositiveNumber);
  app.add_option("--trials", trials, "trials (the median is reported)")->check(CLI::PositiveNumber);
  app.add_option("--top", top, "flows in the batch (flow_top's top N)");
  app.add_option("--width", width, "terminal columns")->check(CLI::Range(60, 500));
  app.add_option("--height", height, "terminal rows")->check(CLI::Range(12, 300));
  CLI11_PARSE(app, argc, argv);

  // The view draws on stdout and reads keys from stdin: both become the
  // pseudo-terminal; the report goes to the original stdout.
  int master = -1, slave = -1;
  winsize ws{};
  ws.ws_col = static_cast<unsigned short>(width);
  ws.ws_row = static_cast<unsigned short>(height);
  if (::openpty(&master, &slave, nullptr, nullptr, &ws) != 0) {
    std::perror("netmon-bench-console: openpty");
    return 1;
  }
  ::fcntl(master, F_SETFL, O_NONBLOCK);
  std::FILE* report = ::fdopen(::dup(STDOUT_FILENO), "w");
  const int saved_stderr = ::dup(STDERR_FILENO);
  std::fflush(stdout);
  ::dup2(slave, STDOUT_FILENO);
  ::dup2(slave, STDIN_FILENO);
  ::dup2(::open("/dev/null", O_WRONLY), STDERR_FILENO);  // the view would keep the log: none here
  ::setenv("TERM", "xterm", 1);

  netmon::Batch batch = netmon::unit::standard_batch(2, top, 1);
  std::vector<double> screen, plain;
  std::size_t first_bytes = 0, redraw_bytes = 0, same_bytes = 0;
  {
    netmon::console::Tui tui;
    tui.show(batch);
    first_bytes = drain(master);
    tui.show(batch);  // nothing changed: nothing to send
    same_bytes = drain(master);
    advance(batch);
    tui.show(batch);
    redraw_bytes = drain(master);
    for (int t = 0; t < trials; ++t) {
      screen.push_back(per_call(iterations, [&] {
        advance(batch);
        tui.show(batch);
        drain(master);
      }));
      plain.push_back(per_call(iterations, [&] {
        advance(batch);
        const std::string text = netmon::console::render(batch);
        if (text.empty()) std::abort();
      }));
    }
    tui.stop();
  }
  ::dup2(saved_stderr, STDERR_FILENO);

  const double s = median(screen), p = median(plain);
  fmt::print(report, "batch: {} samples (2 interfaces, top {}); terminal {}x{}\n", batch.samples.size(), top, width,
             height);
  fmt::print(report, "full-screen redraw (layout and ncurses), median of {} x {}: {:.3f} ms  (target < 5 ms)\n", trials,
             iterations, s * 1e3);
  fmt::print(report, "plain block render (baseline): {:.3f} ms; ratio screen / plain: {:.2f}\n", p * 1e3, s / p);
  fmt::print(report, "bytes to the terminal: first screen {}, same batch again {}, next interval {}\n", first_bytes,
             same_bytes, redraw_bytes);
  std::fclose(report);
  return 0;
}
