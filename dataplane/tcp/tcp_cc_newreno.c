/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NewReno congestion control: RFC 5681 slow start and congestion avoidance, ssthresh =
 * FlightSize / 2 on loss (§3.1 equation 4). The recovery itself (fast retransmit, window
 * inflation, partial ACKs, RFC 6582) is in tcp_sack.c and shared with CUBIC.
 */
#include "tcp_priv.h"

static void newreno_init(struct tcp_conn *c)
{
	(void)c;
}

static void newreno_on_ack(struct tcp_conn *c, uint32_t acked, uint32_t rtt_us)
{
	(void)rtt_us;
	if (c->cwnd < c->ssthresh) {
		/* RFC 5681 §3.1 equation 2: slow start. */
		c->cwnd += TCP_MIN(acked, (uint32_t)c->snd_mss);
	} else {
		/* Equation 3: about one segment per RTT. */
		c->cwnd += TCP_MAX(1u, (uint32_t)c->snd_mss * c->snd_mss / c->cwnd);
	}
}

static uint32_t half_flight(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una;

	/* RFC 5681 §3.1 equation 4. */
	return TCP_MAX(flight / 2, 2u * c->snd_mss);
}

static void newreno_enter_recovery(struct tcp_conn *c)
{
	c->ssthresh = half_flight(c);
}

static void newreno_exit_recovery(struct tcp_conn *c)
{
	/* RFC 6582 §3.2 step 3 (full acknowledgment), first option: deflate to ssthresh. */
	c->cwnd = c->ssthresh;
}

static void newreno_on_rto(struct tcp_conn *c)
{
	c->ssthresh = half_flight(c);
}

const struct tcp_cc_ops tcp_cc_newreno_ops = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.enter_recovery = newreno_enter_recovery,
	.exit_recovery = newreno_exit_recovery,
	.on_rto = newreno_on_rto,
};
