#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# zpath in two minutes. Run as root on Debian 12:
#
#   sudo bash scripts/demo.sh
#
# Sets the machine up (scripts/setup.sh: packages, hugepages, build), then shows zpath-echo
# (examples/zpath-echo.c, a DPDK process with its own ARP/IPv4/ICMP) and the Linux kernel on the
# two ends of a tap link inside network namespace "zpdemo":
#   1. the kernel resolves zpath's MAC by ARP and pings zpath 5 times;
#   2. zpath resolves the kernel's MAC and pings the kernel 5 times;
#   3. zpath serves TCP echo and the kernel talks to it: a line, 64 MiB checked by SHA-256,
#      500 short connections, while zpathctl shows the connection, then zpath's counters.
# Everything it creates is removed when it exits, also on failure or Ctrl-C. Exits 0 on success.
#
# Each part is a function named demo_part_*, run in the order of DEMO_PARTS; a new part
# (the TCP echo, say) is a function and one more entry in that list.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
	sed -n '3,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
	exit 0
fi
[[ $(id -u) -eq 0 ]] || {
	echo "[demo] ERROR: run as root: sudo bash scripts/demo.sh" >&2
	exit 1
}

bash "$here/setup.sh"

# shellcheck source=../tests/integration/lib.sh
source "$here/../tests/integration/lib.sh" # netns, tap and zpath-echo helpers; cleanup trap
require_tun
require_netns
require_cmd ip ping timeout
require_echo

NS=zpdemo
IF=zpdemo0
PREFIX=zpdemo
ZIP=10.99.0.2 ZMAC=02:7a:64:00:00:02 # zpath
KIP=10.99.0.1 KMAC=02:7a:64:00:00:01 # the Linux kernel
INI="$ZPT_TMP/zpath.ini"

# Keep EAL's shared files (no --in-memory), so that dpdk-dumpcap can attach to a running demo:
# hugepages when the set-up got some, else --no-huge.
if (($(huge_free_mb) >= 256)); then
	export ZPT_EAL_MEM="-m 256"
	mem_note="hugepages"
	# Hugepage files a killed run may leave behind (only ours: the zpdemo prefix).
	while read -r dir; do
		it_cleanup_add "rm -f '$dir/${PREFIX}'map_*"
	done < <(awk '$3 == "hugetlbfs" { print $2 }' /proc/mounts)
else
	export ZPT_EAL_MEM="--no-huge -m 256"
	mem_note="no hugepages: --no-huge"
fi

if [[ -t 1 ]]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
show() { sed 's/^/    /'; }

# start NAME ARGS...: zpath-echo on net_tap0 (interface zpdemo0 in namespace zpdemo), and the
# kernel end of the tap configured as soon as it exists.
start() {
	local name="$1"
	shift
	tap_echo_start "$name" "$NS" "$IF" "$ZMAC" "$KMAC" "$KIP/24" "$PREFIX" "$INI" "$@"
}

demo_part_setup() {
	say "network namespace $NS, zpath.ini"
	netns_create "$NS"
	write_ini "$INI" <<EOF
[stack]
workers=1
mbufs=8191
instance=zpdemo
; ask again soon when an ARP request goes unanswered (the kernel side of the tap is set up
; just after zpath creates it)
arp_retry_ms=200
arp_retries=10

[port0]
device=net_tap0
address=$ZIP/24
gateway=$KIP
EOF
	show <"$INI"
	echo "    zpath: $ZIP ($ZMAC) on net_tap0; kernel: $KIP ($KMAC) on $IF in netns $NS; memory: $mem_note"
}

demo_part_kernel_pings_zpath() {
	say "1. the Linux kernel pings zpath"
	start serve --duration 50
	kernel_ping_until "$NS" "$ZIP" serve
	echo "    its start-up report:"
	grep -av '^zpath-echo: rx=' "$ZPT_TMP/serve.out" | show
	echo "    \$ ip netns exec $NS ping -c 5 -i 0.2 $ZIP"
	ip netns exec "$NS" ping -c 5 -i 0.2 -W 2 "$ZIP" | show ||
		fail "the kernel's pings were not all answered"
	echo "    \$ ip -n $NS neigh   # the kernel learned zpath's MAC by ARP"
	ip -n "$NS" neigh show dev "$IF" | show
	ip -n "$NS" neigh show "$ZIP" dev "$IF" | grep -qi "lladdr $ZMAC" ||
		fail "the kernel has no ARP entry with zpath's MAC $ZMAC"
	echo "    (while zpath runs, 'dpdk-dumpcap --file-prefix $PREFIX -w /tmp/zpdemo.pcapng' captures its traffic)"
	local rc=0
	echo_stop serve || rc=$?
	((rc == 0)) || fail "zpath-echo exited with status $rc"
	echo "    zpath's summary:"
	summary serve | show
	expect_summary serve echo_answered 5
}

