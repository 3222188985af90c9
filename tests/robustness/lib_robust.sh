# shellcheck shell=bash disable=SC2034
# SPDX-License-Identifier: BSD-3-Clause
# Helpers of the robustness suite (sourced by tests/robustness/run.sh; see README.md there).
# Built on tests/integration/lib.sh (outcomes, cleanup, namespaces, tap set-up, zpath
# processes in the background), with zp_peer (tests/interop/zp_peer.c) as the zpath program.
#
# Everything this suite creates is named "zr...": namespaces zr-t-PID (tap), zr-ka-PID and
# zr-kb-PID (kernel pair), EAL file prefixes and instances zr-t-PID, zr-ma-PID, zr-mb-PID,
# interfaces zrtap0, zrka, zrkb, zrdup0/zrdup1 (inside those namespaces), nft table zr_fault
# (inside those namespaces).

ZPATH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
ZPATH_BUILD="${ZPATH_BUILD:-$ZPATH_ROOT/build}"
case "$ZPATH_BUILD" in /*) ;; *) ZPATH_BUILD="$ZPATH_ROOT/$ZPATH_BUILD" ;; esac
ZR_DIR="$ZPATH_ROOT/tests/robustness"
ZR_ZP_PEER="$ZPATH_BUILD/tests/interop/zp_peer"
ZR_KPEER="$ZR_DIR/zr_peer.py"
ZR_ZPATHCTL="$ZPATH_BUILD/control/zpathctl/zpathctl"
# lib.sh starts "$ZPT_ECHO": zp_peer, through the stderr time-stamper.
ZPT_ECHO="$ZR_DIR/zr_stamp.sh"
export ZR_STAMP_PROG="$ZR_ZP_PEER"
# shellcheck source=../integration/lib.sh
source "$ZPATH_ROOT/tests/integration/lib.sh"

ZR_PORT=5401
ZR_KIP=10.88.0.1 # the kernel server (tap: on zrtap0; kernel pair: on zrkb)
ZR_ZIP=10.88.0.2 # zpath on the tap; the kernel client on zrka
ZR_ZMAC=02:7a:72:00:00:02
ZR_KMAC=02:7a:72:00:00:01
ZR_MA_IP=10.88.1.1 # memif: side a (server)
ZR_MB_IP=10.88.1.2 # memif: side b (client)
ZR_MA_MAC=02:7a:72:00:01:01
ZR_MB_MAC=02:7a:72:00:01:02
ZR_MBUFS="${ZR_MBUFS:-32767}"
ZR_COPY_MARK=0x7a72 # nft: a duplicate made by the "out" chain

zr_log() { zpt_log "$@"; }

# lib.sh's skip and fail, which also leave the reason in $ZPT_TMP/last-why for run.sh's table.
skip() {
	zpt_log "SKIP: $*"
	printf '%s\n' "$*" >"$ZPT_TMP/last-why" 2>/dev/null || true
	exit 77
}
fail() {
	zpt_log "FAIL: $*"
	printf '%s\n' "$*" >"$ZPT_TMP/last-why" 2>/dev/null || true
	exit 1
}

# zr_on_exit: the EXIT trap of a case: on failure the kernel peers' last lines, then lib.sh's
# zpt_on_exit (zpath logs, cleanup in reverse order).
ZR_KP_LOGS=()
zr_on_exit() {
	local rc=$? n f
	set +e
	if ((rc != 0 && rc != 77)); then
		for n in "${ZR_KP_LOGS[@]}"; do
			for f in "$ZPT_TMP/$n.out" "$ZPT_TMP/$n.err"; do
				[[ -s "$f" ]] || continue
				printf -- '----- %s (last 15 lines) -----\n' "$(basename "$f")" >&2
				tail -n 15 "$f" >&2
			done
		done
	fi
	(exit "$rc")
	zpt_on_exit
}

# --- facilities ----------------------------------------------------------------------------
# zr_have_tcp: zp_peer is linked (it is only once libzpath has the socket API).
zr_have_tcp() { [[ -x "$ZR_ZP_PEER" ]]; }
# zr_have_fault: the build's libzpath knows the fault-injection keys of [portN] (zp_peer links
# it statically; a shared libzpath it loads counts too).
zr_have_fault() {
	local f
	zr_have_tcp || return 1
	for f in "$ZR_ZP_PEER" $(ldd "$ZR_ZP_PEER" 2>/dev/null | awk '/libzpath/ { print $3 }'); do
		grep -qaw 'fault_tx' "$f" && return 0
	done
	return 1
}
# zr_have_egress: nft accepts a netdev egress chain (Linux >= 5.16, nft >= 1.0.1).
zr_have_egress() {
	local ns="zr-probe-$$" rc=0
	ip netns add "$ns" 2>/dev/null || return 1
	ip -n "$ns" link add zrprobe type veth peer name zrprobe1 2>/dev/null &&
		ip netns exec "$ns" nft -f - 2>/dev/null <<-EOF || rc=1
		table netdev zr_probe {
			chain out { type filter hook egress device "zrprobe" priority 0; }
		}
		EOF
	ip netns del "$ns"
	return "$rc"
}

# --- fault rules (nftables, family netdev) --------------------------------------------------
# zr_nft_load NS DEV DUPDEV DROP DUP CORRUPT: the table zr_fault in NS, on device DEV:
#   chain "in"  (hook ingress: packets DEV receives, i.e. from the far end towards this stack),
#   chain "out" (hook egress: packets this stack sends out of DEV),
# each with, for IPv4 only (ARP is left alone), in this order and with independent draws:
#   drop    DROP % of packets;
#   corrupt CORRUPT % of TCP segments longer than 200 bytes (data): one bit of payload byte
#           101 of the TCP segment is flipped (@th,808,8 ^ 1). On the way in the packet
#           carries its final checksum, so the receiver's check sees the change. On the way out
#           Linux has not computed the TCP checksum yet (CHECKSUM_PARTIAL: it is filled in
#           after the egress hook, over the corrupted byte), so the rule flips one bit of the
#           checksum field as well (@th,128,8 ^ 1), which is the seed of that computation: the
#           packet leaves with a checksum that is off by 256, never right. (Measured: without
#           it the corruption goes through unseen.)
#   dup     DUP % of packets: a copy is sent as well. Out: "dup to DEV" sends the copy on DEV;
#           Linux runs the egress hook again for it, so the packet is marked (meta mark
#           ZR_COPY_MARK) before it is copied and the first rule lets marked packets through
#           untouched: a copy is not dropped, corrupted or copied again. In: "dup to DUPDEV",
#           one end of a veth pair whose other end has DEV's MAC and no address, in the same
#           namespace: the copy comes back in through it to the same stack (IP delivers by
#           address, not interface; rp_filter is off).
# Every rule has a counter and a comment (in_drop, out_dup, ...) read by zr_nft_counters.
# Rates are whole percent (numgen random mod 100 < N); 0 leaves the rule out.
zr_nft_load() {
	local ns="$1" dev="$2" dupdev="$3" drop="$4" dup="$5" corrupt="$6" dir chain hook stmt
	local rules=""
	for dir in in out; do
		if [[ "$dir" == in ]]; then hook=ingress; else hook=egress; fi
		rules+="	chain $dir {
		type filter hook $hook device \"$dev\" priority 0; policy accept;
		meta mark $ZR_COPY_MARK counter accept comment \"${dir}_copies\"
		meta protocol ip counter comment \"${dir}_all\"
		meta protocol ip meta length > 1514 counter comment \"${dir}_oversize\"
"
		((drop > 0)) && rules+="		meta protocol ip numgen random mod 100 < $drop counter drop comment \"${dir}_drop\"
"
		if ((corrupt > 0)); then
			stmt='@th,808,8 set @th,808,8 ^ 0x01'
			[[ "$dir" == out ]] && stmt+=' @th,128,8 set @th,128,8 ^ 0x01'
			rules+="		meta protocol ip meta l4proto tcp ip length > 200 numgen random mod 100 < $corrupt counter $stmt comment \"${dir}_corrupt\"
"
		fi
		if ((dup > 0)); then
			if [[ "$dir" == in ]]; then chain="$dupdev"; else chain="$dev"; fi
			rules+="		meta protocol ip numgen random mod 100 < $dup counter meta mark set $ZR_COPY_MARK dup to \"$chain\" comment \"${dir}_dup\"
"
		fi
		rules+="	}
"
	done
	ip netns exec "$ns" nft delete table netdev zr_fault 2>/dev/null || true
	printf 'table netdev zr_fault {\n%s}\n' "$rules" >"$ZPT_TMP/nft-$ns.conf"
	ip netns exec "$ns" nft -f "$ZPT_TMP/nft-$ns.conf" ||
		fail "nft refused the fault rules ($ZPT_TMP/nft-$ns.conf)"
}

# zr_nft_counters NS: "name=packets" for every rule with a comment, on one line.
zr_nft_counters() {
	ip netns exec "$1" nft -j list table netdev zr_fault 2>/dev/null | "$ZPT_PYTHON" -c '
import json, sys
out = []
for o in json.load(sys.stdin).get("nftables", []):
    r = o.get("rule")
    if not r or "comment" not in r:
        continue
    for e in r.get("expr", []):
        if "counter" in e:
            out.append("%s=%d" % (r["comment"], e["counter"]["packets"]))
print(" ".join(out))'
}

# zr_counter LINE NAME: NAME=VALUE out of a "k=v k=v" line (0 when absent).
zr_counter() {
	local v
	v="$(grep -oE "(^| )$2=[0-9]+" <<<"$1" | head -n1 | sed 's/.*=//')"
	echo "${v:-0}"
}

# zr_dup_hop NS DEV: the veth pair zrdup0 (transmit side, used by "dup to") / zrdup1 (has
# DEV's MAC, no address) that brings duplicates of DEV's incoming packets back to NS's stack.
zr_dup_hop() {
	local ns="$1" dev="$2" mac
	mac="$(ip -n "$ns" link show "$dev" | awk '/link\/ether/ { print $2 }')"
	ip -n "$ns" link add zrdup0 type veth peer name zrdup1
	ip -n "$ns" link set zrdup1 address "$mac"
	ip netns exec "$ns" ethtool -K zrdup0 tso off gso off tx off >/dev/null 2>&1 || true
	ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.zrdup1.rp_filter=0
	ip -n "$ns" link set zrdup0 up
	ip -n "$ns" link set zrdup1 up
}

# zr_one_segment_per_packet NS DEV: no TSO/GSO and no checksum offload on DEV, and at most
# one segment per GSO packet: Linux TCP always builds GSO packets and segments them after
# the egress hook, so without gso_max_segs 1 the "out" rules would see 64 KB packets and drop
# ~45 segments at a time. With checksum offload off, Linux computes the checksum in software
# before the packet leaves (a veth would otherwise hand the far end a CHECKSUM_PARTIAL packet
# that it never verifies).
zr_one_segment_per_packet() {
	local ns="$1" dev="$2"
	ip netns exec "$ns" ethtool -K "$dev" tso off gso off tx off >/dev/null 2>&1 ||
		fail "ethtool -K $dev tso off gso off tx off failed in $ns"
	ip -n "$ns" link set "$dev" gso_max_segs 1 ||
		fail "ip link set $dev gso_max_segs 1 failed in $ns"
}

# zr_nstat NS: the kernel's TCP counters in NS (absolute: the namespace is fresh), "k=v ...".
zr_nstat() {
	ip netns exec "$1" cat /proc/net/snmp /proc/net/netstat 2>/dev/null | awk '
	$1 == "Tcp:" || $1 == "TcpExt:" {
		if (!($1 in names)) { names[$1] = $0; next }
		n = split(names[$1], k); split($0, v)
		for (i = 2; i <= n; i++) {
			if (k[i] ~ /^(InSegs|OutSegs|RetransSegs|InCsumErrors|TCPDSACKOldSent|TCPDSACKRecv|TCPSackRecovery|TCPTimeouts|TCPOFOQueue|TCPSpuriousRTOs|TCPLossProbes|TCPLossUndo|TCPFullUndo|TCPPartialUndo|TCPDSACKUndo|TCPDSACKIgnoredDubious|TCPDSACKIgnoredNoUndo|TCPLostRetransmit|TCPSACKReorder|TCPTSReorder|PAWSEstab|TCPLossProbeRecovery|TCPSackRecoveryFail|TCPDSACKRecvSegs)$/)
				printf "%s=%s ", k[i], v[i]
		}
	}'
}

# zr_delta AFTER BEFORE: "k=v ..." of AFTER minus BEFORE (two zr_nstat lines).
zr_delta() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		nb = split(b, bb, " "); for (i = 1; i <= nb; i++) { split(bb[i], kv, "="); base[kv[1]] = kv[2] }
		na = split(a, aa, " "); for (i = 1; i <= na; i++) { split(aa[i], kv, "="); printf "%s=%d ", kv[1], kv[2] - base[kv[1]] }
	}'
}

# --- zpath ---------------------------------------------------------------------------------
# zr_ini FILE INSTANCE ADDR/LEN [KEY=VALUE...]: zpath.ini with one port (device net_*0,
# given with --vdev) and extra [port0] keys.
zr_ini() {
	local f="$1" inst="$2" addr="$3" kv
	shift 3
	{
		printf '[stack]\nworkers=1\ninstance=%s\nmbufs=%s\n\n[port0]\n' "$inst" "$ZR_MBUFS"
		printf 'address=%s\n' "$addr"
		for kv in "$@"; do
			printf '%s\n' "$kv"
		done
	} >"$f"
}

# zr_stats_poll NAME INSTANCE: in the background, save `zpathctl --json stats` of INSTANCE
# every second to $ZPT_TMP/NAME.stats (the last answer wins), so that the counters of a
# process that exits on its own are kept (zp_peer clients end with sleep:1500 for this).
# Stopped by zr_stats_stop or the cleanup.
zr_stats_poll() {
	local name="$1" inst="$2"
	[[ -x "$ZR_ZPATHCTL" ]] || return 0
	(
		while sleep 1; do
			timeout 5 "$ZR_ZPATHCTL" --instance "$inst" --json stats >"$ZPT_TMP/$name.stats.new" \
				2>/dev/null && mv -f "$ZPT_TMP/$name.stats.new" "$ZPT_TMP/$name.stats"
		done
	) &
	it_cleanup_add "kill $! 2>/dev/null"
	ZR_POLLERS+=("$!")
}
ZR_POLLERS=()
zr_stats_stop() {
	local p
	for p in "${ZR_POLLERS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	ZR_POLLERS=()
}

# zr_stats NAME: the interesting non-zero zpath counters of the last saved stats, "k=v ...".
zr_stats() {
	[[ -s "$ZPT_TMP/$1.stats" ]] || return 0
	"$ZPT_PYTHON" - "$ZPT_TMP/$1.stats" <<-'EOF' 2>/dev/null || true
	import json, re, sys
	d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
	t = d.get("total", d)
	out = []
	def walk(prefix, o):
	    if isinstance(o, dict):
	        for k, v in o.items():
	            walk(k if not prefix else prefix + "." + k, v)
	    elif isinstance(o, int) and o:
	        out.append((prefix, o))
	walk("", t)
	keep = re.compile(r"(retrans|rto|fast|sack|dsack|dup|ooo|csum|fault|drop|reass|nomem|full|spurious|timeout|paws|oow|tlp|rack|undo|challenge)", re.I)
	print(" ".join("%s=%d" % (k.split(".")[-1] if k.count(".") < 2 else k, v)
	               for k, v in out if keep.search(k)))
	EOF
}

# zr_note_time NAME PATTERN: the time stamp (zr_stamp.sh) of the first stderr line of zp_peer
# NAME that contains PATTERN; empty if none.
zr_note_time() { grep -a -F -- "$2" "$ZPT_TMP/$1.err" 2>/dev/null | head -n1 | awk '{ print $1 }'; }

# zr_mbit BYTES SECONDS: "123.4" (Mbit/s), "-" when not measurable.
zr_mbit() {
	awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0 && b > 0) printf "%.1f\n", b * 8 / s / 1e6; else print "-" }'
}

# zr_wait_all LIMIT_S NAME...: wait until every zpath process NAME (lib.sh echo_* names) and
# every kernel peer (ZR_KP_PID) has exited, at most LIMIT_S seconds; prints progress every
# 10 s (the kernel peer's last progress line). Returns 1 on the time limit.
declare -A ZR_KP_PID=()
zr_wait_all() {
	local limit="$1" t0 now last=0 name busy
	shift
	t0="$(date +%s)"
	while :; do
		busy=0
		for name in "$@"; do
			if [[ -n "${ZR_KP_PID[$name]:-}" ]]; then
				kill -0 "${ZR_KP_PID[$name]}" 2>/dev/null && busy=1
			else
				echo_alive "$name" && busy=1
			fi
		done
		((busy)) || return 0
		now="$(date +%s)"
		if ((now - t0 >= limit)); then
			return 1
		fi
		if ((now - last >= 10)); then
			last="$now"
			for name in "$@"; do
				[[ -n "${ZR_KP_PID[$name]:-}" && -s "$ZPT_TMP/$name.err" ]] || continue
				zr_log "  ... $(grep -a 'progress' "$ZPT_TMP/$name.err" | tail -n1)"
			done
		fi
		sleep 0.5
	done
}

# zr_wait_note LIMIT_S NAME TEXT: wait until zpath process NAME has written TEXT to its stderr,
# or has exited, at most LIMIT_S seconds. Returns 0 when TEXT is there.
zr_wait_note() {
	local limit="$1" name="$2" text="$3" t0 now last
	t0="$(date +%s)"
	last="$t0"
	while :; do
		grep -a -q -F -- "$text" "$ZPT_TMP/$name.err" 2>/dev/null && return 0
		echo_alive "$name" || return 1
		now="$(date +%s)"
		((now - t0 < limit)) || return 1
		if ((now - last >= 10)); then
			last="$now"
			zr_log "  ... $name: $((now - t0)) s, $(zr_port_bytes "$name")"
		fi
		sleep 0.2
	done
}

# zr_port_bytes NAME: "port rx N MiB, tx N MiB" from the last saved stats of NAME (zr_stats_poll).
zr_port_bytes() {
	[[ -s "$ZPT_TMP/$1.stats" ]] || { echo "no counters yet"; return 0; }
	"$ZPT_PYTHON" - "$ZPT_TMP/$1.stats" <<-'EOF' 2>/dev/null || echo "no counters yet"
	import json, sys
	t = json.loads(open(sys.argv[1]).read().splitlines()[-1])["total"]["stats"]
	print("port rx %.1f MiB, tx %.1f MiB" % (t["rx_bytes"] / 1048576, t["tx_bytes"] / 1048576))
	EOF
}

# zr_stop_together NAME...: SIGTERM to every zpath process NAME at the same moment, then wait
# for each (10 s, then SIGKILL, as echo_stop). Two zpath processes joined by net_memif stop
# together because DPDK 22.11's memif PMD unmaps the shared rings from its interrupt thread
# when the peer goes away, with no lock against a worker inside rte_eth_rx_burst/tx_burst: a
# process that keeps polling while its peer exits can die of SIGSEGV (seen about once in 20
# runs; since the port burst guard, dataplane/port/guard.c, zpath survives it and counts
# port_fault). Stopped together, both workers are out of the poll loop before either port closes.
zr_stop_together() {
	local name
	for name in "$@"; do
		[[ -n "${ZPT_RC[$name]:-}" ]] || kill -TERM "${ZPT_PID[$name]}" 2>/dev/null || true
	done
	for name in "$@"; do
		echo_stop "$name" || true
	done
}

# zr_kp_start NAME NS TIMEOUT ARGS...: zr_peer.py in NS in the background.
zr_kp_start() {
	local name="$1" ns="$2" t="$3"
	shift 3
	rm -f "$ZPT_TMP/$name.out" "$ZPT_TMP/$name.err" # no stale "listening" from a case before
	timeout -k 5 "$t" ip netns exec "$ns" "$ZPT_PYTHON" "$ZR_KPEER" "$@" \
		>"$ZPT_TMP/$name.out" 2>"$ZPT_TMP/$name.err" </dev/null &
	ZR_KP_PID[$name]=$!
	ZR_KP_LOGS+=("$name")
	it_cleanup_add "kill ${ZR_KP_PID[$name]} 2>/dev/null"
}

# zr_kp_listening NAME: wait until the zr_peer server NAME listens.
zr_kp_listening() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -q '^zr_peer: listening' "$ZPT_TMP/$1.err" 2>/dev/null && return 0
		kill -0 "${ZR_KP_PID[$1]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# zr_kp_rc NAME: exit status of a finished zr_peer (waits for it).
zr_kp_rc() {
	local rc=0
	wait "${ZR_KP_PID[$1]}" 2>/dev/null || rc=$?
	echo "$rc"
}

# zr_line FILE PREFIX / zr_field LINE KEY: a summary line / one of its KEY=VALUE.
zr_line() { grep -a "^$2" "$1" 2>/dev/null | tail -n1 || true; }
zr_field() { grep -oE "(^| )$2=(\"[^\"]*\"|[^ ]*)" <<<"$1" | head -n1 | sed 's/^ *[^=]*=//; s/^"//; s/"$//'; }
