// SPDX-License-Identifier: MIT
#include "support/collectors.hpp"
#include "support/netns.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace netmon::test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) out.push_back(cur);
  if (!s.empty() && s.back() == sep) out.emplace_back();
  return out;
}

// A decimal (or 0x hex) number; nullopt if the text is not one.
std::optional<std::uint64_t> number(const std::string& text) {
  const std::string t = trim(text);
  if (t.empty()) return std::nullopt;
  try {
    std::size_t used = 0;
    const int base = t.rfind("0x", 0) == 0 ? 16 : 10;
    const auto v = std::stoull(t, &used, base);
    if (used != t.size()) return std::nullopt;
    return v;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Waits until pred() or the process exits or the time is up; pumps its pipes.
bool wait_until(Subprocess& p, const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    if (p.wait(50ms)) return pred();  // exited
  }
  return pred();
}

// Stops p with sig; SIGKILL after the timeout. `nudge`, if given, runs every
// half second meanwhile (to wake a program that waits for input).
std::optional<ExitStatus> stop_process(Subprocess& p, int sig, std::chrono::milliseconds timeout,
                                       const std::function<void()>& nudge = {}) {
  p.signal(sig);
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (auto st = p.wait(500ms)) return st;
    if (nudge) nudge();
  }
  p.signal(SIGKILL);
  (void)p.wait(5s);
  return std::nullopt;
}

// Bytes waiting in the receive queue of the UDP socket bound to
// 127.0.0.1:port (/proc/net/udp); 0 if none is.
std::uint64_t udp_rx_queue(int port) {
  std::ifstream in("/proc/net/udp");
  const std::string local = fmt::format("0100007F:{:04X}", port);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string sl, loc, rem, st, queues;
    if (!(f >> sl >> loc >> rem >> st >> queues) || loc != local) continue;
    const auto colon = queues.find(':');
    if (colon == std::string::npos) continue;
    return std::stoull(queues.substr(colon + 1), nullptr, 16);
  }
  return 0;
}

// Waits (up to 5 s) until the collector has read every datagram sent to it:
// a signal that stops it must not leave one unread in its socket.
void wait_rx_drained(int port) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (udp_rx_queue(port) > 0 && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(20ms);
  std::this_thread::sleep_for(200ms);  // and has handled the last one
}

void send_empty_datagram(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  (void)::sendto(fd, "", 0, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::close(fd);
}

const std::map<std::string, std::string>& packages() {
  static const std::map<std::string, std::string> p{{kNfcapd, "nfdump"},  {kNfdump, "nfdump"},
                                                    {kNfacctd, "pmacct"}, {kSoftflowd, "softflowd"},
                                                    {kTshark, "tshark"},  {kDumpcap, "wireshark-common"}};
  return p;
}

}  // namespace

std::vector<std::string> missing_tools(const std::vector<std::string>& paths) {
  std::vector<std::string> out;
  for (const auto& p : paths)
    if (::access(p.c_str(), X_OK) != 0) {
      const auto it = packages().find(p);
      out.push_back(p + (it == packages().end() ? "" : " (" + it->second + ")"));
    }
  return out;
}

std::string canonical_address(const std::string& text) {
  const std::string t = trim(text);
  unsigned char buf[sizeof(in6_addr)];
  char out[INET6_ADDRSTRLEN] = {};
  if (::inet_pton(AF_INET, t.c_str(), buf) == 1 && ::inet_ntop(AF_INET, buf, out, sizeof out)) return out;
  if (::inet_pton(AF_INET6, t.c_str(), buf) == 1 && ::inet_ntop(AF_INET6, buf, out, sizeof out)) return out;
  return t;
}

std::string to_string(const FlowRow& r) {
  std::string s =
      fmt::format("{} {}:{} -> {}:{} packets {} bytes {} flags 0x{:02x} in {} out {}", static_cast<int>(r.proto), r.src,
                  r.sport, r.dst, r.dport, r.packets, r.bytes, r.tcp_flags, r.in_if, r.out_if);
  if (r.end_reason) s += fmt::format(" end {}", *r.end_reason);
  if (r.direction) s += fmt::format(" dir {}", *r.direction);
  return s;
}

std::string to_string(const std::vector<FlowRow>& rows) {
  std::string s;
  for (const auto& r : rows) s += "  " + to_string(r) + "\n";
  return s.empty() ? "  (none)\n" : s;
}

