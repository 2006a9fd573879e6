#!/usr/bin/env bash
# The demo that scripts/run.sh runs once netmon is built (needs root):
#   scripts/demo.sh                    a veth pair in a network namespace with
#                                      generated UDP and TCP traffic for 10 s,
#                                      watched by netmon-host until it ends
#   scripts/demo.sh --sink json ...    the same, with these netmon-host options
#   scripts/demo.sh --iface eth0 ...   netmon-host itself on that interface
# NETMON_BIN_DIR names the directory of netmon-host and netmon-traffic
# (default build/bin). Everything the demo creates is removed on exit, also
# on Ctrl+C.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${NETMON_BIN_DIR:-build/bin}
host=$bin/netmon-host
traffic=$bin/netmon-traffic

# An interface named, or an option that does not monitor: netmon-host itself.
# Otherwise the demo: netmon-host runs until the traffic has ended and one
# more interval has passed (so the last block holds the final totals),
# unless --duration or --count says otherwise.
until_traffic_ends=1
for arg in "$@"; do
  case "$arg" in
    -i | -i?* | --iface | --iface=* | -h | --help | -V | --version | --list-plugins) exec "$host" "$@" ;;
    --duration | --duration=* | --count | --count=*) until_traffic_ends=0 ;;
  esac
done

ns=netmon-demo
a=nmdemo0
b=nmdemo1
cleanup() {
  for pid in ${traffic_pids:-} ${host_pid:-}; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip link del "$a" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  [ -z "${ready_dir:-}" ] || rm -rf "$ready_dir"
}
trap cleanup EXIT
cleanup
ip netns add "$ns"
ip link add "$a" type veth peer name "$b" netns "$ns"
ip addr add 10.250.0.1/24 dev "$a"
ip link set "$a" up
ip -n "$ns" addr add 10.250.0.2/24 dev "$b"
ip -n "$ns" link set "$b" up
ip -n "$ns" link set lo up

# netmon-host first: the traffic starts once every plugin is attached (it
# writes --ready-file then; loading and verifying the programs takes a
# moment, longer on a busy machine), so every packet is counted. Then for
# 10 s: 3 UDP flows at 3000 datagrams/s in all from the namespace to
# 10.250.0.1, and a TCP connection (500 echoed bytes a second, both ways).
echo "demo: traffic over $a (veth, peer in namespace $ns) for 10 s, watched by netmon-host" >&2
ready_dir=$(mktemp -d)
"$host" --iface "$a" --ready-file "$ready_dir/ready" "$@" &
host_pid=$!
traffic_pids=
for ((waited = 0; ; waited++)); do
  [ -e "$ready_dir/ready" ] && break
  if ! kill -0 "$host_pid" 2>/dev/null; then
    status=0
    wait "$host_pid" || status=$?
    host_pid=
    [ "$status" = 0 ] && echo "demo: netmon-host ended before the traffic could start (with --count or --duration, give it longer)" >&2
    exit "$((status ? status : 1))"
  fi
  if [ "$waited" -ge 600 ]; then
    echo "demo: netmon-host did not attach its plugins within 60 s; stopping" >&2
    exit 1
  fi
  sleep 0.1
done
"$traffic" --tcp-server --dst 10.250.0.1 --port 9100 >/dev/null &
traffic_pids="$!"
sleep 0.2
ip netns exec "$ns" "$traffic" --tcp --dst 10.250.0.1 --port 9100 --rate 500 --count 5000 >/dev/null &
tcp_pid=$!
ip netns exec "$ns" "$traffic" --dst 10.250.0.1 --port 9000 --flows 3 --rate 3000 --count 30000 --size 200 >/dev/null &
udp_pid=$!
traffic_pids="$traffic_pids $tcp_pid $udp_pid"
if [ "$until_traffic_ends" = 1 ]; then
  while kill -0 "$host_pid" 2>/dev/null && { kill -0 "$tcp_pid" 2>/dev/null || kill -0 "$udp_pid" 2>/dev/null; }; do
    sleep 0.2
  done
  sleep 1.2
  kill -INT "$host_pid" 2>/dev/null || true
fi
wait "$host_pid"
