/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segment arrival: validation and parsing, the listener (RFC 9293 §3.10.7.2), ACK processing
 * (§3.10.7.4 fifth step; RFC 5681/6582 congestion control; RFC 6298 RTT), and the text step
 * (receive queue, out-of-order queue, delayed ACK). The per-state decisions are in tcp_fsm.c.
 */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>

#include "dp_cksum.h"
#include "tcp_priv.h"

void tcp__drop_seg(struct tcp_engine *e, struct tcp_seg *s, enum tcp_drop why)
{
	e->drops[why]++;
	if (s->m != NULL) {
		rte_pktmbuf_free(s->m);
		s->m = NULL;
	}
}

void tcp__seg_free(struct tcp_seg *s)
{
	if (s->m != NULL) {
		rte_pktmbuf_free(s->m);
		s->m = NULL;
	}
}

bool tcp__challenge_allowed(struct tcp_conn *c)
{
	uint64_t now = c->e->w->now_ns;

	/* RA-6: a budget per connection and per second, never one host-wide counter. */
	if (now - c->chal_start_ns >= 1000000000ull) {
		c->chal_start_ns = now;
		c->chal_count = 0;
	}
	if (c->chal_count >= TCP_CHALLENGE_PER_SEC)
		return false;
	c->chal_count++;
	return true;
}

/* ---- listener ---------------------------------------------------------------------------- */

static void inherit(struct tcp_conn *c, const struct tcp_conn *l)
{
	c->flags |= l->flags & (TCPF_NODELAY | TCPF_KEEPALIVE | TCPF_LINGER | TCPF_REUSEADDR |
				TCPF_REUSEPORT | TCPF_SNDBUF_LOCK);
	c->rcvbuf = l->rcvbuf;
	c->sndbuf_max = l->sndbuf_max;
	c->keepidle_s = l->keepidle_s;
	c->keepintvl_s = l->keepintvl_s;
	c->keepcnt = l->keepcnt;
	c->user_timeout_ms = l->user_timeout_ms;
	c->linger_s = l->linger_s;
	c->user_mss = l->user_mss;
	tcp__cc_inherit(c, l);
}

/** Passive open (RFC 9293 §3.10.7.2 third check). @p iss 0 = choose per RFC 6528. */
static void listen_syn(struct tcp_conn *l, struct tcp_seg *s, uint32_t iss)
{
	struct tcp_engine *e = l->e;
	struct tcp_conn *c;
	rte_be32_t src;
	uint16_t mtu;

	if (l->synq_len >= l->backlog || l->acceptq_len >= l->backlog) {
		tcp__drop_seg(e, s, TCP_DROP_BACKLOG_FULL);
		return;
	}
	c = tcp__conn_alloc(e);
	if (c == NULL) {
		tcp__drop_seg(e, s, TCP_DROP_NOMEM);
		return;
	}
	inherit(c, l);
	c->key.laddr = s->daddr;
	c->key.raddr = s->saddr;
	c->key.lport = s->dport;
	c->key.rport = s->sport;
	c->flags |= TCPF_PASSIVE | TCPF_BOUND;
	if (tcp__hash_add(c) < 0) {
		tcp__conn_free(c);
		tcp__drop_seg(e, s, TCP_DROP_NOMEM);
		return;
	}
	c->parent = l;
	TAILQ_INSERT_TAIL(&l->synq, c, qlink);
	l->synq_len++;
	if (tcp__route_src(e->w->stack, s->saddr, &src, &mtu) == 0)
		c->rcv_mss = (uint16_t)(mtu - 40);
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->iss = iss != 0 ? iss : tcp__isn(e, &c->key);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	tcp__negotiate(c, &s->opt);
	c->snd_wnd = s->wnd; /* never scaled in a SYN (RFC 7323 §2.2) */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	c->ts_last_seq = s->seq;
	c->last_rcv_ns = e->w->now_ns;
	tcp__stat(e, TCP_STAT_PASSIVE_OPENS);
	tcp__set_state(c, TCPS_SYN_RECEIVED);
	tcp__output(c); /* SYN,ACK */
	if (s->len > 0)
		tcp__drop_seg(e, s, TCP_DROP_DUP); /* data on a SYN: the peer sends it again */
}

