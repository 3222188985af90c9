/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (dataplane/net/arp.c): answering, learning, resolution with its pending queue,
 * retries, expiry, gratuitous announcements and sharing between workers.
 */
#include "net_test.h"

#include <rte_malloc.h>

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
	zpt_env_free(*state);
	return 0;
}

static void inject_request(struct zpt_env *env, const struct rte_ether_addr *sha, rte_be32_t sip,
			   rte_be32_t tip)
{
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	uint8_t buf[128];
	size_t len = zpt_build_arp(buf, &bcast, RTE_ARP_OP_REQUEST, sha, sip, NULL, tip);

	zpt_inject(env, 0, buf, len);
	zpt_poll(env);
}

/* Send one small datagram of an unhandled protocol to @dst through the IPv4 output path. */
static void send_datagram(struct zpt_env *env, rte_be32_t dst)
{
	assert_int_equal(dp_ipv4_output(env->w, l4_payload(env, 16), 0, dst, PROTO_TEST), 0);
}

static void test_arp_request_for_us_gets_one_reply_and_sender_is_learnt(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac(), mine = our_mac(env, 0);
	const struct dp_arp_entry *e;
	struct rte_arp_hdr *a;
	struct rte_mbuf *m;

	inject_request(env, &peer, PEER_IP, OUR_IP);

	m = pop_only(env, 0);
	assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
	assert_ether_eq(&frame_eth(m)->src_addr, &mine);
	a = frame_arp(m);
	assert_int_equal(rte_be_to_cpu_16(a->arp_hardware), RTE_ARP_HRD_ETHER);
	assert_int_equal(rte_be_to_cpu_16(a->arp_protocol), RTE_ETHER_TYPE_IPV4);
	assert_int_equal(a->arp_hlen, 6);
	assert_int_equal(a->arp_plen, 4);
	assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
	assert_ether_eq(&a->arp_data.arp_sha, &mine);
	assert_int_equal(a->arp_data.arp_sip, OUR_IP);
	assert_ether_eq(&a->arp_data.arp_tha, &peer);
	assert_int_equal(a->arp_data.arp_tip, PEER_IP);
	rte_pktmbuf_free(m);

	e = dp_arp_lookup(env->w, PEER_IP);
	assert_non_null(e);
	assert_ether_eq(&e->mac, &peer);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REQ_IN], 1);
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_arp_request_for_another_host_is_not_answered_nor_learnt(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();

	inject_request(env, &peer, PEER_IP, IP4(10, 0, 0, 9));

	assert_int_equal(zpt_tx_count(env, 0), 0);
	assert_int_equal(env->w->drops[DP_DROP_ARP_NOT_FOR_US], 1);
	assert_null(dp_arp_lookup(env->w, PEER_IP));
}

