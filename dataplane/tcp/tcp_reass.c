/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Out-of-order reassembly (RFC 9293 §3.10.7.4 seventh step: segments beyond RCV.NXT are
 * held until the gap fills). The queue is a list of the received mbufs sorted by sequence;
 * each mbuf carries its sequence number in a registered mbuf dynamic field, together with the
 * owning connection for zero-copy views. Overlaps are trimmed on insertion so the list never
 * holds a byte twice.
 */
#include <errno.h>

#include <rte_errno.h>
#include <rte_mbuf_dyn.h>

#include "tcp_priv.h"

struct tcp_mbuf_priv {
	struct tcp_conn *conn;
	uint32_t seq;
};

static int dyn_off = -1;

int tcp__dynfield_init(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "zpath_tcp_priv",
		.size = sizeof(struct tcp_mbuf_priv),
		.align = __alignof__(struct tcp_mbuf_priv),
	};
	int off;

	if (dyn_off >= 0)
		return 0;
	off = rte_mbuf_dynfield_register(&desc);
	if (off < 0)
		return -rte_errno;
	dyn_off = off;
	return 0;
}

static struct tcp_mbuf_priv *priv(struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dyn_off, struct tcp_mbuf_priv *);
}

uint32_t *tcp__mbuf_seq(struct rte_mbuf *m)
{
	return &priv(m)->seq;
}

struct tcp_conn **tcp__mbuf_conn(struct rte_mbuf *m)
{
	return &priv(m)->conn;
}

static uint32_t mlen(const struct rte_mbuf *m)
{
	return rte_pktmbuf_data_len(m);
}

static void unlink_free(struct tcp_conn *c, struct rte_mbuf **pp)
{
	struct rte_mbuf *m = *pp;

	*pp = m->next;
	m->next = NULL;
	m->nb_segs = 1;
	c->ooo_bytes -= mlen(m);
	c->ooo_segs--;
	rte_pktmbuf_free(m);
}

void tcp__reass_insert(struct tcp_conn *c, struct tcp_seg *s)
{
	struct tcp_engine *e = c->e;
	struct rte_mbuf **pp = &c->ooo_head, *prev = NULL, *m = s->m;
	uint32_t seq = s->seq, end;

	if (c->ooo_segs >= TCP_REASS_MAX_SEGS || m == NULL) {
		tcp__drop_seg(e, s, TCP_DROP_REASS_FULL);
		return;
	}
	while (*pp != NULL && SEQ_LT(*tcp__mbuf_seq(*pp), seq)) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (prev != NULL) {
		uint32_t pend = *tcp__mbuf_seq(prev) + mlen(prev);

		if (SEQ_GEQ(pend, seq + s->len)) {
			tcp__sack_rcv_dup(c, seq, seq + s->len); /* RFC 2883 D-SACK */
			tcp__drop_seg(e, s, TCP_DROP_DUP);
			return;
		}
		if (SEQ_GT(pend, seq)) {
			tcp__sack_rcv_dup(c, seq, pend);
			rte_pktmbuf_adj(m, (uint16_t)(pend - seq));
			s->len -= pend - seq;
			seq = pend;
		}
	}
	end = seq + s->len;
	while (*pp != NULL && SEQ_LEQ(*tcp__mbuf_seq(*pp) + mlen(*pp), end)) {
		/* Held already, received again inside the new segment. */
		tcp__sack_rcv_dup(c, *tcp__mbuf_seq(*pp), *tcp__mbuf_seq(*pp) + mlen(*pp));
		unlink_free(c, pp);
	}
	if (*pp != NULL && SEQ_LT(*tcp__mbuf_seq(*pp), end)) {
		uint32_t cut = end - *tcp__mbuf_seq(*pp);

		tcp__sack_rcv_dup(c, *tcp__mbuf_seq(*pp), end);
		rte_pktmbuf_trim(m, (uint16_t)cut);
		s->len -= cut;
	}
	if (s->len == 0) {
		tcp__drop_seg(e, s, TCP_DROP_DUP);
		return;
	}
	*tcp__mbuf_seq(m) = seq;
	m->nb_segs = 1;
	m->next = *pp;
	*pp = m;
	c->ooo_segs++;
	c->ooo_bytes += s->len;
	s->m = NULL;
}

void tcp__reass_pull(struct tcp_conn *c)
{
	struct rte_mbuf *m;

	while ((m = c->ooo_head) != NULL && SEQ_LEQ(*tcp__mbuf_seq(m), c->rcv_nxt)) {
		uint32_t seq = *tcp__mbuf_seq(m), len = mlen(m);

		c->ooo_head = m->next;
		m->next = NULL;
		c->ooo_segs--;
		c->ooo_bytes -= len;
		if (SEQ_LEQ(seq + len, c->rcv_nxt)) {
			/* The in-order data brought these bytes a second time. */
			tcp__sack_rcv_dup(c, seq, seq + len);
			rte_pktmbuf_free(m);
			continue;
		}
		if (SEQ_LT(seq, c->rcv_nxt)) {
			tcp__sack_rcv_dup(c, seq, c->rcv_nxt);
			rte_pktmbuf_adj(m, (uint16_t)(c->rcv_nxt - seq));
			len -= c->rcv_nxt - seq;
		}
		tcp__rq_deliver(c, m, len);
	}
}

void tcp__reass_flush(struct tcp_conn *c)
{
	while (c->ooo_head != NULL)
		unlink_free(c, &c->ooo_head);
}
