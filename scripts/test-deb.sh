#!/usr/bin/env bash
# Checks the Debian packages scripts/build-deb.sh made (in build-deb/, or
# DEB_OUT) with the tools Debian itself uses, then installs netmon where
# nothing of its build is:
#   1. lintian on both packages: no error, no warning but those accepted in
#      debian/*.lintian-overrides (each with its reason);
#   2. a clean Debian 12 made by mmdebstrap (from this machine's apt
#      sources, with systemd and man-db; in build-deb/chroot, made afresh
#      each time, about 20 s, and removed at the end):
#      apt-get install ./netmon_*.deb pulls in only runtime libraries;
#      netmon-host --version and --list-plugins;
#   3. there, the unit as installed: systemd-analyze verify (its programs
#      and man pages found), systemd-analyze security --offline=yes no worse
#      than the exposure docs/SERVICE.md states (NETMON_UNIT_EXPOSURE
#      below); the unit's ExecStartPre and ExecStart lines run
#      from the installed files, as the unit's user and capabilities
#      (setpriv), on a veth pair made here, with the shipped configuration
#      (its interface and port changed as a user would): Prometheus'
#      /metrics counts exactly the pings sent, and SIGTERM stops it with
#      nothing left attached; apt-get remove leaves only the changed
#      configuration, dpkg --purge not even that.
# Needs root. Usage: scripts/test-deb.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(realpath -m "${DEB_OUT:-build-deb}")
# systemd-analyze security's overall exposure, times ten (2.1 "OK"), the
# worst accepted: docs/SERVICE.md states it; a change to the unit that makes
# it worse fails here.
NETMON_UNIT_EXPOSURE=21

say() { echo "test-deb: $*" >&2; }
fail() {
  say "FAILED: $*"
  exit 1
}
[ "$(id -u)" -eq 0 ] || fail "needs root (a chroot, mounts, a veth pair and BPF); run it as root"
shopt -s nullglob
netmon_deb=("$out"/netmon_*.deb)
dev_deb=("$out"/netmon-dev_*.deb)
[ ${#netmon_deb[@]} -eq 1 ] && [ ${#dev_deb[@]} -eq 1 ] ||
  fail "no packages in $out (scripts/build-deb.sh makes them)"
shopt -u nullglob
step_start=$SECONDS
done_in() { say "--- $1 in $((SECONDS - step_start)) s"; step_start=$SECONDS; }

# ---- 1. lintian ----
say "lintian ${netmon_deb[0]##*/} ${dev_deb[0]##*/}"
lintian --info --display-info --fail-on error,warning "${netmon_deb[0]}" "${dev_deb[0]}" >&2 ||
  fail "lintian reports an error or a warning not accepted in debian/*.lintian-overrides"
done_in "lintian passed"

# ---- 2. a clean Debian 12 ----
chroot=$out/chroot
ns=netmon-deb-$$
host_if=nmdeb$$a
peer_if=nmdeb$$b
service_pid=
cleanup() {
  [ -n "$service_pid" ] && kill -KILL "$service_pid" 2>/dev/null
  ip netns del "$ns" 2>/dev/null || true
  ip link del "$host_if" 2>/dev/null || true
  local m mounted=0
  for m in dev sys proc; do
    mountpoint -q "$chroot/$m" && { umount -R "$chroot/$m" || mounted=1; }
  done
  # Removed only with nothing of the host's mounted inside.
  [ $mounted -eq 0 ] && ! findmnt -rn -o TARGET | grep -q "^$chroot/" && rm -rf "$chroot"
  return 0
}
trap cleanup EXIT
in_chroot() { chroot "$chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

findmnt -rn -o TARGET | grep -q "^$chroot/" && fail "something is mounted under $chroot (a killed run?); unmount it first"
rm -rf "$chroot"
say "mmdebstrap: a minimal Debian 12 (variant apt, with systemd and man-db) in $chroot"
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
# With systemd and man-db, as on a machine that runs services: the unit is
# verified there, by that system's systemd-analyze, its man pages by man.
mmdebstrap --quiet --variant=apt --include=systemd,man-db bookworm "$chroot" "$sources" >&2 ||
  fail "mmdebstrap could not make the chroot"
done_in "chroot made"
cp /etc/resolv.conf "$chroot/etc/resolv.conf"
mount -t proc proc "$chroot/proc"
mount --rbind /sys "$chroot/sys" && mount --make-rslave "$chroot/sys"
mount --rbind /dev "$chroot/dev" && mount --make-rslave "$chroot/dev"
# What the clean system holds, to compare with after the purge.
snapshot() {
  (cd "$chroot" && find . -xdev \( -path ./proc -o -path ./sys -o -path ./dev -o -path ./tmp -o -path ./var/cache \
    -o -path ./var/log -o -path ./var/lib/apt -o -path ./var/lib/dpkg -o -path ./run \) -prune -o -print | sort)
}
before=$(snapshot)

mkdir -p "$chroot/tmp/debs"
cp "${netmon_deb[0]}" "$chroot/tmp/debs/"
say "apt-get install ./${netmon_deb[0]##*/} in the chroot"
install_log=$(in_chroot sh -c "apt-get update -q && apt-get install -y --no-install-recommends /tmp/debs/${netmon_deb[0]##*/}" 2>&1) ||
  { echo "$install_log" >&2; fail "apt-get install of the package failed"; }
new=$(echo "$install_log" | sed -n '/NEW packages will be installed/,/upgraded/p' | sed '1d;$d' | tr -s ' \n' ' ')
say "installed: $new"
for p in $new; do
  case $p in
    *-dev | clang* | llvm* | cmake* | bpftool | gcc* | g++*) fail "apt-get install pulled in the build dependency $p" ;;
  esac
done
done_in "installed"

version=$(in_chroot netmon-host --version) || fail "netmon-host --version failed"
case $version in
  "netmon-host $(dpkg-deb -f "${netmon_deb[0]}" Version) "*) ;;
  *) fail "--version says '$version', the package is $(dpkg-deb -f "${netmon_deb[0]}" Version)" ;;