FlowKey key_of(const FlowRow& r) { return {r.src, r.dst, r.sport, r.dport, r.proto}; }

std::string to_string(const FlowKey& k) {
  return fmt::format("{} {}:{} -> {}:{}", static_cast<int>(k.proto), k.src, k.sport, k.dst, k.dport);
}

std::map<FlowKey, FlowSum> sum_by_key(const std::vector<FlowRow>& rows) {
  std::map<FlowKey, FlowSum> out;
  for (const auto& r : rows) {
    auto& s = out[key_of(r)];
    s.packets += r.packets;
    s.bytes += r.bytes;
    s.tcp_flags |= r.tcp_flags;
    if (r.end_reason) s.end_reasons.push_back(*r.end_reason);
    if (r.direction) s.directions.push_back(*r.direction);
    s.in_ifs.push_back(r.in_if);
    s.out_ifs.push_back(r.out_if);
    ++s.rows;
  }
  return out;
}

int free_loopback_udp_port() { return free_loopback_port(SOCK_DGRAM); }

bool udp_port_bound(int port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno == EADDRINUSE;
  ::close(fd);
  return bound;
}

TempDir::TempDir(const std::string& what) {
  std::string tmpl = (fs::temp_directory_path() / ("netmon-" + what + ".XXXXXX")).string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

// ---------------------------------------------------------------- nfcapd

// Fields separated by '|': nfdump pads each to a width; parse_nfdump_fmt trims.
// %end is flowEndReason (not in nfdump 1.7's csv or json); %dir is flowDirection
// as I(ngress) or E(gress). -N makes every number plain (no "1.2 K").
const char* const kNfdumpFormat = "%sa|%da|%sp|%dp|%pr|%ipkt|%ibyt|%flg|%in|%out|%end|%dir";

std::vector<FlowRow> parse_nfdump_fmt(const std::string& text) {
  std::vector<FlowRow> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto f = split(line, '|');
    if (f.size() != 12) continue;  // not a record line
    FlowRow r;
    r.src = canonical_address(f[0]);
    r.dst = canonical_address(f[1]);
    const auto sp = number(f[2]), pr = number(f[4]), pk = number(f[5]), by = number(f[6]);
    if (!sp || !pr || !pk || !by) continue;
    r.sport = static_cast<std::uint16_t>(*sp);
    // ICMP: "type.code".
    const std::string dp = trim(f[3]);
    if (const auto dot = dp.find('.'); dot != std::string::npos) {
      r.dport = static_cast<std::uint16_t>(number(dp.substr(0, dot)).value_or(0) * 256 +
                                           number(dp.substr(dot + 1)).value_or(0));
    } else {
      r.dport = static_cast<std::uint16_t>(number(dp).value_or(0));
    }
    r.proto = static_cast<std::uint8_t>(*pr);
    r.packets = *pk;
    r.bytes = *by;
    // "CEUAPRSF", a dot for a flag not set.
    const std::string flags = trim(f[7]);
    if (flags.size() == 8)
      for (std::size_t i = 0; i < 8; ++i)
        if (flags[i] != '.') r.tcp_flags |= static_cast<std::uint16_t>(0x80u >> i);
    r.in_if = static_cast<std::uint32_t>(number(f[8]).value_or(0));
    r.out_if = static_cast<std::uint32_t>(number(f[9]).value_or(0));
    if (const auto e = number(f[10]); e && *e != 0) r.end_reason = static_cast<int>(*e);
    const std::string dir = trim(f[11]);
    if (dir == "I") r.direction = 0;
    if (dir == "E") r.direction = 1;
    rows.push_back(r);
  }
  return rows;
}

RaiseRmemMax::RaiseRmemMax(std::uint64_t bytes) {
  const char* path = "/proc/sys/net/core/rmem_max";
  std::ifstream in(path);
  std::getline(in, old_);
  if (!old_.empty() && std::stoull(old_) < bytes) std::ofstream(path) << bytes << "\n";
}

RaiseRmemMax::~RaiseRmemMax() {
  if (!old_.empty()) std::ofstream("/proc/sys/net/core/rmem_max") << old_ << "\n";
}

