#!/usr/bin/env bash
# prometheus_scrape_cost.sh [SECONDS] [SCRAPES_PER_SEC]: what serving
# Prometheus costs netmon-host, against a baseline measured in the same run.
#
# Two runs of build/bin/netmon-host with the standard plugins on a veth pair
# of its own (a namespace this script makes and removes), each for SECONDS
# (default 30) with a steady trickle of UDP flows across the pair:
#   baseline:    --sink json (to /dev/null)
#   prometheus:  --sink json --sink prometheus:127.0.0.1:PORT (PORT from the
#                environment, default 9464), scraped by curl in a loop paced
#                for SCRAPES_PER_SEC a second (default 100; the scrapes
#                made are counted and printed)
# and prints netmon-host's CPU time (utime + stime from /proc/PID/stat) as a
# share of one CPU, its RSS at the end (VmRSS), and the differences. Needs
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
    local end=$(( $(date +%s) + seconds )) gap
    gap=$(awk -v r="$rate" 'BEGIN{printf "%.4f", 1/r}')
    while [ "$(date +%s)" -lt "$end" ]; do
      curl -s -o /dev/null "http://127.0.0.1:$port/metrics" && echo >> "/tmp/nmbench.$$.scrapes"
      sleep "$gap"
    done
  else
    sleep "$seconds"
  fi
  local c1 t1 rss
  c1=$(cpu_ticks "$pid"); t1=$(date +%s.%N); rss=$(rss_kb "$pid")
  kill -INT "$pid"; wait "$pid" || true
  wait "$tpid" 2>/dev/null || true
  awk -v c="$((c1 - c0))" -v hz="$ticks" -v t0="$t0" -v t1="$t1" -v rss="$rss" \
    'BEGIN{printf "%.4f %d\n", c / hz / (t1 - t0), rss}'
}

port=${PORT:-9464}
read -r base_cpu base_rss < <(run 0 --sink json)
# Count the scrapes actually made: curl in a loop reaches less than the rate asked.
read -r prom_cpu prom_rss < <(run "$port" --sink json --sink "prometheus:127.0.0.1:$port")
scrapes=$(wc -l < "/tmp/nmbench.$$.scrapes" 2>/dev/null || echo 0)
rm -f "/tmp/nmbench.$$.scrapes" "/tmp/nmbench.$$.err"
echo "netmon-host for ${seconds} s, standard plugins, top 100 flows, 2000 datagrams/s over 200 flows:"
awk -v bc="$base_cpu" -v br="$base_rss" -v pc="$prom_cpu" -v pr="$prom_rss" -v rate="$rate" -v n="$scrapes" -v s="$seconds" 'BEGIN{
  printf "  json only:               %6.2f %% of one CPU, RSS %6.1f MB\n", bc * 100, br / 1024
  printf "  json + prometheus:       %6.2f %% of one CPU, RSS %6.1f MB (%d scrapes, %.1f a second)\n", pc * 100, pr / 1024, n, n / s
  printf "  the sink and its scrapes: +%.2f %% of one CPU (%.2fx the baseline), +%.1f MB RSS\n", (pc - bc) * 100,
    (bc > 0 ? pc / bc : 0), (pr - br) / 1024 }'
