/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792, RFC 1122 section 3.2.2): echo request/reply, ICMP errors handed to the
 * transport (dataplane/tcp registers the hook), and the ping used by the demo and tests.
 */
#include <errno.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>

#include <zpath/zpath.h>

#include "dp_priv.h"
#include "net_priv.h"

/* RFC 792 message types beside echo (rte_icmp.h names only echo). */
#define NET_ICMP_DEST_UNREACH  3
#define NET_ICMP_TIME_EXCEEDED 11
/* RFC 1812 4.3.2.3: an ICMP error carries at most 576 bytes in all. */
#define NET_ICMP_QUOTE_MAX 576
/* RFC 792: the quote holds the IP header and at least the first 64 bits of the datagram. */
#define NET_ICMP_QUOTE_L4_MIN 8

/* Written before the workers start, read-only afterwards. */
static dp_icmp_error_fn icmp_error_hook;

void dp_icmp_error_register(dp_icmp_error_fn fn)
{
	icmp_error_hook = fn;
}

/*
 * RFC 792 / RFC 1122 3.2.2.6: answer an echo request with the same identifier, sequence
 * number and data. The mbuf is reused: the type changes, the checksum is updated
 * incrementally (RFC 1624 eqn. 3) and a new IPv4 header from our address to the requester
 * replaces the old one in the same headroom.
 */
static void icmp_echo_reply(struct dp_worker *w, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip = dp_mbuf_ip(m);
	struct rte_icmp_hdr *ic = rte_pktmbuf_mtod(m, struct rte_icmp_hdr *);
	rte_be32_t src = ip->dst_addr, dst = ip->src_addr;
	uint16_t old_word, new_word;
	uint32_t sum;

	memcpy(&old_word, ic, sizeof(old_word)); /* type and code, network order */
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	memcpy(&new_word, ic, sizeof(new_word));
	sum = (uint16_t)~ic->icmp_cksum + (uint32_t)(uint16_t)~old_word + new_word;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ic->icmp_cksum = (uint16_t)~sum;

	m->ol_flags = 0; /* the RX flags mean nothing on the way out */
	if (dp_ipv4_output(w, m, src, dst, IPPROTO_ICMP) == 0)
		w->stats[DP_STAT_ICMP_ECHO_IN]++;
}

static int ping_slot(const struct dp_ping_table *p, uint16_t ident)
{
	unsigned i;

	for (i = 0; i < p->nb; i++)
		if (p->ident[i] == ident)
			return (int)i;
	return -1;
}

static void icmp_echo_reply_in(struct dp_worker *w, struct rte_mbuf *m)
{
	const struct rte_icmp_hdr *ic = rte_pktmbuf_mtod(m, const struct rte_icmp_hdr *);
	int slot = ping_slot(&w->ping, rte_be_to_cpu_16(ic->icmp_ident));

	w->stats[DP_STAT_ICMP_ECHO_REPLY_IN]++;
	if (slot >= 0)
		w->ping.replies[slot]++;
	rte_pktmbuf_free(m);
}

/* Destination unreachable / time exceeded: pass the quoted datagram to the transport. */
static void icmp_error_in(struct dp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code)
{
	union {
		uint8_t b[NET_ICMP_QUOTE_MAX];
		uint32_t align;
	} buf;
	const struct rte_ipv4_hdr *inner;
	uint32_t n, ihl;

	if (icmp_error_hook == NULL) {
		dp_drop(w, m, DP_DROP_ICMP_TYPE);
		return;
	}
	n = RTE_MIN(rte_pktmbuf_pkt_len(m) - (uint32_t)sizeof(struct rte_icmp_hdr),
		    (uint32_t)sizeof(buf.b));
	if (n < sizeof(*inner) + NET_ICMP_QUOTE_L4_MIN) {
		dp_drop(w, m, DP_DROP_ICMP_SHORT);
		return;
	}
	inner = rte_pktmbuf_read(m, sizeof(struct rte_icmp_hdr), n, buf.b);
	ihl = rte_ipv4_hdr_len(inner);
	/* A quote that is not an IPv4 header with 8 bytes after it is too short to use. */
	if ((inner->version_ihl >> 4) != IPVERSION || ihl < sizeof(*inner) ||
	    ihl + NET_ICMP_QUOTE_L4_MIN > n) {
		dp_drop(w, m, DP_DROP_ICMP_SHORT);
		return;
	}
	w->stats[DP_STAT_ICMP_OTHER_IN]++;
	icmp_error_hook(w, type, code, inner, (const uint8_t *)inner + ihl, n - ihl);
	rte_pktmbuf_free(m);
}

