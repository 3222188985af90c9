#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The robustness suite of zpath: loss recovery and the rest under loss, duplication,
# corruption, reordering and delay. Run as root:
#
#   sudo bash tests/robustness/run.sh [--short] [--case NAME]... [--pair NAME]... [options]
#
# Pairs (each case runs on each pair that can express its faults):
#   tap     zpath (zp_peer, net_tap) <-> the Linux kernel, in a namespace; faults by nftables
#           netdev rules on the kernel's tap device (ingress hook: zpath -> kernel; egress
#           hook: kernel -> zpath); reorder and delay, which nftables cannot do, by zpath's
#           fault-injection port (fault_tx and fault_rx of the tap port);
#   memif   zpath <-> zpath over net_memif; faults by zpath's fault-injection port (fault_tx of
#           both ends: each direction impaired once);
#   kernel  the Linux kernel <-> the Linux kernel over a veth pair in two namespaces, with the
#           same nftables rules (the reference figure; reorder and delay have no kernel
#           reference: this kernel has no sch_netem).
# Cases: loss1 loss5 dup5 corrupt1 reorder25 delay20 all (see README.md for what each does).
#
# One TCP connection per case and pair carries BYTES each way, one direction after the other,
# verified by SHA-256 at both ends. A case fails if a transfer stalls (nothing moves for
# --stall seconds, default 30), exceeds --limit seconds, or a hash or a byte count differs.
# Goodput is printed beside the kernel's (a figure, never an assertion).
#
# Options:
#   --short          CI size: 8 MiB each way (2 MiB for "all"), cases loss5 dup5 corrupt1
#                    reorder25 all, limit 150 s, 1 MiB rule self-check
#   --case NAME      run only this case (repeatable)
#   --pair NAME      run only this pair (repeatable)
#   --bytes N        bytes each way (default 268435456 = 256 MiB; 8388608 with --short)
#   --stall S        no progress for S seconds fails the case (default 30)
#   --limit S        time limit of one case, both directions (default 7200; 150 with --short)
#   --no-check       skip the rule self-check (tshark) that runs first
#   --check-only     run only the rule self-check
#   --results FILE   also write the results as tab-separated lines to FILE
#   --fault SPEC     replace the fault-port part of the chosen cases by SPEC (fault_tx/fault_rx
#                    syntax, e.g. "delay=20ms"), for experiments
#   --nft "D U C"    replace the nftables part of the chosen cases: drop, duplicate, corrupt
#                    in percent (e.g. "0 5 1" with --fault "drop=0.01,..." moves the drop
#                    into zpath's port, where the Linux sender cannot see it), for experiments
# Environment: ZPATH_BUILD (build directory with tests/interop/zp_peer; default <repo>/build),
# ZPT_KEEP=1 (keep the temp directory: ini files, logs, nft rules, captures).
# Exit status: 0 every case that ran completed; 1 a case failed; 77 nothing could run, or
# (with some cases run and none failed) a part was skipped for a missing facility.
# shellcheck source=lib_robust.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_robust.sh"

ALL_CASES=(loss1 loss5 dup5 corrupt1 reorder25 delay20 all)
ALL_PAIRS=(kernel tap memif)
SHORT_CASES=(loss5 dup5 corrupt1 reorder25 all)
# --short: bytes of a case when not the default. "all" moves a few Mbit/s (20 ms +- 5 ms delay
# with loss); 2 MiB gives each 1 % rule ~15 packets to act on: with 1 MiB (~7) the check that
# every rule acted failed once in CI by chance (in_corrupt=0, P ~ 0.1 %).
declare -A SHORT_BYTES=([all]=2097152)

# case -> nft drop% dup% corrupt% | fault port spec (memif) | fault port spec (tap)
declare -A C_NFT=(
	[loss1]="1 0 0" [loss5]="5 0 0" [dup5]="0 5 0" [corrupt1]="0 0 1"
	[reorder25]="0 0 0" [delay20]="0 0 0" [all]="1 5 1"
)
declare -A C_FAULT=(
	[loss1]="drop=0.01" [loss5]="drop=0.05" [dup5]="dup=0.05" [corrupt1]="corrupt=0.01"
	[reorder25]="reorder=0.25" [delay20]="delay=20ms,jitter=5ms"
	[all]="drop=0.01,dup=0.05,reorder=0.25,delay=20ms,jitter=5ms,corrupt=0.01"
)
declare -A C_FAULT_TAP=(
	[reorder25]="reorder=0.25" [delay20]="delay=20ms,jitter=5ms"
	[all]="reorder=0.25,delay=20ms,jitter=5ms"
)

