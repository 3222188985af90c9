/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 input and output (RFC 791, with the host requirements of RFC 1122 section 3.2.1).
 *
 * Input validates the whole header, counts every failure under its own drop reason, trims
 * Ethernet padding and hands the datagram to the handler registered for its protocol with
 * the mbuf positioned at the transport header. Options and fragments are not supported and
 * are dropped (counted) rather than misparsed.
 *
 * Output routes, prepends the header, completes the IPv4 and TCP/UDP checksums (offloaded
 * when the egress port can) and passes the datagram to ARP for the next hop.
 */
#include <errno.h>
#include <stddef.h>

#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

#include "dp_cksum.h"
#include "dp_priv.h"
#include "net_priv.h"

/* Written before the workers start, read-only afterwards. ICMP is built in. */
static dp_l4_input_fn l4_handlers[UINT8_MAX + 1] = {
	[IPPROTO_ICMP] = dp_icmp_input,
};

void dp_l4_register(uint8_t proto, dp_l4_input_fn fn)
{
	l4_handlers[proto] = fn;
}

/* RFC 1122 3.2.1.2: verify the header checksum, trusting the NIC only when it is set up to
 * tell us; a NIC that could not decide leaves the work to software. */
static bool ipv4_cksum_ok(const struct dp_iface *ifc, const struct rte_mbuf *m,
			  const struct rte_ipv4_hdr *ip, uint16_t hlen)
{
	if (ifc->rx_ip_cksum) {
		switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
		case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
			return true;
		case RTE_MBUF_F_RX_IP_CKSUM_BAD:
			return false;
		default:
			break;
		}
	}
	/* The ones' complement sum over a correct header, checksum included, is 0xffff. */
	return rte_raw_cksum(ip, hlen) == 0xffff;
}

void dp_ipv4_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m)
{
	const struct dp_stack *s = w->stack;
	const struct dp_iface *ifc = &s->ifaces[iface];
	const struct rte_ipv4_hdr *ip;
	dp_l4_input_fn fn;
	uint16_t hlen, tot, frag;

	/* RFC 1122 3.2.1.1-3.2.1.3: silently discard what fails validation (counted here). */
	if (rte_pktmbuf_data_len(m) < sizeof(*ip)) {
		dp_drop(w, m, DP_DROP_IP_SHORT);
		return;
	}
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	if ((ip->version_ihl >> 4) != IPVERSION) {
		dp_drop(w, m, DP_DROP_IP_VERSION);
		return;
	}
	hlen = rte_ipv4_hdr_len(ip);
	if (hlen < sizeof(*ip) || hlen > rte_pktmbuf_data_len(m)) {
		dp_drop(w, m, DP_DROP_IP_HDRLEN);
		return;
	}
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < hlen || tot > rte_pktmbuf_pkt_len(m)) {
		dp_drop(w, m, DP_DROP_IP_TOTLEN);
		return;
	}
	if (!ipv4_cksum_ok(ifc, m, ip, hlen)) {
		dp_drop(w, m, DP_DROP_IP_CSUM);
		return;
	}
	if (hlen > sizeof(*ip)) {
		dp_drop(w, m, DP_DROP_IP_OPTIONS);
		return;
	}
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if ((frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) != 0) {
		dp_drop(w, m, DP_DROP_IP_FRAGMENT);
		return;
	}
	if (net__src_is_martian(s, ifc, ip->src_addr)) {
		dp_drop(w, m, DP_DROP_IP_BAD_SRC);
		return;
	}
	/* Weak host model (RFC 1122 3.3.4.2): any of our addresses, on any interface. We do not
	 * forward, and no protocol of ours listens to broadcast or multicast. */
	if (!dp_addr_is_local(s, ip->dst_addr)) {
		dp_drop(w, m, DP_DROP_IP_NOT_FOR_US);
		return;
	}
	/* The TTL is not checked: a host delivers whatever TTL reaches it (RFC 1122 3.2.1.7). */

	/* Ethernet pads short frames to 60 bytes: the datagram ends at its total length. */
	if (rte_pktmbuf_pkt_len(m) > tot &&
	    rte_pktmbuf_trim(m, rte_pktmbuf_pkt_len(m) - tot) != 0) {
		dp_drop(w, m, DP_DROP_IP_TOTLEN);
		return;
	}
	fn = l4_handlers[ip->next_proto_id];
	if (fn == NULL) {
		dp_drop(w, m, DP_DROP_IP_PROTO);
		return;
	}
	/* RX_L4_CKSUM_NONE: the checksum field is not complete but the device vouches for the
	 * data (virtio/vhost: the sending peer on this host left it to "hardware", VIRTIO_NET_HDR
	 * _F_NEEDS_CSUM). Only a port with the L4 offload on is believed, and then it is GOOD for
	 * the protocol; software summing would find the partial field wrong and drop it. */
	if (ifc->rx_l4_cksum &&
	    (m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_NONE)
		m->ol_flags = (m->ol_flags & ~RTE_MBUF_F_RX_L4_CKSUM_MASK) |
			      RTE_MBUF_F_RX_L4_CKSUM_GOOD;
	m->l3_len = hlen;
	rte_pktmbuf_adj(m, hlen);
	w->stats[DP_STAT_IP_IN]++;
	fn(w, m);
}

