#!/usr/bin/env bash
# prometheus_scrape_cost.sh [SECONDS] [SCRAPES_PER_SEC]: what serving
# Prometheus costs netmon-host, against a baseline measured in the same run.
#
# Two runs of build/bin/netmon-host with the standard plugins on a veth pair
# of its own (a namespace this script makes and removes), each for SECONDS
# (default 30) with a steady trickle of UDP flows across the pair:
#   baseline:    --sink json (to /dev/null)
#   prometheus:  --sink json --sink prometheus:127.0.0.1:PORT (PORT from the
#                environment, default 9464), scraped by one curl paced at
#                SCRAPES_PER_SEC a second (default 100; --rate), its answers
#                counted
# and prints netmon-host's CPU time (utime + stime from /proc/PID/stat) as a
# share of one CPU, its RSS at the end (VmRSS, and the anonymous part from
# /proc/PID/smaps_rollup), and the differences. Needs
# root; talks to loopback and the veth pair only.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
rate=${2:-100}
host=build/bin/netmon-host
traffic=build/bin/netmon-traffic
[ -x "$host" ] && [ -x "$traffic" ] || { echo "build first: scripts/build.sh" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "needs root (BPF)" >&2; exit 1; }

ns=nmbench$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; ip link del nmbench0 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$ns"
ip link add nmbench0 type veth peer name nmbench1 netns "$ns"
ip addr add 10.251.0.1/24 dev nmbench0 && ip link set nmbench0 up
ip -n "$ns" addr add 10.251.0.2/24 dev nmbench1 && ip -n "$ns" link set nmbench1 up && ip -n "$ns" link set lo up

ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }

# run NAME SINK_ARGS... : prints "cpu_share rss_kb"
run() {
  local port=$1; shift
  "$host" --iface nmbench0 --interval 1s -o flow_top.top=100 "$@" >/dev/null 2>/tmp/nmbench.$$.err &
  local pid=$!
  sleep 3   # loaded, attached, first intervals
  ip netns exec "$ns" "$traffic" --dst 10.251.0.1 --port 9000 --dports 200 --rate 2000 \
    --seconds "$((seconds + 2))" --count 100000000 >/dev/null 2>&1 &
  local tpid=$!
  local t0 c0
  t0=$(date +%s.%N); c0=$(cpu_ticks "$pid")
  if [ "$port" -gt 0 ]; then
    # One curl, one connection kept alive, paced by curl itself; every body
    # to /dev/null, every status code counted.
    curl -s --rate "${rate}/s" -w '%{http_code}\n' "http://127.0.0.1:$port/metrics?[1-$((seconds * rate))]" \
      2>/dev/null | grep -c '^200' > "/tmp/nmbench.$$.scrapes" || true
  else
    sleep "$seconds"
  fi
  local c1 t1 rss anon
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N); rss=$(rss_kb "$pid")
  anon=$(awk '/^Anonymous:/{print $2}' "/proc/$pid/smaps_rollup")
  kill -INT "$pid"; wait "$pid" || true
  wait "$tpid" 2>/dev/null || true
  awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" -v rss="$rss" -v anon="$anon" \
    'BEGIN{printf "%.4f %d %d\n", c / hz / (t1 - t0), rss, anon}'
}

port=${PORT:-9464}
read -r base_cpu base_rss base_anon < <(run 0 --sink json)
read -r prom_cpu prom_rss prom_anon < <(run "$port" --sink json --sink "prometheus:127.0.0.1:$port")
scrapes=$(cat "/tmp/nmbench.$$.scrapes" 2>/dev/null || echo 0)
rm -f "/tmp/nmbench.$$.scrapes" "/tmp/nmbench.$$.err"
echo "netmon-host for ${seconds} s, standard plugins, top 100 flows, 2000 datagrams/s over 200 flows:"
awk -v bc="$base_cpu" -v br="$base_rss" -v ba="$base_anon" -v pc="$prom_cpu" -v pr="$prom_rss" -v pa="$prom_anon" \
  -v n="$scrapes" -v s="$seconds" 'BEGIN{
  printf "  json only:          %6.2f %% of one CPU, RSS %6.1f MB (anonymous %5.1f MB)\n", bc * 100, br / 1024, ba / 1024
  printf "  json + prometheus:  %6.2f %% of one CPU, RSS %6.1f MB (anonymous %5.1f MB), %d scrapes answered 200 (%.1f a second)\n",
    pc * 100, pr / 1024, pa / 1024, n, n / s
  printf "  the sink and its scrapes: +%.2f %% of one CPU (%.2fx the json-only run), RSS +%.1f MB (anonymous +%.1f MB; the rest\n",
    (pc - bc) * 100, (bc > 0 ? pc / bc : 0), (pr - br) / 1024, (pa - ba) / 1024
  printf "  is file-backed: the pages of libcpp-httplib, libssl and libcrypto mapped from disk, shared with other processes)\n" }'
