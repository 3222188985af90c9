#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# zpathctl against a zpath instance that serves real TCP connections: zp_peer (tests/interop)
# as a --hold server (accepts any number of connections, greets each with 100 bytes, echoes,
# closes when the peer does) on a net_tap port in a network namespace, instance zcr-<pid>;
# Linux clients in the namespace (zpathctl_tcp_client.py, driven line by line as a coproc):
#  1. N connections held open: `zpathctl netstat` lists exactly them (ESTABLISHED, the kernel
#     and zpath 4-tuples, worker 0, empty queues) and the listener; --state and --port filter;
#     the JSON agrees with the table, and so does DPDK telemetry's /zpath/conns;
#  2. `zpathctl stats`: rx/tx counters cover the payload sent both ways, --json agrees, and
#     the TCP counters (passive_opens, segs_in, ...) are there, in telemetry's /zpath/stats and
#     /zpath/drops too (under "tcp");
#  3. a monitoring subscriber started before the connections sees INIT, CONN_OPEN per
#     connection (the ids and 4-tuples of netstat), and after a clean close (FIN both ways)
#     CONN_CLOSE how=normal errno=0 with the bytes sent each way; `monitor --list` shows the
#     open ones; at the instance's stop the stream ends with TERM planned, every connection
#     opened and closed once;
#  4. `zpathctl conn drop ID` on a live connection: "dropped", the kernel's next recv fails
#     ECONNRESET, CONN_CLOSE how=reset_out with the errno the application saw (zp_peer logs
#     it: ECONNABORTED), netstat no longer lists it; an unknown id (or the same one again)
#     exits 1 with "not found";
#  5. `zpathctl sockopt set --ports P2-P2 nodelay=1 keepalive=1 keepidle=5`, then a listener
#     on P2 (zp_peer --late-listen): the accepted connection has those options as the
#     application reads them back (zp_getsockopt, logged by zp_peer), and after 5 s idle zpath
#     sends a keepalive probe (tshark on the kernel end of the tap; checked 4.5-6.5 s after the
#     last segment). Connections to other ports keep the defaults. A rule set for a port whose
#     listener already exists reaches that listener's new connections too (an accepted socket
#     is a new socket: the current rule, except the options the application set itself).
# Checks the stack cannot pass yet are collected as gaps and fail the test at the end (after
# everything else ran); ZCR_ALLOW_GAPS=1 reports them without failing.
# ZCTL_TRANSCRIPT=FILE keeps a copy of the zpathctl commands and their output.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ZPT_ECHO="$ZPATH_BUILD/tests/interop/zp_peer" # lib.sh's echo_* helpers run this program

require_root
require_tun
require_netns
require_cmd ip ping timeout python3 tshark
require_echo
ZPATHCTL="${ZPATHCTL:-$ZPATH_BUILD/control/zpathctl/zpathctl}"
[[ -x "$ZPATHCTL" ]] || fail "$ZPATHCTL not built (meson compile -C $ZPATH_BUILD)"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CLIENT="$HERE/zpathctl_tcp_client.py"
CHECK="$HERE/zpathctl_tcp_check.py"

zpt_reap_stale zcr
NS="$(zpt_name zcr)"
IF="zcr$$"
INST="$NS"
ZMAC=02:7a:72:00:00:02
KMAC=02:7a:72:00:00:01
ZIP=10.82.0.2
KIP=10.82.0.1
P1=5410 # the listener of zp_peer from the start
P2=5411 # the listener zp_peer opens once the socket-option rule for it is set
N=4
GREET=100
SIZES=(1237 20000 333 70001) # what the kernel sends on connection i (echoed back)
RUN_DIR="${ZPATH_RUN_DIR:-/run/zpath}"
SOCK="$RUN_DIR/$INST.sock"
GAPS=()

gap() {
	zpt_log "GAP: $*"
	GAPS+=("$*")
}

