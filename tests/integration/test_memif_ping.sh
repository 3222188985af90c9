#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Two zpath processes linked by a net_memif pair (as two containers on one host would be):
#  1. the memif client pings the memif server (--ping, --count 3); the server answers;
#  2. the reverse: the server pings, the client answers.
# Each process has its own --file-prefix and EAL memory; the memif socket is a file in a temp
# directory (socket-abstract=no).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd timeout
require_echo

zpt_reap_stale zpt-memif-s
zpt_reap_stale zpt-memif-c
S="$(zpt_name zpt-memif-s)" # EAL file prefix and instance name of each side
C="$(zpt_name zpt-memif-c)"
SMAC=02:7a:6d:00:00:01
CMAC=02:7a:6d:00:00:02
SIP=10.79.0.1
CIP=10.79.0.2

memif_ini "$ZPT_TMP/server.ini" "$SIP" "$S"
memif_ini "$ZPT_TMP/client.ini" "$CIP" "$C"
read -ra mem <<<"$(eal_mem_args 256)"
eal_prefix_cleanup "$S"
eal_prefix_cleanup "$C"

# server NAME SOCKET ARGS... / client NAME SOCKET ARGS...: start one end of the pair.
server() {
	local name="$1" sock="$2"
	shift 2
	echo_start "$name" - 60 -l 0 --no-pci "${mem[@]}" --file-prefix "$S" \
		--vdev "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no,mac=$SMAC" \
		-- -c "$ZPT_TMP/server.ini" -- "$@"
	memif_wait_socket "$name" "$sock"
}
client() {
	local name="$1" sock="$2"
	shift 2
	echo_start "$name" - 60 -l 1 --no-pci "${mem[@]}" --file-prefix "$C" \
		--vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,mac=$CMAC" \
		-- -c "$ZPT_TMP/client.ini" -- "$@"
}

# --- 1. client pings server ----------------------------------------------------------------
server srv1 "$ZPT_TMP/memif1.sock" --duration 50
client cli1 "$ZPT_TMP/memif1.sock" --ping "$SIP" --count 3 --interval-ms 200
rc=0
echo_wait cli1 40 || rc=$?
((rc == 0)) || fail "client: zpath-echo --ping $SIP --count 3 exited with status $rc (125: still running after 40 s)"
zpt_log "client: $(summary cli1)"
expect_summary cli1 ping_replies 3
rc=0
echo_stop srv1 || rc=$?
((rc == 0)) || fail "server (answering) exited with status $rc"
zpt_log "server: $(summary srv1)"
expect_summary srv1 echo_answered 3

# --- 2. server pings client ----------------------------------------------------------------
server srv2 "$ZPT_TMP/memif2.sock" --ping "$CIP" --count 3 --interval-ms 200
client cli2 "$ZPT_TMP/memif2.sock" --duration 50
rc=0
echo_wait srv2 40 || rc=$?
((rc == 0)) || fail "server: zpath-echo --ping $CIP --count 3 exited with status $rc (125: still running after 40 s)"
zpt_log "server: $(summary srv2)"
expect_summary srv2 ping_replies 3
rc=0
echo_stop cli2 || rc=$?
((rc == 0)) || fail "client (answering) exited with status $rc"
zpt_log "client: $(summary cli2)"
expect_summary cli2 echo_answered 3
pass "two zpath processes over net_memif: ping both ways"
