#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Smoke test of zpath-bench-kernel on loopback: every mode runs, reports ops > 0 and status
# "ok" in a well-formed JSON line. Speed is never asserted.
#   test_bench_smoke.sh PATH/TO/zpath-bench-kernel
set -u
BIN=${1:?usage: $0 zpath-bench-kernel}
TMP=$(mktemp -d /tmp/zb-smoke.XXXXXX)
SRV=
cleanup() {
	[ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# A free port: let the kernel pick one, then release it.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
timeout 60 "$BIN" rr --server "127.0.0.1:$PORT" --duration 50 --quiet >"$TMP/server.json" \
	2>"$TMP/server.err" &
SRV=$!

fail=0
run() { # name, args...
	local name=$1
	shift
	if ! timeout 20 "$BIN" "$@" --client "127.0.0.1:$PORT" --duration 1 --warmup 0.2 --quiet \
		>"$TMP/$name.json" 2>"$TMP/$name.err"; then
		echo "FAIL $name: exit status $?"; cat "$TMP/$name.err"; fail=1; return
	fi
	if ! python3 - "$TMP/$name.json" <<'PY'
import json, sys
r = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
assert r["status"] == "ok", r
assert r["ops"] > 0, r
assert r["backend"] == "kernel" and r["transport"] == "loopback", r
if r["mode"] != "bulk":
    assert r["p50_us"] is not None and r["p50_us"] <= r["p99_us"] <= r["p999_us"], r
if r["mode"] == "crr":
    assert r["cps"] is not None and r["cps"] > 0, r
print("ok  ", r["mode"], "ops=%d" % r["ops"])
PY
	then
		echo "FAIL $name: bad result"; cat "$TMP/$name.json"; fail=1
	fi
}

run rr rr
run rr_pipe rr --conns 4 --pipeline 8 --size 100 --resp-size 2000
run bulk bulk
run bulk_rev bulk --reverse --conns 2
run crr crr --conns 4

kill -TERM "$SRV"
wait "$SRV"
rc=$?
SRV=
if [ $rc -ne 0 ] || ! grep -q '"role":"server"' "$TMP/server.json"; then
	echo "FAIL server: exit $rc"; cat "$TMP/server.json" "$TMP/server.err"; fail=1
fi
exit $fail
