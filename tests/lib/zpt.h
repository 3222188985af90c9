/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Test harness shared by the cmocka unit tests.
 *
 * One EAL per test process (--no-huge, --in-memory, no PCI), fake ports built on DPDK's
 * net_ring PMD (the test pushes frames into a port's RX ring and pops what the stack
 * transmitted from its TX ring: the real ethdev path), and one worker on a virtual clock.
 * zpt_env_free() fails the test if any mbuf leaked.
 */
#ifndef ZPATH_TEST_ZPT_H
#define ZPATH_TEST_ZPT_H

#include <stddef.h>
#include <stdint.h>

#include <rte_ring.h>

#include "dp_priv.h"

/** Test addresses: interface i is 10.0.<i>.1/24 with MAC 02:00:00:00:00:<i+1>. */
#define ZPT_IP(a, b, c, d)                                                                         \
	rte_cpu_to_be_32(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) |   \
			 (uint32_t)(d))
#define ZPT_NOW0 1000000000ULL /* the virtual clock starts at 1 s */

struct zpt_env {
	struct dp_stack stack;
	struct dp_worker *w;
	struct rte_mempool *pool;
	unsigned pool_size;
	struct rte_ring *rx[DP_MAX_PORTS]; /**< frames we inject (the port's RX) */
	struct rte_ring *tx[DP_MAX_PORTS]; /**< frames the stack sent (the port's TX) */
};

/** Start the EAL once per process (idempotent). Fails the test if it cannot. */
void zpt_eal_init(void);

/** A stack with @p nb_ifaces fake ports and one worker (id 0) on a virtual clock. */
struct zpt_env *zpt_env_new(unsigned nb_ifaces);
/** Tear down; asserts that every mbuf came back to the pool (no leak). */
void zpt_env_free(struct zpt_env *env);

/** Copy @p len bytes into a fresh mbuf from the env's pool. */
struct rte_mbuf *zpt_mbuf(struct zpt_env *env, const void *data, size_t len);
/** Put a frame on @p iface's RX ring (processed by the next zpt_poll()). */
void zpt_inject(struct zpt_env *env, uint16_t iface, const void *frame, size_t len);
/** Run one pass of the worker loop without moving the clock. */
void zpt_poll(struct zpt_env *env);
/** Move the virtual clock forward by @p ns and run one pass of the loop. */
void zpt_advance(struct zpt_env *env, uint64_t ns);
/** Next frame the stack transmitted on @p iface, or NULL. Caller frees it. */
struct rte_mbuf *zpt_tx_pop(struct zpt_env *env, uint16_t iface);
/** Number of frames waiting on @p iface's TX ring. */
unsigned zpt_tx_count(struct zpt_env *env, uint16_t iface);
/** Free every frame waiting on every TX ring; returns how many. */
unsigned zpt_tx_drain(struct zpt_env *env);

/** Sum of all drop counters of the worker. */
uint64_t zpt_drops_total(const struct zpt_env *env);

/* Frame builders: write into @p buf, return the length. Checksums are correct. */
size_t zpt_build_eth(uint8_t *buf, const struct rte_ether_addr *dst,
		     const struct rte_ether_addr *src, uint16_t ether_type);
/** Ethernet + ARP (op = RTE_ARP_OP_REQUEST/REPLY). tha may be NULL (zeros). */
size_t zpt_build_arp(uint8_t *buf, const struct rte_ether_addr *eth_dst, uint16_t op,
		     const struct rte_ether_addr *sha, rte_be32_t sip,
		     const struct rte_ether_addr *tha, rte_be32_t tip);
/** Ethernet + IPv4 (20-byte header, TTL 64, DF) + @p l4 payload of @p l4_len bytes. */
size_t zpt_build_ipv4(uint8_t *buf, const struct rte_ether_addr *eth_dst,
		      const struct rte_ether_addr *eth_src, rte_be32_t src, rte_be32_t dst,
		      uint8_t proto, const void *l4, size_t l4_len);
/** Ethernet + IPv4 + ICMP echo request with @p payload_len bytes of pattern data. */
size_t zpt_build_ping(uint8_t *buf, const struct rte_ether_addr *eth_dst,
		      const struct rte_ether_addr *eth_src, rte_be32_t src, rte_be32_t dst,
		      uint16_t ident, uint16_t seq, size_t payload_len);

/** MAC of a remote test host number @p n (02:aa:00:00:00:n). */
struct rte_ether_addr zpt_peer_mac(uint8_t n);

#endif
