/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segment output: what to send now (RFC 9293 §3.8.6: windows, Nagle §3.7.4, sender SWS
 * avoidance §3.8.6.2.1, zero-window probes §3.8.6.1), how the segment is laid out, and the
 * control segments (ACK, challenge ACK, RST). Segments leave with the checksum field zero
 * through dp_ipv4_output(), which completes it.
 */
#include <errno.h>
#include <string.h>

#include "tcp_priv.h"

uint32_t tcp__ts_now(const struct tcp_engine *e)
{
	/* RFC 7323 §5.4: a 1 ms timestamp clock. */
	return (uint32_t)(e->w->now_ns / 1000000u);
}

uint32_t tcp__sbuf_unsent(const struct tcp_conn *c)
{
	uint32_t off = c->snd_nxt - c->snd_buf_seq;

	if (!tcp_state_synced(c->state) || SEQ_LT(c->snd_nxt, c->snd_buf_seq))
		return c->sbuf_len;
	return c->sbuf_len > off ? c->sbuf_len - off : 0;
}

uint32_t tcp__rcv_wnd(const struct tcp_conn *c)
{
	uint32_t used = c->rq_bytes + c->zc_held + c->ooo_bytes;
	uint32_t lim = tcp__rcv_autowin(c); /* autotuned, at most SO_RCVBUF (tcp_autotune.c) */
	uint32_t space = lim > used ? lim - used : 0;
	uint32_t adv = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t max = 65535u << c->rcv_wscale;

	/* Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): do not open a small window. */
	if (space < c->rcv_mss && space < c->rcvbuf / 2)
		space = 0;
	/* Never shrink the window already offered (RFC 9293 §3.8.6.2.2, SHLD-14). */
	space = TCP_MAX(space, adv);
	return TCP_MIN(space, max);
}

static int out(struct tcp_engine *e, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst)
{
	e->stats[TCP_STAT_SEGS_OUT]++;
	if (e->output != NULL)
		return e->output(e->w, m, src, dst);
	return dp_ipv4_output(e->w, m, src, dst, IPPROTO_TCP);
}

static struct tcp_wire_hdr *seg_alloc(struct tcp_engine *e, struct rte_mbuf **mp, unsigned len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->w->pool);
	char *p;

	*mp = NULL;
	if (m == NULL) {
		e->drops[TCP_DROP_NOMEM]++;
		return NULL;
	}
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		e->drops[TCP_DROP_NOMEM]++;
		return NULL;
	}
	m->l4_len = TCP_HDR_LEN;
	*mp = m;
	return (struct tcp_wire_hdr *)p;
}

/** Largest payload one mbuf of the pool can carry after @p hdrlen header bytes. */
static uint32_t room(const struct tcp_engine *e, unsigned hdrlen)
{
	uint32_t dataroom = rte_pktmbuf_data_room_size(e->w->pool) - RTE_PKTMBUF_HEADROOM;

	return dataroom > hdrlen ? dataroom - hdrlen : 0;
}

static void copy_out(const struct tcp_conn *c, uint8_t *dst, uint32_t off, uint32_t len)
{
	uint32_t pos = (c->sbuf_head + off) % c->sbuf_size;
	uint32_t first = TCP_MIN(len, c->sbuf_size - pos);

	memcpy(dst, c->sbuf + pos, first);
	if (first < len)
		memcpy(dst + first, c->sbuf, len - first);
}

/*
 * Build and send one segment of @p c: sequence @p seq, @p len data bytes taken from the send
 * buffer at that sequence, control @p flags. The ACK field (when flagged) is RCV.NXT and the
 * window our current receive window; SYN segments carry the SYN options.
 */
