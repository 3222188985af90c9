#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# 1 GiB from a Linux kernel client to a zpath server over net_tap, verified by SHA-256: the
# kernel sends, shuts down writing and waits for zpath's FIN; zpath reads to EOF and closes.
# The bytes and the hash zpath received must equal what the kernel sent.
# ZB_BULK_BYTES overrides the size (default 1073741824).
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

SIZE="${ZB_BULK_BYTES:-1073741824}"
interop_init

ZPT_ECHO_TIMEOUT=900 zp_start srv server --port "$IO_PORT" --steps recv_eof,close --timeout 60
zpath_reachable srv
t0=$(date +%s.%N)
KP_TIMEOUT=900 kp_run cli client --connect "$IO_ZIP:$IO_PORT" \
	--steps "send:$SIZE,shut_wr,recv_eof,close" --timeout 60
t1=$(date +%s.%N)
zp_wait srv 60

same "bytes zpath received" "$(zp_field srv rx_bytes)" "$SIZE"
same "SHA-256 kernel sent / zpath received" "$(kp_field cli tx_sha256)" "$(zp_field srv rx_sha256)"
zpt_log "$(python3 -c "print('%.0f MB/s (informational)' % ($SIZE / ($t1 - $t0) / 1e6))")"
pass "kernel -> zpath: $SIZE bytes, SHA-256 $(zp_field srv rx_sha256)"
