/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-worker timer wheel (dataplane/timer.c) on the virtual clock: a timer fires on the
 * first run at or after its expiry and never before, in expiry order, exactly once, and
 * whatever the distance to its expiry or the size of the clock's jumps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "zpt.h"

#define MS	DP_TIMER_TICK_NS
#define NB_MANY 5000

/* A timer with what the test wants to know about its firing. */
struct probe {
	struct dp_timer t;
	unsigned fired;
	uint64_t fired_at;
	unsigned order;
	uint64_t period; /* the callback re-arms the timer this far ahead of now ... */
	unsigned limit;	 /* ... until it has fired this many times (0 = one-shot) */
};

static unsigned fire_seq;

static void on_fire(struct dp_worker *w, struct dp_timer *t)
{
	struct probe *p = container_of(t, struct probe, t);

	p->fired++;
	p->fired_at = w->now_ns;
	p->order = ++fire_seq;
	if (p->fired < p->limit)
		dp_timer_arm(w, t, w->now_ns + p->period);
}

static int setup(void **state)
{
	fire_seq = 0;
	*state = zpt_env_new(0);
	return 0;
}

static int teardown(void **state)
{
	zpt_env_free(*state);
	return 0;
}

/* Move the virtual clock to @to and run the wheel. */
static unsigned run_at(struct zpt_env *env, uint64_t to)
{
	env->w->now_ns = to;
	return dp_timer_run(env->w);
}

static void test_timer_fires_at_expiry_and_not_before(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe p = {0};

	dp_timer_init(&p.t, on_fire);
	assert_false(dp_timer_armed(&p.t));
	dp_timer_arm(env->w, &p.t, t0 + 5 * MS);
	assert_true(dp_timer_armed(&p.t));

	assert_int_equal(run_at(env, t0 + 4 * MS), 0);
	assert_int_equal(run_at(env, t0 + 5 * MS - 1), 0);
	assert_int_equal(p.fired, 0);
	assert_int_equal(run_at(env, t0 + 5 * MS), 1);
	assert_int_equal(p.fired, 1);
	assert_false(dp_timer_armed(&p.t));
	assert_int_equal(run_at(env, t0 + 100 * MS), 0);
	assert_int_equal(p.fired, 1);
}

static void test_timer_expiry_between_ticks_fires_on_the_first_run_after_it(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe p = {0};

	dp_timer_init(&p.t, on_fire);
	dp_timer_arm(env->w, &p.t, t0 + 2 * MS + MS / 2);
	assert_int_equal(run_at(env, t0 + 2 * MS), 0);
	assert_int_equal(run_at(env, t0 + 2 * MS + MS / 4), 0);
	run_at(env, t0 + 3 * MS);
	assert_int_equal(p.fired, 1);
	assert_int_equal(p.fired_at, t0 + 3 * MS);
}

static void test_timer_in_the_past_fires_on_the_next_run(void **state)
{
	struct zpt_env *env = *state;
	struct probe p = {0};

	dp_timer_init(&p.t, on_fire);
	dp_timer_arm(env->w, &p.t, env->w->now_ns - 10 * MS);
	assert_int_equal(run_at(env, env->w->now_ns + MS), 1);
	assert_int_equal(p.fired, 1);
}

static void test_timers_fire_in_expiry_order(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe a = {0}, b = {0}, c = {0};

	dp_timer_init(&a.t, on_fire);
	dp_timer_init(&b.t, on_fire);
	dp_timer_init(&c.t, on_fire);
	dp_timer_arm(env->w, &a.t, t0 + 30 * MS);
	dp_timer_arm(env->w, &b.t, t0 + 10 * MS);
	dp_timer_arm(env->w, &c.t, t0 + 20 * MS);

	assert_int_equal(run_at(env, t0 + 50 * MS), 3);
	assert_int_equal(b.order, 1);
	assert_int_equal(c.order, 2);
	assert_int_equal(a.order, 3);
	assert_int_equal(env->w->stats[DP_STAT_TIMERS_FIRED], 3);
}