static int xmit(struct tcp_conn *c, uint32_t seq, uint8_t flags, uint32_t len)
{
	struct tcp_engine *e = c->e;
	uint8_t opts[40];
	unsigned optlen, hlen;
	struct tcp_wire_hdr *h;
	struct rte_mbuf *m;
	uint32_t wnd;

	if (flags & TCP_FLAG_SYN)
		optlen = tcp__write_syn_opts(c, opts, flags & TCP_FLAG_ACK, NULL);
	else
		optlen = tcp__write_opts(c, opts);
	hlen = TCP_HDR_LEN + optlen;
	h = seg_alloc(e, &m, hlen + len);
	if (h == NULL)
		return -ENOBUFS;
	h->sport = c->key.lport;
	h->dport = c->key.rport;
	h->seq = rte_cpu_to_be_32(seq);
	h->ack = (flags & TCP_FLAG_ACK) ? rte_cpu_to_be_32(c->rcv_nxt) : 0;
	h->doff = (uint8_t)((hlen / 4) << 4);
	h->flags = flags;
	wnd = tcp__rcv_wnd(c);
	if (flags & TCP_FLAG_SYN)
		h->win = rte_cpu_to_be_16((uint16_t)TCP_MIN(wnd, 65535u)); /* RFC 7323 §2.2 */
	else
		h->win = rte_cpu_to_be_16((uint16_t)TCP_MIN(wnd >> c->rcv_wscale, 65535u));
	h->cksum = 0;
	h->urp = 0;
	m->l4_len = (uint8_t)hlen;
	memcpy(h + 1, opts, optlen);
	if (len > 0)
		copy_out(c, (uint8_t *)h + hlen, seq - c->snd_buf_seq, len);
	if ((len > 0 || (flags & TCP_FLAG_FIN)) && !(flags & (TCP_FLAG_SYN | TCP_FLAG_RST))) {
		tcp__sack_sent(c, seq, seq + len + !!(flags & TCP_FLAG_FIN)); /* retransmissions */
		tcp__rack_sent(c, seq, seq + len + !!(flags & TCP_FLAG_FIN)); /* send times */
	}
	if (flags & TCP_FLAG_ACK) {
		/* The advertised right edge only moves forward. */
		uint32_t edge = c->rcv_nxt + (flags & TCP_FLAG_SYN ? TCP_MIN(wnd, 65535u)
								 : (TCP_MIN(wnd >> c->rcv_wscale, 65535u)
								    << c->rcv_wscale));
		if (SEQ_GT(edge, c->rcv_adv))
			c->rcv_adv = edge;
		c->last_ack_sent = c->rcv_nxt;
		c->flags &= ~(TCPF_ACK_NOW | TCPF_DELACK | TCPF_ACK_BATCH | TCPF_ACK_APP);
		dp_timer_cancel(e->w, &c->t_delack);
	}
	if (flags & TCP_FLAG_RST)
		tcp__stat(e, TCP_STAT_RST_OUT);
	return out(e, m, c->key.laddr, c->key.raddr);
}

/* SACK recovery (tcp_sack.c): resend @p len buffered bytes at @p seq, the FIN after them. */
int tcp__rexmit(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin)
{
	uint8_t fl = TCP_FLAG_ACK;

	if (len > 0 && seq - c->snd_buf_seq + len == c->sbuf_len)
		fl |= TCP_FLAG_PSH;
	if (fin)
		fl |= TCP_FLAG_FIN;
	return xmit(c, seq, fl, len);
}

int tcp__send_ctl(struct tcp_conn *c, uint32_t seq, uint8_t flags)
{
	return xmit(c, seq, flags, 0);
}

/*
 * SEQ of a segment without data: SND.NXT, or the right edge of the peer's window if SND.NXT
 * lies beyond it (after a zero-window probe), so that the peer accepts the segment and its
 * acknowledgement even with its window closed (Linux tcp_acceptable_seq).
 */
static uint32_t acceptable_seq(const struct tcp_conn *c)
{
	uint32_t edge = c->snd_una + c->snd_wnd;

	return SEQ_GT(c->snd_max, edge) && SEQ_GEQ(edge, c->snd_una) ? edge : c->snd_max;
}

void tcp__send_ack(struct tcp_conn *c)
{
	xmit(c, acceptable_seq(c), TCP_FLAG_ACK, 0);
}

/* RFC 5961 §3.2 / §4.2 / §5.2 challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. */
void tcp__send_challenge_ack(struct tcp_conn *c)
{
	if (!tcp__challenge_allowed(c)) {
		tcp__stat(c->e, TCP_STAT_CHALLENGE_LIMITED);
		return;
	}
	tcp__stat(c->e, TCP_STAT_CHALLENGE_ACKS);
	xmit(c, acceptable_seq(c), TCP_FLAG_ACK, 0);
}

/* Abort (RFC 9293 §3.10.5): <SEQ=SND.NXT><CTL=RST>, with ACK as Linux and FreeBSD send it. */
void tcp__send_rst(struct tcp_conn *c)
{
	xmit(c, c->snd_max, TCP_FLAG_RST | TCP_FLAG_ACK, 0);
}