# zctl CMD...: zpathctl on our instance; stdout in $out (and $ZPT_TMP/zctl.out), stderr in
# $err, exit status in $rc; everything goes to the transcript.
zctl() {
	rc=0
	timeout 20 "$ZPATHCTL" --instance "$INST" "$@" >"$ZPT_TMP/zctl.out" 2>"$ZPT_TMP/zctl.err" || rc=$?
	out="$(cat "$ZPT_TMP/zctl.out")"
	err="$(cat "$ZPT_TMP/zctl.err")"
	printf '# zpathctl %s\n%s\n' "$*" "$out" >>"$ZPT_TMP/transcript.txt"
	[[ -z "$err" ]] || printf '%s\n' "$err" >>"$ZPT_TMP/transcript.txt"
	((rc != 124)) || fail "zpathctl $* did not answer within 20 s"
}
expect_rc() { # expect_rc N WHAT
	((rc == $1)) || fail "$2: exit status $rc, expected $1 (stdout: $out; stderr: $err)"
}
expect_out() { # expect_out REGEX WHAT
	grep -qE -- "$1" <<<"$out" || fail "$2: output does not match /$1/: $out"
}
jget() { # jget PYTHON_EXPR: evaluate over o = the JSON in $out
	python3 -c 'import json,sys; o=json.loads(sys.argv[1]); print('"$1"')' "$out"
}
check() { python3 "$CHECK" "$@"; }

# --- the kernel client (coproc) -------------------------------------------------------------
# kc CMD...: one command to the client, its answer in $reply (fails unless it starts "ok").
start_client() {
	coproc KC { exec timeout -k 5 150 ip netns exec "$NS" python3 -u "$CLIENT" 2>"$ZPT_TMP/kclient.err"; }
	KC_PID_SAVED=$KC_PID
	it_cleanup_add "kill $KC_PID_SAVED"
}
kc_raw() {
	echo "$*" >&"${KC[1]}" || fail "kernel client gone (command: $*): $(cat "$ZPT_TMP/kclient.err")"
	read -r -t 30 reply <&"${KC[0]}" || fail "kernel client: no answer to '$*' within 30 s"
	zpt_log "kernel: $* -> $reply"
}
kc() {
	kc_raw "$@"
	[[ "$reply" == ok* ]] || fail "kernel client: '$*' -> $reply"
}

# --- zp_peer's log ------------------------------------------------------------------------------
# hold_line KIND PEER: the last "zp_peer: hold: KIND ... peer=PEER ..." line (KIND: open, end).
hold_line() { grep -a "^zp_peer: hold: $1 .* peer=$2 " "$ZPT_TMP/srv.err" | tail -n 1 || true; }
hold_field() { sed -nE "s/.* $2=([^ ]*).*/\\1/p" <<<"$1"; }
# wait_hold KIND PEER: wait up to 10 s for that line.
wait_hold() {
	local i
	for ((i = 0; i < 100; i++)); do
		[[ -n "$(hold_line "$1" "$2")" ]] && return 0
		echo_require_alive srv
		sleep 0.1
	done
	fail "zp_peer logged no '$1' for $2: $(tail -n 5 "$ZPT_TMP/srv.err")"
}

# mon_record RECORD REMOTE KEY=VALUE...: wait up to 10 s for the record in the JSON stream of
# the subscriber started before the connections; fail if it differs. Sets $rec.
mon_record() {
	local i r=1
	for ((i = 0; i < 100; i++)); do
		r=0
		rec="$(check record "$ZPT_TMP/mon.json" "$@" 2>"$ZPT_TMP/check.err")" || r=$?
		((r == 1)) || break
		sleep 0.1
	done
	((r == 0)) || fail "monitor: $1 of $2: $(cat "$ZPT_TMP/check.err") ${rec}"
}

# --- start the instance --------------------------------------------------------------------------
netns_create "$NS"
it_cleanup_add "rm -f '$SOCK' '$RUN_DIR/$INST.nmi.sock'" # only if the instance was killed
write_ini "$ZPT_TMP/zpath.ini" <<EOF
[stack]
workers=1
mbufs=8191
instance=$INST

