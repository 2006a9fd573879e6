// SPDX-License-Identifier: MIT
// Real flow collectors and tools, run by a test as its children on loopback:
// nfcapd (nfdump), nfacctd (pmacct), softflowd, dumpcap and tshark. Each
// class starts its program on a free 127.0.0.1 port with files in a
// temporary directory of its own, and its destructor stops the program and
// removes the directory, also when the test fails. What a collector stored
// is read back as FlowRows, so a test compares flows, not text.
//
// How each tool is driven (Debian 12's versions), and why:
//   nfcapd 1.7.1   -b 127.0.0.1 -p PORT -w DIR -t 3600 (foreground). SIGTERM
//                  closes the current file as DIR/nfcapd.YYYYMMDDhhmm; the
//                  signal may land on its writer thread while the main
//                  thread sits in recvfrom, so an empty datagram wakes it.
//                  Read back: nfdump -R DIR -q -N -6 -o "fmt:..." (its csv
//                  and json lack flowEndReason; the fmt token %end has it).
//   nfacctd 1.7.7  a config file, print plugin, JSON lines appended to a file
//                  every second; aggregated on the 5-tuple, interfaces,
//                  flags, timestamp_start and two custom primitives
//                  (flowEndReason 136, flowDirection 61), so records are not
//                  merged. UDP only: pmacct has no IPFIX over TCP. It blocks
//                  SIGTERM while it waits for a datagram; with daemonize
//                  false SIGINT is not blocked and flushes the plugin.
//   softflowd 1.1  -r PCAP -n 127.0.0.1:PORT -v 10 -d -c none: exports what
//                  it saw in a capture and exits (without "-c none" it
//                  blocks in accept() on its control socket after EOF).
//   dumpcap        -i IF -f FILTER -P -w FILE; SIGINT ends it.
//   tshark         -r FILE -d udp.port==PORT,cflow (or tcp.port) -T json for
//                  the records; -T fields with _ws.malformed and
//                  _ws.expert.severity for malformed packets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "support/root.hpp"
#include "support/subprocess.hpp"

namespace netmon::test {

inline constexpr const char* kNfcapd = "/usr/bin/nfcapd";
inline constexpr const char* kNfdump = "/usr/bin/nfdump";
inline constexpr const char* kNfacctd = "/usr/sbin/nfacctd";
inline constexpr const char* kSoftflowd = "/usr/sbin/softflowd";
inline constexpr const char* kTshark = "/usr/bin/tshark";
inline constexpr const char* kDumpcap = "/usr/bin/dumpcap";

// The tools of `paths` that are not there, with the Debian package that has
// each ("/usr/bin/nfcapd (nfdump)"); empty if all are.
std::vector<std::string> missing_tools(const std::vector<std::string>& paths);

// A flow as a collector or a tool reports it. Addresses as inet_ntop writes
// them. ICMP: sport 0 and dport type * 256 + code (netmon's and IPFIX's
// convention). Optional members are those the tool may not show.
struct FlowRow {
  std::string src, dst;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t proto = 0;
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;  // octetDeltaCount: IP header and payload
  std::uint16_t tcp_flags = 0;
  std::uint32_t in_if = 0, out_if = 0;
  std::optional<int> end_reason;          // flowEndReason (1 idle, 2 active, 3 end of flow, 4 forced, 5 resources)
  std::optional<int> direction;           // flowDirection (0 ingress, 1 egress)
  std::optional<std::uint64_t> start_ms;  // flowStart, ms since the epoch, if shown
};
std::string to_string(const FlowRow& r);
std::string to_string(const std::vector<FlowRow>& rows);

// The 5-tuple of a flow.
struct FlowKey {
  std::string src, dst;
  std::uint16_t sport = 0, dport = 0;
  std::uint8_t proto = 0;
  friend auto operator<=>(const FlowKey&, const FlowKey&) = default;
};
FlowKey key_of(const FlowRow& r);
std::string to_string(const FlowKey& k);

// Rows of one 5-tuple added together: packets and bytes summed, flags ORed;
// the end reasons and directions seen, and how many rows there were.
struct FlowSum {
  std::uint64_t packets = 0, bytes = 0;
  std::uint16_t tcp_flags = 0;
  std::vector<int> end_reasons;
  std::vector<int> directions;
  std::vector<std::uint32_t> in_ifs, out_ifs;
  int rows = 0;
};
std::map<FlowKey, FlowSum> sum_by_key(const std::vector<FlowRow>& rows);

// An address in inet_ntop's form ("fd00:0::1" -> "fd00::1"); unchanged if
// it is not one.
std::string canonical_address(const std::string& text);

// A UDP port on 127.0.0.1 that was free a moment ago; -1 if none.
int free_loopback_udp_port();
// Whether something is bound to UDP 127.0.0.1:port (our bind fails).
bool udp_port_bound(int port);

// A directory under the system's temporary directory, removed with
// everything in it by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& what);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::string& path() const { return path_; }
  [[nodiscard]] std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// net.core.rmem_max raised to `bytes` for the object's life (restored
// after), so a collector can have a receive buffer that holds a burst.
class RaiseRmemMax {
 public:
  explicit RaiseRmemMax(std::uint64_t bytes);
  ~RaiseRmemMax();
  RaiseRmemMax(const RaiseRmemMax&) = delete;
  RaiseRmemMax& operator=(const RaiseRmemMax&) = delete;