/*
 * RFC 9293 §3.10.7.1 / RST-4: reply to a segment that has no connection. If it carried an
 * ACK: <SEQ=SEG.ACK><CTL=RST>; otherwise <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 */
void tcp__reply_rst(struct tcp_engine *e, const struct tcp_seg *s)
{
	struct tcp_wire_hdr *h;
	struct rte_mbuf *m;

	if (s->flags & TCP_FLAG_RST)
		return;
	h = seg_alloc(e, &m, TCP_HDR_LEN);
	if (h == NULL)
		return;
	h->sport = s->dport;
	h->dport = s->sport;
	if (s->flags & TCP_FLAG_ACK) {
		h->seq = rte_cpu_to_be_32(s->ack);
		h->ack = 0;
		h->flags = TCP_FLAG_RST;
	} else {
		h->seq = 0;
		h->ack = rte_cpu_to_be_32(s->seq + tcp_seg_seqlen(s));
		h->flags = TCP_FLAG_RST | TCP_FLAG_ACK;
	}
	h->doff = (TCP_HDR_LEN / 4) << 4;
	h->win = 0;
	h->cksum = 0;
	h->urp = 0;
	tcp__stat(e, TCP_STAT_RST_OUT);
	out(e, m, s->daddr, s->saddr);
}

static bool fin_due(const struct tcp_conn *c, uint32_t off_end)
{
	if (!(c->flags & TCPF_FIN_QUEUED) || off_end != c->sbuf_len)
		return false;
	switch (c->state) {
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
	case TCPS_TIME_WAIT:
		return false;
	}
	/* Send it the first time, or again when snd_nxt went back for a retransmission. */
	return !(c->flags & TCPF_FIN_SENT) || c->snd_buf_seq + off_end == c->fin_seq;
}

/*
 * TX backpressure. When the worker's TX buffer for the connection's port is full even after a
 * flush (the port's ring is full: the peer or the NIC is slower than we produce), a data
 * segment built now would only be dropped by dp_tx_enqueue() (TX_FULL) and cost a
 * retransmission. Hold new data segments back instead: the connection goes on e->outq and
 * its output runs again on the next pass of the poll loop, after the buffer was flushed.
 * Control segments (ACK, SYN, FIN, RST) are not held back.
 */
bool tcp__tx_full(struct tcp_conn *c)
{
	struct tcp_engine *e = c->e;
	struct dp_worker *w = e->w;
	const struct dp_stack *s = w->stack;
	rte_be32_t nexthop;
	uint16_t i, iface;
	bool any = false;

	if (e->output != NULL) /* test capture hook: no TX buffer on this path */
		return false;
	for (i = 0; i < s->nb_ifaces; i++)
		any |= w->tx[i].n >= DP_TX_BURST;
	if (likely(!any))
		return false;
	if (dp_route_lookup(s, c->key.raddr, &iface, &nexthop) != 0)
		return false; /* dp_ipv4_output counts the drop */
	if (w->tx[iface].n < DP_TX_BURST)
		return false;
	/* One flush attempt per loop pass and port: with many connections blocked, retrying
	 * the port for each of them costs a driver call each and frees no room. */
	if (e->tx_full_loop[iface] != w->loops) {
		dp_tx_flush_iface(w, iface);
		if (w->tx[iface].n < DP_TX_BURST)
			return false;
		e->tx_full_loop[iface] = w->loops;
	}
	return true;
}

static bool tx_blocked(struct tcp_conn *c)
{
	if (!tcp__tx_full(c))
		return false;
	if (!(c->flags & TCPF_OUTQ))
		tcp__stat(c->e, TCP_STAT_TX_BLOCKED);
	tcp__outq_add(c);
	return true;
}

void tcp__outq_add(struct tcp_conn *c)
{
	if (!(c->flags & TCPF_OUTQ)) {
		c->flags |= TCPF_OUTQ;
		TAILQ_INSERT_TAIL(&c->e->outq, c, outq_link);
	}
}

void tcp__outq_del(struct tcp_conn *c)
{
	if (c->flags & TCPF_OUTQ) {
		TAILQ_REMOVE(&c->e->outq, c, outq_link);
		c->flags &= ~TCPF_OUTQ;
	}
}