[port0]
device=net_tap0
address=$ZIP/24
gateway=$KIP
EOF
LATE="$ZPT_TMP/late-listen"
ZPT_ECHO_TIMEOUT=150 tap_echo_start srv "$NS" "$IF" "$ZMAC" "$KMAC" "$KIP/24" "$INST" \
	"$ZPT_TMP/zpath.ini" server --port "$P1" --hold --greet "$GREET" --late-listen "$P2:$LATE"
for ((i = 0; i < 200; i++)); do
	[[ -S "$SOCK" ]] && grep -q "^zp_peer: hold: listening port=$P1 " "$ZPT_TMP/srv.err" && break
	echo_require_alive srv
	sleep 0.1
done
[[ -S "$SOCK" ]] || fail "$SOCK did not appear within 20 s"
kernel_ping_until "$NS" "$ZIP" srv

zctl status
expect_rc 0 status
expect_out "^instance +$INST \\(pid [0-9]+\\)" status
zctl --json status
json_ok="$(jget 'o["instance"] == "'"$INST"'" and len(o["workers"]) == 1 and o["ports"][0]["link"]["up"]')"
[[ "$json_ok" == True ]] || fail "status --json: $out"

# The subscribers that must see everything: JSON (checked) and text (transcript, format).
timeout 140 "$ZPATHCTL" --instance "$INST" --json monitor >"$ZPT_TMP/mon.json" 2>"$ZPT_TMP/mon.err" &
MON=$!
it_cleanup_add "kill $MON"
timeout 140 "$ZPATHCTL" --instance "$INST" monitor >"$ZPT_TMP/mon.txt" 2>"$ZPT_TMP/montxt.err" &
MONTXT=$!
it_cleanup_add "kill $MONTXT"
for ((i = 0; i < 200; i++)); do
	zctl --json status
	[[ "$(jget 'o["control"]["subscribers"]')" -ge 2 ]] && break
	sleep 0.05
done
((i < 200)) || fail "the two monitoring subscribers were not accepted within 10 s"

# --- 1. N connections, held open: netstat -------------------------------------------------------
start_client
kc open "$ZIP:$P1" "$N" "$GREET"
opened="$reply"
declare -a KPORT=()
for ((c = 0; c < N; c++)); do
	KPORT[c]="$(grep -oE "(^| )$c=$KIP:[0-9]+" <<<"$opened" | sed 's/.*://')"
	[[ -n "${KPORT[c]}" ]] || fail "client: no local port for connection $c: $opened"
	kc send "$c" "${SIZES[c]}"
	[[ "$reply" == "ok sent=${SIZES[c]} recvd=$((GREET + SIZES[c]))" ]] || fail "echo on $c: $reply"
done
EST=()
for ((c = 0; c < N; c++)); do
	EST+=(--est "$ZIP:$P1=$KIP:${KPORT[c]}")
done

# netstat_check WHAT [filters] -- [check args]: the table and the JSON of one filter agree and
# hold exactly the expected connections; retried for up to 5 s while the queues drain (an ACK
# of the echo may still be on its way). Leaves the "PEER ID" lines in $ids.
netstat_check() {
	local what="$1" i r
	shift
	local f=()
	while [[ "$1" != -- ]]; do
		f+=("$1")
		shift
	done
	shift
	for ((i = 0; i < 50; i++)); do
		zctl netstat "${f[@]}"
		expect_rc 0 "netstat ${f[*]}"
		cp "$ZPT_TMP/zctl.out" "$ZPT_TMP/ns.txt"
		zctl --json netstat "${f[@]}"
		expect_rc 0 "netstat --json ${f[*]}"
		cp "$ZPT_TMP/zctl.out" "$ZPT_TMP/ns.json"
		r=0
		ids="$(check netstat "$ZPT_TMP/ns.txt" "$ZPT_TMP/ns.json" "$@" 2>"$ZPT_TMP/check.err")" || r=$?
		((r == 4)) || break # 4: queues not empty yet
		sleep 0.1
	done
	((r == 0)) || fail "netstat $what: $(cat "$ZPT_TMP/check.err")"
}
netstat_check "all" -- --listen "0.0.0.0:$P1" "${EST[@]}"
declare -A ID=()
while read -r peer id; do
	ID[$peer]=$id
