// SPDX-License-Identifier: MIT
#include "console_screen.hpp"

#include <netmon/duration.hpp>
#include <netmon/timefmt.hpp>
#include <netmon/units.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>
#include <set>

#include "console_model.hpp"

namespace netmon::console {

namespace {

using Style = ScreenLine::Style;

// At most w columns: the text is ASCII (printable() escapes the rest).
std::string cut(const std::string& s, int w) { return static_cast<int>(s.size()) <= w ? s : s.substr(0, w); }

// At most w columns, the middle left out ("2001:db..ee:1"): both ends of an
// address say more than its start alone.
std::string shorten_middle(const std::string& s, int w) {
  if (static_cast<int>(s.size()) <= w) return s;
  if (w < 5) return cut(s, w);
  const auto head = static_cast<std::size_t>((w - 2 + 1) / 2), tail = static_cast<std::size_t>(w - 2) - head;
  return s.substr(0, head) + ".." + s.substr(s.size() - tail);
}

std::string left(const std::string& s, int w) { return fmt::format("{:<{}}", cut(s, w), w); }
std::string right(const std::string& s, int w) { return fmt::format("{:>{}}", cut(s, w), w); }

// "10.0.0.1:53", "[2001:db8::1]:443", the address shortened to fit w.
std::string endpoint(const Sample& s, const char* addr, const char* port, bool with_port, int w) {
  const bool v6 = tag_or(s, "family") == "ipv6";
  const std::string p = with_port ? ":" + printable(tag_or(s, port, "?")) : "";
  const int room = w - static_cast<int>(p.size()) - (v6 ? 2 : 0);
  const std::string a = shorten_middle(printable(tag_or(s, addr, "?")), std::max(room, 1));
  return cut((v6 ? "[" + a + "]" : a) + p, w);
}

// A terminal this wide has room for packet rates beside byte rates.
constexpr int kWide = 110;

// "20.6K pkt 4.9 MB 2.4 MB/s", with the packet rate when wide: "... 10.0K/s 2.4 MB/s"
std::string traffic(const Traffic& t, bool wide) {
  return wide ? fmt::format("{} pkt {} {}/s {}", human_count(t.packets), human_bytes(t.bytes), human_rate(t.pps),
                            human_byte_rate(t.bps))
              : fmt::format("{} pkt {} {}", human_count(t.packets), human_bytes(t.bytes), human_byte_rate(t.bps));
}

// "in 990.0 KB/s", with the packet rate when wide: "in 9.9K/s 990.0 KB/s"
std::string rate(const char* what, const Traffic& t, bool wide) {
  return wide ? fmt::format("{} {}/s {}", what, human_rate(t.pps), human_byte_rate(t.bps))
              : fmt::format("{} {}", what, human_byte_rate(t.bps));
}

// The plugins behind the batch's samples: each measurement's plugin is its
// name without the suffixes the standard plugins add (xdp_stats_class).
std::string sources(const Batch& batch) {
  static constexpr std::array kSuffixes{"_class", "_other", "_table", "_totals", "_total", "_reason", "_end"};
  std::vector<std::string> names;
  for (const auto& s : batch.samples) {
    std::string m = s.measurement;
    if (m.rfind("netmon_host", 0) == 0) continue;
    for (const char* suffix : kSuffixes) {
      const std::string sfx(suffix);
      if (m.size() > sfx.size() && m.compare(m.size() - sfx.size(), sfx.size(), sfx) == 0) {
        m.resize(m.size() - sfx.size());
        break;
      }
    }
    m = printable(m);
    if (std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  }
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

// The value a flow is ranked and its bar drawn by.
double flow_metric(const Sample& s, FlowSort by) {
  switch (by) {
    case FlowSort::bytes: return static_cast<double>(s.u64("bytes").value_or(0));
    case FlowSort::rate: return s.number("bytes_per_sec_2s").value_or(0);
    default: return static_cast<double>(s.u64("packets").value_or(0));
  }
}

FlowSort plugin_sort(const View& v) {
  const std::string by = v.flow_other ? tag_or(*v.flow_other, "sort", "packets") : "packets";
  return by == "bytes" ? FlowSort::bytes : by == "rate" ? FlowSort::rate : FlowSort::packets;
}

const char* sort_name(FlowSort s) {
  switch (s) {
    case FlowSort::bytes: return "bytes";
    case FlowSort::rate: return "rate";
    default: return "packets";
  }
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool flow_matches(const Sample& s, const ScreenState& st) {
  if (!st.iface.empty() && tag_or(s, "ifname") != st.iface) return false;
  if (st.filter.empty()) return true;
  const std::string needle = lower(st.filter);
  for (const char* key : {"proto", "src", "dst", "sport", "dport", "ifname"})
    if (lower(tag_or(s, key)).find(needle) != std::string::npos) return true;
  return false;
}

// The flow table's columns: which ones fit is decided by the width.
struct Columns {
  int addr = 20;  // each of source and destination
  bool now = false, r10 = false, r40 = false, iface = false, flags = false;
  int flags_w = 0;
};

constexpr int kProto = 6, kDir = 3, kPkts = 6, kBytes = 8, kRate = 11, kIface = 9, kFlags = 12;

Columns choose_columns(int width) {
  Columns c;
  // proto, src, dst, dir, packets, bytes, 2 s rate: the ones always shown.
  const int fixed = kProto + 1 + 1 + kDir + 1 + kPkts + 1 + kBytes + 1 + kRate;
  int spare = width - fixed - 2 * c.addr;
  // Then, while they fit: the 10 s and 40 s rates, the rate now, the
  // interface, the TCP flags; what is left widens the addresses.
  const auto take = [&spare](bool& on, int w) {
    if (spare >= w) {
      on = true;
      spare -= w;
    }
  };
  take(c.r10, kRate);
  take(c.r40, kRate);
  take(c.now, kRate);
  take(c.iface, kIface);
  take(c.flags, kFlags);
  c.addr += std::min(spare / 2, 47 - c.addr);  // "[" IPv6 "]:" port
  spare = width - fixed - 2 * c.addr - (c.r10 + c.r40 + c.now) * kRate - (c.iface ? kIface : 0);
  c.flags_w = c.flags ? spare : 0;
  c.addr = std::max(c.addr, 8);
  return c;
}

std::string flow_heading(const Columns& c) {
  std::string h = left("PROTO", kProto) + left("SOURCE", c.addr + 1) + left("DESTINATION", c.addr + 1) +
                  left("DIR", kDir) + right("PKTS", kPkts + 1) + right("BYTES", kBytes + 1);
  if (c.now) h += right("NOW", kRate);
  h += right("2s", kRate);
  if (c.r10) h += right("10s", kRate);
  if (c.r40) h += right("40s", kRate);
  if (c.iface) h += " " + left("IFACE", kIface - 1);
  if (c.flags) h += " FLAGS";
  return h;
}

std::string flow_row(const Sample& s, const Columns& c) {
  const std::string proto = tag_or(s, "proto", "?");
  const bool ports = proto == "tcp" || proto == "udp";
  std::string what = ports || proto == "icmp" ? proto : "p" + std::to_string(s.u64("ip_proto").value_or(0));
  for (auto& ch : what) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string dir = tag_or(s, "direction") == "egress" ? "out" : "in";
  const auto rate = [&s](const char* key) { return right(human_byte_rate(s.number(key).value_or(0)), kRate); };
  std::string r = left(what, kProto) + left(endpoint(s, "src", "sport", ports, c.addr), c.addr + 1) +
                  left(endpoint(s, "dst", "dport", ports, c.addr), c.addr + 1) + left(dir, kDir) +
                  right(human_count(s.u64("packets").value_or(0)), kPkts + 1) +
                  right(human_bytes(s.u64("bytes").value_or(0)), kBytes + 1);
  if (c.now) r += rate("bytes_per_sec");
  r += rate("bytes_per_sec_2s");
  if (c.r10) r += rate("bytes_per_sec_10s");
  if (c.r40) r += rate("bytes_per_sec_40s");
  if (c.iface) r += " " + left(printable(tag_or(s, "ifname", "?")), kIface - 1);
  if (c.flags) {
    std::string flags = printable(text_field(s, "tcp_flags"));
    if (proto == "icmp") {
      const auto code = std::atoi(tag_or(s, "dport", "0").c_str());
      flags = fmt::format("type {} code {}", code >> 8, code & 0xff);
    }
    r += " " + cut(flags, std::max(c.flags_w - 1, 0));
  }
  return r;
}

// One line per interface: its XDP and TC counts.
std::vector<std::string> interface_lines(const View& v, const ScreenState& st, int width) {
  std::set<std::string> names;
  for (const auto& [n, x] : v.xdp) names.insert(n);
  for (const auto& [n, t] : v.tc) names.insert(n);
  std::vector<std::string> out;
  for (const auto& n : names) {
    if (!st.iface.empty() && n != st.iface) continue;
    const bool wide = width >= kWide;
    std::string line = left(printable(n), 9);
    if (const auto x = v.xdp.find(n); x != v.xdp.end())
      line += fmt::format(" XDP {} {}", x->second.mode.empty() ? "?" : x->second.mode, traffic(x->second.rx, wide));
    if (const auto t = v.tc.find(n); t != v.tc.end())
      line += fmt::format("{}TC {} {}", v.xdp.count(n) ? " | " : " ", rate("in", t->second.ingress, wide),
                          rate("out", t->second.egress, wide));
    out.push_back(cut(line, width));
  }
  return out;
}

// drops, tcp_health and every other plugin's samples, a line each.
std::vector<std::string> other_lines(const View& v, int width) {
  std::vector<std::string> out;
  if (v.drops_total || !v.drop_reasons.empty()) {
    std::vector<const Sample*> reasons = v.drop_reasons;
    std::stable_sort(reasons.begin(), reasons.end(), [](const Sample* a, const Sample* b) {
      return a->number("packets_per_sec").value_or(0) > b->number("packets_per_sec").value_or(0);
    });
    std::string line = "Drops";
    if (v.drops_total)
      line += fmt::format(" {} pkt {}/s, {} ignored, {} lost", human_count(v.drops_total->u64("packets").value_or(0)),
                          human_rate(v.drops_total->number("packets_per_sec").value_or(0)),
                          human_count(v.drops_total->u64("ignored_packets").value_or(0)),
                          human_count(v.drops_total->u64("lost_packets").value_or(0)));
    for (std::size_t i = 0; i < reasons.size(); ++i)
      line += fmt::format("{} {} {} ({}/s)", i ? "," : ":", printable(tag_or(*reasons[i], "reason", "?")),
                          human_count(reasons[i]->u64("packets").value_or(0)),
                          human_rate(reasons[i]->number("packets_per_sec").value_or(0)));
    out.push_back(cut(line, width));
  }
  if (v.tcp_total || !v.tcp_conns.empty()) {
    std::string line = "TCP health";
    if (v.tcp_total) {
      const Sample& t = *v.tcp_total;
      line +=
          fmt::format(" {} retrans ({}/s), resets {} sent {} received", human_count(t.u64("retransmits").value_or(0)),
                      human_rate(t.number("retransmits_per_sec").value_or(0)),
                      human_count(t.u64("resets_sent").value_or(0)), human_count(t.u64("resets_received").value_or(0)));
    }
    for (std::size_t i = 0; i < v.tcp_conns.size(); ++i) {
      const Sample& s = *v.tcp_conns[i].s;
      line += fmt::format("{} {}:{}-{}:{} {}", i ? "," : ":", printable(tag_or(s, "local", "?")),
                          printable(tag_or(s, "local_port", "?")), printable(tag_or(s, "remote", "?")),
                          printable(tag_or(s, "remote_port", "?")), human_count(s.u64("retransmits").value_or(0)));
    }
    out.push_back(cut(line, width));
  }
  for (const Sample* s : v.others) {
    // The host's own health (netmon_host_plugin): the json and csv sinks
    // carry it; the screen keeps its rows for traffic.
    if (s->measurement.rfind("netmon_host", 0) == 0) continue;
    std::string line = printable(s->measurement);
    std::string tags;
    for (const auto& t : s->tags) tags += (tags.empty() ? "" : ",") + printable(t.key) + "=" + printable(t.value);
    if (!tags.empty()) line += "{" + tags + "}";
    line += ":";
    for (const auto& f : s->fields) line += " " + printable(f.key) + "=" + value_text(f.value);
    out.push_back(cut(line, width));
  }
  return out;
}

std::vector<ScreenLine> help_screen(const ScreenState& st) {
  static constexpr std::array kHelp{
      "netmon console: keys",
      "",
      "  p        sort the top flows by packets",
      "  b        sort the top flows by bytes",
      "  r        sort the top flows by rate (bytes per second over 2 s)",
      "  n        back to the plugin's own order (its sort option)",
      "  space    pause or resume the display (collection goes on)",
      "  /  l     filter the flows: an address, port, protocol or interface",
      "  i        cycle the interface shown (all, then each one)",
      "  s        show or hide the per-interface lines",
      "  o        show or hide drops, TCP health and other plugins",
      "  q        quit, as Ctrl+C does",
      "  ?        this help; any key returns",
  };
  std::vector<ScreenLine> out;
  for (const char* l : kHelp) out.push_back({cut(l, st.width), out.empty() ? Style::title : Style::plain, 0});
  return out;
}

}  // namespace

std::vector<std::string> interfaces(const Batch& batch) {
  std::set<std::string> names;
  for (const auto& s : batch.samples)
    if (const std::string* n = s.tag_value("ifname"))
      if (s.measurement == "xdp_stats" || s.measurement == "tc_stats" || s.measurement == "flow_top") names.insert(*n);
  return {names.begin(), names.end()};
}

std::vector<ScreenLine> layout(const Batch& batch, const ScreenState& st) {
  const int w = st.width;
  if (w < kMinWidth || st.height < kMinHeight)
    return {{cut(fmt::format("terminal too small: {}x{}; netmon's view needs at least {}x{}", w, st.height, kMinWidth,
                             kMinHeight),
                 w),
             Style::title, 0}};
  if (st.help) return help_screen(st);
  const View v(batch);

  // Title: time, interval, interfaces, plugins; then what the keys set.
  const auto ifaces = interfaces(batch);
  std::string names;
  for (const auto& n : ifaces) names += (names.empty() ? "" : " ") + printable(n);
  std::string title = fmt::format("netmon {}  every {}  {}  {}", local_hms(batch.timestamp_ns),
                                  format_duration(std::chrono::nanoseconds(batch.interval_ns)),
                                  names.empty() ? "-" : names, sources(batch));
  std::string flags;
  if (st.paused) flags += " PAUSED";
  if (!st.iface.empty()) flags += " iface " + printable(st.iface);
  if (!st.filter.empty() && !st.editing_filter) flags += " filter '" + printable(st.filter) + "'";
  title = cut(title, w - static_cast<int>(flags.size()));
  title += std::string(static_cast<std::size_t>(std::max(0, w - static_cast<int>(title.size() + flags.size()))), ' ');
  title = cut(title + flags, w);

  std::vector<ScreenLine> top{{title, Style::title, 0}};
  if (!v.xdp.empty() || !v.tc.empty()) {
    const auto [rx, tx] = totals(v);
    const bool wide = w >= kWide;
    top.push_back({cut(left("All", 9) + " RX " + traffic(rx, wide) +
                           (v.tc.empty() ? " | TX not measured" : " | TX " + traffic(tx, wide)),
                       w),
                   Style::plain, 0});
  }
  if (st.show_interfaces) {
    auto lines = interface_lines(v, st, w);
    constexpr std::size_t kMaxInterfaceLines = 4;
    if (lines.size() > kMaxInterfaceLines) {
      const std::size_t more = lines.size() - (kMaxInterfaceLines - 1);
      lines.resize(kMaxInterfaceLines - 1);
      lines.push_back(cut(fmt::format("+{} more interfaces (i shows one at a time)", more), w));
    }
    for (auto& l : lines) top.push_back({std::move(l), Style::plain, 0});
  }

  // The flows shown: filtered, then in the order asked for.
  const bool have_flows = !v.flows.empty() || v.flow_other || v.flow_table;
  const FlowSort by = st.sort == FlowSort::plugin ? plugin_sort(v) : st.sort;
  std::vector<const Sample*> flows;
  for (const auto& f : v.flows)
    if (flow_matches(*f.s, st)) flows.push_back(f.s);
  if (st.sort != FlowSort::plugin)
    std::stable_sort(flows.begin(), flows.end(),
                     [by](const Sample* a, const Sample* b) { return flow_metric(*a, by) > flow_metric(*b, by); });
  std::string table_line;
  if (have_flows) {
    const std::uint64_t entries = v.flow_table ? v.flow_table->u64("entries").value_or(0) : v.flows.size();
    table_line = fmt::format("{} of {} flows by {}", flows.size(), human_count(entries), sort_name(by));
    if (v.flow_other && v.flow_other->u64("flows").value_or(0) > 0)
      table_line += fmt::format("; other {} flows {} pkt {}", human_count(v.flow_other->u64("flows").value_or(0)),
                                human_count(v.flow_other->u64("packets").value_or(0)),
                                human_bytes(v.flow_other->u64("bytes").value_or(0)));
    if (v.flow_table)
      table_line += fmt::format("; table {}/{}, {} evicted, {} failed, unseen {} pkt", human_count(entries),
                                human_count(v.flow_table->u64("capacity").value_or(0)),
                                human_count(v.flow_table->u64("evicted").value_or(0)),
                                human_count(v.flow_table->u64("insert_failures").value_or(0)),
                                human_count(v.flow_table->u64("evicted_unseen_packets").value_or(0)));
    table_line = cut(table_line, w);
  }
  std::vector<std::string> others = st.show_others ? other_lines(v, w) : std::vector<std::string>{};
  std::string status = printable(st.status);
  for (const auto& n : v.notes) status = n + (status.empty() ? "" : "; " + status);
  std::string keys = st.editing_filter ? "Filter: " + printable(st.filter) + "_   Enter: keep it  Esc: clear it"
                                       : "q quit  p b r n sort  space pause  / filter  i iface  s o sections  ? help";

  // Rows: the flows get what is left, at least 10 when there are as many;
  // the other plugins' lines what the flows leave.
  const int fixed = static_cast<int>(top.size()) + (have_flows ? 2 : 0) + (status.empty() ? 0 : 1) + 1;
  const int avail = std::max(0, st.height - fixed);
  // An empty table still takes a row, to say so.
  const int want_flows = have_flows ? std::max(static_cast<int>(flows.size()), 1) : 0;
  const int want_others = static_cast<int>(others.size());
  int n_flows = want_flows, n_others = want_others;
  if (want_flows + want_others > avail) {
    n_flows = std::min({want_flows, avail, std::max(std::min(want_flows, 10), avail - want_others)});
    n_others = avail - n_flows;
  }
  if (n_others < want_others && n_others > 0) {
    others.resize(static_cast<std::size_t>(n_others - 1));
    others.push_back(cut(fmt::format("+{} more lines (o hides them)", want_others - (n_others - 1)), w));
  } else {
    others.resize(static_cast<std::size_t>(std::min(n_others, want_others)));
  }

  std::vector<ScreenLine> out = std::move(top);
  if (have_flows) {
    const Columns cols = choose_columns(w);
    out.push_back({cut(flow_heading(cols), w), Style::heading, 0});
    double busiest = 0;
    const int shown = std::min(n_flows, static_cast<int>(flows.size()));
    for (int i = 0; i < shown; ++i) busiest = std::max(busiest, flow_metric(*flows[static_cast<std::size_t>(i)], by));
    for (int i = 0; i < shown; ++i) {
      const Sample& s = *flows[static_cast<std::size_t>(i)];
      const int bar = busiest > 0 ? static_cast<int>(std::lround(w * flow_metric(s, by) / busiest)) : 0;
      out.push_back({cut(flow_row(s, cols), w), Style::plain, std::clamp(bar, 0, w)});
    }
    if (flows.empty() && n_flows > 0)
      out.push_back({cut(v.flows.empty() ? "(no flows yet)" : "(no flow matches)", w), Style::plain, 0});
    out.push_back({table_line, Style::plain, 0});
  }
  for (auto& l : others) out.push_back({std::move(l), Style::plain, 0});
  // The last rows: the status, then the keys, at the bottom of the screen.
  const int bottom = (status.empty() ? 0 : 1) + 1;
  if (static_cast<int>(out.size()) > st.height - bottom) out.resize(static_cast<std::size_t>(st.height - bottom));
  while (static_cast<int>(out.size()) < st.height - bottom) out.push_back({});
  if (!status.empty()) out.push_back({cut(status, w), Style::plain, 0});
  out.push_back({cut(keys, w), Style::keys, 0});
  return out;
}

std::string screen_text(const std::vector<ScreenLine>& lines) {
  std::string out;
  for (const auto& l : lines) {
    std::string t = l.text;
    while (!t.empty() && t.back() == ' ') t.pop_back();
    out += t + "\n";
  }
  return out;
}

}  // namespace netmon::console