esac
plugins=$(in_chroot netmon-host --list-plugins) || fail "netmon-host --list-plugins failed"
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
echo "$plugins" | grep -q "/usr/lib/$multiarch/netmon/plugins" || fail "--list-plugins does not search /usr/lib/$multiarch/netmon/plugins: $plugins"
for p in xdp_stats tc_stats flow_top drops tcp_health console json csv prometheus ipfix; do
  echo "$plugins" | grep -Eq "^  $p " || fail "--list-plugins does not list $p: $plugins"
done
for f in usr/share/man/man8/netmon-host.8.gz usr/share/man/man7/netmon-plugins.7.gz \
  usr/share/bash-completion/completions/netmon-host etc/netmon/netmon.json; do
  [ -f "$chroot/$f" ] || fail "the package did not install /$f"
done
say "$version; every standard plugin and sink listed"

# ---- 3. the unit, as installed ----
unit=$(cd "$chroot" && ls lib/systemd/system/netmon.service usr/lib/systemd/system/netmon.service 2>/dev/null | head -n1)
[ -n "$unit" ] || fail "the netmon package installed no netmon.service"
in_chroot systemd-analyze verify "/$unit" >&2 || fail "systemd-analyze verify refuses /$unit"
security=$(in_chroot systemd-analyze security --offline=yes --threshold=$NETMON_UNIT_EXPOSURE "/$unit" 2>&1) ||
  { echo "$security" >&2; fail "the unit's exposure is worse than $NETMON_UNIT_EXPOSURE/10 (docs/SERVICE.md)"; }
say "systemd-analyze verify: no complaint; security: $(echo "$security" | grep 'Overall exposure')"
done_in "the unit checked"

# The service: the unit's lines, its user and capabilities, the shipped
# configuration with the interface and the port a user would set.
ip netns add "$ns"
ip link add "$host_if" type veth peer name "$peer_if" netns "$ns"
ip addr add 10.254.$(($$ % 250)).1/24 dev "$host_if"
ip link set "$host_if" up
ip -n "$ns" addr add 10.254.$(($$ % 250)).2/24 dev "$peer_if"
ip -n "$ns" link set "$peer_if" up
ip -n "$ns" link set lo up
port=$((20000 + $$ % 20000))
config=$chroot/etc/netmon/netmon.json
sed -i "s|^  // \"iface\": \[\"eth0\"\],|  \"iface\": [\"$host_if\"],|; s|\"sink\": \[\"prometheus\"\]|\"sink\": [\"prometheus:127.0.0.1:$port\"]|" "$config"
grep -q "\"iface\": \[\"$host_if\"\]" "$config" && grep -q "127.0.0.1:$port" "$config" ||
  fail "the shipped configuration no longer has the lines this test edits: $(cat "$config")"
