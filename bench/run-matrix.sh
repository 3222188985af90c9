#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Run the standard zpath-bench matrix and write results/<date>/:
#   results.jsonl   one line per case (the client's JSON + case, workload, placement, run,
#                   server_exit: the server's exit status, 0 when it stopped cleanly)
#   results.md      a table per workload with zpath/kernel ratios
#   *.png           gnuplot bar charts (when gnuplot is installed)
#   raw/            every client's and server's stdout/stderr
#
# Transports: kernel<->kernel over loopback and over a veth pair between two network
# namespaces (PREFIX-a, PREFIX-b); zpath<->zpath over memif and over vhost-user/virtio-user.
# Placements: same-cpu (client and server on one CPU) and cross-cpu (one CPU each).
# zpath same-cpu cases run both processes with the idle policy --same-cpu-idle (default
# yield: a worker gives up the CPU after idle_after empty poll passes, so the co-located
# peer runs at once); cross-cpu zpath cases busy-poll (idle = poll, the stack's default).
# --prefix names the namespaces, DPDK file prefixes and zpath instances (default zb).
# A case whose backend or facility is missing is recorded as "not run: <reason>", a case that
# ran and failed as "failed: <reason>"; nothing is ever estimated or copied from elsewhere.
#
# usage: bench/run-matrix.sh [--duration S] [--warmup S] [--build DIR] [--out DIR]
#                            [--only REGEX] [--cpus A,B] [--no-plots] [--prefix NAME]
#                            [--same-cpu-idle poll|yield|sleep] [--idle-after N]
#                            [--vhost-args ARGS] [--virtio-args ARGS]
#        bench/run-matrix.sh --report DIR    (only rewrite DIR's results.md and plots)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=3
WARMUP=1
BUILD=$ROOT/build-bench
OUT=
ONLY=.
CPUS=0,1
PLOTS=1
REPORT_ONLY=0
NP=zb               # name prefix: namespaces, veth, DPDK file prefixes, zpath instances
SAME_CPU_IDLE=yield # [stack] idle of both zpath processes when they share one CPU
IDLE_AFTER=8        # [stack] idle_after with it
# Extra devargs of the zpath-vhost pair (appended to net_vhost0,iface=...,queues=1 and
# net_virtio_user0,path=...,queues=1). queue_size=1024: virtio-user's default 256-entry TX ring
# fills whenever the vhost side loses its CPU for a moment (tcp.tx_blocked, and TLP probes
# dropped as drop.tx_full); 1024 holds a whole window of 1,514-byte frames (bench/README.md).
VHOST_ARGS=
VIRTIO_ARGS=queue_size=1024

while [ $# -gt 0 ]; do
	case "$1" in
	--duration) DURATION=$2; shift 2 ;;
	--warmup) WARMUP=$2; shift 2 ;;
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	--out) OUT=$2; shift 2 ;;
	--only) ONLY=$2; shift 2 ;;
	--cpus) CPUS=$2; shift 2 ;;
	--no-plots) PLOTS=0; shift ;;
	--report) OUT=$2; REPORT_ONLY=1; shift 2 ;;
	--prefix) NP=$2; shift 2 ;;
	--same-cpu-idle) SAME_CPU_IDLE=$2; shift 2 ;;
	--idle-after) IDLE_AFTER=$2; shift 2 ;;
	--vhost-args) VHOST_ARGS=$2; shift 2 ;;
	--virtio-args) VIRTIO_ARGS=$2; shift 2 ;;
	-h|--help) sed -n '3,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run-matrix: unknown option $1" >&2; exit 2 ;;
	esac
done