void tcp__listen_input(struct tcp_conn *l, struct tcp_seg *s)
{
	struct tcp_engine *e = l->e;

	if (s->flags & TCP_FLAG_RST) {
		tcp__drop_seg(e, s, TCP_DROP_LISTEN_RST);
		return;
	}
	if (s->flags & TCP_FLAG_ACK) {
		tcp__reply_rst(e, s); /* RST-4 */
		tcp__drop_seg(e, s, TCP_DROP_LISTEN_ACK);
		return;
	}
	if (!(s->flags & TCP_FLAG_SYN)) {
		tcp__drop_seg(e, s, TCP_DROP_BAD_FLAGS);
		return;
	}
	listen_syn(l, s, 0);
}

void tcp__listen_syn_iss(struct tcp_conn *l, struct tcp_seg *s, uint32_t iss)
{
	listen_syn(l, s, iss);
}

/* ---- ACK processing (RFC 9293 §3.10.7.4 fifth step) -------------------------------------- */

bool tcp__ack_acceptable(const struct tcp_conn *c, uint32_t ack)
{
	/* RA-5 (RFC 5961 §5.2): SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT. */
	uint32_t lo = c->snd_una - TCP_MAX(c->max_sndwnd, 1u);

	return SEQ_GEQ(ack, lo) && SEQ_LEQ(ack, c->snd_max);
}

static void sbuf_drop(struct tcp_conn *c, uint32_t n)
{
	if (n > c->sbuf_len)
		n = c->sbuf_len;
	c->sbuf_head = c->sbuf_size ? (c->sbuf_head + n) % c->sbuf_size : 0;
	c->sbuf_len -= n;
	c->snd_buf_seq += n;
}

static void update_window(struct tcp_conn *c, const struct tcp_seg *s, bool acked_new)
{
	/* RFC 9293 §3.10.7.4: update only from newer segments (SND.WL1/WL2) — or from any
	 * segment that acknowledged new data, as Linux (tcp_may_update_window) does: the window
	 * is kept relative to SND.UNA, so an older SEG.SEQ (a retransmission) acknowledging new
	 * data would otherwise slide the right edge past what the peer offered. Its own
	 * SEG.ACK + SEG.WND is an edge the peer did offer. */
	if (acked_new || SEQ_LT(c->snd_wl1, s->seq) ||
	    (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, s->ack))) {
		uint32_t old = c->snd_wnd;

		c->snd_wnd = s->wnd << c->snd_wscale;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		if (c->snd_wnd > c->max_sndwnd)
			c->max_sndwnd = c->snd_wnd;
		if (old == 0 && c->snd_wnd > 0 && (c->flags & TCPF_PERSIST)) {
			/* The window opened: leave persist mode. */
			dp_timer_cancel(c->e->w, &c->t_rexmt);
			c->flags &= ~TCPF_PERSIST;
			c->persist_shift = 0;
			c->retries = 0;
			c->rexmit_start_ns = 0;
			c->snd_nxt = c->snd_una; /* resend the probe byte with what follows it */
		}
	}
}

/*
 * Process SEG.ACK of an acceptable segment in a synchronized state: advance SND.UNA, free the
 * acknowledged bytes, RTT, congestion window, retransmission timer, window update.
 */
