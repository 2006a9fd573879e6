// SPDX-License-Identifier: MIT
// The ABI's layout, pinned version by version. Structures that cross the
// boundary only grow at the end: a member's offset, once released, never
// changes. A change here without a version bump in plugin_abi.h (and a new
// row below) is exactly what this test exists to catch.
#include <netmon/plugin_abi.h>

#include <gtest/gtest.h>

#include <cstddef>

namespace {

// Offsets and sizes on an LP64 target (x86_64, aarch64).
static_assert(sizeof(void*) == 8, "the pinned layout is for LP64 targets");

TEST(AbiLayout, VersionIsTheOneThisTableDescribes) {
  // Bumping the version means adding its members to the tables below.
  EXPECT_EQ(NETMON_ABI_MAJOR, 1);
  EXPECT_EQ(NETMON_ABI_MINOR, 3);
}

TEST(AbiLayout, PluginDescriptor) {
  // ABI 1.0
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, struct_size), 0u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, abi_major), 4u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, abi_minor), 6u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, name), 8u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, version), 16u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, description), 24u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, create), 32u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, configure), 40u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, start), 48u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, collect), 56u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, stop), 64u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, destroy), 72u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, last_error), 80u);
  EXPECT_EQ(NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE, 88u);  // the 1.0 descriptor: forever accepted
  // ABI 1.1
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, options_help), 88u);
  // ABI 1.3
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, attach), 96u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, needs), 100u);
  EXPECT_EQ(offsetof(netmon_plugin_descriptor, attach_targets), 104u);
  EXPECT_EQ(sizeof(netmon_plugin_descriptor), 112u);
}

TEST(AbiLayout, SinkDescriptor) {
  // ABI 1.0
  EXPECT_EQ(offsetof(netmon_sink_descriptor, struct_size), 0u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, name), 8u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, create), 32u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, open), 40u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, write), 48u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, close), 56u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, destroy), 64u);
  EXPECT_EQ(offsetof(netmon_sink_descriptor, last_error), 72u);
  EXPECT_EQ(NETMON_SINK_DESCRIPTOR_MIN_SIZE, 80u);
  // ABI 1.1
  EXPECT_EQ(offsetof(netmon_sink_descriptor, options_help), 80u);
  EXPECT_EQ(sizeof(netmon_sink_descriptor), 88u);
}

