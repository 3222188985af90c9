/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SACK (RFC 2018) and loss recovery: SACK-based (RFC 6675) when the peer agreed to SACK,
 * NewReno (RFC 5681 §3.2, RFC 6582) otherwise. D-SACK (RFC 2883) reports are counted and,
 * when every retransmission of an episode is reported as a duplicate, the cwnd reduction is
 * undone. See tcp_sack.h.
 *
 * Recovery state lives in struct tcp_conn: in_recovery / recover (RecoveryPoint) / dupacks,
 * and c->sack for the scoreboard and HighRxt. During SACK recovery snd_nxt stays at snd_max:
 * holes are retransmitted here with tcp__rexmit() and new data goes out through tcp__output(),
 * which asks tcp__sack_usable() for cwnd - pipe.
 */
#include <string.h>

#include "tcp_priv.h"

/* ---- receiver: blocks to report ---------------------------------------------------------- */

void tcp__sack_rcv_ooo(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	struct tcp_sack_state *k = &c->sack;
	struct tcp_sack_block b = {0, 0}, nb[TCP_SACK_RCV_BLOCKS];
	struct rte_mbuf *m;
	bool run = false, found = false;
	unsigned i, n = 0;

	if (!(c->flags & TCPF_SACK_OK) || SEQ_GEQ(seq, end))
		return;
	/* The contiguous run of the out-of-order queue that holds seq (RFC 2018 §4: the first
	 * block holds the segment that triggered this ACK). */
	for (m = c->ooo_head; m != NULL && !found; m = m->next) {
		uint32_t ms = *tcp__mbuf_seq(m), me = ms + rte_pktmbuf_data_len(m);

		if (run && ms == b.end) {
			b.end = me;
		} else {
			if (run && SEQ_GEQ(seq, b.start) && SEQ_LT(seq, b.end))
				found = true;
			else
				b = (struct tcp_sack_block){ms, me};
			run = true;
		}
	}
	if (!found && run && SEQ_GEQ(seq, b.start) && SEQ_LT(seq, b.end))
		found = true;
	if (!found)
		return;
	nb[n++] = b;
	for (i = 0; i < k->nrcv && n < TCP_SACK_RCV_BLOCKS; i++) {
		const struct tcp_sack_block *o = &k->rcv[i];

		if (SEQ_LT(o->start, b.end) && SEQ_GT(o->end, b.start))
			continue; /* now part of b */
		nb[n++] = *o;
	}
	memcpy(k->rcv, nb, n * sizeof(nb[0]));
	k->nrcv = (uint8_t)n;
}

void tcp__sack_rcv_dup(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	struct tcp_sack_state *k = &c->sack;

	if (!(c->flags & TCPF_SACK_OK) || SEQ_GEQ(seq, end))
		return;
	if (!k->dsack) {
		k->dsack = true;
		k->dsack_blk = (struct tcp_sack_block){seq, end};
	} else if (SEQ_LEQ(seq, k->dsack_blk.end) && SEQ_GEQ(end, k->dsack_blk.start)) {
		/* Linux's tcp_dsack_extend: one block for a contiguous duplicate range. */
		k->dsack_blk.start = SEQ_MIN(k->dsack_blk.start, seq);
		k->dsack_blk.end = SEQ_MAX(k->dsack_blk.end, end);
	}
}

/* Forget blocks the cumulative ACK now covers. */
static void rcv_prune(struct tcp_conn *c)
{
	struct tcp_sack_state *k = &c->sack;
	unsigned i, n = 0;

	if (c->ooo_head == NULL) {
		k->nrcv = 0;
		return;
	}
	for (i = 0; i < k->nrcv; i++)
		if (SEQ_GT(k->rcv[i].start, c->rcv_nxt))
			k->rcv[n++] = k->rcv[i];
	k->nrcv = (uint8_t)n;
}

/* Blocks the next segment carries: the D-SACK block (if any) and the SACK blocks. */
static unsigned rcv_blocks(struct tcp_conn *c)
{
	unsigned max = (c->flags & TCPF_TS_OK) ? 3 : 4; /* 40 bytes of options */

	if (!(c->flags & TCPF_SACK_OK) || (c->sack.nrcv == 0 && !c->sack.dsack))
		return 0;
	if (c->sack.nrcv != 0)
		rcv_prune(c);
	return TCP_MIN((unsigned)c->sack.nrcv + c->sack.dsack, max);
}