static void test_arp_packet_not_for_us_refreshes_a_known_sender(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr old = zpt_peer_mac(2), moved = zpt_peer_mac(0x42);
	const struct dp_arp_entry *e;

	dp_arp_update(env->w, 0, PEER_IP, &old);
	inject_request(env, &moved, PEER_IP, IP4(10, 0, 0, 9));

	e = dp_arp_lookup(env->w, PEER_IP);
	assert_non_null(e);
	assert_ether_eq(&e->mac, &moved);
	assert_int_equal(env->w->drops[DP_DROP_ARP_NOT_FOR_US], 1);
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

static void test_arp_probe_for_our_address_is_defended_without_learning(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac(), mine = our_mac(env, 0);
	struct rte_arp_hdr *a;
	struct rte_mbuf *m;

	/* RFC 5227 2.1.1: a probe has sender IP 0; the owner answers so the prober backs off. */
	inject_request(env, &peer, 0, OUR_IP);

	m = pop_only(env, 0);
	a = frame_arp(m);
	assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
	assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REPLY);
	assert_ether_eq(&a->arp_data.arp_sha, &mine);
	assert_int_equal(a->arp_data.arp_sip, OUR_IP);
	assert_int_equal(a->arp_data.arp_tip, 0);
	rte_pktmbuf_free(m);
	assert_null(dp_arp_lookup(env->w, 0));
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_arp_sender_claiming_our_address_is_counted_and_never_learnt(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr intruder = zpt_peer_mac(0x66);

	inject_request(env, &intruder, OUR_IP, IP4(10, 0, 0, 9));

	assert_int_equal(env->w->drops[DP_DROP_ARP_CONFLICT], 1);
	assert_null(dp_arp_lookup(env->w, OUR_IP));
	assert_int_equal(zpt_tx_count(env, 0), 0);
}

static void test_arp_announce_sends_one_gratuitous_request_per_interface(void **state)
{
	struct zpt_env *env = *state;
	uint16_t i;

	dp_arp_announce(env->w);
	zpt_poll(env);

	for (i = 0; i < 2; i++) {
		struct rte_mbuf *m = pop_only(env, i);
		struct rte_arp_hdr *a = frame_arp(m);

		assert_arp_request(env, i, m, env->stack.ifaces[i].addr);
		/* RFC 5227 3: sender and target protocol addresses are both ours. */
		assert_int_equal(a->arp_data.arp_sip, a->arp_data.arp_tip);
		rte_pktmbuf_free(m);
	}
	assert_int_equal(env->w->stats[DP_STAT_ARP_GRATUITOUS_OUT], 2);
}

static void test_arp_unknown_neighbour_holds_packet_until_reply(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();
	struct rte_mbuf *m;
	uint8_t *l4;
	unsigned i;

	send_datagram(env, PEER_IP);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, PEER_IP);
	rte_pktmbuf_free(m);

	inject_arp_reply(env, 0, PEER_IP, &peer);
	m = pop_only(env, 0);
	assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
	assert_int_equal(frame_ip(m)->dst_addr, PEER_IP);
	assert_int_equal(frame_ip(m)->next_proto_id, PROTO_TEST);
	l4 = frame_l4(m);
	for (i = 0; i < 16; i++)
		assert_int_equal(l4[i], i);
	rte_pktmbuf_free(m);

	/* Resolved now: the next datagram goes straight out. */
	send_datagram(env, PEER_IP);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_int_equal(rte_be_to_cpu_16(frame_eth(m)->ether_type), RTE_ETHER_TYPE_IPV4);
	rte_pktmbuf_free(m);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REQ_OUT], 1);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REPLY_IN], 1);
	assert_int_equal(zpt_drops_total(env), 0);
}

/* Send @n datagrams to @dst, numbered 0..n-1 in their first two bytes. */
static void send_numbered(struct zpt_env *env, rte_be32_t dst, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = l4_payload(env, 16);
		uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);

		p[0] = (uint8_t)(i >> 8);
		p[1] = (uint8_t)i;
		assert_int_equal(dp_ipv4_output(env->w, m, 0, dst, PROTO_TEST), 0);
	}
}

/* Pop @n frames from iface 0 and check they are datagrams 0..n-1 in order, to @mac. */
static void expect_numbered(struct zpt_env *env, const struct rte_ether_addr *mac, unsigned n)
{
	unsigned i;

	assert_int_equal(zpt_tx_count(env, 0), n);
	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = zpt_tx_pop(env, 0);
		uint8_t *l4;

		assert_non_null(m);
		assert_ether_eq(&frame_eth(m)->dst_addr, mac);
		l4 = frame_l4(m);
		assert_int_equal(l4[0] << 8 | l4[1], i);
		rte_pktmbuf_free(m);
	}
}

static void test_arp_pending_queue_overflow_is_counted_and_bounded(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();

	/* A bare stack (arp_pending 0) gets the configuration's default, 256 per address. */
	send_numbered(env, PEER_IP, 1000);
	zpt_poll(env);
	assert_int_equal(env->w->drops[DP_DROP_ARP_QUEUE_FULL], 1000 - DP_ARP_PENDING_DEFAULT);
	assert_int_equal(zpt_drops_total(env), 744);
	assert_int_equal(zpt_tx_count(env, 0), 1); /* one request, not one per packet */
	zpt_tx_drain(env);

	/* The first 256 wait, and leave in the order they were sent. */
	inject_arp_reply(env, 0, PEER_IP, &peer);
	expect_numbered(env, &peer, DP_ARP_PENDING_DEFAULT);
}

