/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RACK-TLP loss detection (RFC 8985), used instead of the DupThresh rule of RFC 6675 when SACK
 * was negotiated (and [stack] tcp_recovery is rack, the default). See tcp_sack.h.
 *
 * Per-segment send times. The send buffer is a byte ring, so the times live beside it: a
 * sorted array of records (struct tcp_rack_seg), each a sequence range with the time it was
 * last sent and whether it was retransmitted / is marked lost. Everything one loop pass sends
 * has the same w->now_ns, so a whole burst of new data is one record (appended or extended in
 * O(1)); a retransmission splits the records it covers. When the array is full, the two
 * neighbours whose times are closest are merged into one with the later time: a loss is then
 * found later, never spuriously. Records below SND.UNA are dropped as ACKs arrive.
 *
 * RACK (§6.2): each ACK takes the ranges it newly delivers (cumulatively or by SACK; collected
 * by tcp__sack_update()), RACK.xmit_ts / end_seq / rtt follow the most recently sent of them
 * (a retransmitted range only when the ACK cannot be for its original: at least min_RTT after
 * the retransmission and, with timestamps, an echo no older than it). A range delivered below
 * the highest one delivered before, never retransmitted, is reordering (reordering_seen).
 * A range not SACKed, sent before RACK.xmit_ts, is lost once RACK.rtt + reo_wnd has passed
 * since it was sent; otherwise the reordering timer fires when that time comes. reo_wnd is 0
 * before any reordering is seen in recovery or with DupThresh segments SACKed (so without
 * reordering RACK is as fast as DupThresh), else min_RTT/4 times a multiplier that D-SACKs
 * (and Eifel-detected spurious retransmissions) raise once per round trip and that falls back
 * after 16 recoveries (§6.2 step 4), or the measured reordering extent if larger; at most
 * SRTT, at least the 1 ms timer tick. min_RTT is the smallest RACK.rtt of the connection (a
 * lifetime minimum, not RFC 8985's windowed filter: paths here do not lengthen for good).
 *
 * TLP (§7): with data in flight, not in recovery, no probe outstanding, a probe timer of
 * 2*SRTT (plus the worst-case delayed ACK, 200 ms, when one segment is in flight; at least
 * 10 ms), a tick before the RTO at the latest, is (re)armed with the RTO timer, on new data and
 * on ACKs that advance SND.UNA. When it fires, one
 * new segment goes (cwnd allowing one more), else the last segment is sent again; its ACK
 * (SACK) lets RACK repair a lost tail without an RTO. The episode ends at an ACK covering
 * TLP.end_seq: with a D-SACK of the probe no loss happened; an ACK beyond it means the probe
 * repaired a loss, and cwnd is reduced once as fast recovery would (§7.4.2).
 *
 * One timer (t_rack) serves the reordering timeout and the probe; the RTO keeps t_rexmt.
 */
#include <string.h>

#include "tcp_priv.h"

#define US 1000ull
#define MS 1000000ull

#define TLP_WCDELACK_US 200000u /* RFC 8985 §7.2 WCDelAckT */
/* Shortest probe timeout (Linux's): on a path of microseconds, 2*SRTT is far below the
 * receiver's delayed ACK (40 ms here), and every odd last segment would be probed for
 * nothing. */
#define TLP_MIN_US 10000u
#define REO_PERSIST	16u	/* RFC 8985 §6.2 step 4 */

static struct tcp_rack *rk(struct tcp_conn *c)
{
	return &c->sack.rack;
}

/* A record's send time and flags share one 64-bit word (16-byte records). */
static inline uint64_t rtime(const struct tcp_rack_seg *g)
{
	return g->tf & ~(uint64_t)TCP_RACK_FLAGS;
}

static inline uint8_t rflags(const struct tcp_rack_seg *g)
{
	return (uint8_t)(g->tf & TCP_RACK_FLAGS);
}

static inline uint64_t rmk(uint64_t t, uint8_t f)
{
	return (t & ~(uint64_t)TCP_RACK_FLAGS) | f;
}

void tcp__rack_init(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);
	const struct dp_stack *s = c->e->w->stack;

	r->on = (c->flags & TCPF_SACK_OK) && !(s != NULL && s->tun.tcp_rack_off);
	r->nseg = 0;
	r->reord_seen = false;
	r->dsack_round_on = false;
	r->tlp_on = false;
	r->reo_wnd_mult = 1;
	r->reo_wnd_persist = REO_PERSIST;
	r->xmit_ns = 0;
	r->end_seq = c->snd_una;
	r->fack = c->snd_una;
	r->rtt_us = 0;
	r->min_rtt_us = 0;
	r->reo_extent_us = 0;
}

