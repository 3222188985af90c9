/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 (dataplane/net/ipv4.c, route.c): every validation failure is dropped under its own
 * counter with nothing sent, valid datagrams reach their protocol handler trimmed of padding,
 * and output routes, fills in the header and completes the checksums.
 */
#include "net_test.h"

#include <errno.h>

#include <rte_tcp.h>
#include <rte_udp.h>

struct frame {
	uint8_t b[2048];
	size_t len;
};

static int setup(void **state)
{
	*state = zpt_env_new(1);
	return 0;
}

static int setup2(void **state)
{
	*state = zpt_env_new(2);
	return 0;
}

static int teardown(void **state)
{
	dp_l4_register(PROTO_TEST, NULL);
	zpt_env_free(*state);
	return 0;
}

static struct rte_ipv4_hdr *fip(struct frame *f)
{
	return (struct rte_ipv4_hdr *)(f->b + sizeof(struct rte_ether_hdr));
}

static void fix_cksum(struct frame *f)
{
	fip(f)->hdr_checksum = 0;
	fip(f)->hdr_checksum = rte_ipv4_cksum(fip(f));
}

/* A valid echo request from the peer to @dst with 32 bytes of data. */
static void ping_frame(struct zpt_env *env, struct frame *f, rte_be32_t src, rte_be32_t dst)
{
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();

	f->len = zpt_build_ping(f->b, &mine, &peer, src, dst, 7, 1, 32);
}

/* A valid datagram of protocol @proto from the peer to us carrying @l4_len pattern bytes. */
static void proto_frame(struct zpt_env *env, struct frame *f, uint8_t proto, size_t l4_len)
{
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();
	uint8_t l4[1500];
	size_t i;

	for (i = 0; i < l4_len; i++)
		l4[i] = (uint8_t)(0xa0 + i);
	f->len = zpt_build_ipv4(f->b, &mine, &peer, PEER_IP, OUR_IP, proto, l4, l4_len);
}