std::uint64_t udp_rcvbuf_errors() {
  // Two "Udp:" lines: the names, then the values.
  std::ifstream in("/proc/net/snmp");
  std::string line, names;
  while (std::getline(in, line)) {
    if (line.rfind("Udp: ", 0) != 0) continue;
    if (names.empty()) {
      names = line;
      continue;
    }
    std::istringstream n(names), v(line);
    std::string name, value;
    while (n >> name && v >> value)
      if (name == "RcvbufErrors") return std::stoull(value);
  }
  return 0;
}

Nfcapd::Nfcapd(int port, std::chrono::milliseconds ready_timeout, int rcvbuf)
    : dir_(std::make_unique<TempDir>("nfcapd")), port_(port >= 0 ? port : free_loopback_udp_port()) {
  // -t 3600: one file unless the test runs across an hour boundary; flows()
  // reads every file anyway.
  std::vector<std::string> args{kNfcapd, "-b",         "127.0.0.1", "-p",  std::to_string(port_),
                                "-w",    dir_->path(), "-t",        "3600"};
  if (rcvbuf > 0) args.insert(args.end(), {"-B", std::to_string(rcvbuf)});
  p_ = std::make_unique<Subprocess>(args);
  const auto bound = [this] { return udp_port_bound(port_); };
  ready_ = wait_until(*p_, bound, ready_timeout);
}

Nfcapd::~Nfcapd() {
  if (!exit_ && p_) stop();
}

bool Nfcapd::stop() {
  if (!exit_ && p_) {
    const int port = port_;
    // nfcapd reads no more once signalled: what is still queued would be lost.
    wait_rx_drained(port);
    exit_ = stop_process(*p_, SIGTERM, 10s, [port] { send_empty_datagram(port); });
    if (!exit_) exit_ = ExitStatus{};  // killed
  }
  return exit_ && exit_->code == 0;
}

void Nfcapd::kill() {
  if (exit_ || !p_) return;
  p_->signal(SIGKILL);
  exit_ = p_->wait(5s).value_or(ExitStatus{});
}

std::vector<FlowRow> Nfcapd::flows() {
  stop();
  // Only closed files (nfcapd.YYYYMMDDhhmm): a killed nfcapd leaves an
  // unfinished nfcapd.current.PID behind, which nfdump cannot read.
  std::vector<FlowRow> rows;
  nfdump_out_.clear();
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_->path())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("nfcapd.", 0) == 0 && name.find("current") == std::string::npos) files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    const auto r = run({kNfdump, "-r", f, "-q", "-N", "-6", "-o", std::string("fmt:") + kNfdumpFormat}, 30s);
    nfdump_out_ += "== nfdump -r " + f + " (exit " + std::to_string(r.status.code) + ")\n" + r.out + r.err;
    auto part = parse_nfdump_fmt(r.out);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  return rows;
}

std::string Nfcapd::log() const { return p_ ? p_->stdout_rest() + p_->stderr_text() : ""; }

// ---------------------------------------------------------------- nfacctd

Nfacctd::Nfacctd(int port, std::chrono::milliseconds ready_timeout)
    : dir_(std::make_unique<TempDir>("nfacctd")), port_(port >= 0 ? port : free_loopback_udp_port()) {
  // Custom primitives: flowEndReason and flowDirection, which pmacct has no
  // primitive for, and tcpControlBits when it is 2 octets (RFC 7125), which
  // pmacct's own tcpflags leaves at 0 (it reads the 1-octet form only).
  {
    std::ofstream p(dir_->file("primitives.lst"));
    p << "name=end_reason field_type=136 len=1 semantics=u_int\n"
         "name=flow_direction field_type=61 len=1 semantics=u_int\n"
         "name=tcp_bits field_type=6 len=2 semantics=u_int\n";
  }
  {
    std::ofstream c(dir_->file("nfacctd.conf"));
    c << "daemonize: false\n"
      << "logfile: " << dir_->file("nfacctd.log") << "\n"
      << "pidfile: " << dir_->file("nfacctd.pid") << "\n"
      << "nfacctd_ip: 127.0.0.1\n"
      << "nfacctd_port: " << port_ << "\n"
      << "nfacctd_time_new: false\n"
      << "timestamps_since_epoch: true\n"
      << "aggregate_primitives: " << dir_->file("primitives.lst") << "\n"
      << "plugins: print[p]\n"
      // timestamp_start keeps each record apart (two records of one 5-tuple
      // are not merged into one row).
      << "aggregate[p]: src_host, dst_host, src_port, dst_port, proto, tcpflags, in_iface, out_iface, "
         "timestamp_start, timestamp_end, end_reason, flow_direction, tcp_bits\n"
      << "print_output[p]: json\n"
      << "print_output_file[p]: " << dir_->file("flows.json") << "\n"
      << "print_output_file_append[p]: true\n"
      << "print_num_protos[p]: true\n"
      << "print_refresh_time[p]: 1\n";
  }
  p_ = std::make_unique<Subprocess>(std::vector<std::string>{kNfacctd, "-f", dir_->file("nfacctd.conf")});
  const auto bound = [this] { return udp_port_bound(port_); };
  ready_ = wait_until(*p_, bound, ready_timeout);
}