done <<<"$ids"
((${#ID[@]} == N)) || fail "netstat: ${#ID[@]} connection ids, expected $N"
netstat_check "--state ESTABLISHED" --state ESTABLISHED -- "${EST[@]}"
netstat_check "--state established" --state established -- "${EST[@]}"
netstat_check "--state LISTEN" --state LISTEN -- --listen "0.0.0.0:$P1"
netstat_check "--state TIME_WAIT" --state TIME_WAIT --
netstat_check "--port $P1" --port "$P1" -- --listen "0.0.0.0:$P1" "${EST[@]}"
netstat_check "--port ${KPORT[2]} (remote port)" --port "${KPORT[2]}" -- \
	--est "$ZIP:$P1=$KIP:${KPORT[2]}"
netstat_check "--state ESTABLISHED --port ${KPORT[1]}" --state ESTABLISHED --port "${KPORT[1]}" -- \
	--est "$ZIP:$P1=$KIP:${KPORT[1]}"
netstat_check "--port 1" --port 1 --
netstat_check "--state LISTEN --port ${KPORT[0]}" --state LISTEN --port "${KPORT[0]}" --
zpt_log "netstat: $N connections and the listener, filters ok; $(for p in "${!ID[@]}"; do printf '%s=%s ' "$p" "${ID[$p]}"; done)"

# The same connections through DPDK telemetry (/zpath/conns).
tel="/var/run/dpdk/$INST/dpdk_telemetry.v2"
[[ -S "$tel" ]] || fail "DPDK telemetry socket $tel missing"
want="$(for p in "${!ID[@]}"; do printf '%s=%s,' "$p" "${ID[$p]}"; done)"
tele="$(timeout 10 python3 - "$tel" "$want" "$ZIP:$P1" $((N + 1)) <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)  # greeting
s.send(b"/zpath/conns")
o = json.loads(s.recv(1 << 20).decode())["/zpath/conns"]
if o.get("total") != int(sys.argv[4]):
    sys.exit("total %s, expected %s: %s" % (o.get("total"), sys.argv[4], o))
for pair in filter(None, sys.argv[2].split(",")):
    peer, idhex = pair.split("=")
    c = o.get(idhex)
    if not c or (c["state"], c["local"], c["remote"], c["worker"]) != \
            ("ESTABLISHED", sys.argv[3], peer, 0):
        sys.exit("connection %s (%s): %s" % (idhex, peer, c))
print("/zpath/conns: total %d" % o["total"])
EOF
)" || fail "telemetry: $tele"
zpt_log "telemetry $tele"

# zp_peer accepted each one, with the stack's default options (no rule yet).
for ((c = 0; c < N; c++)); do
	wait_hold open "$KIP:${KPORT[c]}"
	l="$(hold_line open "$KIP:${KPORT[c]}")"
	[[ "$(hold_field "$l" nodelay) $(hold_field "$l" keepalive)" == "0 0" ]] ||
		fail "connection $c: options before any rule: $l"
done

# --- 2. stats --------------------------------------------------------------------------------------
sent=0
for s in "${SIZES[@]}"; do sent=$((sent + s)); done
zctl stats
expect_rc 0 stats
expect_out "^COUNTER +W0 +TOTAL" stats
cp "$ZPT_TMP/zctl.out" "$ZPT_TMP/stats.txt"
zctl --json stats
expect_rc 0 "stats --json"
cp "$ZPT_TMP/zctl.out" "$ZPT_TMP/stats.json"
r=0
check stats "$ZPT_TMP/stats.txt" "$ZPT_TMP/stats.json" --min rx_packets=$((2 * N)) \
	--min tx_packets=$((2 * N)) --min rx_bytes=$sent --min tx_bytes=$((sent + N * GREET)) \
	--min ip_in=$((2 * N)) --min ip_out=$((2 * N)) \
	--tcp-min passive_opens=$N --tcp-min conn_established=$N --tcp-min segs_in=$((2 * N)) \
	--tcp-min segs_out=$((2 * N)) 2>"$ZPT_TMP/check.err" || r=$?
if ((r == 3)); then
	gap "zpathctl stats (and --json, /zpath/stats) has no TCP counters: dataplane/tcp keeps segs_in, passive_opens, rst_out, keepalive_probes, ... (tcp_stat_get) but the control plane does not report them"
elif ((r != 0)); then
	fail "stats: $(cat "$ZPT_TMP/check.err")"
fi
zpt_log "stats: $(grep -E '^(rx|tx)_(packets|bytes) ' "$ZPT_TMP/stats.txt" | awk '{printf "%s=%s ", $1, $NF}')"
grep -qE "^tcp\.passive_opens( +[0-9]+){2}$" "$ZPT_TMP/stats.txt" ||
	fail "stats table: no tcp.passive_opens row: $(cat "$ZPT_TMP/stats.txt")"
# The same TCP counters through DPDK telemetry (/zpath/stats, /zpath/drops: a "tcp" dict).
tele="$(timeout 10 python3 - "$tel" $N <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)  # greeting
out = {}
for cmd in ("/zpath/stats", "/zpath/drops", "/zpath/stats,0"):
    s.send(cmd.encode())
    out[cmd] = json.loads(s.recv(1 << 20).decode())[cmd.split(",")[0]]
st, dr = out["/zpath/stats"], out["/zpath/drops"]
if not st.get("rx_packets") or st.get("tcp", {}).get("passive_opens", 0) < int(sys.argv[2]):
    sys.exit("/zpath/stats: %s" % st)
if "no_conn" not in dr.get("tcp", {}) or "ctl_conn_events_lost" not in dr:
    sys.exit("/zpath/drops: %s" % dr)
if out["/zpath/stats,0"].get("tcp", {}).get("passive_opens", 0) < int(sys.argv[2]):
    sys.exit("/zpath/stats,0: %s" % out["/zpath/stats,0"])
print("/zpath/stats: tcp.passive_opens %d, tcp.segs_in %d" % (st["tcp"]["passive_opens"],
                                                            st["tcp"]["segs_in"]))
EOF
)" || fail "telemetry: $tele"
zpt_log "telemetry $tele"

# --- 3. the monitoring stream sees them open --------------------------------------------------------
for ((c = 0; c < N; c++)); do
	p="$KIP:${KPORT[c]}"
	mon_record CONN_OPEN "$p" "id_hex=${ID[$p]}" "local=$ZIP:$P1" worker=0 state=ESTABLISHED \
		transport=tcp tls=- existing=false
done
init="$(head -n 1 "$ZPT_TMP/mon.json")"
python3 -c 'import json,sys; o=json.loads(sys.argv[1]); sys.exit(0 if o["record"] == "INIT" and o["instance"] == sys.argv[2] and o["workers"] == 1 else 1)' \
	"$init" "$INST" || fail "monitor: first record is not our INIT: $init"
# A LIST snapshot shows the open connections as existing.
zctl --json monitor --list --no-events
expect_rc 0 "monitor --list --no-events"
for ((c = 0; c < N; c++)); do
	p="$KIP:${KPORT[c]}"
	grep -q "\"record\":\"CONN_OPEN\".*\"id_hex\":\"${ID[$p]}\".*\"existing\":true.*\"remote\":\"$p\"" <<<"$out" ||
		fail "monitor --list: $p (${ID[$p]}) missing: $out"
done
expect_out "\"record\":\"LIST_END\"" "monitor --list"

# --- 4. conn drop --------------------------------------------------------------------------------------
d=1
pd="$KIP:${KPORT[d]}"
zctl conn drop "${ID[$pd]}"
expect_rc 0 "conn drop ${ID[$pd]}"
expect_out "^connection ${ID[$pd]} dropped \\(RST sent\\)$" "conn drop"
kc_raw recv "$d"
[[ "$reply" == "err ECONNRESET" ]] || fail "kernel recv after conn drop: '$reply', expected ECONNRESET"
wait_hold end "$pd"
l="$(hold_line end "$pd")"
app_err="$(hold_field "$l" how)"
[[ "$app_err" == ECONNABORTED ]] || fail "zp_peer after conn drop: $l (expected how=ECONNABORTED)"
mon_record CONN_CLOSE "$pd" "id_hex=${ID[$pd]}" how=reset_out app_errno=103 \
	"bytes_in=${SIZES[d]}" "bytes_out=$((GREET + SIZES[d]))" "local=$ZIP:$P1"
EST_LEFT=()
for ((c = 0; c < N; c++)); do
	((c == d)) || EST_LEFT+=(--est "$ZIP:$P1=$KIP:${KPORT[c]}")
done
netstat_check "after conn drop" -- --listen "0.0.0.0:$P1" "${EST_LEFT[@]}"
zctl conn drop "${ID[$pd]}"
expect_rc 1 "conn drop of the dropped connection"
grep -qE "connection ${ID[$pd]} not found" <<<"$err" || fail "conn drop again: $err"
zctl conn drop 0x00000000000fff01
expect_rc 1 "conn drop of an unknown id"
grep -qE "connection 0x00000000000fff01 not found" <<<"$err" || fail "conn drop unknown: $err"
zpt_log "conn drop: $err"

# --- 3b. clean closes: CONN_CLOSE how=normal errno=0, with the bytes each way -------------------------
kc send 0 4096 # more data on connection 0: the counts must add up
SENT0=$((SIZES[0] + 4096))
for c in 0 2 3; do
	p="$KIP:${KPORT[c]}"
	kc close "$c"
	s=${SIZES[c]}
	((c == 0)) && s=$SENT0
	[[ "$reply" == "ok eof sent=$s recvd=$((GREET + s))" ]] || fail "close $c: $reply"
	mon_record CONN_CLOSE "$p" "id_hex=${ID[$p]}" how=normal app_errno=0 "bytes_in=$s" \
		"bytes_out=$((GREET + s))" "local=$ZIP:$P1" worker=0
	wait_hold end "$p"
	[[ "$(hold_field "$(hold_line end "$p")" how)" == eof ]] || fail "zp_peer: $(hold_line end "$p")"
done
netstat_check "after the clean closes" -- --listen "0.0.0.0:$P1"
grep -qE "CONN_CLOSE id=${ID[$KIP:${KPORT[0]}]} w0 $ZIP:$P1 <-> $KIP:${KPORT[0]} tcp in=$SENT0 out=$((GREET + SENT0)) duration=[0-9.]+s how=normal errno=0$" \
	"$ZPT_TMP/mon.txt" || fail "text monitor: no CONN_CLOSE line for connection 0: $(cat "$ZPT_TMP/mon.txt")"
grep -qE "CONN_CLOSE id=${ID[$pd]} .* how=reset_out errno=103 ECONNABORTED$" "$ZPT_TMP/mon.txt" ||
	fail "text monitor: no reset_out line: $(cat "$ZPT_TMP/mon.txt")"

# --- 5. socket-option defaults for a port, then a listener and a connection on it ----------------------
# Capture on the kernel end first (the probe is recognised by tshark's analysis: "Keep-Alive",
# which needs the whole connection from its SYN). tshark says "Capturing on" a little before it
# truly captures: connect to P2, where nothing listens yet, until the refusal shows up.
ip netns exec "$NS" timeout 60 tshark -l -n -i "$IF" -f "tcp port $P2" -T fields \
	-E separator='|' -e frame.time_epoch -e ip.src -e tcp.srcport -e tcp.dstport -e tcp.len \
	-e _ws.col.Info >"$ZPT_TMP/tshark.txt" 2>"$ZPT_TMP/tshark.err" &
TSHARK=$!
it_cleanup_add "kill $TSHARK"
for ((i = 0; i < 100; i++)); do
	kill -0 "$TSHARK" 2>/dev/null || fail "tshark: $(cat "$ZPT_TMP/tshark.err")"
	if grep -q "Capturing on" "$ZPT_TMP/tshark.err"; then
		kc_raw open "$ZIP:$P2" 1 0
		[[ "$reply" == "err ECONNREFUSED" ]] || fail "connect to $P2 before it listens: $reply"
		grep -q "^[0-9.]*|$ZIP|$P2|.*RST" "$ZPT_TMP/tshark.txt" && break
	fi
	sleep 0.1
done
((i < 100)) || fail "tshark captured nothing within 10 s: $(cat "$ZPT_TMP/tshark.err")"

zctl sockopt set --ports "$P2-$P2" nodelay=1 keepalive=1 keepidle=5
expect_rc 0 "sockopt set"
expect_out "^$P2-$P2 +off +on +on +5 +default +default +default +default$" "sockopt set"
zctl --json sockopt show
[[ "$(jget '[r for r in o["rules"] if r["ports"] == "'"$P2-$P2"'"][0]["keepidle"]')" == 5 ]] ||
	fail "sockopt show --json: $out"
touch "$LATE"
for ((i = 0; i < 100; i++)); do
	grep -q "^zp_peer: hold: listening port=$P2 " "$ZPT_TMP/srv.err" && break
	echo_require_alive srv
	sleep 0.1
done
l="$(grep "^zp_peer: hold: listening port=$P2 " "$ZPT_TMP/srv.err")" ||
	fail "zp_peer did not listen on $P2: $(tail -n 3 "$ZPT_TMP/srv.err")"
zpt_log "listener: $l"
kc open "$ZIP:$P2" 1 "$GREET"
KP5="$(sed -nE 's/.*=[0-9.]+:([0-9]+)$/\1/p' <<<"$reply")"
p5="$KIP:$KP5"
wait_hold open "$p5"
l="$(hold_line open "$p5")"
for kv in nodelay=1 keepalive=1 keepidle=5; do
	[[ " $l " == *" $kv "* ]] || fail "connection to $P2 after the rule: no $kv in: $l"
done
zpt_log "connection to port $P2: nodelay=${l#* nodelay=}"
netstat_check "port $P2" --port "$P2" -- --listen "0.0.0.0:$P2" --est "$ZIP:$P2=$p5"
# The keepalive probe: ~5 s after the last segment (the greeting and its ACK).
for ((i = 0; i < 100; i++)); do
	grep -q "^[0-9.]*|$ZIP|$P2|$KP5|.*Keep-Alive\\]" "$ZPT_TMP/tshark.txt" && break
	kill -0 "$TSHARK" 2>/dev/null || break
	sleep 0.1
done
probe="$(python3 - "$ZPT_TMP/tshark.txt" "$ZIP" "$KP5" <<'EOF'
import sys
rows = [l.rstrip("\n").split("|", 5) for l in open(sys.argv[1]) if l.count("|") >= 5]
rows = [r for r in rows if sys.argv[3] in (r[2], r[3])]  # this connection only
if not rows or "[SYN]" not in rows[0][5]:
    sys.exit("the capture misses the start of the connection")
for i, r in enumerate(rows):
    if r[1] == sys.argv[2] and "Keep-Alive]" in r[5]:
        print("%.3f %s" % (float(r[0]) - float(rows[i - 1][0]), r[5]))
        break
EOF
)" || fail "tshark: $probe: $(cat "$ZPT_TMP/tshark.txt")"
[[ -n "$probe" ]] || fail "no keepalive probe from zpath within 10 s of the connection: $(cat "$ZPT_TMP/tshark.txt")"
gap_s="${probe%% *}"
python3 -c 'import sys; g=float(sys.argv[1]); sys.exit(0 if 4.5 <= g <= 6.5 else 1)' "$gap_s" ||
	fail "keepalive probe after ${gap_s}s idle, expected ~5 s (keepidle=5): $(cat "$ZPT_TMP/tshark.txt")"
