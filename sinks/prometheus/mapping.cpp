// SPDX-License-Identifier: MIT
#include "mapping.hpp"

#include <array>
#include <span>

namespace netmon::prometheus {

namespace {

using std::string_view_literals::operator""sv;

constexpr FamilySpec family(std::string_view name, std::string_view base, MetricType type, Unit unit,
                            std::string_view help) {
  return FamilySpec{name, base, type, unit, help};
}

// ---- the standard families ---------------------------------------------------

constexpr auto C = MetricType::counter;
constexpr auto G = MetricType::gauge;
constexpr auto I = MetricType::info;

constexpr FamilySpec kXdpPackets = family("netmon_xdp_packets_total", "netmon_xdp_packets", C, Unit::none,
                                          "Frames received at XDP, per interface and protocol class.");
constexpr FamilySpec kXdpBytes =
    family("netmon_xdp_bytes_total", "netmon_xdp_bytes", C, Unit::bytes,
           "Bytes of the frames received at XDP (from the Ethernet header on, without FCS), per interface and "
           "protocol class.");
constexpr FamilySpec kXdpMalformed =
    family("netmon_xdp_malformed_packets_total", "netmon_xdp_malformed_packets", C, Unit::none,
           "Frames at XDP with a truncated or impossible header (also counted in their class).");
constexpr FamilySpec kXdpAttach = family("netmon_xdp_attach_info", "netmon_xdp_attach", I, Unit::none,
                                         "How the XDP program is attached to the interface (mode native or generic).");

constexpr FamilySpec kTcPackets = family("netmon_tc_packets_total", "netmon_tc_packets", C, Unit::none,
                                         "Packets (skbs) seen at TC, per interface, direction and protocol class.");
constexpr FamilySpec kTcBytes =
    family("netmon_tc_bytes_total", "netmon_tc_bytes", C, Unit::bytes,
           "Bytes (skb->len, from the Ethernet header on) of the packets seen at TC, per interface, direction "
           "and protocol class.");
constexpr FamilySpec kTcMalformed =
    family("netmon_tc_malformed_packets_total", "netmon_tc_malformed_packets", C, Unit::none,
           "Packets at TC with a truncated or impossible header (also counted in their class).");
constexpr FamilySpec kTcAttach = family("netmon_tc_attach_info", "netmon_tc_attach", I, Unit::none,
                                        "How the TC program is attached (attach tcx or netlink).");

constexpr FamilySpec kFlowPackets =
    family("netmon_flow_packets_total", "netmon_flow_packets", C, Unit::none,
           "Packets of a flow since it started; a series exists while the flow is in flow_top's top N.");
constexpr FamilySpec kFlowBytes =
    family("netmon_flow_bytes_total", "netmon_flow_bytes", C, Unit::bytes,
           "Bytes of a flow since it started; a series exists while the flow is in flow_top's top N.");
constexpr FamilySpec kOtherFlows = family("netmon_flow_other_flows", "netmon_flow_other_flows", G, Unit::none,
                                          "Flows in the flow table that are not in the top N.");
constexpr FamilySpec kOtherPackets =
    family("netmon_flow_other_packets", "netmon_flow_other_packets", G, Unit::none,
           "Packets of the flows not in the top N, since each started (not monotonic: flows move in and out).");
constexpr FamilySpec kOtherBytes =
    family("netmon_flow_other_bytes", "netmon_flow_other_bytes", G, Unit::bytes,
           "Bytes of the flows not in the top N, since each started (not monotonic: flows move in and out).");
constexpr FamilySpec kTableEntries =
    family("netmon_flow_table_entries", "netmon_flow_table_entries", G, Unit::none, "Flows in the flow table as read.");
constexpr FamilySpec kTableCapacity = family("netmon_flow_table_capacity", "netmon_flow_table_capacity", G, Unit::none,
                                             "Size of the flow table (option table_size).");
constexpr FamilySpec kTableInsertFailures =
    family("netmon_flow_table_insert_failures_total", "netmon_flow_table_insert_failures", C, Unit::none,
           "New flows the flow table did not take.");
constexpr FamilySpec kUntracked =
    family("netmon_flow_untracked_packets_total", "netmon_flow_untracked_packets", C, Unit::none,
           "Packets that are no flow (not IP, or a cut or impossible IP header).");
constexpr FamilySpec kFlowsEnded = family("netmon_flows_ended_total", "netmon_flows_ended", C, Unit::none,
                                          "Flows ended, by reason (idle, active_timeout, tcp_fin, tcp_rst).");
constexpr FamilySpec kTableEvicted = family("netmon_flow_table_evicted_total", "netmon_flow_table_evicted", C,
                                            Unit::none, "Flows the full flow table pushed out (LRU).");
constexpr FamilySpec kTableReadDuration =
    family("netmon_flow_table_read_duration_seconds", "netmon_flow_table_read_duration_seconds", G, Unit::seconds,
           "How long the last read of the flow table took.");

constexpr FamilySpec kTrackedPackets =
    family("netmon_flow_tracked_packets_total", "netmon_flow_tracked_packets", C, Unit::none,
           "Packets flow_top counted in a flow (or tried to), per interface and direction.");
constexpr FamilySpec kTrackedBytes =
    family("netmon_flow_tracked_bytes_total", "netmon_flow_tracked_bytes", C, Unit::bytes,
           "Bytes (from the Ethernet header on) of the packets flow_top counted, per interface and direction.");
constexpr FamilySpec kUnseenPackets =
    family("netmon_flow_evicted_unseen_packets_total", "netmon_flow_evicted_unseen_packets", C, Unit::none,
           "Packets of flows the full table evicted before a read saw them (in no flow record).");
constexpr FamilySpec kUnseenBytes =
    family("netmon_flow_evicted_unseen_bytes_total", "netmon_flow_evicted_unseen_bytes", C, Unit::bytes,
           "Bytes of the packets in netmon_flow_evicted_unseen_packets_total.");

constexpr FamilySpec kBuildInfo =
    family("netmon_build_info", "netmon_build", I, Unit::none, "The netmon host's version and plugin ABI version.");
constexpr FamilySpec kPluginsRunning =
    family("netmon_plugins_running", "netmon_plugins_running", G, Unit::none, "Plugins still collecting.");
constexpr FamilySpec kCollectDuration = family("netmon_collect_duration_seconds", "netmon_collect_duration_seconds", G,
                                               Unit::seconds, "Time the last collection of all plugins took.");
constexpr FamilySpec kPluginUp =
    family("netmon_plugin_up", "netmon_plugin_up", G, Unit::none, "1 if the plugin is collecting, 0 if it stopped.");
constexpr FamilySpec kPluginCollectDuration =
    family("netmon_plugin_collect_duration_seconds", "netmon_plugin_collect_duration_seconds", G, Unit::seconds,
           "Time the plugin's last collection took.");
constexpr FamilySpec kPluginCollectErrors = family("netmon_plugin_collect_errors_total", "netmon_plugin_collect_errors",
                                                   C, Unit::none, "Collections of the plugin that failed.");
constexpr FamilySpec kSinkDropped = family("netmon_sink_dropped_batches_total", "netmon_sink_dropped_batches", C,
                                           Unit::none, "Intervals the sink lost because it could not keep up.");
constexpr FamilySpec kSinkDelivered = family("netmon_sink_delivered_batches_total", "netmon_sink_delivered_batches", C,
                                             Unit::none, "Intervals the sink has written.");
constexpr FamilySpec kSinkLostEvents =
    family("netmon_sink_lost_events_total", "netmon_sink_lost_events", C, Unit::none,
           "Event records the sink lost because more than 65536 were queued for it.");

// ---- the rules --------------------------------------------------------------

enum class Action {
  value,   // the field's number, to `family` (divided by `divisor` when not 0)
  info,    // the field's string as label `extra_name`, value 1, to `family`
  ignore,  // not exported
};

struct FieldRule {
  std::string_view field;
  Action action = Action::ignore;
  const FamilySpec* family = nullptr;
  double divisor = 0;
  std::string_view extra_name = {};   // an added label ...
  std::string_view extra_value = {};  // ... with this value (Action::value)
};

struct MeasurementRule {
  std::string_view measurement;
  std::span<const std::string_view> drop_tags;
  std::span<const FieldRule> fields;
};

constexpr std::array<std::string_view, 1> kDropIfindex{"ifindex"sv};
constexpr std::array<std::string_view, 2> kDropIfindexRank{"ifindex"sv, "rank"sv};

constexpr FieldRule val(std::string_view f, const FamilySpec& fam, double divisor = 0) {
  return {f, Action::value, &fam, divisor};
}
constexpr FieldRule val_label(std::string_view f, const FamilySpec& fam, std::string_view k, std::string_view v) {
  return {f, Action::value, &fam, 0, k, v};
}
constexpr FieldRule info(std::string_view f, const FamilySpec& fam, std::string_view label) {
  return {f, Action::info, &fam, 0, label};
}
constexpr FieldRule ignore(std::string_view f) { return {f}; }

// packets and bytes of xdp_stats and tc_stats are the sums of their classes:
// exported once, by class, so that sum() does not count twice.
constexpr FieldRule kXdpStatsRules[] = {ignore("packets"), ignore("bytes"), val("malformed_packets", kXdpMalformed),
                                        info("mode", kXdpAttach, "mode")};
constexpr FieldRule kXdpClassRules[] = {val("packets", kXdpPackets), val("bytes", kXdpBytes)};
constexpr FieldRule kTcStatsRules[] = {ignore("packets"), ignore("bytes"), val("malformed_packets", kTcMalformed),
                                       info("attach", kTcAttach, "attach")};
constexpr FieldRule kTcClassRules[] = {val("packets", kTcPackets), val("bytes", kTcBytes)};
constexpr FieldRule kFlowTopRules[] = {
    val("packets", kFlowPackets), val("bytes", kFlowBytes),    ignore("packets_per_sec"),   ignore("bytes_per_sec"),
    ignore("bytes_per_sec_2s"),   ignore("bytes_per_sec_10s"), ignore("bytes_per_sec_40s"), ignore("first_seen"),
    ignore("last_seen"),          ignore("duration_s"),        ignore("tcp_flags"),         ignore("ip_proto")};
constexpr FieldRule kFlowOtherRules[] = {val("flows", kOtherFlows), val("packets", kOtherPackets),
                                         val("bytes", kOtherBytes), ignore("bytes_per_sec")};
constexpr FieldRule kFlowTableRules[] = {
    val("entries", kTableEntries),
    val("capacity", kTableCapacity),
    val("insert_failures", kTableInsertFailures),
    val("untracked_packets", kUntracked),
    val_label("ended_idle", kFlowsEnded, "reason", "idle"),
    val_label("ended_active_timeout", kFlowsEnded, "reason", "active_timeout"),
    val_label("ended_tcp_fin", kFlowsEnded, "reason", "tcp_fin"),
    val_label("ended_tcp_rst", kFlowsEnded, "reason", "tcp_rst"),
    val("evicted", kTableEvicted),
    ignore("evicted_unseen_packets"),  // flow_top_totals has them per interface and direction
    ignore("evicted_unseen_bytes"),
    ignore("read_method"),
    val("read_duration_us", kTableReadDuration, 1e6)};
// Where every packet is: the totals and the part no flow record holds; the
// other parts are in the JSON output (they are the flows' own series here).
constexpr FieldRule kFlowTotalsRules[] = {val("packets", kTrackedPackets),
                                          val("bytes", kTrackedBytes),
                                          val("evicted_unseen_packets", kUnseenPackets),
                                          val("evicted_unseen_bytes", kUnseenBytes),
                                          ignore("ip_bytes"),
                                          ignore("table_packets"),
                                          ignore("table_bytes"),
                                          ignore("ended_packets"),
                                          ignore("ended_bytes"),
                                          ignore("evicted_packets"),
                                          ignore("evicted_bytes"),
                                          ignore("unread_packets"),
                                          ignore("unread_bytes"),
                                          ignore("insert_failed_packets"),
                                          ignore("insert_failed_bytes")};
// version and abi make netmon_build_info (see Mapper::map).
constexpr FieldRule kHostRules[] = {val("plugins", kPluginsRunning), val("collect_duration_us", kCollectDuration, 1e6),
                                    ignore("version"), ignore("abi")};
constexpr FieldRule kHostPluginRules[] = {val("up", kPluginUp), val("collect_duration_us", kPluginCollectDuration, 1e6),
                                          val("collect_errors", kPluginCollectErrors)};
constexpr FieldRule kHostSinkRules[] = {val("dropped_batches", kSinkDropped), val("delivered_batches", kSinkDelivered),
                                        val("lost_events", kSinkLostEvents)};

constexpr MeasurementRule kRules[] = {
    {"xdp_stats", kDropIfindex, kXdpStatsRules},
    {"xdp_stats_class", kDropIfindex, kXdpClassRules},
    {"tc_stats", kDropIfindex, kTcStatsRules},
    {"tc_stats_class", kDropIfindex, kTcClassRules},
    {"flow_top", kDropIfindexRank, kFlowTopRules},
    {"flow_top_other", {}, kFlowOtherRules},
    {"flow_top_table", {}, kFlowTableRules},
    {"flow_top_totals", kDropIfindex, kFlowTotalsRules},
    {"netmon_host", {}, kHostRules},
    {"netmon_host_plugin", {}, kHostPluginRules},
    {"netmon_host_sink", {}, kHostSinkRules},
};

const MeasurementRule* rule_of(std::string_view measurement) {
  for (const auto& r : kRules)
    if (r.measurement == measurement) return &r;
  return nullptr;
}

const FieldRule* field_rule(const MeasurementRule& m, std::string_view key) {
  for (const auto& f : m.fields)
    if (f.field == key) return &f;
  return nullptr;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool is_counter_field(const Sample& s, std::string_view key) {
  const FieldValue* v = s.field(key);
  return v && std::holds_alternative<Counter>(*v);
}

// X_per_sec next to a counter X: the host's rate, left to rate().
bool host_rate(const Sample& s, std::string_view key) {
  constexpr std::string_view kSuffix = "_per_sec";
  return ends_with(key, kSuffix) && is_counter_field(s, key.substr(0, key.size() - kSuffix.size()));
}

// A field's number, or nullopt for strings. Booleans are 0 or 1.
std::optional<Number> number_of(const FieldValue& v, double divisor) {
  std::optional<Number> n;
  std::visit(
      [&n](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Counter>) n = Number::of_u64(x.value);
        else if constexpr (std::is_same_v<T, std::uint64_t>) n = Number::of_u64(x);
        else if constexpr (std::is_same_v<T, std::int64_t>) n = Number::of_i64(x);
        else if constexpr (std::is_same_v<T, double>) n = Number::of_f64(x);
        else if constexpr (std::is_same_v<T, bool>) n = Number::of_u64(x ? 1 : 0);
      },
      v);
  if (n && divisor != 0) {
    double d = n->kind == Number::Kind::u64   ? static_cast<double>(n->u)
               : n->kind == Number::Kind::i64 ? static_cast<double>(n->i)
                                              : n->d;
    n = Number::of_f64(d / divisor);
  }
  return n;
}

bool valid_label_name(std::string_view s) {
  if (s.empty() || (s.size() >= 2 && s[0] == '_' && s[1] == '_')) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (!alpha && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

}  // namespace

std::string sanitize_metric_name(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    if (!ok) c = '_';
  }
  if (out.empty()) out = "_";
  return out;
}

std::string sanitize_label_name(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 1);
  for (const char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  if (out.empty() || (out[0] >= '0' && out[0] <= '9')) out.insert(out.begin(), '_');
  std::size_t underscores = 0;
  while (underscores < out.size() && out[underscores] == '_') ++underscores;
  if (underscores > 1) out.erase(0, underscores - 1);
  // "_" alone is valid; "__x" became "_x".
  return out;
}

void Mapper::map(const Sample& s, SeriesSink& out) {
  // Events are not series (a flow that ended: its counts are in
  // netmon_flows_ended_total), whichever plugin publishes them.
  if (s.is_event()) return;
  const MeasurementRule* rule = rule_of(s.measurement);

  // The sample's labels: its tags but the dropped ones, names made valid.
  labels_.clear();
  arena_names_.clear();
  arena_names_.reserve(s.tags.size());  // no reallocation: labels_ point into it
  for (const auto& t : s.tags) {
    bool dropped = false;
    if (rule)
      for (const auto d : rule->drop_tags) dropped = dropped || t.key == d;
    if (dropped) continue;
    if (valid_label_name(t.key)) {
      labels_.push_back({t.key, t.value});
    } else {
      arena_names_.push_back(sanitize_label_name(t.key));
      labels_.push_back({arena_names_.back(), t.value});
    }
  }
  const std::size_t n_labels = labels_.size();
  std::vector<Label> labels;
  labels.reserve(n_labels + 2);
  auto fresh = [&]() -> std::vector<Label>& {
    labels.assign(labels_.begin(), labels_.begin() + static_cast<std::ptrdiff_t>(n_labels));
    return labels;
  };

  for (const auto& f : s.fields) {
    if (host_rate(s, f.key)) continue;
    const FieldRule* fr = rule ? field_rule(*rule, f.key) : nullptr;
    if (!fr) {
      map_generic_field(s, f, labels_, out);
      continue;
    }
    switch (fr->action) {
      case Action::ignore: break;
      case Action::value: {
        const auto n = number_of(f.value, fr->divisor);
        if (!n) break;
        auto& l = fresh();
        if (!fr->extra_name.empty()) l.push_back({fr->extra_name, fr->extra_value});
        out.series(*fr->family, l, *n);
        break;
      }
      case Action::info: {
        const auto* text = std::get_if<std::string>(&f.value);
        if (!text) break;
        auto& l = fresh();
        l.push_back({fr->extra_name, *text});
        out.series(*fr->family, l, Number::of_u64(1));
        break;
      }
    }
  }

  if (s.measurement == "netmon_host") {
    const auto* version = s.field("version");
    if (const auto* v = version ? std::get_if<std::string>(version) : nullptr) {
      const auto* abi = s.field("abi");
      const auto* a = abi ? std::get_if<std::string>(abi) : nullptr;
      auto& l = fresh();
      l.push_back({"version", *v});
      l.push_back({"abi", a ? std::string_view(*a) : std::string_view()});
      out.series(kBuildInfo, l, Number::of_u64(1));
    }
  }
}

// The generic rule: netmon_<measurement>_<field>, counters with _total,
// µs/ms/ns in seconds, strings not exported.
void Mapper::map_generic_field(const Sample& s, const Field& f, const std::vector<Label>& labels, SeriesSink& out) {
  if (std::holds_alternative<std::string>(f.value)) return;
  const bool counter = std::holds_alternative<Counter>(f.value);

  std::string_view key = f.key;
  double divisor = 0;
  static constexpr std::pair<std::string_view, double> kTimeUnits[] = {{"_us", 1e6}, {"_ms", 1e3}, {"_ns", 1e9}};
  for (const auto& [suffix, div] : kTimeUnits)
    if (ends_with(key, suffix) && key.size() > suffix.size()) {
      key.remove_suffix(suffix.size());
      divisor = div;
      break;
    }
  if (counter && ends_with(key, "_total") && key.size() > 6) key.remove_suffix(6);

  const std::string m = sanitize_metric_name(s.measurement);
  base_.clear();
  if (m.rfind("netmon_", 0) != 0) base_ = "netmon_";
  base_ += m;
  base_ += '_';
  base_ += sanitize_metric_name(key);
  if (divisor != 0) base_ += "_seconds";
  name_ = base_;
  if (counter) name_ += "_total";

  Unit unit = Unit::none;
  if (ends_with(base_, "_bytes")) unit = Unit::bytes;
  else if (ends_with(base_, "_seconds")) unit = Unit::seconds;

  help_.clear();
  help_ += "Field ";
  help_ += f.key;
  help_ += " of measurement ";
  help_ += s.measurement;
  help_ += counter ? " (counter" : " (gauge";
  if (divisor != 0) help_ += ", converted to seconds";
  help_ += ").";

  const auto n = number_of(f.value, divisor);
  if (!n) return;
  std::vector<Label> l(labels);
  out.series(FamilySpec{name_, base_, counter ? MetricType::counter : MetricType::gauge, unit, help_}, l, *n);
}

}  // namespace netmon::prometheus
