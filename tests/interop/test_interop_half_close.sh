#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Half-close both ways (CL-5, SD-1): the side that shuts down writing first keeps receiving.
#  1. kernel client sends 100000 bytes and shuts down writing; zpath reads to EOF, then sends
#     200000 bytes and closes; the kernel reads them and EOF.
#  2. the same with zpath as the client that half-closes first and the kernel as the server.
# Byte counts and SHA-256 must match in both directions of both cases.
# shellcheck source=lib_interop.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib_interop.sh"

interop_init

# --- 1. the kernel half-closes first ----------------------------------------------------------
zp_start srv server --port "$IO_PORT" --steps recv_eof,send:200000,close
zpath_reachable srv
kp_run cli client --connect "$IO_ZIP:$IO_PORT" --steps send:100000,shut_wr,recv_eof,close
zp_wait srv 30
same "kernel -> zpath bytes" "$(zp_field srv rx_bytes)" 100000
same "kernel -> zpath SHA-256" "$(kp_field cli tx_sha256)" "$(zp_field srv rx_sha256)"
same "zpath -> kernel bytes (after the kernel's FIN)" "$(kp_field cli rx_bytes)" 200000
same "zpath -> kernel SHA-256" "$(zp_field srv tx_sha256)" "$(kp_field cli rx_sha256)"

# --- 2. zpath half-closes first ---------------------------------------------------------------
kp_start ksrv server --bind "0.0.0.0:$((IO_PORT + 1))" --steps recv_eof,send:200000,close
kp_listening ksrv
zp_start cli client --connect "$IO_KIP:$((IO_PORT + 1))" --start-delay 1000 \
	--steps send:100000,shut_wr,recv_eof,close
zp_wait cli 40
kp_wait ksrv
same "zpath -> kernel bytes" "$(kp_field ksrv rx_bytes)" 100000
same "zpath -> kernel SHA-256" "$(zp_field cli tx_sha256)" "$(kp_field ksrv rx_sha256)"
same "kernel -> zpath bytes (after zpath's FIN)" "$(zp_field cli rx_bytes)" 200000
same "kernel -> zpath SHA-256" "$(kp_field ksrv tx_sha256)" "$(zp_field cli rx_sha256)"
pass "half-close kernel-first and zpath-first: data flows on in the open direction"
