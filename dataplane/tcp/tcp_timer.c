/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-connection timers on the worker's wheel (w->now_ns, so tests use a virtual clock):
 *  - t_rexmt: retransmission (RFC 6298) or, with nothing in flight and a zero window, the
 *    persist timer (RFC 9293 §3.8.6.1);
 *  - t_delack: delayed ACK (RFC 9293 §3.8.6.3, RFC 5681 §4.2);
 *  - t_keep: keepalive (RFC 9293 §3.8.4, RST-6);
 *  - t_close: TIME_WAIT 2*MSL (CL-8), orphaned FIN_WAIT_2 (CL-9), SO_LINGER bound (LNG-5).
 */
#include <errno.h>

#include "tcp_priv.h"

#define US 1000ull
#define MS 1000000ull
#define SEC 1000000000ull

static void rexmt_fire(struct dp_worker *w, struct dp_timer *t);
static void delack_fire(struct dp_worker *w, struct dp_timer *t);
static void keep_fire(struct dp_worker *w, struct dp_timer *t);
static void close_fire(struct dp_worker *w, struct dp_timer *t);

void tcp__timers_init(struct tcp_conn *c)
{
	dp_timer_init(&c->t_rexmt, rexmt_fire);
	dp_timer_init(&c->t_delack, delack_fire);
	dp_timer_init(&c->t_keep, keep_fire);
	dp_timer_init(&c->t_close, close_fire);
	dp_timer_init(&c->t_rack, tcp__rack_timer_fire);
}

void tcp__timers_cancel(struct tcp_conn *c)
{
	struct dp_worker *w = c->e->w;

	dp_timer_cancel(w, &c->t_rexmt);
	dp_timer_cancel(w, &c->t_delack);
	dp_timer_cancel(w, &c->t_keep);
	dp_timer_cancel(w, &c->t_close);
	dp_timer_cancel(w, &c->t_rack);
	c->flags &= ~(TCPF_PERSIST | TCPF_DELACK);
}

void tcp__rexmt_arm(struct tcp_conn *c)
{
	c->flags &= ~TCPF_PERSIST;
	dp_timer_arm(c->e->w, &c->t_rexmt, c->e->w->now_ns + (uint64_t)c->rto_us * US);
	tcp__tlp_arm(c); /* RFC 8985 §7.2: the probe goes before it (tcp_rack.c) */
}

void tcp__persist_arm(struct tcp_conn *c)
{
	uint64_t us = TCP_MAX((uint64_t)c->rto_us, (uint64_t)TCP_PERSIST_MIN_US);

	us <<= TCP_MIN(c->persist_shift, 10u);
	if (us > TCP_RTO_MAX_US)
		us = TCP_RTO_MAX_US;
	c->flags |= TCPF_PERSIST;
	dp_timer_arm(c->e->w, &c->t_rexmt, c->e->w->now_ns + us * US);
}

void tcp__delack_arm(struct tcp_conn *c)
{
	if (dp_timer_armed(&c->t_delack))
		return;
	c->flags |= TCPF_DELACK;
	dp_timer_arm(c->e->w, &c->t_delack, c->e->w->now_ns + c->e->delack_ns);
}

void tcp__keep_arm(struct tcp_conn *c)
{
	if (!(c->flags & TCPF_KEEPALIVE)) {
		dp_timer_cancel(c->e->w, &c->t_keep);
		return;
	}
	c->keep_probes = 0;
	dp_timer_arm(c->e->w, &c->t_keep, c->last_rcv_ns + (uint64_t)c->keepidle_s * SEC);
}

void tcp__close_timer_arm(struct tcp_conn *c, uint64_t after_ns)
{
	dp_timer_arm(c->e->w, &c->t_close, c->e->w->now_ns + after_ns);
}

/* CL-8: TIME_WAIT lasts 2*MSL from the last FIN seen; a retransmitted FIN restarts it. */
void tcp__tw_arm(struct tcp_conn *c)
{
	uint64_t msl = (uint64_t)c->e->w->stack->tun.tcp_msl_ms * MS;

	dp_timer_cancel(c->e->w, &c->t_rexmt);
	dp_timer_cancel(c->e->w, &c->t_keep);
	dp_timer_cancel(c->e->w, &c->t_delack);
	dp_timer_cancel(c->e->w, &c->t_rack);
	c->flags &= ~(TCPF_PERSIST | TCPF_DELACK);
	tcp__close_timer_arm(c, 2 * msl);
}

/* RFC 6298 §2.2-2.3 (K = 4, alpha = 1/8, beta = 1/4), §2.4 minimum, §2.5 maximum. */
void tcp__rtt_sample(struct tcp_conn *c, uint32_t r)
{
	uint64_t rto;

	if (r == 0)
		r = 1;
	if (!c->rtt_valid) {
		c->srtt_us = r;
		c->rttvar_us = r / 2;
		c->rtt_valid = true;
	} else {
		uint32_t d = c->srtt_us > r ? c->srtt_us - r : r - c->srtt_us;

		c->rttvar_us = (3 * c->rttvar_us + d) / 4;
		c->srtt_us = (7 * c->srtt_us + r) / 8;
	}
	rto = (uint64_t)c->srtt_us + TCP_MAX((uint64_t)DP_TIMER_TICK_NS / US,
					     4 * (uint64_t)c->rttvar_us);
	rto = TCP_MAX(rto, (uint64_t)TCP_RTO_MIN_US);
	c->rto_us = (uint32_t)TCP_MIN(rto, (uint64_t)TCP_RTO_MAX_US);
}