static void test_arp_pending_holds_arp_pending_packets_and_sends_them_in_order(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();

	/* 1,000 parallel connects to a host not resolved yet: not one SYN may be lost. */
	env->stack.tun.arp_pending = 1000;
	send_numbered(env, PEER_IP, 1000);
	zpt_poll(env);
	assert_int_equal(zpt_drops_total(env), 0);
	assert_int_equal(zpt_tx_count(env, 0), 1);
	zpt_tx_drain(env);

	inject_arp_reply(env, 0, PEER_IP, &peer);
	expect_numbered(env, &peer, 1000);
	assert_int_equal(zpt_drops_total(env), 0);

	/* Beyond arp_pending, the queue of a new unresolved address is bounded again. */
	send_numbered(env, IP4(10, 0, 0, 3), 1001);
	assert_int_equal(env->w->drops[DP_DROP_ARP_QUEUE_FULL], 1);
	zpt_poll(env);
	zpt_tx_drain(env);
}

static void test_arp_unanswered_retries_every_interval_then_drops_pending(void **state)
{
	struct zpt_env *env = *state;
	uint64_t retry = env->stack.tun.arp_retry_ms * MS;
	struct rte_mbuf *m;
	unsigned i;

	send_datagram(env, PEER_IP);
	send_datagram(env, PEER_IP);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, PEER_IP);
	rte_pktmbuf_free(m);

	/* arp_retries = 3 requests in all, arp_retry_ms apart, and not one earlier. */
	for (i = 1; i < env->stack.tun.arp_retries; i++) {
		zpt_advance(env, retry - MS);
		assert_int_equal(zpt_tx_count(env, 0), 0);
		zpt_advance(env, MS);
		m = pop_only(env, 0);
		assert_arp_request(env, 0, m, PEER_IP);
		rte_pktmbuf_free(m);
		assert_int_equal(env->w->drops[DP_DROP_ARP_UNRESOLVED], 0);
	}
	zpt_advance(env, retry - MS);
	assert_int_equal(env->w->drops[DP_DROP_ARP_UNRESOLVED], 0);
	zpt_advance(env, MS);
	assert_int_equal(zpt_tx_count(env, 0), 0);
	assert_int_equal(env->w->drops[DP_DROP_ARP_UNRESOLVED], 2);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REQ_OUT], env->stack.tun.arp_retries);

	/* Given up: a later datagram starts a fresh resolution. */
	send_datagram(env, PEER_IP);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, PEER_IP);
	rte_pktmbuf_free(m);
}

static void test_arp_entry_expires_after_timeout(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();
	uint64_t timeout = env->stack.tun.arp_timeout_ms * MS;
	struct rte_mbuf *m;

	inject_request(env, &peer, PEER_IP, OUR_IP);
	zpt_tx_drain(env);
	assert_non_null(dp_arp_lookup(env->w, PEER_IP));

	zpt_advance(env, timeout - MS);
	assert_non_null(dp_arp_lookup(env->w, PEER_IP));
	zpt_advance(env, MS);
	assert_null(dp_arp_lookup(env->w, PEER_IP));
	assert_int_equal(env->w->stats[DP_STAT_ARP_EXPIRED], 1);

	send_datagram(env, PEER_IP);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, PEER_IP);
	rte_pktmbuf_free(m);
}

/* What one step of steady traffic put on the wire. */
struct wire {
	unsigned ip;		 /* datagrams to the peer's MAC */
	unsigned probes_ucast;	 /* ARP requests for the peer sent to its MAC */
	unsigned requests_bcast; /* ARP requests for the peer sent to broadcast */
};