short=0 check=1 check_only=0 results_file="" fault_override="" nft_override=""
cases=() pairs=()
bytes="" stall=30 limit=""
while (($#)); do
	case "$1" in
	--short) short=1 ;;
	--case) cases+=("$2"); shift ;;
	--pair) pairs+=("$2"); shift ;;
	--bytes) bytes="$2"; shift ;;
	--stall) stall="$2"; shift ;;
	--limit) limit="$2"; shift ;;
	--no-check) check=0 ;;
	--check-only) check_only=1 ;;
	--results) results_file="$2"; shift ;;
	--fault) fault_override="$2"; shift ;;
	--nft) nft_override="$2"; shift ;;
	-h | --help)
		sed -n '3,37p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1 (try --help)" >&2
		exit 2
		;;
	esac
	shift
done
if ((${#cases[@]} == 0)); then
	if ((short)); then cases=("${SHORT_CASES[@]}"); else cases=("${ALL_CASES[@]}"); fi
fi
((${#pairs[@]})) || pairs=("${ALL_PAIRS[@]}")
for c in "${cases[@]}"; do
	[[ -n "${C_NFT[$c]:-}" ]] || { echo "run.sh: unknown case $c (${ALL_CASES[*]})" >&2; exit 2; }
	if [[ -n "$nft_override" ]]; then
		[[ "$nft_override" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ ]] ||
			{ echo "run.sh: --nft wants \"DROP DUP CORRUPT\" in percent" >&2; exit 2; }
		C_NFT[$c]="$nft_override"
	fi
	if [[ -n "$fault_override" ]]; then
		C_FAULT[$c]="$fault_override"
		[[ -z "${C_FAULT_TAP[$c]:-}" ]] || C_FAULT_TAP[$c]="$fault_override"
	fi
done
for p in "${pairs[@]}"; do
	[[ " ${ALL_PAIRS[*]} " == *" $p "* ]] || { echo "run.sh: unknown pair $p (${ALL_PAIRS[*]})" >&2; exit 2; }
done
bytes_set=0
[[ -n "$bytes" ]] && bytes_set=1
if ((short)); then
	bytes="${bytes:-8388608}"
	limit="${limit:-150}"
else
	bytes="${bytes:-268435456}"
	limit="${limit:-7200}"
fi
[[ "$bytes" =~ ^[0-9]+$ ]] && ((bytes > 0)) || { echo "run.sh: bad --bytes $bytes" >&2; exit 2; }

require_root
require_tun
require_netns
require_cmd ip nft ethtool timeout tshark dumpcap "$ZPT_PYTHON"

have_tcp=0 have_fault=0
zr_have_tcp && have_tcp=1
zr_have_fault && have_fault=1
zr_have_egress || skip "nft has no netdev egress hook here (Linux $(uname -r); needs >= 5.16 with CONFIG_NETFILTER_EGRESS): the kernel -> peer direction cannot be impaired on the tap"
why_no_tcp="$ZR_ZP_PEER not built: zp_peer is linked once libzpath has the socket API (TCP engine); reconfigure $ZPATH_BUILD"
why_no_fault="zpath's fault-injection port is missing from this build (dataplane/port/fault.c, [portN] fault_rx/fault_tx keys in control/config.c)"
zr_log "build $ZPATH_BUILD: zp_peer $([[ $have_tcp == 1 ]] && echo yes || echo no), fault port $([[ $have_fault == 1 ]] && echo yes || echo no); Linux $(uname -r), $(nft --version)"
zr_log "$bytes bytes each way, stall ${stall} s, limit ${limit} s per transfer; cases: ${cases[*]}; pairs: ${pairs[*]}"

RESULTS="$ZPT_TMP/results.tsv"
: >"$RESULTS"
# record CASE PAIR RESULT C2S_MBIT S2C_MBIT NOTE (with the case's byte count and duration)
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$bytes" "${took:-}" >>"$RESULTS"; }

# subcase NAME CMD...: run CMD in a subshell with its own cleanup list (lib.sh), so that a
# fail/skip in one case ends that case only. Returns its exit status.
subcase() {
	local rc=0
	rm -f "$ZPT_TMP/last-why"
	(
		ZPT_CLEANUP=()
		ZPT_RUNS=()
		ZR_KP_LOGS=()
		ZPT_NAME="$1"
		trap zr_on_exit EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
		shift
		"$@"
	) || rc=$?
	return "$rc"
}

# verdict CASE PAIR ZP_RC ...: shared by the pairs: check hashes and byte counts.
# same_or_fail WHAT A B: fail the case unless A = B (both non-empty).
same_or_fail() {
	[[ -n "$2" && "$2" == "$3" ]] || fail "$1: '$2' != '$3'"
}

# rules_acted NS DROP DUP CORRUPT: every configured rule counted packets (else the rule set
# is broken and the case says nothing: fail).
rules_acted() {
	local ns="$1" drop="$2" dup="$3" corrupt="$4" cnt r
	cnt="$(zr_nft_counters "$ns")"
	for r in in out; do
		((drop == 0)) || (($(zr_counter "$cnt" "${r}_drop") > 0)) || fail "nft rule ${r}_drop never acted ($cnt)"
		((dup == 0)) || (($(zr_counter "$cnt" "${r}_dup") > 0)) || fail "nft rule ${r}_dup never acted ($cnt)"
		((corrupt == 0)) || (($(zr_counter "$cnt" "${r}_corrupt") > 0)) || fail "nft rule ${r}_corrupt never acted ($cnt)"
		(($(zr_counter "$cnt" "${r}_oversize") == 0)) || fail "nft saw packets above 1514 bytes (GSO/TSO not off?): $cnt"
	done
}

# --- pair: kernel <-> kernel over a veth pair ----------------------------------------------
KA="zr-ka-$$" KB="zr-kb-$$"
kernel_setup() { # kernel_setup DROP DUP CORRUPT
	netns_create "$KA"
	netns_create "$KB"
	ip link add zrka netns "$KA" type veth peer name zrkb netns "$KB"
	ip -n "$KA" link set zrka address "$ZR_ZMAC"
	ip -n "$KB" link set zrkb address "$ZR_KMAC"
	ip -n "$KA" addr add "$ZR_ZIP/24" dev zrka
	ip -n "$KB" addr add "$ZR_KIP/24" dev zrkb
	zr_one_segment_per_packet "$KA" zrka
	zr_one_segment_per_packet "$KB" zrkb
	ip -n "$KA" link set zrka up
	ip -n "$KB" link set zrkb up
	(($2 == 0)) || zr_dup_hop "$KB" zrkb
	zr_nft_load "$KB" zrkb zrdup0 "$@"
}

run_kernel() { # run_kernel CASE
	local c="$1" drop dup corrupt srv cli cnt
	read -r drop dup corrupt <<<"${C_NFT[$c]}"
	kernel_setup "$drop" "$dup" "$corrupt"
	zr_kp_start ksrv "$KB" "$((limit + 30))" server --bind "0.0.0.0:$ZR_PORT" --bytes "$bytes" \
		--stall "$stall" --limit "$limit"
	zr_kp_listening ksrv || fail "kernel server did not listen"
	zr_kp_start kcli "$KA" "$((limit + 30))" client --connect "$ZR_KIP:$ZR_PORT" --bytes "$bytes" \
		--stall "$stall" --limit "$limit"
	zr_wait_all "$((limit + 40))" ksrv kcli || fail "time limit"
	srv="$(zr_line "$ZPT_TMP/ksrv.out" 'zr_peer: ')"
	cli="$(zr_line "$ZPT_TMP/kcli.out" 'zr_peer: ')"
	cnt="$(zr_nft_counters "$KB")"
	zr_log "server: $srv"
	zr_log "client: $cli"
	zr_log "nft: $cnt"
	zr_log "kernel B (server): $(zr_nstat "$KB")"
	[[ "$(zr_field "$srv" result)" == ok ]] || fail "kernel server: $(zr_field "$srv" reason)"
	[[ "$(zr_field "$cli" result)" == ok ]] || fail "kernel client: $(zr_field "$cli" reason)"
	same_or_fail "bytes A->B" "$(zr_field "$srv" rx_bytes)" "$bytes"
	same_or_fail "bytes B->A" "$(zr_field "$cli" rx_bytes)" "$bytes"
	same_or_fail "SHA-256 A->B" "$(zr_field "$cli" tx_sha256)" "$(zr_field "$srv" rx_sha256)"
	same_or_fail "SHA-256 B->A" "$(zr_field "$srv" tx_sha256)" "$(zr_field "$cli" rx_sha256)"
	rules_acted "$KB" "$drop" "$dup" "$corrupt"
	record "$c" kernel ok "$(zr_field "$srv" rx_mbit)" "$(zr_field "$srv" tx_mbit)" \
		"retrans $(zr_field "$cli" total_retrans)/$(zr_field "$srv" total_retrans); nft $cnt"
}

# --- pair: zpath <-> kernel over net_tap ---------------------------------------------------
TNS="zr-t-$$"
# tap_start BYTES LIMIT START_DELAY_MS DROP DUP CORRUPT [KEY=VALUE...]: namespace, kernel server
# (ksrv), zp_peer client on the tap (zcli), offloads, duplicate hop and rules on zrtap0.
tap_start() {
	local n="$1" lim="$2" delay="$3" drop="$4" dup="$5" corrupt="$6"
	shift 6
	netns_create "$TNS"
	zr_ini "$ZPT_TMP/tap.ini" "$TNS" "$ZR_ZIP/24" device=net_tap0 "gateway=$ZR_KIP" "$@"
	zr_kp_start ksrv "$TNS" "$((lim + 30))" server --bind "0.0.0.0:$ZR_PORT" --bytes "$n" \
		--stall "$stall" --limit "$lim" --accept-timeout 60
	zr_kp_listening ksrv || fail "kernel server did not listen"
	ZPT_ECHO_TIMEOUT=$((lim + 30)) tap_echo_start zcli "$TNS" zrtap0 "$ZR_ZMAC" "$ZR_KMAC" \
		"$ZR_KIP/24" "$TNS" "$ZPT_TMP/tap.ini" \
		client --connect "$ZR_KIP:$ZR_PORT" --steps "send:$n,shut_wr,recv_eof,close,sleep:1500" \
		--timeout "$stall" --start-delay "$delay"
	zr_one_segment_per_packet "$TNS" zrtap0
	((dup == 0)) || zr_dup_hop "$TNS" zrtap0
	zr_nft_load "$TNS" zrtap0 zrdup0 "$drop" "$dup" "$corrupt"
}

run_tap() { # run_tap CASE
	local c="$1" drop dup corrupt fspec srv zp cnt extra=() zrc krc
	read -r drop dup corrupt <<<"${C_NFT[$c]}"
	fspec="${C_FAULT_TAP[$c]:-}"
	if [[ -n "$fspec" ]]; then
		((have_fault)) || skip "$why_no_fault"
		extra=("fault_tx=$fspec" "fault_rx=$fspec" "fault_seed=$((RANDOM + 1))")
		zr_log "zpath's fault port on the tap: ${extra[*]}"
	fi
	tap_start "$bytes" "$limit" 2000 "$drop" "$dup" "$corrupt" "${extra[@]}"
	zr_stats_poll zcli "$TNS"
	zr_wait_all "$((limit + 40))" ksrv zcli || fail "time limit"
	zr_stats_stop
	zrc=0
	echo_wait zcli || zrc=$?
	krc="$(zr_kp_rc ksrv)"
	srv="$(zr_line "$ZPT_TMP/ksrv.out" 'zr_peer: ')"
	zp="$(zr_line "$ZPT_TMP/zcli.out" 'zp_peer: ')"
	cnt="$(zr_nft_counters "$TNS")"
	zr_log "kernel: $srv"
	zr_log "zpath:  $zp"
	zr_log "nft: $cnt"
	zr_log "kernel TCP: $(zr_nstat "$TNS")"
	zr_log "zpath counters: $(zr_stats zcli)"
	[[ "$(zr_field "$srv" result)" == ok && "$krc" == 0 ]] ||
		fail "kernel side (exit $krc): $(zr_field "$srv" reason)"
	[[ "$(zr_field "$zp" result)" == ok && "$zrc" == 0 ]] ||
		fail "zpath side (exit $zrc): $(zr_field "$zp" reason)"
	same_or_fail "bytes zpath->kernel" "$(zr_field "$srv" rx_bytes)" "$bytes"
	same_or_fail "bytes kernel->zpath" "$(zr_field "$zp" rx_bytes)" "$bytes"
	same_or_fail "SHA-256 zpath->kernel" "$(zr_field "$zp" tx_sha256)" "$(zr_field "$srv" rx_sha256)"
	same_or_fail "SHA-256 kernel->zpath" "$(zr_field "$srv" tx_sha256)" "$(zr_field "$zp" rx_sha256)"
	rules_acted "$TNS" "$drop" "$dup" "$corrupt"
	record "$c" tap ok "$(zr_field "$srv" rx_mbit)" "$(zr_field "$srv" tx_mbit)" \
		"kernel retrans $(zr_field "$srv" total_retrans); nft $cnt${fspec:+; fault port $fspec}"
}

# --- pair: zpath <-> zpath over net_memif --------------------------------------------------
MA="zr-ma-$$" MB="zr-mb-$$"
run_memif() { # run_memif CASE
	local c="$1" spec sock mem=() i srv cli t0 t1 t2 zs zc seed_a seed_b
	((have_fault)) || skip "$why_no_fault"
	spec="${C_FAULT[$c]}"
	sock="$ZPT_TMP/memif-$c.sock"
	seed_a=$((RANDOM + 1)) seed_b=$((RANDOM + 1))
	zr_ini "$ZPT_TMP/ma.ini" "$MA" "$ZR_MA_IP/24" device=net_memif0 "fault_tx=$spec" \
		"fault_seed=$seed_a"
	zr_ini "$ZPT_TMP/mb.ini" "$MB" "$ZR_MB_IP/24" device=net_memif0 "fault_tx=$spec" \
		"fault_seed=$seed_b"
	zr_log "fault_tx of both ends: $spec; fault_seed a=$seed_a b=$seed_b"
	read -ra mem <<<"$(eal_mem_args 256)"
	eal_prefix_cleanup "$MA"
	eal_prefix_cleanup "$MB"
	rm -f "$ZPT_TMP"/msrv.* "$ZPT_TMP"/mcli.* # no stale "listening" from a case before
	echo_start msrv - "$((limit + 60))" -l 0 --no-pci "${mem[@]}" --file-prefix "$MA" \
		--vdev "net_memif0,role=server,id=0,socket=$sock,socket-abstract=no,mac=$ZR_MA_MAC" \
		-- -c "$ZPT_TMP/ma.ini" -- server --port "$ZR_PORT" \
		--steps "recv_eof,send:$bytes,shut_wr,close" --after "sleep:$(((limit + 60) * 1000))" \
		--timeout "$stall" --seed 2
	for ((i = 0; i < 200; i++)); do
		grep -q 'listening on port' "$ZPT_TMP/msrv.err" 2>/dev/null && break
		echo_require_alive msrv
		sleep 0.1
	done
	read -ra mem <<<"$(eal_mem_args 256)"
	echo_start mcli - "$((limit + 30))" -l 1 --no-pci "${mem[@]}" --file-prefix "$MB" \
		--vdev "net_memif0,role=client,id=0,socket=$sock,socket-abstract=no,mac=$ZR_MB_MAC" \
		-- -c "$ZPT_TMP/mb.ini" -- client --connect "$ZR_MA_IP:$ZR_PORT" \
		--steps "send:$bytes,shut_wr,recv_eof,close,sleep:$(((limit + 60) * 1000))" \
		--timeout "$stall" --start-delay 1000 --seed 1
	zr_stats_poll msrv "$MA"
	zr_stats_poll mcli "$MB"
	# Both parts end when the client has everything (its recv_eof step): read the counters,
	# then stop both processes at once (zr_stop_together says why). A failing client exits
	# by itself (stall, error), which ends the wait too.
	if ! zr_wait_note "$((limit + 40))" mcli 'bytes, then EOF' && echo_alive mcli; then
		zr_stats_stop
		zr_stop_together mcli msrv
		fail "time limit"
	fi
	sleep 0.5 # the client's close step, and the last ACKs
	zr_stats_stop
	for i in msrv:"$MA" mcli:"$MB"; do
		timeout 5 "$ZR_ZPATHCTL" --instance "${i#*:}" --json stats >"$ZPT_TMP/${i%%:*}.stats.new" \
			2>/dev/null && mv -f "$ZPT_TMP/${i%%:*}.stats.new" "$ZPT_TMP/${i%%:*}.stats"
	done
	zr_stop_together mcli msrv
	srv="$(zr_line "$ZPT_TMP/msrv.out" 'zp_peer: ')"
	cli="$(zr_line "$ZPT_TMP/mcli.out" 'zp_peer: ')"
	zr_log "server (a): $srv"
	zr_log "client (b): $cli"
	zs="$(zr_stats msrv)"
	zc="$(zr_stats mcli)"
	zr_log "zpath a counters: $zs"
	zr_log "zpath b counters: $zc"
	[[ "$(zr_field "$cli" result)" == ok ]] || fail "client (b): $(zr_field "$cli" reason)"
	[[ "$(zr_field "$srv" result)" == ok ]] || fail "server (a): $(zr_field "$srv" reason)"
	same_or_fail "bytes b->a" "$(zr_field "$srv" rx_bytes)" "$bytes"
	same_or_fail "bytes a->b" "$(zr_field "$cli" rx_bytes)" "$bytes"
	same_or_fail "SHA-256 b->a" "$(zr_field "$cli" tx_sha256)" "$(zr_field "$srv" rx_sha256)"
	same_or_fail "SHA-256 a->b" "$(zr_field "$srv" tx_sha256)" "$(zr_field "$cli" rx_sha256)"
	t0="$(zr_note_time msrv 'connection 1 from')"
	t1="$(zr_note_time msrv 'bytes, then EOF')"
	t2="$(zr_note_time mcli 'bytes, then EOF')"
	record "$c" memif ok \
		"$(zr_mbit "$bytes" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (a && b) ? b - a : 0 }')")" \
		"$(zr_mbit "$bytes" "$(awk -v a="$t1" -v b="$t2" 'BEGIN { print (a && b) ? b - a : 0 }')")" \
		"fault_tx $spec; a: $zs; b: $zc"
}

# --- the rule self-check -------------------------------------------------------------------
# Before relying on the rules, show that each one does what it says, on the kernel pair
# (A = zrka, B = zrkb with the rules: A -> B through B's "in" chain, B -> A through its "out"
# chain, captured on A's veth) and on the tap (zpath = A, the kernel = B with the rules on
# zrtap0, captured on zrtap0: a capture there sees incoming frames before the ingress hook and
# outgoing ones after the egress hook). 2 MiB each way, one fault at 10 %:
#   drop:    B's TCP received in_all - in_drop segments; the capture saw out_all - out_drop
#            frames from B;
#   dup:     B's TCP received in_all + in_dup; the capture saw out_all + out_dup frames from B,
#            out_dup of them repeats of an earlier frame (same IP id, seq, ack, length; a few
#            more are tolerated: Linux may repeat a frame itself), and out_dup copies came
#            back through the egress hook (out_copies);
#   corrupt: B counted in_corrupt TCP checksum errors; the capture saw out_corrupt frames from
#            B with a bad TCP checksum (tshark; a few more are tolerated: tshark also flags
#            the odd 0xffff-for-0x0000 checksum); on the kernel pair A's TCP counted exactly
#            out_corrupt checksum errors.
CHECK_BYTES=2097152
((short)) && CHECK_BYTES=1048576
check_one() { # check_one PAIR KIND DROP DUP CORRUPT
	local pair="$1" kind="$2" drop="$3" dup="$4" corrupt="$5" cnt nb na="" pcap cap i ns dev
	local tpid v in_all out_all peer nb0 na0
	pcap="$ZPT_TMP/check-$pair-$kind.pcapng"
	if [[ "$pair" == kernel ]]; then
		kernel_setup "$drop" "$dup" "$corrupt"
		ns="$KA" dev=zrka
	else
		((have_tcp)) || skip "$why_no_tcp"
		tap_start "$CHECK_BYTES" 60 4000 "$drop" "$dup" "$corrupt"
		ns="$TNS" dev=zrtap0
	fi
	# dumpcap, not tshark: tshark probes its extcap helpers at start, and one of them
	# (androiddump) tries TCP connections to localhost, which would count in B's counters.
	rm -f "$ZPT_TMP/dumpcap.err"
	ip netns exec "$ns" timeout 90 dumpcap -q -i "$dev" -f tcp -w "$pcap" >"$ZPT_TMP/dumpcap.err" 2>&1 &
	tpid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'Capturing on' "$ZPT_TMP/dumpcap.err" 2>/dev/null && break
		sleep 0.1
	done
	# Counters before the transfer (the tap's connection waits 4 s: --start-delay).
	if [[ "$pair" == kernel ]]; then
		nb0="$(zr_nstat "$KB")"
		na0="$(zr_nstat "$KA")"
	else
		nb0="$(zr_nstat "$TNS")"
	fi
	if [[ "$pair" == kernel ]]; then
		zr_kp_start ksrv "$KB" 60 server --bind "0.0.0.0:$ZR_PORT" --bytes "$CHECK_BYTES" \
			--stall "$stall"
		zr_kp_listening ksrv || fail "kernel server did not listen"
		zr_kp_start kcli "$KA" 60 client --connect "$ZR_KIP:$ZR_PORT" --bytes "$CHECK_BYTES" \
			--stall "$stall"
		peer=kcli
		zr_wait_all 70 ksrv kcli || fail "check transfer did not finish"
		peer="$(zr_line "$ZPT_TMP/kcli.out" 'zr_peer: ')"
		nb="$(zr_delta "$(zr_nstat "$KB")" "$nb0")"
		na="$(zr_delta "$(zr_nstat "$KA")" "$na0")"
	else
		zr_wait_all 70 ksrv zcli || fail "check transfer did not finish"
		peer="$(zr_line "$ZPT_TMP/zcli.out" 'zp_peer: ')"
		nb="$(zr_delta "$(zr_nstat "$TNS")" "$nb0")"
		ns="$TNS"
	fi
	sleep 0.5
	kill -INT "$tpid" 2>/dev/null || true
	wait "$tpid" 2>/dev/null || true
	[[ "$(zr_field "$peer" result)" == ok &&
		"$(zr_field "$(zr_line "$ZPT_TMP/ksrv.out" 'zr_peer: ')" result)" == ok ]] ||
		fail "check transfer failed: $peer / $(zr_line "$ZPT_TMP/ksrv.out" 'zr_peer: ')"
	[[ "$pair" == kernel ]] && ns="$KB"
	cnt="$(zr_nft_counters "$ns")"
	# Frames from B on the capture: count, repeats, bad checksums.
	cap="$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -Y "ip.src==$ZR_KIP" -T fields \
		-e ip.id -e tcp.seq_raw -e tcp.ack_raw -e tcp.len -e tcp.checksum.status 2>/dev/null |
		awk '{ n++; if (seen[$0]++) d++; if ($5 == 0) bad++ }
		     END { printf "wire_frames=%d wire_dups=%d wire_bad_csum=%d\n", n, d, bad }')"
	zr_log "check $pair $kind: nft $cnt"
	zr_log "check $pair $kind: B $nb"
	[[ -n "$na" ]] && zr_log "check $pair $kind: A $na"
	zr_log "check $pair $kind: capture on $dev, frames from B: $cap"
	in_all="$(zr_counter "$cnt" in_all)"
	out_all="$(zr_counter "$cnt" out_all)"
	case "$kind" in
	drop)
		v="$(zr_counter "$cnt" in_drop)"
		((v > 0 && $(zr_counter "$cnt" out_drop) > 0)) || fail "drop rules never acted"
		(($(zr_counter "$nb" InSegs) == in_all - v)) ||
			fail "in_drop: B's TCP received $(zr_counter "$nb" InSegs) segments, expected in_all - in_drop = $((in_all - v))"
		v="$(zr_counter "$cnt" out_drop)"
		(($(zr_counter "$cap" wire_frames) == out_all - v)) ||
			fail "out_drop: the capture saw $(zr_counter "$cap" wire_frames) frames from B, expected out_all - out_drop = $((out_all - v))"
		;;
	dup)
		v="$(zr_counter "$cnt" in_dup)"
		((v > 0 && $(zr_counter "$cnt" out_dup) > 0)) || fail "dup rules never acted"
		(($(zr_counter "$nb" InSegs) == in_all + v)) ||
			fail "in_dup: B's TCP received $(zr_counter "$nb" InSegs) segments, expected in_all + in_dup = $((in_all + v))"
		v="$(zr_counter "$cnt" out_dup)"
		(($(zr_counter "$cap" wire_frames) == out_all + v)) ||
			fail "out_dup: the capture saw $(zr_counter "$cap" wire_frames) frames from B, expected out_all + out_dup = $((out_all + v))"
		(($(zr_counter "$cnt" out_copies) == v)) ||
			fail "out_dup: $(zr_counter "$cnt" out_copies) copies came back through the egress hook, expected out_dup = $v"
		i="$(zr_counter "$cap" wire_dups)"
		((i >= v && i <= v + 2 + v / 50)) ||
			fail "out_dup: the capture saw $i repeated frames from B, expected out_dup = $v"
		;;
	corrupt)
		v="$(zr_counter "$cnt" in_corrupt)"
		((v > 0 && $(zr_counter "$cnt" out_corrupt) > 0)) || fail "corrupt rules never acted"
		(($(zr_counter "$nb" InCsumErrors) == v)) ||
			fail "in_corrupt: B counted $(zr_counter "$nb" InCsumErrors) TCP checksum errors, expected in_corrupt = $v"
		v="$(zr_counter "$cnt" out_corrupt)"
		i="$(zr_counter "$cap" wire_bad_csum)"
		((i >= v && i <= v + 2 + v / 50)) ||
			fail "out_corrupt: the capture saw $i bad TCP checksums from B, expected out_corrupt = $v"
		[[ -z "$na" ]] || (($(zr_counter "$na" InCsumErrors) == v)) ||
			fail "out_corrupt: A counted $(zr_counter "$na" InCsumErrors) TCP checksum errors, expected out_corrupt = $v"
		;;
	esac
	zr_log "check $pair $kind: the rules act as intended"
}

# --- main ----------------------------------------------------------------------------------
nfail=0 nskip=0 nok=0
skipped=()
failed=()
if ((check || check_only)); then
	checked=()
	for cp in kernel tap; do
		[[ " ${pairs[*]} " == *" $cp "* ]] || ((check_only)) || continue
		for kind in drop dup corrupt; do
			case "$kind" in
			drop) args=(10 0 0) ;;
			dup) args=(0 10 0) ;;
			corrupt) args=(0 0 10) ;;
			esac
			rc=0
			subcase "check-$cp-$kind" check_one "$cp" "$kind" "${args[@]}" || rc=$?
			if ((rc == 77)); then
				zr_log "rule self-check on $cp skipped: $(cat "$ZPT_TMP/last-why" 2>/dev/null)"
				break
			elif ((rc != 0)); then
				zr_log "rule self-check '$cp $kind' FAILED: the fault rules cannot be trusted here"
				echo "robustness: rule self-check failed ($cp $kind): $(cat "$ZPT_TMP/last-why" 2>/dev/null)"
				exit 1
			fi
			checked+=("$cp/$kind")
		done
	done
	zr_log "rule self-check passed: ${checked[*]}"
	((check_only)) && {
		echo "robustness: rule self-check passed (${checked[*]}; ingress and egress hooks)"
		exit 0
	}
