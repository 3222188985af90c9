#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Prepare a Debian 12 machine for zpath and build it. Run as root; safe to run again (a second
# run only checks, and rebuilds what changed).
#
#   sudo bash scripts/setup.sh [--no-build]
#
# 1. installs the Debian packages zpath needs to build, test, fuzz and benchmark;
# 2. reserves hugepages (ZPATH_HUGE_MB, default 1024 MiB of 2 MiB pages) and mounts
#    hugetlbfs at /dev/hugepages; zpath still runs without them (--no-huge), only slower;
# 3. makes sure /dev/net/tun exists (the net_tap port and the integration tests need it);
# 4. configures and builds ./build (buildtype=debugoptimized, werror=true) unless --no-build.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

T=setup
build=1
for arg in "$@"; do
	case "$arg" in
	--no-build) build=0 ;;
	-h | --help)
		sed -n '3,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "$T" "unknown argument: $arg (try --help)" ;;
	esac
done

[[ $(id -u) -eq 0 ]] || die "$T" "must run as root (sudo bash scripts/setup.sh): it installs packages, reserves hugepages and creates tap devices"

start="$(now_s)"

# --- 1. packages -------------------------------------------------------------------------
PACKAGES=(
	# build
	build-essential pkg-config meson ninja-build
	dpdk dpdk-dev libdpdk-dev libssl-dev openssl libcmocka-dev libinih-dev libjson-c-dev
	# run and test
	iproute2 iputils-ping python3 python3-scapy tshark nftables ethtool valgrind curl
	# fuzzing (libFuzzer and the sanitizer runtimes)
	clang libclang-rt-14-dev
	# benchmark plots
	gnuplot-nox
)

missing=()
installed="$(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)"
for p in "${PACKAGES[@]}"; do
	grep -q "^$p ii" <<<"$installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
	log "$T" "packages: all ${#PACKAGES[@]} present"
else
	log "$T" "packages: installing ${missing[*]} (a few minutes on a fresh machine)"
	export DEBIAN_FRONTEND=noninteractive
	apt_log=/tmp/zpath-setup-apt.log
	# tshark asks whether non-root users may capture; answer no instead of prompting.
	echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
	# Wait for another apt (unattended upgrades, say) rather than fail on its lock.
	if ! apt-get -o DPkg::Lock::Timeout=300 update -q >"$apt_log" 2>&1; then
		tail -n 20 "$apt_log" >&2
		die "$T" "apt-get update failed (log: $apt_log)"
	fi
	if ! apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >>"$apt_log" 2>&1; then
		tail -n 30 "$apt_log" >&2
		die "$T" "apt-get install ${missing[*]} failed (log: $apt_log)"
	fi
	log "$T" "packages: installed ${#missing[@]} in $(elapsed "$start") s"
fi

# --- 2. hugepages -------------------------------------------------------------------------
want_mb="${ZPATH_HUGE_MB:-1024}"
hp_kb="$(awk '/^Hugepagesize:/ { print $2 }' /proc/meminfo)"
hp_kb="${hp_kb:-2048}"
hp_total() { awk '/^HugePages_Total:/ { print $2 }' /proc/meminfo; }
have_mb=$(($(hp_total) * hp_kb / 1024))
if ((have_mb >= want_mb)); then
	log "$T" "hugepages: ${have_mb} MiB reserved already"
else
	log "$T" "hugepages: reserving ${want_mb} MiB of $((hp_kb / 1024)) MiB pages (had ${have_mb} MiB)"
	dpdk-hugepages.py --pagesize "${hp_kb}K" --reserve "${want_mb}M" 2>/dev/null ||
		echo $((want_mb * 1024 / hp_kb)) >/proc/sys/vm/nr_hugepages 2>/dev/null || true
	have_mb=$(($(hp_total) * hp_kb / 1024))
	if ((have_mb >= want_mb)); then
		log "$T" "hugepages: ${have_mb} MiB reserved"
	elif ((have_mb > 0)); then
		log "$T" "hugepages: WARNING: the kernel gave only ${have_mb} of ${want_mb} MiB; zpath runs in that"
	else
		log "$T" "hugepages: WARNING: none could be reserved; zpath will run with --no-huge (slower)"
	fi
fi
if grep -qs ' hugetlbfs ' /proc/mounts; then
	log "$T" "hugepages: hugetlbfs mounted at $(awk '$3 == "hugetlbfs" { print $2; exit }' /proc/mounts)"
elif ((have_mb > 0)); then
	mkdir -p /dev/hugepages
	if mount -t hugetlbfs -o "pagesize=${hp_kb}K" nodev /dev/hugepages 2>/dev/null ||
		mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null; then
		log "$T" "hugepages: mounted hugetlbfs at /dev/hugepages"
	else
		log "$T" "hugepages: WARNING: could not mount hugetlbfs at /dev/hugepages; zpath will run with --no-huge"
	fi
fi

# --- 3. tun --------------------------------------------------------------------------------
if [[ ! -c /dev/net/tun ]]; then
	modprobe tun 2>/dev/null || true
	if [[ ! -c /dev/net/tun ]] && grep -qsw tun /proc/misc; then
		mkdir -p /dev/net && mknod -m 0666 /dev/net/tun c 10 200
	fi
fi
if [[ -c /dev/net/tun ]]; then
	log "$T" "tun: /dev/net/tun present"
else
	log "$T" "tun: WARNING: /dev/net/tun missing (no tun module); net_tap demos and tests cannot run"
fi

# --- 4. build ------------------------------------------------------------------------------
if ((build)); then
	meson_ensure "$ZPATH_BUILD" "${ZPATH_BUILD_OPTS[@]}"
	log "$T" "building $(basename "$ZPATH_BUILD") ..."
	if ! meson compile -C "$ZPATH_BUILD" >"$ZPATH_BUILD/setup-compile.log" 2>&1; then
		tail -n 60 "$ZPATH_BUILD/setup-compile.log" >&2
		die "$T" "build failed (full log: $ZPATH_BUILD/setup-compile.log)"
	fi
	log "$T" "build: ok ($(basename "$ZPATH_BUILD"))"
fi

log "$T" "done in $(elapsed "$start") s"