/* Pop every frame sent on iface 0 and sort it; answer the ARP requests if @answer. */
static void wire_take(struct zpt_env *env, struct wire *wire, bool answer)
{
	struct rte_ether_addr peer = peer_mac();
	struct rte_mbuf *m;
	bool asked = false;

	while ((m = zpt_tx_pop(env, 0)) != NULL) {
		if (rte_be_to_cpu_16(frame_eth(m)->ether_type) == RTE_ETHER_TYPE_IPV4) {
			assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
			assert_int_equal(frame_ip(m)->dst_addr, PEER_IP);
			wire->ip++;
		} else {
			struct rte_arp_hdr *a = frame_arp(m);

			assert_int_equal(rte_be_to_cpu_16(a->arp_opcode), RTE_ARP_OP_REQUEST);
			assert_int_equal(a->arp_data.arp_tip, PEER_IP);
			if (rte_is_broadcast_ether_addr(&frame_eth(m)->dst_addr)) {
				wire->requests_bcast++;
			} else {
				assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
				wire->probes_ucast++;
			}
			asked = true;
		}
		rte_pktmbuf_free(m);
	}
	if (asked && answer)
		inject_arp_reply(env, 0, PEER_IP, &peer);
}

static void
test_arp_entry_in_use_is_revalidated_at_expiry_without_interrupting_traffic(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();
	struct wire wire = {0};
	unsigned step;

	/* A short lifetime: five expiries in five seconds of steady traffic. */
	env->stack.tun.arp_timeout_ms = 1000;
	env->stack.tun.arp_retry_ms = 100;
	inject_arp_reply(env, 0, PEER_IP, &peer);
	zpt_tx_drain(env);

	for (step = 0; step < 500; step++) {
		send_datagram(env, PEER_IP);
		zpt_advance(env, 10 * MS);
		wire_take(env, &wire, true);
		/* Every datagram leaves at once: never queued behind a resolution. */
		assert_int_equal(wire.ip, step + 1);
	}
	assert_int_equal(zpt_drops_total(env), 0);
	/* Each expiry was one unicast request to the MAC in use, answered at once. */
	assert_true(env->w->stats[DP_STAT_ARP_REVALIDATE] >= 4);
	assert_int_equal(wire.probes_ucast, env->w->stats[DP_STAT_ARP_REVALIDATE]);
	assert_int_equal(env->w->stats[DP_STAT_ARP_PROBE_OUT], wire.probes_ucast);
	assert_int_equal(wire.requests_bcast, 0);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REQ_OUT], 0);
	assert_int_equal(env->w->stats[DP_STAT_ARP_EXPIRED], 0);
	assert_non_null(dp_arp_lookup(env->w, PEER_IP));
}