Nfacctd::~Nfacctd() {
  if (!exit_ && p_) stop();
}

bool Nfacctd::stop() {
  if (!exit_ && p_) {
    wait_rx_drained(port_);
    // SIGINT: the core closes its socket, waits 2 s, signals the plugin and
    // waits for it (which writes what it holds).
    exit_ = stop_process(*p_, SIGINT, 15s);
    if (!exit_) exit_ = ExitStatus{};
    // If the core had to be killed, its plugin may be left: end it too.
    std::ifstream pf(dir_->file("nfacctd.pid-print-p"));
    pid_t plugin = 0;
    if (pf >> plugin && plugin > 1 && ::kill(plugin, 0) == 0) {
      std::ifstream comm("/proc/" + std::to_string(plugin) + "/cmdline");
      std::string cmd;
      std::getline(comm, cmd);
      if (cmd.find("nfacctd") != std::string::npos) ::kill(plugin, SIGKILL);
    }
  }
  return exit_ && exit_->code == 0;
}

std::vector<FlowRow> parse_nfacctd_json(const std::string& text) {
  std::vector<FlowRow> rows;
  std::istringstream in(text);
  const auto num = [](const nlohmann::json& j, const char* k) -> std::optional<std::uint64_t> {
    if (!j.contains(k)) return std::nullopt;
    const auto& v = j[k];
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return static_cast<std::uint64_t>(v.get<std::int64_t>());
    if (v.is_string()) return number(v.get<std::string>());
    return std::nullopt;
  };
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("ip_src")) continue;
    FlowRow r;
    r.src = canonical_address(j.value("ip_src", ""));
    r.dst = canonical_address(j.value("ip_dst", ""));
    r.sport = static_cast<std::uint16_t>(num(j, "port_src").value_or(0));
    r.dport = static_cast<std::uint16_t>(num(j, "port_dst").value_or(0));
    r.proto = static_cast<std::uint8_t>(num(j, "ip_proto").value_or(0));
    r.packets = num(j, "packets").value_or(0);
    r.bytes = num(j, "bytes").value_or(0);
    r.tcp_flags = static_cast<std::uint16_t>(num(j, "tcp_flags").value_or(0) | num(j, "tcp_bits").value_or(0));
    r.in_if = static_cast<std::uint32_t>(num(j, "iface_in").value_or(0));
    r.out_if = static_cast<std::uint32_t>(num(j, "iface_out").value_or(0));
    if (const auto e = num(j, "end_reason"); e && *e != 0) r.end_reason = static_cast<int>(*e);
    if (const auto d = num(j, "flow_direction")) r.direction = static_cast<int>(*d);
    if (j.contains("timestamp_start") && j["timestamp_start"].is_string()) {
      try {
        r.start_ms = static_cast<std::uint64_t>(std::stod(j["timestamp_start"].get<std::string>()) * 1000.0 + 0.5);
      } catch (const std::exception&) {
      }
    }
    rows.push_back(r);
  }
  return rows;
}

std::vector<FlowRow> Nfacctd::flows() {
  stop();
  return parse_nfacctd_json(print_file_text());
}

std::string Nfacctd::log() const {
  return (p_ ? p_->stdout_rest() + p_->stderr_text() : "") + read_file(dir_->file("nfacctd.log"));
}

std::string Nfacctd::print_file_text() const { return read_file(dir_->file("flows.json")); }

// ---------------------------------------------------------------- softflowd

RunResult softflowd_export(const std::string& pcap, int port, std::chrono::milliseconds timeout) {
  // -d: foreground; -c none: no control socket (with one, softflowd 1.1.0
  // blocks in accept() after the capture's end); -p: its pid file next to the
  // capture, not in /run; -A milli: flowStart/EndMilliseconds.
  return run({kSoftflowd, "-r", pcap, "-n", "127.0.0.1:" + std::to_string(port), "-v", "10", "-A", "milli", "-d", "-c",
              "none", "-p", pcap + ".softflowd.pid"},
             timeout);
}

