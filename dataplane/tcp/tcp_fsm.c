/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The TCP state machine (RFC 9293 §3.3.2, §3.10.7) as data where it helps:
 *  - one tcp__set_state() that counts and traces every transition;
 *  - a [state][event] table choosing the handler of an arriving segment, the event being
 *    its control bits (RST, SYN, SYN+ACK, ACK, none);
 *  - next-state tables for the three arcs every close path shares: the peer's FIN arrives,
 *    our FIN is acknowledged, the application closes (CL-1..CL-4).
 */
#include <errno.h>

#include <rte_log.h>

#include "tcp_priv.h"

RTE_LOG_REGISTER_SUFFIX(tcp_logtype, tcp, NOTICE);

#define TCP_X_NAME(e, name) [TCPS_##e] = name,
static const char *const state_names[TCP_NSTATES] = {TCP_STATE_LIST(TCP_X_NAME)};
#undef TCP_X_NAME

const char *tcp__state_name(enum tcp_state s)
{
	return (unsigned)s < TCP_NSTATES ? state_names[s] : "?";
}

void tcp__set_state(struct tcp_conn *c, enum tcp_state s)
{
	rte_log(RTE_LOG_DEBUG, tcp_logtype, "tcp: conn %" PRIx64 " %s -> %s\n", c->id,
		tcp__state_name(c->state), tcp__state_name(s));
	c->e->state_enter[s]++;
	c->state = s;
	/* Our FIN is acknowledged: nothing will be sent again, the send ring goes back (a
	 * TIME_WAIT block holds no send buffer). */
	if ((s == TCPS_FIN_WAIT_2 || s == TCPS_TIME_WAIT) && c->sbuf_len == 0)
		tcp__sbuf_free(c);
}

/* ---- next-state tables ------------------------------------------------------------------- */

/* RFC 9293 §3.10.7.4 eighth step: the peer's FIN, in sequence. TCP_NSTATES = not applicable. */
static const enum tcp_state fin_next[TCP_NSTATES] = {
	[TCPS_CLOSED] = TCPS_NONE,
	[TCPS_LISTEN] = TCPS_NONE,
	[TCPS_SYN_SENT] = TCPS_NONE,
	[TCPS_SYN_RECEIVED] = TCPS_CLOSE_WAIT,
	[TCPS_ESTABLISHED] = TCPS_CLOSE_WAIT,
	[TCPS_FIN_WAIT_1] = TCPS_CLOSING, /* our FIN not yet acked; if acked we are in FW2 */
	[TCPS_FIN_WAIT_2] = TCPS_TIME_WAIT,
	[TCPS_CLOSE_WAIT] = TCPS_CLOSE_WAIT,
	[TCPS_CLOSING] = TCPS_CLOSING,
	[TCPS_LAST_ACK] = TCPS_LAST_ACK,
	[TCPS_TIME_WAIT] = TCPS_TIME_WAIT,
};

/* Fifth step: what the ACK of our FIN does (CL-2, CL-3). */
static const enum tcp_state finacked_next[TCP_NSTATES] = {
	[TCPS_CLOSED] = TCPS_NONE,
	[TCPS_LISTEN] = TCPS_NONE,
	[TCPS_SYN_SENT] = TCPS_NONE,
	[TCPS_SYN_RECEIVED] = TCPS_NONE,
	[TCPS_ESTABLISHED] = TCPS_NONE,
	[TCPS_FIN_WAIT_1] = TCPS_FIN_WAIT_2,
	[TCPS_FIN_WAIT_2] = TCPS_NONE,
	[TCPS_CLOSE_WAIT] = TCPS_NONE,
	[TCPS_CLOSING] = TCPS_TIME_WAIT,
	[TCPS_LAST_ACK] = TCPS_CLOSED,
	[TCPS_TIME_WAIT] = TCPS_NONE,
};

