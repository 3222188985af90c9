/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket-option defaults per local port range (control/ctl_sockopt.c, the table half): a new
 * rule starts from the narrowest rule enclosing it, the narrowest rule wins a lookup, ranges
 * must nest or be disjoint, and a change never alters the table workers may be reading.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl_priv.h"

static char err[256];

/* Apply "k=v ..." to ports lo..hi of @p t; returns the new table (the old one is freed). */
static struct ctl_sockopt_table *set(struct ctl_sockopt_table *t, uint16_t lo, uint16_t hi,
				     const char *kvs)
{
	struct ctl_sockopt_set s;
	struct ctl_sockopt_table *n = NULL;
	char buf[256], *tok, *save = NULL;

	memset(&s, 0, sizeof(s));
	s.lo = lo;
	s.hi = hi;
	snprintf(buf, sizeof(buf), "%s", kvs);
	for (tok = strtok_r(buf, " ", &save); tok != NULL; tok = strtok_r(NULL, " ", &save))
		assert_int_equal(ctl_sockopt_kv_parse(tok, &s, err, sizeof(err)), 0);
	if (ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)) != 0)
		fail_msg("set %u-%u %s: %s", lo, hi, kvs, err);
	free(t);
	return n;
}

static void test_sockopt_builtin_defaults_are_all_off(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new();
	const struct dp_sockopt_defaults *d;
	struct dp_sockopt_defaults zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	assert_int_equal(t->n, 1);
	d = ctl_sockopt_table_lookup(t, 0);
	assert_memory_equal(d, &zero, sizeof(zero));
	assert_ptr_equal(ctl_sockopt_table_lookup(t, 65535), d);
	free(t);
}

static void test_sockopt_new_range_inherits_from_the_narrowest_enclosing_rule(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new();
	const struct dp_sockopt_defaults *d;

	(void)state;
	t = set(t, 0, 65535, "keepalive=1 keepidle=600");
	t = set(t, 8000, 8999, "nodelay=1");
	t = set(t, 8080, 8080, "linger=0");
	assert_int_equal(t->n, 3);

	d = ctl_sockopt_table_lookup(t, 80);
	assert_true(d->keepalive);
	assert_false(d->nodelay);
	assert_false(d->linger_on);

	d = ctl_sockopt_table_lookup(t, 8443);
	assert_true(d->keepalive); /* copied from 0-65535 when 8000-8999 was created */
	assert_int_equal(d->keepidle_s, 600);
	assert_true(d->nodelay);
	assert_false(d->linger_on);

	d = ctl_sockopt_table_lookup(t, 8080); /* narrowest wins, inherits 8000-8999 */
	assert_true(d->nodelay);
	assert_true(d->linger_on);
	assert_int_equal(d->linger_s, 0);
	assert_int_equal(d->keepidle_s, 600);

	/* A later change to the outer rule does not reach the inner ones (they are copies). */
	t = set(t, 0, 65535, "keepidle=30");
	assert_int_equal(ctl_sockopt_table_lookup(t, 80)->keepidle_s, 30);
	assert_int_equal(ctl_sockopt_table_lookup(t, 8080)->keepidle_s, 600);
	free(t);
}

static void test_sockopt_same_range_changes_in_place(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new();

	(void)state;
	t = set(t, 1000, 1999, "sndbuf=65536");
	t = set(t, 1000, 1999, "rcvbuf=131072");
	assert_int_equal(t->n, 2);
	assert_int_equal(ctl_sockopt_table_lookup(t, 1500)->sndbuf, 65536);
	assert_int_equal(ctl_sockopt_table_lookup(t, 1500)->rcvbuf, 131072);
	free(t);
}

static void test_sockopt_partial_overlap_is_refused(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new(), *n = NULL;
	struct ctl_sockopt_set s = {.lo = 8500, .hi = 9500, .mask = 1u << CTL_SO_NODELAY};

	(void)state;
	t = set(t, 8000, 8999, "nodelay=1");
	assert_int_equal(ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)), -EINVAL);
	assert_null(n);
	assert_string_equal(err, "ports 8500-9500 partly overlap the rule for 8000-8999 (ranges "
				 "must nest or be disjoint)");
	/* Enclosing and disjoint ranges are fine. */
	s.lo = 7000;
	s.hi = 9999;
	assert_int_equal(ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)), 0);
	free(n);
	s.lo = 9000;
	s.hi = 9000;
	assert_int_equal(ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)), 0);
	free(n);
	free(t);
}

static void test_sockopt_change_leaves_the_old_table_alone(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new(), *n = NULL;
	struct ctl_sockopt_set s = {.lo = 0, .hi = 65535, .mask = 1u << CTL_SO_KEEPALIVE};

	(void)state;
	s.val.keepalive = true;
	assert_int_equal(ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)), 0);
	assert_false(ctl_sockopt_table_lookup(t, 1)->keepalive);
	assert_true(ctl_sockopt_table_lookup(n, 1)->keepalive);
	free(t);
	free(n);
}

static void test_sockopt_del(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new(), *n = NULL;

	(void)state;
	t = set(t, 22, 22, "keepalive=1");
	t = set(t, 443, 443, "nodelay=1");
	assert_int_equal(ctl_sockopt_table_del(t, 22, 23, &n), -ENOENT);
	assert_int_equal(ctl_sockopt_table_del(t, 0, 65535, &n), -EINVAL);
	assert_int_equal(ctl_sockopt_table_del(t, 22, 22, &n), 0);
	assert_int_equal(n->n, 2);
	assert_false(ctl_sockopt_table_lookup(n, 22)->keepalive);
	assert_true(ctl_sockopt_table_lookup(n, 443)->nodelay);
	assert_int_equal(n->r[0].lo, 0);
	assert_int_equal(n->r[0].hi, 65535);
	free(t);
	free(n);
}

static void test_sockopt_rule_limit_is_enospc(void **state)
{
	struct ctl_sockopt_table *t = ctl_sockopt_table_new(), *n = NULL;
	struct ctl_sockopt_set s = {.mask = 1u << CTL_SO_NODELAY};
	unsigned i;

	(void)state;
	for (i = 1; i < CTL_SOCKOPT_RULES_MAX; i++)
		t = set(t, (uint16_t)i, (uint16_t)i, "nodelay=1");
	assert_int_equal(t->n, CTL_SOCKOPT_RULES_MAX);
	s.lo = s.hi = 5000;
	assert_int_equal(ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)), -ENOSPC);
	s.lo = s.hi = 7; /* changing an existing rule still works */
	assert_int_equal(ctl_sockopt_table_set(t, &s, &n, err, sizeof(err)), 0);
	free(n);
	free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sockopt_builtin_defaults_are_all_off),
		cmocka_unit_test(test_sockopt_new_range_inherits_from_the_narrowest_enclosing_rule),
		cmocka_unit_test(test_sockopt_same_range_changes_in_place),
		cmocka_unit_test(test_sockopt_partial_overlap_is_refused),
		cmocka_unit_test(test_sockopt_change_leaves_the_old_table_alone),
		cmocka_unit_test(test_sockopt_del),
		cmocka_unit_test(test_sockopt_rule_limit_is_enospc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
