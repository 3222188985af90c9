#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The monitoring stream (/run/zpath/<instance>.nmi.sock, include/zpath/zpath_nmi.h) of a running
# zpath-echo (one worker, net_tap port in a network namespace, instance "zctl-mon") ends with
# every TERM code of NMI-6, each provoked the way a real subscriber would:
#   EINVAL       the subscriber writes something that is not a REQUEST record;
#   EPIPE        it writes again after its REQUEST;
#   ENOMEM       the server cannot allocate its queue (fault injected: debug nmi-fail-alloc);
#   EACCES       it runs as another user (nobody), the socket being made world-accessible;
#   EWOULDBLOCK  it does not read while records flow (50 000 synthetic connection events from
#                debug conn-events, until the TCP engine provides real ones): read late, within
#                the grace period, it gets the TERM; never read, the TERM is lost and it sees EOF
#                without TERM, which zpathctl reports as abnormal (exit 3);
#   0 (planned)  the instance stops.
# Meanwhile a well-behaved subscriber keeps receiving everything (a slow one costs it nothing),
# and `zpathctl stats` counts each TERM.
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip timeout python3 setpriv
require_echo
ZPATHCTL="${ZPATHCTL:-$ZPATH_BUILD/control/zpathctl/zpathctl}"
[[ -x "$ZPATHCTL" ]] || fail "$ZPATHCTL not built (meson compile -C $ZPATH_BUILD)"

NS=zctl-mon
IF=zctl-mon0
ZMAC=02:7a:64:00:00:02
KMAC=02:7a:64:00:00:01
ZIP=10.80.0.2
KIP=10.80.0.1
INST=zctl-mon
RUN_DIR="${ZPATH_RUN_DIR:-/run/zpath}"
NMI="$RUN_DIR/$INST.nmi.sock"
FLOOD=50000

zctl() { # zctl CMD...: stdout in $out, stderr in $err, status in $rc
	rc=0
	out="$(timeout 20 "$ZPATHCTL" --instance "$INST" "$@" 2>"$ZPT_TMP/zctl.err")" || rc=$?
	err="$(cat "$ZPT_TMP/zctl.err")"
}
# stat_get KEY: a counter of the "control" section of `zpathctl --json stats`
stat_get() {
	zctl --json stats
	((rc == 0)) || fail "zpathctl stats: $err"
	python3 -c 'import json,sys; print(json.loads(sys.argv[1])["control"][sys.argv[2]])' "$out" "$1"
}
# wait_stat KEY MIN: until the counter reaches MIN (10 s at most)
wait_stat() {
	local i v
	for ((i = 0; i < 200; i++)); do
		v="$(stat_get "$1")"
		((v >= $2)) && return 0
		sleep 0.05
	done
	fail "control counter $1 = $v, expected >= $2 within 10 s"
}
wait_subscribers() { # wait_subscribers N
	local i n
	for ((i = 0; i < 200; i++)); do
		zctl --json status
		n="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["control"]["subscribers"])' "$out")"
		((n >= $1)) && return 0
		sleep 0.05
	done
	fail "expected $1 monitoring subscribers, have $n"
}
declare -A MON_PID=()
mon_start() { # mon_start NAME [zpathctl monitor args]: a subscriber in the background
	local name="$1"
	shift
	timeout 60 "$ZPATHCTL" --instance "$INST" monitor "$@" >"$ZPT_TMP/$name.out" \
		2>"$ZPT_TMP/$name.err" &
	MON_PID[$name]=$!
	it_cleanup_add "kill ${MON_PID[$name]}"
}
mon_wait() { # mon_wait NAME EXPECTED_STATUS TERM_REGEX|-  (- = no TERM must appear)
	local name="$1" want="$2" re="$3" rc=0
	wait "${MON_PID[$name]}" || rc=$?
	((rc == want)) || fail "subscriber $name: exit $rc, expected $want: $(tail -n 3 "$ZPT_TMP/$name.out") $(cat "$ZPT_TMP/$name.err")"
	if [[ "$re" == - ]]; then
		! grep -q ' TERM ' "$ZPT_TMP/$name.out" || fail "subscriber $name got a TERM"
	else
		grep -qE "$re" "$ZPT_TMP/$name.out" || fail "subscriber $name: no /$re/: $(tail -n 3 "$ZPT_TMP/$name.out")"
	fi
	zpt_log "subscriber $name: exit $rc, $(grep -E ' TERM ' "$ZPT_TMP/$name.out" || echo 'no TERM'); $(tail -n 1 "$ZPT_TMP/$name.err")"
}
# mon_once NAME EXPECTED_STATUS TERM_REGEX [args]: a subscriber in the foreground
mon_once() {
	local name="$1" want="$2" re="$3"
	shift 3
	mon_start "$name" "$@"
	mon_wait "$name" "$want" "$re"
}

# --- start the instance --------------------------------------------------------------------------
netns_create "$NS"
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
export ZPATH_CTL_DEBUG=1
tap_echo_start srv "$NS" "$IF" "$ZMAC" "$KMAC" "$KIP/24" "$INST" "$ZPT_TMP/zpath.ini" --duration 110
for ((i = 0; i < 100; i++)); do
	[[ -S "$NMI" ]] && break
	sleep 0.1
done
[[ -S "$NMI" ]] || fail "$NMI did not appear"

# A subscriber that reads everything, from start to end (planned TERM at the end).
mon_start good --quiet --queue-kib 16384
wait_subscribers 1

# --- EINVAL: not a REQUEST (a 16-byte header announcing 16 bytes, id "JUNK") ----------------
mon_once einval 3 'TERM +code=22 \(EINVAL\)' --raw 000000104a554e4b0000000100000000
grep -q 'INIT' "$ZPT_TMP/einval.out" || fail "einval: INIT should precede the TERM"

