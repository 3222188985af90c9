/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket-option defaults per local port range (zpathctl sockopt).
 *
 * The table is immutable once published. The control thread builds a new one for every
 * change and swaps the pointer; workers read it through dp_sockopt_defaults_get() inside an
 * rte_rcu_qsbr online/offline section, so the getter takes no lock and the old table is freed
 * only after every worker that might hold it has gone offline again. One snapshot serves all
 * workers, so a change reaches every instance at once (no per-worker walk as in CINET, CIN-3).
 *
 * A socket takes the defaults at zp_socket() (port 0: the 0-65535 rule) and, once bound or
 * accepted, those of its local port (dataplane/sock decides when to ask). A change never
 * touches sockets that already exist.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "ctl_priv.h"

/* ---- the table (pure) -------------------------------------------------------------------- */

static size_t table_size(unsigned n)
{
	return sizeof(struct ctl_sockopt_table) + n * sizeof(struct ctl_sockopt_rule);
}

struct ctl_sockopt_table *ctl_sockopt_table_new(void)
{
	struct ctl_sockopt_table *t = calloc(1, table_size(1));

	if (t == NULL)
		return NULL;
	t->n = 1;
	t->r[0].lo = 0;
	t->r[0].hi = 65535;
	return t;
}

const struct dp_sockopt_defaults *ctl_sockopt_table_lookup(const struct ctl_sockopt_table *t,
							   uint16_t port)
{
	const struct ctl_sockopt_rule *best = &t->r[0];
	unsigned i;

	for (i = 1; i < t->n; i++) {
		const struct ctl_sockopt_rule *r = &t->r[i];

		if (port >= r->lo && port <= r->hi && r->hi - r->lo < best->hi - best->lo)
			best = r;
	}
	return &best->d;
}

/* The narrowest rule that contains lo..hi (r[0] contains everything). */
static const struct ctl_sockopt_rule *table_enclosing(const struct ctl_sockopt_table *t,
						      uint16_t lo, uint16_t hi)
{
	const struct ctl_sockopt_rule *best = &t->r[0];
	unsigned i;

	for (i = 1; i < t->n; i++) {
		const struct ctl_sockopt_rule *r = &t->r[i];

		if (r->lo <= lo && hi <= r->hi && r->hi - r->lo < best->hi - best->lo)
			best = r;
	}
	return best;
}

static void apply_set(struct dp_sockopt_defaults *d, const struct ctl_sockopt_set *set)
{
	int so;

	for (so = 0; so < CTL_SO_MAX; so++) {
		if (!(set->mask & (1u << so)))
			continue;
		switch ((enum ctl_so)so) {
		case CTL_SO_LINGER:
			d->linger_on = set->val.linger_on;
			d->linger_s = set->val.linger_s;
			break;
		case CTL_SO_NODELAY:
			d->nodelay = set->val.nodelay;
			break;
		case CTL_SO_KEEPALIVE:
			d->keepalive = set->val.keepalive;
			break;
		case CTL_SO_KEEPIDLE:
			d->keepidle_s = set->val.keepidle_s;
			break;
		case CTL_SO_KEEPINTVL:
			d->keepintvl_s = set->val.keepintvl_s;
			break;
		case CTL_SO_KEEPCNT:
			d->keepcnt = set->val.keepcnt;
			break;
		case CTL_SO_SNDBUF:
			d->sndbuf = set->val.sndbuf;
			break;
		case CTL_SO_RCVBUF:
			d->rcvbuf = set->val.rcvbuf;
			break;
		case CTL_SO_MAX:
			break;
		}
	}
}

int ctl_sockopt_table_set(const struct ctl_sockopt_table *old, const struct ctl_sockopt_set *set,
			  struct ctl_sockopt_table **out, char *err, size_t errlen)
{
	struct ctl_sockopt_table *t;
	unsigned i, at = old->n;

	if (set->lo > set->hi) {
		snprintf(err, errlen, "empty port range %u-%u", set->lo, set->hi);
		return -EINVAL;
	}
	for (i = 0; i < old->n; i++) {
		const struct ctl_sockopt_rule *r = &old->r[i];
		bool disjoint = set->hi < r->lo || r->hi < set->lo;
		bool nested = (r->lo <= set->lo && set->hi <= r->hi) ||
			      (set->lo <= r->lo && r->hi <= set->hi);

		if (r->lo == set->lo && r->hi == set->hi)
			at = i;
		else if (!disjoint && !nested) {
			snprintf(err, errlen,
				 "ports %u-%u partly overlap the rule for %u-%u "
				 "(ranges must nest or be disjoint)",
				 set->lo, set->hi, r->lo, r->hi);
			return -EINVAL;
		}
	}
	if (at == old->n && old->n >= CTL_SOCKOPT_RULES_MAX) {
		snprintf(err, errlen, "too many rules (max %d)", CTL_SOCKOPT_RULES_MAX);
		return -ENOSPC;
	}
	t = malloc(table_size(old->n + 1));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	memcpy(t, old, table_size(old->n));
	if (at == old->n) {
		t->r[at].lo = set->lo;
		t->r[at].hi = set->hi;
		t->r[at].d = table_enclosing(old, set->lo, set->hi)->d;
		t->n++;
	}
	apply_set(&t->r[at].d, set);
	*out = t;
	return 0;
}