fi

bytes_default="$bytes"
for c in "${cases[@]}"; do
	bytes="$bytes_default"
	((!short || bytes_set)) || bytes="${SHORT_BYTES[$c]:-$bytes}"
	for p in "${pairs[@]}"; do
		name="$c/$p"
		took=""
		if [[ "$p" == kernel && "${C_NFT[$c]}" == "0 0 0" ]]; then
			record "$c" kernel n/a - - "nftables cannot reorder or delay and this kernel has no sch_netem"
			continue
		fi
		if [[ "$p" != kernel ]] && ((!have_tcp)); then
			record "$c" "$p" skip - - "$why_no_tcp"
			nskip=$((nskip + 1))
			skipped+=("$name: $why_no_tcp")
			continue
		fi
		zr_log "=== $name: $bytes bytes each way"
		t0="$(date +%s.%N)"
		rc=0
		subcase "$c/$p" "run_$p" "$c" || rc=$?
		took="$(awk -v s="$t0" -v e="$(date +%s.%N)" 'BEGIN { printf "%.0f", e - s }')"
		case "$rc" in
		0)
			nok=$((nok + 1))
			sed -i '$ s/\t$/\t'"$took"'/' "$RESULTS" # the case's row, written by the case
			zr_log "=== $name: completed in $took s"
			;;
		77)
			why="$(cat "$ZPT_TMP/last-why" 2>/dev/null || true)"
			record "$c" "$p" skip - - "$why"
			nskip=$((nskip + 1))
			skipped+=("$name: $why")
			zr_log "=== $name: skipped: $why"
			;;
		*)
			why="$(cat "$ZPT_TMP/last-why" 2>/dev/null || true)"
			record "$c" "$p" FAIL - - "${why:-exit $rc} (after $took s)"
			nfail=$((nfail + 1))
			failed+=("$name: ${why:-exit $rc}")
			zr_log "=== $name: FAILED after $took s: ${why:-exit $rc}"
			;;
		esac
	done
