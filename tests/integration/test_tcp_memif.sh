#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# TCP between two zpath processes linked by a net_memif pair (two containers on one host):
# zpath-echo --mode echo on one side, zpath-echo --mode client on the other:
#  1. 64 MiB through the echo, verified byte for byte by the client;
#  2. 1000 sequential short connections, every echo verified;
#  3. 2000 request/response round trips of 64 bytes;
# and a clean end: the server accepted and closed every connection, with no reset and no
# error. Throughput, connection rate and round-trip times are logged, not
# asserted (ZIO_MEMIF_BYTES changes the size of 1).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd timeout
require_echo

BYTES="${ZIO_MEMIF_BYTES:-67108864}"
zpt_reap_stale zio-ms
zpt_reap_stale zio-mc
S="$(zpt_name zio-ms)" # EAL file prefix and instance name of each side
C="$(zpt_name zio-mc)"
SMAC=02:7a:69:00:04:01
CMAC=02:7a:69:00:04:02
SIP=10.99.4.1
CIP=10.99.4.2
SOCK="$ZPT_TMP/memif.sock"

memif_ini "$ZPT_TMP/server.ini" "$SIP" "$S"
memif_ini "$ZPT_TMP/client.ini" "$CIP" "$C"
# Two processes: hugepages free now may be gone by the time the second starts (other runs share
# the machine), so both use plain memory unless ZPT_EAL_MEM says otherwise.
read -ra mem <<<"${ZPT_EAL_MEM:---no-huge -m 256}"
eal_prefix_cleanup "$S"
eal_prefix_cleanup "$C"

echo_start srv - 60 -l 0 --no-pci "${mem[@]}" --file-prefix "$S" \
	--vdev "net_memif0,role=server,id=0,socket=$SOCK,socket-abstract=no,mac=$SMAC" \
	-- -c "$ZPT_TMP/server.ini" -- --mode echo --port 7 --duration 55
memif_wait_socket srv "$SOCK"

client() { # client NAME ARGS...: a zpath-echo client run to completion, exit status 0
	local name="$1" rc=0
	shift
	echo_start "$name" - 40 -l 1 --no-pci "${mem[@]}" --file-prefix "$C" \
		--vdev "net_memif0,role=client,id=0,socket=$SOCK,socket-abstract=no,mac=$CMAC" \
		-- -c "$ZPT_TMP/client.ini" -- --mode client --connect "$SIP:7" --duration 30 "$@"
	echo_wait "$name" 40 || rc=$?
	grep -a 'client:' "$ZPT_TMP/$name.err" >&2 || true
	((rc == 0)) || fail "zpath client $name exited with status $rc: $(summary "$name")"
}
client bulk --bytes "$BYTES" --size 65536
expect_summary bulk bytes_verified "$BYTES"
client conns --bytes 64 --conns 1000
expect_summary conns conns_ok 1000
client rr --rr --size 64 --bytes $((2000 * 64))
expect_summary rr rtt_n 2000

rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo --mode echo exited with status $rc"
zpt_log "server: $(summary srv)"
for k in conns_accepted conns_closed; do
	[[ "$(summary_get srv $k)" == 1002 ]] || fail "server: $k != 1002: $(summary srv)"
done
[[ "$(summary_get srv resets)" == 0 && "$(summary_get srv errors)" == 0 ]] ||
	fail "server: resets or errors: $(summary srv)"
pass "zpath <-> zpath over net_memif: bulk, 1000 connections, round trips, clean close"
