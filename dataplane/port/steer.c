/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which worker owns a flow. Two cases, chosen per receiving interface:
 *
 *  - The interface has RSS (ifc->rss): the NIC put the flow on queue
 *    RETA[toeplitz(key, tuple) % reta_size] and port.c programmed RETA entry i = i % nb_rx_queues,
 *    so software computes the same Toeplitz hash with the same key (rte_softrss) and gets the
 *    same queue, which is the worker's id.
 *  - No RSS: a software hash of the 4-tuple that is symmetric (both directions of a
 *    connection give the same answer), spread over all workers; the worker that polled the
 *    packet hands it over on the owner's steering ring (worker.c).
 *
 * Everything that is not IPv4 TCP/UDP (ARP, ICMP, fragments, other EtherTypes) belongs to
 * worker 0, which is also where an RSS NIC puts it (queue 0: no IPv4/TCP hash type matches).
 * See README.md for the contract connect() relies on.
 */
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_thash.h>

#include "dp_port.h"

/* The Microsoft RSS verification key (40 bytes), extended to 52 for NICs with longer keys.
 * Aligned: rte_softrss() reads it as 32-bit words. */
const uint8_t dp_rss_key[DP_RSS_KEY_LEN] __rte_aligned(4) = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43,
	0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb,
	0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01,
	0xfa, 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d,
};

/* Interface that owns local address @p daddr, or NULL. */
static const struct dp_iface *iface_of(const struct dp_stack *s, rte_be32_t daddr)
{
	uint16_t i;

	for (i = 0; i < s->nb_ifaces; i++)
		if (s->ifaces[i].addr == daddr)
			return &s->ifaces[i];
	return NULL;
}

/* 32-bit finaliser of MurmurHash3: every input bit affects every output bit. */
static inline uint32_t mix32(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* Symmetric: the two endpoints are ordered before hashing. */
static uint32_t sw_hash(uint32_t a_ip, uint16_t a_port, uint32_t b_ip, uint16_t b_port)
{
	uint64_t a = ((uint64_t)a_ip << 16) | a_port, b = ((uint64_t)b_ip << 16) | b_port, t;
	uint32_t h;

	if (a > b) {
		t = a;
		a = b;
		b = t;
	}
	h = mix32((uint32_t)a ^ 0x9e3779b9u);
	h = mix32(h ^ (uint32_t)(a >> 32) ^ (uint32_t)b);
	h = mix32(h ^ (uint32_t)(b >> 32));
	return h;
}

uint16_t dp_flow_worker(const struct dp_stack *s, rte_be32_t saddr, rte_be32_t daddr,
			rte_be16_t sport, rte_be16_t dport)
{
	const struct dp_iface *ifc;
	uint32_t h;

	if (s->nb_workers <= 1)
		return 0;
	ifc = iface_of(s, daddr);
	if (ifc != NULL && ifc->rss && ifc->reta_size != 0 && ifc->nb_rx_queues != 0) {
		uint32_t tuple[3] = {
			rte_be_to_cpu_32(saddr),
			rte_be_to_cpu_32(daddr),
			((uint32_t)rte_be_to_cpu_16(sport) << 16) | rte_be_to_cpu_16(dport),
		};

		h = rte_softrss(tuple, RTE_DIM(tuple), dp_rss_key);
		return (uint16_t)((h % ifc->reta_size) % ifc->nb_rx_queues);
	}
	h = sw_hash(rte_be_to_cpu_32(saddr), rte_be_to_cpu_16(sport), rte_be_to_cpu_32(daddr),
		    rte_be_to_cpu_16(dport));
	return (uint16_t)(((uint64_t)h * s->nb_workers) >> 32);
}

uint16_t dp_steer_worker(const struct dp_stack *s, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	const rte_be16_t *ports;
	uint32_t l3;

	if (s->nb_workers <= 1 || m->data_len < sizeof(*eh) + sizeof(*ip))
		return 0;
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	if (ip->next_proto_id != IPPROTO_TCP && ip->next_proto_id != IPPROTO_UDP)
		return 0;
	/* A fragment has no (or only the first has) ports: worker 0, like non-TCP traffic. */
	if ((ip->fragment_offset & RTE_BE16(RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0)
		return 0;
	l3 = (uint32_t)(ip->version_ihl & RTE_IPV4_HDR_IHL_MASK) * 4;
	if (l3 < sizeof(*ip) || m->data_len < sizeof(*eh) + l3 + 4)
		return 0;
	ports = (const rte_be16_t *)((const uint8_t *)ip + l3);
	return dp_flow_worker(s, ip->src_addr, ip->dst_addr, ports[0], ports[1]);
}
