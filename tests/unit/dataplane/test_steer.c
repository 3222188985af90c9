/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flow ownership (dataplane/port/steer.c): with RSS the software hash must equal what the NIC
 * computes (checked against the Microsoft RSS verification vectors), without RSS both
 * directions of a flow must map to one worker, non-TCP/UDP goes to worker 0, and connect()
 * can always find a source port that steers back to the calling worker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_arp.h>
#include <rte_tcp.h>

#include "port/dp_port.h"
#include "zpt.h"

#define BE16(x) rte_cpu_to_be_16(x)

/* A stack with one interface at @p addr and @p workers workers; rss as asked. */
static void stack_init(struct dp_stack *s, rte_be32_t addr, uint16_t workers, bool rss,
		       uint16_t reta_size)
{
	memset(s, 0, sizeof(*s));
	s->nb_workers = workers;
	s->nb_ifaces = 1;
	s->ifaces[0].addr = addr;
	s->ifaces[0].nb_queues = workers;
	s->ifaces[0].nb_rx_queues = workers;
	s->ifaces[0].rss = rss;
	s->ifaces[0].reta_size = rss ? reta_size : 0;
}

/* "Verifying the RSS hash calculation", Microsoft: IPv4 + TCP. */
static const struct {
	uint8_t dst[4];
	uint16_t dport;
	uint8_t src[4];
	uint16_t sport;
	uint32_t hash;
} ms_vectors[] = {
	{{161, 142, 100, 80}, 1766, {66, 9, 149, 187}, 2794, 0x51ccc178},
	{{65, 69, 140, 83}, 4739, {199, 92, 111, 2}, 14230, 0xc626b0ea},
	{{12, 22, 207, 184}, 38024, {24, 19, 198, 95}, 12898, 0x5c2b394a},
	{{209, 142, 163, 6}, 2217, {38, 27, 205, 30}, 48228, 0xafc7327f},
	{{202, 188, 127, 2}, 1303, {153, 39, 163, 191}, 44251, 0x10e828a2},
};

static void test_steer_rss_matches_the_nic_toeplitz_hash(void **state)
{
	struct dp_stack s;
	unsigned i, workers, reta;

	(void)state;
	for (i = 0; i < RTE_DIM(ms_vectors); i++) {
		const uint8_t *d = ms_vectors[i].dst, *sa = ms_vectors[i].src;
		rte_be32_t dst = ZPT_IP(d[0], d[1], d[2], d[3]);
		rte_be32_t src = ZPT_IP(sa[0], sa[1], sa[2], sa[3]);

		for (workers = 2; workers <= 5; workers++) {
			for (reta = 64; reta <= 512; reta *= 2) {
				uint16_t want = (uint16_t)((ms_vectors[i].hash % reta) % workers);

				stack_init(&s, dst, (uint16_t)workers, true, (uint16_t)reta);
				assert_int_equal(dp_flow_worker(&s, src, dst,
								BE16(ms_vectors[i].sport),
								BE16(ms_vectors[i].dport)),
						 want);
			}
		}
	}
}

static void test_steer_software_hash_is_symmetric_and_spreads(void **state)
{
	struct dp_stack s;
	rte_be32_t a = ZPT_IP(10, 0, 0, 1), b = ZPT_IP(10, 0, 0, 2);
	unsigned count[4] = {0}, port;

	(void)state;
	stack_init(&s, a, 4, false, 0);
	for (port = 1024; port < 1024 + 4096; port++) {
		uint16_t w = dp_flow_worker(&s, b, a, BE16((uint16_t)port), BE16(80));

		assert_true(w < 4);
		assert_int_equal(dp_flow_worker(&s, a, b, BE16(80), BE16((uint16_t)port)), w);
		count[w]++;
	}
	/* 4096 flows over 4 workers: each gets a fair share (expected 1024). */
	for (port = 0; port < 4; port++)
		assert_in_range(count[port], 850, 1200);
}

