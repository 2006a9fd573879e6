// SPDX-License-Identifier: MIT
// drops: packets the kernel frees as dropped (tp_btf/kfree_skb), per network
// namespace, interface, drop reason and L3/L4 class. Host-wide: it attaches
// to no interface. Reason names come from the running kernel's BTF (enum
// skb_drop_reason), so reasons a newer kernel adds appear by name.
#include <netmon/bpf.hpp>
#include <netmon/classes.hpp>
#include <netmon/plugin.hpp>
#include <netmon/tracing.hpp>

#include <bpf/bpf.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "drops.h"
#include "drops_bpf.skel.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace {

using netmon::bpf::Skeleton;

constexpr netmon::option::String kIgnore{
    .key = "ignore",
    .values = "REASON,...",
    .def = "NOT_SPECIFIED",
    .help = "drop reasons counted in drops_total only (names of enum skb_drop_reason, without SKB_DROP_REASON_)"};
constexpr netmon::option::Integer kTop{
    .key = "top", .min = 0, .max = 1000, .def = 0, .help = "publish the N reasons with most drops (0: all)"};
constexpr netmon::option::Integer kEntries{
    .key = "max_entries",
    .min = 64,
    .max = 1 << 20,
    .def = DROPS_DEFAULT_ENTRIES,
    .help = "(netns, interface, reason, class) keys kept; more are counted lost"};
constexpr netmon::OptionList kOptions{kIgnore, kTop, kEntries};

constexpr const char* kReasonEnum = "skb_drop_reason";
constexpr const char* kReasonPrefix = "SKB_DROP_REASON_";

// The cookie of this process's network namespace: devices of other
// namespaces have indexes that mean nothing here.
std::uint64_t own_netns_cookie() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  std::uint64_t cookie = 0;
  socklen_t len = sizeof cookie;
  if (::getsockopt(fd, SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len) != 0) cookie = 0;
  ::close(fd);
  return cookie;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

void add(drops_value& sum, const drops_value& v) {
  sum.packets += v.packets;
  sum.bytes += v.bytes;
}

class Drops final : public netmon::Plugin {
 public:
  void configure(const nlohmann::json& options) override {
    netmon::Options opts(options, plugin_name(), kOptions);
    const std::string ignore = opts.get(kIgnore);
    top_ = static_cast<std::size_t>(opts.get(kTop));
    entries_ = static_cast<std::uint32_t>(opts.get(kEntries));
    opts.finish();
    names_ = netmon::bpf::kernel_enum(kReasonEnum, kReasonPrefix);
    std::map<std::string, std::int64_t> by_name;
    for (const auto& [value, name] : names_) by_name.emplace(name, value);
    ignored_.clear();
    std::istringstream names(ignore);
    for (std::string name; std::getline(names, name, ',');) {
      name = upper(name);
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
      if (name.starts_with(kReasonPrefix)) name.erase(0, std::string_view(kReasonPrefix).size());
      if (name.empty()) continue;
      const auto it = by_name.find(name);
      if (it == by_name.end())
        throw netmon::UsageError(plugin_name() + ".ignore: the running kernel has no drop reason " + name +
                                 ": name reasons of its enum skb_drop_reason without SKB_DROP_REASON_ (bpftool btf "
                                 "dump file /sys/kernel/btf/vmlinux | grep SKB_DROP_REASON_ lists them)");
      ignored_.insert(static_cast<std::uint32_t>(it->second));
    }
    if (ignored_.size() > DROPS_MAX_IGNORED)
      throw netmon::UsageError(plugin_name() + ".ignore: at most " + std::to_string(DROPS_MAX_IGNORED) + " reasons");
  }

  void start(const netmon::StartContext& ctx) override {
    log_ = ctx.log;
    own_netns_ = own_netns_cookie();
    skel_.emplace(Skeleton<drops_bpf>::open_and_load("drops", [this](drops_bpf& s) {
      if (const int err = bpf_map__set_max_entries(s.maps.drops, entries_))
        throw netmon::Error(netmon::errno_message("drops: cannot size the drops map", -err));
    }));
    for (const std::uint32_t r : ignored_) {
      const std::uint8_t one = 1;
      const int fd = bpf_map__fd(r < DROPS_CORE_REASONS ? (*skel_)->maps.ignored_core : (*skel_)->maps.ignored_reasons);
      if (bpf_map_update_elem(fd, &r, &one, BPF_ANY) != 0) {
        const int err = errno;
        throw netmon::Error(netmon::errno_message("drops: cannot set the ignored reasons", err));
      }
    }
    links_.add(netmon::bpf::attach_program((*skel_)->progs.drops_kfree_skb, "drops"));
    std::string ignored;
    for (const std::uint32_t r : ignored_) ignored += (ignored.empty() ? "" : ", ") + reason_name(r);
    ctx.log.info("attached to tp_btf/kfree_skb, host-wide (" + std::to_string(names_.size()) +
                 " drop reasons known to this kernel" + (ignored.empty() ? "" : "; ignoring " + ignored) + ")");
  }

