/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet II input and output (RFC 894 framing of IPv4 and ARP).
 *
 * Input accepts frames addressed to the receiving interface's MAC or to the broadcast
 * address, strips the header and hands IPv4 and ARP to their layers. Everything else is
 * counted under one drop reason and freed. VLAN tags are not supported: a tagged frame is an
 * unknown EtherType here.
 */
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include "dp_priv.h"

void dp_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		dp_eth_input(w, iface, pkts[i]);
	}
}

void dp_eth_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m)
{
	const struct dp_iface *ifc = &w->stack->ifaces[iface];
	const struct rte_ether_hdr *eh;
	uint16_t type;

	/* The header must sit in the first segment, as every PMD we use delivers it. */
	if (rte_pktmbuf_data_len(m) < sizeof(*eh)) {
		dp_drop(w, m, DP_DROP_ETH_RUNT);
		return;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eh->dst_addr, &ifc->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		dp_drop(w, m, DP_DROP_ETH_DST);
		return;
	}
	type = rte_be_to_cpu_16(eh->ether_type);
	m->l2_len = sizeof(*eh);
	switch (type) {
	case RTE_ETHER_TYPE_IPV4:
		rte_pktmbuf_adj(m, sizeof(*eh));
		dp_ipv4_input(w, iface, m);
		return;
	case RTE_ETHER_TYPE_ARP:
		rte_pktmbuf_adj(m, sizeof(*eh));
		dp_arp_input(w, iface, m);
		return;
	default:
		/* IPv6, 802.1Q/802.1ad tags, LLDP, length fields (802.3) ... */
		dp_drop(w, m, DP_DROP_ETH_TYPE);
		return;
	}
}

void dp_eth_output(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type)
{
	struct rte_ether_hdr *eh;

	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));
	if (eh == NULL) {
		dp_drop(w, m, DP_DROP_NOMEM);
		return;
	}
	eh->dst_addr = *dst;
	eh->src_addr = w->stack->ifaces[iface].mac;
	eh->ether_type = rte_cpu_to_be_16(ether_type);
	m->l2_len = sizeof(*eh);
	dp_tx_enqueue(w, iface, m);
}
