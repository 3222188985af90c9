/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (dataplane/net/icmp.c): echo replies that mirror the request, validation, the error
 * hook for the transport, and zp_ping_send() / zp_ping_replies().
 */
#include "net_test.h"

#include <errno.h>

#include <zpath/zpath.h>

static int setup(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	struct rte_ether_addr peer = peer_mac();

	dp_arp_update(env->w, 0, PEER_IP, &peer);
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	dp_icmp_error_register(NULL);
	zpt_env_free(*state);
	return 0;
}

static struct rte_icmp_hdr *frame_icmp(struct rte_mbuf *m)
{
	assert_int_equal(frame_ip(m)->next_proto_id, IPPROTO_ICMP);
	return frame_l4(m);
}

static bool icmp_cksum_valid(struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = frame_ip(m);
	size_t len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);

	return rte_raw_cksum(frame_l4(m), len) == 0xffff;
}

static void test_icmp_echo_request_is_answered_with_identical_id_seq_and_payload(void **state)
{
	static const size_t sizes[] = {0, 1, 2, 55, 56, 1000, 1471, 1472};
	struct zpt_env *env = *state;
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();
	uint8_t req[2048];
	unsigned i;

	for (i = 0; i < RTE_DIM(sizes); i++) {
		size_t len = zpt_build_ping(req, &mine, &peer, PEER_IP, OUR_IP, 0x1234,
					    (uint16_t)(100 + i), sizes[i]);
		const size_t icmp_off = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
		struct rte_icmp_hdr *ic;
		struct rte_ipv4_hdr *ip;
		struct rte_mbuf *m;

		zpt_inject(env, 0, req, len);
		zpt_poll(env);
		m = pop_only(env, 0);
		assert_int_equal(rte_pktmbuf_pkt_len(m), len);
		assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
		assert_ether_eq(&frame_eth(m)->src_addr, &mine);
		ip = frame_ip(m);
		assert_int_equal(ip->src_addr, OUR_IP);
		assert_int_equal(ip->dst_addr, PEER_IP);
		assert_true(ip_cksum_valid(ip));
		ic = frame_icmp(m);
		assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
		assert_int_equal(ic->icmp_code, 0);
		assert_int_equal(rte_be_to_cpu_16(ic->icmp_ident), 0x1234);
		assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), 100 + i);
		assert_true(icmp_cksum_valid(m));
		assert_memory_equal(ic + 1, req + icmp_off + sizeof(*ic), sizes[i] ? sizes[i] : 1);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(env->w->stats[DP_STAT_ICMP_ECHO_IN], RTE_DIM(sizes));
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_icmp_echo_request_from_unresolved_host_is_answered_after_arp(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr mine = our_mac(env, 0), other = zpt_peer_mac(3);
	rte_be32_t other_ip = IP4(10, 0, 0, 3);
	uint8_t req[256];
	size_t len = zpt_build_ping(req, &mine, &other, other_ip, OUR_IP, 9, 9, 20);
	struct rte_mbuf *m;

	zpt_inject(env, 0, req, len);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, other_ip);
	rte_pktmbuf_free(m);
	inject_arp_reply(env, 0, other_ip, &other);
	m = pop_only(env, 0);
	assert_int_equal(frame_icmp(m)->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	assert_ether_eq(&frame_eth(m)->dst_addr, &other);
	rte_pktmbuf_free(m);
}

