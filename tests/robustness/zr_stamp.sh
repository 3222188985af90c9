#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# zr_stamp.sh ARGS...: run "$ZR_STAMP_PROG" ARGS... (exec: same PID, so signals reach it) with
# every line it writes on stderr prefixed by the wall-clock time ("1712345678.123456 line").
# tests/robustness/run.sh starts zp_peer through it to time the transfers from zp_peer's own
# progress notes ("connection 1 from ...", "received N bytes, then EOF").
set -u
[[ -n "${ZR_STAMP_PROG:-}" ]] || {
	echo "zr_stamp.sh: ZR_STAMP_PROG not set" >&2
	exit 2
}
exec "$ZR_STAMP_PROG" "$@" 2> >(while IFS= read -r line; do
	printf '%s %s\n' "$EPOCHREALTIME" "$line"
done >&2)
