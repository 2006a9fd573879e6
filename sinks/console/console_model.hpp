// SPDX-License-Identifier: MIT
// What the console shows of one batch, by section: the samples of the
// standard plugins gathered per interface, flow and reason, and the rest as
// "other". Both views read it: the plain blocks (console_view.cpp) and the
// full-screen view (console_screen.cpp).
#pragma once

#include <netmon/sample.hpp>
#include <netmon/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace netmon::console {

// "1 packet", "856 packets", "1.2K packets"
inline std::string packet_count(std::uint64_t n) { return human_count(n) + (n == 1 ? " packet" : " packets"); }

inline std::string tag_or(const Sample& s, const char* key, const std::string& def = "") {
  const std::string* v = s.tag_value(key);
  return v ? *v : def;
}

inline std::string text_field(const Sample& s, const char* key) {
  const FieldValue* v = s.field(key);
  return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : std::string();
}

// Plugin strings reach a terminal: control characters are shown, not obeyed.
inline std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

inline std::string value_text(const FieldValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{:.1f}", *d);
  return printable(field_text(v));
}

struct Traffic {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  double pps = 0;
  double bps = 0;

  void add(const Sample& s) {
    packets += s.u64("packets").value_or(0);
    bytes += s.u64("bytes").value_or(0);
    pps += s.number("packets_per_sec").value_or(0);
    bps += s.number("bytes_per_sec").value_or(0);
  }
  void add(const Traffic& t) {
    packets += t.packets;
    bytes += t.bytes;
    pps += t.pps;
    bps += t.bps;
  }
  [[nodiscard]] std::string totals() const { return fmt::format("{}, {}", packet_count(packets), human_bytes(bytes)); }
  [[nodiscard]] std::string line() const {
    return fmt::format("{} ({} pkt/s, {})", totals(), human_rate(pps), human_byte_rate(bps));
  }
};

struct XdpIface {
  std::string index, mode;
  Traffic rx;
  std::uint64_t malformed = 0;
  std::map<std::string, std::map<std::string, std::uint64_t>> classes;  // l3 -> l4 -> packets
};

struct TcIface {
  std::string index, attach;
  Traffic ingress, egress;
};

struct Flow {
  int rank = 0;
  const Sample* s = nullptr;
};

struct View {
  std::map<std::string, XdpIface> xdp;  // by interface name
  std::map<std::string, TcIface> tc;
  std::vector<Flow> flows;
  const Sample* flow_other = nullptr;
  const Sample* flow_table = nullptr;
  std::vector<const Sample*> drop_reasons;  // drops_reason, one per reason
  const Sample* drops_total = nullptr;
  std::vector<Flow> tcp_conns;  // tcp_health, by rank
  const Sample* tcp_total = nullptr;
  std::vector<const Sample*> others;
  std::vector<std::string> notes;

  explicit View(const Batch& batch) {
    for (const auto& s : batch.samples) take(s);
    const auto by_rank = [](const Flow& a, const Flow& b) { return a.rank < b.rank; };
    std::sort(flows.begin(), flows.end(), by_rank);
    std::sort(tcp_conns.begin(), tcp_conns.end(), by_rank);
  }

  void take(const Sample& s) {
    const std::string& m = s.measurement;
    if (m == "xdp_stats") {
      auto& x = xdp[tag_or(s, "ifname", "?")];
      x.index = tag_or(s, "ifindex");
      x.rx.add(s);
      x.malformed = s.u64("malformed_packets").value_or(0);
      x.mode = text_field(s, "mode");
    } else if (m == "xdp_stats_class") {
      xdp[tag_or(s, "ifname", "?")].classes[tag_or(s, "l3")][tag_or(s, "l4")] = s.u64("packets").value_or(0);
    } else if (m == "tc_stats") {
      auto& t = tc[tag_or(s, "ifname", "?")];
      t.index = tag_or(s, "ifindex");
      t.attach = text_field(s, "attach");
      (tag_or(s, "direction") == "egress" ? t.egress : t.ingress).add(s);
    } else if (m == "flow_top") {
      flows.push_back({std::atoi(tag_or(s, "rank", "0").c_str()), &s});
    } else if (m == "flow_top_other") {
      flow_other = &s;
    } else if (m == "flow_top_table") {
      flow_table = &s;
    } else if (m == "drops_reason") {
      drop_reasons.push_back(&s);
    } else if (m == "drops_total") {
      drops_total = &s;
    } else if (m == "tcp_health") {
      tcp_conns.push_back({std::atoi(tag_or(s, "rank", "0").c_str()), &s});
    } else if (m == "tcp_health_total") {
      tcp_total = &s;
    } else if (m == "tc_stats_class" || m == "netmon_host" || m == "flow_top_end" || m == "flow_top_totals" ||
               m == "drops") {
      // Detail the console leaves to the json and csv sinks.
    } else if (m == "netmon_host_sink") {
      if (const auto dropped = s.u64("dropped_batches"); dropped && *dropped > 0)
        notes.push_back(fmt::format("sink {} dropped {} batches (too slow)", tag_or(s, "sink", "?"), *dropped));
    } else {
      others.push_back(&s);
    }
  }
};

// Every interface's traffic together: RX as XDP sees it when xdp_stats runs
// (before the stack), else TC ingress; TX at TC egress.
struct Totals {
  Traffic rx, tx;
};
inline Totals totals(const View& v) {
  Totals t;
  if (!v.xdp.empty())
    for (const auto& [name, x] : v.xdp) t.rx.add(x.rx);
  else
    for (const auto& [name, tc] : v.tc) t.rx.add(tc.ingress);
  for (const auto& [name, tc] : v.tc) t.tx.add(tc.egress);
  return t;
}

}  // namespace netmon::console