static void expect_drop(struct zpt_env *env, const struct frame *f, enum dp_drop why,
			const char *what)
{
	struct counters before;

	counters_take(env, &before);
	zpt_inject(env, 0, f->b, f->len);
	zpt_poll(env);
	assert_dropped_once(env, &before, why, what);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

/* Inject @f and assert that exactly one echo reply to the peer came back. */
static void expect_echo_reply(struct zpt_env *env, const struct frame *f)
{
	struct rte_mbuf *m;

	zpt_inject(env, 0, f->b, f->len);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_int_equal(frame_ip(m)->dst_addr, PEER_IP);
	assert_int_equal(((struct rte_icmp_hdr *)frame_l4(m))->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	rte_pktmbuf_free(m);
}

static void learn_peer(struct zpt_env *env)
{
	struct rte_ether_addr peer = peer_mac();

	dp_arp_update(env->w, 0, PEER_IP, &peer);
}

/* -- input validation --------------------------------------------------------------------- */

static void test_ipv4_shorter_than_a_header_is_ip_short(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	ping_frame(env, &f, PEER_IP, OUR_IP);
	f.len = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr) - 1;
	expect_drop(env, &f, DP_DROP_IP_SHORT, "19-byte datagram");
}

static void test_ipv4_version_other_than_4_is_ip_version(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->version_ihl = 0x65;
	fix_cksum(&f);
	expect_drop(env, &f, DP_DROP_IP_VERSION, "version 6");
}

static void test_ipv4_header_length_below_20_or_beyond_packet_is_ip_hdrlen(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->version_ihl = 0x44;
	expect_drop(env, &f, DP_DROP_IP_HDRLEN, "IHL 4");

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->version_ihl = 0x40;
	expect_drop(env, &f, DP_DROP_IP_HDRLEN, "IHL 0");

	proto_frame(env, &f, PROTO_TEST, 0);
	fip(&f)->version_ihl = 0x46; /* 24 bytes of header in a 20-byte datagram */
	expect_drop(env, &f, DP_DROP_IP_HDRLEN, "IHL beyond packet");
}

static void test_ipv4_total_length_below_header_or_beyond_frame_is_ip_totlen(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->total_length = rte_cpu_to_be_16(19);
	fix_cksum(&f);
	expect_drop(env, &f, DP_DROP_IP_TOTLEN, "total length 19");

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->total_length =
		rte_cpu_to_be_16((uint16_t)(f.len - sizeof(struct rte_ether_hdr) + 1));
	fix_cksum(&f);
	expect_drop(env, &f, DP_DROP_IP_TOTLEN, "total length one past the frame");
}

static void test_ipv4_wrong_header_checksum_is_ip_csum(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->hdr_checksum ^= rte_cpu_to_be_16(0x0100);
	expect_drop(env, &f, DP_DROP_IP_CSUM, "checksum off by one bit");
}

static void inject_with_flags(struct zpt_env *env, const struct frame *f, uint64_t ol_flags)
{
	struct rte_mbuf *m = zpt_mbuf(env, f->b, f->len);

	m->ol_flags = ol_flags;
	assert_int_equal(rte_ring_enqueue(env->rx[0], m), 0);
	zpt_poll(env);
}

static void test_ipv4_rx_checksum_flags_are_trusted_only_when_enabled(void **state)
{
	struct zpt_env *env = *state;
	struct frame good, bad;

	learn_peer(env);
	ping_frame(env, &good, PEER_IP, OUR_IP);
	bad = good;
	fip(&bad)->hdr_checksum ^= rte_cpu_to_be_16(0x0100);

	/* Port without RX checksum offload: flags are ignored, software decides. */
	inject_with_flags(env, &bad, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	assert_int_equal(env->w->drops[DP_DROP_IP_CSUM], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);

	/* With offload the NIC's verdict stands, and "unknown" falls back to software. */
	env->stack.ifaces[0].rx_ip_cksum = true;
	inject_with_flags(env, &good, RTE_MBUF_F_RX_IP_CKSUM_BAD);
	assert_int_equal(env->w->drops[DP_DROP_IP_CSUM], 2);
	inject_with_flags(env, &bad, RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN);
	assert_int_equal(env->w->drops[DP_DROP_IP_CSUM], 3);
	assert_int_equal(zpt_tx_count(env, 0), 0);
	inject_with_flags(env, &good, RTE_MBUF_F_RX_IP_CKSUM_GOOD);
	assert_int_equal(zpt_tx_count(env, 0), 1);
}

static void test_ipv4_options_are_dropped_as_ip_options(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;
	size_t ip_off = sizeof(struct rte_ether_hdr), opt = ip_off + sizeof(struct rte_ipv4_hdr);

	ping_frame(env, &f, PEER_IP, OUR_IP);
	memmove(f.b + opt + 4, f.b + opt, f.len - opt);
	memset(f.b + opt, 1, 3); /* three NOPs and an end-of-options (RFC 791) */
	f.b[opt + 3] = 0;
	f.len += 4;
	fip(&f)->version_ihl = 0x46;
	fip(&f)->total_length = rte_cpu_to_be_16((uint16_t)(f.len - ip_off));
	fix_cksum(&f);
	expect_drop(env, &f, DP_DROP_IP_OPTIONS, "4 bytes of options");
}

static void test_ipv4_fragments_are_dropped_as_ip_fragment(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	fix_cksum(&f);
	expect_drop(env, &f, DP_DROP_IP_FRAGMENT, "first fragment (MF)");

	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->fragment_offset = rte_cpu_to_be_16(185); /* last fragment at 1480 */
	fix_cksum(&f);
	expect_drop(env, &f, DP_DROP_IP_FRAGMENT, "last fragment (offset)");
}

static void test_ipv4_impossible_sources_are_ip_bad_src(void **state)
{
	struct zpt_env *env = *state;
	static const struct {
		uint8_t a, b, c, d;
	} srcs[] = {
		{255, 255, 255, 255}, {224, 0, 0, 1}, {239, 1, 2, 3},  {127, 0, 0, 1},
		{10, 0, 0, 1},	      {0, 0, 0, 0},   {10, 0, 0, 255}, {240, 0, 0, 1},
	};
	struct frame f;
	unsigned i;

	for (i = 0; i < RTE_DIM(srcs); i++) {
		char what[64];

		ping_frame(env, &f, IP4(srcs[i].a, srcs[i].b, srcs[i].c, srcs[i].d), OUR_IP);
		snprintf(what, sizeof(what), "source %u.%u.%u.%u", srcs[i].a, srcs[i].b, srcs[i].c,
			 srcs[i].d);
		expect_drop(env, &f, DP_DROP_IP_BAD_SRC, what);
	}
}

static void test_ipv4_destinations_other_than_ours_are_ip_not_for_us(void **state)
{
	struct zpt_env *env = *state;
	static const struct {
		uint8_t a, b, c, d;
	} dsts[] = {
		{10, 0, 0, 9}, {10, 0, 0, 255}, {255, 255, 255, 255}, {224, 0, 0, 1}, {10, 0, 1, 1},
	};
	struct frame f;
	unsigned i;

	for (i = 0; i < RTE_DIM(dsts); i++) {
		char what[64];

		ping_frame(env, &f, PEER_IP, IP4(dsts[i].a, dsts[i].b, dsts[i].c, dsts[i].d));
		snprintf(what, sizeof(what), "destination %u.%u.%u.%u", dsts[i].a, dsts[i].b,
			 dsts[i].c, dsts[i].d);
		expect_drop(env, &f, DP_DROP_IP_NOT_FOR_US, what);
	}
}

static void test_ipv4_any_of_our_addresses_is_accepted_on_any_interface(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	learn_peer(env);
	ping_frame(env, &f, PEER_IP, IP4(10, 0, 1, 1)); /* interface 1's address, on 0 */
	expect_echo_reply(env, &f);
}

static void test_ipv4_ttl_is_not_checked_for_local_delivery(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	learn_peer(env);
	ping_frame(env, &f, PEER_IP, OUR_IP);
	fip(&f)->time_to_live = 0;
	fix_cksum(&f);
	expect_echo_reply(env, &f);
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_ipv4_protocol_without_handler_is_ip_proto(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	proto_frame(env, &f, PROTO_TEST, 8);
	expect_drop(env, &f, DP_DROP_IP_PROTO, "protocol 253");
	proto_frame(env, &f, IPPROTO_UDP, 8);
	expect_drop(env, &f, DP_DROP_IP_PROTO, "UDP");
}

static struct {
	unsigned calls;
	uint32_t pkt_len;
	uint16_t l2_len, l3_len;
	rte_be32_t src;
	uint8_t first;
} seen;

static void capture(struct dp_worker *w, struct rte_mbuf *m)
{
	(void)w;
	seen.calls++;
	seen.pkt_len = rte_pktmbuf_pkt_len(m);
	seen.l2_len = m->l2_len;
	seen.l3_len = m->l3_len;
	seen.src = dp_mbuf_ip(m)->src_addr;
	seen.first = *rte_pktmbuf_mtod(m, uint8_t *);
	rte_pktmbuf_free(m);
}

static void test_ipv4_handler_gets_l4_with_ethernet_padding_trimmed(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;

	memset(&seen, 0, sizeof(seen));
	dp_l4_register(PROTO_TEST, capture);
	proto_frame(env, &f, PROTO_TEST, 4);
	memset(f.b + f.len, 0xee, 60 - f.len); /* minimum Ethernet frame: 18 bytes of padding */
	f.len = 60;
	zpt_inject(env, 0, f.b, f.len);
	zpt_poll(env);

	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.pkt_len, 4);
	assert_int_equal(seen.l2_len, sizeof(struct rte_ether_hdr));
	assert_int_equal(seen.l3_len, sizeof(struct rte_ipv4_hdr));
	assert_int_equal(seen.src, PEER_IP);
	assert_int_equal(seen.first, 0xa0);
	assert_int_equal(env->w->stats[DP_STAT_IP_IN], 1);
	assert_int_equal(zpt_drops_total(env), 0);
}

/* -- output ------------------------------------------------------------------------------- */

static struct rte_mbuf *tcp_segment(struct zpt_env *env, size_t payload)
{
	struct rte_mbuf *m = l4_payload(env, sizeof(struct rte_tcp_hdr) + payload);
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod(m, struct rte_tcp_hdr *);

	memset(th, 0, sizeof(*th));
	th->src_port = rte_cpu_to_be_16(40000);
	th->dst_port = rte_cpu_to_be_16(80);
	th->sent_seq = rte_cpu_to_be_32(12345);
	th->data_off = 5 << 4;
	th->tcp_flags = RTE_TCP_ACK_FLAG | RTE_TCP_PSH_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	return m;
}

static void test_ipv4_output_fills_header_and_software_checksums(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_udp_hdr *uh;
	struct rte_mbuf *m;
	uint16_t sum, id;

	learn_peer(env);
	assert_int_equal(dp_ipv4_output(env->w, tcp_segment(env, 333), 0, PEER_IP, IPPROTO_TCP), 0);
	zpt_poll(env);
	m = pop_only(env, 0);
	ip = frame_ip(m);
	assert_int_equal(ip->version_ihl, 0x45);
	assert_int_equal(rte_be_to_cpu_16(ip->total_length), 20 + 20 + 333);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 20 + 20 + 333);
	assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset), RTE_IPV4_HDR_DF_FLAG);
	assert_int_equal(ip->time_to_live, 64);
	assert_int_equal(ip->next_proto_id, IPPROTO_TCP);
	assert_int_equal(ip->src_addr, OUR_IP);
	assert_int_equal(ip->dst_addr, PEER_IP);
	assert_true(ip_cksum_valid(ip));
	th = frame_l4(m);
	sum = th->cksum;
	th->cksum = 0;
	assert_int_equal(sum, rte_ipv4_udptcp_cksum(ip, th));
	id = ip->packet_id;
	rte_pktmbuf_free(m);

	m = l4_payload(env, sizeof(*uh) + 11);
	uh = rte_pktmbuf_mtod(m, struct rte_udp_hdr *);
	uh->src_port = rte_cpu_to_be_16(5353);
	uh->dst_port = rte_cpu_to_be_16(53);
	uh->dgram_len = rte_cpu_to_be_16(sizeof(*uh) + 11);
	uh->dgram_cksum = 0;
	assert_int_equal(dp_ipv4_output(env->w, m, IP4(10, 0, 0, 1), PEER_IP, IPPROTO_UDP), 0);
	zpt_poll(env);
	m = pop_only(env, 0);
	ip = frame_ip(m);
	assert_true(ip_cksum_valid(ip));
	assert_int_not_equal(ip->packet_id, id);
	uh = frame_l4(m);
	sum = uh->dgram_cksum;
	uh->dgram_cksum = 0;
	assert_int_equal(sum, rte_ipv4_udptcp_cksum(ip, uh));
	rte_pktmbuf_free(m);
	assert_int_equal(env->w->stats[DP_STAT_IP_OUT], 2);
}

