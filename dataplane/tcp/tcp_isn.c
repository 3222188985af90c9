/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Initial sequence numbers, RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4-microsecond clock (RFC 9293 §3.4.1) and F a keyed pseudo-random function.
 * F is SipHash-2-4 (Aumasson & Bernstein, 2012) with a 128-bit per-worker secret drawn from
 * the worker's random source when the engine is created. A 4-tuple only ever lives on one
 * worker, so per-worker keys keep ISNs monotonic per tuple, as RFC 6528 requires.
 */
#include <string.h>

#include "tcp_priv.h"

static inline uint64_t rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND                                                                                   \
	do {                                                                                       \
		v0 += v1;                                                                          \
		v1 = rotl(v1, 13);                                                                 \
		v1 ^= v0;                                                                          \
		v0 = rotl(v0, 32);                                                                 \
		v2 += v3;                                                                          \
		v3 = rotl(v3, 16);                                                                 \
		v3 ^= v2;                                                                          \
		v0 += v3;                                                                          \
		v3 = rotl(v3, 21);                                                                 \
		v3 ^= v0;                                                                          \
		v2 += v1;                                                                          \
		v1 = rotl(v1, 17);                                                                 \
		v1 ^= v2;                                                                          \
		v2 = rotl(v2, 32);                                                                 \
	} while (0)

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	unsigned i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint64_t tcp__siphash(const uint64_t key[2], const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	uint64_t b = (uint64_t)len << 56, m;
	size_t i, left = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(p + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	for (i = 0; i < left; i++)
		b |= (uint64_t)p[len - left + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tcp__isn(struct tcp_engine *e, const struct tcp_key *k)
{
	uint32_t m = (uint32_t)(e->w->now_ns / 4000); /* RFC 9293 §3.4.1: 4 us tick */

	return m + (uint32_t)tcp__siphash(e->isn_key, k, sizeof(*k));
}
