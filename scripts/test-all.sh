#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Set up the machine and run every test of zpath. Run as root on Debian 12:
#
#   sudo bash scripts/test-all.sh [--no-asan] [--no-integration] [--no-fuzz] [--no-setup]
#
#  0. scripts/setup.sh --no-build (packages, hugepages, tun);
#  1. build ./build (debugoptimized, werror) and run the unit and bench suites;
#  2. build ./build-asan (ASan + UBSan, werror) and run them again; then compile
#     ./build-release (buildtype=release, werror: warnings only -O3 finds);
#  3. run every tests/integration/test_*.sh and tests/interop/test_*.sh against ./build, each
#     under a time limit (exit 0 pass, 77 skip, anything else fail);
#  4. run them again against ./build-asan (zpath under ASan/UBSan; interop moves less data);
#  5. run each libFuzzer target briefly (tests/fuzz/run.sh, clang build in ./build-fuzz).
# The last line is "test-all: N passed, N failed, N skipped", counting each unit test
# executable and each integration script, once per build it ran on. With CI=true a skip
# counts as a failure (CI must not skip). Exits non-zero if anything failed.
#
# Environment: ZPATH_BUILD, ZPATH_BUILD_ASAN, ZPATH_BUILD_RELEASE (build directories),
# ZPATH_IT_TIMEOUT (seconds per integration script, default 300), ZPATH_IT_FILTER (run only
# integration scripts whose name contains it), ZPATH_FUZZ_SECONDS (per fuzz target, default 10).
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

T=test-all
do_setup=1 do_asan=1 do_it=1 do_fuzz=1
fuzz_seconds="${ZPATH_FUZZ_SECONDS:-10}"
for arg in "$@"; do
	case "$arg" in
	--no-setup) do_setup=0 ;;
	--no-asan) do_asan=0 ;;
	--no-integration) do_it=0 ;;
	--no-fuzz) do_fuzz=0 ;;
	-h | --help)
		sed -n '3,22p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	*) die "$T" "unknown argument: $arg (try --help)" ;;
	esac
done

ci=0
[[ "${CI:-}" == true || "${CI:-}" == 1 ]] && ci=1
it_timeout="${ZPATH_IT_TIMEOUT:-300}"

passed=0 failed=0 skipped=0
failures=()
t_all="$(now_s)"

# result NAME pass|fail|skip [WHY]
result() {
	local name="$1" res="$2" why="${3:-}"
	case "$res" in
	pass) passed=$((passed + 1)) ;;
	skip)
		if ((ci)); then
			failed=$((failed + 1))
			failures+=("$name (skipped; CI must not skip${why:+: $why})")
		else
			skipped=$((skipped + 1))
		fi
		;;
	*)
		failed=$((failed + 1))
		failures+=("$name${why:+ ($why)}")
		;;
	esac
}

