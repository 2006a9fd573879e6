// SPDX-License-Identifier: MIT
// console sink: the human view, one block per interval, in the sections the
// original monitor showed (docs/SAMPLES.md lists what each section reads).
// On a terminal each block redraws the screen in place; otherwise blocks
// follow one another, so the output can be logged or piped.
#include <netmon/output.hpp>
#include <netmon/sink.hpp>
#include <netmon/timefmt.hpp>
#include <netmon/units.hpp>

#include <fmt/format.h>

#include <map>

namespace {

using netmon::human_byte_rate;
using netmon::human_bytes;
using netmon::human_count;
using netmon::human_rate;
using netmon::Sample;

// "1 packet", "856 packets", "1.2K packets"
std::string packet_count(std::uint64_t n) { return human_count(n) + (n == 1 ? " packet" : " packets"); }

struct Traffic {
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
  double pps = 0;
  double bps = 0;
  bool seen = false;

  void add(const Sample& s) {
    packets += s.u64("packets").value_or(0);
    bytes += s.u64("bytes").value_or(0);
    pps += s.number("packets_per_sec").value_or(0);
    bps += s.number("bytes_per_sec").value_or(0);
    seen = true;
  }
  [[nodiscard]] std::string totals() const {
    return fmt::format("{}, {}", packet_count(packets), human_bytes(bytes));
  }
  [[nodiscard]] std::string line() const {
    return fmt::format("{} ({} pkt/s, {})", totals(), human_rate(pps), human_byte_rate(bps));
  }
};

std::string tag_or(const Sample& s, const char* key, const std::string& def = "") {
  const std::string* v = s.tag_value(key);
  return v ? *v : def;
}

// Plugin strings reach a terminal: control characters are shown, not obeyed.
std::string printable(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  return out;
}

std::string value_text(const netmon::FieldValue& v) {
  if (const auto* d = std::get_if<double>(&v)) return fmt::format("{:.1f}", *d);
  return printable(netmon::field_text(v));
}

struct XdpIface {
  std::string index;
  std::string mode;
  Traffic rx;
  std::uint64_t malformed = 0;
  std::map<std::string, std::map<std::string, std::uint64_t>> classes;  // l3 -> l4 -> packets
};

class ConsoleSink final : public netmon::Sink {
 public:
  void open(const netmon::SinkContext& ctx) override {
    netmon::Options(ctx.options, "console").finish();
    out_.open(ctx.target, "console");
    redraw_ = out_.is_terminal();
  }

  netmon::WriteResult write(const netmon::Batch& batch) override {
    std::string text = redraw_ ? "\x1b[H\x1b[2J" : (first_ ? "" : "\n");
    first_ = false;
    text += render(batch);
    return out_.write(text) ? netmon::WriteResult::ok : netmon::WriteResult::closed;
  }

  void close() override { out_.close(); }

  static std::string render(const netmon::Batch& batch) {
    std::map<std::string, XdpIface> xdp;  // by ifname
    std::vector<const Sample*> others;
    std::vector<std::string> notes;
    for (const auto& s : batch.samples) {
      if (s.measurement == "xdp_stats") {
        auto& x = xdp[tag_or(s, "ifname", "?")];
        x.index = tag_or(s, "ifindex");
        x.rx.add(s);
        x.malformed = s.u64("malformed_packets").value_or(0);
        if (const auto* m = s.field("mode"); m && std::holds_alternative<std::string>(*m))
          x.mode = std::get<std::string>(*m);
      } else if (s.measurement == "xdp_stats_class") {
        xdp[tag_or(s, "ifname", "?")].classes[tag_or(s, "l3")][tag_or(s, "l4")] = s.u64("packets").value_or(0);
      } else if (s.measurement == "netmon_host") {
        // The host's own metrics: only worth a line when something went wrong.
      } else if (s.measurement == "netmon_host_sink") {
        if (const auto dropped = s.u64("dropped_batches"); dropped && *dropped > 0)
          notes.push_back(fmt::format("sink {} dropped {} batches (too slow)", tag_or(s, "sink", "?"), *dropped));
      } else {
        others.push_back(&s);
      }
    }

    std::string o;
    const std::string rule(60, '=');
    o += rule + "\n";
    o += fmt::format("Traffic Statistics [{}]\n", netmon::local_hms(batch.timestamp_ns));
    o += rule + "\n";

    if (!xdp.empty()) {
      Traffic rx;
      for (const auto& [name, x] : xdp) {
        rx.packets += x.rx.packets;
        rx.bytes += x.rx.bytes;
        rx.pps += x.rx.pps;
        rx.bps += x.rx.bps;
      }
      o += "\nGlobal Statistics:\n";
      o += "  RX: " + rx.line() + "\n";
      o += "  TX: not measured (load the tc_stats plugin)\n";
      o += "  Total: " + rx.totals() + "\n";
      o += "  Average packet size: " +
           (rx.packets ? fmt::format("{} bytes", (rx.bytes + rx.packets / 2) / rx.packets) : std::string("n/a")) +
           "\n";

      o += "\nXDP Interface Statistics:\n";
      for (const auto& [name, x] : xdp) {
        o += fmt::format("  {} (index {}, {} XDP):\n", name, x.index, x.mode.empty() ? "?" : x.mode);
        o += "    RX: " + x.rx.line() + "\n";
        for (const auto& [l3, label] : {std::pair{"ipv4", "IPv4"}, std::pair{"ipv6", "IPv6"}}) {
          auto it = x.classes.find(l3);
          if (it == x.classes.end()) continue;
          const auto& c = it->second;
          auto get = [&c](const char* k) {
            auto i = c.find(k);
            return i == c.end() ? std::uint64_t{0} : i->second;
          };
          const std::uint64_t total = get("tcp") + get("udp") + get("icmp") + get("other");
          o += fmt::format("    {}: {} (TCP {}, UDP {}, ICMP {}, other {})\n", label, packet_count(total),
                           human_count(get("tcp")), human_count(get("udp")), human_count(get("icmp")),
                           human_count(get("other")));
        }
        auto single = [&x](const char* l3) {
          auto it = x.classes.find(l3);
          if (it == x.classes.end()) return std::uint64_t{0};
          std::uint64_t n = 0;
          for (const auto& [k, v] : it->second) n += v;
          return n;
        };
        o += fmt::format("    ARP: {}, other L3: {}, malformed: {}\n", packet_count(single("arp")),
                         packet_count(single("other")), packet_count(x.malformed));
      }
    }

    if (!others.empty()) {
      o += "\nOther Measurements:\n";
      for (const Sample* s : others) {
        std::string tags;
        for (const auto& t : s->tags)
          tags += (tags.empty() ? "" : ",") + printable(t.key) + "=" + printable(t.value);
        std::string fields;
        for (const auto& f : s->fields)
          fields += (fields.empty() ? "" : " ") + printable(f.key) + "=" + value_text(f.value);
        o += fmt::format("  {}{}: {}\n", printable(s->measurement), tags.empty() ? "" : "{" + tags + "}", fields);
      }
    }
    for (const auto& n : notes) o += "\nNote: " + n + "\n";
    return o;
  }

 private:
  netmon::Output out_;
  bool redraw_ = false;
  bool first_ = true;
};

}  // namespace

NETMON_SINK(ConsoleSink, "console", "0.1.0", "Human view: global, per-interface and top-flow sections (stdout)")