unsigned tcp__sack_optlen(struct tcp_conn *c)
{
	unsigned n = rcv_blocks(c);

	return n ? 4 + 8 * n : 0;
}

unsigned tcp__sack_write(struct tcp_conn *c, uint8_t *p, unsigned room)
{
	unsigned n = rcv_blocks(c), i;

	while (n > 0 && 4 + 8 * n > room)
		n--;
	if (n == 0)
		return 0;
	p[0] = TCP_OPT_NOP;
	p[1] = TCP_OPT_NOP;
	p[2] = TCP_OPT_SACK;
	p[3] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < n; i++) {
		/* RFC 2883 §4: the D-SACK block first, then the usual blocks, the first of
		 * them the one holding the segment that triggered the ACK (so when the
		 * duplicate lay above RCV.NXT, the block that contains it, §4 rule 2). */
		const struct tcp_sack_block *b =
			c->sack.dsack ? (i == 0 ? &c->sack.dsack_blk : &c->sack.rcv[i - 1])
				      : &c->sack.rcv[i];
		rte_be32_t l = rte_cpu_to_be_32(b->start);
		rte_be32_t r = rte_cpu_to_be_32(b->end);

		memcpy(p + 4 + 8 * i, &l, 4);
		memcpy(p + 8 + 8 * i, &r, 4);
	}
	if (c->sack.dsack) {
		/* Reported once (RFC 2883 §4: each duplicate in at most one D-SACK block). */
		c->sack.dsack = false;
		tcp__stat(c->e, TCP_STAT_DSACK_OUT);
	}
	return 4 + 8 * n;
}

/* ---- sender: scoreboard ------------------------------------------------------------------ */

static void sb_recount(struct tcp_sack_state *k)
{
	unsigned i;

	k->sacked = 0;
	for (i = 0; i < k->nsb; i++)
		k->sacked += k->sb[i].end - k->sb[i].start;
}

/* Insert [l, r) keeping the ranges sorted, disjoint and not adjacent. */
static void sb_insert(struct tcp_sack_state *k, uint32_t l, uint32_t r)
{
	unsigned i = 0, j, n = k->nsb;

	while (i < n && SEQ_LT(k->sb[i].end, l))
		i++;
	/* Ranges i..j-1 touch [l, r): merge them into one. */
	j = i;
	while (j < n && SEQ_LEQ(k->sb[j].start, r)) {
		l = SEQ_MIN(l, k->sb[j].start);
		r = SEQ_MAX(r, k->sb[j].end);
		j++;
	}
	if (j == i) {
		if (n == TCP_SACK_SB_MAX) {
			if (i == n)
				return; /* above everything and no room: forget it */
			n--;		/* forget the highest range */
		}
		memmove(&k->sb[i + 1], &k->sb[i], (n - i) * sizeof(k->sb[0]));
		n++;
	} else if (j > i + 1) {
		memmove(&k->sb[i + 1], &k->sb[j], (n - j) * sizeof(k->sb[0]));
		n -= j - i - 1;
	}
	k->sb[i] = (struct tcp_sack_block){l, r};
	k->nsb = (uint8_t)n;
}

/* Drop what the cumulative ACK covers. */
static void sb_trim(struct tcp_sack_state *k, uint32_t una)
{
	unsigned i = 0, n;

	while (i < k->nsb && SEQ_LEQ(k->sb[i].end, una))
		i++;
	n = k->nsb - i;
	memmove(&k->sb[0], &k->sb[i], n * sizeof(k->sb[0]));
	k->nsb = (uint8_t)n;
	if (n > 0 && SEQ_LT(k->sb[0].start, una))
		k->sb[0].start = una;
}

static void sb_clear(struct tcp_sack_state *k)
{
	k->nsb = 0;
	k->sacked = 0;
}

void tcp__sack_sent(struct tcp_conn *c, uint32_t seq, uint32_t end)
{
	struct tcp_sack_state *k = &c->sack;
	struct tcp_sack_block *b;

	if (!(c->flags & TCPF_SACK_OK) || !SEQ_LT(seq, c->snd_max))
		return; /* new data */
	end = SEQ_MIN(end, c->snd_max);
	if (k->rtx_n > 0) {
		b = &c->rtx_log[(k->rtx_head + k->rtx_n - 1) % TCP_RTX_LOG];
		if (b->end == seq) {
			b->end = end; /* the next segment of a run of retransmissions */
			return;
		}
	}
	if (k->rtx_n == TCP_RTX_LOG) {
		k->rtx_head = (uint8_t)((k->rtx_head + 1) % TCP_RTX_LOG); /* forget the oldest */
		k->rtx_n--;
	}
	c->rtx_log[(k->rtx_head + k->rtx_n) % TCP_RTX_LOG] = (struct tcp_sack_block){seq, end};
	k->rtx_n++;
}

