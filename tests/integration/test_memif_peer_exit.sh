#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# A zpath server outlives its memif peers. One zpath-echo server (net_memif, role=server)
# serves 30 zpath-echo client processes one after the other; each makes 5 verified echo
# connections and exits, so the server's memif is disconnected 30 times while its worker polls.
#
# DPDK 22.11's net_memif unmaps the rings on disconnect with no lock against a burst in
# progress (dataplane/port/dp_guard.h); without zpath's burst guard the server died of
# SIGSEGV in about 1 of 30 disconnects here, i.e. in roughly half of the runs of this test.
# The server runs under `taskset -c 0` with `-l 0`, so that its EAL control threads share the
# worker's CPU (DPDK puts them on the CPUs the lcores leave free, or on the main lcore's when
# none is left): that is where the disconnect preempts the worker inside a burst.
# Asserted: the server is alive after every client and exits 0; it accepted and closed all
# 150 connections with no reset and no error. The port_fault count (bursts the guard
# abandoned) is logged, not asserted: whether the race hits in a given run is chance.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_cmd timeout taskset
require_echo

CLIENTS="${ZIO_MEMIF_CLIENTS:-30}"
zpt_reap_stale zio-xs
zpt_reap_stale zio-xc
S="$(zpt_name zio-xs)"
C="$(zpt_name zio-xc)"
SOCK="$ZPT_TMP/memif.sock"

memif_ini "$ZPT_TMP/server.ini" 10.99.6.1 "$S"
memif_ini "$ZPT_TMP/client.ini" 10.99.6.2 "$C"
read -ra mem <<<"${ZPT_EAL_MEM:---no-huge -m 256}"
eal_prefix_cleanup "$S"
eal_prefix_cleanup "$C"

ZPT_ECHO_WRAP="taskset -c 0" echo_start srv - 240 -l 0 --no-pci "${mem[@]}" --file-prefix "$S" \
	--vdev "net_memif0,role=server,id=0,socket=$SOCK,socket-abstract=no,mac=02:7a:69:00:06:01" \
	-- -c "$ZPT_TMP/server.ini" -- --mode echo --port 7 --duration 230
memif_wait_socket srv "$SOCK"

for ((k = 1; k <= CLIENTS; k++)); do
	rc=0
	echo_start "c$k" - 40 -l 1 --no-pci "${mem[@]}" --file-prefix "$C" \
		--vdev "net_memif0,role=client,id=0,socket=$SOCK,socket-abstract=no,mac=02:7a:69:00:06:02" \
		-- -c "$ZPT_TMP/client.ini" -- --mode client --connect 10.99.6.1:7 --bytes 1000 \
		--conns 5 --duration 30
	echo_wait "c$k" 40 || rc=$?
	((rc == 0)) || fail "client $k exited with status $rc: $(summary "c$k")"
	expect_summary "c$k" conns_ok 5
	echo_alive srv || {
		rc=0
		echo_wait srv || rc=$?
		fail "the server died after client $k left (status $rc): $(grep -a -m3 'SEGV\|Segmentation\|ERROR' "$ZPT_TMP/srv.err")"
	}
	((k % 10 == 0)) && zpt_log "$k clients served and gone, server alive"
done

rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "the server exited with status $rc"
zpt_log "server: $(summary srv)"
zpt_log "bursts abandoned by the guard (port_fault): $(summary_get srv port_fault)"
for k in conns_accepted conns_closed; do
	[[ "$(summary_get srv $k)" == $((CLIENTS * 5)) ]] ||
		fail "server: $k != $((CLIENTS * 5)): $(summary srv)"
done
[[ "$(summary_get srv resets)" == 0 && "$(summary_get srv errors)" == 0 ]] ||
	fail "server: resets or errors: $(summary srv)"
pass "the memif server outlived $CLIENTS peers that left (port_fault=$(summary_get srv port_fault))"