zpt_log "keepalive probe after ${gap_s}s idle: ${probe#* }"
kill "$TSHARK" 2>/dev/null || true

# A rule set while the listener already exists reaches the connections it accepts from then on
# (an accepted socket is a new socket; zp_peer sets none of these options on its listener).
zctl sockopt set --ports "$P1-$P1" nodelay=1 keepalive=1 keepidle=5
expect_rc 0 "sockopt set on the existing listener's port"
kc open "$ZIP:$P1" 1 "$GREET"
KP6="$(sed -nE 's/.*=[0-9.]+:([0-9]+)$/\1/p' <<<"$reply")"
wait_hold open "$KIP:$KP6"
l="$(hold_line open "$KIP:$KP6")"
for kv in nodelay=1 keepalive=1 keepidle=5; do
	[[ " $l " == *" $kv "* ]] ||
		fail "connection to $P1 after a rule for its existing listener: no $kv in: $l"
done
zpt_log "rule for $P1-$P1 set after its listener was bound: a new connection to $P1 got nodelay=${l#* nodelay=}"
zctl sockopt del --ports "$P1-$P1"
expect_rc 0 "sockopt del"
zctl sockopt del --ports "$P2-$P2"
expect_rc 0 "sockopt del"
zctl sockopt show
expect_rc 0 "sockopt show"
[[ "$out" != *"$P2-$P2"* ]] || fail "sockopt del: rule still shown: $out"

