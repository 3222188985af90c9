/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Self-check of the latency histogram layout: indices are monotonic and contiguous, every
 * value falls inside its bucket, and percentiles of known distributions stay within the
 * stated error bound. Plain C (no cmocka): bench/ builds without the test dependencies.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

static int failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
			failures++;                                                                \
		}                                                                                  \
	} while (0)

static void test_layout_is_monotonic_and_tight(void)
{
	unsigned prev = 0, idx;
	uint64_t v;

	for (v = 0; v < (1ull << 37); v = v < 4096 ? v + 1 : v + v / 97) {
		idx = bench_hist_index(v);
		CHECK(idx < BENCH_HIST_BUCKETS);
		CHECK(idx >= prev);
		CHECK(idx <= prev + 1 || v >= 4096);
		CHECK(bench_hist_lower(idx) <= v);
		if (idx + 1 < BENCH_HIST_BUCKETS)
			CHECK(bench_hist_lower(idx + 1) > v);
		prev = idx;
	}
	CHECK(bench_hist_index(UINT64_MAX) == BENCH_HIST_BUCKETS - 1);
}

static void test_quantiles_of_uniform_values(void)
{
	static struct bench_hist h;
	uint64_t v, p50, p99;

	bench_hist_reset(&h);
	for (v = 1; v <= 100000; v++)
		bench_hist_record(&h, v * 1000); /* 1 us .. 100 ms */
	p50 = bench_hist_quantile(&h, 0.5);
	p99 = bench_hist_quantile(&h, 0.99);
	CHECK(h.count == 100000);
	CHECK(p50 > 50000000ull * 99 / 100 && p50 < 50000000ull * 101 / 100);
	CHECK(p99 > 99000000ull * 99 / 100 && p99 < 99000000ull * 101 / 100);
	CHECK(bench_hist_quantile(&h, 0) == 1000);
	CHECK(bench_hist_quantile(&h, 1) == 100000000);
}

static void test_merge_adds_counts(void)
{
	static struct bench_hist a, b;

	bench_hist_reset(&a);
	bench_hist_reset(&b);
	bench_hist_record(&a, 10);
	bench_hist_record(&b, 1000000);
	bench_hist_record(&b, 1000000);
	bench_hist_merge(&a, &b);
	CHECK(a.count == 3);
	CHECK(a.min == 10 && a.max == 1000000);
	CHECK(bench_hist_quantile(&a, 0.3) == 10);
	CHECK(bench_hist_quantile(&a, 0.5) > 990000);
	bench_hist_reset(&a);
	CHECK(bench_hist_quantile(&a, 0.5) == 0);
}

int main(void)
{
	test_layout_is_monotonic_and_tight();
	test_quantiles_of_uniform_values();
	test_merge_adds_counts();
	if (failures == 0)
		printf("bench_hist: all checks passed\n");
	return failures == 0 ? 0 : 1;
}