/*
 * An ACK the application's next move will carry: the SYN,ACK that completes connect() (the
 * application sends its request next) and the FIN that makes the socket readable with EOF
 * (the application closes next). Both wake the application up, which runs after this loop
 * pass (the end-of-pass hook, then the TX flush, then zp_epoll_wait returns): the ACK waits on
 * e->outq until the end of the following pass and, when the application sent or closed
 * meanwhile, leaves with that segment (xmit clears the flag). Linux does the same for the
 * handshake's ACK when a write is pending (tcp_rcv_synsent_state_process). Measured with
 * zpath-bench crr: 7 segments per connection instead of 9 across both ends.
 */
void tcp__ack_after_app(struct tcp_conn *c)
{
	struct dp_worker *w = c->e->w;

	if (!w->in_poll || c->e->delack_ns == 0 || (c->flags & (TCPF_ACK_NOW | TCPF_ORPHAN))) {
		c->flags |= TCPF_ACK_NOW;
		return;
	}
	c->flags |= TCPF_ACK_APP;
	c->ack_app_loop = w->loops;
	tcp__outq_add(c);
}

/*
 * Segments are only flushed to the port at the end of a loop pass, after e->outq ran: building
 * what the application queued there instead of at once costs no latency and lets the segments
 * of one application turn merge (the response and the FIN of a send and a close, several small
 * sends under TCP_NODELAY). Outside a poll-driven worker (tests feeding the engine) it is sent
 * at once.
 */
void tcp__output_app(struct tcp_conn *c)
{
	if (c->e->app_out_defer && !c->e->w->in_poll && c->e->w->loops > 0) {
		tcp__outq_add(c);
		return;
	}
	tcp__output(c);
}

void tcp__outq_run(struct dp_worker *w)
{
	struct tcp_engine *e = tcp__engine(w);
	TAILQ_HEAD(, tcp_conn) run;
	struct tcp_conn *c;

	if (e == NULL || TAILQ_EMPTY(&e->outq))
		return;
	/* Connections blocked again while this runs go back on e->outq, for the next pass. */
	TAILQ_INIT(&run);
	TAILQ_CONCAT(&run, &e->outq, outq_link);
	while ((c = TAILQ_FIRST(&run)) != NULL) {
		TAILQ_REMOVE(&run, c, outq_link);
		c->flags &= ~TCPF_OUTQ;
		if (c->flags & TCPF_ACK_APP) {
			if (c->ack_app_loop == w->loops && !(c->flags & TCPF_ACK_BATCH)) {
				tcp__outq_add(c); /* the application has not had its turn yet */
				continue;
			}
			c->flags &= ~TCPF_ACK_APP;
			c->flags |= TCPF_ACK_NOW;
		}
		if (c->flags & TCPF_ACK_BATCH) {
			/* The burst is over: the ACK that waited for it goes now (with data, if
			 * there is some to send). */
			c->flags &= ~TCPF_ACK_BATCH;
			c->flags |= TCPF_ACK_NOW;
		}
		tcp__output(c);
	}
}

/*
 * Send what the windows allow. Called after every event that may enable output: data queued,
 * ACK received, window opened, timer fired, close.
 */