finish() {
	log "$T" "total time $(elapsed "$t_all") s"
	if ((${#failures[@]})); then
		log "$T" "failures:"
		local f
		for f in "${failures[@]}"; do
			printf '  - %s\n' "$f" >&2
		done
	fi
	if ((passed + failed + skipped == 0)); then
		failed=1
		log "$T" "no test ran at all"
	fi
	echo "test-all: $passed passed, $failed failed, $skipped skipped"
	if ((failed)); then
		exit 1
	fi
	exit 0
}

[[ $(id -u) -eq 0 ]] || die "$T" "must run as root (sudo bash scripts/test-all.sh): the integration tests create network namespaces and tap devices"

# --- 0. set-up -----------------------------------------------------------------------------
if ((do_setup)); then
	t0="$(now_s)"
	log "$T" "step 0: set-up"
	if ! bash "$ZPATH_ROOT/scripts/setup.sh" --no-build; then
		result setup fail "scripts/setup.sh failed"
		finish
	fi
	log "$T" "step 0: set-up done in $(elapsed "$t0") s"
fi

# build NAME DIR OPTS...: configure and compile; false (and one failure counted) on error.
build() {
	local name="$1" dir="$2"
	shift 2
	local t0 logf
	t0="$(now_s)"
	log "$T" "$name: configure + compile $(basename "$dir")"
	logf="$(mktemp /tmp/zpath-test-all-build.XXXXXX)"
	if ! meson_ensure "$dir" "$@" >"$logf" 2>&1 || ! meson compile -C "$dir" >>"$logf" 2>&1; then
		tail -n 80 "$logf" >&2
		rm -f "$logf"
		result "$name build" fail "see the compiler output above"
		return 1
	fi
	rm -f "$logf"
	log "$T" "$name: built in $(elapsed "$t0") s"
}

# unit NAME DIR: meson's unit suite in DIR; one result per test executable.
unit() {
	local name="$1" dir="$2" t0 rc=0
	t0="$(now_s)"
	log "$T" "$name: meson test --suite unit --suite bench"
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --suite unit --suite bench --print-errorlogs --no-rebuild || rc=$?
	if [[ ! -f "$dir/meson-logs/testlog.json" ]]; then
		if ((rc == 0)); then
			log "$T" "$name: no unit test defined yet"
		else
			result "$name unit tests" fail "meson test exited $rc without a test log"
		fi
		return
	fi
	# One JSON object per line; OK and EXPECTEDFAIL pass, SKIP skips, anything else fails.
	while IFS=$'\t' read -r res tname; do
		case "$res" in
		OK | EXPECTEDFAIL) result "$name: $tname" pass ;;
		SKIP) result "$name: $tname" skip "exit 77" ;;
		*) result "$name: $tname" fail "$res" ;;
		esac
	done < <("$ZPATH_PYTHON" -c 'import json, sys
for line in open(sys.argv[1]):
    line = line.strip()
    if line:
        t = json.loads(line)
        print(t["result"] + "\t" + t["name"])' "$dir/meson-logs/testlog.json")
	log "$T" "$name: unit suite done in $(elapsed "$t0") s (meson test exit $rc)"
}

# integration NAME DIR: every tests/integration/test_*.sh and tests/interop/test_*.sh against
# the build in DIR.
integration() {
	local name="$1" dir="$2" t0 t1 s n rc took why logdir lim
	local scripts=()
	t0="$(now_s)"
	logdir="$dir/test-logs"
	mkdir -p "$logdir"
	shopt -s nullglob
	scripts=("$ZPATH_ROOT"/tests/integration/test_*.sh "$ZPATH_ROOT"/tests/interop/test_*.sh)
	shopt -u nullglob
	log "$T" "$name: ${#scripts[@]} integration scripts against $(basename "$dir") (limit ${it_timeout} s each, logs in $logdir)"
	for s in "${scripts[@]}"; do
		n="$(basename "$s" .sh)"
		if [[ -n "${ZPATH_IT_FILTER:-}" && "$n" != *"$ZPATH_IT_FILTER"* ]]; then
			continue
		fi
		# A script may ask for a longer limit with a line "# zpath-it-timeout: SECONDS".
		lim="$(sed -n 's/^# zpath-it-timeout: *\([0-9][0-9]*\).*/\1/p' "$s" | head -n 1)"
		((${lim:-0} > it_timeout)) || lim="$it_timeout"
		t1="$(now_s)"
		rc=0
		ZPATH_BUILD="$dir" timeout -k 15 "$lim" bash "$s" >"$logdir/$n.log" 2>&1 </dev/null || rc=$?
		took="$(elapsed "$t1")"
		case "$rc" in
		0)
			log "$T" "  PASS $n (${took} s)"
			result "$name: $n" pass
			;;
		77)
			why="$(grep -a 'SKIP:' "$logdir/$n.log" | tail -n 1 | sed 's/.*SKIP: //')"
			log "$T" "  SKIP $n (${took} s): ${why:-no reason given}"
			result "$name: $n" skip "$why"
			;;
		*)
			if ((rc == 124 || rc == 137)); then why="timed out after ${lim} s"; else why="exit $rc"; fi
			log "$T" "  FAIL $n (${took} s, $why); last lines of $logdir/$n.log:"
			tail -n 80 "$logdir/$n.log" | sed 's/^/    | /' >&2
			result "$name: $n" fail "$why"
			;;
		esac
	done
	log "$T" "$name: done in $(elapsed "$t0") s"
}

# --- 1. normal build + unit tests ----------------------------------------------------------
built=0
if build "step 1" "$ZPATH_BUILD" "${ZPATH_BUILD_OPTS[@]}"; then
	built=1
	unit "step 1 ($(basename "$ZPATH_BUILD"))" "$ZPATH_BUILD"
fi

# --- 2. ASan + UBSan build + unit tests ----------------------------------------------------
built_asan=0
if ((do_asan)); then
	if build "step 2" "$ZPATH_BUILD_ASAN" "${ZPATH_ASAN_OPTS[@]}"; then
		built_asan=1
		unit "step 2 ($(basename "$ZPATH_BUILD_ASAN"))" "$ZPATH_BUILD_ASAN"
	fi
fi

# --- 2b. the release build compiles (-O3 finds uninitialised paths -O2 does not) -----------
if build "step 2b" "$ZPATH_BUILD_RELEASE" "${ZPATH_RELEASE_OPTS[@]}"; then
	result "step 2b: release build compiles" pass
fi

# --- 3. integration tests, on the normal build, then on the ASan/UBSan build ---------------
if ((do_it)); then
	if ((built)); then
		integration "step 3" "$ZPATH_BUILD"
	else
		log "$T" "step 3: integration tests not run: the build failed"
	fi
	if ((built_asan)); then
		# The sanitizers slow the stack several times over: the interop tests move less data.
		ZB_BULK_BYTES=$((100 << 20)) ZB_CONNS=2000 integration "step 4 (asan)" "$ZPATH_BUILD_ASAN"
	fi
fi

# --- 5. fuzz targets, briefly (clang + libFuzzer, ASan/UBSan) --------------------------------
if ((do_fuzz)); then
	t5="$(now_s)"
	log "$T" "step 5: fuzz targets, ${fuzz_seconds} s each (tests/fuzz/run.sh)"
	rc=0
	bash "$ZPATH_ROOT/tests/fuzz/run.sh" -t "$fuzz_seconds" --build "$ZPATH_ROOT/build-fuzz" \
		>"$ZPATH_ROOT/build-fuzz.log" 2>&1 || rc=$?
	if ((rc == 0)); then
		result "step 5: fuzz" pass
	else
		tail -n 40 "$ZPATH_ROOT/build-fuzz.log" | sed 's/^/    | /' >&2
		result "step 5: fuzz" fail "tests/fuzz/run.sh exit $rc (log: build-fuzz.log)"
	fi
	log "$T" "step 5: done in $(elapsed "$t5") s"
fi

finish
