// SPDX-License-Identifier: MIT
#include "console_tui.hpp"

// Before <term.h>, whose macros (lines, columns) would rename their words.
#include "console_screen.hpp"

#include <curses.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <term.h>
#include <unistd.h>

#include <netmon/error.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace netmon::console {

namespace {

// The screen given back at exit() too (a path that skips the sink's
// close()): endwin() once, from whichever comes first.
std::atomic<bool> g_screen_up{false};
std::mutex g_screen_mu;

void restore_terminal() {
  std::lock_guard lock(g_screen_mu);
  if (g_screen_up.exchange(false)) endwin();
}

// A log line without its colour (ESC [ ... m and the like): the status line
// shows text; the log printed after the view keeps its colours.
std::string without_colour(const std::string& line) {
  std::string out;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\x1b' && i + 1 < line.size() && line[i + 1] == '[') {
      i += 2;
      while (i < line.size() && !(line[i] >= '@' && line[i] <= '~')) ++i;
      continue;
    }
    out += line[i];
  }
  return out;
}

std::pair<int, int> terminal_size() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) return {ws.ws_col, ws.ws_row};
  return {COLS, LINES};
}

// ncurses keeps state for the whole process (the terminal's description,
// its name) that it never frees. It must outlive this sink's library, which
// netmon-host unloads at exit: else that state is left without a reference
// and reads as leaked. Its libraries stay loaded to the end.
void keep_ncurses_loaded() {
  for (const void* symbol : {reinterpret_cast<const void*>(&setupterm), reinterpret_cast<const void*>(&newterm)}) {
    Dl_info info{};
    if (::dladdr(symbol, &info) && info.dli_fname) ::dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
  }
}

}  // namespace

bool screen_possible() {
  if (!::isatty(STDOUT_FILENO)) return false;
  const char* term = std::getenv("TERM");
  if (!term || !*term || std::string(term) == "dumb") return false;
  keep_ncurses_loaded();
  int err = 0;
  // setupterm() reads the terminfo entry only; newterm() is what takes over.
  if (setupterm(term, STDOUT_FILENO, &err) != OK) return false;
  del_curterm(cur_term);
  return true;
}

struct Tui::Impl {
  std::mutex mu;  // ncurses is not thread-safe: every call under it
  SCREEN* screen = nullptr;
  Batch shown;   // on the screen
  Batch latest;  // the last one received: differs from shown while paused
  bool have_batch = false;
  ScreenState st;
  std::thread input;
  int wake[2] = {-1, -1};
  int log_pipe[2] = {-1, -1};
  int saved_stderr = -1;
  std::string log_kept;  // what was written to stderr while the view was up
  std::string log_partial;
  bool stopped = false;

  void draw() {
    const auto frame = layout(shown, st);
    for (int row = 0; row < st.height; ++row) {
      move(row, 0);
      if (row < static_cast<int>(frame.size())) {
        const ScreenLine& l = frame[static_cast<std::size_t>(row)];
        attr_t attr = A_NORMAL;
        if (l.style == ScreenLine::Style::title || l.style == ScreenLine::Style::keys) attr = A_REVERSE;
        if (l.style == ScreenLine::Style::heading) attr = A_BOLD;
        attrset(attr);
        addnstr(l.text.c_str(), std::min(static_cast<int>(l.text.size()), st.width));
        attrset(A_NORMAL);
        clrtoeol();
        // The bar: reverse video under the line's first columns, as iftop.
        if (l.bar > 0) mvchgat(row, 0, std::min(l.bar, st.width), A_REVERSE, 0, nullptr);
      } else {
        clrtoeol();
      }
    }
    wnoutrefresh(stdscr);
    doupdate();  // only the cells that changed reach the terminal
  }

  void follow_size() {
    const auto [cols, rows] = terminal_size();
    if (cols == st.width && rows == st.height) return;
    resize_term(rows, cols);
    st.width = cols;
    st.height = rows;
    clear();
    draw();
  }

  // One key of the keyboard.
  void key(unsigned char c) {
    if (st.editing_filter) {
      if (c == '\r' || c == '\n') st.editing_filter = false;
      else if (c == 27) st.filter.clear(), st.editing_filter = false;
      else if (c == 127 || c == 8) {
        if (!st.filter.empty()) st.filter.pop_back();
      } else if (c >= 0x20 && c < 0x7f && st.filter.size() < 64) st.filter += static_cast<char>(c);
      draw();
      return;
    }
    if (st.help) {
      st.help = false;
      draw();
      return;
    }
    const auto& ifaces_of = [this] { return interfaces(shown); };
    switch (c) {
      case 'q':
      case 'Q': ::kill(::getpid(), SIGINT); return;  // netmon-host stops as on Ctrl+C
      case 'p': st.sort = FlowSort::packets; break;
      case 'b': st.sort = FlowSort::bytes; break;
      case 'r': st.sort = FlowSort::rate; break;
      case 'n': st.sort = FlowSort::plugin; break;
      case ' ':
        st.paused = !st.paused;
        if (!st.paused) shown = latest;  // what came meanwhile, at once
        break;
      case '/':
      case 'l': st.editing_filter = true; break;
      case 's': st.show_interfaces = !st.show_interfaces; break;
      case 'o': st.show_others = !st.show_others; break;
      case '?':
      case 'h': st.help = true; break;
      case 'i': {
        const auto names = ifaces_of();
        auto it = std::find(names.begin(), names.end(), st.iface);
        st.iface = st.iface.empty()                               ? (names.empty() ? "" : names.front())
                   : (it == names.end() || it + 1 == names.end()) ? ""
                                                                  : *(it + 1);
        break;
      }
      default: return;
    }
    draw();
  }