done

# --- the table -----------------------------------------------------------------------------
"$ZPT_PYTHON" - "$RESULTS" <<-'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
kern = {r[0]: r for r in rows if r[1] == "kernel"}
print()
print("robustness: goodput in Mbit/s (client->server / server->client), MiB each way, seconds")
print("  tap: client = zpath, server = Linux; memif: client = zpath b, server = zpath a;")
print("  kernel: Linux <-> Linux over veth with the same nftables rules (reference, a figure only)")
fmt = "%-10s %-7s %-6s %5s %5s %10s %10s   %11s %11s"
print(fmt % ("case", "pair", "result", "MiB", "s", "c->s", "s->c", "kernel c->s", "kernel s->c"))
for r in rows:
    if r[1] == "kernel":
        continue
    k = kern.get(r[0])
    kc, ks = (k[3], k[4]) if k and k[2] == "ok" else ((k[2], k[2]) if k else ("-", "-"))
    if r[0] == "all" and k and k[2] == "ok":
        kc, ks = kc + "*", ks + "*"
    print(fmt % (r[0], r[1], r[2], "%g" % (int(r[6]) / 1048576), r[7] or "-", r[3], r[4], kc, ks))
for c, k in kern.items():
    if not any(r[0] == c and r[1] != "kernel" for r in rows):
        print(fmt % (c, "kernel", k[2], "%g" % (int(k[6]) / 1048576), k[7] or "-", k[3], k[4], "", ""))
if "all" in kern:
    print("  * kernel reference of 'all': the nftables part only (loss, duplication, corruption)")
for r in rows:
    if r[2] not in ("ok", "n/a"):
        print("  %s/%s %s: %s" % (r[0], r[1], r[2], r[5]))
EOF
[[ -n "$results_file" ]] && cp "$RESULTS" "$results_file"
echo
for f in "${failed[@]}"; do echo "  FAILED: $f"; done
for s in "${skipped[@]}"; do echo "  skipped: $s"; done
echo "robustness: $nok completed, $nfail failed, $nskip skipped"
((nfail == 0)) || exit 1
if ((nok == 0 || nskip > 0)); then
	zr_log "SKIP: ${skipped[0]:-nothing ran}$( ((nskip > 1)) && echo " (and $((nskip - 1)) more)")"
	exit 77
fi
exit 0