static void test_steer_one_worker_owns_everything(void **state)
{
	struct dp_stack s;
	rte_be32_t a = ZPT_IP(10, 0, 0, 1), b = ZPT_IP(10, 0, 0, 2);
	unsigned port;

	(void)state;
	stack_init(&s, a, 1, false, 0);
	for (port = 1; port < 2000; port += 7)
		assert_int_equal(dp_flow_worker(&s, b, a, BE16((uint16_t)port), BE16(80)), 0);
}

static void test_steer_connect_finds_a_source_port_for_every_worker(void **state)
{
	static const bool rss[] = {false, true};
	rte_be32_t local = ZPT_IP(10, 0, 0, 1), remote = ZPT_IP(10, 0, 0, 9);
	struct dp_stack s;
	unsigned r, w, tries;

	(void)state;
	for (r = 0; r < RTE_DIM(rss); r++) {
		stack_init(&s, local, 4, rss[r], 128);
		for (w = 0; w < 4; w++) {
			/* What connect() does: try ephemeral ports until the reply steers to w. */
			for (tries = 0; tries < 64; tries++) {
				uint16_t lport = (uint16_t)(49152 + w * 1000 + tries);

				if (dp_flow_worker(&s, remote, local, BE16(443), BE16(lport)) == w)
					break;
			}
			assert_true(tries < 64);
		}
	}
}

static void test_steer_packet_matches_flow_and_non_tcp_goes_to_worker_0(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	struct rte_ether_addr peer = zpt_peer_mac(1);
	rte_be32_t us = env->stack.ifaces[0].addr, them = ZPT_IP(10, 0, 0, 9);
	uint8_t frame[256], l4[20];
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)l4;
	struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m;
	unsigned port, seen = 0;
	size_t len;

	(void)state;
	env->stack.nb_workers = 4;
	env->stack.ifaces[0].nb_queues = 4;
	env->stack.ifaces[0].nb_rx_queues = 4;
	memset(l4, 0, sizeof(l4));
	th->data_off = 5 << 4;
	for (port = 40000; port < 40064; port++) {
		uint16_t want =
			dp_flow_worker(&env->stack, them, us, BE16((uint16_t)port), BE16(80));

		th->src_port = BE16((uint16_t)port);
		th->dst_port = BE16(80);
		len = zpt_build_ipv4(frame, &env->stack.ifaces[0].mac, &peer, them, us, IPPROTO_TCP,
				     l4, sizeof(l4));
		m = zpt_mbuf(env, frame, len);
		assert_int_equal(dp_steer_worker(&env->stack, m), want);
		seen |= 1u << want;
		/* A fragment of the same flow has no usable ports: worker 0. */
		ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, RTE_ETHER_HDR_LEN);
		ip->fragment_offset = BE16(RTE_IPV4_HDR_MF_FLAG);
		assert_int_equal(dp_steer_worker(&env->stack, m), 0);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(seen, 0xf); /* all four workers own some of the 64 flows */

	len = zpt_build_ping(frame, &env->stack.ifaces[0].mac, &peer, them, us, 7, 1, 32);
	m = zpt_mbuf(env, frame, len);
	assert_int_equal(dp_steer_worker(&env->stack, m), 0);
	rte_pktmbuf_free(m);
	len = zpt_build_arp(frame, &env->stack.ifaces[0].mac, RTE_ARP_OP_REQUEST, &peer, them, NULL,
			    us);
	m = zpt_mbuf(env, frame, len);
	assert_int_equal(dp_steer_worker(&env->stack, m), 0);
	rte_pktmbuf_free(m);
	/* A runt cannot be classified: worker 0 (which drops it with its reason). */
	m = zpt_mbuf(env, frame, 10);
	assert_int_equal(dp_steer_worker(&env->stack, m), 0);
	rte_pktmbuf_free(m);

	env->stack.nb_workers = 1;
	zpt_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steer_rss_matches_the_nic_toeplitz_hash),
		cmocka_unit_test(test_steer_software_hash_is_symmetric_and_spreads),
		cmocka_unit_test(test_steer_one_worker_owns_everything),
		cmocka_unit_test(test_steer_connect_finds_a_source_port_for_every_worker),
		cmocka_unit_test(test_steer_packet_matches_flow_and_non_tcp_goes_to_worker_0),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