static void test_timer_cancelled_never_fires(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe a = {0}, b = {0};

	dp_timer_init(&a.t, on_fire);
	dp_timer_init(&b.t, on_fire);
	dp_timer_cancel(env->w, &a.t); /* not armed: harmless */
	dp_timer_arm(env->w, &a.t, t0 + 5 * MS);
	dp_timer_arm(env->w, &b.t, t0 + 5 * MS);
	dp_timer_cancel(env->w, &a.t);
	assert_false(dp_timer_armed(&a.t));
	assert_int_equal(env->w->timers.nb_armed, 1);

	assert_int_equal(run_at(env, t0 + 10 * MS), 1);
	assert_int_equal(a.fired, 0);
	assert_int_equal(b.fired, 1);
	assert_int_equal(env->w->timers.nb_armed, 0);
}

static void test_timer_rearmed_before_expiry_fires_only_at_the_new_time(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe p = {0};

	dp_timer_init(&p.t, on_fire);
	dp_timer_arm(env->w, &p.t, t0 + 5 * MS);
	dp_timer_arm(env->w, &p.t, t0 + 50 * MS);
	assert_int_equal(env->w->timers.nb_armed, 1);
	assert_int_equal(run_at(env, t0 + 49 * MS), 0);
	assert_int_equal(run_at(env, t0 + 50 * MS), 1);
	assert_int_equal(p.fired_at, t0 + 50 * MS);
}

static void test_timer_rearmed_inside_its_callback_fires_periodically(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe p = {.period = 10 * MS, .limit = 5};
	unsigned i;

	dp_timer_init(&p.t, on_fire);
	dp_timer_arm(env->w, &p.t, t0 + 10 * MS);
	for (i = 1; i <= 100; i++) {
		run_at(env, t0 + i * MS);
		/* Fires at 10, 20, ... 50 ms, each time exactly on its tick. */
		assert_int_equal(p.fired, i / 10 < 5 ? i / 10 : 5);
	}
	assert_int_equal(p.fired_at, t0 + 50 * MS);
	assert_false(dp_timer_armed(&p.t));
}

static void test_timer_rearmed_for_now_inside_callback_waits_for_the_next_run(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe p = {.period = 0, .limit = 3}; /* re-armed at exactly now */

	dp_timer_init(&p.t, on_fire);
	dp_timer_arm(env->w, &p.t, t0 + MS);
	assert_int_equal(run_at(env, t0 + MS), 1);
	assert_true(dp_timer_armed(&p.t));
	assert_int_equal(run_at(env, t0 + 2 * MS), 1);
	assert_int_equal(run_at(env, t0 + 3 * MS), 1);
	assert_int_equal(p.fired, 3);
	assert_false(dp_timer_armed(&p.t));
}

static void test_timer_beyond_one_wheel_revolution_waits_for_its_time(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns, far = t0 + (2 * DP_TIMER_SLOTS + 10) * MS;
	struct probe p = {0};
	uint64_t t;

	dp_timer_init(&p.t, on_fire);
	dp_timer_arm(env->w, &p.t, far);
	/* Its slot comes round twice before it is due. */
	for (t = t0 + 100 * MS; t < far; t += 100 * MS) {
		run_at(env, t);
		assert_int_equal(p.fired, 0);
	}
	run_at(env, far - 1);
	assert_int_equal(p.fired, 0);
	run_at(env, far);
	assert_int_equal(p.fired, 1);
}

static void test_timer_clock_jump_longer_than_a_revolution_fires_everything_due(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns;
	struct probe near = {0}, mid = {0}, later = {0};

	dp_timer_init(&near.t, on_fire);
	dp_timer_init(&mid.t, on_fire);
	dp_timer_init(&later.t, on_fire);
	dp_timer_arm(env->w, &near.t, t0 + 3 * MS);
	dp_timer_arm(env->w, &mid.t, t0 + (DP_TIMER_SLOTS + 500) * MS);
	dp_timer_arm(env->w, &later.t, t0 + (3 * DP_TIMER_SLOTS) * MS);

	assert_int_equal(run_at(env, t0 + (2 * DP_TIMER_SLOTS) * MS), 2);
	assert_int_equal(near.fired, 1);
	assert_int_equal(mid.fired, 1);
	assert_int_equal(later.fired, 0);
	assert_int_equal(run_at(env, t0 + (3 * DP_TIMER_SLOTS) * MS), 1);
	assert_int_equal(later.fired, 1);
}

