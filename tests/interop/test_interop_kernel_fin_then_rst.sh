#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The kernel sends 1000 bytes, shuts down writing (FIN), then aborts (SO_LINGER {1, 0} + close:
# RST). Once the peer's FIN has been delivered, the zpath reader gets its data and a clean EOF,
# never ECONNRESET (F-2, decision D-4); a later recv still returns 0 and the RST shows only on
# send, which fails EPIPE.
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

interop_init

zp_start srv server --port "$IO_PORT" --steps sleep:1500,recv_eof,recv_zero,send_fails:EPIPE
zpath_reachable srv
kp_run cli client --connect "$IO_ZIP:$IO_PORT" --steps send:1000,shut_wr,sleep:300,linger0,close
zp_wait srv 30
same "bytes zpath read before EOF" "$(zp_field srv rx_bytes)" 1000
same "SHA-256 kernel -> zpath" "$(kp_field cli tx_sha256)" "$(zp_field srv rx_sha256)"
pass "kernel FIN then RST: zpath reads the data, then EOF (twice), and send fails EPIPE"
