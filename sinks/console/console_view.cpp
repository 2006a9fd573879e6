// SPDX-License-Identifier: MIT
#include "console_view.hpp"

#include "console_model.hpp"

#include <netmon/timefmt.hpp>
#include <netmon/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <vector>

namespace netmon::console {

namespace {

void global_section(const View& v, std::string& o) {
  if (v.xdp.empty() && v.tc.empty()) return;
  const auto [rx, tx] = totals(v);
  Traffic total = rx;
  total.add(tx);
  o += "\nGlobal Statistics:\n";
  o += "  RX: " + rx.line() + "\n";
  o += v.tc.empty() ? std::string("  TX: not measured (load the tc_stats plugin)\n") : "  TX: " + tx.line() + "\n";
  o += "  Total: " + total.totals() + "\n";
  o += "  Average packet size: " +
       (total.packets ? fmt::format("{} bytes", (total.bytes + total.packets / 2) / total.packets)
                      : std::string("n/a")) +
       "\n";
}

void tc_section(const View& v, std::string& o) {
  if (v.tc.empty()) return;
  o += "\nTC Device Statistics:\n";
  for (const auto& [name, t] : v.tc) {
    o += fmt::format("  {} (index {}, {}):\n", name, t.index, t.attach.empty() ? "?" : t.attach);
    o += "    Ingress: " + t.ingress.line() + "\n";
    o += "    Egress:  " + t.egress.line() + "\n";
  }
}

void xdp_section(const View& v, std::string& o) {
  if (v.xdp.empty()) return;
  o += "\nXDP Interface Statistics:\n";
  for (const auto& [name, x] : v.xdp) {
    o += fmt::format("  {} (index {}, {} XDP):\n", name, x.index, x.mode.empty() ? "?" : x.mode);
    o += "    RX: " + x.rx.line() + "\n";
    // By name: clang before 16 cannot capture a structured binding in a lambda.
    const auto& classes = x.classes;
    const auto count = [&classes](const char* l3, const char* l4) -> std::uint64_t {
      auto a = classes.find(l3);
      if (a == classes.end()) return 0;
      if (!l4) {
        std::uint64_t n = 0;
        for (const auto& [k, c] : a->second) n += c;
        return n;
      }
      auto b = a->second.find(l4);
      return b == a->second.end() ? 0 : b->second;
    };
    for (const auto& [l3, label] : {std::pair{"ipv4", "IPv4"}, std::pair{"ipv6", "IPv6"}}) {
      if (!x.classes.count(l3)) continue;
      o += fmt::format("    {}: {} (TCP {}, UDP {}, ICMP {}, other {})\n", label, packet_count(count(l3, nullptr)),
                       human_count(count(l3, "tcp")), human_count(count(l3, "udp")), human_count(count(l3, "icmp")),
                       human_count(count(l3, "other")));
    }
    o += fmt::format("    ARP: {}, other L3: {}, malformed: {}\n", packet_count(count("arp", nullptr)),
                     packet_count(count("other", nullptr)), packet_count(x.malformed));
  }
}

// "192.0.2.1:53", "[2001:db8::1]:443", "192.0.2.1" (no port for ICMP and others)
std::string endpoint(const Sample& s, const char* addr, const char* port, bool with_port) {
  std::string a = tag_or(s, addr, "?");
  if (tag_or(s, "family") == "ipv6") a = "[" + a + "]";
  return with_port ? a + ":" + tag_or(s, port, "?") : a;
}

std::string flow_line(const Sample& s) {
  const std::string proto = tag_or(s, "proto", "?");
  const bool ports = proto == "tcp" || proto == "udp";
  std::string what = ports             ? proto
                     : proto == "icmp" ? "icmp"
                                       : "proto " + std::to_string(s.u64("ip_proto").value_or(0));
  for (auto& c : what) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string line = fmt::format("{} {} -> {} ({})", what, endpoint(s, "src", "sport", ports),
                                 endpoint(s, "dst", "dport", ports), packet_count(s.u64("packets").value_or(0)));
  if (proto == "icmp") {
    const auto code = std::atoi(tag_or(s, "dport", "0").c_str());
    line += fmt::format(" type {} code {}", code >> 8, code & 0xff);
  }
  line += fmt::format("  {}, {} {}, now {}", human_bytes(s.u64("bytes").value_or(0)), tag_or(s, "ifname", "?"),
                      tag_or(s, "direction", "?"), human_byte_rate(s.number("bytes_per_sec").value_or(0)));
  line += fmt::format(" (2s {}, 10s {}, 40s {})", human_byte_rate(s.number("bytes_per_sec_2s").value_or(0)),
                      human_byte_rate(s.number("bytes_per_sec_10s").value_or(0)),
                      human_byte_rate(s.number("bytes_per_sec_40s").value_or(0)));
  if (const std::string flags = text_field(s, "tcp_flags"); !flags.empty()) line += " [" + flags + "]";
  return line;
}

void flow_section(const View& v, std::string& o) {
  if (v.flows.empty() && !v.flow_other && !v.flow_table) return;
  std::string by = v.flow_other ? tag_or(*v.flow_other, "sort", "packets") : "packets";
  const std::uint64_t entries = v.flow_table ? v.flow_table->u64("entries").value_or(0) : v.flows.size();
  o += fmt::format("\nTop Flow Statistics (by {}, {} of {} flows):\n", by, v.flows.size(), entries);
  if (v.flows.empty()) o += "  (no flows yet)\n";
  for (const auto& f : v.flows) o += fmt::format("  {}. {}\n", f.rank, printable(flow_line(*f.s)));
  if (v.flow_other && v.flow_other->u64("flows").value_or(0) > 0)
    o += fmt::format("  Other flows: {} flows, {}, {}\n", human_count(v.flow_other->u64("flows").value_or(0)),
                     packet_count(v.flow_other->u64("packets").value_or(0)),
                     human_bytes(v.flow_other->u64("bytes").value_or(0)));
  if (v.flow_table) {
    const auto failures = v.flow_table->u64("insert_failures").value_or(0);
    const auto evicted = v.flow_table->u64("evicted").value_or(0);
    o += fmt::format("  Flow table: {} of {} entries, {} evicted, {} failed inserts\n", human_count(entries),
                     human_count(v.flow_table->u64("capacity").value_or(0)), human_count(evicted),
                     human_count(failures));
    // Never hidden: the part of the traffic no flow record holds.
    o += fmt::format("  Evicted unseen: {}, {} (in no flow: evicted before a read saw them)\n",
                     packet_count(v.flow_table->u64("evicted_unseen_packets").value_or(0)),
                     human_bytes(v.flow_table->u64("evicted_unseen_bytes").value_or(0)));
  }
}

// The drop reasons, busiest first: by rate over the last interval, then by
// count; at most kDropLines, the rest summed in one line.
constexpr std::size_t kDropLines = 10;

void drops_section(const View& v, std::string& o) {
  if (v.drop_reasons.empty() && !v.drops_total) return;
  std::vector<const Sample*> reasons = v.drop_reasons;
  std::stable_sort(reasons.begin(), reasons.end(), [](const Sample* a, const Sample* b) {
    const double ra = a->number("packets_per_sec").value_or(0), rb = b->number("packets_per_sec").value_or(0);
    if (ra != rb) return ra > rb;
    return a->u64("packets").value_or(0) > b->u64("packets").value_or(0);
  });
  o += "\nPacket Drops (by rate):\n";
  if (v.drops_total) {
    const Sample& t = *v.drops_total;
    o += fmt::format("  Total: {} ({} pkt/s); {} ignored, {} lost (table full)\n",
                     packet_count(t.u64("packets").value_or(0)), human_rate(t.number("packets_per_sec").value_or(0)),
                     human_count(t.u64("ignored_packets").value_or(0)), human_count(t.u64("lost_packets").value_or(0)));
  }
  if (reasons.empty()) o += "  (no drops yet)\n";
  std::size_t width = 0;
  for (std::size_t i = 0; i < reasons.size() && i < kDropLines; ++i)
    width = std::max(width, printable(tag_or(*reasons[i], "reason", "?")).size());
  Traffic rest;
  std::size_t rest_n = 0;
  for (std::size_t i = 0; i < reasons.size(); ++i) {
    const Sample& r = *reasons[i];
    if (i >= kDropLines) {
      rest.add(r);
      ++rest_n;
      continue;
    }
    Traffic t;
    t.add(r);
    o += fmt::format("  {:<{}}  {}\n", printable(tag_or(r, "reason", "?")), width, t.line());
  }
  if (rest_n) o += fmt::format("  {} other reasons: {}\n", rest_n, rest.line());
}

// "12 retransmits (3.0/s)": a TCP event counter with its rate.
std::string tcp_events(const Sample& s, const char* key, const char* what) {
  return fmt::format("{} {} ({}/s)", human_count(s.u64(key).value_or(0)), what,
                     human_rate(s.number(std::string(key) + "_per_sec").value_or(0)));
}

// The connections tcp_health ranks by retransmissions, with the resets and
// the smoothed RTT at their last event, and the host's totals.
void tcp_section(const View& v, std::string& o) {
  if (v.tcp_conns.empty() && !v.tcp_total) return;
  const std::uint64_t conns = v.tcp_total ? v.tcp_total->u64("connections").value_or(0) : v.tcp_conns.size();
  o += fmt::format("\nTCP Health (by retransmits, {} of {} connections):\n", v.tcp_conns.size(), conns);
  if (v.tcp_total) {
    const Sample& t = *v.tcp_total;
    o += fmt::format("  Total: {}, {} failed; resets: {}, {}; {} lost (table full)\n",
                     tcp_events(t, "retransmits", "retransmits"), human_count(t.u64("retransmit_failures").value_or(0)),
                     tcp_events(t, "resets_sent", "sent"), tcp_events(t, "resets_received", "received"),
                     human_count(t.u64("lost_events").value_or(0)));
  }
  if (v.tcp_conns.empty()) o += "  (no retransmissions or resets yet)\n";
  for (const auto& c : v.tcp_conns) {
    const Sample& s = *c.s;
    const bool v6 = tag_or(s, "l3") == "ipv6";
    const auto end = [&s, v6](const char* addr, const char* port) {
      const std::string a = printable(tag_or(s, addr, "?"));
      return (v6 ? "[" + a + "]" : a) + ":" + printable(tag_or(s, port, "?"));
    };
    std::string line = fmt::format("  {}. TCP {} -> {}  {}", c.rank, end("local", "local_port"),
                                   end("remote", "remote_port"), tcp_events(s, "retransmits", "retransmits"));
    if (const auto f = s.u64("retransmit_failures").value_or(0)) line += fmt::format(", {} failed", human_count(f));
    const auto sent = s.u64("resets_sent").value_or(0), received = s.u64("resets_received").value_or(0);
    if (sent || received) line += fmt::format(", resets {} sent {} received", human_count(sent), human_count(received));
    if (const auto srtt = s.u64("srtt_us")) line += fmt::format(", srtt {:.2f} ms", static_cast<double>(*srtt) / 1000);
    o += line + "\n";
  }
  if (!v.tcp_total) return;
  const auto other = [&v](const char* key) { return v.tcp_total->u64(key).value_or(0); };
  if (other("other_retransmits") + other("other_resets_sent") + other("other_resets_received") > 0)
    o += fmt::format("  Other connections: {} retransmits, resets {} sent {} received\n",
                     human_count(other("other_retransmits")), human_count(other("other_resets_sent")),
                     human_count(other("other_resets_received")));
}

void other_section(const View& v, std::string& o) {
  if (v.others.empty()) return;
  o += "\nOther Measurements:\n";
  for (const Sample* s : v.others) {
    std::string tags;
    for (const auto& t : s->tags) tags += (tags.empty() ? "" : ",") + printable(t.key) + "=" + printable(t.value);
    std::string fields;
    for (const auto& f : s->fields)
      fields += (fields.empty() ? "" : " ") + printable(f.key) + "=" + value_text(f.value);
    o += fmt::format("  {}{}: {}\n", printable(s->measurement), tags.empty() ? "" : "{" + tags + "}", fields);
  }
}

}  // namespace

std::string render(const Batch& batch) {
  const View v(batch);
  std::string o;
  const std::string rule(60, '=');
  o += rule + "\n";
  o += fmt::format("Traffic Statistics [{}]\n", local_hms(batch.timestamp_ns));
  o += rule + "\n";
  global_section(v, o);
  tc_section(v, o);
  flow_section(v, o);
  drops_section(v, o);
  tcp_section(v, o);
  xdp_section(v, o);
  other_section(v, o);
  for (const auto& n : v.notes) o += "\nNote: " + n + "\n";
  return o;
}

}  // namespace netmon::console