/* ---- transmission records ---------------------------------------------------------------- */

static void rec_trim(struct tcp_rack *r, uint32_t una)
{
	unsigned i = 0;

	while (i < r->nseg && SEQ_LEQ(r->seg[i].end, una))
		i++;
	if (i > 0) {
		memmove(&r->seg[0], &r->seg[i], (r->nseg - i) * sizeof(r->seg[0]));
		r->nseg = (uint8_t)(r->nseg - i);
	}
	if (r->nseg > 0 && SEQ_LT(r->seg[0].start, una))
		r->seg[0].start = una;
}

/* Merge records until at most @p max remain: the neighbours with the closest send times
 * become one with the later time and both flags (found lost later, never spuriously). */
static void rec_squeeze(struct tcp_rack_seg *a, unsigned *n, unsigned max)
{
	while (*n > max) {
		unsigned i, best = 0;
		uint64_t bd = UINT64_MAX;

		for (i = 0; i + 1 < *n; i++) {
			uint64_t t0 = rtime(&a[i]), t1 = rtime(&a[i + 1]);
			uint64_t d = t1 > t0 ? t1 - t0 : t0 - t1;

			if (rflags(&a[i]) == rflags(&a[i + 1]))
				d >>= 1; /* prefer merging alike records */
			if (d < bd) {
				bd = d;
				best = i;
			}
		}
		{
			uint8_t f0 = rflags(&a[best]), f1 = rflags(&a[best + 1]);
			uint64_t t = TCP_MAX(rtime(&a[best]), rtime(&a[best + 1]));

			/* A merged record is lost only if both halves were: never resend what was
			 * not found lost; a loss forgotten this way is found again by the next
			 * ACKs or the RTO. */
			a[best].end = a[best + 1].end;
			a[best].tf = rmk(t, (uint8_t)((f0 | f1) & ~(TCP_RACK_LOST & ~(f0 & f1))));
		}
		memmove(&a[best + 1], &a[best + 2], (*n - best - 2) * sizeof(a[0]));
		(*n)--;
	}
}

static void rec_push(struct tcp_rack_seg *a, unsigned *n, uint32_t s, uint32_t e, uint64_t t,
		     uint8_t f)
{
	if (!SEQ_LT(s, e))
		return;
	if (*n > 0 && a[*n - 1].end == s && a[*n - 1].tf == rmk(t, f)) {
		a[*n - 1].end = e;
		return;
	}
	a[*n] = (struct tcp_rack_seg){s, e, rmk(t, f)};
	(*n)++;
}

/* [s, e) now carries send time @p t and flags @p f (the records it covers are split). */
static void rec_set(struct tcp_rack *r, uint32_t s, uint32_t e, uint64_t t, uint8_t f)
{
	struct tcp_rack_seg a[TCP_RACK_SEGS * 2 + 2];
	unsigned i, n = 0;
	bool done = false;

	for (i = 0; i < r->nseg; i++) {
		const struct tcp_rack_seg *g = &r->seg[i];

		if (SEQ_LEQ(g->end, s) || SEQ_GEQ(g->start, e)) {
			if (!done && SEQ_GEQ(g->start, e)) {
				rec_push(a, &n, s, e, t, f);
				done = true;
			}
			rec_push(a, &n, g->start, g->end, rtime(g), rflags(g));
			continue;
		}
		if (SEQ_LT(g->start, s))
			rec_push(a, &n, g->start, s, rtime(g), rflags(g));
		if (!done) {
			rec_push(a, &n, s, e, t, f);
			done = true;
		}
		if (SEQ_GT(g->end, e))
			rec_push(a, &n, e, g->end, rtime(g), rflags(g));
	}
	if (!done)
		rec_push(a, &n, s, e, t, f);
	rec_squeeze(a, &n, TCP_RACK_SEGS);
	memcpy(r->seg, a, n * sizeof(a[0]));
	r->nseg = (uint8_t)n;
}

