/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker hashed timer wheel driven by w->now_ns.
 *
 * Written by hand rather than using rte_timer because rte_timer reads the TSC itself, and
 * every engine entry point here takes injected time so tests run on a virtual clock.
 *
 * Each timer sits in slot (expire_tick % DP_TIMER_SLOTS) with its absolute expiry; a slot
 * visit fires only entries that are due, so timers further away than one revolution simply
 * stay in their slot until their turn comes round.
 */
#include "dp_priv.h"

static inline uint64_t tick_of(uint64_t ns)
{
	return ns / DP_TIMER_TICK_NS;
}

void dp_timer_init(struct dp_timer *t, dp_timer_fn fn)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expire_ns = 0;
	t->fn = fn;
}

static void unlink_timer(struct dp_timer_wheel *tw, struct dp_timer *t)
{
	*t->pprev = t->next;
	if (t->next != NULL)
		t->next->pprev = t->pprev;
	t->next = NULL;
	t->pprev = NULL;
	tw->nb_armed--;
}

void dp_timer_cancel(struct dp_worker *w, struct dp_timer *t)
{
	if (t->pprev != NULL)
		unlink_timer(&w->timers, t);
}

void dp_timer_arm(struct dp_worker *w, struct dp_timer *t, uint64_t expire_ns)
{
	struct dp_timer_wheel *tw = &w->timers;
	uint64_t tick;
	struct dp_timer **head;

	if (t->pprev != NULL)
		unlink_timer(tw, t);
	t->expire_ns = expire_ns;
	/* Round up: a timer filed under the tick its expiry falls in could be visited early in
	 * that tick, found not yet due, and then wait a whole revolution. */
	tick = tick_of(expire_ns + DP_TIMER_TICK_NS - 1);
	/* A timer due in the past or in the current tick fires on the next run. */
	if (tick <= tw->last_tick)
		tick = tw->last_tick + 1;
	head = &tw->slot[tick & (DP_TIMER_SLOTS - 1)];
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
	tw->nb_armed++;
}

static unsigned run_slot(struct dp_worker *w, unsigned idx)
{
	struct dp_timer_wheel *tw = &w->timers;
	struct dp_timer *t, *due = NULL, **tail = &due;
	unsigned fired = 0;

	/* Detach the due timers first: a callback may re-arm itself into this same slot. */
	for (t = tw->slot[idx]; t != NULL;) {
		struct dp_timer *next = t->next;
		if (t->expire_ns <= w->now_ns) {
			unlink_timer(tw, t);
			*tail = t;
			tail = &t->next;
		}
		t = next;
	}
	while (due != NULL) {
		t = due;
		due = t->next;
		t->next = NULL;
		t->fn(w, t);
		fired++;
	}
	return fired;
}

unsigned dp_timer_run(struct dp_worker *w)
{
	struct dp_timer_wheel *tw = &w->timers;
	uint64_t now_tick = tick_of(w->now_ns);
	uint64_t tick, first, span;
	unsigned fired = 0;

	if (now_tick <= tw->last_tick)
		return 0;
	first = tw->last_tick + 1;
	span = now_tick - tw->last_tick;
	if (span > DP_TIMER_SLOTS)
		span = DP_TIMER_SLOTS; /* one full revolution visits every slot */
	tw->last_tick = now_tick;
	if (tw->nb_armed == 0)
		return 0;
	for (tick = first; tick < first + span; tick++)
		fired += run_slot(w, (unsigned)(tick & (DP_TIMER_SLOTS - 1)));
	w->stats[DP_STAT_TIMERS_FIRED] += fired;
	return fired;
}

uint64_t dp_timer_next_ns(const struct dp_worker *w, uint64_t until_ns)
{
	const struct dp_timer_wheel *tw = &w->timers;
	uint64_t tick, last;

	if (tw->nb_armed == 0)
		return UINT64_MAX;
	/* dp_timer_run() visits the slot of tick t on the first pass at or after t * TICK and
	 * fires there the timers already due; a timer further than a revolution away shares the
	 * slot but is not due on this visit. */
	last = tick_of(until_ns + DP_TIMER_TICK_NS - 1);
	if (last > tw->last_tick + DP_TIMER_SLOTS)
		last = tw->last_tick + DP_TIMER_SLOTS;
	for (tick = tw->last_tick + 1; tick <= last; tick++) {
		uint64_t at = tick * DP_TIMER_TICK_NS;
		const struct dp_timer *t;

		for (t = tw->slot[tick & (DP_TIMER_SLOTS - 1)]; t != NULL; t = t->next)
			if (t->expire_ns <= at)
				return at;
	}
	return UINT64_MAX;
}
