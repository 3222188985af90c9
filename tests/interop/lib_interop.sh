# SPDX-License-Identifier: BSD-3-Clause
# shellcheck shell=bash disable=SC2034
# Helpers for tests/interop/test_*.sh: zpath (zp_peer on a net_tap port) against the Linux
# kernel (kpeer.py) in a network namespace of its own. Built on tests/integration/lib.sh
# (outcomes, cleanup, namespaces, tap set-up), with zp_peer in the place of zpath-echo.
#
# Link: kernel 10.77.0.1 (zbio-tap0, in namespace zb-io-<pid>) <-> zpath 10.77.0.2.
# Environment: ZPATH_BUILD (default <repo>/build) must hold tests/interop/zp_peer.

ZPATH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ZPATH_BUILD="${ZPATH_BUILD:-$ZPATH_ROOT/build}"
case "$ZPATH_BUILD" in /*) ;; *) ZPATH_BUILD="$ZPATH_ROOT/$ZPATH_BUILD" ;; esac
ZPT_ECHO="$ZPATH_BUILD/tests/interop/zp_peer" # lib.sh starts "zpath-echo" from here
# shellcheck source=../integration/lib.sh
source "$ZPATH_ROOT/tests/integration/lib.sh"

KPEER="$ZPATH_ROOT/tests/interop/kpeer.py"
IO_NS="zb-io-$$"
IO_IF=${ZPT_IO_IF:-zbio-tap0} # ZPT_IO_IF: another name when several runs share the host
IO_ZMAC=02:7a:62:00:00:02
IO_KMAC=02:7a:62:00:00:01
IO_ZIP=10.77.0.2
IO_KIP=10.77.0.1
IO_PORT=5301

# interop_init: requirements, namespace and zpath.ini. Call first.
interop_init() {
	require_root
	require_tun
	require_netns
	require_cmd ip timeout python3
	[[ -x "$ZPT_ECHO" ]] ||
		fail "$ZPT_ECHO not built: it is linked once libzpath implements the socket API (reconfigure: meson setup --reconfigure $ZPATH_BUILD)"
	netns_create "$IO_NS"
	it_cleanup_add "rm -rf '/var/run/dpdk/zb-io-$$'" # EAL runtime files of zp_peer
	write_ini "$ZPT_TMP/zpath.ini" <<-EOF
	[stack]
	workers=1
	instance=zb-io-$$
	mbufs=8191

	[port0]
	device=net_tap0
	address=$IO_ZIP/24
	gateway=$IO_KIP
	EOF
}

# zp_start NAME ROLE ARGS...: zp_peer in the background on the tap port; the kernel end of the
# tap is configured once it exists. ZPT_ECHO_TIMEOUT bounds its run time (default 60 s).
zp_start() {
	local name="$1"
	shift
	tap_echo_start "$name" "$IO_NS" "$IO_IF" "$IO_ZMAC" "$IO_KMAC" "$IO_KIP/24" "zb-io-$$" \
		"$ZPT_TMP/zpath.ini" "$@"
}

# zp_wait NAME TIMEOUT_S: wait for zp_peer NAME; fails unless it exits 0 with result=ok.
zp_wait() {
	local rc=0
	echo_wait "$1" "$2" || rc=$?
	((rc != 125)) || fail "zp_peer $1 still running after $2 s"
	zpt_log "zpath $1: $(zp_result "$1")"
	((rc == 0)) || fail "zp_peer $1 exited with status $rc: $(zp_field "$1" reason)"
}

# zp_result NAME / zp_field NAME KEY: zp_peer's summary line / one KEY=VALUE of it.
zp_result() { grep -a '^zp_peer: ' "$ZPT_TMP/$1.out" | tail -n 1 || true; }
zp_field() { zp_result "$1" | grep -oE "(^| )$2=(\"[^\"]*\"|[^ ]*)" | head -n1 | sed 's/^ *[^=]*=//; s/^"//; s/"$//'; }

# kp_start NAME ROLE ARGS...: kpeer.py in the namespace, in the background (servers).
declare -A KP_PID=()
kp_start() {
	local name="$1"
	shift
	timeout -k 5 "${KP_TIMEOUT:-120}" ip netns exec "$IO_NS" python3 "$KPEER" "$@" \
		>"$ZPT_TMP/$name.out" 2>"$ZPT_TMP/$name.err" </dev/null &
	KP_PID[$name]=$!
	ZPT_RUNS+=("$name")
	it_cleanup_add "kill ${KP_PID[$name]}"
}

# kp_wait NAME: wait for a background kpeer; fails unless result=ok.
kp_wait() {
	local rc=0
	wait "${KP_PID[$1]}" || rc=$?
	zpt_log "kernel $1: $(kp_result "$1")"
	((rc == 0)) || fail "kpeer $1 exited with status $rc: $(kp_field "$1" reason)"
}

# kp_run NAME ROLE ARGS...: kpeer.py in the foreground; fails unless result=ok.
kp_run() {
	kp_start "$@"
	kp_wait "$1"
}

# kp_listening NAME: wait until a kpeer server listens (it says so on stderr).
kp_listening() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^kpeer: listening' "$ZPT_TMP/$1.err" 2>/dev/null && return 0
		kill -0 "${KP_PID[$1]}" 2>/dev/null || fail "kpeer $1 exited before listening"
		sleep 0.1
	done
	fail "kpeer $1 not listening after 10 s"
}

kp_result() { grep -a '^kpeer: ' "$ZPT_TMP/$1.out" | tail -n 1 || true; }
kp_field() { kp_result "$1" | grep -oE "(^| )$2=(\"[^\"]*\"|[^ ]*)" | head -n1 | sed 's/^ *[^=]*=//; s/^"//; s/"$//'; }

# same WHAT A B: fail unless A = B.
same() {
	[[ "$2" == "$3" ]] || fail "$1: '$2' != '$3'"
}

# zpath_reachable NAME: wait until the kernel reaches zpath (ARP + ping), so a kernel client's
# first SYN is not lost while zp_peer starts.
zpath_reachable() { kernel_ping_until "$IO_NS" "$IO_ZIP" "$1" 30; }