void tcp__rack_sent(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	struct tcp_rack *r = rk(c);
	uint64_t now = c->e->w->now_ns;
	uint8_t f = SEQ_LT(seq, c->snd_max) ? TCP_RACK_RETRANS : 0;
	struct tcp_rack_seg *l;

	if (!r->on || !SEQ_LT(seq, end))
		return;
	rec_trim(r, c->snd_una);
	l = r->nseg > 0 ? &r->seg[r->nseg - 1] : NULL;
	if (f == 0 && l != NULL && l->end == seq && l->tf == rmk(now, 0)) {
		l->end = end; /* the common case: one more segment of this burst */
	} else if (l == NULL || SEQ_GEQ(seq, l->end)) {
		if (r->nseg == TCP_RACK_SEGS) {
			unsigned n = r->nseg;

			rec_squeeze(r->seg, &n, TCP_RACK_SEGS - 1);
			r->nseg = (uint8_t)n;
		}
		r->seg[r->nseg++] = (struct tcp_rack_seg){seq, end, rmk(now, f)};
	} else {
		rec_set(r, seq, end, now, f);
	}
	/* §7.2: a probe timer follows new data. */
	if (f == 0 && !dp_timer_armed(&c->t_rack))
		tcp__tlp_arm(c);
}

/* ---- RACK -------------------------------------------------------------------------------- */

/* Reordering measured @p us late: the window covers it from now on (until reo_wnd_persist
 * runs out, as for D-SACKs). */
static void reo_extent(struct tcp_rack *r, uint32_t us)
{
	if (us > r->reo_extent_us) {
		r->reo_extent_us = us;
		r->reo_wnd_persist = REO_PERSIST;
	}
}

void tcp__rack_late(struct tcp_conn *c, uint32_t us)
{
	reo_extent(rk(c), us);
}

/* RACK_sent_after(t1, seq1, t2, seq2). */
static bool sent_after(uint64_t t1, uint32_t s1, uint64_t t2, uint32_t s2)
{
	return t1 > t2 || (t1 == t2 && SEQ_GT(s1, s2));
}

uint32_t tcp__rack_reo_wnd_us(const struct tcp_conn *c)
{
	const struct tcp_rack *r = &c->sack.rack;
	uint64_t w;

	if (!r->reord_seen) {
		if (c->in_recovery || SEQ_LT(c->snd_una, c->recover))
			return 0; /* fast recovery or after a timeout */
		if (c->sack.sacked > (TCP_DUPTHRESH - 1) * c->snd_mss)
			return 0; /* DupThresh segments SACKed */
	}
	w = (uint64_t)r->reo_wnd_mult * r->min_rtt_us / 4;
	w = TCP_MAX(w, (uint64_t)r->reo_extent_us);
	if (c->rtt_valid && w > c->srtt_us)
		w = c->srtt_us;
	/* Not below the timer tick: on a path of microseconds min_RTT/4 is shorter than the
	 * time between two loop passes, and RACK would race the ACK of a segment that was only
	 * swapped with its neighbour. */
	return (uint32_t)TCP_MAX(w, (uint64_t)TCP_RACK_REO_MIN_US);
}