void tcp__output(struct tcp_conn *c)
{
	struct tcp_engine *e = c->e;
	unsigned sent = 0;

	switch (c->state) {
	case TCPS_CLOSED:
	case TCPS_LISTEN:
		return;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		if (c->snd_nxt == c->iss) {
			uint8_t fl = TCP_FLAG_SYN |
				     (c->state == TCPS_SYN_RECEIVED ? TCP_FLAG_ACK : 0);

			/* On allocation failure the retransmission timer retries. */
			(void)xmit(c, c->iss, fl, 0);
			c->snd_nxt = c->iss + 1;
			c->snd_max = SEQ_MAX(c->snd_max, c->snd_nxt);
			if (!dp_timer_armed(&c->t_rexmt))
				tcp__rexmt_arm(c);
		} else if (c->flags & TCPF_ACK_NOW) {
			tcp__send_ack(c);
		}
		return;
	case TCPS_TIME_WAIT:
		if (c->flags & TCPF_ACK_NOW)
			tcp__send_ack(c);
		return;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		break;
	}

	for (;;) {
		/* After a timeout, SACKed data is not sent again (tcp_sack.c). */
		uint32_t off = tcp__sack_skip(c) - c->snd_buf_seq;
		uint32_t avail = c->sbuf_len > off ? c->sbuf_len - off : 0;
		uint32_t inflight = c->snd_nxt - c->snd_una;
		uint32_t wnd = TCP_MIN(c->snd_wnd, c->cwnd);
		/* In SACK recovery cwnd - pipe decides (RFC 6675 §5). */
		uint32_t usable = tcp__sack_usable(c, wnd > inflight ? wnd - inflight : 0);
		/* SACK blocks come out of the segment's room. */
		uint32_t mss = TCP_MIN((uint32_t)c->snd_mss, room(e, TCP_HDR_LEN + 40)) -
			       tcp__sack_optlen(c);
		uint32_t len = tcp__sack_clamp(c, TCP_MIN(TCP_MIN(avail, usable), mss));
		/* Only the persist timer probes (it puts snd_nxt back at snd_una first): any other
		 * call in persist mode would push one more byte past the closed window. */
		bool probe = (c->flags & TCPF_PERSIST) && c->snd_wnd == 0 && avail > 0 && sent == 0 &&
			     c->snd_nxt == c->snd_una;
		bool fin;
		uint8_t fl;

		if (SEQ_LT(c->snd_nxt, c->snd_buf_seq)) /* SYN not yet acked */
			return;
		if (probe && len == 0)
			len = 1; /* one byte past the window (RFC 9293 §3.8.6.1) */
		/* Nagle (RFC 9293 §3.7.4) and sender SWS avoidance (§3.8.6.2.1), for new data only:
		 * a retransmission (a hole fill, a timeout) goes out as the window allows, as BSD's
		 * tcp_output does, or it could wait for a window only its own ACK would open. */
		if (len > 0 && len < mss && !probe && !SEQ_LT(c->snd_nxt, c->snd_max)) {
			bool last = len == avail;
			bool idle = c->snd_nxt == c->snd_max && inflight == 0;
			bool big = c->max_sndwnd > 0 && len >= c->max_sndwnd / 2;

			if (!big && !(last && !(c->flags & TCPF_CORK) &&
				      ((c->flags & TCPF_NODELAY) || idle ||
				       c->snd_nxt != c->snd_max)))
				len = 0;
		}
		fin = fin_due(c, off + len);
		if (fin && avail > len)
			fin = false;
		if (len == 0 && !fin) {
			if (c->flags & TCPF_ACK_NOW)
				tcp__send_ack(c);
			/* Zero window with data waiting and nothing in flight: persist. */
			if (avail > 0 && c->snd_wnd == 0 && inflight == 0 &&
			    !dp_timer_armed(&c->t_rexmt)) {
				c->persist_shift = 0;
				tcp__persist_arm(c);
			}
			return;
		}
		if (len > 0 && !probe && tx_blocked(c)) {
			/* The ACK we owe still goes out: it may be what lets the peer drain. */
			if (c->flags & TCPF_ACK_NOW)
				tcp__send_ack(c);
			return;
		}
		fl = TCP_FLAG_ACK;
		if (len > 0 && off + len == c->sbuf_len)
			fl |= TCP_FLAG_PSH;
		if (fin)
			fl |= TCP_FLAG_FIN;
		if (xmit(c, c->snd_nxt, fl, len) < 0)
			return;
		sent++;
		if (fin && !(c->flags & TCPF_FIN_SENT)) {
			c->fin_seq = c->snd_nxt + len;
			c->flags |= TCPF_FIN_SENT;
		}
		if (len > 0 && !c->rtt_timing && c->snd_nxt == c->snd_max &&
		    !(c->flags & TCPF_TS_OK)) {
			c->rtt_timing = true;
			c->rtt_seq = c->snd_nxt;
			c->rtt_start_ns = e->w->now_ns;
		}
		if (SEQ_GT(c->snd_nxt + len, c->snd_max))
			c->bytes_out += (c->snd_nxt + len) - SEQ_MAX(c->snd_nxt, c->snd_max);
		c->snd_nxt += len + (fin ? 1 : 0);
		if (SEQ_GT(c->snd_nxt, c->snd_max))
			c->snd_max = c->snd_nxt;
		if (probe)
			return; /* the persist timer re-arms itself */
		if (!dp_timer_armed(&c->t_rexmt) || (c->flags & TCPF_PERSIST))
			tcp__rexmt_arm(c);
		if (fin)
			return;
	}
}
