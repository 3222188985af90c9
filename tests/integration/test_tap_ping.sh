#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# zpath and the Linux kernel on the two ends of a net_tap link, in a network namespace:
#  1. the kernel resolves zpath's MAC by ARP (ip neigh shows it) and pings zpath 5 times;
#  2. a second zpath-echo run resolves the kernel's MAC and pings the kernel (--ping, --count 3).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip ping timeout
require_echo

# NS (namespace, EAL file prefix, instance), IF zpt-tap0, ZMAC/KMAC, ZIP/KIP (10.99.5.2/.1),
# zpath.ini and start_echo.
tcp_tap_setup zpt-tap 5

# --- 1. the kernel pings zpath -------------------------------------------------------------
start_echo srv --duration 50
kernel_ping_until "$NS" "$ZIP" srv
out="$(ip netns exec "$NS" ping -c 5 -i 0.2 -W 2 "$ZIP" 2>&1)" || fail "kernel ping of zpath: $out"
zpt_log "kernel -> zpath: $(grep -E 'packets transmitted' <<<"$out")"
neigh="$(ip -n "$NS" neigh show "$ZIP" dev "$IF")"
zpt_log "kernel neighbour entry: $neigh"
grep -qi "lladdr $ZMAC" <<<"$neigh" || fail "kernel did not learn zpath's MAC $ZMAC by ARP: '$neigh'"
grep -qE 'REACHABLE|STALE|DELAY|PROBE' <<<"$neigh" || fail "kernel neighbour entry not valid: '$neigh'"

rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo (answering) exited with status $rc"
zpt_log "zpath: $(summary srv)"
expect_summary srv arp_in 1
expect_summary srv echo_answered 6

# --- 2. zpath pings the kernel -------------------------------------------------------------
start_echo cli --ping "$KIP" --count 3 --interval-ms 200
rc=0
echo_wait cli 40 || rc=$?
((rc == 0)) || fail "zpath-echo --ping $KIP --count 3 exited with status $rc (125: still running after 40 s)"
zpt_log "zpath: $(summary cli)"
expect_summary cli ping_replies 3
pass "kernel <-> zpath over net_tap: ARP both ways, ping both ways"