  void keep_log(const char* data, std::size_t n) {
    log_kept.append(data, n);
    log_partial.append(data, n);
    std::string::size_type nl;
    while ((nl = log_partial.find('\n')) != std::string::npos) {
      st.status = without_colour(log_partial.substr(0, nl));
      log_partial.erase(0, nl + 1);
    }
  }

  void input_loop() {
    const bool keys = ::isatty(STDIN_FILENO);
    for (;;) {
      pollfd fds[3] = {{wake[0], POLLIN, 0}, {log_pipe[0], POLLIN, 0}, {keys ? STDIN_FILENO : -1, POLLIN, 0}};
      // Not blocked here: SIGWINCH interrupts the wait, so a resize redraws
      // at once; the timeout catches one it missed.
      const int n = ::poll(fds, 3, 250);
      std::lock_guard lock(mu);
      if (stopped) return;
      if (n > 0 && (fds[0].revents & POLLIN)) return;
      if (n > 0 && (fds[1].revents & POLLIN)) {
        char buf[4096];
        const ssize_t got = ::read(log_pipe[0], buf, sizeof buf);
        if (got > 0) {
          keep_log(buf, static_cast<std::size_t>(got));
          if (have_batch) draw();
        }
      }
      if (n > 0 && (fds[2].revents & POLLIN)) {
        unsigned char buf[64];
        const ssize_t got = ::read(STDIN_FILENO, buf, sizeof buf);
        if (got > 0 && have_batch) {
          // An escape sequence (an arrow key) is one key the view has no use
          // for: its bytes after ESC are left out.
          if (buf[0] == 27 && got > 1 && !st.editing_filter) continue;
          for (ssize_t i = 0; i < got; ++i) key(buf[i]);
        }
      }
      if (have_batch) follow_size();
    }
  }
};

Tui::Tui() : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  // The log pipe's reading end does not block (the input thread drains what
  // is there); its writing end, stderr meanwhile, does, so no line is lost.
  if (::pipe2(m.wake, O_CLOEXEC) != 0 || ::pipe2(m.log_pipe, O_CLOEXEC) != 0 ||
      ::fcntl(m.log_pipe[0], F_SETFL, O_NONBLOCK) != 0)
    throw Error(errno_message("console: cannot create a pipe", errno));
  {
    std::lock_guard lock(g_screen_mu);
    m.screen = newterm(nullptr, stdout, stdin);
    if (!m.screen) {
      const char* term = std::getenv("TERM");
      throw Error("console: cannot take over the terminal (TERM=" + std::string(term ? term : "") +
                  "); -o console.mode=plain prints blocks instead");
    }
    set_term(m.screen);
    cbreak();  // keys at once; Ctrl+C still signals
    noecho();
    nonl();
    curs_set(0);
    g_screen_up = true;
  }
  static const bool registered = [] { return std::atexit(restore_terminal) == 0; }();
  (void)registered;
  const auto [cols, rows] = terminal_size();
  m.st.width = cols;
  m.st.height = rows;
  // The log to the status line while the view is up, when it would
  // otherwise land on the screen.
  if (::isatty(STDERR_FILENO)) {
    std::fflush(stderr);
    m.saved_stderr = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
    if (m.saved_stderr >= 0) ::dup2(m.log_pipe[1], STDERR_FILENO);
  }
  m.input = std::thread([&m] { m.input_loop(); });
}

Tui::~Tui() { stop(); }

void Tui::show(const Batch& batch) {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return;
  impl_->latest = batch;
  if (impl_->st.paused) return;
  impl_->shown = batch;
  impl_->have_batch = true;
  impl_->follow_size();
  impl_->draw();
}

void Tui::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.stopped) return;
    m.stopped = true;
  }
  if (m.wake[1] >= 0) (void)!::write(m.wake[1], "x", 1);
  if (m.input.joinable()) m.input.join();
  restore_terminal();
  if (m.screen) delscreen(m.screen);
  m.screen = nullptr;
  // The last screen stays on the terminal, as text: the final counts of a
  // run that ended (--duration, a signal) are still there to read.
  if (m.have_batch && !m.st.help) {
    auto frame = layout(m.shown, m.st);
    // Without the keys, which answer no more, and the blank rows above them.
    frame.erase(
        std::remove_if(frame.begin(), frame.end(),
                       [](const ScreenLine& l) { return l.style == ScreenLine::Style::keys || l.text.empty(); }),
        frame.end());
    const std::string last = screen_text(frame);
    std::fwrite(last.data(), 1, last.size(), stdout);
    std::fflush(stdout);
  }
  if (m.saved_stderr >= 0) {
    std::fflush(stderr);
    ::dup2(m.saved_stderr, STDERR_FILENO);
    ::close(m.saved_stderr);
    m.saved_stderr = -1;
    // What came meanwhile, and is still in the pipe.
    char buf[4096];
    for (ssize_t got; (got = ::read(m.log_pipe[0], buf, sizeof buf)) > 0;)
      m.log_kept.append(buf, static_cast<std::size_t>(got));
    if (!m.log_kept.empty()) (void)!::write(STDERR_FILENO, m.log_kept.data(), m.log_kept.size());
  }
  for (int fd : {m.wake[0], m.wake[1], m.log_pipe[0], m.log_pipe[1]})
    if (fd >= 0) ::close(fd);
  m.wake[0] = m.wake[1] = m.log_pipe[0] = m.log_pipe[1] = -1;
}

}  // namespace netmon::console