/* RFC 9293 §3.10.4 CLOSE call / shutdown(SHUT_WR): where sending a FIN takes us (CL-1, CL-3). */
static const enum tcp_state usrclosed_next[TCP_NSTATES] = {
	[TCPS_CLOSED] = TCPS_CLOSED,
	[TCPS_LISTEN] = TCPS_CLOSED,
	[TCPS_SYN_SENT] = TCPS_CLOSED,
	[TCPS_SYN_RECEIVED] = TCPS_FIN_WAIT_1,
	[TCPS_ESTABLISHED] = TCPS_FIN_WAIT_1,
	[TCPS_FIN_WAIT_1] = TCPS_FIN_WAIT_1, /* CL-6: no second FIN */
	[TCPS_FIN_WAIT_2] = TCPS_FIN_WAIT_2,
	[TCPS_CLOSE_WAIT] = TCPS_LAST_ACK,
	[TCPS_CLOSING] = TCPS_CLOSING,
	[TCPS_LAST_ACK] = TCPS_LAST_ACK,
	[TCPS_TIME_WAIT] = TCPS_TIME_WAIT,
};

enum tcp_state tcp__usrclosed_next(enum tcp_state s)
{
	return usrclosed_next[s];
}

/* ---- shared pieces ----------------------------------------------------------------------- */

static void established(struct tcp_conn *c)
{
	c->flags |= TCPF_WAS_CONN;
	c->flags &= ~TCPF_CONNECTING;
	tcp__stat(c->e, TCP_STAT_CONN_ESTAB);
	tcp__emit_open(c);
	c->last_rcv_ns = c->e->w->now_ns;
	tcp__keep_arm(c);
}

static void enter_time_wait(struct tcp_conn *c)
{
	tcp__set_state(c, TCPS_TIME_WAIT);
	c->flags |= TCPF_ACK_NOW;
	tcp__tw_arm(c);
	tcp__wakeup(c);
}

static bool our_fin_acked(const struct tcp_conn *c)
{
	return (c->flags & TCPF_FIN_SENT) && SEQ_GT(c->snd_una, c->fin_seq);
}

/* RFC 9293 §3.10.7.4 second step: an accepted RST (RA-3, table E). */
static void rst_accepted(struct tcp_conn *c)
{
	struct tcp_engine *e = c->e;

	tcp__stat(e, TCP_STAT_RST_IN);
	switch (c->state) {
	case TCPS_SYN_RECEIVED:
		if (c->flags & TCPF_PASSIVE) {
			/* Back to LISTEN: the app never sees it. */
			tcp__closed(c, DP_CLOSE_RESET_IN);
			return;
		}
		c->flags |= TCPF_CONN_FAILED;
		tcp__drop_conn(c, ECONNREFUSED, DP_CLOSE_REFUSED);
		return;
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
		tcp__drop_conn(c, ECONNRESET, DP_CLOSE_RESET_IN);
		return;
	case TCPS_CLOSE_WAIT:
		/* F-2 / D-4: the FIN is already in the stream: EPIPE for the writer only. */
		tcp__stat(e, TCP_STAT_RST_CLOSE_WAIT);
		tcp__drop_conn(c, EPIPE, DP_CLOSE_RESET_IN);
		return;
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		tcp__stat(e, TCP_STAT_RST_CLOSING);
		tcp__drop_conn(c, ECONNRESET, DP_CLOSE_RESET_IN);
		return;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_TIME_WAIT:
		return; /* handled by their own handlers */
	}
}

/* ---- handlers ---------------------------------------------------------------------------- */

typedef void (*tcp_seg_fn)(struct tcp_conn *c, struct tcp_seg *s);

enum tcp_ev { TCP_EV_RST, TCP_EV_SYN, TCP_EV_SYNACK, TCP_EV_ACK, TCP_EV_NONE, TCP_EV_MAX };

static enum tcp_ev classify(const struct tcp_seg *s)
{
	if (s->flags & TCP_FLAG_RST)
		return TCP_EV_RST;
	if (s->flags & TCP_FLAG_SYN)
		return (s->flags & TCP_FLAG_ACK) ? TCP_EV_SYNACK : TCP_EV_SYN;
	if (s->flags & TCP_FLAG_ACK)
		return TCP_EV_ACK;
	return TCP_EV_NONE;
}

