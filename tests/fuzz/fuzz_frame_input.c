/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: arbitrary bytes as one Ethernet frame into the stack's real input path.
 *
 * Each input is put on the fake port's RX ring and taken in by one pass of the worker loop
 * (rte_eth_rx_burst → dp_input → eth/ARP/IPv4/ICMP/TCP), then the virtual clock moves on so
 * ARP retries and TCP timers fire, everything the stack sent is freed, learnt ARP state is
 * forgotten (so inputs do not depend on each other), and every mbuf must be back in the pool:
 * a frame that leaks a buffer aborts like a crash. ASan and UBSan (tests/fuzz/run.sh) catch
 * out-of-bounds reads of short or lying headers.
 */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_env.h"

#define MS 1000000ULL

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_env env;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_env_init(&env);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned i;

	fz_inject(&env, data, size);
	fz_poll(&env, 0);
	fz_tx_drain(&env);
	/* Past the ARP retry limit (3 × 1 s) and the delayed-ACK / first RTO timers. */
	for (i = 0; i < 5; i++) {
		fz_poll(&env, 1000 * MS);
		fz_tx_drain(&env);
	}
	fz_arp_reset(&env);
	fz_tx_drain(&env);
	fz_check_no_leak(&env, "after one frame");
	return 0;
}
