#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# 1 GiB from a zpath client to a Linux kernel server over net_tap, verified by SHA-256: zpath
# sends, shuts down writing and waits for the kernel's FIN; the kernel reads to EOF and
# closes. The bytes and the hash the kernel received must equal what zpath sent.
# ZB_BULK_BYTES overrides the size (default 1073741824).
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

SIZE="${ZB_BULK_BYTES:-1073741824}"
interop_init

KP_TIMEOUT=900 kp_start srv server --bind "0.0.0.0:$IO_PORT" --steps recv_eof,close --timeout 120
kp_listening srv
t0=$(date +%s.%N)
ZPT_ECHO_TIMEOUT=900 zp_start cli client --connect "$IO_KIP:$IO_PORT" --start-delay 1000 \
	--steps "send:$SIZE,shut_wr,recv_eof,close" --timeout 60
zp_wait cli 900
t1=$(date +%s.%N)
kp_wait srv

same "bytes the kernel received" "$(kp_field srv rx_bytes)" "$SIZE"
same "SHA-256 zpath sent / kernel received" "$(zp_field cli tx_sha256)" "$(kp_field srv rx_sha256)"
zpt_log "$(python3 -c "print('%.0f MB/s incl. start-up (informational)' % ($SIZE / ($t1 - $t0) / 1e6))")"
pass "zpath -> kernel: $SIZE bytes, SHA-256 $(kp_field srv rx_sha256)"