demo_part_zpath_pings_kernel() {
	say "2. zpath pings the Linux kernel"
	start ping --ping "$KIP" --count 5 --interval-ms 200
	# The tap disappears with zpath-echo: look at the kernel's neighbour table while it runs.
	local rc=0 i n neigh=""
	for ((i = 0; i < 600; i++)); do
		echo_alive ping || break
		n="$(ip -n "$NS" neigh show dev "$IF" 2>/dev/null)" && [[ -n "$n" ]] && neigh="$n"
		sleep 0.1
	done
	echo_wait ping 5 || rc=$?
	((rc == 0)) || fail "zpath-echo --ping $KIP --count 5 exited with status $rc"
	echo "    zpath's summary:"
	summary ping | show
	expect_summary ping ping_replies 5
	if [[ -n "$neigh" ]]; then
		echo "    \$ ip -n $NS neigh   # the kernel learned zpath's MAC from zpath's ARP request"
		show <<<"$neigh"
	fi
}

demo_part_tcp_echo() {
	say "3. zpath serves TCP echo on port 7; the Linux kernel is the client"
	start tcp --mode echo --port 7 --duration 120
	kernel_ping_until "$NS" "$ZIP" tcp
	local kpeer="$here/../tests/integration/tcp_kpeer.py" out rc=0
	echo "    \$ echo 'hello zpath' | nc $ZIP 7     (a python3 socket here)"
	out="$(ip netns exec "$NS" timeout 10 "$ZPT_PYTHON" -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7), timeout=5)
s.sendall(b"hello zpath\n"); s.shutdown(socket.SHUT_WR)
print(s.makefile().read(), end="")' "$ZIP")" || fail "no echo from zpath"
	show <<<"$out"
	[[ "$out" == "hello zpath" ]] || fail "the echo differs: '$out'"

	echo "    64 MiB through zpath and back, SHA-256 of both directions compared:"
	ip netns exec "$NS" timeout 60 "$ZPT_PYTHON" "$kpeer" client --connect "$ZIP:7" \
		--bytes $((64 << 20)) --size 262144 | show || fail "the 64 MiB echo failed"
	echo "    500 connections one after the other (connect, 64 bytes each way, close):"
	ip netns exec "$NS" timeout 60 "$ZPT_PYTHON" "$kpeer" client --connect "$ZIP:7" \
		--bytes 64 --size 64 --conns 500 | show || fail "the short connections failed"

	# One connection left open so that zpathctl has something to show.
	coproc HOLD { ip netns exec "$NS" timeout 30 "$ZPT_PYTHON" -c '
import socket, sys, time
s = socket.create_connection((sys.argv[1], 7), timeout=5)
print("open", flush=True); sys.stdin.readline()' "$ZIP"; }
	read -r -t 10 _ <&"${HOLD[0]}" || fail "the held connection did not open"
	local ctl="$ZPATH_BUILD/control/zpathctl/zpathctl"
	echo "    \$ zpathctl -i zpdemo netstat"
	"$ctl" -i zpdemo netstat | show || fail "zpathctl netstat failed"
	echo >&"${HOLD[1]}"
	wait "$HOLD_PID" 2>/dev/null || true
	echo "    \$ zpathctl -i zpdemo stats   (excerpt)"
	"$ctl" -i zpdemo stats | grep -E "COUNTER|rx_packets|tx_packets|tcp\.(passive_opens|conn_established|segs_in|segs_out|retrans)" |
		show || true

	echo_stop tcp || rc=$?
	((rc == 0)) || fail "zpath-echo exited with status $rc"
	echo "    zpath's summary:"
	summary tcp | show
}

DEMO_PARTS=(setup kernel_pings_zpath zpath_pings_kernel tcp_echo)

t0="$(date +%s)"
for part in "${DEMO_PARTS[@]}"; do
	"demo_part_$part"
done
say "demo: OK ($(($(date +%s) - t0)) s): ARP both ways, pings both ways, TCP echo with the kernel as client"