void dp_icmp_input(struct dp_worker *w, struct rte_mbuf *m)
{
	const struct rte_icmp_hdr *ic;
	uint16_t sum;

	if (rte_pktmbuf_data_len(m) < sizeof(*ic)) {
		dp_drop(w, m, DP_DROP_ICMP_SHORT);
		return;
	}
	/* RFC 792: the checksum covers the whole message; a correct one sums to 0xffff. */
	if (rte_raw_cksum_mbuf(m, 0, rte_pktmbuf_pkt_len(m), &sum) != 0 || sum != 0xffff) {
		dp_drop(w, m, DP_DROP_ICMP_CSUM);
		return;
	}
	ic = rte_pktmbuf_mtod(m, const struct rte_icmp_hdr *);
	switch (ic->icmp_type) {
	case RTE_IP_ICMP_ECHO_REQUEST:
		icmp_echo_reply(w, m);
		return;
	case RTE_IP_ICMP_ECHO_REPLY:
		icmp_echo_reply_in(w, m);
		return;
	case NET_ICMP_DEST_UNREACH:
	case NET_ICMP_TIME_EXCEEDED:
		icmp_error_in(w, m, ic->icmp_type, ic->icmp_code);
		return;
	default:
		/* Source quench is ignored (RFC 6633); redirects too, a host with static routes. */
		dp_drop(w, m, DP_DROP_ICMP_TYPE);
		return;
	}
}

int zp_ping_send(uint32_t dst_be, uint16_t ident, uint16_t seq, size_t payload_len)
{
	struct dp_worker *w = dp_worker_self();
	struct dp_ping_table *p;
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *m;
	uint8_t *data;
	size_t i;
	int ret, slot;

	if (w == NULL) {
		errno = EPERM;
		return -1;
	}
	if (payload_len > UINT16_MAX - sizeof(struct rte_ipv4_hdr) - sizeof(*ic)) {
		errno = EMSGSIZE;
		return -1;
	}
	m = rte_pktmbuf_alloc(w->pool);
	if (m == NULL) {
		w->drops[DP_DROP_NOMEM]++;
		errno = ENOBUFS;
		return -1;
	}
	ic = (struct rte_icmp_hdr *)rte_pktmbuf_append(m, (uint16_t)(sizeof(*ic) + payload_len));
	if (ic == NULL) {
		/* Larger than one mbuf, hence than any MTU we run with. */
		rte_pktmbuf_free(m);
		errno = EMSGSIZE;
		return -1;
	}
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_code = 0;
	ic->icmp_cksum = 0;
	ic->icmp_ident = rte_cpu_to_be_16(ident);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	data = (uint8_t *)(ic + 1);
	for (i = 0; i < payload_len; i++)
		data[i] = (uint8_t)i;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(ic, sizeof(*ic) + payload_len);

	p = &w->ping;
	slot = ping_slot(p, ident);
	if (slot < 0) {
		if (p->nb < DP_PING_IDENTS) {
			slot = p->nb++;
		} else {
			slot = p->next;
			p->next = (uint8_t)((p->next + 1) % DP_PING_IDENTS);
		}
		p->ident[slot] = ident;
		p->replies[slot] = 0;
	}

	ret = dp_ipv4_output(w, m, 0, dst_be, IPPROTO_ICMP);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

uint64_t zp_ping_replies(uint16_t ident)
{
	struct dp_worker *w = dp_worker_self();
	int slot;

	if (w == NULL) {
		errno = EPERM;
		return 0;
	}
	slot = ping_slot(&w->ping, ident);
	return slot >= 0 ? w->ping.replies[slot] : 0;
}