static void test_icmp_bad_checksum_is_icmp_csum_and_not_answered(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();
	uint8_t req[256];
	size_t len = zpt_build_ping(req, &mine, &peer, PEER_IP, OUR_IP, 1, 1, 32);

	req[len - 1] ^= 0x40; /* one payload bit */
	zpt_inject(env, 0, req, len);
	zpt_poll(env);
	assert_int_equal(env->w->drops[DP_DROP_ICMP_CSUM], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

static void inject_icmp(struct zpt_env *env, const void *icmp, size_t len)
{
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();
	uint8_t buf[1600];
	size_t flen = zpt_build_ipv4(buf, &mine, &peer, PEER_IP, OUR_IP, IPPROTO_ICMP, icmp, len);

	zpt_inject(env, 0, buf, flen);
	zpt_poll(env);
}

static void test_icmp_shorter_than_header_is_icmp_short(void **state)
{
	struct zpt_env *env = *state;
	uint8_t msg[4] = {RTE_IP_ICMP_ECHO_REQUEST, 0, 0xf7, 0xff}; /* checksum right for 4 bytes */

	inject_icmp(env, msg, sizeof(msg));
	assert_int_equal(env->w->drops[DP_DROP_ICMP_SHORT], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

static void test_icmp_unhandled_type_is_icmp_type(void **state)
{
	struct zpt_env *env = *state;
	struct rte_icmp_hdr ic = {.icmp_type = 13}; /* timestamp request */

	ic.icmp_cksum = (uint16_t)~rte_raw_cksum(&ic, sizeof(ic));
	inject_icmp(env, &ic, sizeof(ic));
	assert_int_equal(env->w->drops[DP_DROP_ICMP_TYPE], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

/* An ICMP error about a TCP segment we sent from 10.0.0.1:40000 to 192.0.2.7:80. */
static size_t build_error(uint8_t *msg, uint8_t type, uint8_t code)
{
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)msg;
	struct rte_ipv4_hdr *inner = (struct rte_ipv4_hdr *)(ic + 1);
	uint8_t *l4 = (uint8_t *)(inner + 1);
	size_t len = sizeof(*ic) + sizeof(*inner) + 8;

	memset(msg, 0, len);
	ic->icmp_type = type;
	ic->icmp_code = code;
	inner->version_ihl = RTE_IPV4_VHL_DEF;
	inner->total_length = rte_cpu_to_be_16(60);
	inner->time_to_live = 1;
	inner->next_proto_id = IPPROTO_TCP;
	inner->src_addr = OUR_IP;
	inner->dst_addr = FAR_IP;
	inner->hdr_checksum = rte_ipv4_cksum(inner);
	l4[0] = 40000 >> 8;
	l4[1] = 40000 & 0xff;
	l4[3] = 80;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(msg, len);
	return len;
}

static struct {
	unsigned calls;
	uint8_t type, code;
	rte_be32_t inner_dst;
	uint16_t sport, dport;
	size_t inner_len;
} hooked;

static void error_hook(struct dp_worker *w, uint8_t type, uint8_t code,
		       const struct rte_ipv4_hdr *inner, const void *inner_l4, size_t inner_len)
{
	const uint8_t *l4 = inner_l4;

	(void)w;
	hooked.calls++;
	hooked.type = type;
	hooked.code = code;
	hooked.inner_dst = inner->dst_addr;
	hooked.sport = (uint16_t)(l4[0] << 8 | l4[1]);
	hooked.dport = (uint16_t)(l4[2] << 8 | l4[3]);
	hooked.inner_len = inner_len;
}

static void test_icmp_errors_reach_the_registered_hook_with_the_quoted_datagram(void **state)
{
	struct zpt_env *env = *state;
	uint8_t msg[128];
	size_t len;

	memset(&hooked, 0, sizeof(hooked));
	dp_icmp_error_register(error_hook);
	len = build_error(msg, 3, 3); /* port unreachable */
	inject_icmp(env, msg, len);
	assert_int_equal(hooked.calls, 1);
	assert_int_equal(hooked.type, 3);
	assert_int_equal(hooked.code, 3);
	assert_int_equal(hooked.inner_dst, FAR_IP);
	assert_int_equal(hooked.sport, 40000);
	assert_int_equal(hooked.dport, 80);
	assert_int_equal(hooked.inner_len, 8);

	len = build_error(msg, 11, 0); /* TTL exceeded in transit */
	inject_icmp(env, msg, len);
	assert_int_equal(hooked.calls, 2);
	assert_int_equal(hooked.type, 11);
	assert_int_equal(env->w->stats[DP_STAT_ICMP_OTHER_IN], 2);

	/* A quote without the 8 transport bytes is useless to TCP. */
	len = build_error(msg, 3, 1) - 1;
	msg[2] = msg[3] = 0;
	((struct rte_icmp_hdr *)msg)->icmp_cksum = (uint16_t)~rte_raw_cksum(msg, len);
	inject_icmp(env, msg, len);
	assert_int_equal(hooked.calls, 2);
	assert_int_equal(env->w->drops[DP_DROP_ICMP_SHORT], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

static void test_icmp_errors_without_hook_are_icmp_type(void **state)
{
	struct zpt_env *env = *state;
	uint8_t msg[128];
	size_t len = build_error(msg, 3, 1);

	inject_icmp(env, msg, len);
	assert_int_equal(env->w->drops[DP_DROP_ICMP_TYPE], 1);
}

static void test_ping_send_puts_request_on_the_wire_after_arp(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr other = zpt_peer_mac(3);
	rte_be32_t other_ip = IP4(10, 0, 0, 3);
	struct rte_icmp_hdr *ic;
	struct rte_mbuf *m;
	uint8_t *data;
	unsigned i;

	assert_int_equal(zp_ping_send(other_ip, 0x77, 5, 56), 0);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, other_ip);
	rte_pktmbuf_free(m);

	inject_arp_reply(env, 0, other_ip, &other);
	m = pop_only(env, 0);
	assert_ether_eq(&frame_eth(m)->dst_addr, &other);
	assert_int_equal(frame_ip(m)->src_addr, OUR_IP);
	assert_int_equal(frame_ip(m)->dst_addr, other_ip);
	assert_true(ip_cksum_valid(frame_ip(m)));
	ic = frame_icmp(m);
	assert_int_equal(ic->icmp_type, RTE_IP_ICMP_ECHO_REQUEST);
	assert_int_equal(rte_be_to_cpu_16(ic->icmp_ident), 0x77);
	assert_int_equal(rte_be_to_cpu_16(ic->icmp_seq_nb), 5);
	assert_int_equal(rte_be_to_cpu_16(frame_ip(m)->total_length), 20 + 8 + 56);
	assert_true(icmp_cksum_valid(m));
	data = (uint8_t *)(ic + 1);
	for (i = 0; i < 56; i++)
		assert_int_equal(data[i], i);
	rte_pktmbuf_free(m);
}

static void inject_echo_reply(struct zpt_env *env, uint16_t ident, uint16_t seq)
{
	uint8_t msg[64];
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)msg;

	memset(msg, 0, sizeof(msg));
	ic->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	ic->icmp_ident = rte_cpu_to_be_16(ident);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(msg, sizeof(msg));
	inject_icmp(env, msg, sizeof(msg));
}

static void test_ping_replies_counts_echo_replies_per_identifier(void **state)
{
	struct zpt_env *env = *state;

	assert_int_equal(zp_ping_send(PEER_IP, 0x77, 1, 56), 0);
	assert_int_equal(zp_ping_send(PEER_IP, 0x88, 1, 56), 0);
	zpt_poll(env);
	assert_int_equal(zpt_tx_drain(env), 2);
	assert_int_equal(zp_ping_replies(0x77), 0);

	inject_echo_reply(env, 0x77, 1);
	assert_int_equal(zp_ping_replies(0x77), 1);
	assert_int_equal(zp_ping_replies(0x88), 0);
	inject_echo_reply(env, 0x77, 2);
	inject_echo_reply(env, 0x99, 1); /* nobody pinged with this identifier */
	assert_int_equal(zp_ping_replies(0x77), 2);
	assert_int_equal(zp_ping_replies(0x99), 0);
	assert_int_equal(env->w->stats[DP_STAT_ICMP_ECHO_REPLY_IN], 3);
	assert_int_equal(zpt_tx_count(env, 0), 0);
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_ping_send_reports_errors_with_errno(void **state)
{
	struct zpt_env *env = *state;

	env->stack.nb_routes--; /* drop the default route */
	errno = 0;
	assert_int_equal(zp_ping_send(FAR_IP, 1, 1, 56), -1);
	assert_int_equal(errno, EHOSTUNREACH);
	errno = 0;
	assert_int_equal(zp_ping_send(PEER_IP, 1, 1, 1473), -1);
	assert_int_equal(errno, EMSGSIZE);

	dp_worker_set_self(NULL);
	errno = 0;
	assert_int_equal(zp_ping_send(PEER_IP, 1, 1, 56), -1);
	assert_int_equal(errno, EPERM);
	dp_worker_set_self(env->w);
	zpt_poll(env);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_icmp_echo_request_is_answered_with_identical_id_seq_and_payload, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_icmp_echo_request_from_unresolved_host_is_answered_after_arp, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_icmp_bad_checksum_is_icmp_csum_and_not_answered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_icmp_shorter_than_header_is_icmp_short, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_icmp_unhandled_type_is_icmp_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_icmp_errors_reach_the_registered_hook_with_the_quoted_datagram, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_icmp_errors_without_hook_are_icmp_type, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ping_send_puts_request_on_the_wire_after_arp,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ping_replies_counts_echo_replies_per_identifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_send_reports_errors_with_errno, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
