#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# SO_LINGER {1, 0} then close on zpath aborts the connection with a RST (RST-3), which the
# kernel application sees as ECONNRESET after the data it was sent:
#  1. zpath server receives 1000 bytes, sends 500, aborts; the kernel client reads 500 bytes,
#     then recv fails ECONNRESET (then returns 0).
#  2. zpath client sends 1000 bytes, waits, aborts; the kernel server reads the 1000 bytes,
#     then ECONNRESET.
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

interop_init

# --- 1. zpath server aborts -------------------------------------------------------------------
zp_start srv server --port "$IO_PORT" --steps recv:1000,send:500,sleep:300,linger0,close
zpath_reachable srv
kp_run cli client --connect "$IO_ZIP:$IO_PORT" --steps send:1000,expect_reset
zp_wait srv 30
same "bytes the kernel read before the reset" "$(kp_field cli rx_bytes)" 500
same "SHA-256 zpath -> kernel" "$(zp_field srv tx_sha256)" "$(kp_field cli rx_sha256)"

# --- 2. zpath client aborts -------------------------------------------------------------------
kp_start ksrv server --bind "0.0.0.0:$((IO_PORT + 1))" --steps expect_reset
kp_listening ksrv
zp_start cli client --connect "$IO_KIP:$((IO_PORT + 1))" --start-delay 1000 \
	--steps send:1000,sleep:500,linger0,close
zp_wait cli 30
kp_wait ksrv
same "bytes the kernel read before the reset" "$(kp_field ksrv rx_bytes)" 1000
pass "zpath linger-0 close: the kernel reads the data, then ECONNRESET (server and client side)"