void tcp__process_ack(struct tcp_conn *c, struct tcp_seg *s)
{
	struct tcp_engine *e = c->e;
	uint32_t acked;
	bool sacked;

	if (SEQ_LT(s->ack, c->snd_una) || SEQ_GT(s->ack, c->snd_max))
		return; /* old: ignore it (RFC 9293 "it can be ignored") */
	sacked = tcp__sack_update(c, s); /* scoreboard, D-SACK (tcp_sack.c) */
	tcp__rack_update(c, s);		 /* RACK: what this ACK delivered (tcp_rack.c) */
	if (s->ack == c->snd_una) {
		/* Duplicate ACK (RFC 5681 §2; RFC 6675 §2 with SACK): loss recovery. */
		if (tcp__is_dupack(c, s, sacked))
			tcp__recovery_dupack(c);
		tcp__tlp_ack(c, s, false, sacked);
		update_window(c, s, false);
		return;
	}

	acked = s->ack - c->snd_una;
	/* RTT: timestamps (RFC 7323 §4.1) or the timed segment (Karn, RFC 6298 §3). */
	if ((c->flags & TCPF_TS_OK) && s->opt.ts_ok && s->opt.tsecr != 0) {
		uint32_t r = tcp__ts_now(e) - s->opt.tsecr;

		if (r < 60000u)
			tcp__rtt_sample(c, r * 1000u);
	} else if (c->rtt_timing && SEQ_GT(s->ack, c->rtt_seq)) {
		c->rtt_timing = false;
		tcp__rtt_sample(c, (uint32_t)((e->w->now_ns - c->rtt_start_ns) / 1000u));
	}
	/* The SYN and FIN take sequence space but are not data in the buffer. */
	{
		uint32_t data_end = c->snd_buf_seq + c->sbuf_len;
		uint32_t upto = SEQ_MIN(s->ack, data_end);

		if (SEQ_GT(upto, c->snd_buf_seq)) {
			uint32_t n = upto - c->snd_buf_seq;

			c->bytes_acked += n;
			sbuf_drop(c, n);
		}
	}
	c->snd_una = s->ack;
	if (SEQ_LT(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	c->retries = 0;
	c->rexmit_start_ns = 0;
	/* Congestion control and loss recovery (tcp_sack.c, tcp_cc.c). */
	tcp__sack_ack_done(c, s); /* Eifel undo */
	tcp__recovery_ack(c, acked);
	/* RFC 6298 §5.2-5.3. */
	if (c->snd_una == c->snd_max) {
		if (!(c->flags & TCPF_PERSIST))
			dp_timer_cancel(e->w, &c->t_rexmt);
		dp_timer_cancel(e->w, &c->t_rack);
	} else if (!(c->flags & TCPF_PERSIST)) {
		tcp__rexmt_arm(c);
	}
	tcp__tlp_ack(c, s, true, sacked); /* TLP episode, probe timer (tcp_rack.c) */
	update_window(c, s, true);
	tcp__snd_expand(c); /* cwnd and the peer's window moved: the send buffer follows */
	if (c->upcall != NULL && c->sbuf_len < tcp__snd_limit(c))
		tcp__wakeup(c); /* room to write (EPOLLOUT) */
}

/* ---- receive queue ----------------------------------------------------------------------- */

void tcp__rq_flush(struct tcp_conn *c)
{
	struct rte_mbuf *m = c->rq_head, *n;

	while (m != NULL) {
		n = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free(m);
		m = n;
	}
	c->rq_head = c->rq_tail = NULL;
	c->rq_bytes = 0;
}

static void rq_append(struct tcp_conn *c, struct rte_mbuf *m)
{
	m->next = NULL;
	m->nb_segs = 1;
	if (c->rq_tail != NULL)
		c->rq_tail->next = m;
	else
		c->rq_head = m;
	c->rq_tail = m;
	c->rq_bytes += rte_pktmbuf_data_len(m);
}

/** Append an in-order payload (caller checked seq == rcv_nxt); takes the mbuf. */
void tcp__rq_deliver(struct tcp_conn *c, struct rte_mbuf *m, uint32_t len)
{
	c->rcv_nxt += len;
	c->bytes_in += len;
	if (c->flags & TCPF_USER_SHUT_RD) {
		/* D-8: acknowledged and discarded after SHUT_RD, and counted. */
		c->e->drops[TCP_DROP_AFTER_SHUT_RD]++;
		rte_pktmbuf_free(m);
		return;
	}
	rq_append(c, m);
}

/*
 * In-order data the poll loop delivers in one RX burst is acknowledged once, at the end of
 * the loop pass (tcp__outq_run), up to this many full segments; beyond it, every second
 * segment again. Linux does the same through GRO (one ACK per aggregated packet, up to 64 KiB):
 * for a bulk receiver it halves or quarters the ACKs both ends process.
 */
#define TCP_ACK_BATCH_SEGS 16u

static void ack_policy(struct tcp_conn *c, bool in_order)
{
	/* RFC 9293 §3.8.6.3 / RFC 5681 §4.2: delay at most one full segment's ACK, ACK out-of-
	 * order segments and hole fills at once. */
	if (!in_order || c->e->delack_ns == 0 || (c->flags & (TCPF_ACK_NOW | TCPF_DELACK)) ||
	    c->ooo_head != NULL) {
		/* The every-second-segment ACK of in-order data received inside the poll loop
		 * waits for the end of the RX burst (the ACK is sent in the same loop pass, before
		 * the TX flush), unless a lot is unacknowledged already. */
		if (in_order && c->e->delack_ns != 0 && c->ooo_head == NULL &&
		    !(c->flags & TCPF_ACK_NOW) && c->e->w->in_poll &&
		    c->rcv_nxt - c->last_ack_sent <
			    TCP_MIN(TCP_ACK_BATCH_SEGS * c->rcv_mss, c->rcvbuf / 4)) {
			c->flags |= TCPF_ACK_BATCH;
			tcp__outq_add(c);
			return;
		}
		c->flags |= TCPF_ACK_NOW;
		return;
	}
	tcp__delack_arm(c);
}

/*
 * Seventh step (text). The segment was trimmed to the window; its payload starts at s->seq.
 * Returns true when the segment was in order (so a FIN on it can be processed).
 */
bool tcp__text(struct tcp_conn *c, struct tcp_seg *s)
{
	if (s->len == 0)
		return s->seq == c->rcv_nxt;
	if (c->e->pool_low) {
		/* Payload waiting for readers must not take the pool's last quarter: the worker
		 * would no longer receive the ACKs that let the readers' writers, hence the
		 * readers, go on. The ACK of this segment was taken; the peer resends the data. */
		tcp__drop_seg(c->e, s, TCP_DROP_RCV_POOL);
		c->flags |= TCPF_ACK_NOW;
		return false;
	}
	if (s->seq != c->rcv_nxt) {
		uint32_t seq = s->seq, end = s->seq + s->len;

		tcp__stat(c->e, TCP_STAT_OOO_SEGS);
		tcp__reass_insert(c, s); /* takes s->m or counts the drop */
		tcp__sack_rcv_ooo(c, seq, end); /* RFC 2018 blocks to report */
		ack_policy(c, false);
		return false;
	}
	tcp__rq_deliver(c, s->m, s->len);
	s->m = NULL;
	tcp__rcv_arrived(c, s->opt.ts_ok ? s->opt.tsecr : 0); /* window autotuning */
	if (c->ooo_head != NULL) {
		tcp__reass_pull(c);
		c->flags |= TCPF_ACK_NOW;
	}
	ack_policy(c, true);
	tcp__wakeup(c);
	return true;
}

/* ---- entry ------------------------------------------------------------------------------- */

static bool csum_ok(struct rte_mbuf *m, const struct rte_ipv4_hdr *ip, const void *th)
{
	uint64_t f = m->ol_flags & RTE_MBUF_F_RX_L4_CKSUM_MASK;

	if (f == RTE_MBUF_F_RX_L4_CKSUM_GOOD)
		return true;
	if (f == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return false;
	return dp_ipv4_l4_cksum_verify(ip, th) == 0; /* dp_cksum.h */
}

void tcp_input(struct dp_worker *w, struct rte_mbuf *m)
{
	struct tcp_engine *e = tcp__engine(w);
	struct tcp_seg s = {.m = m};
	const struct rte_ipv4_hdr *ip;
	const struct tcp_wire_hdr *h;
	struct tcp_key k;
	struct tcp_conn *c;
	uint32_t iplen, hlen;

	if (e == NULL) {
		dp_drop(w, m, DP_DROP_IP_PROTO);
		return;
	}
	/* Every 32 segments: is the pool that receives every frame and builds every segment
	 * running dry? (rte_mempool_avail_count() reads every lcore's cache: not per segment.) */
	if ((++e->stats[TCP_STAT_SEGS_IN] & 31) == 1)
		e->pool_low = rte_mempool_avail_count(w->pool) < w->pool->size / 4;
	if (m->nb_segs > 1 && rte_pktmbuf_linearize(m) != 0) {
		tcp__drop_seg(e, &s, TCP_DROP_NOMEM);
		return;
	}
	ip = dp_mbuf_ip(m);
	iplen = (uint32_t)rte_be_to_cpu_16(ip->total_length);
	iplen = iplen > m->l3_len ? iplen - m->l3_len : 0;
	if (iplen < TCP_HDR_LEN || iplen > rte_pktmbuf_data_len(m)) {
		tcp__drop_seg(e, &s, TCP_DROP_SHORT);
		return;
	}
	if (rte_pktmbuf_data_len(m) > iplen)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - iplen)); /* L2 padding */
	h = rte_pktmbuf_mtod(m, const struct tcp_wire_hdr *);
	hlen = (uint32_t)(h->doff >> 4) * 4;
	if (hlen < TCP_HDR_LEN || hlen > iplen) {
		tcp__drop_seg(e, &s, TCP_DROP_SHORT);
		return;
	}
	if (!csum_ok(m, ip, h)) {
		tcp__drop_seg(e, &s, TCP_DROP_CSUM);
		return;
	}
	s.saddr = ip->src_addr;
	s.daddr = ip->dst_addr;
	s.sport = h->sport;
	s.dport = h->dport;
	s.seq = rte_be_to_cpu_32(h->seq);
	s.ack = rte_be_to_cpu_32(h->ack);
	s.wnd = rte_be_to_cpu_16(h->win);
	s.flags = h->flags & 0x3f;
	s.len = iplen - hlen;
	if ((s.flags & TCP_FLAG_SYN) && (s.flags & (TCP_FLAG_FIN | TCP_FLAG_RST))) {
		tcp__drop_seg(e, &s, TCP_DROP_BAD_FLAGS);
		return;
	}
	tcp__parse_opts((const uint8_t *)(h + 1), hlen - TCP_HDR_LEN, s.flags & TCP_FLAG_SYN,
			&s.opt);
	rte_pktmbuf_adj(m, (uint16_t)hlen);

	k.laddr = s.daddr;
	k.raddr = s.saddr;
	k.lport = s.dport;
	k.rport = s.sport;
	c = tcp__lookup(e, &k);
	if (c != NULL) {
		c->last_rcv_ns = w->now_ns;
		tcp__segment(c, &s);
	} else {
		struct tcp_conn *l = tcp__listener_lookup(e, s.daddr, s.dport);

		if (l != NULL) {
			tcp__listen_input(l, &s);
		} else {
			/* RFC 9293 §3.10.7.1, RST-4. */
			tcp__reply_rst(e, &s);
			tcp__drop_seg(e, &s, TCP_DROP_NO_CONN);
		}
	}
	if (s.m != NULL) {
		/* A control segment whose work is done (SYN, ACK, FIN without data). */
		if (s.len > 0)
			e->drops[TCP_DROP_DUP]++;
		rte_pktmbuf_free(s.m);
	}
}