// ---------------------------------------------------------------- capture

Capture::Capture(const std::string& iface, const std::string& filter, std::chrono::milliseconds ready_timeout)
    : dir_(std::make_unique<TempDir>("capture")), file_(dir_->file("capture.pcap")) {
  std::vector<std::string> cmd{kDumpcap, "-i", iface, "-P", "-q", "-w", file_};
  if (!filter.empty()) cmd.insert(cmd.end(), {"-f", filter});
  p_ = std::make_unique<Subprocess>(cmd);
  ready_ = wait_until(
      *p_, [this] { return p_->stderr_text().find("Capturing on") != std::string::npos; }, ready_timeout);
  // It says so once the interface is open; give the capture a moment to run.
  if (ready_) std::this_thread::sleep_for(300ms);
}

Capture::~Capture() {
  if (!exit_ && p_) stop();
}

bool Capture::stop() {
  if (!exit_ && p_) {
    // libpcap's TPACKET_V3 ring hands packets over a block at a time (when
    // full, or after its timeout); on SIGINT dumpcap writes what it was
    // handed and drops the rest. A second lets the last block go over.
    std::this_thread::sleep_for(1s);
    exit_ = stop_process(*p_, SIGINT, 10s);
    if (!exit_) exit_ = ExitStatus{};
  }
  return exit_ && exit_->code == 0;
}

std::string Capture::log() const { return p_ ? p_->stdout_rest() + p_->stderr_text() : ""; }

std::vector<FlowRow> flows_in_capture(const std::string& pcap) {
  const auto r = run({kTshark, "-n",          "-r", pcap,          "-Y", "(udp || tcp) && !icmp && !icmpv6",
                      "-T",    "fields",      "-E", "separator=|", "-e", "ip.src",
                      "-e",    "ip.dst",      "-e", "ipv6.src",    "-e", "ipv6.dst",
                      "-e",    "udp.srcport", "-e", "udp.dstport", "-e", "tcp.srcport",
                      "-e",    "tcp.dstport", "-e", "ip.len",      "-e", "ipv6.plen",
                      "-e",    "tcp.flags"},
                     60s);
  std::map<FlowKey, FlowRow> flows;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    const auto f = split(line, '|');
    if (f.size() != 11) continue;
    FlowRow row;
    const bool v6 = f[0].empty();
    row.src = canonical_address(v6 ? f[2] : f[0]);
    row.dst = canonical_address(v6 ? f[3] : f[1]);
    const bool tcp = !f[6].empty();
    row.proto = tcp ? 6 : 17;
    row.sport = static_cast<std::uint16_t>(number(tcp ? f[6] : f[4]).value_or(0));
    row.dport = static_cast<std::uint16_t>(number(tcp ? f[7] : f[5]).value_or(0));
    const std::uint64_t bytes = v6 ? number(f[9]).value_or(0) + 40 : number(f[8]).value_or(0);
    auto& flow = flows[key_of(row)];
    if (flow.packets == 0) flow = row;
    flow.packets += 1;
    flow.bytes += bytes;
    if (tcp) flow.tcp_flags |= static_cast<std::uint16_t>(number(f[10]).value_or(0) & 0xff);
  }
  std::vector<FlowRow> out;
  for (auto& [k, v] : flows) out.push_back(v);
  return out;
}

