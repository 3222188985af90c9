#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The kernel sends 1000 bytes and then aborts (SO_LINGER {1, 0} + close: RST, no FIN). The zpath
# application must get all 1000 bytes, then ECONNRESET once, then 0 (F-1):
#  1. the data and the RST are both queued before the application reads (it sleeps first);
#  2. the application is already waiting in zp_epoll_wait when they arrive (F-4: the RST
#     must wake it even with nothing left to read).
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

interop_init

# --- 1. data and RST queued before the read ---------------------------------------------------
zp_start srv server --port "$IO_PORT" --steps sleep:1500,expect_reset
zpath_reachable srv
kp_run cli client --connect "$IO_ZIP:$IO_PORT" --steps send:1000,sleep:300,linger0,close
zp_wait srv 30
same "bytes zpath read before ECONNRESET" "$(zp_field srv rx_bytes)" 1000
same "SHA-256 kernel -> zpath" "$(kp_field cli tx_sha256)" "$(zp_field srv rx_sha256)"

# --- 2. the application waits while they arrive -----------------------------------------------
zp_start srv2 server --port "$IO_PORT" --steps expect_reset
zpath_reachable srv2
kp_run cli2 client --connect "$IO_ZIP:$IO_PORT" --steps sleep:300,send:1000,sleep:300,linger0,close
zp_wait srv2 30
same "bytes zpath read before ECONNRESET (waiting reader)" "$(zp_field srv2 rx_bytes)" 1000
pass "kernel RST after data: zpath reads the data, then ECONNRESET, then 0"
