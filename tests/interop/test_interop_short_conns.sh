#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# 10,000 sequential short connections from a Linux kernel client to a zpath server: each sends
# 64 bytes and shuts down writing; zpath echoes them, sees EOF, shuts down and closes; the
# client reads the 64 bytes and EOF, then closes. Every connection must complete, and the
# bytes (and SHA-256) must match both ways. ZB_CONNS overrides the count.
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

N="${ZB_CONNS:-10000}"
interop_init

ZPT_ECHO_TIMEOUT=900 zp_start srv server --port "$IO_PORT" --conns "$N" --steps echo,close \
	--timeout 30
zpath_reachable srv
t0=$(date +%s.%N)
KP_TIMEOUT=900 kp_run cli client --connect "$IO_ZIP:$IO_PORT" --conns "$N" \
	--steps send:64,shut_wr,recv:64,recv_eof,close --timeout 30 --quiet
t1=$(date +%s.%N)
zp_wait srv 60

same "connections zpath served" "$(zp_field srv conns)" "$N"
same "connections the kernel completed" "$(kp_field cli conns)" "$N"
same "bytes zpath received" "$(zp_field srv rx_bytes)" "$((N * 64))"
same "SHA-256 kernel -> zpath" "$(kp_field cli tx_sha256)" "$(zp_field srv rx_sha256)"
same "SHA-256 zpath -> kernel" "$(zp_field srv tx_sha256)" "$(kp_field cli rx_sha256)"
zpt_log "$(python3 -c "print('%.0f connections/s (informational)' % ($N / ($t1 - $t0)))")"
pass "$N sequential connections kernel -> zpath"
