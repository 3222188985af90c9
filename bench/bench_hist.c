/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Log-linear latency histogram (the HdrHistogram layout, reduced to what the benchmark needs).
 *
 * Why hand-written rather than a library: the recording path runs inside the poll loop of a
 * zpath worker, so it must not allocate, lock or call out (HdrHistogram_c allocates and is not
 * packaged for the build we target); DPDK has no histogram; and the layout is 60 lines whose
 * error bound we can state: values below 2^SUB_BITS ns are exact, every larger value lands in
 * one of 2^SUB_BITS linear sub-buckets of its power of two, so a reported percentile (the
 * bucket midpoint) is within 1/2^(SUB_BITS+1) (< 0.8 %) of a recorded value. Histograms of
 * several workers merge by adding counts, which a sampled or averaged estimate cannot do.
 */
#include <string.h>

#include "bench.h"

#define SUB (1u << BENCH_HIST_SUB_BITS)

unsigned bench_hist_index(uint64_t ns)
{
	unsigned e, shift;

	if (ns < SUB)
		return (unsigned)ns;
	e = 63u - (unsigned)__builtin_clzll(ns);
	shift = e - BENCH_HIST_SUB_BITS;
	if (shift > BENCH_HIST_MAX_SHIFT)
		return BENCH_HIST_BUCKETS - 1; /* clamp: larger than ~137 s */
	return shift * SUB + (unsigned)(ns >> shift);
}

uint64_t bench_hist_lower(unsigned idx)
{
	unsigned shift;

	if (idx < 2 * SUB)
		return idx;
	shift = idx / SUB - 1;
	return (uint64_t)(idx - shift * SUB) << shift;
}

void bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

void bench_hist_record(struct bench_hist *h, uint64_t ns)
{
	h->buckets[bench_hist_index(ns)]++;
	h->count++;
	if (ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
}

void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	unsigned i;

	for (i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned i;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* The smallest value with at least ceil(q * count) values at or below it. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	for (i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t lo = bench_hist_lower(i);
			uint64_t width =
				(i + 1 < BENCH_HIST_BUCKETS ? bench_hist_lower(i + 1) : lo + 1) -
				lo;
			uint64_t mid = lo + width / 2;

			/* Never report outside what was actually recorded. */
			if (mid < h->min)
				mid = h->min;
			if (mid > h->max)
				mid = h->max;
			return mid;
		}
	}
	return h->max;
}
