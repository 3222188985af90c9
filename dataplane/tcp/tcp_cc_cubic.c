/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CUBIC congestion control (RFC 9438), the default algorithm.
 *
 * Window in bytes here, in segments in the RFC: W_cubic(t) = C * (t - K)^3 * MSS + W_max,
 * t the time since the current congestion-avoidance stage began (w->now_ns), K the time the
 * curve takes back to W_max, C = 0.4, beta = 0.7, fast convergence on (§4.7), the Reno-
 * friendly estimate W_est with alpha = 3(1-beta)/(1+beta) until W_est reaches the window
 * before the last reduction, then 1 (§4.3). Slow start is RFC 5681's (no HyStart).
 * After a timeout the next avoidance stage starts with K = 0 and W_max = cwnd (§4.8).
 * Time without ACKs beyond two RTTs (the sender was idle or application-limited) does not
 * count in t: the curve is shifted by it, as Linux does, so an idle connection does not come
 * back with the window the curve would have reached meanwhile.
 */
#include <string.h>

#include "tcp_priv.h"

#define CUBIC_C	   0.4
#define CUBIC_BETA 0.7

struct cubic {
	double w_max;	   /**< bytes: window before the last reduction (fast-converged) */
	double k;	   /**< seconds */
	double origin;	   /**< bytes: the plateau of the current curve */
	double w_est;	   /**< bytes: Reno-friendly estimate (§4.3) */
	double cwnd_prior; /**< bytes: cwnd when the last congestion event happened */
	double frac;	   /**< growth below one byte, carried to the next ACK */
	uint64_t epoch_ns; /**< start of the current avoidance stage; 0 = not started */
	uint64_t last_ns;  /**< last ACK seen in avoidance (idle detection) */
	bool after_rto;	   /**< the stage to come follows a timeout (§4.8) */
};
_Static_assert(sizeof(struct cubic) <= sizeof(((struct tcp_cc_state *)0)->priv),
	       "cubic state fits in tcp_cc_state.priv");

static struct cubic *cubic(struct tcp_conn *c)
{
	return (struct cubic *)(void *)c->cc.priv;
}

/* Real cube root without libm (Newton's method; a handful of iterations suffice). */
static double cbrt_d(double x)
{
	double r, ax = x < 0 ? -x : x;
	int i;

	if (ax == 0)
		return 0;
	r = ax > 1 ? ax / 3 : 1;
	for (i = 0; i < 100; i++) {
		double n = (2 * r + ax / (r * r)) / 3;

		if (n == r || (n > r ? n - r : r - n) < 1e-12 * r)
			break;
		r = n;
	}
	return x < 0 ? -r : r;
}

static void cubic_init(struct tcp_conn *c)
{
	memset(cubic(c), 0, sizeof(struct cubic));
}

/* W_cubic(t) in bytes (RFC 9438 Figure 1). */
static double w_cubic(const struct cubic *k, double t, uint32_t mss)
{
	double d = t - k->k;

	return CUBIC_C * d * d * d * mss + k->origin;
}

static void cubic_on_ack(struct tcp_conn *c, uint32_t acked, uint32_t rtt_us)
{
	struct cubic *k = cubic(c);
	uint32_t mss = c->snd_mss;
	uint64_t now = c->e->w->now_ns;
	double cwnd = c->cwnd, t, target, wt, alpha, inc;

	if (c->cwnd < c->ssthresh) {
		c->cwnd += TCP_MIN(acked, mss); /* RFC 9438 §4.10 / RFC 5681 slow start */
		return;
	}
	if (k->epoch_ns == 0) {
		/* A new avoidance stage (§4.2: K from the window at its start). */
		k->epoch_ns = now != 0 ? now : 1;
		k->frac = 0;
		if (k->after_rto) {
			k->w_max = cwnd; /* §4.8 */
			k->after_rto = false;
		}
		if (k->w_max <= cwnd) {
			k->k = 0;
			k->origin = cwnd;
		} else {
			k->k = cbrt_d((k->w_max - cwnd) / mss / CUBIC_C);
			k->origin = k->w_max;
		}
		k->w_est = cwnd;
	}
	if (k->last_ns != 0 && now - k->last_ns > 2ull * rtt_us * 1000 + 1000000)
		k->epoch_ns += now - k->last_ns - (uint64_t)rtt_us * 1000;
	k->last_ns = now;
	t = (double)(now - k->epoch_ns) / 1e9;
	wt = w_cubic(k, t, mss);
	/* §4.2: the target is W_cubic one RTT ahead, kept within [cwnd, 1.5 cwnd]. */
	target = w_cubic(k, t + (double)rtt_us / 1e6, mss);
	if (target < cwnd)
		target = cwnd;
	if (target > 1.5 * cwnd)
		target = 1.5 * cwnd;
	/* §4.3: Reno-friendly region. */
	alpha = k->w_est >= k->cwnd_prior ? 1.0 : 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
	k->w_est += alpha * mss * (double)acked / cwnd;
	if (wt < k->w_est) {
		if (k->w_est > cwnd)
			c->cwnd = (uint32_t)k->w_est;
		return;
	}
	/* §4.4-4.5: concave and convex regions. */
	inc = (target - cwnd) * (double)acked / cwnd + k->frac;
	if (inc >= 1) {
		uint32_t n = (uint32_t)inc;

		c->cwnd += n;
		inc -= n;
	}
	k->frac = inc;
}

/* §4.6-4.7: W_max with fast convergence, ssthresh = cwnd * beta (at least 2 segments). */
static void reduce(struct tcp_conn *c)
{
	struct cubic *k = cubic(c);
	double cwnd = c->cwnd, ss;

	k->epoch_ns = 0;
	k->last_ns = 0;
	if (cwnd < k->w_max)
		k->w_max = cwnd * (1 + CUBIC_BETA) / 2;
	else
		k->w_max = cwnd;
	k->cwnd_prior = cwnd;
	ss = cwnd * CUBIC_BETA;
	c->ssthresh = TCP_MAX((uint32_t)ss, 2u * c->snd_mss);
}

static void cubic_enter_recovery(struct tcp_conn *c)
{
	cubic(c)->after_rto = false;
	reduce(c);
}

static void cubic_exit_recovery(struct tcp_conn *c)
{
	c->cwnd = c->ssthresh;
	cubic(c)->epoch_ns = 0;
}

static void cubic_on_rto(struct tcp_conn *c)
{
	reduce(c);
	cubic(c)->after_rto = true;
}

const struct tcp_cc_ops tcp_cc_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.enter_recovery = cubic_enter_recovery,
	.exit_recovery = cubic_exit_recovery,
	.on_rto = cubic_on_rto,
};