unit_file=$chroot/$unit
setting() { sed -n "s/^$1=//p" "$unit_file" | tail -n1; }
caps=$(setting AmbientCapabilities | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
bounding=$(setting CapabilityBoundingSet | tr 'A-Z' 'a-z' | sed 's/cap_/+/g; s/ /,/g')
[ "$(setting DynamicUser)" = yes ] && [ "$(setting NoNewPrivileges)" = yes ] || fail "the unit is not DynamicUser=yes, NoNewPrivileges=yes"
# chroot, env, setpriv and netmon-host run in one process, one after the
# other (each execs the next): $! is netmon-host's PID.
as_service=(chroot "$chroot" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
  setpriv --reuid=61998 --regid=61998 --clear-groups --inh-caps="-all,$caps" --ambient-caps="-all,$caps"
  --bounding-set="-all,$bounding" --no-new-privs)
# shellcheck disable=SC2046  # the unit's command line, split as systemd splits this one (no quotes in it)
"${as_service[@]}" $(setting ExecStartPre) >&2 || fail "the unit's ExecStartPre (--check-config) refuses the configuration"
# shellcheck disable=SC2046
"${as_service[@]}" $(setting ExecStart) 2>"$out/service.log" &
service_pid=$!
metric="netmon_xdp_packets_total{ifname=\"$host_if\",l3=\"ipv4\",l4=\"icmp\"}"
scrape() { curl -sf "http://127.0.0.1:$port/metrics" | { grep -F "$metric " || true; } | awk '{print $2}'; }
for _ in $(seq 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" && break
  kill -0 "$service_pid" 2>/dev/null || { cat "$out/service.log" >&2; fail "the service exited at start"; }
  sleep 0.1
done
base=$(scrape)
base=${base:-0}
pings=200
ip netns exec "$ns" ping -q -c $pings -i 0.005 -W 1 10.254.$(($$ % 250)).1 >/dev/null || fail "the pings were not answered"
want=$((base + pings))
got=
for _ in $(seq 50); do
  got=$(scrape)
  [ "${got:-0}" -ge "$want" ] && break
  sleep 0.2
done
sleep 2.5  # two more intervals: nothing more may come
got=$(scrape)
[ "$got" = "$want" ] || fail "Prometheus' $metric is '${got}', the pings sent make $want"
status=$(grep -E '^(Uid|CapEff):' "/proc/$service_pid/status" | tr -s '\t ' ' ')
echo "$status" | grep -q "Uid: 61998 61998 61998 61998" && echo "$status" | grep -q "CapEff: 0000000000000000" ||
  fail "the service runs with more than it should: $status"
kill -TERM "$service_pid"
rc=0
wait "$service_pid" || rc=$?
service_pid=
[ $rc -eq 0 ] || { cat "$out/service.log" >&2; fail "the service exited $rc on SIGTERM"; }
ip -d link show "$host_if" | grep -q "prog/xdp" && fail "an XDP program is left on $host_if"
[ -z "$(tc filter show dev "$host_if" ingress 2>/dev/null)" ] || fail "a TC filter is left on $host_if"
say "the service counted $pings pings exactly ($metric $got), stopped on SIGTERM, detached"
done_in "the service ran"

# ---- removal ----
in_chroot apt-get remove -y -q netmon >/dev/null 2>&1 || fail "apt-get remove netmon failed"
[ ! -e "$chroot/usr/bin/netmon-host" ] && [ ! -e "$chroot/usr/lib/$multiarch/netmon" ] || fail "apt-get remove left the program or its plugins"
[ -f "$config" ] || fail "apt-get remove took the changed configuration"
in_chroot dpkg --purge netmon >/dev/null || fail "dpkg --purge netmon failed"
[ ! -e "$chroot/etc/netmon" ] || fail "dpkg --purge left /etc/netmon"
in_chroot apt-get autoremove -y -q --purge >/dev/null 2>&1 || fail "apt-get autoremove failed"
after=$(snapshot)
left=$(diff <(echo "$before") <(echo "$after") || true)
[ -z "$left" ] || fail "after the purge the system differs from before the install: $left"
say "apt-get remove kept only the changed configuration; dpkg --purge (and autoremove) left the system as it was"
done_in "removed"
say "all package checks passed"
