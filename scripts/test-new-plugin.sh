#!/usr/bin/env bash
# Adding a plugin is adding a folder. This makes a plugin with
# netmon-new-plugin, copies it into plugins/, and checks, with no edit
# anywhere else:
#   - the build picks it up (cmake, then the build of BUILD_DIR, default build/);
#   - its test is part of the suite and passes (ctest);
#   - the tree's rules hold for it (test_tree);
#   - netmon-host loads it without --plugins, and it counts the datagrams
#     sent across a veth pair this script creates.
# On exit the folder, its library and the veth pair are removed and the build
# is brought back to the tree as it was. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
name=newplug_check
dir=plugins/$name
ns=nmnewplug$$
a=nmnp$$a
sent=200
say() { echo "test-new-plugin.sh: $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
[ -f "$build/CMakeCache.txt" ] || fail "no build in $build (run scripts/build.sh first)"
[ ! -e "$dir" ] || fail "$dir exists already; remove it first"

cleanup() {
  ip link del "$a" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$dir"
  rm -f "$build/lib/netmon/plugins/libnetmon_$name.so"
  cmake -S . -B "$build" >/dev/null && cmake --build "$build" >/dev/null || say "could not rebuild $build as it was"
}
trap cleanup EXIT

say "making $dir with netmon-new-plugin"
framework/sdk/netmon-new-plugin "$name" "$dir"

say "building $build with $dir in the tree"
cmake -S . -B "$build" | grep -F "default plugins" >&2
cmake --build "$build"

say "its test, in the suite"
listed=$(ctest --test-dir "$build" -N -R "^$name\\." | sed -n 's/^Total Tests: //p')
[ "${listed:-0}" -gt 0 ] || fail "ctest lists no test of $name"
ctest --test-dir "$build" -R "^$name\\." --output-on-failure

say "the tree's rules"
"$build/bin/test_tree" --gtest_brief=1

say "netmon-host without --plugins, on a veth pair"
ip netns add "$ns"
ip link add "$a" type veth peer name eth0 netns "$ns"
ip addr add 10.251.0.1/24 dev "$a"
ip link set "$a" up
ip -n "$ns" addr add 10.251.0.2/24 dev eth0
ip -n "$ns" link set eth0 up
ip -n "$ns" link set lo up
out=$(mktemp)
ready=$(mktemp -u)
"$build/bin/netmon-host" --iface "$a" --sink json --interval 500ms --count 6 --ready-file "$ready" >"$out" &
host=$!
for _ in $(seq 100); do [ -e "$ready" ] || ! kill -0 "$host" 2>/dev/null && break; sleep 0.05; done
[ -e "$ready" ] || fail "netmon-host did not attach within 5 s"
"$build/bin/netmon-traffic" --dst 10.251.0.2 --port 9000 --count "$sent" --size 32 >/dev/null
status=0
wait "$host" || status=$?
[ "$status" -eq 0 ] || fail "netmon-host exited with $status"
egress=$(jq -r --arg m "$name" --arg i "$a" \
  'select(.measurement == $m and .tags.ifname == $i and .tags.direction == "egress") | .fields.packets' "$out" | tail -n 1)
plugins=$(jq -r 'select(.measurement == "netmon_host_plugin") | .tags.plugin' "$out" | sort -u | paste -sd, -)
rm -f "$out"
say "plugins loaded by default: $plugins"
[ -n "$egress" ] || fail "netmon-host did not load $name by default (no $name sample)"
# The datagrams, plus the ARP request that precedes them.
[ "$egress" -ge "$sent" ] || fail "$name counted $egress egress packets, fewer than the $sent datagrams sent"
say "$name loaded by default and counted $egress egress packets ($sent datagrams sent, and ARP)"
say "a new plugin folder works with no edit outside it"
