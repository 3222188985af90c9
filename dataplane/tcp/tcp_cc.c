/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control: the registry of algorithms and the glue between the engine and the
 * algorithm a connection uses (see tcp_cc.h for who does what). The initial window is
 * RFC 6928's, the loss window after a timeout RFC 5681's (one segment), for every algorithm.
 */
#include <errno.h>
#include <string.h>

#include "tcp_priv.h"

static const struct {
	const char *name;
	enum tcp_cc_algo algo;
} cc_names[] = {
	{"cubic", TCP_CC_CUBIC},
	{"newreno", TCP_CC_NEWRENO},
	{"reno", TCP_CC_NEWRENO}, /* Linux's name for the same algorithm */
};

const struct tcp_cc_ops *tcp_cc_ops_get(enum tcp_cc_algo a)
{
	switch (a) {
	case TCP_CC_CUBIC:
		return &tcp_cc_cubic_ops;
	case TCP_CC_NEWRENO:
		return &tcp_cc_newreno_ops;
	case TCP_CC_MAX:
		break;
	}
	return &tcp_cc_cubic_ops;
}

int tcp_cc_lookup(const char *name)
{
	unsigned i;

	for (i = 0; i < RTE_DIM(cc_names); i++)
		if (strcmp(name, cc_names[i].name) == 0)
			return (int)cc_names[i].algo;
	return -ENOENT;
}

const char *tcp_cc_names(void)
{
	return "cubic, newreno (alias reno)";
}

static const struct tcp_cc_ops *cc_default(const struct tcp_conn *c)
{
	const struct dp_stack *s = c->e->w->stack;

	return tcp_cc_ops_get(s != NULL ? (enum tcp_cc_algo)s->tun.tcp_cc : TCP_CC_CUBIC);
}

static const struct tcp_cc_ops *cc_ops(struct tcp_conn *c)
{
	if (c->cc.ops == NULL) {
		c->cc.ops = cc_default(c);
		c->cc.name = c->cc.ops->name;
	}
	return c->cc.ops;
}

int tcp__cc_set(struct tcp_conn *c, const char *name)
{
	unsigned i;

	for (i = 0; i < RTE_DIM(cc_names); i++) {
		if (strcmp(name, cc_names[i].name) != 0)
			continue;
		c->cc.ops = tcp_cc_ops_get(cc_names[i].algo);
		c->cc.name = cc_names[i].name;
		/* Switching on a live connection keeps cwnd/ssthresh, resets the private state. */
		if (tcp_state_synced(c->state) && c->cc.ops->init != NULL)
			c->cc.ops->init(c);
		return 0;
	}
	return -ENOENT;
}

const char *tcp__cc_name(const struct tcp_conn *c)
{
	if (c->cc.name != NULL)
		return c->cc.name;
	return cc_default(c)->name;
}

void tcp__cc_inherit(struct tcp_conn *c, const struct tcp_conn *l)
{
	c->cc.ops = l->cc.ops;
	c->cc.name = l->cc.name;
}

void tcp__cc_conn_init(struct tcp_conn *c)
{
	const struct tcp_cc_ops *ops = cc_ops(c);
	uint32_t mss = c->snd_mss;

	/* RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)). */
	c->cwnd = TCP_MIN(10 * mss, TCP_MAX(2 * mss, 14600u));
	c->ssthresh = UINT32_MAX; /* RFC 5681 §3.1: arbitrarily high */
	c->dupacks = 0;
	c->in_recovery = false;
	c->recover = c->iss;
	c->cc.prior_cwnd = c->cwnd;
	c->cc.prior_ssthresh = c->ssthresh;
	memset(c->cc.priv, 0, sizeof(c->cc.priv));
	if (ops->init != NULL)
		ops->init(c);
}

void tcp__cc_ack(struct tcp_conn *c, uint32_t acked)
{
	cc_ops(c)->on_ack(c, acked, c->srtt_us);
}

void tcp__cc_enter_recovery(struct tcp_conn *c)
{
	c->cc.prior_cwnd = c->cwnd;
	c->cc.prior_ssthresh = c->ssthresh;
	cc_ops(c)->enter_recovery(c);
}

void tcp__cc_exit_recovery(struct tcp_conn *c)
{
	cc_ops(c)->exit_recovery(c);
}

void tcp__cc_rto(struct tcp_conn *c, uint32_t nth)
{
	if (nth <= 1) {
		/* RFC 5681 §3.1 (4): ssthresh is set on the first timeout only, then held. */
		c->cc.prior_cwnd = c->cwnd;
		c->cc.prior_ssthresh = c->ssthresh;
		cc_ops(c)->on_rto(c);
	}
	c->cwnd = c->snd_mss; /* RFC 5681 §3.1 (5): loss window */
}

void tcp__cc_undo(struct tcp_conn *c)
{
	/* RFC 2883 §4 / RFC 3708: the reduction was for nothing; go back to where we were. */
	if (c->cc.prior_cwnd > c->cwnd)
		c->cwnd = c->cc.prior_cwnd;
	if (c->cc.prior_ssthresh > c->ssthresh)
		c->ssthresh = c->cc.prior_ssthresh;
	if (cc_ops(c)->init != NULL)
		cc_ops(c)->init(c);
}
