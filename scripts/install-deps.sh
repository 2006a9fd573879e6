#!/usr/bin/env bash
# Installs what netmon needs to build, run and test, from Debian's archive.
# Does nothing (and needs no network) when everything is already installed.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang llvm libclang-rt-14-dev
  libbpf-dev bpftool libelf-dev zlib1g-dev linux-libc-dev
  libboost-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libcli11-dev
  libgtest-dev libbenchmark-dev libcap-dev
  libcap2-bin iproute2 iputils-ping jq procps
  libcpp-httplib-dev libssl-dev libcrypt-dev openssl curl
  clang-format  # scripts/format.sh (the test command runs --check): Debian 12's, 14, formats the tree
  prometheus  # the Prometheus sink's tests: a real server, promtool for its output and alert rules
  # The ipfix sink's tests: real collectors (nfcapd and nfdump; pmacct's nfacctd),
  # softflowd as a second exporter, dumpcap and tshark to capture and dissect
  # (tshark's wireshark-common asks about non-root capture through debconf; the
  # noninteractive frontend below takes its default).
  nfdump pmacct softflowd tshark
  nftables  # the drops and tcp_health tests: rules that drop (a counted set; every 20th segment of a connection)
  # The Debian packages (debian/): built by dpkg-buildpackage with debhelper,
  # checked by lintian, installed into a clean Debian 12 made by mmdebstrap;
  # the unit checked by systemd-analyze; the man pages made by help2man (from
  # --help) and pandoc (from the READMEs), checked by mandoc -T lint; the
  # completion's test loads bash-completion's helpers.
  debhelper dpkg-dev fakeroot lintian mmdebstrap systemd util-linux
  help2man pandoc mandoc bash-completion
  libncurses-dev  # the console's full-screen view (ncurses)
  tmux  # the console's tests: the view in a real terminal
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: these packages are missing: ${missing[*]}; run as root (sudo) to install them" >&2
  exit 1
fi
echo "install-deps: installing ${#missing[@]} packages from Debian's archive: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# apt's progress on stderr: stdout stays free for what runs after (run.sh's
# netmon-host output may be piped).
echo "install-deps: apt-get update" >&2
apt-get update -q >&2
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
echo "install-deps: done" >&2
