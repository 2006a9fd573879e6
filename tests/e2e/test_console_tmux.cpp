// SPDX-License-Identifier: MIT
// The console's full-screen view in a real terminal: netmon-host in tmux at
// 80x24 and 200x50 over a veth pair with known traffic. What tmux shows
// (capture-pane) must fit the width, hold the sections and the sender's
// counts, change with each key (send-keys), redraw at a new size
// (resize-window), and leave the terminal as it found it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "support/host.hpp"
#include "support/host_on_veth.hpp"
#include "support/subprocess.hpp"
#include "support/traffic.hpp"
#include "support/unit_util.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::test::sh;
using netmon::test::sh_out;
using ::testing::HasSubstr;
using ::testing::Not;

std::string quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

class ConsoleTmux : public netmon::test::HostOnVeth {
 protected:
  void TearDown() override {
    (void)sh(tmux("kill-server") + " 2>/dev/null");
    HostOnVeth::TearDown();
  }

  // A tmux command on this test's own server.
  [[nodiscard]] std::string tmux(const std::string& args) const { return "tmux -L " + socket_ + " " + args; }

  // Starts `command` (sh) in a new tmux session of the given size.
  void start(const std::string& command, int width, int height) {
    ASSERT_EQ(sh(tmux("-f /dev/null new-session -d -s view -x " + std::to_string(width) + " -y " +
                      std::to_string(height) + " " + quote(command))),
              0);
    (void)sh(tmux("set-option -g remain-on-exit on") + " >/dev/null");
  }

  // netmon-host's command line: the console on the terminal and a JSON sink
  // into a file beside it, every 200 ms, on the pair's host end.
  [[nodiscard]] std::string host_command() const {
    std::string cmd =
        std::string(NETMON_TEST_HOST_BIN) + " --iface " + iface() +
        " --plugins xdp_stats,tc_stats,flow_top --interval 200ms --sink console --sink json:" + json_.string() +
        " --ready-file " + ready_.string();
    return cmd + "; echo exit=$? > " + exit_.string();
  }

  [[nodiscard]] std::string capture() const { return sh_out(tmux("capture-pane -p -J -t view")); }

  // The screen once `pred` holds (or the last one seen after 10 s).
  std::string wait_screen(const std::function<bool(const std::string&)>& pred) const {
    std::string screen;
    for (int i = 0; i < 100; ++i) {
      screen = capture();
      if (pred(screen)) return screen;
      std::this_thread::sleep_for(100ms);
    }
    return screen;
  }

  void keys(const std::string& k) const { ASSERT_EQ(sh(tmux("send-keys -t view " + k)), 0); }

