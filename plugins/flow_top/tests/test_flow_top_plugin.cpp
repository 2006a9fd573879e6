// SPDX-License-Identifier: MIT
// The flow_top plugin in-process on a veth pair: real UDP flows from the
// namespace appear with their exact counts, top N plus the remainder is the
// table, a flow idle past the timeout ends once (flow_top_end), and stop() leaves
// nothing attached.
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <net/if.h>

#include <chrono>
#include <map>
#include <thread>

#include "plugin_util.hpp"
#include "support/host.hpp"
#include "support/netns.hpp"
#include "support/root.hpp"
#include "support/traffic.hpp"

namespace {

using namespace std::chrono_literals;
using netmon::Sample;

std::vector<Sample> collect(netmon::host::PluginInstance& p) {
  std::vector<Sample> out;
  const auto now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  p.collect(now, [&out](Sample&& s) { out.push_back(std::move(s)); });
  return out;
}

std::string tag(const Sample& s, const char* k) {
  const auto* v = s.tag_value(k);
  return v ? *v : "";
}

std::vector<const Sample*> named(const std::vector<Sample>& samples, const std::string& m) {
  std::vector<const Sample*> out;
  for (const auto& s : samples)
    if (s.measurement == m) out.push_back(&s);
  return out;
}

TEST(FlowTopPlugin, RealFlowsOnAVethPairWithExactCounts) {
  NETMON_REQUIRE_ROOT();
  netmon::test::VethPair v;
  auto p = netmon::flow_top::test::flow_top_plugin();
  p->configure(R"({"top": 2, "idle_timeout": "1s", "finished": true})");
  const std::string ifname = v.host_if();
  const netmon_interface iface{if_nametoindex(ifname.c_str()), 0, ifname.c_str()};
  const netmon_start_context ctx{sizeof(netmon_start_context), 1, &iface, 1'000'000'000, nullptr, nullptr,
                                 NETMON_SCOPE_INTERFACES,      0};
  p->start(ctx);
  EXPECT_EQ(netmon::test::tc_filters(ifname, "ingress").size() + netmon::test::tc_filters(ifname, "egress").size(), 0u)
      << "expected tcx links, not netlink filters";

  // 3 flows of 200 datagrams (source ports 40000..40002) to port 9000.
  constexpr std::uint64_t kPayload = 80, kFrame = 14 + 20 + 8 + kPayload;
  netmon::test::send_udp(v, 600, kPayload, 3, 9000, 40000);
  const auto samples = collect(*p);

  const auto top = named(samples, "flow_top");
  const auto other = named(samples, "flow_top_other");
  const auto table = named(samples, "flow_top_table");
  ASSERT_EQ(other.size(), 1u);
  ASSERT_EQ(table.size(), 1u);
  ASSERT_EQ(top.size(), 2u);  // top=2 of at least the 3 UDP flows
  EXPECT_EQ(tag(*top[0], "rank"), "1");
  EXPECT_EQ(tag(*top[1], "rank"), "2");
  EXPECT_EQ(top.size() + other[0]->u64("flows").value(), table[0]->u64("entries").value());
  EXPECT_EQ(tag(*table[0], "read_method").empty(), true);  // read_method is a field, not a tag
  EXPECT_EQ(netmon::field_text(*table[0]->field("read_method")), "batch");

  // Every UDP flow, in the top or the remainder: 200 packets each. The top
  // ones are checked directly; the rest through the remainder's totals.
  std::uint64_t udp_in_top = 0, top_packets = 0;
  for (const Sample* s : top) {
    top_packets += s->u64("packets").value();
    if (tag(*s, "proto") != "udp" || tag(*s, "direction") != "ingress") continue;
    ++udp_in_top;
    EXPECT_EQ(tag(*s, "ifname"), ifname);
    EXPECT_EQ(tag(*s, "src"), v.peer_ip());
    EXPECT_EQ(tag(*s, "dst"), v.host_ip());
    EXPECT_EQ(tag(*s, "dport"), "9000");
    EXPECT_EQ(s->u64("packets"), 200u);
    EXPECT_EQ(s->u64("bytes"), 200u * kFrame);
  }
  EXPECT_EQ(udp_in_top, 2u);  // the two largest flows are UDP (ICMP errors and ARP are fewer)

  // Idle for more than 1 s: every flow ends, once, with its exact counts.
  std::this_thread::sleep_for(1200ms);
  const auto later = collect(*p);
  std::uint64_t udp_ended = 0;
  std::map<std::string, std::uint64_t> ended_packets, ended_bytes;  // by direction
  for (const Sample* s : named(later, "flow_top_end")) {
    EXPECT_EQ(tag(*s, "reason"), "idle");
    ended_packets[tag(*s, "direction")] += s->u64("packets").value();
    ended_bytes[tag(*s, "direction")] += s->u64("bytes").value();
    if (tag(*s, "proto") == "udp" && tag(*s, "direction") == "ingress") {
      ++udp_ended;
      EXPECT_EQ(s->u64("packets"), 200u);
      EXPECT_EQ(s->u64("ip_bytes"), 200u * (kFrame - 14));  // IPFIX's octets: no Ethernet header
      EXPECT_EQ(s->u64("tcp_control_bits"), 0u);
      EXPECT_LE(s->u64("first_seen_ms").value(), s->u64("last_seen_ms").value());
    }
  }
  EXPECT_EQ(udp_ended, 3u);
  // Every packet accounted for: per direction, the totals are the parts,
  // and with every flow ended (nothing evicted) they are the ended flows.
  const auto totals = named(later, "flow_top_totals");
  ASSERT_EQ(totals.size(), 2u);
  for (const Sample* t : totals) {
    const std::string dir = tag(*t, "direction");
    SCOPED_TRACE(dir);
    EXPECT_EQ(tag(*t, "ifname"), ifname);
    const auto part = [t](const char* k) { return t->u64(k).value(); };
    EXPECT_EQ(part("packets"), part("table_packets") + part("ended_packets") + part("evicted_packets") +
                                   part("evicted_unseen_packets") + part("unread_packets") +
                                   part("insert_failed_packets"));
    EXPECT_EQ(part("table_packets"), 0u);
    EXPECT_EQ(part("evicted_unseen_packets"), 0u);
    EXPECT_EQ(part("unread_packets"), 0u);
    EXPECT_EQ(part("ended_packets"), ended_packets[dir]);
    EXPECT_EQ(part("packets"), ended_packets[dir]);
    EXPECT_EQ(part("bytes"), ended_bytes[dir]);
  }
  EXPECT_EQ(named(later, "flow_top_table")[0]->u64("evicted_unseen_packets"), 0u);
  const auto again = collect(*p);
  EXPECT_TRUE(named(again, "flow_top_end").empty()) << "a flow ended twice";
  EXPECT_EQ(named(again, "flow_top_table")[0]->u64("entries"), 0u);

  p->stop();
  p.reset();
  EXPECT_TRUE(netmon::test::wait_no_programs_named("flow_top_ingres"));
  EXPECT_TRUE(netmon::test::wait_no_programs_named("flow_top_egress"));
}

}  // namespace