int ctl_sockopt_table_del(const struct ctl_sockopt_table *old, uint16_t lo, uint16_t hi,
			  struct ctl_sockopt_table **out)
{
	struct ctl_sockopt_table *t;
	unsigned i, j;

	if (lo == 0 && hi == 65535)
		return -EINVAL;
	for (i = 1; i < old->n; i++)
		if (old->r[i].lo == lo && old->r[i].hi == hi)
			break;
	if (i == old->n)
		return -ENOENT;
	t = malloc(table_size(old->n));
	if (t == NULL)
		return -ENOMEM;
	t->n = 0;
	for (j = 0; j < old->n; j++)
		if (j != i)
			t->r[t->n++] = old->r[j];
	*out = t;
	return 0;
}

/* ---- publication to the workers (RCU) ---------------------------------------------------- */

/* The table workers see before the first change, and after ctl_stop(): never freed. */
static struct ctl_sockopt_table *builtin;
static struct ctl_sockopt_table *current; /* atomic pointer; control thread writes */
static struct rte_rcu_qsbr *rcu;	  /* created once per process, never freed */
static uint32_t rcu_threads;

struct retired {
	struct retired *next;
	struct ctl_sockopt_table *t;
	uint64_t token;
};
static struct retired *retired_list;

/* dp_sockopt_defaults_fn: runs on a worker, lock-free. */
static void ctl_sockopt_get(struct dp_worker *w, rte_be16_t lport, struct dp_sockopt_defaults *out)
{
	const struct ctl_sockopt_table *t;
	struct rte_rcu_qsbr *v = __atomic_load_n(&rcu, __ATOMIC_ACQUIRE);

	if (w == NULL || v == NULL || w->id >= rcu_threads) {
		/* Not a worker: only the never-freed built-in table is safe to read. */
		t = __atomic_load_n(&builtin, __ATOMIC_ACQUIRE);
		if (t != NULL)
			*out = *ctl_sockopt_table_lookup(t, rte_be_to_cpu_16(lport));
		return;
	}
	rte_rcu_qsbr_thread_online(v, w->id);
	t = __atomic_load_n(&current, __ATOMIC_ACQUIRE);
	*out = *ctl_sockopt_table_lookup(t, rte_be_to_cpu_16(lport));
	rte_rcu_qsbr_thread_offline(v, w->id);
}

int ctl_sockopt_start(const struct dp_stack *stack)
{
	uint32_t i;

	if (builtin == NULL) {
		struct ctl_sockopt_table *b = ctl_sockopt_table_new();

		if (b == NULL)
			return -ENOMEM;
		__atomic_store_n(&builtin, b, __ATOMIC_RELEASE);
	}
	if (rcu == NULL) {
		size_t sz = rte_rcu_qsbr_get_memsize(DP_MAX_WORKERS);
		struct rte_rcu_qsbr *v = rte_zmalloc("zp_ctl_rcu", sz, RTE_CACHE_LINE_SIZE);

		if (v == NULL)
			return -ENOMEM;
		if (rte_rcu_qsbr_init(v, DP_MAX_WORKERS) != 0) {
			rte_free(v);
			return -EINVAL;
		}
		for (i = 0; i < DP_MAX_WORKERS; i++)
			rte_rcu_qsbr_thread_register(v, i);
		rcu_threads = DP_MAX_WORKERS;
		__atomic_store_n(&current, builtin, __ATOMIC_RELEASE);
		__atomic_store_n(&rcu, v, __ATOMIC_RELEASE);
	}
	(void)stack;
	dp_sockopt_defaults_register(ctl_sockopt_get);
	return 0;
}

const struct ctl_sockopt_table *ctl_sockopt_current(void)
{
	return __atomic_load_n(&current, __ATOMIC_ACQUIRE);
}

void ctl_sockopt_publish(struct ctl_sockopt_table *t)
{
	struct ctl_sockopt_table *old = __atomic_exchange_n(&current, t, __ATOMIC_ACQ_REL);
	struct retired *r;

	if (old == builtin || old == NULL)
		return;
	r = malloc(sizeof(*r));
	if (r == NULL) {
		/* Cannot defer: wait for the readers (brief: they never block while online). */
		rte_rcu_qsbr_synchronize(rcu, RTE_QSBR_THRID_INVALID);
		free(old);
		return;
	}
	r->t = old;
	r->token = rte_rcu_qsbr_start(rcu);
	r->next = retired_list;
	retired_list = r;
}

bool ctl_sockopt_reclaim(void)
{
	struct retired **pp = &retired_list, *r;

	while ((r = *pp) != NULL) {
		if (rte_rcu_qsbr_check(rcu, r->token, false) == 1) {
			*pp = r->next;
			free(r->t);
			free(r);
		} else {
			pp = &r->next;
		}
	}
	return retired_list != NULL;
}

void ctl_sockopt_stop(void)
{
	struct retired *r;

	if (rcu == NULL)
		return;
	/* Workers may still run: go back to the built-in table, then wait and free the rest. */
	ctl_sockopt_publish(builtin);
	rte_rcu_qsbr_synchronize(rcu, RTE_QSBR_THRID_INVALID);
	while ((r = retired_list) != NULL) {
		retired_list = r->next;
		free(r->t);
		free(r);
	}
}