static void test_arp_entry_in_use_goes_when_the_peer_stops_answering(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();
	uint64_t timeout, retry;
	struct wire wire = {0};
	unsigned step;

	env->stack.tun.arp_timeout_ms = 1000;
	env->stack.tun.arp_retry_ms = 100;
	timeout = env->stack.tun.arp_timeout_ms * MS;
	retry = env->stack.tun.arp_retry_ms * MS;
	inject_arp_reply(env, 0, PEER_IP, &peer);
	zpt_tx_drain(env);
	send_datagram(env, PEER_IP);
	zpt_advance(env, timeout - MS);
	wire_take(env, &wire, false);
	assert_int_equal(wire.ip, 1);

	/* The lifetime ends: the MAC stays in use while arp_retries requests go out, unicast
	 * and the last one broadcast, arp_retry_ms apart. */
	zpt_advance(env, MS);
	for (step = 0; step < env->stack.tun.arp_retries; step++) {
		send_datagram(env, PEER_IP);
		zpt_poll(env);
		wire_take(env, &wire, false);
		assert_int_equal(wire.ip, step + 2);
		assert_non_null(dp_arp_lookup(env->w, PEER_IP));
		zpt_advance(env, retry);
	}
	assert_int_equal(wire.probes_ucast, env->stack.tun.arp_retries - 1);
	assert_int_equal(wire.requests_bcast, 1);
	assert_int_equal(env->w->stats[DP_STAT_ARP_PROBE_OUT], env->stack.tun.arp_retries);
	wire_take(env, &wire, false);
	assert_int_equal(wire.probes_ucast + wire.requests_bcast, env->stack.tun.arp_retries);

	/* No reply to any of them: the entry is gone, and the next datagram resolves afresh. */
	assert_null(dp_arp_lookup(env->w, PEER_IP));
	assert_int_equal(env->w->arp.used, 0);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REVALIDATE_FAIL], 1);
	send_datagram(env, PEER_IP);
	zpt_poll(env);
	wire_take(env, &wire, false);
	assert_int_equal(wire.requests_bcast, 2);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REQ_OUT], 1);
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_arp_entry_not_used_since_confirmed_is_removed_at_expiry(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();
	uint64_t timeout = env->stack.tun.arp_timeout_ms * MS;

	/* Used, then confirmed by the peer's ARP: not used since, so it simply expires. */
	inject_arp_reply(env, 0, PEER_IP, &peer);
	send_datagram(env, PEER_IP);
	zpt_advance(env, MS);
	inject_request(env, &peer, PEER_IP, OUR_IP);
	zpt_tx_drain(env);
	zpt_advance(env, timeout);
	assert_null(dp_arp_lookup(env->w, PEER_IP));
	assert_int_equal(zpt_tx_count(env, 0), 0);
	assert_int_equal(env->w->stats[DP_STAT_ARP_EXPIRED], 1);
	assert_int_equal(env->w->stats[DP_STAT_ARP_REVALIDATE], 0);
}

static void test_arp_gateway_route_resolves_the_gateway_not_the_destination(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr gw = zpt_peer_mac(0xfe);
	struct rte_mbuf *m;

	send_datagram(env, FAR_IP);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, GW_IP);
	rte_pktmbuf_free(m);

	inject_arp_reply(env, 0, GW_IP, &gw);
	m = pop_only(env, 0);
	assert_ether_eq(&frame_eth(m)->dst_addr, &gw);
	assert_int_equal(frame_ip(m)->dst_addr, FAR_IP);
	rte_pktmbuf_free(m);
	assert_null(dp_arp_lookup(env->w, FAR_IP));
}

static void test_arp_reply_received_by_one_worker_resolves_for_another(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr peer = peer_mac();
	struct dp_worker *w1;
	struct rte_mbuf *m;

	w1 = rte_zmalloc("w1", sizeof(*w1), RTE_CACHE_LINE_SIZE);
	assert_non_null(w1);
	assert_int_equal(dp_worker_init(w1, &env->stack, 1, env->pool), 0);
	w1->virt_clock = true;
	w1->now_ns = env->w->now_ns;
	env->stack.workers[1] = w1;
	env->stack.nb_workers = 2;

	/* Worker 1 asks (its TX queue is queue 0 of the single-queue fake port). */
	assert_int_equal(dp_ipv4_output(w1, l4_payload(env, 16), 0, PEER_IP, PROTO_TEST), 0);
	dp_worker_poll(w1);
	m = pop_only(env, 0);
	assert_arp_request(env, 0, m, PEER_IP);
	rte_pktmbuf_free(m);

	/* The reply lands on worker 0, which learns it and tells worker 1. */
	inject_arp_reply(env, 0, PEER_IP, &peer);
	assert_non_null(dp_arp_lookup(env->w, PEER_IP));
	assert_int_equal(zpt_tx_count(env, 0), 0);
	dp_worker_poll(w1);
	m = pop_only(env, 0);
	assert_ether_eq(&frame_eth(m)->dst_addr, &peer);
	assert_int_equal(frame_ip(m)->dst_addr, PEER_IP);
	rte_pktmbuf_free(m);
	assert_non_null(dp_arp_lookup(w1, PEER_IP));

	env->stack.nb_workers = 1;
	env->stack.workers[1] = NULL;
	dp_worker_fini(w1);
	rte_free(w1);
}

