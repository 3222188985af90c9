#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# zpathctl against a running zpath instance (zpath-echo with two workers on a net_tap port in a
# network namespace, instance "zctl-cli", control socket /run/zpath/zctl-cli.sock):
#  1. usage errors exit 2 (checked before any connection), an unreachable instance exits 1 and
#     names the socket path it tried;
#  2. status, stats (tables, --json, --watch), netstat (filters), sockopt show/set/del,
#     conn drop (unknown ids), monitor with synthetic connection events (debug conn-events);
#  3. the /zpath/... endpoints of DPDK telemetry;
#  4. the instance stops cleanly and removes its sockets.
# Until the TCP engine lands, an instance has no connections: netstat shows its header only and
# conn drop can only be tested on ids that do not exist.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip ping timeout python3
require_echo
ZPATHCTL="${ZPATHCTL:-$ZPATH_BUILD/control/zpathctl/zpathctl}"
[[ -x "$ZPATHCTL" ]] || fail "$ZPATHCTL not built (meson compile -C $ZPATH_BUILD)"
(($(nproc) >= 2)) || skip "needs 2 CPUs for two busy-polling workers"

NS=zctl-cli
IF=zctl-cli0
ZMAC=02:7a:63:00:00:02
KMAC=02:7a:63:00:00:01
ZIP=10.79.0.2
KIP=10.79.0.1
INST=zctl-cli
RUN_DIR="${ZPATH_RUN_DIR:-/run/zpath}"
SOCK="$RUN_DIR/$INST.sock"

# zctl CMD...: run zpathctl on our instance; stdout in $out, stderr in $err, status in $rc.
zctl() {
	rc=0
	out="$(timeout 20 "$ZPATHCTL" --instance "$INST" "$@" 2>"$ZPT_TMP/zctl.err")" || rc=$?
	err="$(cat "$ZPT_TMP/zctl.err")"
	printf '$ zpathctl %s\n%s\n' "$*" "$out" >>"$ZPT_TMP/transcript.txt"
	[[ -z "$err" ]] || printf '%s\n' "$err" >>"$ZPT_TMP/transcript.txt"
}
expect_rc() { # expect_rc N WHAT
	((rc == $1)) || fail "$2: exit status $rc, expected $1 (stdout: $out; stderr: $err)"
}
expect_out() { # expect_out REGEX WHAT
	grep -qE -- "$1" <<<"$out" || fail "$2: output does not match /$1/: $out"
}
expect_err() {
	grep -qE -- "$1" <<<"$err" || fail "$2: stderr does not match /$1/: $err"
}
# jq-like check with python: json_check 'PYTHON EXPR over o' WHAT (o = the parsed $out)
json_check() {
	python3 -c 'import json,sys; o=json.loads(sys.argv[1]); sys.exit(0 if ('"$1"') else 1)' \
		"$out" || fail "$2: $1 is false for: $out"
}

# --- 1. usage errors and an unreachable instance -----------------------------------------------
zctl
expect_rc 2 "no command"
expect_err "no command given" "no command"
zctl frobnicate
expect_rc 2 "unknown command"
expect_err "unknown command 'frobnicate'" "unknown command"
zctl netstat --state BOGUS
expect_rc 2 "netstat --state BOGUS"
expect_err "unknown TCP state 'BOGUS'" "netstat --state BOGUS"
zctl netstat --port 70000
expect_rc 2 "netstat --port 70000"
zctl sockopt set keepcnt=999
expect_rc 2 "sockopt set keepcnt=999"
expect_err "keepcnt=999 out of range 1..127" "sockopt set keepcnt=999"
zctl sockopt set --ports 10-5 nodelay=1
expect_rc 2 "sockopt set --ports 10-5"
zctl sockopt frob
expect_rc 2 "sockopt frob"
zctl conn drop xyz
expect_rc 2 "conn drop xyz"
expect_err "not a connection id" "conn drop xyz"
zctl stats --watch 0
expect_rc 2 "stats --watch 0"
zctl --bogus status
expect_rc 2 "--bogus"
zctl monitor --count 0
expect_rc 2 "monitor --count 0"
rc=0
out="$(timeout 10 "$ZPATHCTL" --instance zctl-nothere status 2>&1)" || rc=$?
expect_rc 1 "unreachable instance"
grep -qF "$RUN_DIR/zctl-nothere.sock" <<<"$out" || fail "unreachable: path not named: $out"
zpt_log "unreachable: $out"