static void test_many_timers_each_fire_once_on_the_first_run_after_expiry(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns, now;
	struct probe *p = calloc(NB_MANY, sizeof(*p));
	unsigned i, total = 0;

	assert_non_null(p);
	srand(7);
	for (i = 0; i < NB_MANY; i++) {
		dp_timer_init(&p[i].t, on_fire);
		/* Up to 3 revolutions ahead, at any nanosecond. */
		dp_timer_arm(env->w, &p[i].t,
			     t0 + 1 +
				     ((uint64_t)rand() * 1000 + (uint64_t)rand() % 1000) %
					     (3ULL * DP_TIMER_SLOTS * MS));
	}
	assert_int_equal(env->w->timers.nb_armed, NB_MANY);
	/* Advance in uneven steps, some longer than a tick, none longer than a revolution. */
	for (now = t0; total < NB_MANY; now += (uint64_t)(rand() % 7000) * 1000) {
		total += run_at(env, now);
		for (i = 0; i < NB_MANY; i++) {
			/* Due by the end of the tick it expires in, and never early. */
			uint64_t due = (p[i].t.expire_ns + MS - 1) / MS * MS;

			if (due <= now)
				assert_int_equal(p[i].fired, 1);
			if (p[i].fired)
				assert_true(p[i].fired_at >= p[i].t.expire_ns);
		}
		assert_true(now < t0 + 4ULL * DP_TIMER_SLOTS * MS);
	}
	for (i = 0; i < NB_MANY; i++) {
		assert_int_equal(p[i].fired, 1);
		assert_true(p[i].fired_at >= p[i].t.expire_ns);
	}
	assert_int_equal(env->w->timers.nb_armed, 0);
	free(p);
}

static void test_timer_next_is_the_tick_that_fires_it(void **state)
{
	struct zpt_env *env = *state;
	uint64_t t0 = env->w->now_ns; /* a tick boundary */
	struct probe p = {0}, far = {0}, late = {0};

	assert_int_equal(dp_timer_next_ns(env->w, UINT64_MAX / 2), UINT64_MAX);
	dp_timer_init(&p.t, on_fire);
	dp_timer_init(&far.t, on_fire);
	dp_timer_init(&late.t, on_fire);
	/* Same slot as p, one revolution later: not due on that visit. */
	dp_timer_arm(env->w, &far.t, t0 + (DP_TIMER_SLOTS + 3) * MS);
	dp_timer_arm(env->w, &p.t, t0 + 2 * MS + 400);
	assert_int_equal(dp_timer_next_ns(env->w, t0 + 2 * MS), UINT64_MAX);
	assert_int_equal(dp_timer_next_ns(env->w, t0 + 2 * MS + 400), t0 + 3 * MS);
	assert_int_equal(dp_timer_next_ns(env->w, t0 + 50 * MS), t0 + 3 * MS);
	/* ... and the wheel agrees: nothing before that instant, p exactly then. */
	assert_int_equal(run_at(env, t0 + 3 * MS - 1), 0);
	assert_int_equal(run_at(env, t0 + 3 * MS), 1);
	assert_int_equal(p.fired, 1);
	assert_int_equal(dp_timer_next_ns(env->w, t0 + 100 * MS), UINT64_MAX);
	assert_int_equal(dp_timer_next_ns(env->w, t0 + (DP_TIMER_SLOTS + 3) * MS),
			 t0 + (DP_TIMER_SLOTS + 3) * MS);

	/* Armed in the past: it fires on the next tick, and that is what next says. */
	dp_timer_arm(env->w, &late.t, t0);
	assert_int_equal(dp_timer_next_ns(env->w, t0 + 10 * MS), t0 + 4 * MS);
	dp_timer_cancel(env->w, &late.t);
	dp_timer_cancel(env->w, &far.t);
	assert_int_equal(dp_timer_next_ns(env->w, UINT64_MAX / 2), UINT64_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_timer_fires_at_expiry_and_not_before, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_expiry_between_ticks_fires_on_the_first_run_after_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_timer_in_the_past_fires_on_the_next_run, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timers_fire_in_expiry_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timer_cancelled_never_fires, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_rearmed_before_expiry_fires_only_at_the_new_time, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_rearmed_inside_its_callback_fires_periodically, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_rearmed_for_now_inside_callback_waits_for_the_next_run, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_beyond_one_wheel_revolution_waits_for_its_time, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_timer_clock_jump_longer_than_a_revolution_fires_everything_due, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_many_timers_each_fire_once_on_the_first_run_after_expiry, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_timer_next_is_the_tick_that_fires_it, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
