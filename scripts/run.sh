#!/usr/bin/env bash
# The main job, from a fresh clone: installs what is needed, builds, and runs
# netmon-host with the standard plugins (xdp_stats, tc_stats, flow_top).
#   sudo scripts/run.sh                    a self-contained demo: a veth pair in a network
#                                          namespace with generated UDP and TCP traffic,
#                                          watched by netmon-host until it ends (about 13 s)
#   sudo scripts/run.sh --sink json ...    the demo, with these netmon-host options
#   sudo scripts/run.sh --iface eth0 ...   netmon-host on a real interface (any netmon-host
#                                          options; Ctrl+C stops it)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh >/dev/null
exec scripts/demo.sh "$@"