KBIN=$BUILD/bench/zpath-bench-kernel
ZBIN=$BUILD/bench/zpath-bench
[ -n "$OUT" ] || OUT=$ROOT/results/$(date +%Y-%m-%d_%H%M%S)
mkdir -p "$OUT/raw"
OUT=$(cd "$OUT" && pwd)
JSONL=$OUT/results.jsonl
[ "$REPORT_ONLY" = 1 ] || : >"$JSONL"
CPU_A=${CPUS%,*}
CPU_B=${CPUS#*,}
SRV_PID=
CREATED_NS=0
case "$SAME_CPU_IDLE" in
poll|yield|sleep) ;;
*) echo "run-matrix: --same-cpu-idle takes poll, yield or sleep" >&2; exit 2 ;;
esac
RUNDIR=$(mktemp -d "/tmp/$NP-matrix.XXXXXX")
SRV_LIMIT=$(python3 -c "print(int($DURATION + $WARMUP + 60))")
CLI_LIMIT=$(python3 -c "print(int($DURATION + $WARMUP + 40))")

for tool in jq python3 timeout; do
	command -v $tool >/dev/null || { echo "run-matrix: $tool is required" >&2; exit 2; }
done
if [ "$REPORT_ONLY" = 0 ] && [ ! -x "$KBIN" ]; then
	echo "run-matrix: $KBIN not found; build first: meson setup build-bench && ninja -C build-bench" >&2
	exit 2
fi

# ---- the matrix ----------------------------------------------------------------------------
# workload name | mode | options
WORKLOADS=(
	"rr64|rr|--size 64 --conns 1"
	"rr64-c4p4|rr|--size 64 --conns 4 --pipeline 4"
	"rr-1k-16k|rr|--size 1024 --resp-size 16384 --conns 1"
	"bulk-c1|bulk|--size 64k --conns 1"
	"bulk-c4|bulk|--size 64k --conns 4"
	"crr-c4|crr|--size 64 --conns 4"
)
TRANSPORTS=(kernel-loopback kernel-veth zpath-memif zpath-vhost)
PLACEMENTS=(same-cpu cross-cpu)

# ---- helpers ---------------------------------------------------------------------------------
log() { echo "[run-matrix] $*" >&2; }

# record CASE WORKLOAD TRANSPORT PLACEMENT MODE RUN [JSONFILE]  (uses $opts)
record() {
	local case=$1 wl=$2 tr=$3 pl=$4 mode=$5 run=$6 file=${7:-}
	local base='{}'
	if [ -n "$file" ] && [ -s "$file" ] && tail -n 1 "$file" | jq -e . >/dev/null 2>&1; then
		base=$(tail -n 1 "$file")
	fi
	jq -c --arg case "$case" --arg wl "$wl" --arg tr "$tr" --arg pl "$pl" --arg mode "$mode" \
		--arg run "$run" --arg opts "$opts" --arg idle "${ZP_IDLE:-}" \
		--argjson srv "${SRV_RC:-null}" \
		'. + {case: $case, workload: $wl, transport: $tr, placement: $pl, mode: $mode,
		      options: $opts, run: $run, server_exit: $srv}
		 + (if $idle == "" then {} else {zpath_idle: $idle} end)' \
		<<<"$base" >>"$JSONL"
	log "$case: $run"
}

# stop_server: SIGTERM, then SIGKILL after 5 s. Returns the server's exit status (0 = clean).
stop_server() {
	local rc=0
	if [ -n "$SRV_PID" ]; then
		kill -TERM "$SRV_PID" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$SRV_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$SRV_PID" 2>/dev/null
		wait "$SRV_PID" 2>/dev/null || rc=$?
		SRV_PID=
	fi
	return $rc
}

# last_line FILE: the last line of FILE that is not a progress line, DPDK chatter or empty.
last_line() {
	grep -v -e '^\[.* t=[0-9]*s ' -e '^TELEMETRY:' -e '^$' "$1" 2>/dev/null | tail -n1
}