# Stats after everything: the keepalive probe and the RST are counted.
zctl stats
cp "$ZPT_TMP/zctl.out" "$ZPT_TMP/stats.txt"
zctl --json stats
cp "$ZPT_TMP/zctl.out" "$ZPT_TMP/stats.json"
r=0
check stats "$ZPT_TMP/stats.txt" "$ZPT_TMP/stats.json" --tcp-min keepalive_probes=1 \
	--tcp-min rst_out=1 --tcp-min passive_opens=$((N + 2)) 2>"$ZPT_TMP/check.err" || r=$?
((r == 0 || r == 3)) || fail "stats at the end: $(cat "$ZPT_TMP/check.err")"

# --- stop: the last connections close cleanly, the instance stops, the stream ends planned ------------
kc close 4
kc close 5
mon_record CONN_CLOSE "$p5" how=normal app_errno=0 bytes_in=0 "bytes_out=$GREET" "local=$ZIP:$P2"
mon_record CONN_CLOSE "$KIP:$KP6" how=normal app_errno=0
kc quit
netstat_check "at the end" -- --listen "0.0.0.0:$P1" --listen "0.0.0.0:$P2"
rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zp_peer exited with status $rc"
grep -q '^zp_peer: result=ok ' "$ZPT_TMP/srv.out" || fail "zp_peer: $(cat "$ZPT_TMP/srv.out")"
rc=0
wait "$MON" || rc=$?
((rc == 0)) || fail "monitor --json exited $rc: $(cat "$ZPT_TMP/mon.err")"
wait "$MONTXT" || rc=$?
((rc == 0)) || fail "monitor exited $rc: $(cat "$ZPT_TMP/montxt.err")"
summary_stream="$(check stream "$ZPT_TMP/mon.json" "$INST" 2>&1)" || fail "monitor stream: $summary_stream"
grep -qE 'TERM +code=0 \(planned\)$' "$ZPT_TMP/mon.txt" || fail "text monitor: no TERM planned"
[[ ! -e "$SOCK" && ! -e "$RUN_DIR/$INST.nmi.sock" ]] || fail "sockets left behind in $RUN_DIR"
zpt_log "monitor: $summary_stream; TERM planned"

cat "$ZPT_TMP/mon.txt" >>"$ZPT_TMP/transcript.txt"
if [[ "${ZPT_VERBOSE:-0}" == 1 ]]; then
	cat "$ZPT_TMP/transcript.txt" >&2
fi
if [[ -n "${ZCTL_TRANSCRIPT:-}" ]]; then
	cp "$ZPT_TMP/transcript.txt" "$ZCTL_TRANSCRIPT"
fi
if ((${#GAPS[@]} > 0)); then
	if [[ "${ZCR_ALLOW_GAPS:-0}" == 1 ]]; then
		zpt_log "everything else passed; ${#GAPS[@]} gap(s) allowed by ZCR_ALLOW_GAPS=1"
	else
		fail "everything else passed, but: ${GAPS[*]}"
	fi
fi
pass "zpathctl on real TCP: netstat, stats, monitor, conn drop, sockopt"
