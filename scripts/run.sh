#!/usr/bin/env bash
# The main job, from a fresh clone, as root (sudo scripts/run.sh otherwise):
# installs what is needed, builds, and runs netmon-host with the standard
# plugins (xdp_stats, tc_stats, flow_top).
#   scripts/run.sh                    a self-contained demo: a veth pair in a network
#                                     namespace with generated UDP and TCP traffic,
#                                     watched by netmon-host until it ends (about 13 s)
#   scripts/run.sh --sink json ...    the demo, with these netmon-host options
#   scripts/run.sh --iface eth0 ...   netmon-host on a real interface (any netmon-host
#                                     options; Ctrl+C stops it)
# Progress (the packages installed, the build's steps) goes to stderr; stdout
# carries only netmon-host's output, so it can be piped (--sink json | jq).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
  echo "run.sh: netmon needs root (CAP_BPF, CAP_NET_ADMIN) to install, attach and run the demo; run it as root, or: sudo scripts/run.sh" >&2
  exit 1
fi
scripts/install-deps.sh
echo "run.sh: building netmon in build/ (a few minutes the first time)" >&2
scripts/build.sh >&2
exec scripts/demo.sh "$@"
