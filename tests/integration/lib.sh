# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# Helpers for the integration tests (sourced by tests/integration/test_*.sh).
#
# A test is a bash script run as root by scripts/test-all.sh (or by hand:
# `sudo bash tests/integration/test_tap_ping.sh`). It exits 0 on success, 77 when the machine
# truly lacks a facility it needs (it says which), anything else on failure. Everything it
# creates (network namespaces, temp files, zpath-echo processes) is registered with
# it_cleanup_add and removed by the EXIT trap, whatever happens.
#
# Environment:
#   ZPATH_BUILD     build directory holding examples/zpath-echo (default: <repo>/build)
#   ZPT_KEEP=1      keep the temp directory (ini files, logs of zpath-echo) for a post-mortem
#   ZPT_VERBOSE=1   print the logs of every zpath-echo run, not only on failure
#   ZPT_EAL_MEM     EAL memory arguments instead of the automatic choice (eal_mem_args)
#   ZPT_ECHO_TIMEOUT  time limit of a zpath-echo started by tap_echo_start (default 60 s)
#   ZPT_ECHO_WRAP     words put before zpath-echo by echo_start (e.g. "taskset -c 0")

set -euo pipefail

ZPT_NAME="$(basename "$0" .sh)"
ZPATH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ZPATH_BUILD="${ZPATH_BUILD:-$ZPATH_ROOT/build}"
case "$ZPATH_BUILD" in /*) ;; *) ZPATH_BUILD="$ZPATH_ROOT/$ZPATH_BUILD" ;; esac
ZPT_ECHO="${ZPT_ECHO:-$ZPATH_BUILD/examples/zpath-echo}"
ZPT_PYTHON=/usr/bin/python3 # the interpreter python3-scapy is installed for

# --- messages and outcomes ---------------------------------------------------------------
zpt_log() { printf '[%s] %s\n' "$ZPT_NAME" "$*" >&2; }
skip() {
	zpt_log "SKIP: $*"
	exit 77
}
fail() {
	zpt_log "FAIL: $*"
	exit 1
}
pass() {
	zpt_log "PASS${1:+: $*}"
	exit 0
}

# --- cleanup -------------------------------------------------------------------------------
# Commands run in reverse order of registration when the script exits, however it exits.
ZPT_CLEANUP=()
it_cleanup_add() { ZPT_CLEANUP+=("$*"); }

zpt_on_exit() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	local i name
	if ((rc != 0 && rc != 77)) || [[ "${ZPT_VERBOSE:-0}" == 1 ]]; then
		# Stop what still runs first, so that the logs end with what it said at exit.
		for name in "${ZPT_RUNS[@]}"; do
			echo_kill "$name" >/dev/null 2>&1
		done
		zpt_dump_logs
	fi
	for ((i = ${#ZPT_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${ZPT_CLEANUP[$i]}" >/dev/null 2>&1
	done
	exit "$rc"
}
trap zpt_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A temp directory for ini files, sockets and logs.
ZPT_TMP="$(mktemp -d "/tmp/zpt-$ZPT_NAME.XXXXXX")"
if [[ "${ZPT_KEEP:-0}" == 1 ]]; then
	zpt_log "keeping $ZPT_TMP"
else
	it_cleanup_add "rm -rf '$ZPT_TMP'"
fi

# --- requirements (skip only when the machine truly lacks the facility) -------------------
require_root() {
	[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, tap devices, DPDK)"
}
require_tun() {
	[[ -c /dev/net/tun ]] || skip "/dev/net/tun missing: the kernel has no tun/tap support here"
}
require_netns() {
	local probe="zpt-probe-$$"
	ip netns add "$probe" 2>/dev/null || skip "cannot create network namespaces here (ip netns add failed)"
	ip netns del "$probe"
}
# require_cmd CMD...: tools the script uses; they come from scripts/setup.sh, so a missing one
# is a set-up fault, not a missing facility: fail, naming the package.
require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || fail "'$c' not found: run scripts/setup.sh"
	done
}
require_scapy() {
	"$ZPT_PYTHON" -c 'import scapy.all' 2>/dev/null ||
		fail "python3-scapy missing for $ZPT_PYTHON: run scripts/setup.sh"
}
require_echo() {
	[[ -x "$ZPT_ECHO" ]] || fail "$ZPT_ECHO not built (meson compile -C $ZPATH_BUILD)"
}

# --- names ---------------------------------------------------------------------------------
# Several runs may share the machine (a developer's test beside the lead's test-all), so what a
# run creates by name carries its PID: zpt_name BASE -> BASE-PID (netns, EAL file prefix,
# instance). zpt_reap_stale BASE removes what runs of BASE that no longer exist left behind
# (killed with SIGKILL, so their cleanup never ran), and nothing of a live run.
zpt_name() { echo "$1-$$"; }
zpt_reap_stale() {
	local base="$1" n pid d
	while read -r n _; do
		[[ "$n" =~ ^"$base"-([0-9]+)$ ]] || continue
		pid="${BASH_REMATCH[1]}"
		kill -0 "$pid" 2>/dev/null || ip netns del "$n" 2>/dev/null || true
	done < <(ip netns list 2>/dev/null)
	for d in /var/run/dpdk/"$base"-*; do
		[[ -d "$d" && "$d" =~ -([0-9]+)$ ]] || continue
		kill -0 "${BASH_REMATCH[1]}" 2>/dev/null || rm -rf "$d"
	done
}

# --- network namespaces --------------------------------------------------------------------
# netns_create NAME: a fresh namespace (a stale one of the same name is removed first), with lo
# up and IPv6 off so the kernel sends no unsolicited traffic (router solicitations, MLD) to
# zpath.
netns_create() {
	local ns="$1"
	ip netns del "$ns" 2>/dev/null || true
	ip netns add "$ns"
	it_cleanup_add "ip netns del '$ns'"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
}

# wait_for_iface NS IFACE [TIMEOUT_S]: wait until IFACE exists in NS ("-" = the host).
wait_for_iface() {
	local ns="$1" ifc="$2" t="${3:-20}" i
	for ((i = 0; i < t * 10; i++)); do
		if [[ "$ns" == - ]]; then
			ip link show "$ifc" >/dev/null 2>&1 && return 0
		else
			ip -n "$ns" link show "$ifc" >/dev/null 2>&1 && return 0
		fi
		sleep 0.1
	done
	return 1
}

# tap_kernel_setup NS IFACE MAC ADDR/LEN: configure the kernel end of a net_tap port created by
# zpath. net_tap gives the kernel interface the port's own MAC; it gets MAC here instead, so
# that the two ends of the link have different addresses as two hosts would.
tap_kernel_setup() {
	local ns="$1" ifc="$2" mac="$3" addr="$4"
	ip -n "$ns" link set "$ifc" address "$mac"
	ip -n "$ns" addr add "$addr" dev "$ifc"
	ip -n "$ns" link set "$ifc" up
}

# --- DPDK and zpath-echo -------------------------------------------------------------------
# huge_free_mb: free hugepage memory in MiB (0 when no hugetlbfs is mounted).
huge_free_mb() {
	grep -qs ' hugetlbfs ' /proc/mounts || {
		echo 0
		return
	}
	awk '/^HugePages_Free:/ { n = $2 } /^Hugepagesize:/ { kb = $2 } END { printf "%d\n", n * kb / 1024 }' /proc/meminfo
}

# eal_mem_args [MB]: EAL memory arguments. Hugepages when enough are free (--huge-unlink: no
# files left behind in hugetlbfs even if the process is killed; not --in-memory, which has no
# multi-process channel, and net_memif refuses to probe without one), else --no-huge.
# ZPT_EAL_MEM, when set, replaces them (the demo keeps shared memory files, for dpdk-dumpcap).
eal_mem_args() {
	local mb="${1:-256}" free
	if [[ -n "${ZPT_EAL_MEM:-}" ]]; then
		echo "$ZPT_EAL_MEM"
		return
	fi
	free="$(huge_free_mb)"
	if ((free >= mb)); then
		echo "-m $mb --huge-unlink"
	else
		echo "--no-huge -m $mb"
	fi
}

# eal_prefix_cleanup PREFIX: remove EAL's runtime directory of file prefix PREFIX (sockets,
# config) once the processes using it are gone. Call it before echo_start: the cleanup runs
# in reverse order, so after the process was stopped.
eal_prefix_cleanup() {
	[[ "$1" =~ ^[A-Za-z0-9_.-]+$ ]] || return 0
	it_cleanup_add "rm -rf '/var/run/dpdk/$1'"
}

# write_ini FILE: zpath.ini from stdin.
write_ini() { cat >"$1"; }

# memif_ini FILE ADDRESS INSTANCE: zpath.ini of one end of a net_memif pair (one worker,
# port0 = net_memif0 given by --vdev, ADDRESS/24).
memif_ini() {
	write_ini "$1" <<EOF
[stack]
workers=1
instance=$3
mbufs=8191

[port0]
device=net_memif0
address=$2/24
EOF
}

# memif_wait_socket NAME SOCKET: wait (20 s) for the memif server NAME to create SOCKET.
memif_wait_socket() {
	local i
	for ((i = 0; i < 200; i++)); do
		[[ -S "$2" ]] && return 0
		echo_require_alive "$1"
		sleep 0.1
	done
	fail "memif server socket $2 not created within 20 s"
}

declare -A ZPT_PID=() ZPT_RC=()
ZPT_RUNS=()

# echo_start NAME NS TIMEOUT_S ARGS...: start zpath-echo ARGS in the background, inside network
# namespace NS ("-" = the host), killed after TIMEOUT_S seconds at the latest. Its stdout and
# stderr go to $ZPT_TMP/NAME.out and NAME.err. The cleanup stops it if the test ends first.
echo_start() {
	local name="$1" ns="$2" t="$3"
	shift 3
	local cmd=("$ZPT_ECHO" "$@") wrap=()
	read -ra wrap <<<"${ZPT_ECHO_WRAP:-}" # e.g. "taskset -c 0"
	cmd=("${wrap[@]}" "${cmd[@]}")
	[[ "$ns" == - ]] || cmd=(ip netns exec "$ns" "${cmd[@]}")
	printf '%s\n' "${cmd[*]}" >"$ZPT_TMP/$name.cmd"
	zpt_log "start $name: ${cmd[*]}"
	# timeout forwards SIGTERM to zpath-echo; -k: SIGKILL if it does not stop.
	timeout -k 5 "$t" "${cmd[@]}" >"$ZPT_TMP/$name.out" 2>"$ZPT_TMP/$name.err" </dev/null &
	ZPT_PID[$name]=$!
	ZPT_RUNS+=("$name")
	it_cleanup_add "echo_kill '$name'"
}

# tap_echo_start NAME NS IFACE ZPATH_MAC KERNEL_MAC KERNEL_ADDR/LEN PREFIX INI [ARGS...]:
# zpath-echo with port net_tap0 (interface IFACE in namespace NS, MAC ZPATH_MAC), EAL file
# prefix PREFIX, configuration INI, program ARGS; then the kernel end of the tap configured
# (tap_kernel_setup) as soon as it exists. Fails if the interface does not appear.
tap_echo_start() {
	local name="$1" ns="$2" ifc="$3" zmac="$4" kmac="$5" kaddr="$6" prefix="$7" ini="$8" i mem
	shift 8
	read -ra mem <<<"$(eal_mem_args 256)"
	eal_prefix_cleanup "$prefix"
	echo_start "$name" "$ns" "${ZPT_ECHO_TIMEOUT:-60}" -l 0 --no-pci "${mem[@]}" \
		--file-prefix "$prefix" --vdev "net_tap0,iface=$ifc,mac=$zmac" -- -c "$ini" -- "$@"
	for ((i = 0; i < 200; i++)); do
		ip -n "$ns" link show "$ifc" >/dev/null 2>&1 && break
		echo_require_alive "$name"
		sleep 0.1
	done
	wait_for_iface "$ns" "$ifc" 1 || fail "$ifc did not appear in $ns within 20 s"
	# net_tap sets the kernel end's MAC to the port's right after creating the interface:
	# wait for that, so that it does not overwrite the kernel's own MAC set here.
	for ((i = 0; i < 50; i++)); do
		ip -n "$ns" link show "$ifc" | grep -qi "$zmac" && break
		sleep 0.1
	done
	tap_kernel_setup "$ns" "$ifc" "$kmac" "$kaddr"
}

# tcp_tap_setup TAG N: the namespace of a zpath <-> Linux test over net_tap (TCP or ping), zpath at
# 10.99.N.2, the kernel at 10.99.N.1 (N in 1..99, distinct per test so tests can run side by
# side). Sets NS (also the EAL file prefix and instance name), IF, ZMAC, KMAC, ZIP, KIP and
# KPEER (the kernel-side peer, tcp_kpeer.py), writes $ZPT_TMP/zpath.ini, and defines
# start_echo NAME ARGS... to run zpath-echo on that link.
tcp_tap_setup() {
	local tag="$1" n="$2"
	KPEER="$ZPATH_ROOT/tests/integration/tcp_kpeer.py"
	zpt_reap_stale "$tag"
	NS="$(zpt_name "$tag")"
	IF="${tag}0"
	ZMAC="$(printf '02:7a:69:00:%02x:02' "$n")"
	KMAC="$(printf '02:7a:69:00:%02x:01' "$n")"
	ZIP="10.99.$n.2"
	KIP="10.99.$n.1"
	netns_create "$NS"
	write_ini "$ZPT_TMP/zpath.ini" <<EOF
[stack]
workers=1
instance=$NS
mbufs=8191

[port0]
device=net_tap0
address=$ZIP/24
gateway=$KIP
EOF
	start_echo() { # start_echo NAME ARGS...
		local name="$1"
		shift
		tap_echo_start "$name" "$NS" "$IF" "$ZMAC" "$KMAC" "$KIP/24" "$NS" "$ZPT_TMP/zpath.ini" "$@"
	}
}

# kernel_ping_until NS ADDR NAME [TRIES]: ping ADDR from NS once a second until it answers
# (zpath may still be starting), failing if zpath-echo NAME exits meanwhile.
kernel_ping_until() {
	local ns="$1" addr="$2" name="$3" tries="${4:-20}" i
	for ((i = 0; i < tries; i++)); do
		echo_require_alive "$name"
		ip netns exec "$ns" ping -c 1 -W 1 "$addr" >/dev/null 2>&1 && return 0
	done
	fail "$addr never answered a ping from the kernel (${tries} tries)"
}

# echo_alive NAME: true while the process runs.
echo_alive() { kill -0 "${ZPT_PID[$1]}" 2>/dev/null; }

# echo_require_alive NAME: fail (with its exit status) if the process has already exited.
echo_require_alive() {
	echo_alive "$1" && return 0
	local rc=0
	echo_wait "$1" || rc=$?
	fail "zpath-echo '$1' exited early with status $rc"
}

# echo_wait NAME [TIMEOUT_S]: wait for the process to exit; sets ZPT_RC[NAME] and returns its
# exit status (124: its timeout ran out). Returns 125 if it is still running after TIMEOUT_S.
echo_wait() {
	local name="$1" t="${2:-}" pid="${ZPT_PID[$1]}" i rc=0
	if [[ -n "${ZPT_RC[$name]:-}" ]]; then
		return "${ZPT_RC[$name]}"
	fi
	if [[ -n "$t" ]]; then
		for ((i = 0; i < t * 10; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && return 125
	fi
	wait "$pid" || rc=$?
	ZPT_RC[$name]=$rc
	return "$rc"
}

# echo_stop NAME: SIGTERM (zpath-echo prints its summary and exits), wait up to 10 s, then
# SIGKILL. Returns the exit status.
echo_stop() {
	local name="$1" pid="${ZPT_PID[$1]}" rc=0
	if [[ -n "${ZPT_RC[$name]:-}" ]]; then
		return "${ZPT_RC[$name]}"
	fi
	kill -TERM "$pid" 2>/dev/null || true
	echo_wait "$name" 10 || rc=$?
	if ((rc == 125)); then
		zpt_log "$name did not stop on SIGTERM within 10 s; killing it"
		# $pid is timeout(1); zpath-echo is its child (ip netns exec execs it).
		pkill -KILL -P "$pid" 2>/dev/null || true
		kill -KILL "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		ZPT_RC[$name]=$rc
	fi
	return "$rc"
}

# echo_kill NAME: for the cleanup: stop the process if it still runs.
echo_kill() {
	[[ -n "${ZPT_RC[$1]:-}" ]] && return 0
	echo_stop "$1" || true
}

# summary NAME: the summary line zpath-echo printed on stdout ("zpath-echo: rx=.. tx=.. ...").
summary() { grep -a '^zpath-echo: rx=' "$ZPT_TMP/$1.out" | tail -n 1 || true; }

# summary_get NAME KEY: the value of KEY=VALUE in NAME's summary line, 0 when absent (drop
# reasons appear only when non-zero).
summary_get() {
	local v
	v="$(summary "$1" | grep -oE "(^|[ (,])$2=[0-9]+" | tail -n 1 | sed 's/.*=//')"
	echo "${v:-0}"
}

# expect_summary NAME KEY MIN: KEY in NAME's summary line is at least MIN, else fail.
expect_summary() {
	local v
	[[ -n "$(summary "$1")" ]] || fail "$1 printed no summary line"
	v="$(summary_get "$1" "$2")"
	((v >= $3)) || fail "$1: $2=$v, expected >= $3 (summary: $(summary "$1"))"
}

zpt_dump_logs() {
	local name f
	for name in "${ZPT_RUNS[@]}"; do
		for f in "$ZPT_TMP/$name.out" "$ZPT_TMP/$name.err"; do
			[[ -s "$f" ]] || continue
			printf -- '----- %s (last 40 lines) -----\n' "$(basename "$f")" >&2
			tail -n 40 "$f" >&2
		done
	done
}