static void h_closed(struct tcp_conn *c, struct tcp_seg *s)
{
	/* A block that is not in the table gets no segments; be safe anyway (RST-4). */
	tcp__reply_rst(c->e, s);
	tcp__drop_seg(c->e, s, TCP_DROP_CLOSED_CONN);
}

static void h_listen(struct tcp_conn *c, struct tcp_seg *s)
{
	tcp__listen_input(c, s);
}

/* RFC 9293 §3.10.7.3 first check, RST-4: SEG.ACK =< ISS or > SND.NXT is unacceptable. */
static bool synsent_ack_ok(const struct tcp_conn *c, const struct tcp_seg *s)
{
	return SEQ_GT(s->ack, c->iss) && SEQ_LEQ(s->ack, c->snd_max);
}

static void h_synsent_rst(struct tcp_conn *c, struct tcp_seg *s)
{
	/* RA-1: only RST|ACK with an acceptable ACK counts; a bare RST is dropped. */
	if (!(s->flags & TCP_FLAG_ACK) || !synsent_ack_ok(c, s)) {
		tcp__drop_seg(c->e, s, TCP_DROP_SYN_SENT_RST);
		return;
	}
	tcp__stat(c->e, TCP_STAT_RST_IN);
	c->flags |= TCPF_CONN_FAILED;
	tcp__drop_conn(c, ECONNREFUSED, DP_CLOSE_REFUSED);
}

static void h_synsent_ack(struct tcp_conn *c, struct tcp_seg *s)
{
	if (!synsent_ack_ok(c, s)) {
		tcp__reply_rst(c->e, s);
		tcp__drop_seg(c->e, s, TCP_DROP_SYN_SENT_BAD_ACK);
		return;
	}
	tcp__drop_seg(c->e, s, TCP_DROP_SYN_SENT_NOSYN);
}

static void h_synsent_none(struct tcp_conn *c, struct tcp_seg *s)
{
	tcp__drop_seg(c->e, s, TCP_DROP_SYN_SENT_NOSYN);
}

/* RFC 9293 §3.10.7.3 fourth check: SYN (with our SYN acked: ESTABLISHED; without:
 * simultaneous open, SYN_RECEIVED). */
