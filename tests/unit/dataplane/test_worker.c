/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker loop's idle policy ([stack] idle, dataplane/worker.c) on the virtual clock: the
 * sleep length as a pure function (threshold, doubling, cap, deadline), and the loop itself,
 * where a sleep advances the virtual clock, so "never sleeps past a timer" is checked exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zpt.h"

#define US 1000ULL
#define MS DP_TIMER_TICK_NS

static int setup(void **state)
{
	*state = zpt_env_new(1);
	return 0;
}

static int teardown(void **state)
{
	zpt_env_free(*state);
	return 0;
}

static const struct dp_tunables sleepy = {
	.idle = DP_IDLE_SLEEP,
	.idle_after = 8,
	.idle_sleep_max_us = 100,
};

static void test_idle_sleep_waits_for_idle_after_empty_passes(void **state)
{
	uint32_t i;

	(void)state;
	for (i = 0; i < sleepy.idle_after; i++)
		assert_int_equal(dp_idle_sleep_us(&sleepy, i, 0, UINT64_MAX), 0);
	assert_int_equal(dp_idle_sleep_us(&sleepy, sleepy.idle_after, 0, UINT64_MAX), 1);
}

static void test_idle_sleep_doubles_up_to_the_cap(void **state)
{
	static const uint32_t want[] = {1, 2, 4, 8, 16, 32, 64, 100, 100, 100};
	uint32_t i;

	(void)state;
	for (i = 0; i < RTE_DIM(want); i++)
		assert_int_equal(dp_idle_sleep_us(&sleepy, sleepy.idle_after + i, 0, UINT64_MAX),
				 want[i]);
	/* No overflow however long the worker has been idle. */
	assert_int_equal(dp_idle_sleep_us(&sleepy, sleepy.idle_after + 31, 0, UINT64_MAX), 100);
	assert_int_equal(dp_idle_sleep_us(&sleepy, UINT32_MAX, 0, UINT64_MAX), 100);
}

static void test_idle_sleep_never_passes_the_deadline(void **state)
{
	uint64_t now = ZPT_NOW0;
	uint32_t deep = sleepy.idle_after + 20; /* would sleep the cap, 100 us */

	(void)state;
	assert_int_equal(dp_idle_sleep_us(&sleepy, deep, now, now + 37 * US), 37);
	assert_int_equal(dp_idle_sleep_us(&sleepy, deep, now, now + 37 * US + 999), 37);
	/* Less than a microsecond left, due now, or overdue: no sleep at all. */
	assert_int_equal(dp_idle_sleep_us(&sleepy, deep, now, now + 999), 0);
	assert_int_equal(dp_idle_sleep_us(&sleepy, deep, now, now), 0);
	assert_int_equal(dp_idle_sleep_us(&sleepy, deep, now, now - 1), 0);
	/* A deadline further than the cap leaves the cap. */
	assert_int_equal(dp_idle_sleep_us(&sleepy, deep, now, now + 5 * MS), 100);
}

/* ---- the loop ---------------------------------------------------------------------------- */

struct probe {
	struct dp_timer t;
	unsigned fired;
	uint64_t fired_at;
};

static void on_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct probe *p = container_of(t, struct probe, t);

	p->fired++;
	p->fired_at = w->now_ns;
}

static void test_idle_sleep_loop_wakes_exactly_when_the_timer_is_due(void **state)
{
	struct zpt_env *env = *state;
	struct dp_worker *w = env->w;
	uint64_t t0 = w->now_ns;
	struct probe p = {0};
	unsigned pass;

	env->stack.tun.idle = DP_IDLE_SLEEP;
	env->stack.tun.idle_after = 4;
	env->stack.tun.idle_sleep_max_us = 1000;
	dp_timer_init(&p.t, on_fire);
	/* Filed under tick t0 + 3 ms: the wheel fires it on the first pass at or after that. */
	dp_timer_arm(w, &p.t, t0 + 2 * MS + 500 * US);
	for (pass = 0; pass < 1000 && p.fired == 0; pass++) {
		assert_true(w->now_ns <= t0 + 3 * MS);
		zpt_poll(env);
	}
	assert_int_equal(p.fired, 1);
	assert_int_equal(p.fired_at, t0 + 3 * MS); /* not one nanosecond late */
	assert_true(w->stats[DP_STAT_IDLE_SLEEPS] > 0);
	assert_true(w->stats[DP_STAT_IDLE_SLEEP_US] >= 2000);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 0);

	/* Nothing armed: the naps grow to the cap and stay there. */
	for (pass = 0; pass < 30; pass++)
		zpt_poll(env);
	{
		uint64_t before = w->now_ns;

		zpt_poll(env);
		assert_int_equal(w->now_ns - before, 1000 * US);
	}
}

