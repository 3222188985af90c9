/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_clock_ns(): the poll loop's clock converts TSC cycles to nanoseconds with a precomputed
 * multiply-shift. It must agree with cycles * 10^9 / hz and never go backwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include <rte_cycles.h>

#include "zpt.h"

static void test_clock_ns_matches_the_tsc_conversion(void **state)
{
	uint64_t c0, c1, n0, n1, hz;
	double ref, got;

	(void)state;
	zpt_eal_init();
	hz = rte_get_tsc_hz();
	(void)dp_clock_ns();
	/* Read both clocks back to back, a known number of cycles apart. */
	c0 = rte_get_tsc_cycles();
	n0 = dp_clock_ns();
	rte_delay_us_block(50000);
	c1 = rte_get_tsc_cycles();
	n1 = dp_clock_ns();
	ref = (double)(c1 - c0) * 1e9 / (double)hz;
	got = (double)(n1 - n0);
	/* Reading order costs a few cycles either way; the conversion itself is exact to ppb. */
	assert_true(got > ref - 2000.0 && got < ref + 2000.0);
	/* And an absolute value: now in ns is cycles / hz seconds. */
	assert_true((double)n1 > (double)c1 * 1e9 / (double)hz - 1e6);
	assert_true((double)n1 < (double)c1 * 1e9 / (double)hz + 1e6);
}

static void test_clock_ns_never_goes_backwards(void **state)
{
	uint64_t prev, now;
	unsigned i;

	(void)state;
	zpt_eal_init();
	prev = dp_clock_ns();
	for (i = 0; i < 100000; i++) {
		now = dp_clock_ns();
		assert_true(now >= prev);
		prev = now;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_ns_matches_the_tsc_conversion),
		cmocka_unit_test(test_clock_ns_never_goes_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
