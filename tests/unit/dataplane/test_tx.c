/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker's TX buffer: what a port refuses stays queued for the next flush (a dropped SYN
 * or FIN would cost the peer a retransmission timeout); only a buffer that is still full after
 * a flush drops, and counts TX_FULL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "zpt.h"

/* Fill the port's TX ring (net_ring) so that it takes nothing; returns the fillers. */
static unsigned fill_tx_ring(struct zpt_env *env, struct rte_mbuf **fill, unsigned max)
{
	unsigned n = 0;

	while (n < max && rte_ring_free_count(env->tx[0]) > 0) {
		fill[n] = zpt_mbuf(env, "x", 1);
		assert_int_equal(rte_ring_enqueue(env->tx[0], fill[n]), 0);
		n++;
	}
	return n;
}

static struct rte_mbuf *frame(struct zpt_env *env, uint8_t tag)
{
	uint8_t b[64];

	memset(b, tag, sizeof(b));
	return zpt_mbuf(env, b, sizeof(b));
}

static void test_refused_packets_stay_queued_and_go_out_in_order(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	struct rte_mbuf *fill[1024], *m;
	unsigned nfill, i;

	(void)state;
	nfill = fill_tx_ring(env, fill, RTE_DIM(fill));
	dp_tx_enqueue(env->w, 0, frame(env, 0xa1));
	dp_tx_enqueue(env->w, 0, frame(env, 0xa2));
	dp_tx_flush(env->w);
	assert_int_equal(env->w->tx[0].n, 2);
	assert_int_equal(env->w->drops[DP_DROP_TX_FULL], 0);

	/* The ring drains (the NIC sent its backlog): the next flush sends both, in order. */
	for (i = 0; i < nfill; i++)
		rte_pktmbuf_free(zpt_tx_pop(env, 0));
	dp_tx_flush(env->w);
	assert_int_equal(env->w->tx[0].n, 0);
	m = zpt_tx_pop(env, 0);
	assert_non_null(m);
	assert_int_equal(*rte_pktmbuf_mtod(m, uint8_t *), 0xa1);
	rte_pktmbuf_free(m);
	m = zpt_tx_pop(env, 0);
	assert_non_null(m);
	assert_int_equal(*rte_pktmbuf_mtod(m, uint8_t *), 0xa2);
	rte_pktmbuf_free(m);
	assert_int_equal(env->w->stats[DP_STAT_TX_PACKETS], 2);
	zpt_env_free(env);
}

static void test_full_buffer_on_a_stuck_port_drops_and_counts(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	struct rte_mbuf *fill[1024];
	unsigned nfill, i;

	(void)state;
	nfill = fill_tx_ring(env, fill, RTE_DIM(fill));
	for (i = 0; i < DP_TX_BURST + 3; i++)
		dp_tx_enqueue(env->w, 0, frame(env, (uint8_t)i));
	assert_int_equal(env->w->tx[0].n, DP_TX_BURST);
	assert_int_equal(env->w->drops[DP_DROP_TX_FULL], 3);
	for (i = 0; i < nfill; i++)
		rte_pktmbuf_free(zpt_tx_pop(env, 0));
	zpt_env_free(env); /* frees what is still buffered; checks that no mbuf leaked */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_packets_stay_queued_and_go_out_in_order),
		cmocka_unit_test(test_full_buffer_on_a_stuck_port_drops_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