static void test_idle_yield_counts_after_idle_after_and_restarts_on_traffic(void **state)
{
	struct zpt_env *env = *state;
	struct dp_worker *w = env->w;
	uint8_t frame[64] = {0}; /* a runt-free frame for nobody: received, then dropped */
	unsigned i;

	env->stack.tun.idle = DP_IDLE_YIELD;
	env->stack.tun.idle_after = 3;
	zpt_poll(env);
	zpt_poll(env);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 0);
	zpt_poll(env); /* third empty pass */
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 1);
	zpt_poll(env);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 2);

	zpt_inject(env, 0, frame, sizeof(frame));
	zpt_poll(env); /* a packet came: not idle, the count starts again */
	assert_int_equal(w->stats[DP_STAT_RX_PACKETS], 1);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 2);
	for (i = 0; i < 2; i++)
		zpt_poll(env);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 2);
	zpt_poll(env);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 3);
	assert_int_equal(w->stats[DP_STAT_IDLE_SLEEPS], 0);
}

static void test_idle_yield_while_the_port_refuses_output_until_it_takes_some(void **state)
{
	struct zpt_env *env = *state;
	struct dp_worker *w = env->w;
	struct rte_mbuf *m;
	uint8_t b[64];
	unsigned nfill = 0, i;

	env->stack.tun.idle = DP_IDLE_YIELD;
	env->stack.tun.idle_after = 2;
	/* The peer has not drained the ring: the port takes nothing. */
	while (rte_ring_free_count(env->tx[0]) > 0) {
		assert_int_equal(rte_ring_enqueue(env->tx[0], zpt_mbuf(env, "x", 1)), 0);
		nfill++;
	}
	memset(b, 0xa5, sizeof(b));
	dp_tx_enqueue(w, 0, zpt_mbuf(env, b, sizeof(b)));
	for (i = 0; i < 4; i++)
		zpt_poll(env);
	assert_int_equal(w->tx[0].n, 1); /* still refused ... */
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 3); /* ... and the CPU handed over */

	/* The peer ran and drained the ring: the packet goes, the pass was busy. */
	for (i = 0; i < nfill; i++)
		rte_pktmbuf_free(zpt_tx_pop(env, 0));
	zpt_poll(env);
	assert_int_equal(w->tx[0].n, 0);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 3);
	assert_int_equal(w->idle_passes, 0);
	m = zpt_tx_pop(env, 0);
	assert_non_null(m);
	rte_pktmbuf_free(m);
}

static void test_idle_poll_never_yields_or_sleeps(void **state)
{
	struct zpt_env *env = *state;
	struct dp_worker *w = env->w;
	uint64_t t0 = w->now_ns;
	unsigned i;

	env->stack.tun.idle = DP_IDLE_POLL;
	env->stack.tun.idle_after = 0;
	for (i = 0; i < 100; i++)
		zpt_poll(env);
	assert_int_equal(w->stats[DP_STAT_IDLE_YIELDS], 0);
	assert_int_equal(w->stats[DP_STAT_IDLE_SLEEPS], 0);
	assert_int_equal(w->now_ns, t0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_sleep_waits_for_idle_after_empty_passes),
		cmocka_unit_test(test_idle_sleep_doubles_up_to_the_cap),
		cmocka_unit_test(test_idle_sleep_never_passes_the_deadline),
		cmocka_unit_test_setup_teardown(
			test_idle_sleep_loop_wakes_exactly_when_the_timer_is_due, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_idle_yield_counts_after_idle_after_and_restarts_on_traffic, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_idle_yield_while_the_port_refuses_output_until_it_takes_some, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_idle_poll_never_yields_or_sleeps, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