# --- EPIPE: a valid REQUEST, then one byte more ----------------------------------------------
mon_once epipe 3 'TERM +code=32 \(EPIPE\)' --list --raw 00

# --- ENOMEM: the server cannot allocate the subscriber's queue ---------------------------------
zctl debug nmi-fail-alloc
((rc == 0)) || fail "debug nmi-fail-alloc: $err"
mon_once enomem 3 'TERM +code=12 \(ENOMEM\)'
! grep -q INIT "$ZPT_TMP/enomem.out" || fail "enomem: no INIT expected before TERM"

# --- EACCES: another user -----------------------------------------------------------------------
install -d -m 0755 "$ZPT_TMP/bin"
install -m 0755 "$ZPATHCTL" "$ZPT_TMP/bin/zpathctl"
chmod 0755 "$ZPT_TMP"
chmod 0666 "$NMI" "$RUN_DIR/$INST.sock"
rc=0
timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$ZPT_TMP/bin/zpathctl" \
	--instance "$INST" monitor >"$ZPT_TMP/eacces.out" 2>"$ZPT_TMP/eacces.err" || rc=$?
((rc == 3)) || fail "eacces: exit $rc, expected 3: $(cat "$ZPT_TMP/eacces.out" "$ZPT_TMP/eacces.err")"
grep -qE 'TERM +code=13 \(EACCES\)' "$ZPT_TMP/eacces.out" || fail "eacces: $(cat "$ZPT_TMP/eacces.out")"
zpt_log "subscriber eacces (uid 65534): exit 3, $(grep TERM "$ZPT_TMP/eacces.out")"
rc=0
out="$(timeout 20 setpriv --reuid=65534 --regid=65534 --clear-groups "$ZPT_TMP/bin/zpathctl" \
	--instance "$INST" status 2>&1)" || rc=$?
if ((rc != 1)) || ! grep -q "peer credentials not permitted" <<<"$out"; then
	fail "control socket as uid 65534: exit $rc: $out"
fi
chmod 0660 "$NMI" "$RUN_DIR/$INST.sock"

# --- EWOULDBLOCK, read late: the TERM arrives ------------------------------------------------------
rm -f "$ZPT_TMP/go1" "$ZPT_TMP/go2"
mon_start slow --quiet --rcvbuf 4096 --hold-until "$ZPT_TMP/go1"
wait_subscribers 2
zctl debug conn-events "$FLOOD"
((rc == 0)) || fail "debug conn-events: $err"
wait_stat nmi_term_EWOULDBLOCK 1
touch "$ZPT_TMP/go1" # within ZP_NMI_TERM_GRACE_MS of the cut-off
mon_wait slow 3 'TERM +code=11 \(EWOULDBLOCK\)'

# --- EWOULDBLOCK, never read: the TERM is lost, EOF without TERM is abnormal -----------------------
lost0="$(stat_get nmi_term_lost)"
mon_start deaf --quiet --rcvbuf 4096 --hold-until "$ZPT_TMP/go2"
wait_subscribers 2
zctl debug conn-events "$FLOOD"
((rc == 0)) || fail "debug conn-events: $err"
wait_stat nmi_term_EWOULDBLOCK 2
wait_stat nmi_term_lost $((lost0 + 1)) # the grace period ran out
touch "$ZPT_TMP/go2"
mon_wait deaf 3 -
grep -q 'closed without TERM' "$ZPT_TMP/deaf.err" || fail "deaf: $(cat "$ZPT_TMP/deaf.err")"

zctl stats
zpt_log "$(grep '^monitor TERM' <<<"$out")"
grep -qE '^monitor TERM: planned 0, EWOULDBLOCK 2, ENOMEM 1, EACCES 1, EINVAL 1, EPIPE 1' <<<"$out" ||
	fail "TERM counters: $out"

# Every event the worker handed over (counted conn_events; the rest conn_events_lost when its ring
# to the control thread was full) reached the good subscriber.
for ((i = 0; i < 200; i++)); do
	zctl --json stats
	read -r queued lost <<<"$(python3 -c 'import json,sys; c=json.loads(sys.argv[1])["total"]["ctl"]; print(c["conn_events"], c["conn_events_lost"])' "$out")"
	((queued + lost >= 2 * FLOOD)) && break
	sleep 0.05
done
((queued + lost == 2 * FLOOD)) || fail "workers handed over $queued + lost $lost events, expected $((2 * FLOOD))"
zpt_log "workers: $queued events queued to the control thread, $lost lost (ring full)"

# --- planned: the instance stops ------------------------------------------------------------------
mon_start listed --list
wait_subscribers 2
rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo exited with status $rc"
mon_wait listed 0 'TERM +code=0 \(planned\)'
grep -q 'LIST_END' "$ZPT_TMP/listed.out" || fail "listed: no LIST_END"
mon_wait good 0 'TERM +code=0 \(planned\)'
# The good subscriber lost nothing the workers handed over: no TERM but the planned one.
[[ "$(grep -c ' TERM ' "$ZPT_TMP/good.out")" == 1 ]] || fail "good: $(cat "$ZPT_TMP/good.out")"
grep -q "zpathctl: $queued connection records; $lost events lost" "$ZPT_TMP/good.err" ||
	fail "good subscriber: $(cat "$ZPT_TMP/good.err"), expected $queued records and $lost lost"
[[ ! -e "$NMI" ]] || fail "$NMI left behind"
pass "monitoring stream: TERM EINVAL, EPIPE, ENOMEM, EACCES, EWOULDBLOCK (delivered and lost), planned"