static void test_ipv4_output_uses_checksum_offload_when_the_port_has_it(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	struct rte_mbuf *m;
	const uint64_t want = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;

	env->stack.ifaces[0].tx_ip_cksum = true;
	env->stack.ifaces[0].tx_tcp_cksum = true;
	learn_peer(env);
	assert_int_equal(dp_ipv4_output(env->w, tcp_segment(env, 100), 0, PEER_IP, IPPROTO_TCP), 0);
	zpt_poll(env);
	m = pop_only(env, 0);
	ip = frame_ip(m);
	th = frame_l4(m);
	assert_int_equal(m->ol_flags & want, want);
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 20);
	assert_int_equal(ip->hdr_checksum, 0);
	/* The NIC expects the pseudo-header sum, not the final checksum. */
	assert_int_equal(th->cksum, rte_ipv4_phdr_cksum(ip, 0));
	rte_pktmbuf_free(m);
}

static void test_ipv4_output_larger_than_mtu_is_refused_with_emsgsize(void **state)
{
	struct zpt_env *env = *state;

	learn_peer(env);
	assert_int_equal(dp_ipv4_output(env->w, l4_payload(env, 1481), 0, PEER_IP, PROTO_TEST),
			 -EMSGSIZE);
	zpt_poll(env);
	assert_int_equal(env->w->drops[DP_DROP_IP_MTU], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);

	assert_int_equal(dp_ipv4_output(env->w, l4_payload(env, 1480), 0, PEER_IP, PROTO_TEST), 0);
	zpt_poll(env);
	assert_int_equal(zpt_tx_count(env, 0), 1);
}