static bool retries_exhausted(struct tcp_conn *c)
{
	struct dp_worker *w = c->e->w;

	if (c->user_timeout_ms != 0 && c->rexmit_start_ns != 0)
		return w->now_ns - c->rexmit_start_ns >= (uint64_t)c->user_timeout_ms * MS;
	switch (c->state) {
	case TCPS_SYN_SENT:
		return c->retries > TCP_SYN_RETRIES;
	case TCPS_SYN_RECEIVED:
		return c->retries > TCP_SYNACK_RETRIES;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		break;
	}
	return c->retries > TCP_DATA_RETRIES;
}

static void persist_fire(struct tcp_conn *c)
{
	struct tcp_engine *e = c->e;

	c->flags &= ~TCPF_PERSIST;
	if (c->snd_wnd != 0 || tcp__sbuf_unsent(c) == 0) {
		tcp__output(c);
		return;
	}
	/* RFC 9293 §3.8.6.1: probe the zero window; keep probing while the peer answers
	 * (R2 applies only when it stops answering, counted in retries). */
	c->retries++;
	if (c->rexmit_start_ns == 0)
		c->rexmit_start_ns = e->w->now_ns;
	if (retries_exhausted(c)) {
		tcp__stat(e, TCP_STAT_TIMEOUT_DROPS);
		tcp__drop_conn(c, c->soft_error ? c->soft_error : ETIMEDOUT, DP_CLOSE_TIMEOUT);
		return;
	}
	tcp__stat(e, TCP_STAT_PERSIST_PROBES);
	c->persist_shift++;
	c->snd_nxt = c->snd_una; /* the probe is always the first unacknowledged byte */
	c->flags |= TCPF_PERSIST; /* tells output to send one byte past the window */
	tcp__output(c);
	tcp__persist_arm(c);
}

static void rexmt_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, t_rexmt);
	struct tcp_engine *e = c->e;

	(void)w;
	if (c->flags & TCPF_PERSIST) {
		persist_fire(c);
		return;
	}
	if (c->snd_una == c->snd_max)
		return; /* nothing outstanding */
	tcp__stat(e, TCP_STAT_RTO_EXPIRED);
	c->retries++;
	if (c->rexmit_start_ns == 0)
		c->rexmit_start_ns = e->w->now_ns;
	if (retries_exhausted(c)) {
		/* ERR-2: the remembered soft error wins over ETIMEDOUT. */
		int err = c->soft_error ? c->soft_error : ETIMEDOUT;

		tcp__stat(e, TCP_STAT_TIMEOUT_DROPS);
		if (c->state == TCPS_SYN_RECEIVED && (c->flags & TCPF_PASSIVE))
			err = 0; /* ERR-4: a half-open child vanishes silently */
		tcp__drop_conn(c, err, DP_CLOSE_TIMEOUT);
		return;
	}
	/* RFC 6298 §5.5-5.6: back off, retransmit the earliest unacknowledged segment. */
	c->rto_us = (uint32_t)TCP_MIN((uint64_t)c->rto_us * 2, (uint64_t)TCP_RTO_MAX_US);
	/* RFC 5681 §3.1 (4), (5) through the congestion-control algorithm (tcp_sack.c). */
	tcp__recovery_rto(c);
	c->rtt_timing = false; /* Karn */
	c->snd_nxt = c->snd_una;
	c->total_retrans++;
	tcp__stat(e, TCP_STAT_RETRANS);
	tcp__output(c);
	tcp__rexmt_arm(c);
}

static void delack_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, t_delack);

	(void)w;
	if (!(c->flags & TCPF_DELACK))
		return;
	tcp__stat(c->e, TCP_STAT_DELAYED_ACKS);
	tcp__send_ack(c);
}

static void keep_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, t_keep);
	struct tcp_engine *e = c->e;
	uint64_t idle_end;

	if (!(c->flags & TCPF_KEEPALIVE))
		return;
	switch (c->state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_FIN_WAIT_2:
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		return;
	}
	idle_end = c->last_rcv_ns + (uint64_t)c->keepidle_s * SEC;
	if (w->now_ns < idle_end) {
		/* Heard from the peer recently (or it answered a probe): start over. */
		c->keep_probes = 0;
		dp_timer_arm(w, t, idle_end);
		return;
	}
	if (c->keep_probes >= c->keepcnt) {
		/* RST-6 / ERR-6: RST to the peer, ETIMEDOUT (or the soft error) to the app. */
		tcp__stat(e, TCP_STAT_KEEPALIVE_DROPS);
		tcp__send_rst(c);
		tcp__drop_conn(c, c->soft_error ? c->soft_error : ETIMEDOUT, DP_CLOSE_TIMEOUT);
		return;
	}
	/* RFC 9293 §3.8.4: SEG.SEQ = SND.NXT-1, no data, so the peer must ACK. */
	c->keep_probes++;
	tcp__stat(e, TCP_STAT_KEEPALIVE_PROBES);
	tcp__send_ctl(c, c->snd_una - 1, TCP_FLAG_ACK);
	dp_timer_arm(w, t, w->now_ns + (uint64_t)c->keepintvl_s * SEC);
}

static void close_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct tcp_conn *c = container_of(t, struct tcp_conn, t_close);
	struct tcp_engine *e = c->e;

	(void)w;
	switch (c->state) {
	case TCPS_TIME_WAIT:
		tcp__closed(c, DP_CLOSE_NORMAL);
		return;
	case TCPS_FIN_WAIT_2:
		/* CL-9: an orphan whose peer never sends its FIN. */
		tcp__stat(e, TCP_STAT_FIN_TIMEOUTS);
		tcp__closed(c, DP_CLOSE_TIMEOUT);
		return;
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		/* LNG-5: the SO_LINGER time bounds the background close; then abort. */
		tcp__stat(e, TCP_STAT_LINGER_ABORTS);
		tcp__send_rst(c);
		tcp__closed(c, DP_CLOSE_RESET_OUT);
		return;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		return;
	}
}