cleanup() {
	stop_server
	if [ "$CREATED_NS" = 1 ]; then
		ip netns del "$NP-a" 2>/dev/null
		ip netns del "$NP-b" 2>/dev/null
	fi
	rm -rf "$RUNDIR" "/var/run/dpdk/$NP-bench-srv" "/var/run/dpdk/$NP-bench-cli"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Two namespaces joined by a veth pair: $NP-a 10.99.0.1 <-> $NP-b 10.99.0.2.
setup_veth() {
	local a=$NP-a b=$NP-b
	if ip netns list | grep -qw "$a" && ip netns list | grep -qw "$b"; then
		return 0
	fi
	ip netns add "$a" 2>"$RUNDIR/ns.err" || return 1
	CREATED_NS=1
	ip netns add "$b" 2>>"$RUNDIR/ns.err" || return 1
	ip link add "$NP-va" netns "$a" type veth peer name "$NP-vb" netns "$b" \
		2>>"$RUNDIR/ns.err" || return 1
	ip -n "$a" addr add 10.99.0.1/24 dev "$NP-va" &&
		ip -n "$b" addr add 10.99.0.2/24 dev "$NP-vb" &&
		ip -n "$a" link set "$NP-va" up && ip -n "$b" link set "$NP-vb" up &&
		ip -n "$a" link set lo up && ip -n "$b" link set lo up
}

# zpath.ini for one side: zpath_ini FILE INSTANCE DEVICE ADDRESS
zpath_ini() {
	cat >"$1" <<-EOF
	[stack]
	workers=1
	mbufs=8191
	instance=$2
	[port0]
	device=$3
	address=$4
	EOF
}

# Per transport: how to run server and client. Sets SRV_CMD, CLI_CMD (arrays), SRV_ADDR,
# CLI_TARGET, or NOT_RUN with the reason.
prepare_transport() {
	local tr=$1 scpu=$2 ccpu=$3
	NOT_RUN=
	ZP_IDLE=
	case "$tr" in
	kernel-loopback)
		SRV_CMD=("$KBIN" rr --server 127.0.0.1:5201 --cpu "$scpu")
		CLI_CMD=("$KBIN")
		CLI_CPU=(--cpu "$ccpu")
		CLI_TARGET=127.0.0.1:5201
		;;
	kernel-veth)
		if ! setup_veth; then
			NOT_RUN="not run: cannot create namespaces $NP-a/$NP-b: $(tail -n1 "$RUNDIR/ns.err")"
			return
		fi
		SRV_CMD=(ip netns exec "$NP-b" "$KBIN" rr --server 10.99.0.2:5201 --cpu "$scpu")
		CLI_CMD=(ip netns exec "$NP-a" "$KBIN")
		CLI_CPU=(--cpu "$ccpu")
		CLI_TARGET=10.99.0.2:5201
		;;
	zpath-memif|zpath-vhost)
		if [ ! -x "$ZBIN" ]; then
			NOT_RUN="not run: zpath-bench is not built (bench/meson.build links it only once libzpath defines zp_init, zp_run, zp_socket and zp_epoll_wait)"
			return
		fi
		local sock=$RUNDIR/$tr.sock sdev cdev svdev cvdev extra=() idle=()
		# Two busy-pollers on one CPU each burn their time slice on an empty ring: there
		# both run the idle policy (the table says which).
		ZP_IDLE=poll
		if [ "$scpu" = "$ccpu" ]; then
			ZP_IDLE="$SAME_CPU_IDLE"
			idle=(-s "stack.idle=$SAME_CPU_IDLE" -s "stack.idle_after=$IDLE_AFTER")
			[ "$SAME_CPU_IDLE" = poll ] || ZP_IDLE="$SAME_CPU_IDLE, idle_after $IDLE_AFTER"
		fi
		if [ "$tr" = zpath-memif ]; then
			sdev=net_memif0; svdev="net_memif0,role=server,id=0,socket=$sock,socket-abstract=no"
			cdev=net_memif0; cvdev="net_memif0,role=client,id=0,socket=$sock,socket-abstract=no"
		else
			sdev=net_vhost0; svdev="net_vhost0,iface=$sock,queues=1${VHOST_ARGS:+,$VHOST_ARGS}"
			cdev=net_virtio_user0
			cvdev="net_virtio_user0,path=$sock,queues=1${VIRTIO_ARGS:+,$VIRTIO_ARGS}"
			extra=(--single-file-segments)
		fi
		zpath_ini "$RUNDIR/srv.ini" "$NP-bench-srv" "$sdev" 10.98.0.2/24
		zpath_ini "$RUNDIR/cli.ini" "$NP-bench-cli" "$cdev" 10.98.0.1/24
		SRV_CMD=("$ZBIN" -l "$scpu" --no-huge -m 512 --no-pci --file-prefix "$NP-bench-srv"
			--log-level '*:warning' --vdev "$svdev" -- -c "$RUNDIR/srv.ini" -q "${idle[@]}"
			-- rr --server 10.98.0.2:5201)
		CLI_CMD=("$ZBIN" -l "$ccpu" --no-huge -m 512 --no-pci --file-prefix "$NP-bench-cli"
			"${extra[@]}" --log-level '*:warning' --vdev "$cvdev" -- -c "$RUNDIR/cli.ini"
			-q "${idle[@]}" --)
		CLI_CPU=()
		CLI_TARGET=10.98.0.2:5201
		;;
	esac
}