static void test_arp_table_keeps_newest_mappings_when_more_hosts_than_slots(void **state)
{
	struct zpt_env *env = *state;
	struct rte_ether_addr mac = peer_mac();
	unsigned i, found = 0;

	/* Learn more hosts than the table holds, one per millisecond. */
	for (i = 0; i < 2 * DP_ARP_SLOTS; i++) {
		mac.addr_bytes[4] = (uint8_t)(i >> 8);
		mac.addr_bytes[5] = (uint8_t)i;
		dp_arp_update(env->w, 0, rte_cpu_to_be_32(0x0a000000u + i), &mac);
		env->w->now_ns += MS;
	}
	assert_true(env->w->arp.used < DP_ARP_SLOTS);
	/* The most recent ones all survive, each findable with its own MAC; the oldest went. */
	for (i = 2 * DP_ARP_SLOTS - env->w->arp.used; i < 2 * DP_ARP_SLOTS; i++) {
		const struct dp_arp_entry *e =
			dp_arp_lookup(env->w, rte_cpu_to_be_32(0x0a000000u + i));

		assert_non_null(e);
		assert_int_equal(e->mac.addr_bytes[5], (uint8_t)i);
		found++;
	}
	assert_int_equal(found, env->w->arp.used);
	assert_null(dp_arp_lookup(env->w, IP4(10, 0, 0, 0)));
}

static void test_arp_expiry_of_some_entries_keeps_the_others_reachable(void **state)
{
	struct zpt_env *env = *state;
	uint64_t timeout = env->stack.tun.arp_timeout_ms * MS;
	struct rte_ether_addr mac = peer_mac();
	unsigned i;

	/* Crowd the table so probe runs overlap, with every other entry learnt later. */
	for (i = 0; i < 150; i++) {
		mac.addr_bytes[5] = (uint8_t)i;
		if (i == 75)
			env->w->now_ns += 10 * MS;
		dp_arp_update(env->w, 0, rte_cpu_to_be_32(0x0a000000u + i * 7919u), &mac);
	}
	zpt_advance(env, timeout - 5 * MS);
	for (i = 0; i < 150; i++) {
		const struct dp_arp_entry *e =
			dp_arp_lookup(env->w, rte_cpu_to_be_32(0x0a000000u + i * 7919u));

		if (i < 75) {
			assert_null(e);
		} else {
			assert_non_null(e);
			assert_int_equal(e->mac.addr_bytes[5], (uint8_t)i);
		}
	}
	assert_int_equal(env->w->arp.used, 75);
	assert_int_equal(env->w->stats[DP_STAT_ARP_EXPIRED], 75);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_arp_request_for_us_gets_one_reply_and_sender_is_learnt, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_request_for_another_host_is_not_answered_nor_learnt, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_arp_packet_not_for_us_refreshes_a_known_sender,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_probe_for_our_address_is_defended_without_learning, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_sender_claiming_our_address_is_counted_and_never_learnt, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_announce_sends_one_gratuitous_request_per_interface, setup2,
			teardown),
		cmocka_unit_test_setup_teardown(test_arp_unknown_neighbour_holds_packet_until_reply,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_pending_queue_overflow_is_counted_and_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_pending_holds_arp_pending_packets_and_sends_them_in_order, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_unanswered_retries_every_interval_then_drops_pending, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_arp_entry_expires_after_timeout, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_entry_in_use_is_revalidated_at_expiry_without_interrupting_traffic,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_entry_in_use_goes_when_the_peer_stops_answering, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_entry_not_used_since_confirmed_is_removed_at_expiry, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_gateway_route_resolves_the_gateway_not_the_destination, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_reply_received_by_one_worker_resolves_for_another, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_table_keeps_newest_mappings_when_more_hosts_than_slots, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_arp_expiry_of_some_entries_keeps_the_others_reachable, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
