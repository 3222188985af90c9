#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# How TCP connections between zpath and the Linux kernel end (close-semantics.md), over a
# net_tap link in a network namespace:
#  1. half-close, kernel first (CL-5, SD-1): the kernel sends 1 MiB and shuts down writing;
#     zpath's echo server goes on sending in CLOSE_WAIT; the kernel reads all of it, then EOF;
#  2. kernel RST after data: the kernel reads its whole echo, then closes with SO_LINGER {1,0};
#     zpath's echo server sees the reset (recv ECONNRESET), counts it and closes (3 times);
#  3. zpath linger-0 abort (RST-3): zpath-echo --abort-after 1000: the kernel reads exactly the
#     1000 bytes sent before the RST, then ECONNRESET;
#  4. half-close, zpath first: zpath's client sends 1 MiB and shuts down writing; the kernel
#     reads to end of stream and only then sends it all back; zpath verifies it;
#  5. kernel RST after data, zpath as the client (F-1, F-3): zpath sends 1000 bytes and
#     half-closes, the kernel echoes the 1000 bytes and resets; zpath reads the 1000 bytes,
#     then ECONNRESET. (zpath sends no more than the kernel echoes: a RST that overtakes a
#     sender gives the send ECONNRESET first, ERR-7, and the test would depend on timing);
#  6. zpath linger-0 abort as the client: once its echo is complete zpath closes with
#     SO_LINGER {1,0}; the kernel's recv fails ECONNRESET.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip ping timeout python3
require_echo

tcp_tap_setup zio-tx 3 # NS, IF, ZMAC, KMAC, ZIP, KIP, KPEER, zpath.ini, start_echo
declare -A KPID=()
kpeer_bg() { # kpeer_bg NAME ARGS...: tcp_kpeer.py in the namespace, in the background
	local name="$1"
	shift
	timeout -k 5 40 ip netns exec "$NS" python3 "$KPEER" "$@" >"$ZPT_TMP/$name.out" \
		2>"$ZPT_TMP/$name.err" </dev/null &
	KPID[$name]=$!
	it_cleanup_add "kill ${KPID[$name]}"
}
kpeer_wait() { # kpeer_wait NAME: fail unless it exits 0 (result=ok)
	local rc=0
	wait "${KPID[$1]}" || rc=$?
	zpt_log "kernel $1: $(cat "$ZPT_TMP/$1.out")"
	((rc == 0)) || fail "kernel $1: $(cat "$ZPT_TMP/$1.out" "$ZPT_TMP/$1.err")"
}
kpeer_run() {
	kpeer_bg "$@"
	kpeer_wait "$1"
}
kfield() { grep -oE "(^| )$2=[^ ]*" "$ZPT_TMP/$1.out" | tail -n 1 | sed 's/.*=//'; }
stop_ok() { # stop_ok NAME: SIGTERM, exit status 0
	local rc=0
	echo_stop "$1" || rc=$?
	((rc == 0)) || fail "zpath-echo $1 exited with status $rc"
	zpt_log "zpath $1: $(summary "$1")"
}
expect_eq() { # expect_eq NAME KEY VALUE
	[[ "$(summary_get "$1" "$2")" == "$3" ]] || fail "zpath $1: $2 != $3: $(summary "$1")"
}

# --- 1, 2: zpath echo server ----------------------------------------------------------------
start_echo srv --mode echo --port 7 --duration 30
kernel_ping_until "$NS" "$ZIP" srv
kpeer_run half client --connect "$ZIP:7" --bytes 1048576
[[ "$(kfield half sha_tx)" == "$(kfield half sha_rx)" ]] || fail "half-close: echo differs"
kpeer_run krst client --connect "$ZIP:7" --bytes 100000 --conns 3 --rst-after-echo
sleep 0.5
stop_ok srv
expect_eq srv conns_accepted 4
expect_eq srv conns_closed 4
expect_eq srv resets 3
expect_eq srv errors 0

# --- 3: zpath aborts (SO_LINGER {1,0}) after 1000 bytes ------------------------------------
start_echo abrt --mode echo --port 7 --abort-after 1000 --duration 30
kernel_ping_until "$NS" "$ZIP" abrt
kpeer_run zrst client --connect "$ZIP:7" --bytes 100000 --expect-reset
[[ "$(kfield zrst rx_bytes)" == 1000 ]] || fail "kernel read $(kfield zrst rx_bytes) bytes before the reset, not 1000"
stop_ok abrt
expect_eq abrt conns_closed 1
expect_eq abrt errors 0

# --- 4: zpath client half-closes first; the kernel answers after zpath's FIN ----------------
kpeer_bg store server --bind 0.0.0.0:9000 --mode store
start_echo cli4 --mode client --connect "$KIP:9000" --bytes 1048576 --delay-ms 500 --duration 25
rc=0
echo_wait cli4 30 || rc=$?
((rc == 0)) || fail "zpath client, half-close first: status $rc: $(summary cli4)"
kpeer_wait store
expect_eq cli4 bytes_verified 1048576

# --- 5: the kernel server resets after 1000 bytes -------------------------------------------
kpeer_bg ksrst server --bind 0.0.0.0:9001 --mode rst-after:1000
start_echo cli5 --mode client --connect "$KIP:9001" --bytes 1000 --delay-ms 500 --duration 25
rc=0
echo_wait cli5 30 || rc=$?
((rc == 1)) || fail "zpath client reset by the kernel: status $rc (expected 1): $(summary cli5)"
kpeer_wait ksrst
expect_eq cli5 resets 1
grep -aq "1000 echoed: recv: Connection reset by peer" "$ZPT_TMP/cli5.err" ||
	fail "zpath client did not read 1000 bytes then ECONNRESET: $(grep -a failed "$ZPT_TMP/cli5.err")"

# --- 6: zpath client aborts once its echo is complete --------------------------------------
kpeer_bg kseen server --bind 0.0.0.0:9002
start_echo cli6 --mode client --connect "$KIP:9002" --bytes 100000 --linger0 --delay-ms 500 \
	--duration 25
rc=0
echo_wait cli6 30 || rc=$?
((rc == 0)) || fail "zpath client with --linger0: status $rc: $(summary cli6)"
kpeer_wait kseen
[[ "$(kfield kseen resets)" == 1 ]] || fail "the kernel server saw no reset: $(cat "$ZPT_TMP/kseen.out")"
pass "half-close both ways, RST after data both ways, linger-0 abort both ways"
