#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The "restarted server cannot bind" scenario (REU-1, REU-2, REU-4): a zpath server takes one
# connection from the kernel and closes first, so the connection sits in TIME_WAIT on zpath's
# side. Then, in the same process (the stack holds the TIME_WAIT):
#  - bind to the server's address and port without SO_REUSEADDR fails EADDRINUSE;
#  - with SO_REUSEADDR, bind and listen succeed;
#  - a socket bound there with SO_REUSEADDR cannot connect() to the kernel's address and port:
#    that 4-tuple is still in TIME_WAIT (EADDRNOTAVAIL).
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

interop_init

zp_start srv server --port "$IO_PORT" --steps recv:100,close --after sleep:1000,tw_restart
zpath_reachable srv
kp_run cli client --connect "$IO_ZIP:$IO_PORT" --steps send:100,recv_eof,close
zp_wait srv 30
for what in "bind without SO_REUSEADDR" "bind with SO_REUSEADDR:" "listen after the restart" \
	"connect reusing the 4-tuple in TIME_WAIT"; do
	grep -q "zp_peer: $what.*(as expected)" "$ZPT_TMP/srv.err" ||
		fail "zp_peer did not report '$what' as expected"
	zpt_log "$(grep -m1 "zp_peer: $what" "$ZPT_TMP/srv.err" | sed 's/^zp_peer: //')"
done
pass "TIME_WAIT restart: EADDRINUSE without SO_REUSEADDR, bind+listen with it, 4-tuple refused"