  void collect(std::int64_t, netmon::Emitter& out) override {
    const int fd = bpf_map__fd((*skel_)->maps.drops);
    // Every key, summed over the CPUs. Keys are never deleted: a snapshot of
    // cumulative counters.
    std::map<std::uint32_t, drops_value> by_reason;
    std::vector<std::pair<drops_key, drops_value>> keys;
    drops_value counted{}, other{};
    drops_key cur{}, next{};
    for (bool have = false;; have = true, cur = next) {
      if (bpf_map_get_next_key(fd, have ? &cur : nullptr, &next) != 0) {
        const int err = errno;
        if (err == ENOENT) break;
        throw netmon::Error(netmon::errno_message("drops: cannot read the drops map", err));
      }
      const auto s = netmon::bpf::percpu_sum<drops_value>(fd, next);
      add(by_reason[next.reason], s);
      add(counted, s);
      keys.emplace_back(next, s);
    }

    // The reasons published: all, or the top N by packets (ties by value).
    std::vector<std::pair<std::uint32_t, drops_value>> ranked(by_reason.begin(), by_reason.end());
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.second.packets > b.second.packets; });
    if (top_ && ranked.size() > top_) ranked.resize(top_);
    std::set<std::uint32_t> shown;
    for (const auto& [reason, s] : ranked) {
      shown.insert(reason);
      out.publish(netmon::Sample("drops_reason")
                      .tag("reason", reason_name(reason))
                      .counter("packets", s.packets)
                      .counter("bytes", s.bytes));
    }
    for (const auto& [key, s] : keys) {
      if (!shown.contains(key.reason)) {
        add(other, s);
        continue;
      }
      netmon::Sample sample("drops");
      sample.tag("reason", reason_name(key.reason))
          .tag("netns", std::to_string(key.netns))
          .tag("ifindex", std::to_string(key.ifindex));
      if (const std::string name = ifname(key); !name.empty()) sample.tag("ifname", name);
      sample.tag("l3", netmon::l3_name(key.l3)).tag("l4", netmon::l4_name(key.l4));
      out.publish(sample.counter("packets", s.packets).counter("bytes", s.bytes));
    }

    const int totals = bpf_map__fd((*skel_)->maps.totals);
    const auto ignored = netmon::bpf::percpu_sum<drops_value>(totals, std::uint32_t{DROPS_IGNORED});
    const auto lost = netmon::bpf::percpu_sum<drops_value>(totals, std::uint32_t{DROPS_LOST});
    if (lost.packets > lost_said_) {
      log_.warn("the drops map is full (" + std::to_string(entries_) +
                " keys): " + std::to_string(lost.packets - lost_said_) +
                " drops of new keys are counted in drops_total.lost_packets only; raise drops.max_entries");
      lost_said_ = lost.packets;
    }
    out.publish(netmon::Sample("drops_total")
                    .counter("packets", counted.packets + ignored.packets + lost.packets)
                    .counter("bytes", counted.bytes + ignored.bytes + lost.bytes)
                    .counter("other_packets", other.packets)
                    .counter("other_bytes", other.bytes)
                    .counter("ignored_packets", ignored.packets)
                    .counter("ignored_bytes", ignored.bytes)
                    .counter("lost_packets", lost.packets)
                    .counter("lost_bytes", lost.bytes)
                    .gauge("entries", keys.size())
                    .gauge("max_entries", entries_));
  }

  // The link first, then the program and maps.
  void stop() noexcept override {
    links_.clear();
    skel_.reset();
  }

 private:
  [[nodiscard]] std::string reason_name(std::uint32_t reason) const {
    const auto it = names_.find(reason);
    return it == names_.end() ? "reason_" + std::to_string(reason) : it->second;
  }

  // The interface's name, when it is in this process's namespace and still there.
  [[nodiscard]] std::string ifname(const drops_key& key) const {
    if (!key.ifindex || !own_netns_ || key.netns != own_netns_) return {};
    char buf[IF_NAMESIZE] = {};
    return ::if_indextoname(key.ifindex, buf) ? std::string(buf) : std::string();
  }

  std::size_t top_ = 0;
  std::uint32_t entries_ = DROPS_DEFAULT_ENTRIES;
  std::map<std::int64_t, std::string> names_;
  std::set<std::uint32_t> ignored_;
  std::uint64_t own_netns_ = 0;
  std::uint64_t lost_said_ = 0;
  netmon::Logger log_;
  std::optional<Skeleton<drops_bpf>> skel_;
  netmon::bpf::Links links_;  // declared after skel_: detached before the program is freed
};

constexpr netmon::Attaches kAttaches{NETMON_ATTACH_RAW_TRACEPOINT, NETMON_NEEDS_KERNEL_BTF, "tp_btf/kfree_skb"};

}  // namespace

NETMON_PLUGIN_ATTACHING(Drops, "drops", "0.1.0",
                        "Packets the kernel drops, per network namespace, interface, drop reason (named by the "
                        "running kernel) and L3/L4 class; host-wide",
                        kOptions, kAttaches)
