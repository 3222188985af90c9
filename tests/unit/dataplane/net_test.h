/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the dataplane/net unit tests: the standard peers, a few assertions on
 * frames the stack sent, and counter snapshots. Everything is static inline (header-only).
 */
#ifndef ZPATH_TEST_NET_TEST_H
#define ZPATH_TEST_NET_TEST_H

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>

#include "zpt.h"

/* An IPv4 address in network order. Unlike RTE_IPV4 (and so ZPT_IP) it never shifts an int
 * into the sign bit, which UBSan reports for addresses from 128.0.0.0 up. */
#define IP4(a, b, c, d)                                                                            \
	rte_cpu_to_be_32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 |          \
			 (uint32_t)(d))

/* Our interface 0 is 10.0.0.1 (zpt); the peer on its link is 10.0.0.2; the gateway of the
 * default route is 10.0.0.254. */
#define OUR_IP	   IP4(10, 0, 0, 1)
#define PEER_IP	   IP4(10, 0, 0, 2)
#define GW_IP	   IP4(10, 0, 0, 254)
#define FAR_IP	   IP4(192, 0, 2, 7)
#define MS	   1000000ULL
#define PROTO_TEST 253 /* RFC 3692 experimental protocol number */

static inline struct rte_ether_addr our_mac(const struct zpt_env *env, uint16_t iface)
{
	return env->stack.ifaces[iface].mac;
}

static inline struct rte_ether_addr peer_mac(void)
{
	return zpt_peer_mac(2);
}

static inline struct rte_ether_hdr *frame_eth(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
}

static inline struct rte_arp_hdr *frame_arp(struct rte_mbuf *m)
{
	assert_true(rte_pktmbuf_data_len(m) >=
		    sizeof(struct rte_ether_hdr) + sizeof(struct rte_arp_hdr));
	assert_int_equal(rte_be_to_cpu_16(frame_eth(m)->ether_type), RTE_ETHER_TYPE_ARP);
	return rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, sizeof(struct rte_ether_hdr));
}

static inline struct rte_ipv4_hdr *frame_ip(struct rte_mbuf *m)
{
	assert_true(rte_pktmbuf_data_len(m) >=
		    sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr));
	assert_int_equal(rte_be_to_cpu_16(frame_eth(m)->ether_type), RTE_ETHER_TYPE_IPV4);
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, sizeof(struct rte_ether_hdr));
}

static inline void *frame_l4(struct rte_mbuf *m)
{
	return (uint8_t *)frame_ip(m) + rte_ipv4_hdr_len(frame_ip(m));
}

/** The one frame sent on @p iface (asserts there is exactly one). */
static inline struct rte_mbuf *pop_only(struct zpt_env *env, uint16_t iface)
{
	struct rte_mbuf *m;

	assert_int_equal(zpt_tx_count(env, iface), 1);
	m = zpt_tx_pop(env, iface);
	assert_non_null(m);
	return m;
}

static inline void assert_ether_eq(const struct rte_ether_addr *a, const struct rte_ether_addr *b)
{
	assert_memory_equal(a->addr_bytes, b->addr_bytes, RTE_ETHER_ADDR_LEN);
}

/** Assert @p m is an ARP request from @p iface asking for @p tip. */
static inline void assert_arp_request(struct zpt_env *env, uint16_t iface, struct rte_mbuf *m,
				      rte_be32_t tip)
{
	struct rte_arp_hdr *a = frame_arp(m);
	struct rte_ether_addr mine = our_mac(env, iface);

	assert_true(rte_is_broadcast_ether_addr(&frame_eth(m)->dst_addr));
	assert_ether_eq(&frame_eth(m)->src_addr, &mine);
	assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REQUEST);
	assert_ether_eq(&a->arp_data.arp_sha, &mine);
	assert_int_equal(a->arp_data.arp_sip, env->stack.ifaces[iface].addr);
	assert_int_equal(a->arp_data.arp_tip, tip);
}

/** Inject the ARP reply of @p ip at @p mac to our interface @p iface and poll. */
static inline void inject_arp_reply(struct zpt_env *env, uint16_t iface, rte_be32_t ip,
				    const struct rte_ether_addr *mac)
{
	uint8_t buf[128];
	struct rte_ether_addr mine = our_mac(env, iface);
	size_t len = zpt_build_arp(buf, &mine, RTE_ARP_OP_REPLY, mac, ip, &mine,
				   env->stack.ifaces[iface].addr);

	zpt_inject(env, iface, buf, len);
	zpt_poll(env);
}

/** An mbuf holding @p len bytes of L4 data (pattern i & 0xff) with room for the headers. */
static inline struct rte_mbuf *l4_payload(struct zpt_env *env, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(env->pool);
	uint8_t *p;
	size_t i;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
	assert_true(len == 0 || p != NULL);
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)i;
	return m;
}

/** True if the IPv4 header checksum of @p ip verifies. */
static inline bool ip_cksum_valid(const struct rte_ipv4_hdr *ip)
{
	return rte_raw_cksum(ip, rte_ipv4_hdr_len(ip)) == 0xffff;
}

/** Snapshot of the worker's counters, to assert on deltas. */
struct counters {
	uint64_t drops[DP_DROP_MAX];
	uint64_t stats[DP_STAT_MAX];
};

static inline void counters_take(const struct zpt_env *env, struct counters *c)
{
	memcpy(c->drops, env->w->drops, sizeof(c->drops));
	memcpy(c->stats, env->w->stats, sizeof(c->stats));
}

/** Assert that, since @p before, drop reason @p why and no other went up, by exactly one. */
static inline void assert_dropped_once(const struct zpt_env *env, const struct counters *before,
				       enum dp_drop why, const char *what)
{
	unsigned i;

	for (i = 0; i < DP_DROP_MAX; i++) {
		uint64_t delta = env->w->drops[i] - before->drops[i];
		uint64_t want = i == (unsigned)why ? 1 : 0;

		if (delta != want)
			fail_msg("%s: drop counter %s went up by %" PRIu64 ", expected %" PRIu64
				 " (expected reason %s)",
				 what, dp_drop_name((enum dp_drop)i), delta, want,
				 dp_drop_name(why));
	}
}

#endif
