/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_cksum.h, the 8-bytes-at-a-time Internet checksum that TCP output and input use on ports
 * without checksum offload: it must give exactly what DPDK's rte_raw_cksum(),
 * rte_ipv4_udptcp_cksum() and rte_ipv4_udptcp_cksum_verify() give, for every length (odd
 * ones included), every alignment and sums that carry a lot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <rte_ip.h>

#include "dp_cksum.h"

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint8_t rnd8(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint8_t)rng;
}

static void test_raw_matches_dpdk(void **state)
{
	static uint8_t buf[2100];
	unsigned len, off, fill;

	(void)state;
	for (fill = 0; fill < 3; fill++) {
		for (len = 0; len < sizeof(buf); len++)
			buf[len] = fill == 0 ? rnd8() : fill == 1 ? 0xff : 0x00;
		for (off = 0; off < 8; off++)
			for (len = 0; len + off <= sizeof(buf); len += (len < 80 ? 1 : 37))
				assert_int_equal(dp_cksum_raw(buf + off, len),
						 rte_raw_cksum(buf + off, len));
	}
}

static void test_l4_matches_dpdk(void **state)
{
	static uint8_t pkt[20 + 1480 + 8];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)pkt;
	unsigned l4len, i, round;

	(void)state;
	for (round = 0; round < 200; round++) {
		for (i = 0; i < sizeof(pkt); i++)
			pkt[i] = rnd8();
		l4len = 20 + (round * 7919u) % 1461u;
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + l4len));
		ip->next_proto_id = IPPROTO_TCP;
		pkt[20 + 16] = pkt[20 + 17] = 0; /* the TCP checksum field */
		{
			uint16_t want = rte_ipv4_udptcp_cksum(ip, pkt + 20);
			uint16_t got = dp_ipv4_l4_cksum(ip, pkt + 20);

			assert_int_equal(got, want);
			/* Stored at the TCP checksum offset, both verifiers accept it... */
			memcpy(pkt + 20 + 16, &got, 2);
			assert_int_equal(dp_ipv4_l4_cksum_verify(ip, pkt + 20), 0);
			assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, pkt + 20), 0);
			/* ...and both refuse a flipped payload bit. */
			pkt[20 + l4len - 1] ^= 0x10;
			assert_int_not_equal(dp_ipv4_l4_cksum_verify(ip, pkt + 20), 0);
			assert_int_not_equal(rte_ipv4_udptcp_cksum_verify(ip, pkt + 20), 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_matches_dpdk),
		cmocka_unit_test(test_l4_matches_dpdk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