/* How many of our retransmissions the D-SACK [l, r) reports (0: none of them: the path
 * duplicated a segment). What it covers leaves the log: each retransmission counts once. */
static uint32_t rtx_dsacked(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	struct tcp_sack_state *k = &c->sack;
	uint32_t bytes = 0;
	unsigned i;

	for (i = 0; i < k->rtx_n; i++) {
		struct tcp_sack_block *b = &c->rtx_log[(k->rtx_head + i) % TCP_RTX_LOG];
		uint32_t lo = SEQ_MAX(l, b->start), hi = SEQ_MIN(r, b->end);

		if (!SEQ_LT(lo, hi))
			continue;
		bytes += hi - lo;
		if (lo == b->start)
			b->start = hi; /* an emptied entry stays, empty, until it is overwritten */
		else if (hi == b->end)
			b->end = lo;
	}
	return bytes == 0 ? 0 : (bytes + c->snd_mss - 1) / c->snd_mss;
}

/* The episode's reduction was for nothing (every retransmission D-SACKed, or Eifel): back to
 * where we were (RFC 4015's response). A recovery still running ends with it: its exit would
 * otherwise set cwnd to the restored ssthresh, which may be none at all. */
static void undo_episode(struct tcp_conn *c)
{
	struct tcp_sack_state *k = &c->sack;
	unsigned i;

	k->undo_armed = false;
	tcp__cc_undo(c);
	if (c->in_recovery) {
		c->in_recovery = false;
		k->recovery = false;
		for (i = 0; i < k->rack.nseg; i++)
			k->rack.seg[i].tf &= ~(uint64_t)TCP_RACK_LOST;
	}
	/* A timeout's go-back-N stops: what was sent is not sent again. */
	if (SEQ_LT(c->snd_nxt, c->snd_max) && SEQ_GEQ(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_max;
	c->recover = c->snd_una;
}

/* RFC 2883 §4: the first block is a D-SACK if it lies below the cumulative ACK or inside the
 * second block. Only one that covers a retransmission of ours tells anything about our
 * recovery (Linux skips the others as "dubious" too): a duplicate the path made neither
 * undoes a reduction nor widens RACK's reordering window. */
static void dsack(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	struct tcp_sack_state *k = &c->sack;
	uint32_t n = rtx_dsacked(c, l, r);

	tcp__stat(c->e, TCP_STAT_DSACKS);
	if (n == 0) {
		tcp__stat(c->e, TCP_STAT_DSACKS_DUBIOUS);
		return;
	}
	k->rack.dsack_now = true;
	if (k->undo_armed && k->undo_retrans > 0) {
		k->undo_retrans = n >= k->undo_retrans ? 0 : k->undo_retrans - n;
		if (k->undo_retrans == 0) {
			/* Every retransmission of the episode reached the peer twice: the
			 * reduction was spurious (RFC 2883 §4.2 / RFC 3708). */
			tcp__stat(c->e, TCP_STAT_SPURIOUS_UNDO);
			undo_episode(c);
		}
	}
}

/* RACK (tcp_rack.c) wants what this ACK delivers for the first time: the unSACKed part of
 * [@p l, @p r). */
static void deliv_add(struct tcp_sack_state *k, uint32_t l, uint32_t r)
{
	struct tcp_rack *rk = &k->rack;
	unsigned i;

	for (i = 0; i < k->nsb && SEQ_LT(l, r); i++) {
		const struct tcp_sack_block *b = &k->sb[i];

		if (SEQ_LEQ(b->end, l))
			continue;
		if (SEQ_GEQ(b->start, r))
			break;
		if (SEQ_LT(l, b->start) && rk->ndeliv < TCP_RACK_DELIV)
			rk->deliv[rk->ndeliv++] = (struct tcp_sack_block){l, b->start};
		l = b->end;
	}
	if (SEQ_LT(l, r) && rk->ndeliv < TCP_RACK_DELIV)
		rk->deliv[rk->ndeliv++] = (struct tcp_sack_block){l, r};
}

bool tcp__sack_update(struct tcp_conn *c, const struct tcp_seg *s)
{
	struct tcp_sack_state *k = &c->sack;
	uint32_t before, ack = s->ack;
	unsigned i;

	k->rack.dsack_now = false;
	k->rack.ndeliv = 0;
	if (!(c->flags & TCPF_SACK_OK))
		return false;
	if (k->rack.on && SEQ_GT(ack, c->snd_una))
		deliv_add(k, c->snd_una, ack); /* cumulatively acknowledged */
	sb_trim(k, SEQ_MAX(ack, c->snd_una));
	sb_recount(k);
	before = k->sacked;
	for (i = 0; i < s->opt.nsack; i++) {
		uint32_t l = s->opt.sack[i][0], r = s->opt.sack[i][1];

		if (!SEQ_LT(l, r))
			continue;
		if (i == 0 &&
		    (SEQ_LEQ(r, ack) || (s->opt.nsack > 1 && SEQ_GEQ(l, s->opt.sack[1][0]) &&
					 SEQ_LEQ(r, s->opt.sack[1][1])))) {
			dsack(c, l, r);
			continue;
		}
		/* Only data we sent and that is not cumulatively acknowledged. */
		if (SEQ_LEQ(r, ack) || SEQ_GT(r, c->snd_max) || SEQ_LT(l, ack - (1u << 30)))
			continue;
		if (k->rack.on)
			deliv_add(k, SEQ_MAX(l, ack), r);
		sb_insert(k, SEQ_MAX(l, ack), r);
	}
	sb_recount(k);
	return k->sacked > before;
}

/* ---- sender: RFC 6675 §4 ----------------------------------------------------------------- */

/* Every unSACKed octet below the returned sequence is lost (IsLost): DupThresh SACKed ranges
 * or more than (DupThresh - 1) * SMSS SACKed bytes lie above it. snd_una if none is. */
static uint32_t lost_edge(const struct tcp_conn *c)
{
	const struct tcp_sack_state *k = &c->sack;
	uint32_t bytes = 0;
	int i;

	for (i = (int)k->nsb - 1; i >= 0; i--) {
		bytes += k->sb[i].end - k->sb[i].start;
		if (bytes > (TCP_DUPTHRESH - 1) * c->snd_mss ||
		    k->nsb - (unsigned)i >= TCP_DUPTHRESH)
			return k->sb[i].start;
	}
	return c->snd_una;
}

bool tcp__sack_is_lost(const struct tcp_conn *c, uint32_t seq)
{
	unsigned i;

	for (i = 0; i < c->sack.nsb; i++)
		if (SEQ_GEQ(seq, c->sack.sb[i].start) && SEQ_LT(seq, c->sack.sb[i].end))
			return false;
	return SEQ_LT(seq, lost_edge(c));
}

/* SACKed bytes in [a, b). */
static uint32_t sacked_in(const struct tcp_sack_state *k, uint32_t a, uint32_t b);

uint32_t tcp__sack_sacked_in(const struct tcp_conn *c, uint32_t a, uint32_t b)
{
	return sacked_in(&c->sack, a, b);
}

static uint32_t sacked_in(const struct tcp_sack_state *k, uint32_t a, uint32_t b)
{
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < k->nsb; i++) {
		uint32_t l = SEQ_MAX(a, k->sb[i].start), r = SEQ_MIN(b, k->sb[i].end);

		if (SEQ_LT(l, r))
			n += r - l;
	}
	return n;
}

static uint32_t clamp_seq(uint32_t x, uint32_t lo, uint32_t hi)
{
	return SEQ_LT(x, lo) ? lo : SEQ_GT(x, hi) ? hi : x;
}

uint32_t tcp__sack_pipe(const struct tcp_conn *c)
{
	const struct tcp_sack_state *k = &c->sack;
	uint32_t una = c->snd_una, max = c->snd_max;
	uint32_t le, hr, out, lost, rexmit;

	if (k->rack.on) {
		/* RACK: a lost octet leaves the pipe until it is sent again (its record is then
		 * no longer marked lost). */
		out = (max - una) - k->sacked;
		lost = tcp__rack_lost_bytes(c);
		return out > lost ? out - lost : 0;
	}
	le = clamp_seq(lost_edge(c), una, max);
	hr = k->recovery ? clamp_seq(k->high_rxt, una, max) : una;
	out = (max - una) - k->sacked;
	lost = (le - una) - sacked_in(k, una, le);
	rexmit = (hr - una) - sacked_in(k, una, hr);

	/* SetPipe(): each unSACKed octet counts once unless lost, once more if retransmitted. */
	return out - lost + rexmit;
}

/* The first unSACKed octet at or above seq, and where the SACKed data after it begins. */
static uint32_t first_hole(const struct tcp_conn *c, uint32_t seq, uint32_t *hole_end)
{
	const struct tcp_sack_state *k = &c->sack;
	unsigned i;

	*hole_end = c->snd_max;
	for (i = 0; i < k->nsb; i++) {
		if (SEQ_LEQ(k->sb[i].end, seq))
			continue;
		if (SEQ_LEQ(k->sb[i].start, seq)) {
			seq = k->sb[i].end;
			continue;
		}
		*hole_end = k->sb[i].start;
		break;
	}
	return seq;
}

/* Payload that fits a segment now: SACK blocks we report come out of the MSS. */
static uint32_t seg_room(struct tcp_conn *c)
{
	return c->snd_mss - tcp__sack_optlen(c);
}

/* NextSeg() rules 1 and 3: the next hole to retransmit, [*seq, *seq + *len). */
static bool next_seg(struct tcp_conn *c, bool rescue, uint32_t *seq, uint32_t *len)
{
	const struct tcp_sack_state *k = &c->sack;
	uint32_t h, end, mss = seg_room(c);

	if (k->rack.on) {
		/* RACK: what it marked lost, lowest first; no rescue (TLP does that job). */
		if (rescue || !tcp__rack_next_lost(c, seq, len))
			return false;
		*len = TCP_MIN(*len, mss);
		return true;
	}
	if (k->nsb == 0)
		return false;
	h = first_hole(c, SEQ_MAX(k->high_rxt, c->snd_una), &end);
	if (!SEQ_LT(h, c->snd_max))
		return false;
	if (!rescue && !SEQ_LT(h, lost_edge(c)))
		return false; /* rule 1 (1.c): IsLost */
	if (rescue && !SEQ_LT(h, k->sb[k->nsb - 1].end))
		return false; /* rule 3: SACKed data above it */
	*seq = h;
	*len = TCP_MIN(end - h, mss);
	return true;
}

/* The episode's first retransmission: remember its time for Eifel (RFC 3522). */
static void undo_stamp(struct tcp_conn *c, uint32_t seq)
{
	if (c->sack.undo_ts || !(c->flags & TCPF_TS_OK))
		return;
	c->sack.undo_ts = true;
	c->sack.undo_seq = seq;
	c->sack.undo_tsval = tcp__ts_now(c->e);
}

/* Retransmit [seq, seq + len): data from the send buffer, and our FIN if it lies there. */
static bool rexmit(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	uint32_t data_end = c->snd_buf_seq + c->sbuf_len, dlen;
	uint32_t room = c->snd_mss - tcp__sack_optlen(c);
	bool fin = false;

	/* Our own SACK blocks ride in this header too: the data shrinks so that the frame still
	 * fits the MTU (RFC 6691), as in tcp__output(). */
	if (len > room)
		len = room;
	dlen = len;
	if ((c->flags & TCPF_FIN_SENT) && SEQ_GEQ(c->fin_seq, seq) &&
	    SEQ_LT(c->fin_seq, seq + len)) {
		fin = true;
		dlen = c->fin_seq - seq;
	}
	if (SEQ_GT(seq + dlen, data_end))
		dlen = SEQ_GT(data_end, seq) ? data_end - seq : 0;
	if (SEQ_LT(seq, c->snd_buf_seq))
		return false; /* the SYN: never through here */
	if (dlen == 0 && !fin)
		return false;
	undo_stamp(c, seq);
	if (tcp__rexmit(c, seq, dlen, fin) < 0)
		return false;
	c->sack.high_rxt = seq + len;
	c->sack.undo_retrans++;
	c->total_retrans++;
	tcp__stat(c->e, TCP_STAT_RETRANS);
	if (!dp_timer_armed(&c->t_rexmt))
		tcp__rexmt_arm(c);
	return true;
}

bool tcp__sack_rexmit(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	return rexmit(c, seq, len);
}

static bool room_for_one(const struct tcp_conn *c)
{
	uint32_t pipe = tcp__sack_pipe(c);

	return c->cwnd > pipe && c->cwnd - pipe >= c->snd_mss;
}

/* RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg() picks. */
static void sack_send(struct tcp_conn *c)
{
	uint32_t seq, len;
	unsigned guard;

	for (guard = 0; guard < 1024 && room_for_one(c) && next_seg(c, false, &seq, &len); guard++)
		if (!rexmit(c, seq, len)) /* rule 1 */
			break;
	tcp__output(c);		     /* rule 2: new data, bounded by tcp__sack_usable() */
	if (tcp__sbuf_unsent(c) > 0 && c->snd_wnd > c->snd_max - c->snd_una)
		return; /* new data is waiting for cwnd, not for us */
	for (guard = 0; guard < 1024 && room_for_one(c) && next_seg(c, true, &seq, &len); guard++)
		if (!rexmit(c, seq, len)) /* rule 3 */
			break;
}

uint32_t tcp__sack_usable(const struct tcp_conn *c, uint32_t usable)
{
	uint32_t pipe, inflight, rwnd, cwnd;

	if (!c->sack.recovery && !c->sack.limited)
		return usable;
	pipe = tcp__sack_pipe(c);
	inflight = c->snd_nxt - c->snd_una;
	rwnd = c->snd_wnd > inflight ? c->snd_wnd - inflight : 0;
	cwnd = c->cwnd > pipe ? c->cwnd - pipe : 0;
	return TCP_MIN(rwnd, cwnd);
}

uint32_t tcp__sack_skip(struct tcp_conn *c)
{
	uint32_t end;

	if (c->sack.nsb > 0 && SEQ_LT(c->snd_nxt, c->snd_max) && !c->sack.recovery &&
	    SEQ_GEQ(c->snd_nxt, c->snd_una))
		c->snd_nxt = first_hole(c, c->snd_nxt, &end);
	return c->snd_nxt;
}

uint32_t tcp__sack_clamp(const struct tcp_conn *c, uint32_t len)
{
	uint32_t end;

	if (c->sack.nsb == 0 || !SEQ_LT(c->snd_nxt, c->snd_max))
		return len;
	(void)first_hole(c, c->snd_nxt, &end);
	return TCP_MIN(len, end - c->snd_nxt);
}

/* ---- recovery ---------------------------------------------------------------------------- */

bool tcp__is_dupack(const struct tcp_conn *c, const struct tcp_seg *s, bool newly_sacked)
{
	if (c->snd_max == c->snd_una)
		return false;
	/* RFC 6675 §2: with SACK, an ACK that SACKs new data. */
	if (c->flags & TCPF_SACK_OK)
		return newly_sacked;
	/* RFC 5681 §2: no data, no SYN/FIN, same window. */
	return s->len == 0 && !(s->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) &&
	       (s->wnd << c->snd_wscale) == c->snd_wnd;
}

static void episode_start(struct tcp_conn *c)
{
	c->sack.undo_armed = true;
	c->sack.undo_retrans = 0;
	c->sack.undo_ts = false;
	/* A probe retransmission still out will be D-SACKed too if it was not needed: count it,
	 * or that D-SACK would undo a reduction for a real loss (Linux's fix of the same). */
	if (c->sack.rack.tlp_on && c->sack.rack.tlp_retrans)
		c->sack.undo_retrans++;
}

/* RFC 5681 §3.2 steps 2-4 with RFC 6582's recovery point (no SACK). */
static void newreno_fast_retransmit(struct tcp_conn *c)
{
	uint32_t save = c->snd_nxt;

	tcp__cc_enter_recovery(c);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->rtt_timing = false;
	c->snd_nxt = c->snd_una;
	c->cwnd = c->snd_mss;
	tcp__stat(c->e, TCP_STAT_FAST_RETRANS);
	tcp__stat(c->e, TCP_STAT_RETRANS);
	c->total_retrans++;
	c->sack.undo_retrans++;
	undo_stamp(c, c->snd_una);
	tcp__output(c);
	c->snd_nxt = SEQ_MAX(save, c->snd_nxt);
	c->cwnd = c->ssthresh + TCP_DUPTHRESH * c->snd_mss;
}

/* RFC 6675 §5 step (4). */
static void sack_enter(struct tcp_conn *c)
{
	uint32_t end, len;

	tcp__cc_enter_recovery(c);
	c->recover = c->snd_max; /* RecoveryPoint = HighData */
	c->in_recovery = true;
	c->sack.recovery = true;
	c->rtt_timing = false;
	c->cwnd = c->ssthresh; /* (4.2) */
	tcp__stat(c->e, TCP_STAT_FAST_RETRANS);
	tcp__stat(c->e, TCP_STAT_SACK_RECOVERIES);
	/* (4.3): the segment at HighACK + 1, whatever pipe says. */
	(void)first_hole(c, c->snd_una, &end);
	len = TCP_MIN(end - c->snd_una, seg_room(c));
	c->sack.high_rxt = c->snd_una;
	if (len > 0)
		rexmit(c, c->snd_una, len);
	sack_send(c); /* (4.4) */
}

/* Fast recovery started by RACK: RFC 6675 §5 step (4) with what RACK marked lost. */
static void rack_enter(struct tcp_conn *c)
{
	uint32_t seq, len;

	tcp__cc_enter_recovery(c);
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->sack.recovery = true;
	c->rtt_timing = false;
	c->cwnd = c->ssthresh;
	c->sack.high_rxt = c->snd_una;
	tcp__stat(c->e, TCP_STAT_FAST_RETRANS);
	tcp__stat(c->e, TCP_STAT_SACK_RECOVERIES);
	if (dp_timer_armed(&c->t_rack) && c->sack.rack.timer_pto)
		dp_timer_cancel(c->e->w, &c->t_rack); /* no probe during recovery (§7.2) */
	/* The first lost segment whatever pipe says (4.3), then as cwnd - pipe allows. */
	if (tcp__rack_next_lost(c, &seq, &len))
		(void)rexmit(c, seq, TCP_MIN(len, seg_room(c)));
	sack_send(c);
}

void tcp__recovery_rack(struct tcp_conn *c, bool dupack)
{
	bool lost = tcp__rack_detect(c);

	if (c->in_recovery) {
		if (c->sack.recovery)
			sack_send(c);
		return;
	}
	/* RFC 6675 §5.1: no new recovery before RecoveryPoint (after a timeout either). */
	if (SEQ_LT(c->snd_una, c->recover))
		return;
	if (lost) {
		episode_start(c);
		rack_enter(c);
	} else if (dupack) {
		/* RFC 6675 §5 (3) / RFC 3042 Limited Transmit, as cwnd - pipe allows. */
		c->sack.limited = true;
		tcp__output(c);
		c->sack.limited = false;
	}
}

void tcp__recovery_dupack(struct tcp_conn *c)
{
	if (c->sack.rack.on) {
		c->dupacks++;
		tcp__recovery_rack(c, true);
		return;
	}
	if (c->in_recovery) {
		if (c->sack.recovery) {
			sack_send(c);
		} else {
			c->dupacks++;
			c->cwnd += c->snd_mss; /* RFC 5681 §3.2 step 5: inflate */
		}
		return;
	}
	c->dupacks++;
	/* RFC 6582 §3.2 step 2 / RFC 6675 §5.1: no new recovery before RecoveryPoint. */
	if (SEQ_LT(c->snd_una, c->recover))
		return;
	if (c->flags & TCPF_SACK_OK) {
		if (c->dupacks >= TCP_DUPTHRESH || tcp__sack_is_lost(c, c->snd_una)) {
			episode_start(c);
			sack_enter(c);
		} else {
			/* RFC 6675 §5 (3) / RFC 3042 Limited Transmit: new data, as cwnd - pipe
			 * allows, so that enough duplicates come back to show the loss. */
			c->sack.limited = true;
			tcp__output(c);
			c->sack.limited = false;
		}
	} else if (c->dupacks == TCP_DUPTHRESH) {
		episode_start(c);
		newreno_fast_retransmit(c);
	}
}

void tcp__recovery_ack(struct tcp_conn *c, uint32_t acked)
{
	c->dupacks = 0;
	if (!c->in_recovery) {
		tcp__cc_ack(c, acked);
		if (c->sack.rack.on)
			tcp__recovery_rack(c, false);
		return;
	}
	if (SEQ_GEQ(c->snd_una, c->recover)) {
		/* Full acknowledgment: recovery is over (RFC 6582 §3.2 step 3, RFC 6675 §5). */
		c->in_recovery = false;
		c->sack.recovery = false;
		tcp__cc_exit_recovery(c);
		if (c->sack.rack.on) {
			tcp__rack_recovery_done(c);
			tcp__recovery_rack(c, false); /* losses after RecoveryPoint */
		}
		return;
	}
	if (c->sack.rack.on) {
		/* RACK needs no inference from partial ACKs: time tells what is lost, lost
		 * retransmissions included. */
		tcp__recovery_rack(c, false);
		return;
	}
	if (c->sack.recovery) {
		uint32_t end;

		if (SEQ_LEQ(c->sack.high_rxt, c->snd_una)) {
			/* A partial ACK that stops at data not retransmitted yet: it was sent
			 * before the retransmission that just arrived, so it is lost too
			 * (RFC 6582's inference; RFC 6675 alone would wait for SACKs above it). */
			c->sack.high_rxt = c->snd_una;
			(void)first_hole(c, c->snd_una, &end);
			rexmit(c, c->snd_una, TCP_MIN(end - c->snd_una, seg_room(c)));
		}
		sack_send(c);
		return;
	}
	/* RFC 6582 §3.2 step 3, partial acknowledgment: retransmit the first unacknowledged
	 * segment, deflate by what was acknowledged, add back one SMSS if that was at least
	 * one. */
	{
		uint32_t save = c->snd_nxt, cwnd = c->cwnd;

		c->snd_nxt = c->snd_una;
		c->cwnd = c->snd_mss;
		tcp__stat(c->e, TCP_STAT_RETRANS);
		c->total_retrans++;
		c->sack.undo_retrans++;
		tcp__output(c);
		c->snd_nxt = SEQ_MAX(save, c->snd_nxt);
		cwnd = cwnd > acked ? cwnd - acked : 0;
		if (acked >= c->snd_mss)
			cwnd += c->snd_mss;
		c->cwnd = TCP_MAX(cwnd, (uint32_t)c->snd_mss);
	}
}

void tcp__recovery_rto(struct tcp_conn *c)
{
	if (c->retries <= 1) {
		episode_start(c);
		c->sack.undo_retrans = 1; /* the timeout retransmission itself */
		undo_stamp(c, c->snd_una);
	} else {
		c->sack.undo_armed = false; /* repeated timeouts: the path is really broken */
	}
	tcp__cc_rto(c, c->retries);
	c->dupacks = 0;
	c->in_recovery = false;
	c->sack.recovery = false;
	/* RFC 6582 §4 / RFC 6675 §5.1: no fast retransmit for what was sent before. */
	c->recover = c->snd_max;
	/* RFC 2018 §8: the receiver may have reneged; forget what it SACKed. */
	sb_clear(&c->sack);
	c->sack.high_rxt = c->snd_una;
	tcp__rack_rto(c);
}

void tcp__sack_ack_done(struct tcp_conn *c, const struct tcp_seg *s)
{
	struct tcp_sack_state *k = &c->sack;

	/* Eifel detection (RFC 3522): the ACK that covers the episode's first retransmission
	 * echoes a timestamp older than that retransmission, so the original got there first
	 * (RFC 7323 §4.3: a hole is answered with the TSval of the segment that filled it). No
	 * D-SACK needed: the response is RFC 4015's, back to where we were. */
	if (!k->undo_ts || !SEQ_GT(s->ack, k->undo_seq))
		return;
	k->undo_ts = false; /* only the first ACK that covers it tells */
	if (!k->undo_armed || !(c->flags & TCPF_TS_OK) || !s->opt.ts_ok || s->opt.tsecr == 0 ||
	    !SEQ_LT(s->opt.tsecr, k->undo_tsval))
		return;
	tcp__stat(c->e, TCP_STAT_SPURIOUS_UNDO_TS);
	undo_episode(c);
	if (k->rack.on) {
		/* What looked lost was only late: widen the window as a D-SACK would, and to
		 * what this original needed (sent at TSval tsecr; the TS clock counts ms). */
		uint32_t ago_ms = tcp__ts_now(c->e) - s->opt.tsecr;

		tcp__rack_spurious(c);
		if (ago_ms < 60000u && ago_ms * 1000u > k->rack.rtt_us)
			tcp__rack_late(c, ago_ms * 1000u - k->rack.rtt_us);
	}
}
