#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Bulk TCP between zpath and the Linux kernel over a net_tap link in a network namespace:
#  1. kernel client -> zpath-echo --mode echo: 64 MiB sent, then SHUT_WR; the echo read to end
#     of stream; byte counts and SHA-256 of both directions equal (tcp_kpeer.py);
#  2. zpath-echo --mode client -> kernel echo server: 64 MiB, the echo verified byte for byte
#     by zpath, the kernel's SHA-256 of what it received equals the byte count.
# ZIO_BULK_BYTES changes the size (the run bound is 60 s). Speeds are logged, not asserted.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip ping timeout python3
require_echo

BYTES="${ZIO_BULK_BYTES:-67108864}"
tcp_tap_setup zio-tb 1 # NS, IF, ZMAC, KMAC, ZIP, KIP, KPEER, zpath.ini, start_echo
kpeer() { # kpeer NAME ARGS...: tcp_kpeer.py in the namespace, output in $ZPT_TMP/NAME.out
	local name="$1"
	shift
	timeout -k 5 50 ip netns exec "$NS" python3 "$KPEER" "$@" >"$ZPT_TMP/$name.out" \
		2>"$ZPT_TMP/$name.err" </dev/null
}
kfield() { grep -oE "(^| )$2=[^ ]*" "$ZPT_TMP/$1.out" | tail -n 1 | sed 's/.*=//'; }

# --- 1. kernel client, zpath echo server -----------------------------------------------------
start_echo srv --mode echo --port 7 --duration 50
kernel_ping_until "$NS" "$ZIP" srv
rc=0
kpeer kc client --connect "$ZIP:7" --bytes "$BYTES" --size 262144 || rc=$?
zpt_log "kernel client: $(cat "$ZPT_TMP/kc.out")"
((rc == 0)) || fail "kernel client through zpath's echo: $(cat "$ZPT_TMP/kc.out" "$ZPT_TMP/kc.err")"
[[ "$(kfield kc rx_bytes)" == "$BYTES" ]] || fail "echo length $(kfield kc rx_bytes) != $BYTES"
[[ "$(kfield kc sha_tx)" == "$(kfield kc sha_rx)" ]] || fail "echo SHA-256 differs"
rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo --mode echo exited with status $rc"
zpt_log "zpath: $(summary srv)"
expect_summary srv conns_accepted 1
[[ "$(summary_get srv bytes_echoed)" == "$BYTES" ]] || fail "zpath echoed $(summary_get srv bytes_echoed) bytes"
[[ "$(summary_get srv conns_closed)" == 1 && "$(summary_get srv errors)" == 0 &&
	"$(summary_get srv resets)" == 0 ]] || fail "zpath server: $(summary srv)"

# --- 2. zpath client, kernel echo server -----------------------------------------------------
timeout -k 5 50 ip netns exec "$NS" python3 "$KPEER" server --bind "0.0.0.0:9000" \
	>"$ZPT_TMP/ks.out" 2>"$ZPT_TMP/ks.err" </dev/null &
KS=$!
it_cleanup_add "kill $KS"
start_echo cli --mode client --connect "$KIP:9000" --bytes "$BYTES" --size 65536 \
	--delay-ms 500 --duration 45
rc=0
echo_wait cli 50 || rc=$?
zpt_log "zpath client: $(summary cli)"
grep -a 'client:' "$ZPT_TMP/cli.err" >&2 || true
((rc == 0)) || fail "zpath-echo --mode client exited with status $rc"
rc=0
wait "$KS" || rc=$?
zpt_log "kernel server: $(cat "$ZPT_TMP/ks.out")"
((rc == 0)) || fail "kernel echo server: $(cat "$ZPT_TMP/ks.out" "$ZPT_TMP/ks.err")"
[[ "$(summary_get cli bytes_verified)" == "$BYTES" ]] || fail "zpath verified $(summary_get cli bytes_verified) bytes"
[[ "$(kfield ks bytes_in)" == "$BYTES" ]] || fail "kernel received $(kfield ks bytes_in) bytes"
pass "$BYTES bytes each way, kernel -> zpath echo and zpath -> kernel echo, verified"