# --- start the instance --------------------------------------------------------------------------
netns_create "$NS"
write_ini "$ZPT_TMP/zpath.ini" <<EOF
[stack]
workers=2
mbufs=8191
instance=$INST

[port0]
device=net_tap0
address=$ZIP/24
gateway=$KIP
EOF
read -ra mem <<<"$(eal_mem_args 256)"
export ZPATH_CTL_DEBUG=1 # debug conn-events: synthetic connection events for monitor
echo_start srv "$NS" 120 -l 0-1 --no-pci "${mem[@]}" --file-prefix "$INST" \
	--vdev "net_tap0,iface=$IF,mac=$ZMAC" -- -c "$ZPT_TMP/zpath.ini" -- --duration 110
for ((i = 0; i < 200; i++)); do
	[[ -S "$SOCK" ]] && ip -n "$NS" link show "$IF" >/dev/null 2>&1 && break
	echo_require_alive srv
	sleep 0.1
done
[[ -S "$SOCK" ]] || fail "$SOCK did not appear within 20 s"
for ((i = 0; i < 50; i++)); do
	ip -n "$NS" link show "$IF" | grep -qi "$ZMAC" && break
	sleep 0.1
done
tap_kernel_setup "$NS" "$IF" "$KMAC" "$KIP/24"
kernel_ping_until "$NS" "$ZIP" srv
[[ "$(stat -c %a "$SOCK")" == 660 ]] || fail "$SOCK mode $(stat -c %a "$SOCK"), expected 660"

# --- 2. the commands -----------------------------------------------------------------------------
zctl status
expect_rc 0 status
expect_out "^instance +$INST \\(pid [0-9]+\\)" status
expect_out "^workers +2$" status
expect_out "net_tap0 +${ZMAC^^} +$ZIP/24 +1500 .* up " status
zctl --json status
expect_rc 0 "status --json"
json_check 'o["ok"] and o["instance"] == "'$INST'" and len(o["workers"]) == 2 and o["ports"][0]["link"]["up"]' \
	"status --json"

ip netns exec "$NS" ping -c 3 -i 0.2 -W 2 "$ZIP" >/dev/null || fail "kernel ping of zpath"
zctl stats
expect_rc 0 stats
expect_out "^COUNTER +W0 +W1 +TOTAL" stats
expect_out "^icmp_echo_in( +[0-9]+){2} +([3-9]|[1-9][0-9]+)$" "stats icmp_echo_in"
expect_out "^monitor TERM: planned 0" stats
zctl --json stats
json_check 'o["total"]["stats"]["icmp_echo_in"] >= 3 and "ip_csum" in o["total"]["drops"] and len(o["workers"]) == 2' \
	"stats --json"
zctl stats --watch 0.2 --count 2
expect_rc 0 "stats --watch"
[[ "$(grep -c '^COUNTER' <<<"$out")" == 2 ]] || fail "stats --watch --count 2: not two tables: $out"
expect_out "PER-SEC" "stats --watch"

zctl netstat
expect_rc 0 netstat
expect_out "^ID +W +STATE +RECV-Q +SEND-Q +LOCAL +PEER" netstat
zctl netstat --state established --port 80
expect_rc 0 "netstat filtered"
zctl --json netstat --state ESTAB
json_check 'o["ok"] and o["unanswered_workers"] == [] and isinstance(o["connections"], list)' \
	"netstat --json"

zctl sockopt show
expect_rc 0 "sockopt show"
expect_out "^0-65535 +off +off +off +default" "sockopt show"
zctl sockopt set --ports 8000-8999 keepalive=1 keepidle=60 nodelay=1 sndbuf=64k
expect_rc 0 "sockopt set"
expect_out "^8000-8999 +off +on +on +60 +default +default +65536 +default$" "sockopt set"
zctl sockopt set --ports 8080-8080 linger=0
expect_rc 0 "sockopt set nested"
expect_out "^8080-8080 +0s +on +on +60 " "sockopt set nested inherits 8000-8999"
zctl sockopt set --ports 8500-9500 nodelay=0
expect_rc 1 "sockopt set overlapping"
expect_err "partly overlap the rule for 8000-8999" "sockopt set overlapping"
zctl sockopt del --ports 8080-8080
expect_rc 0 "sockopt del"
[[ "$out" != *8080-8080* ]] || fail "sockopt del: rule still shown: $out"
zctl sockopt del --ports 8080-8080
expect_rc 1 "sockopt del again"
expect_err "no rule for ports 8080-8080" "sockopt del again"
zctl --json sockopt show
json_check 'len(o["rules"]) == 2 and o["rules"][1]["keepidle"] == 60' "sockopt show --json"

