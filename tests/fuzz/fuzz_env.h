/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The stack the libFuzzer targets drive: one EAL per process (--no-huge, no PCI), one fake
 * port on DPDK's net_ring PMD (frames go in through the port's RX ring and the real
 * rte_eth_rx_burst → dp_input path; what the stack sends is taken off its TX ring) and one
 * worker on a virtual clock. Like tests/lib/zpt.c, without cmocka: a broken invariant calls
 * abort(), which libFuzzer reports as a crash with the input that caused it.
 *
 * Addresses: the stack is 10.0.0.1/24 (MAC 02:00:00:00:00:01), default route via 10.0.0.254;
 * the peer the targets impersonate is 10.0.0.2 (MAC 02:aa:00:00:00:02), pre-resolved in ARP.
 */
#ifndef ZPATH_FUZZ_ENV_H
#define ZPATH_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>

#include "dp_priv.h"

#define FZ_LOCAL_IP RTE_IPV4(10, 0, 0, 1)
#define FZ_PEER_IP  RTE_IPV4(10, 0, 0, 2)
#define FZ_NOW0	    1000000000ULL /* the virtual clock starts at 1 s */

struct fz_env {
	struct dp_stack stack;
	struct dp_worker *w;
	struct rte_mempool *pool;
	unsigned pool_size;
	struct rte_ring *rx; /**< frames we inject (the port's RX) */
	struct rte_ring *tx; /**< frames the stack sent (the port's TX) */
	struct rte_ether_addr local_mac, peer_mac;
};

/** Start the EAL and build the stack, the worker (with its socket layer) and the port.
 *  Aborts with a message if anything fails. Call once, from LLVMFuzzerInitialize. */
void fz_env_init(struct fz_env *env);

/** Largest frame fz_inject() accepts (the mbuf data room); longer inputs are truncated. */
size_t fz_frame_max(const struct fz_env *env);

/** Copy @p len bytes into an mbuf and put it on the port's RX ring. */
void fz_inject(struct fz_env *env, const void *frame, size_t len);

/** Move the virtual clock by @p ns, then run one pass of the worker loop. */
void fz_poll(struct fz_env *env, uint64_t ns);

/** Next frame the stack sent, or NULL. The caller frees it. */
struct rte_mbuf *fz_tx_pop(struct fz_env *env);

/** Free everything the stack sent; returns how many frames. */
unsigned fz_tx_drain(struct fz_env *env);

/** Forget learnt ARP state (freeing packets waiting for resolution) and pre-resolve the peer,
 *  so that every input starts from the same state. */
void fz_arp_reset(struct fz_env *env);

/** Abort unless every mbuf is back in the pool. @p what names the moment for the message. */
void fz_check_no_leak(struct fz_env *env, const char *what);

/** Ethernet + IPv4 header (20 bytes, DF, TTL 64, correct checksum) peer → stack in front of
 *  @p l4 / @p l4_len. Returns the frame length (at most @p cap; the payload is cut to fit). */
size_t fz_build_ipv4(const struct fz_env *env, uint8_t *buf, size_t cap, uint8_t proto,
		     const void *l4, size_t l4_len);

#endif