void tcp__rack_update(struct tcp_conn *c, const struct tcp_seg *s)
{
	struct tcp_rack *r = rk(c);
	uint64_t now = c->e->w->now_ns;
	bool ts = (c->flags & TCPF_TS_OK) && s->opt.ts_ok && s->opt.tsecr != 0;
	uint32_t tsnow = tcp__ts_now(c->e);
	uint32_t fack = r->fack;
	unsigned d, i;

	if (!r->on)
		return;
	for (d = 0; d < r->ndeliv; d++) {
		uint32_t ds = r->deliv[d].start, de = r->deliv[d].end;

		for (i = 0; i < r->nseg; i++) {
			const struct tcp_rack_seg *g = &r->seg[i];
			uint32_t e = SEQ_MIN(g->end, de);
			uint64_t age;

			if (SEQ_LEQ(g->end, ds))
				continue;
			if (SEQ_GEQ(g->start, de))
				break;
			age = now - rtime(g);
			if (rflags(g) & TCP_RACK_RETRANS) {
				/* §6.2 step 2: the ACK may be for the original transmission. The
				 * TSval it carried, never overestimated (ms clock, rounding). */
				uint32_t sent_ts = tsnow - (uint32_t)((age + MS - 1) / MS);

				if (ts && SEQ_LT(s->opt.tsecr, sent_ts)) {
					/* The original got there (Eifel, per segment): it
					 * was reordered, this late next to RACK's segment. */
					uint32_t o_us = (tsnow - s->opt.tsecr) * 1000u;

					r->reord_seen = true;
					if (tsnow - s->opt.tsecr < 60000u && o_us > r->rtt_us)
						reo_extent(r, o_us - r->rtt_us);
					continue;
				}
				if (age < (uint64_t)r->min_rtt_us * US)
					continue;
			} else if (SEQ_LT(e, fack)) {
				r->reord_seen = true; /* §6.2 step 3 */
				/* How late it came, next to RACK's segment: the window it
				 * would have needed. */
				if (age / US > r->rtt_us)
					reo_extent(r, (uint32_t)(age / US) - r->rtt_us);
			}
			if (!(rflags(g) & TCP_RACK_RETRANS) &&
			    (r->min_rtt_us == 0 || age / US < r->min_rtt_us))
				r->min_rtt_us = (uint32_t)TCP_MAX(age / US, 1ull);
			if (sent_after(rtime(g), e, r->xmit_ns, r->end_seq)) {
				r->xmit_ns = rtime(g);
				r->end_seq = e;
				r->xmit_retrans = (rflags(g) & TCP_RACK_RETRANS) != 0;
				r->rtt_us = (uint32_t)(age / US);
			}
		}
		if (SEQ_GT(de, r->fack))
			r->fack = de;
	}
	r->ndeliv = 0;
	if (r->dsack_round_on && SEQ_GEQ(s->ack, r->dsack_round))
		r->dsack_round_on = false;
	if (r->dsack_now)
		tcp__rack_spurious(c);
	rec_trim(r, SEQ_MAX(s->ack, c->snd_una));
}

void tcp__rack_spurious(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);

	/* A retransmission was not needed: most likely reordering (Linux counts it as such
	 * too). §6.2 step 4: the window widens, once per round trip. */
	r->reord_seen = true;
	if (r->dsack_round_on)
		return;
	r->dsack_round_on = true;
	r->dsack_round = c->snd_max;
	if (r->reo_wnd_mult < 255)
		r->reo_wnd_mult++;
	r->reo_wnd_persist = REO_PERSIST;
}

void tcp__rack_recovery_done(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);

	if (r->reo_wnd_persist > 0 && --r->reo_wnd_persist == 0) {
		r->reo_wnd_mult = 1;
		r->reo_extent_us = 0;
		r->reo_wnd_persist = REO_PERSIST;
	}
}

static void timer_arm(struct tcp_conn *c, uint64_t at, bool pto)
{
	c->sack.rack.timer_pto = pto;
	dp_timer_arm(c->e->w, &c->t_rack, at);
}

bool tcp__rack_detect(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);
	uint64_t now = c->e->w->now_ns, reo = (uint64_t)tcp__rack_reo_wnd_us(c) * US;
	uint64_t wait = (uint64_t)r->rtt_us * US + reo, timeout = 0;
	bool lost = false;
	unsigned i;

	if (!r->on || r->xmit_ns == 0)
		return false;
	rec_trim(r, c->snd_una);
	for (i = 0; i < r->nseg; i++) {
		struct tcp_rack_seg *g = &r->seg[i];
		uint32_t e = g->end, sacked;
		uint64_t t = rtime(g);
		uint8_t f = rflags(g);

		if (!(f & TCP_RACK_RETRANS) && t > r->xmit_ns)
			break; /* first transmissions go in sequence order: none older follows */
		if (f & TCP_RACK_LOST) {
			lost = true;
			continue;
		}
		if (t == r->xmit_ns) {
			/* Sent in the same pass: only what lies below RACK.end_seq, and never a
			 * retransmission when RACK's segment was an original (retransmissions
			 * leave after the new data of their pass). */
			if (!SEQ_LT(g->start, r->end_seq) ||
			    ((f & TCP_RACK_RETRANS) && !r->xmit_retrans))
				continue;
			e = SEQ_MIN(e, r->end_seq);
		} else if (t > r->xmit_ns) {
			continue;
		}
		sacked = tcp__sack_sacked_in(c, g->start, e);
		if (sacked == e - g->start)
			continue;
		if (t + wait <= now) {
			lost = true;
			c->e->stats[TCP_STAT_RACK_LOST] +=
				(e - g->start - sacked + c->snd_mss - 1) / c->snd_mss;
			if (e == g->end) {
				g->tf |= TCP_RACK_LOST;
			} else {
				rec_set(r, g->start, e, t, (uint8_t)(f | TCP_RACK_LOST));
				i++; /* the part above e follows at i + 1 */
			}
		} else if (t + wait - now > timeout) {
			timeout = t + wait - now;
		}
	}
	if (timeout > 0) {
		/* The timer wheel ticks in ms: never arm before the time has really come. */
		timer_arm(c, now + timeout, false);
	} else if (dp_timer_armed(&c->t_rack) && !r->timer_pto) {
		dp_timer_cancel(c->e->w, &c->t_rack);
	}
	return lost;
}