TEST(AbiLayout, DataPassedToLibraries) {
  // ABI 1.0
  EXPECT_EQ(sizeof(netmon_tag), 16u);
  EXPECT_EQ(offsetof(netmon_field, key), 0u);
  EXPECT_EQ(offsetof(netmon_field, type), 8u);
  EXPECT_EQ(offsetof(netmon_field, value), 16u);
  EXPECT_EQ(sizeof(netmon_field), 24u);
  EXPECT_EQ(offsetof(netmon_sample, struct_size), 0u);
  EXPECT_EQ(offsetof(netmon_sample, n_tags), 4u);
  EXPECT_EQ(offsetof(netmon_sample, measurement), 8u);
  EXPECT_EQ(offsetof(netmon_sample, timestamp_ns), 16u);
  EXPECT_EQ(offsetof(netmon_sample, tags), 24u);
  EXPECT_EQ(offsetof(netmon_sample, fields), 32u);
  EXPECT_EQ(offsetof(netmon_sample, n_fields), 40u);
  EXPECT_EQ(NETMON_SAMPLE_SIZE_1_0, 48u);  // the 1.0 and 1.1 sample: forever accepted
  // ABI 1.2
  EXPECT_EQ(offsetof(netmon_sample, kind), 48u);
  EXPECT_EQ(offsetof(netmon_sample, reserved2), 52u);
  EXPECT_EQ(sizeof(netmon_sample), 56u);
  EXPECT_EQ(offsetof(netmon_interface, ifindex), 0u);
  EXPECT_EQ(offsetof(netmon_interface, name), 8u);
  EXPECT_EQ(offsetof(netmon_start_context, n_interfaces), 4u);
  EXPECT_EQ(offsetof(netmon_start_context, interfaces), 8u);
  EXPECT_EQ(offsetof(netmon_start_context, interval_ns), 16u);
  EXPECT_EQ(offsetof(netmon_start_context, log), 24u);
  EXPECT_EQ(offsetof(netmon_start_context, host_ctx), 32u);
  // ABI 1.3
  EXPECT_EQ(offsetof(netmon_start_context, scope), 40u);
  EXPECT_EQ(offsetof(netmon_start_context, reserved2), 44u);
  EXPECT_EQ(sizeof(netmon_start_context), 48u);
  EXPECT_EQ(offsetof(netmon_emitter, host_ctx), 8u);
  EXPECT_EQ(offsetof(netmon_emitter, publish), 16u);
  EXPECT_EQ(offsetof(netmon_batch, n_samples), 4u);
  EXPECT_EQ(offsetof(netmon_batch, timestamp_ns), 8u);
  EXPECT_EQ(offsetof(netmon_batch, interval_ns), 16u);
  EXPECT_EQ(offsetof(netmon_batch, sequence), 24u);
  EXPECT_EQ(offsetof(netmon_batch, samples), 32u);
  EXPECT_EQ(offsetof(netmon_sink_context, target), 8u);
  EXPECT_EQ(offsetof(netmon_sink_context, interval_ns), 16u);
  EXPECT_EQ(offsetof(netmon_sink_context, log), 24u);
  EXPECT_EQ(offsetof(netmon_sink_context, host_ctx), 32u);
  EXPECT_EQ(offsetof(netmon_sink_context, options_json), 40u);
  EXPECT_EQ(sizeof(netmon_sink_context), 48u);
  // The enumerations' values are part of the ABI too.
  EXPECT_EQ(NETMON_OK, 0);
  EXPECT_EQ(NETMON_ERROR, -1);
  EXPECT_EQ(NETMON_CLOSED, 1);
  EXPECT_EQ(NETMON_FIELD_COUNTER, 1);
  EXPECT_EQ(NETMON_FIELD_STRING, 6);
  EXPECT_EQ(NETMON_LOG_DEBUG, 1);
  EXPECT_EQ(NETMON_LOG_ERROR, 4);
  EXPECT_EQ(NETMON_SAMPLE_SNAPSHOT, 0);
  EXPECT_EQ(NETMON_SAMPLE_EVENT, 1);
  EXPECT_EQ(NETMON_EVENT_QUEUE_BOUND, 65536);
  EXPECT_EQ(NETMON_SCOPE_INTERFACES, 0);
  EXPECT_EQ(NETMON_SCOPE_HOST, 1);
  EXPECT_EQ(NETMON_ATTACH_XDP, 1u << 0);
  EXPECT_EQ(NETMON_ATTACH_TC, 1u << 1);
  EXPECT_EQ(NETMON_ATTACH_TRACEPOINT, 1u << 2);
  EXPECT_EQ(NETMON_ATTACH_RAW_TRACEPOINT, 1u << 3);
  EXPECT_EQ(NETMON_ATTACH_FENTRY, 1u << 4);
  EXPECT_EQ(NETMON_ATTACH_KPROBE, 1u << 5);
  EXPECT_EQ(NETMON_NEEDS_KERNEL_BTF, 1u << 0);
}

// NETMON_HAS_MEMBER reads struct_size as the host does: an ABI 1.0
// descriptor ends at last_error and has no options_help.
TEST(AbiLayout, HasMemberFollowsTheStructSize) {
  netmon_plugin_descriptor d{};
  d.struct_size = static_cast<std::uint32_t>(NETMON_PLUGIN_DESCRIPTOR_MIN_SIZE);
  EXPECT_TRUE(NETMON_HAS_MEMBER(netmon_plugin_descriptor, &d, last_error));
  EXPECT_FALSE(NETMON_HAS_MEMBER(netmon_plugin_descriptor, &d, options_help));
  d.struct_size = sizeof d;
  EXPECT_TRUE(NETMON_HAS_MEMBER(netmon_plugin_descriptor, &d, options_help));
  netmon_sample s{};
  s.struct_size = static_cast<std::uint32_t>(offsetof(netmon_sample, n_fields));
  EXPECT_FALSE(NETMON_HAS_MEMBER(netmon_sample, &s, n_fields));
  s.struct_size += sizeof s.n_fields;
  EXPECT_TRUE(NETMON_HAS_MEMBER(netmon_sample, &s, n_fields));
  s.struct_size = static_cast<std::uint32_t>(NETMON_SAMPLE_SIZE_1_0);
  EXPECT_FALSE(NETMON_HAS_MEMBER(netmon_sample, &s, kind));
  s.struct_size = sizeof s;
  EXPECT_TRUE(NETMON_HAS_MEMBER(netmon_sample, &s, kind));
}

}  // namespace
