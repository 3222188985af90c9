#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Build the libFuzzer targets with clang, ASan and UBSan into build-fuzz, then run each for N
# seconds (default 30) starting from its seed corpus. Exit status: 0 no crash, 1 a target
# crashed, leaked an mbuf, hit UB or timed out (the input is saved as
# build-fuzz/fuzz-artifacts/<target>-crash-*), 2 build or usage error.
#
# usage: tests/fuzz/run.sh [-t SECONDS] [-j JOBS] [--build DIR] [TARGET...]
#   CI: tests/fuzz/run.sh -t 10
# Reproduce a crash: build-fuzz/tests/fuzz/<target> <artifact file>
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_PER_TARGET=30
BUILD=$ROOT/build-fuzz
TARGETS=()

while [ $# -gt 0 ]; do
	case "$1" in
	-t) SECONDS_PER_TARGET=$2; shift 2 ;;
	--build) BUILD=$2; shift 2 ;;
	-h|--help) sed -n '3,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
	*) TARGETS+=("$1"); shift ;;
	esac
done
case "$BUILD" in /*) ;; *) BUILD=$PWD/$BUILD ;; esac

command -v clang >/dev/null || { echo "run.sh: clang not found" >&2; exit 2; }
if [ ! -f "$BUILD/build.ninja" ]; then
	rm -rf "$BUILD" # a half-configured directory from a failed setup
	log=$(mktemp /tmp/zb-fuzz-setup.XXXXXX)
	CC=clang meson setup "$BUILD" "$ROOT" -Dfuzz=true -Dtests=true -Dexamples=false \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized \
		>"$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; exit 2; }
	mv "$log" "$BUILD/fuzz-setup.log"
fi
# Only the fuzz targets (and what they link): the rest of the tree is not needed here.
ninja -C "$BUILD" -t targets all 2>/dev/null | grep -oE '^tests/fuzz/fuzz_[a-z_]+:' |
	tr -d : | sort -u >"$BUILD/fuzz-targets.txt"
if [ ${#TARGETS[@]} -eq 0 ]; then
	mapfile -t TARGETS < <(sed 's|tests/fuzz/||' "$BUILD/fuzz-targets.txt")
fi
[ ${#TARGETS[@]} -gt 0 ] || { echo "run.sh: no fuzz targets configured in $BUILD" >&2; exit 2; }
ninja -C "$BUILD" "${TARGETS[@]/#/tests/fuzz/}" >"$BUILD/fuzz-build.log" 2>&1 ||
	{ tail -n 40 "$BUILD/fuzz-build.log" >&2; exit 2; }

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
ART=$BUILD/fuzz-artifacts
mkdir -p "$ART"
rc=0
for t in "${TARGETS[@]}"; do
	case "$t" in
	fuzz_frame_input) seeds=$ROOT/tests/fuzz/corpus/frame ;;
	fuzz_tcp_segment) seeds=$ROOT/tests/fuzz/corpus/tcp ;;
	*) echo "run.sh: unknown target $t" >&2; exit 2 ;;
	esac
	# Mutations go to a scratch corpus; the committed seeds stay as they are.
	work=$BUILD/fuzz-corpus/$t
	mkdir -p "$work"
	echo "== $t: ${SECONDS_PER_TARGET}s" >&2
	timeout -k 10 $((SECONDS_PER_TARGET + 120)) "$BUILD/tests/fuzz/$t" \
		-max_total_time="$SECONDS_PER_TARGET" -max_len=2048 -timeout=10 -rss_limit_mb=4096 \
		-print_final_stats=1 -artifact_prefix="$ART/$t-" "$work" "$seeds" \
		>"$BUILD/$t.log" 2>&1
	trc=$?
	grep -E '^(#[0-9]+.*(DONE|INITED)|stat::number_of_executed_units|stat::peak_rss_mb|INFO: seed corpus)' \
		"$BUILD/$t.log" >&2
	if [ $trc -ne 0 ]; then
		echo "== $t: FAILED (exit $trc); log: $BUILD/$t.log" >&2
		grep -E 'ERROR|SUMMARY|fuzz_env:|runtime error|Test unit written' "$BUILD/$t.log" | head -20 >&2
		rc=1
	else
		echo "== $t: ok" >&2
	fi
done
exit $rc