bool tcp__rack_next_lost(const struct tcp_conn *c, uint32_t *seq, uint32_t *len)
{
	const struct tcp_rack *r = &c->sack.rack;
	unsigned i, j;

	for (i = 0; i < r->nseg; i++) {
		const struct tcp_rack_seg *g = &r->seg[i];
		uint32_t h = SEQ_MAX(g->start, c->snd_una), end = g->end;

		if (!(rflags(g) & TCP_RACK_LOST) || !SEQ_LT(h, end))
			continue;
		/* The first unSACKed octet of the record and where SACKed data begins after it. */
		for (j = 0; j < c->sack.nsb; j++) {
			const struct tcp_sack_block *b = &c->sack.sb[j];

			if (SEQ_LEQ(b->end, h))
				continue;
			if (SEQ_LEQ(b->start, h)) {
				h = b->end;
				continue;
			}
			end = SEQ_MIN(end, b->start);
			break;
		}
		if (!SEQ_LT(h, end))
			continue;
		*seq = h;
		*len = end - h;
		return true;
	}
	return false;
}

uint32_t tcp__rack_lost_bytes(const struct tcp_conn *c)
{
	const struct tcp_rack *r = &c->sack.rack;
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < r->nseg; i++) {
		const struct tcp_rack_seg *g = &r->seg[i];
		uint32_t s = SEQ_MAX(g->start, c->snd_una), e = SEQ_MIN(g->end, c->snd_max);

		if ((rflags(g) & TCP_RACK_LOST) && SEQ_LT(s, e))
			n += (e - s) - tcp__sack_sacked_in(c, s, e);
	}
	return n;
}

void tcp__rack_rto(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);
	unsigned i;

	for (i = 0; i < r->nseg; i++)
		r->seg[i].tf &= ~(uint64_t)TCP_RACK_LOST;
	r->tlp_on = false;
	dp_timer_cancel(c->e->w, &c->t_rack);
}

/* ---- TLP --------------------------------------------------------------------------------- */

void tcp__tlp_arm(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);
	uint64_t now = c->e->w->now_ns, pto, at;
	/* From tcp__rack_sent() SND.MAX does not count the segment being sent yet. */
	uint32_t max = r->nseg > 0 ? SEQ_MAX(c->snd_max, r->seg[r->nseg - 1].end) : c->snd_max;

	if (!r->on || r->tlp_on || c->in_recovery || SEQ_LT(c->snd_una, c->recover) ||
	    c->snd_una == max || (c->flags & TCPF_PERSIST) ||
	    (dp_timer_armed(&c->t_rack) && !r->timer_pto))
		return;
	switch (c->state) {
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_FIN_WAIT_2:
	case TCPS_TIME_WAIT:
		return;
	}
	/* §7.2: PTO = 2*SRTT (1 s without a sample), plus WCDelAckT for a single segment. */
	pto = c->rtt_valid ? 2ull * c->srtt_us * US : 1000 * MS;
	if (max - c->snd_una <= c->snd_mss)
		pto += (uint64_t)TLP_WCDELACK_US * US;
	pto = TCP_MAX(pto, (uint64_t)TLP_MIN_US * US);
	at = now + pto;
	/* Never after the RTO: the probe goes in its place, a tick before it (the probe then
	 * restarts the RTO). */
	if (dp_timer_armed(&c->t_rexmt) && c->t_rexmt.expire_ns <= at) {
		if (c->t_rexmt.expire_ns <= now + DP_TIMER_TICK_NS)
			return;
		at = c->t_rexmt.expire_ns - DP_TIMER_TICK_NS;
	}
	timer_arm(c, at, true);
}