 private:
  std::string old_;
};

// The kernel's count of UDP datagrams dropped because a receive buffer was
// full (RcvbufErrors in /proc/net/snmp), for this network namespace.
std::uint64_t udp_rcvbuf_errors();

// nfcapd listening on 127.0.0.1:port (a free one by default), writing to a
// directory of its own.
class Nfcapd {
 public:
  // rcvbuf > 0: its socket's receive buffer (nfcapd -B; the kernel caps it
  // at net.core.rmem_max, see RaiseRmemMax).
  explicit Nfcapd(int port = -1, std::chrono::milliseconds ready_timeout = std::chrono::seconds(10), int rcvbuf = 0);
  ~Nfcapd();
  Nfcapd(const Nfcapd&) = delete;
  Nfcapd& operator=(const Nfcapd&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] bool ready() const { return ready_; }  // bound its port in time
  // SIGTERM: closes its file. Idempotent; true if it exited cleanly.
  bool stop();
  // SIGKILL: a crash; what it had not written yet is gone.
  void kill();
  // Stops it, then every flow of every file it wrote (nfdump).
  std::vector<FlowRow> flows();
  // What it printed (its own statistics: "Flows: N, Packets: ...").
  [[nodiscard]] std::string log() const;
  // The nfdump command's output, for a failure message.
  [[nodiscard]] const std::string& nfdump_output() const { return nfdump_out_; }

 private:
  std::unique_ptr<TempDir> dir_;
  int port_;
  std::unique_ptr<Subprocess> p_;
  std::optional<ExitStatus> exit_;
  bool ready_ = false;
  std::string nfdump_out_;
};

// Parses nfdump -o "fmt:<kNfdumpFormat>" output lines (exposed for tests).
extern const char* const kNfdumpFormat;
std::vector<FlowRow> parse_nfdump_fmt(const std::string& text);

// nfacctd with its print plugin writing JSON lines to a file.
class Nfacctd {
 public:
  explicit Nfacctd(int port = -1, std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
  ~Nfacctd();
  Nfacctd(const Nfacctd&) = delete;
  Nfacctd& operator=(const Nfacctd&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] bool ready() const { return ready_; }
  // SIGINT: the plugin writes what it holds, then both exit. Idempotent.
  bool stop();
  // Stops it, then every record of the print file.
  std::vector<FlowRow> flows();
  [[nodiscard]] std::string log() const;
  [[nodiscard]] std::string print_file_text() const;

 private:
  std::unique_ptr<TempDir> dir_;
  int port_;
  std::unique_ptr<Subprocess> p_;
  std::optional<ExitStatus> exit_;
  bool ready_ = false;
};

// Parses nfacctd print-plugin JSON lines, as configured by Nfacctd.
std::vector<FlowRow> parse_nfacctd_json(const std::string& text);

// softflowd over a capture file, exporting IPFIX to 127.0.0.1:port; returns
// when it has exported everything and exited (its stdout: statistics).
RunResult softflowd_export(const std::string& pcap, int port,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30));

// dumpcap capturing on an interface (of the test's namespace) to a pcap file.
class Capture {
 public:
  Capture(const std::string& iface, const std::string& filter = "",
          std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] const std::string& file() const { return file_; }
  // After a second (packets still in the kernel's ring), SIGINT: dumpcap
  // writes the rest and exits. Idempotent.
  bool stop();
  [[nodiscard]] std::string log() const;

 private:
  std::unique_ptr<TempDir> dir_;
  std::string file_;
  std::unique_ptr<Subprocess> p_;
  std::optional<ExitStatus> exit_;
  bool ready_ = false;
};

// The TCP and UDP flows of a capture as the packets in it show them (no
// ICMP errors): per 5-tuple, packets, IP-layer bytes (IPv4 total length;
// IPv6 payload length + 40) and the TCP flags ORed. The ground truth.
std::vector<FlowRow> flows_in_capture(const std::string& pcap);

// IPFIX as tshark decodes it from a capture of an exporter's traffic.
struct IpfixDecode {
  int messages = 0;                   // IPFIX messages (version 10)
  std::vector<int> template_ids;      // templates defined, in order (with repeats)
  std::vector<FlowRow> records;       // data records
  std::vector<std::string> problems;  // malformed packets, expert errors, bad lengths, other versions
  std::string tshark_error;           // tshark's stderr when it failed
};
// port: the collector's port; tcp: the export went over TCP; display_filter:
// only the frames it matches ("tcp.stream == 1": the second connection).
IpfixDecode decode_ipfix(const std::string& pcap, int port, bool tcp = false, const std::string& display_filter = "");

}  // namespace netmon::test

// Skips (fails under CI=true) when a tool is missing; use in SetUp().
#define NETMON_REQUIRE_TOOLS(...)                                                               \
  do {                                                                                          \
    const auto netmon_missing_ = ::netmon::test::missing_tools({__VA_ARGS__});                  \
    if (!netmon_missing_.empty()) {                                                             \
      std::string netmon_list_;                                                                 \
      for (const auto& t : netmon_missing_) netmon_list_ += " " + t;                            \
      if (::netmon::test::in_ci())                                                              \
        FAIL() << "missing:" << netmon_list_                                                    \
               << " (scripts/install-deps.sh installs them), and CI=true forbids skipping";     \
      GTEST_SKIP() << "missing:" << netmon_list_ << " (scripts/install-deps.sh installs them)"; \
    }                                                                                           \
  } while (0)