start_server() {
	local tag=$1
	rm -f "$RUNDIR"/*.sock # a memif server refuses to start on a stale socket file
	timeout "$SRV_LIMIT" "${SRV_CMD[@]}" --quiet >"$OUT/raw/$tag.server.json" \
		2>"$OUT/raw/$tag.server.err" &
	SRV_PID=$!
	sleep 0.5
	START_RC=0
	if ! kill -0 "$SRV_PID" 2>/dev/null; then
		wait "$SRV_PID" || START_RC=$?
		SRV_PID=
		return 1
	fi
	return 0
}

# ---- run -------------------------------------------------------------------------------------
run_matrix() {
	log "results in $OUT (duration ${DURATION}s, warmup ${WARMUP}s, cpus $CPU_A,$CPU_B)"
	{
		echo "date: $(date -Iseconds)"
		echo "host: $(uname -nr); cpus: $(nproc); $(grep -m1 'model name' /proc/cpuinfo)"
		echo "commit: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) $(git -C "$ROOT" status --porcelain -- . ":(exclude)$(cd "$OUT" && pwd)" 2>/dev/null | grep -q . && echo '(dirty tree)')"
		echo "duration: $DURATION s, warmup: $WARMUP s"
		echo "zpath idle policy: same-cpu $SAME_CPU_IDLE (idle_after $IDLE_AFTER), cross-cpu poll"
		echo "vhost devargs: net_vhost0 +'$VHOST_ARGS', net_virtio_user0 +'$VIRTIO_ARGS'"
	} >"$OUT/env.txt"

	for tr in "${TRANSPORTS[@]}"; do
		for pl in "${PLACEMENTS[@]}"; do
			scpu=$CPU_B
			[ "$pl" = same-cpu ] && scpu=$CPU_A
			group="$tr.$pl"
			wanted=0
			for wl in "${WORKLOADS[@]}"; do
				[[ "$group.${wl%%|*}" =~ $ONLY ]] && wanted=1
			done
			[ $wanted = 1 ] || continue

			prepare_transport "$tr" "$scpu" "$CPU_A"
			for wl in "${WORKLOADS[@]}"; do
				IFS='|' read -r name mode opts <<<"$wl"
				case_id="$group.$name"
				[[ "$case_id" =~ $ONLY ]] || continue
				SRV_RC=null
				if [ -n "$NOT_RUN" ]; then
					record "$case_id" "$name" "$tr" "$pl" "$mode" "$NOT_RUN"
					continue
				fi
				# A fresh server for every case: no state (TIME_WAIT, a memif peer that
				# went away) carries over from one case to the next.
				if ! start_server "$case_id"; then
					SRV_RC=$START_RC
					record "$case_id" "$name" "$tr" "$pl" "$mode" \
						"failed: server did not start: $(last_line "$OUT/raw/$case_id.server.err")"
					continue
				fi
				# shellcheck disable=SC2086
				timeout "$CLI_LIMIT" \
					"${CLI_CMD[@]}" "$mode" --client "$CLI_TARGET" $opts "${CLI_CPU[@]}" \
					--duration "$DURATION" --warmup "$WARMUP" --wait 10 --label "$tr" \
					>"$OUT/raw/$case_id.json" 2>"$OUT/raw/$case_id.err"
				rc=$?
				SRV_RC=0
				stop_server || SRV_RC=$?
				if [ $rc -eq 0 ]; then
					record "$case_id" "$name" "$tr" "$pl" "$mode" ok "$OUT/raw/$case_id.json"
				else
					why=$(last_line "$OUT/raw/$case_id.err")
					[ $rc -eq 124 ] && why="timed out"
					record "$case_id" "$name" "$tr" "$pl" "$mode" \
						"failed: exit $rc: ${why:-no message}" "$OUT/raw/$case_id.json"
				fi
				[ "$SRV_RC" -eq 0 ] ||
					log "$case_id: the server exited with status $SRV_RC (raw/$case_id.server.err)"
			done
		done
	done

}
[ "$REPORT_ONLY" = 1 ] || run_matrix

# ---- report ----------------------------------------------------------------------------------
python3 - "$JSONL" "$OUT" <<'PY'
import json, sys, os
from collections import OrderedDict

jsonl, out = sys.argv[1], sys.argv[2]
rows = [json.loads(l) for l in open(jsonl) if l.strip()]
env = open(os.path.join(out, "env.txt")).read().strip()

# The main metrics of each mode and which direction is better.
METRICS = {
    "rr": [("ops_per_s", "trans/s", True), ("p50_us", "p50 us", False),
           ("p99_us", "p99 us", False), ("p999_us", "p99.9 us", False)],
    "bulk": [("gbps", "Gbit/s", True)],
    "crr": [("cps", "conn/s", True), ("p50_us", "p50 us", False), ("p99_us", "p99 us", False)],
}
PAIRS = [("zpath-memif", "kernel-veth"), ("zpath-vhost", "kernel-veth"),
         ("zpath-memif", "kernel-loopback")]

def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    return "%.3g" % v

by = {}
for r in rows:
    by[(r["workload"], r["placement"], r["transport"])] = r
workloads = list(OrderedDict.fromkeys(r["workload"] for r in rows))
placements = list(OrderedDict.fromkeys(r["placement"] for r in rows))
transports = list(OrderedDict.fromkeys(r["transport"] for r in rows))

md = ["# zpath-bench matrix", "", "```", env, "```", "",
      "Ratios are zpath / kernel of the same workload and CPU placement; for throughput "
      "higher is better, for latency lower is better. '-' = no number (see the status "
      "column).", ""]
idles = sorted({(r["placement"], r["zpath_idle"]) for r in rows if r.get("zpath_idle")})
if idles:
    md += ["zpath idle policy (`[stack] idle`, both processes): " +
           "; ".join("%s: %s" % (pl, i) for pl, i in idles) +
           ". With `poll` two zpath processes on one CPU each spin through their time "
           "slice; `yield` hands the CPU to the peer after `idle_after` empty passes. "
           "The zpath rows show the policy next to the transport.", ""]
for wl in workloads:
    mode = next(r["mode"] for r in rows if r["workload"] == wl)
    mets = METRICS[mode]
    opts = next(r["options"] for r in rows if r["workload"] == wl)
    md += ["## %s (%s %s)" % (wl, mode, opts), ""]
    md.append("| placement | transport | " + " | ".join(m[1] for m in mets) + " | status |")
    md.append("|---|---|" + "---|" * len(mets) + "---|")
    for pl in placements:
        for tr in transports:
            r = by.get((wl, pl, tr))
            if r is None:
                continue
            ok = r["run"] == "ok"
            vals = [fmt(r.get(m[0])) if ok else "-" for m in mets]
            status = r["run"]
            if r.get("server_exit") not in (0, None):
                status += " (server exit status %d)" % r["server_exit"]
            label = tr
            if r.get("zpath_idle"):
                label += " (idle=%s)" % r["zpath_idle"].split(",")[0]
            md.append("| %s | %s | %s | %s |" % (pl, label, " | ".join(vals), status))
    ratio_lines = []
    for pl in placements:
        for z, k in PAIRS:
            rz, rk = by.get((wl, pl, z)), by.get((wl, pl, k))
            if rz is None or rk is None:
                continue
            cells = []
            for key, label, _ in mets:
                a = rz.get(key) if rz["run"] == "ok" else None
                b = rk.get(key) if rk["run"] == "ok" else None
                cells.append("%.2f" % (a / b) if a is not None and b else "-")
            ratio_lines.append("| %s | %s / %s | %s |" % (pl, z, k, " | ".join(cells)))
    if ratio_lines:
        md += ["", "| placement | ratio | " + " | ".join(m[1] for m in mets) + " |",
               "|---|---|" + "---|" * len(mets)] + ratio_lines
    md.append("")
open(os.path.join(out, "results.md"), "w").write("\n".join(md) + "\n")

# Data files for gnuplot: one per (workload, metric), rows = transport, columns = placement.
plots = []
for wl in workloads:
    mode = next(r["mode"] for r in rows if r["workload"] == wl)
    for key, label, _ in METRICS[mode][:3]:
        fn = os.path.join(out, "raw", "plot_%s_%s.dat" % (wl, key))
        have = False
        with open(fn, "w") as f:
            f.write("transport " + " ".join(placements) + "\n")
            for tr in transports:
                vals = []
                for pl in placements:
                    r = by.get((wl, pl, tr))
                    v = r.get(key) if r is not None and r["run"] == "ok" else None
                    have |= v is not None
                    vals.append("%g" % v if v is not None else "NaN")
                f.write(tr + " " + " ".join(vals) + "\n")
        if have:
            plots.append((fn, "%s: %s" % (wl, label), label, "log" if key.endswith("_us") else "lin"))
with open(os.path.join(out, "plots.list"), "w") as f:
    for p in plots:
        f.write("\t".join(p) + "\n")
PY

if [ "$PLOTS" = 1 ] && command -v gnuplot >/dev/null && [ -s "$OUT/plots.list" ]; then
	while IFS=$'\t' read -r dat title ylabel scale; do
		png=$(basename "${dat%.dat}.png")
		png=$OUT/${png#plot_}
		ncol=$(head -n1 "$dat" | wc -w)
		gnuplot <<-EOF 2>>"$OUT/raw/gnuplot.err"
		set terminal pngcairo size 900,500 noenhanced
		set output "$png"
		set title "$title (no bar: not run or failed)"
		set ylabel "$ylabel"
		set datafile missing "NaN"
		$([ "$scale" = log ] && echo "set logscale y")
		set style data histograms
		set style histogram clustered gap 1
		set style fill solid 0.8 border -1
		set key outside right top
		$([ "$scale" = log ] || echo "set yrange [0:*]")
		set grid ytics
		plot for [i=2:$ncol] "$dat" using i:xtic(1) title columnheader(i)
		EOF
	done <"$OUT/plots.list"
elif [ "$PLOTS" = 1 ]; then
	log "no plots: gnuplot missing or nothing measured"
fi
rm -f "$OUT"/plots.list

ok=$(jq -r 'select(.run == "ok") | .case' "$JSONL" | wc -l)
nr=$(jq -r 'select(.run | startswith("not run")) | .case' "$JSONL" | wc -l)
fl=$(jq -r 'select(.run | startswith("failed")) | .case' "$JSONL" | wc -l)
log "done: $ok ok, $nr not run, $fl failed -> $OUT/results.md"
[ "$fl" -eq 0 ]
