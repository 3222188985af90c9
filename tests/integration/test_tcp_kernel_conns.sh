#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Many TCP connections between zpath and the Linux kernel over a net_tap link:
#  1. kernel -> zpath-echo --mode echo: 1000 sequential short connections (64 bytes echoed on
#     each, SHA-256 compared), then 4 kernel clients at once with 25 connections of 256 KiB
#     each; zpath's summary must account for every connection (accepted = closed, no error,
#     no reset);
#  2. zpath-echo --mode client -> kernel echo server: 1000 sequential short connections, then
#     200 connections of 64 KiB, 20 at a time; every echo verified by zpath.
# Connection rates are logged, not asserted.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip ping timeout python3
require_echo

tcp_tap_setup zio-tc 2 # NS, IF, ZMAC, KMAC, ZIP, KIP, KPEER, zpath.ini, start_echo
kpeer_bg() { # kpeer_bg NAME ARGS...: tcp_kpeer.py in the namespace, in the background
	local name="$1"
	shift
	timeout -k 5 50 ip netns exec "$NS" python3 "$KPEER" "$@" >"$ZPT_TMP/$name.out" \
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
declare -A KPID=()

# --- 1. kernel clients, zpath echo server ----------------------------------------------------
start_echo srv --mode echo --port 7 --duration 55
kernel_ping_until "$NS" "$ZIP" srv
kpeer_bg seq client --connect "$ZIP:7" --bytes 64 --conns 1000
kpeer_wait seq
for i in 1 2 3 4; do
	kpeer_bg "par$i" client --connect "$ZIP:7" --bytes 262144 --conns 25
done
for i in 1 2 3 4; do
	kpeer_wait "par$i"
done
rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo --mode echo exited with status $rc"
zpt_log "zpath: $(summary srv)"
for k in conns_accepted conns_closed; do
	[[ "$(summary_get srv $k)" == 1100 ]] || fail "zpath server: $k != 1100: $(summary srv)"
done
[[ "$(summary_get srv bytes_echoed)" == $((1000 * 64 + 100 * 262144)) ]] ||
	fail "zpath server echoed $(summary_get srv bytes_echoed) bytes"
[[ "$(summary_get srv errors)" == 0 && "$(summary_get srv resets)" == 0 ]] ||
	fail "zpath server: $(summary srv)"

# --- 2. zpath client, kernel echo server -----------------------------------------------------
kpeer_bg ks1 server --bind 0.0.0.0:9000 --conns 1000
start_echo cli1 --mode client --connect "$KIP:9000" --bytes 64 --conns 1000 --delay-ms 500 \
	--duration 45
rc=0
echo_wait cli1 50 || rc=$?
grep -a 'client:' "$ZPT_TMP/cli1.err" >&2 || true
((rc == 0)) || fail "zpath client (1000 sequential) exited with status $rc: $(summary cli1)"
kpeer_wait ks1
expect_summary cli1 conns_ok 1000

kpeer_bg ks2 server --bind 0.0.0.0:9001 --conns 200
start_echo cli2 --mode client --connect "$KIP:9001" --bytes 65536 --conns 200 --parallel 20 \
	--delay-ms 500 --duration 45
rc=0
echo_wait cli2 50 || rc=$?
grep -a 'client:' "$ZPT_TMP/cli2.err" >&2 || true
((rc == 0)) || fail "zpath client (200, 20 at a time) exited with status $rc: $(summary cli2)"
kpeer_wait ks2
expect_summary cli2 conns_ok 200
pass "1100 kernel connections to zpath, 1200 zpath connections to the kernel, all echoes verified"