zctl conn drop 0x0000000000000001
expect_rc 1 "conn drop unknown"
expect_err "connection 0x0000000000000001 not found" "conn drop unknown"
zctl conn drop 0x0007000000000001
expect_rc 1 "conn drop on a worker that does not exist"
expect_err "not found \\(no worker 7\\)" "conn drop worker 7"

# monitor: 3 synthetic events per worker, 6 records
rc=0
timeout 20 "$ZPATHCTL" --instance "$INST" monitor --count 6 >"$ZPT_TMP/mon.out" \
	2>"$ZPT_TMP/mon.err" &
mon=$!
for ((i = 0; i < 100; i++)); do
	zctl --json status
	python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["control"]["subscribers"] >= 1 else 1)' \
		"$out" && break
	sleep 0.05
done
zctl debug conn-events 3
expect_rc 0 "debug conn-events"
expect_out "3 synthetic events posted to 2 worker" "debug conn-events"
wait "$mon" || rc=$?
out="$(cat "$ZPT_TMP/mon.out")"
cat "$ZPT_TMP/mon.out" >>"$ZPT_TMP/transcript.txt"
expect_rc 0 "monitor --count 6"
expect_out "INIT +instance=$INST .* workers=2" "monitor INIT"
[[ "$(grep -c 'CONN_OPEN' <<<"$out")" == 4 ]] || fail "monitor: expected 4 CONN_OPEN: $out"
[[ "$(grep -c 'CONN_CLOSE' <<<"$out")" == 2 ]] || fail "monitor: expected 2 CONN_CLOSE: $out"
expect_out "CONN_CLOSE id=0x0001800000000000 w1 192.0.2.1:7 <-> 198.51.100.1:49152 synth in=100 out=200" \
	"monitor CONN_CLOSE"
zctl monitor --json --count 1 --no-events --list
expect_rc 0 "monitor --list"

# --- 3. telemetry ----------------------------------------------------------------------------------
tel="/var/run/dpdk/$INST/dpdk_telemetry.v2"
[[ -S "$tel" ]] || fail "DPDK telemetry socket $tel missing"
out="$(timeout 10 python3 - "$tel" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(16384)  # greeting
res = {}
for cmd in ("/", "/zpath/info", "/zpath/stats", "/zpath/drops,1", "/zpath/workers",
            "/zpath/ports", "/zpath/conns"):
    s.send(cmd.encode())
    res.update(json.loads(s.recv(65536).decode()))
print(json.dumps(res))
EOF
)" || fail "telemetry query failed: $out"
json_check '"/zpath/stats" in o["/"] and o["/zpath/info"]["instance"] == "'$INST'" and o["/zpath/stats"]["icmp_echo_in"] >= 3 and "ctl_conn_events_lost" in o["/zpath/drops"] and len(o["/zpath/workers"]) == 2 and o["/zpath/ports"]["0"]["link"] == "up" and o["/zpath/conns"]["total"] == 0' \
	"telemetry"
zpt_log "telemetry /zpath/info: $(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["/zpath/info"])' "$out")"

# --- 4. clean stop -----------------------------------------------------------------------------------
rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo exited with status $rc"
[[ ! -e "$SOCK" && ! -e "$RUN_DIR/$INST.nmi.sock" ]] || fail "sockets left behind in $RUN_DIR"
if [[ "${ZPT_VERBOSE:-0}" == 1 ]]; then
	cat "$ZPT_TMP/transcript.txt" >&2
fi
cp "$ZPT_TMP/transcript.txt" "${ZCTL_TRANSCRIPT:-/dev/null}" 2>/dev/null || true
pass "zpathctl: usage, status, stats, netstat, sockopt, conn drop, monitor, telemetry"