static void h_synsent_syn(struct tcp_conn *c, struct tcp_seg *s)
{
	struct tcp_engine *e = c->e;

	if ((s->flags & TCP_FLAG_ACK) && !synsent_ack_ok(c, s)) {
		h_synsent_ack(c, s);
		return;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->ts_last_seq = s->seq;
	tcp__negotiate(c, &s->opt);
	c->snd_wnd = s->wnd; /* unscaled in a SYN */
	c->max_sndwnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	if (s->len > 0)
		tcp__drop_seg(e, s, TCP_DROP_DUP); /* data on a SYN: retransmitted later */
	if (s->flags & TCP_FLAG_ACK) {
		c->snd_una = s->ack;
		if (SEQ_LT(c->snd_nxt, c->snd_una))
			c->snd_nxt = c->snd_una;
		dp_timer_cancel(e->w, &c->t_rexmt);
		c->retries = 0;
		c->rexmit_start_ns = 0;
		if (c->rtt_timing) {
			/* The SYN was not retransmitted (Karn): its RTT is a sample. */
			c->rtt_timing = false;
			tcp__rtt_sample(c, (uint32_t)((e->w->now_ns - c->rtt_start_ns) / 1000u));
		}
		tcp__set_state(c, TCPS_ESTABLISHED);
		established(c);
		tcp__ack_after_app(c); /* rides on the request the application sends next */
		tcp__output(c); /* any data queued meanwhile (with the ACK) */
		tcp__wakeup(c); /* POLL-6: connect done, writable */
		return;
	}
	/* Simultaneous open: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
	tcp__set_state(c, TCPS_SYN_RECEIVED);
	c->snd_nxt = c->iss;
	tcp__output(c);
}

/* RFC 9293 §3.10.7.4 / RFC 7323 §5.3 R1: an unacceptable segment is answered with
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. One that carries no data (a stale or reordered ACK) is
 * answered only within the per-connection budget it shares with challenge ACKs: two stacks that
 * each find the other's ACKs unacceptable would otherwise answer each other forever, and under
 * heavy reordering every overtaken ACK would cost an ACK back (Linux tcp_oow_rate_limited). */
static void answer_unacceptable(struct tcp_conn *c, uint32_t seglen)
{
	if (seglen == 0 && !tcp__challenge_allowed(c)) {
		tcp__stat(c->e, TCP_STAT_OOW_ACKS_LIMITED);
		return;
	}
	c->flags |= TCPF_ACK_NOW;
	tcp__send_ack(c);
}

/*
 * First step for synchronized states: sequence acceptability (RFC 9293 §3.10.7.4 table)
 * and trimming to the window. Returns false when the segment was consumed.
 */
static bool seq_check(struct tcp_conn *c, struct tcp_seg *s)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t seglen = tcp_seg_seqlen(s);
	bool ok;

	if (seglen == 0)
		ok = wnd == 0 ? s->seq == c->rcv_nxt
			      : SEQ_GEQ(s->seq, c->rcv_nxt) && SEQ_LT(s->seq, c->rcv_nxt + wnd);
	else if (wnd == 0)
		ok = false;
	else
		ok = (SEQ_GEQ(s->seq, c->rcv_nxt) && SEQ_LT(s->seq, c->rcv_nxt + wnd)) ||
		     (SEQ_GEQ(s->seq + seglen - 1, c->rcv_nxt) &&
		      SEQ_LT(s->seq + seglen - 1, c->rcv_nxt + wnd));
	/* A segment starting right at the window's edge is taken as Linux's tcp_sequence() does
	 * (SEG.SEQ <= RCV.NXT + RCV.WND): it is what a peer that probed us sends its ACKs with
	 * (tcp_acceptable_seq), and a zero window still takes what starts at RCV.NXT: "special
	 * allowance should be made to accept valid ACKs" (RFC 9293 §3.10.7.4). Bytes beyond the
	 * window are trimmed below and answered; the acknowledgement counts. */
	if (!ok && s->seq == c->rcv_nxt + wnd)
		ok = true;
	if (!ok) {
		bool dup = SEQ_LEQ(s->seq + seglen, c->rcv_nxt);

		/* RFC 9293: send <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and drop (RST-4: an ACK,
		 * never a RST, in synchronized states), within answer_unacceptable()'s budget. */
		if (dup && s->len > 0) {
			/* Every byte already received: D-SACK it (RFC 2883 §4). */
			uint32_t d = s->seq + !!(s->flags & TCP_FLAG_SYN);

			tcp__sack_rcv_dup(c, d, d + s->len);
		}
		answer_unacceptable(c, seglen);
		tcp__drop_seg(c->e, s, dup && seglen > 0 ? TCP_DROP_DUP : TCP_DROP_OUT_OF_WINDOW);
		return false;
	}
	/* Trim what was already received (a duplicate SYN first). */
	if (SEQ_LT(s->seq, c->rcv_nxt)) {
		uint32_t cut = c->rcv_nxt - s->seq;

		if (s->flags & TCP_FLAG_SYN) {
			s->flags &= (uint8_t)~TCP_FLAG_SYN;
			s->seq++;
			cut--;
		}
		if (cut >= s->len) {
			if (cut > s->len && (s->flags & TCP_FLAG_FIN))
				s->flags &= (uint8_t)~TCP_FLAG_FIN; /* FIN already seen */
			cut = TCP_MIN(cut, s->len);
		}
		tcp__sack_rcv_dup(c, s->seq, s->seq + cut); /* partial duplicate (RFC 2883) */
		if (cut > 0 && s->m != NULL) {
			rte_pktmbuf_adj(s->m, (uint16_t)cut);
			s->len -= cut;
			s->seq += cut;
		}
		c->flags |= TCPF_ACK_NOW; /* the peer retransmitted: ACK at once */
	}
	/* Trim what lies beyond the window (and a FIN there). */
	if (SEQ_GT(s->seq + s->len, c->rcv_nxt + wnd)) {
		uint32_t keep = SEQ_GT(c->rcv_nxt + wnd, s->seq) ? c->rcv_nxt + wnd - s->seq : 0;

		if (s->m != NULL && keep < s->len)
			rte_pktmbuf_trim(s->m, (uint16_t)(s->len - keep));
		s->len = keep;
		s->flags &= (uint8_t)~TCP_FLAG_FIN;
		c->flags |= TCPF_ACK_NOW;
	}
	return true;
}

/* RA-2: RST in a synchronized state. */
static void sync_rst(struct tcp_conn *c, struct tcp_seg *s)
{
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	if (s->seq == c->rcv_nxt) {
		tcp__seg_free(s); /* RA-7: a RST may carry data; it is ignored */
		rst_accepted(c);
		return;
	}
	if (wnd > 0 && SEQ_GT(s->seq, c->rcv_nxt) && SEQ_LT(s->seq, c->rcv_nxt + wnd)) {
		tcp__send_challenge_ack(c);
		tcp__drop_seg(c->e, s, TCP_DROP_RST_CHALLENGED);
		return;
	}
	tcp__drop_seg(c->e, s, TCP_DROP_RST_OUT_OF_WINDOW);
}

/* PAWS tolerance in timestamp ticks (1 ms), as Linux's TCP_PAWS_WINDOW. */
#define TCP_PAWS_WINDOW 1

/* A reordered duplicate ACK is not a replay (Linux's tcp_disordered_ack): a pure ACK at
 * RCV.NXT that acknowledges nothing new, leaves the window as it is and is older than TS.Recent
 * by less than one RTO. Under reordering, the peer's ACKs overtake each other; dropping them
 * by PAWS would drop their SACK blocks, which loss recovery needs. */
static bool disordered_ack(const struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t rto_ms = c->rto_us / 1000u;

	return (s->flags & (TCP_FLAG_ACK | TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)) ==
		       TCP_FLAG_ACK &&
	       s->len == 0 && s->seq == c->rcv_nxt && s->ack == c->snd_una &&
	       (s->wnd << c->snd_wscale) == c->snd_wnd &&
	       (int32_t)(c->ts_recent - s->opt.tsval) <= (int32_t)TCP_MAX(rto_ms, 1u);
}

/* RFC 7323 §5.3 R1-R3 (PAWS) and §3.2 (no TSopt). Returns false when consumed. A TSval one
 * tick older than TS.Recent still passes (Linux's TCP_PAWS_WINDOW): with a 1 ms clock the
 * peer's segments sent within one tick are not ordered by their timestamps. */
static bool paws_check(struct tcp_conn *c, struct tcp_seg *s)
{
	if (!(c->flags & TCPF_TS_OK))
		return true;
	if (!s->opt.ts_ok) {
		tcp__drop_seg(c->e, s, TCP_DROP_NO_TS);
		return false;
	}
	if ((int32_t)(c->ts_recent - s->opt.tsval) > TCP_PAWS_WINDOW &&
	    c->e->w->now_ns - c->ts_recent_ns < 24ull * 86400 * 1000000000ull &&
	    !disordered_ack(c, s)) {
		tcp__stat(c->e, TCP_STAT_PAWS_DROPS);
		answer_unacceptable(c, tcp_seg_seqlen(s));
		tcp__drop_seg(c->e, s, TCP_DROP_PAWS);
		return false;
	}
	return true;
}

static void ts_update(struct tcp_conn *c, const struct tcp_seg *s)
{
	/* RFC 7323 §4.3: TS.Recent from a segment covering Last.ACK.sent. */
	if ((c->flags & TCPF_TS_OK) && s->opt.ts_ok && SEQ_LEQ(s->seq, c->last_ack_sent) &&
	    SEQ_GEQ(s->opt.tsval, c->ts_recent)) {
		c->ts_recent = s->opt.tsval;
		c->ts_recent_ns = c->e->w->now_ns;
	}
	if (SEQ_GT(s->seq, c->ts_last_seq))
		c->ts_last_seq = s->seq;
}

/* SYN_RECEIVED + acceptable ACK: the handshake completes (RFC 9293 §3.10.7.4 fifth step). */
static bool synrcvd_ack(struct tcp_conn *c, struct tcp_seg *s)
{
	struct tcp_conn *l = c->parent;

	if (!(SEQ_GT(s->ack, c->snd_una) && SEQ_LEQ(s->ack, c->snd_max))) {
		tcp__reply_rst(c->e, s); /* RST-4: <SEQ=SEG.ACK><CTL=RST> */
		tcp__drop_seg(c->e, s, TCP_DROP_SYN_RCVD_BAD_ACK);
		return false;
	}
	c->snd_wnd = s->wnd << c->snd_wscale;
	c->max_sndwnd = TCP_MAX(c->max_sndwnd, c->snd_wnd);
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	tcp__set_state(c, TCPS_ESTABLISHED);
	established(c);
	if (l != NULL) {
		TAILQ_REMOVE(&l->synq, c, qlink);
		l->synq_len--;
		TAILQ_INSERT_TAIL(&l->acceptq, c, qlink);
		l->acceptq_len++;
		c->flags |= TCPF_IN_ACCEPTQ;
		tcp__wakeup(l);
	} else {
		tcp__wakeup(c); /* simultaneous open: connect done */
	}
	return true;
}

static void sync_seg(struct tcp_conn *c, struct tcp_seg *s)
{
	struct tcp_engine *e = c->e;
	enum tcp_state next;
	bool in_order = false;

	/* RA-8: RSTs are checked before PAWS. */
	if (s->flags & TCP_FLAG_RST) {
		sync_rst(c, s);
		return;
	}
	/* A retransmitted SYN in SYN_RECEIVED: our SYN,ACK was lost; send it again. */
	if (c->state == TCPS_SYN_RECEIVED && (s->flags & TCP_FLAG_SYN) &&
	    !(s->flags & TCP_FLAG_ACK) && s->seq == c->irs) {
		c->snd_nxt = c->iss;
		tcp__output(c);
		tcp__drop_seg(e, s, TCP_DROP_DUP);
		return;
	}
	/* Simultaneous open (RFC 9293 Figure 8, line 7): the peer's SYN,ACK repeats the SYN we
	 * already took; treat it as the ACK it is (Linux does the same). */
	if (c->state == TCPS_SYN_RECEIVED && !(c->flags & TCPF_PASSIVE) &&
	    (s->flags & TCP_FLAG_SYN) && (s->flags & TCP_FLAG_ACK) && s->len == 0 &&
	    s->seq + 1 == c->rcv_nxt && s->ack == c->snd_max) {
		s->flags &= (uint8_t)~TCP_FLAG_SYN;
		s->seq++;
	}
	if (!paws_check(c, s))
		return;
	/* RA-4: a SYN in a synchronized state is answered by a challenge ACK, whatever its
	 * sequence number (RFC 5961 §4.2). */
	if (s->flags & TCP_FLAG_SYN) {
		tcp__send_challenge_ack(c);
		tcp__drop_seg(e, s, TCP_DROP_SYN_CHALLENGED);
		return;
	}
	if (!seq_check(c, s))
		return;
	ts_update(c, s);
	if (!(s->flags & TCP_FLAG_ACK)) {
		tcp__drop_seg(e, s, TCP_DROP_NO_ACK);
		return;
	}
	/* Fifth step: the ACK field. */
	if (c->state == TCPS_SYN_RECEIVED && !synrcvd_ack(c, s))
		return;
	if (!tcp__ack_acceptable(c, s->ack)) {
		/* RA-5: discard and send an ACK. */
		if (tcp__challenge_allowed(c)) {
			c->flags |= TCPF_ACK_NOW;
			tcp__send_ack(c);
		}
		tcp__drop_seg(e, s, TCP_DROP_BAD_ACK);
		return;
	}
	tcp__process_ack(c, s);
	if (our_fin_acked(c) && finacked_next[c->state] != TCPS_NONE) {
		next = finacked_next[c->state];
		c->flags &= ~TCPF_FIN_QUEUED;
		dp_timer_cancel(e->w, &c->t_rexmt);
		switch (next) {
		case TCPS_FIN_WAIT_2:
			tcp__set_state(c, TCPS_FIN_WAIT_2);
			dp_timer_cancel(e->w, &c->t_close); /* the linger bound is met */
			/* CL-9: only an orphan is timed out in FIN_WAIT_2. */
			if (c->flags & TCPF_ORPHAN)
				tcp__close_timer_arm(c, (uint64_t)e->w->stack->tun.tcp_fin_timeout_ms *
								1000000ull);
			tcp__wakeup(c);
			break;
		case TCPS_TIME_WAIT:
			enter_time_wait(c);
			break;
		case TCPS_CLOSED:
			/* CL-3: the passive closer deletes the TCB, no TIME_WAIT. */
			tcp__seg_free(s);
			tcp__closed(c, DP_CLOSE_NORMAL);
			return;
		case TCPS_LISTEN:
		case TCPS_SYN_SENT:
		case TCPS_SYN_RECEIVED:
		case TCPS_ESTABLISHED:
		case TCPS_FIN_WAIT_1:
		case TCPS_CLOSE_WAIT:
		case TCPS_CLOSING:
		case TCPS_LAST_ACK:
			break;
		}
	}
	if (c->state == TCPS_TIME_WAIT) {
		tcp__output(c);
		return;
	}
	/* Seventh step: the text. */
	switch (c->state) {
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
		if (s->len > 0 && (c->flags & TCPF_ORPHAN)) {
			/* RST-2: new data and nobody left to read it. */
			tcp__send_rst(c);
			tcp__drop_seg(e, s, TCP_DROP_ORPHAN_DATA);
			tcp__closed(c, DP_CLOSE_RESET_OUT);
			return;
		}
		in_order = tcp__text(c, s);
		break;
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		if (s->len > 0)
			tcp__drop_seg(e, s, TCP_DROP_AFTER_FIN); /* CL-5 */
		in_order = false;
		s->flags &= (uint8_t)~TCP_FLAG_FIN;
		if (s->seq + tcp_seg_seqlen(s) != c->rcv_nxt)
			c->flags |= TCPF_ACK_NOW;
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_TIME_WAIT:
		in_order = false;
		break;
	}
	/* Eighth step: FIN. Only an in-order FIN counts (an out-of-order one is resent). */
	if ((s->flags & TCP_FLAG_FIN) && in_order && s->seq + s->len == c->rcv_nxt) {
		c->rcv_nxt++;
		c->flags |= TCPF_PEER_FIN;
		c->shut |= TCP_RCV_SHUT;
		next = fin_next[c->state];
		/* CLOSE_WAIT: the application reads EOF and closes next; our FIN carries the ACK. */
		if (next == TCPS_CLOSE_WAIT)
			tcp__ack_after_app(c);
		else
			c->flags |= TCPF_ACK_NOW;
		if (c->state == TCPS_FIN_WAIT_1 && our_fin_acked(c))
			next = TCPS_TIME_WAIT;
		if (next == TCPS_TIME_WAIT) {
			dp_timer_cancel(e->w, &c->t_close);
			enter_time_wait(c);
		} else if (next != TCPS_NONE && next != c->state) {
			tcp__set_state(c, next);
		}
		tcp__wakeup(c);
	}
	if (c->state != TCPS_CLOSED)
		tcp__output(c);
}

/*
 * TIME_WAIT (TW-1..TW-4): RSTs are ignored (RFC 1337) unless tcp_rfc1337_off; a SYN may
 * reopen the tuple per RFC 6191; anything else is acknowledged, a retransmitted FIN restarts
 * 2*MSL (CL-8).
 */
static bool tw_syn_acceptable(const struct tcp_conn *c, const struct tcp_seg *s)
{
	if (c->flags & TCPF_TS_OK) {
		if (s->opt.ts_ok) {
			if (SEQ_GT(s->opt.tsval, c->ts_recent))
				return true;
			return s->opt.tsval == c->ts_recent && SEQ_GT(s->seq, c->rcv_nxt);
		}
		return SEQ_GT(s->seq, c->rcv_nxt);
	}
	return s->opt.ts_ok || SEQ_GT(s->seq, c->rcv_nxt);
}

static void h_time_wait(struct tcp_conn *c, struct tcp_seg *s)
{
	struct tcp_engine *e = c->e;

	if (s->flags & TCP_FLAG_RST) {
		if (e->w->stack->tun.tcp_rfc1337_off && s->seq == c->rcv_nxt) {
			tcp__stat(e, TCP_STAT_RST_IN);
			tcp__seg_free(s);
			tcp__closed(c, DP_CLOSE_NORMAL);
			return;
		}
		tcp__drop_seg(e, s, TCP_DROP_TW_RST);
		return;
	}
	if ((s->flags & TCP_FLAG_SYN) && !(s->flags & TCP_FLAG_ACK)) {
		struct tcp_conn *l = tcp__listener_lookup(e, s->daddr, s->dport);
		uint32_t iss = c->snd_max + TCP_TW_ISS_GAP;

		if (!tw_syn_acceptable(c, s) || l == NULL) {
			tcp__drop_seg(e, s, TCP_DROP_TW_SYN);
			return;
		}
		tcp__stat(e, TCP_STAT_TW_REUSED);
		tcp__closed(c, DP_CLOSE_NORMAL);
		if (iss == 0)
			iss = 1;
		tcp__listen_syn_iss(l, s, iss);
		return;
	}
	if ((c->flags & TCPF_TS_OK) && !s->opt.ts_ok) {
		tcp__drop_seg(e, s, TCP_DROP_NO_TS); /* TW-4 */
		return;
	}
	if ((s->flags & TCP_FLAG_FIN) && s->seq + s->len + 1 == c->rcv_nxt)
		tcp__tw_arm(c); /* CL-8: the peer's FIN again: restart 2*MSL */
	if (tcp__challenge_allowed(c)) {
		tcp__stat(e, TCP_STAT_TW_ACKS);
		tcp__send_ack(c);
	}
	tcp__drop_seg(e, s, TCP_DROP_TW_SEG);
}

static const tcp_seg_fn dispatch[TCP_NSTATES][TCP_EV_MAX] = {
	[TCPS_CLOSED] = {h_closed, h_closed, h_closed, h_closed, h_closed},
	[TCPS_LISTEN] = {h_listen, h_listen, h_listen, h_listen, h_listen},
	[TCPS_SYN_SENT] = {[TCP_EV_RST] = h_synsent_rst,
			   [TCP_EV_SYN] = h_synsent_syn,
			   [TCP_EV_SYNACK] = h_synsent_syn,
			   [TCP_EV_ACK] = h_synsent_ack,
			   [TCP_EV_NONE] = h_synsent_none},
	[TCPS_SYN_RECEIVED] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_ESTABLISHED] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_FIN_WAIT_1] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_FIN_WAIT_2] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_CLOSE_WAIT] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_CLOSING] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_LAST_ACK] = {sync_seg, sync_seg, sync_seg, sync_seg, sync_seg},
	[TCPS_TIME_WAIT] = {h_time_wait, h_time_wait, h_time_wait, h_time_wait, h_time_wait},
};

void tcp__segment(struct tcp_conn *c, struct tcp_seg *s)
{
	dispatch[c->state][classify(s)](c, s);
}
