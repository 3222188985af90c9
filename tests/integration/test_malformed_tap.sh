#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The kernel end of a net_tap link injects a corpus of malformed frames (malformed_frames.py:
# wrong EtherTypes, truncated headers, bad lengths and checksums, IP options, fragments, bad
# ARP) towards zpath. zpath must survive, still answer ping, and count every frame under the
# drop reason the corpus names (ip_csum, ip_options, ip_fragment, eth_type, ip_totlen, ...).
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

require_root
require_tun
require_netns
require_cmd ip ping timeout
require_scapy
require_echo

zpt_reap_stale zpt-malf
NS="$(zpt_name zpt-malf)" # namespace, EAL file prefix and instance name
IF=zpt-malf0
ZMAC=02:7a:6e:00:00:02
KMAC=02:7a:6e:00:00:01
ZIP=10.78.0.2
KIP=10.78.0.1

netns_create "$NS"
write_ini "$ZPT_TMP/zpath.ini" <<EOF
[stack]
workers=1
instance=$NS
mbufs=8191

[port0]
device=net_tap0
address=$ZIP/24
EOF

tap_echo_start srv "$NS" "$IF" "$ZMAC" "$KMAC" "$KIP/24" "$NS" "$ZPT_TMP/zpath.ini" --duration 50
kernel_ping_until "$NS" "$ZIP" srv
zpt_log "zpath answers; injecting the corpus"

# Pin the neighbour entry so that the kernel sends no ARP of its own during the corpus.
ip -n "$NS" neigh replace "$ZIP" lladdr "$ZMAC" dev "$IF" nud permanent

ip netns exec "$NS" "$ZPT_PYTHON" "$(dirname "${BASH_SOURCE[0]}")/malformed_frames.py" \
	"$IF" "$KMAC" "$ZMAC" "$KIP" "$ZIP" >"$ZPT_TMP/expected" 2>"$ZPT_TMP/scapy.err" ||
	fail "scapy could not send the corpus: $(tail -n 5 "$ZPT_TMP/scapy.err")"
sent=$(awk '{ n += $2 } END { print n + 0 }' "$ZPT_TMP/expected")
zpt_log "sent $sent malformed frames"
sleep 0.5

echo_require_alive srv
out="$(ip netns exec "$NS" ping -c 3 -i 0.2 -W 2 "$ZIP" 2>&1)" ||
	fail "zpath stopped answering ping after the corpus: $out"
zpt_log "after the corpus: $(grep -E 'packets transmitted' <<<"$out")"

rc=0
echo_stop srv || rc=$?
((rc == 0)) || fail "zpath-echo exited with status $rc"
line="$(summary srv)"
[[ -n "$line" ]] || fail "zpath-echo printed no summary line"
zpt_log "zpath: $line"

bad=0
named=0
while read -r reason n; do
	[[ "$reason" == any ]] && continue
	named=$((named + n))
	got="$(summary_get srv "$reason")"
	if ((got >= n)); then
		zpt_log "  $reason: $got (sent $n) ok"
	else
		zpt_log "  $reason: $got, expected >= $n"
		bad=1
	fi
done <"$ZPT_TMP/expected"
drops="$(summary_get srv drops)"
((drops >= named)) || {
	zpt_log "  drops=$drops, expected >= $named"
	bad=1
}
((bad == 0)) || fail "drop counters do not match the corpus"
pass "$sent malformed frames counted ($named under their expected reasons), ping still answered"