  bool wait_file(const std::filesystem::path& p) const {
    for (int i = 0; i < 150; ++i) {
      if (std::filesystem::exists(p)) return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }

  void expect_fits(const std::string& screen, int width) const {
    for (const auto& line : split(screen)) EXPECT_LE(static_cast<int>(line.size()), width) << line;
  }

  [[nodiscard]] std::size_t json_lines() const {
    std::ifstream in(json_);
    std::size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }

  // The row of the flow from the pair's peer end with this source port.
  [[nodiscard]] std::string flow_row(const std::string& screen, int sport) {
    for (const auto& line : split(screen))
      if (line.find(veth().peer_ip() + ":" + std::to_string(sport)) != std::string::npos) return line;
    return "";
  }

  netmon::unit::TempDir tmp_;
  std::string socket_ = "netmon-test-" + std::to_string(::getpid());
  std::filesystem::path json_ = tmp_ / "samples.json";
  std::filesystem::path ready_ = tmp_ / "ready";
  std::filesystem::path exit_ = tmp_ / "exit";
};

TEST_F(ConsoleTmux, At80x24ItFitsCountsExactlyAndAnswersEveryKey) {
  start(host_command(), 80, 24);
  ASSERT_TRUE(wait_file(ready_)) << capture();
  // Two flows: A, 300 datagrams of 1000 bytes; B, 600 of 10: B has more
  // packets, A more bytes.
  netmon::test::send_udp(veth(), 300, 1000, 1, 9000, 40000);
  netmon::test::send_udp(veth(), 600, 10, 1, 9000, 40001);
  std::string screen = wait_screen([&](const std::string& s) {
    return flow_row(s, 40000).find(" 300 ") != std::string::npos &&
           flow_row(s, 40001).find(" 600 ") != std::string::npos;
  });
  expect_fits(screen, 80);
  const auto rows = split(screen);
  ASSERT_EQ(rows.size(), 24u) << screen;
  EXPECT_THAT(rows[0], HasSubstr("every 200ms  " + iface() + "  xdp_stats tc_stats flow_top"));
  EXPECT_EQ(rows[1].rfind("All       RX ", 0), 0u) << screen;
  EXPECT_THAT(screen, HasSubstr(iface().substr(0, 10)));
  EXPECT_THAT(screen, HasSubstr("PROTO SOURCE"));
  EXPECT_THAT(screen, HasSubstr("flows by packets"));
  EXPECT_THAT(rows.back(), HasSubstr("q quit"));
  // The sender's counts, exactly, the busiest by packets on top.
  EXPECT_THAT(flow_row(screen, 40001), HasSubstr("UDP   " + veth().peer_ip() + ":40001"));
  EXPECT_THAT(flow_row(screen, 40001), HasSubstr(" 600 "));
  EXPECT_THAT(flow_row(screen, 40000), HasSubstr(" 300 "));
  const auto first_flow = [&](const std::string& s) {
    const auto r = split(s);
    for (std::size_t i = 0; i + 1 < r.size(); ++i)
      if (r[i].rfind("PROTO SOURCE", 0) == 0) return r[i + 1];
    return std::string();
  };
  EXPECT_THAT(first_flow(screen), HasSubstr(":40001")) << screen;

  // b: by bytes, A first; p: by packets again.
  keys("b");
  screen = wait_screen([](const std::string& s) { return s.find("flows by bytes") != std::string::npos; });
  EXPECT_THAT(first_flow(screen), HasSubstr(":40000")) << screen;
  keys("r");
  screen = wait_screen([](const std::string& s) { return s.find("flows by rate") != std::string::npos; });
  EXPECT_THAT(screen, HasSubstr("flows by rate"));
  keys("p");
  screen = wait_screen([](const std::string& s) { return s.find("flows by packets") != std::string::npos; });
  EXPECT_THAT(first_flow(screen), HasSubstr(":40001")) << screen;

  // Space: the view freezes, the JSON sink goes on receiving.
  keys("Space");
  screen = wait_screen([](const std::string& s) { return s.find("PAUSED") != std::string::npos; });
  ASSERT_THAT(screen, HasSubstr("PAUSED"));
  const std::size_t json_before = json_lines();
  netmon::test::send_udp(veth(), 50, 10, 1, 9000, 40001);
  std::this_thread::sleep_for(1s);
  const std::string frozen = capture();
  EXPECT_EQ(flow_row(frozen, 40001), flow_row(screen, 40001));
  EXPECT_GT(json_lines(), json_before) << "the second sink stopped receiving while the view was paused";
  keys("Space");
  screen = wait_screen([&](const std::string& s) { return flow_row(s, 40001).find(" 650 ") != std::string::npos; });
  EXPECT_THAT(flow_row(screen, 40001), HasSubstr(" 650 ")) << screen;
  EXPECT_THAT(screen, Not(HasSubstr("PAUSED")));

  // The filter: only the flows that match.
  keys("/ 4 0 0 0 0 Enter");
  screen = wait_screen([](const std::string& s) { return s.find("filter '40000'") != std::string::npos; });
  EXPECT_FALSE(flow_row(screen, 40000).empty()) << screen;
  EXPECT_TRUE(flow_row(screen, 40001).empty()) << screen;
  keys("/ Escape");
  screen = wait_screen([&](const std::string& s) { return !flow_row(s, 40001).empty(); });
  EXPECT_FALSE(flow_row(screen, 40001).empty()) << screen;

  // A new size: redrawn at once, wider columns.
  ASSERT_EQ(sh(tmux("resize-window -t view -x 200 -y 50")), 0);
  screen = wait_screen([](const std::string& s) { return s.find("FLAGS") != std::string::npos; });
  expect_fits(screen, 200);
  EXPECT_EQ(split(screen).size(), 50u);
  EXPECT_THAT(screen, HasSubstr("IFACE"));
  EXPECT_THAT(flow_row(screen, 40001), HasSubstr(" 650 "));
  // Too small: it says so.
  ASSERT_EQ(sh(tmux("resize-window -t view -x 50 -y 10")), 0);
  screen = wait_screen([](const std::string& s) { return s.find("terminal too small") != std::string::npos; });
  EXPECT_THAT(screen, HasSubstr("terminal too small: 50x10"));
  ASSERT_EQ(sh(tmux("resize-window -t view -x 80 -y 24")), 0);

  // q: netmon-host stops as on Ctrl+C, exit 0, nothing left.
  keys("q");
  ASSERT_TRUE(wait_file(exit_)) << capture();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(netmon::unit::read_file(exit_), "exit=0\n");
  expect_nothing_left();
}

// SIGTERM while the view is up: the terminal's modes are as before, and the
// log kept during the view is printed after it.
TEST_F(ConsoleTmux, At200x50SigtermRestoresTheTerminal) {
  const std::string before = (tmp_ / "stty.before").string(), after = (tmp_ / "stty.after").string();
  start("stty -a > " + before + "; " + host_command() + "; stty -a > " + after, 200, 50);
  ASSERT_TRUE(wait_file(ready_)) << capture();
  netmon::test::send_udp(veth(), 40, 10, 1, 9000, 40000);
  std::string screen =
      wait_screen([&](const std::string& s) { return flow_row(s, 40000).find(" 40 ") != std::string::npos; });
  expect_fits(screen, 200);
  EXPECT_EQ(split(screen).size(), 50u);
  EXPECT_THAT(screen, HasSubstr("FLAGS"));
  const pid_t pid = std::stoi(netmon::unit::read_file(ready_));
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  ASSERT_TRUE(wait_file(after)) << capture();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(netmon::unit::read_file(exit_), "exit=0\n");
  EXPECT_EQ(netmon::unit::read_file(after), netmon::unit::read_file(before));
  // The last screen stays, as text, after the view.
  screen = capture();
  EXPECT_THAT(flow_row(screen, 40000), HasSubstr(" 40 ")) << screen;
  expect_nothing_left();
}

// A plugin that throws while the view is up (the fixture collect_throws,
// alone, on its third collect): the host stops, as every plugin has, with 1;
// the terminal's modes are as before, and the error kept during the view is
// printed after it.
TEST_F(ConsoleTmux, APluginExceptionEndsTheViewAndRestoresTheTerminal) {
  const std::string before = (tmp_ / "stty.before").string(), after = (tmp_ / "stty.after").string();
  const std::string host = std::string(NETMON_TEST_HOST_BIN) + " --iface " + iface() + " --plugins " +
                           NETMON_TEST_FIXTURE_DIR + "/libnetmon_collect_throws.so --interval 500ms --sink console";
  start("stty -a > " + before + "; " + host + "; echo exit=$? > " + exit_.string() + "; stty -a > " + after, 80, 24);
  // The view was drawn (the help bar is the view's, not the blocks').
  EXPECT_THAT(wait_screen([](const std::string& s) { return s.find("q quit") != std::string::npos; }),
              HasSubstr("q quit"));
  ASSERT_TRUE(wait_file(after)) << capture();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(netmon::unit::read_file(exit_), "exit=1\n");
  EXPECT_EQ(netmon::unit::read_file(after), netmon::unit::read_file(before));
  const std::string screen = capture();
  EXPECT_THAT(screen, HasSubstr("fixture collect failed: the widget fell over")) << screen;
  EXPECT_THAT(screen, HasSubstr("every plugin has stopped")) << screen;
  expect_nothing_left();
}

// On a terminal whose TERM is dumb, or with -o console.mode=plain, the
// blocks of old: no screen.
TEST_F(ConsoleTmux, DumbTerminalAndPlainModeGiveTheBlocks) {
  const std::string host =
      std::string(NETMON_TEST_HOST_BIN) + " --iface " + iface() + " --plugins xdp_stats --interval 100ms --count 2";
  start("TERM=dumb " + host + "; " + host + " -o console.mode=plain; echo done > " + exit_.string(), 80, 24);
  ASSERT_TRUE(wait_file(exit_)) << capture();
  const std::string screen = capture();
  EXPECT_THAT(screen, HasSubstr("Traffic Statistics ["));
  EXPECT_THAT(screen, HasSubstr("XDP Interface Statistics:"));
  EXPECT_THAT(screen, Not(HasSubstr("q quit")));
  expect_nothing_left();
}

}  // namespace