/* Complete the TCP or UDP checksum of the datagram @ip heads (data starts at @ip). */
static void ipv4_l4_cksum(const struct dp_iface *ifc, struct rte_mbuf *m, struct rte_ipv4_hdr *ip)
{
	const uint16_t l4_off = sizeof(*ip);
	struct rte_tcp_hdr *th;
	struct rte_udp_hdr *uh;

	switch (ip->next_proto_id) {
	case IPPROTO_TCP:
		if (rte_pktmbuf_data_len(m) < l4_off + sizeof(*th))
			return; /* no TCP header to complete: the caller's bug, sent as is */
		th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, l4_off);
		th->cksum = 0;
		if (ifc->tx_tcp_cksum) {
			/* The NIC folds in the payload; it wants the pseudo-header sum seeded. */
			m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_CKSUM;
			th->cksum = rte_ipv4_phdr_cksum(ip, m->ol_flags);
		} else if (m->nb_segs == 1) {
			th->cksum = dp_ipv4_l4_cksum(ip, th); /* dp_cksum.h: 8 bytes at a time */
		} else {
			th->cksum = rte_ipv4_udptcp_cksum_mbuf(m, ip, l4_off);
		}
		return;
	case IPPROTO_UDP:
		if (rte_pktmbuf_data_len(m) < l4_off + sizeof(*uh))
			return;
		uh = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, l4_off);
		uh->dgram_cksum = 0;
		/* Only TCP checksum offload is negotiated; a zero result is sent as 0xffff. */
		uh->dgram_cksum = m->nb_segs == 1 ? dp_ipv4_l4_cksum(ip, uh)
						  : rte_ipv4_udptcp_cksum_mbuf(m, ip, l4_off);
		return;
	default:
		return;
	}
}

int dp_ipv4_output(struct dp_worker *w, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst,
		   uint8_t proto)
{
	const struct dp_stack *s = w->stack;
	const struct dp_iface *ifc;
	struct rte_ipv4_hdr *ip;
	rte_be32_t nexthop;
	uint16_t iface, mtu;
	uint32_t len;

	if (dp_route_lookup(s, dst, &iface, &nexthop) != 0) {
		dp_drop(w, m, DP_DROP_NO_ROUTE);
		return -EHOSTUNREACH;
	}
	ifc = &s->ifaces[iface];
	mtu = ifc->mtu != 0 ? ifc->mtu : RTE_ETHER_MTU;
	len = rte_pktmbuf_pkt_len(m) + sizeof(*ip);
	if (len > mtu) {
		/* No fragmentation: we set DF on everything we send (RFC 1191). */
		dp_drop(w, m, DP_DROP_IP_MTU);
		return -EMSGSIZE;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
	if (ip == NULL) {
		dp_drop(w, m, DP_DROP_NOMEM);
		return -ENOBUFS;
	}
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = 0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)len);
	/* RFC 6864 section 4.1: the ID of an atomic (DF) datagram only has to exist. */
	ip->packet_id = rte_cpu_to_be_16(w->ip_id++);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = NET_IP_TTL;
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->src_addr = src != 0 ? src : ifc->addr;
	ip->dst_addr = dst;

	m->l2_len = sizeof(struct rte_ether_hdr);
	m->l3_len = sizeof(*ip);
	m->ol_flags &= ~(RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
	ipv4_l4_cksum(ifc, m, ip);
	if (ifc->tx_ip_cksum)
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM;
	else
		ip->hdr_checksum = rte_ipv4_cksum(ip);

	w->stats[DP_STAT_IP_OUT]++;
	dp_arp_output(w, iface, nexthop, m);
	return 0;
}