namespace {

// Every object under j that holds a data record's fields.
void collect_records(const nlohmann::json& j, std::vector<FlowRow>& out) {
  if (j.is_array()) {
    for (const auto& e : j) collect_records(e, out);
    return;
  }
  if (!j.is_object()) return;
  if (j.contains("cflow.packets") || j.contains("cflow.octets")) {
    const auto s = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : ""; };
    FlowRow r;
    r.src = canonical_address(!s("cflow.srcaddr").empty() ? s("cflow.srcaddr") : s("cflow.srcaddrv6"));
    r.dst = canonical_address(!s("cflow.dstaddr").empty() ? s("cflow.dstaddr") : s("cflow.dstaddrv6"));
    r.sport = static_cast<std::uint16_t>(number(s("cflow.srcport")).value_or(0));
    r.dport = static_cast<std::uint16_t>(number(s("cflow.dstport")).value_or(0));
    r.proto = static_cast<std::uint8_t>(number(s("cflow.protocol")).value_or(0));
    r.packets = number(s("cflow.packets")).value_or(0);
    r.bytes = number(s("cflow.octets")).value_or(0);
    r.tcp_flags = static_cast<std::uint16_t>(number(s("cflow.tcpflags")).value_or(0));
    r.in_if = static_cast<std::uint32_t>(number(s("cflow.inputint")).value_or(0));
    r.out_if = static_cast<std::uint32_t>(number(s("cflow.outputint")).value_or(0));
    if (const auto e = number(s("cflow.flow_end_reason"))) r.end_reason = static_cast<int>(*e);
    if (const auto d = number(s("cflow.direction"))) r.direction = static_cast<int>(*d);
    out.push_back(r);
    return;
  }
  for (const auto& [k, v] : j.items()) collect_records(v, out);
}

}  // namespace

IpfixDecode decode_ipfix(const std::string& pcap, int port, bool tcp, const std::string& display_filter) {
  IpfixDecode d;
  const std::string decode_as = std::string(tcp ? "tcp" : "udp") + ".port==" + std::to_string(port) + ",cflow";
  std::vector<std::string> base{kTshark, "-n", "-r", pcap, "-d", decode_as};
  if (!display_filter.empty()) base.insert(base.end(), {"-Y", display_filter});
  const auto with = [&](std::vector<std::string> more) {
    std::vector<std::string> cmd = base;
    cmd.insert(cmd.end(), more.begin(), more.end());
    return cmd;
  };
  // Pass 1: per frame, malformed marks, expert errors, and lengths.
  const auto f =
      run(with({"-T", "fields",        "-E", "separator=|",         "-E", "aggregator=;",       "-e", "frame.number",
                "-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "_ws.expert.message", "-e", "udp.length",
                "-e", "cflow.version", "-e", "cflow.len",           "-e", "cflow.template_id"}),
          60s);
  if (f.status.code != 0) {
    d.tshark_error = f.err;
    d.problems.push_back("tshark failed: " + f.err);
    return d;
  }
  constexpr std::uint64_t kPiError = 0x00800000;  // wireshark's PI_ERROR
  std::istringstream in(f.out);
  for (std::string line; std::getline(in, line);) {
    const auto c = split(line, '|');
    if (c.size() != 8) continue;
    const std::string frame = c[0];
    if (!c[1].empty()) d.problems.push_back("frame " + frame + ": malformed (" + c[1] + ")");
    const auto sev = split(c[2], ';');
    const auto msg = split(c[3], ';');
    for (std::size_t i = 0; i < sev.size(); ++i)
      if (number(sev[i]).value_or(0) >= kPiError)
        d.problems.push_back("frame " + frame + ": expert error: " + (i < msg.size() ? msg[i] : "?"));
    const auto versions = split(c[5], ';');
    const auto lens = split(c[6], ';');
    for (const auto& v : versions) {
      if (v.empty()) continue;
      ++d.messages;
      if (v != "10") d.problems.push_back("frame " + frame + ": version " + v + ", not IPFIX's 10");
    }
    // RFC 7011 section 10.3.3: over UDP one message per datagram, its Length
    // the datagram's payload.
    if (!tcp && !versions.empty() && !versions[0].empty()) {
      const auto udp_len = number(c[4]);
      if (versions.size() != 1 || lens.size() != 1 || !udp_len || number(lens[0]).value_or(0) + 8 != *udp_len)
        d.problems.push_back("frame " + frame + ": IPFIX Length " + c[6] + " is not the UDP payload (" + c[4] +
                             " - 8), or not one message");
    }
    for (const auto& t : split(c[7], ';'))
      if (const auto id = number(t)) d.template_ids.push_back(static_cast<int>(*id));
  }
  // Pass 2: the data records.
  const auto j = run(with({"-T", "json", "--no-duplicate-keys"}), 60s);
  if (j.status.code != 0) {
    d.tshark_error += j.err;
    d.problems.push_back("tshark -T json failed: " + j.err);
    return d;
  }
  const auto parsed = nlohmann::json::parse(j.out, nullptr, false);
  if (parsed.is_discarded()) {
    d.problems.push_back("tshark -T json: output is not JSON");
    return d;
  }
  collect_records(parsed, d.records);
  return d;
}

}  // namespace netmon::test