static void test_ipv4_output_without_route_is_ehostunreach(void **state)
{
	struct zpt_env *env = *state;

	env->stack.nb_routes--; /* the default route is the last one zpt adds */
	assert_int_equal(dp_ipv4_output(env->w, l4_payload(env, 10), 0, FAR_IP, PROTO_TEST),
			 -EHOSTUNREACH);
	zpt_poll(env);
	assert_int_equal(env->w->drops[DP_DROP_NO_ROUTE], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

static void test_route_lookup_prefers_longest_prefix_and_reports_next_hop(void **state)
{
	struct zpt_env *env = *state;
	struct dp_stack *s = &env->stack;
	struct dp_route *r = &s->routes[s->nb_routes++];
	rte_be32_t nh;
	uint16_t iface;

	/* 192.0.2.0/24 via 10.0.1.254 on interface 1, beside the default route on 0. */
	r->net = IP4(192, 0, 2, 0);
	r->prefix_len = 24;
	r->mask = rte_cpu_to_be_32(0xffffff00u);
	r->gateway = IP4(10, 0, 1, 254);
	r->iface = 1;

	assert_int_equal(dp_route_lookup(s, FAR_IP, &iface, &nh), 0);
	assert_int_equal(iface, 1);
	assert_int_equal(nh, IP4(10, 0, 1, 254));
	assert_int_equal(dp_route_lookup(s, IP4(198, 51, 100, 1), &iface, &nh), 0);
	assert_int_equal(iface, 0);
	assert_int_equal(nh, GW_IP);
	assert_int_equal(dp_route_lookup(s, IP4(10, 0, 1, 77), &iface, &nh), 0);
	assert_int_equal(iface, 1);
	assert_int_equal(nh, IP4(10, 0, 1, 77)); /* on-link: the destination itself */

	assert_true(dp_addr_is_local(s, IP4(10, 0, 1, 1)));
	assert_false(dp_addr_is_local(s, IP4(10, 0, 1, 2)));
	assert_false(dp_addr_is_local(s, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ipv4_shorter_than_a_header_is_ip_short, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_version_other_than_4_is_ip_version, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_header_length_below_20_or_beyond_packet_is_ip_hdrlen, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_total_length_below_header_or_beyond_frame_is_ip_totlen, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_wrong_header_checksum_is_ip_csum, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_rx_checksum_flags_are_trusted_only_when_enabled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_options_are_dropped_as_ip_options, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_fragments_are_dropped_as_ip_fragment,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_impossible_sources_are_ip_bad_src, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_destinations_other_than_ours_are_ip_not_for_us, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_any_of_our_addresses_is_accepted_on_any_interface, setup2,
			teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_ttl_is_not_checked_for_local_delivery,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_protocol_without_handler_is_ip_proto,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_handler_gets_l4_with_ethernet_padding_trimmed, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_output_fills_header_and_software_checksums, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_output_uses_checksum_offload_when_the_port_has_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_ipv4_output_larger_than_mtu_is_refused_with_emsgsize, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv4_output_without_route_is_ehostunreach,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_route_lookup_prefers_longest_prefix_and_reports_next_hop, setup2,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