static void tlp_fire(struct tcp_conn *c)
{
	struct tcp_rack *r = rk(c);
	uint32_t max = c->snd_max, inflight = c->snd_max - c->snd_una, cwnd = c->cwnd;

	if (r->tlp_on || c->in_recovery || c->snd_una == c->snd_max ||
	    (c->flags & TCPF_PERSIST) || SEQ_LT(c->snd_una, c->recover))
		return;
	/* The port's TX buffer is full: our own segments are still queued on this host, which
	 * is why no ACK came, and the probe would be dropped there (drop.tx_full). Ask again a
	 * PTO later, as Linux does while the original is still in the host's queue
	 * (tcp_send_loss_probe, skb_still_in_host_queue). The RTO still bounds the wait. */
	if (tcp__tx_full(c)) {
		tcp__stat(c->e, TCP_STAT_TLP_DEFERRED);
		tcp__tlp_arm(c);
		return;
	}
	/* §7.3: new data if the peer's window takes a segment, cwnd or not. */
	if (tcp__sbuf_unsent(c) > 0 && c->snd_wnd >= inflight + c->snd_mss &&
	    c->snd_nxt == c->snd_max) {
		c->cwnd = TCP_MAX(cwnd, inflight + c->snd_mss);
		r->tlp_on = true; /* no second probe timer from this transmission */
		tcp__output(c);
		c->cwnd = cwnd;
	}
	if (c->snd_max != max) {
		r->tlp_retrans = false;
	} else {
		/* Else the last segment again. */
		uint32_t room = c->snd_mss - tcp__sack_optlen(c);
		uint32_t seq = max - c->snd_una > room ? max - room : c->snd_una;
		uint32_t data_end = c->snd_buf_seq + c->sbuf_len, dlen;
		bool fin = (c->flags & TCPF_FIN_SENT) && SEQ_GEQ(c->fin_seq, seq) &&
			   SEQ_LT(c->fin_seq, max);

		dlen = SEQ_GT(data_end, seq) ? SEQ_MIN(data_end, max) - seq : 0;
		if (SEQ_LT(seq, c->snd_buf_seq) || tcp__rexmit(c, seq, dlen, fin) < 0) {
			r->tlp_on = false;
			return;
		}
		r->tlp_retrans = true;
		c->total_retrans++;
		tcp__stat(c->e, TCP_STAT_RETRANS);
	}
	r->tlp_on = true;
	r->tlp_end_seq = c->snd_max;
	tcp__stat(c->e, TCP_STAT_TLP_SENT);
	tcp__rexmt_arm(c); /* §7.3: the RTO restarts after the probe */
}

void tcp__tlp_ack(struct tcp_conn *c, const struct tcp_seg *s, bool advanced, bool sacked)
{
	struct tcp_rack *r = rk(c);

	if (!r->on)
		return;
	if (r->tlp_on && SEQ_GEQ(s->ack, r->tlp_end_seq)) {
		if (!r->tlp_retrans) {
			r->tlp_on = false; /* new data: its ACK ends the episode */
		} else if (r->dsack_now) {
			r->tlp_on = false; /* original and probe both arrived: no loss */
		} else if (SEQ_GT(s->ack, r->tlp_end_seq)) {
			/* The probe repaired a loss: reduce cwnd as fast recovery would. */
			r->tlp_on = false;
			tcp__stat(c->e, TCP_STAT_TLP_RECOVERED);
			if (!c->in_recovery) {
				tcp__cc_enter_recovery(c);
				c->cwnd = TCP_MAX(c->ssthresh, 2u * c->snd_mss);
				c->sack.undo_armed = false;
			}
		} else if (!advanced && !sacked) {
			r->tlp_on = false; /* a duplicate ACK for the probe */
		}
	}
	if (advanced) {
		/* §7.2: restart the probe timer on an ACK that advances SND.UNA. */
		if (dp_timer_armed(&c->t_rack) && r->timer_pto)
			dp_timer_cancel(c->e->w, &c->t_rack);
		tcp__tlp_arm(c);
	}
}

/* ---- the timer --------------------------------------------------------------------------- */

void tcp__rack_timer_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, t_rack);

	(void)w;
	if (!c->sack.rack.on || !tcp_state_synced(c->state) || c->snd_una == c->snd_max)
		return;
	if (c->sack.rack.timer_pto) {
		tlp_fire(c);
		return;
	}
	/* §6.3: the reordering window has passed for what was waiting. */
	tcp__stat(c->e, TCP_STAT_RACK_REO_TIMEOUTS);
	tcp__recovery_rack(c, false);
	if (!dp_timer_armed(&c->t_rack))
		tcp__tlp_arm(c);
}
