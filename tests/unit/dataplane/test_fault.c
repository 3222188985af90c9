/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection (dataplane/port/fault.c) through the real worker loop on a fake port: each
 * impairment at rate 0 and 1 on RX and TX, reproducibility per seed, delay and jitter on the
 * virtual clock, corruption caught by checksums, and the zpath.ini keys.
 *
 * The probe traffic is ICMP echo: the stack answers every request it accepts, so the replies
 * on the TX ring show what RX let through (and in which order), or what TX did to them.
 */
#include "net_test.h"

#include <errno.h>

#include "config.h"
#include "port/dp_fault.h"

static struct zpt_env *env;

static int setup(void **state)
{
	struct rte_ether_addr peer = peer_mac();

	(void)state;
	env = zpt_env_new(1);
	dp_arp_update(env->w, 0, PEER_IP, &peer);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zpt_env_free(env); /* fails on any mbuf the fault queues kept */
	env = NULL;
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static void fault_set(const char *rx, const char *tx, uint64_t seed)
{
	struct dp_fault_conf *f = &env->stack.ifaces[0].fault;
	char err[256];

	assert_int_equal(dp_fault_parse(rx, &f->rx, err, sizeof(err)), 0);
	assert_int_equal(dp_fault_parse(tx, &f->tx, err, sizeof(err)), 0);
	f->seed = seed;
	f->on = true; /* also with all rates 0: the wrapper must then be transparent */
}

/* Echo requests with sequence numbers first..first+n-1, in one RX burst. */
static void pings(uint16_t first, unsigned n)
{
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();
	uint8_t req[256];
	unsigned i;

	for (i = 0; i < n; i++) {
		size_t len = zpt_build_ping(req, &mine, &peer, PEER_IP, OUR_IP, 0x77,
					    (uint16_t)(first + i), 32);
		zpt_inject(env, 0, req, len);
	}
}

/* Sequence numbers of the echo replies sent so far, in order (checksum-valid or not). */
static unsigned replies(uint16_t *seq, unsigned max, unsigned *bad_cksum)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	if (bad_cksum != NULL)
		*bad_cksum = 0;
	while ((m = zpt_tx_pop(env, 0)) != NULL) {
		struct rte_ipv4_hdr *ip = frame_ip(m);
		struct rte_icmp_hdr *ic = frame_l4(m);
		size_t len = rte_be_to_cpu_16(ip->total_length) - rte_ipv4_hdr_len(ip);

		assert_true(ip_cksum_valid(ip)); /* corruption spares the IPv4 header */
		if (bad_cksum != NULL && rte_raw_cksum(ic, len) != 0xffff)
			(*bad_cksum)++;
		assert_true(n < max);
		seq[n++] = rte_be_to_cpu_16(ic->icmp_seq_nb);
		rte_pktmbuf_free(m);
	}
	return n;
}

static uint64_t stat(enum dp_stat s)
{
	return env->w->stats[s];
}

/* ---- rates 0 and 1 ------------------------------------------------------------------------ */

static void test_all_rates_zero_is_transparent(void **state)
{
	uint16_t seq[32];
	unsigned i;

	(void)state;
	fault_set("drop=0,dup=0,reorder=0,corrupt=0", "drop=0%,dup=0,reorder=0,corrupt=0", 1);
	pings(1, 8);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(seq[i], 1 + i);
	for (i = DP_STAT_FAULT_RX_DROP; i <= DP_STAT_FAULT_QUEUE_FULL; i++)
		assert_int_equal(stat((enum dp_stat)i), 0);
	assert_int_equal(zpt_drops_total(env), 0);
}

static void test_drop_rate_one_drops_everything_rx_and_tx(void **state)
{
	uint16_t seq[32];

	(void)state;
	fault_set("drop=1", "", 1);
	pings(1, 8);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 0);
	assert_int_equal(stat(DP_STAT_FAULT_RX_DROP), 8);
	assert_int_equal(stat(DP_STAT_ICMP_ECHO_IN), 0);
	fault_set("", "drop=100%", 1);
	pings(1, 8);
	zpt_poll(env);
	assert_int_equal(stat(DP_STAT_ICMP_ECHO_IN), 8);
	assert_int_equal(replies(seq, 32, NULL), 0);
	assert_int_equal(stat(DP_STAT_FAULT_TX_DROP), 8);
}

static void test_dup_rate_one_doubles_every_packet_in_place(void **state)
{
	uint16_t seq[64];
	unsigned i;

	(void)state;
	fault_set("dup=1", "", 1);
	pings(1, 8);
	zpt_poll(env);
	zpt_poll(env); /* 16 packets: the RX burst size is 32, one pass may suffice anyway */
	assert_int_equal(replies(seq, 64, NULL), 16);
	for (i = 0; i < 16; i++)
		assert_int_equal(seq[i], 1 + i / 2);
	assert_int_equal(stat(DP_STAT_FAULT_RX_DUP), 8);
	fault_set("", "dup=1", 1);
	pings(1, 4);
	zpt_poll(env);
	assert_int_equal(replies(seq, 64, NULL), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(seq[i], 1 + i / 2);
	assert_int_equal(stat(DP_STAT_FAULT_TX_DUP), 4);
}

static void test_reorder_rate_one_swaps_neighbours(void **state)
{
	static const uint16_t want[] = {2, 1, 4, 3, 6, 5, 8, 7};
	uint16_t seq[32];
	unsigned i;

	(void)state;
	fault_set("reorder=1", "", 1);
	pings(1, 8);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(seq[i], want[i]);
	assert_int_equal(stat(DP_STAT_FAULT_RX_REORDER), 4);
	/* An odd one out waits for a packet to overtake it, at most DP_FAULT_HOLD_NS. */
	pings(9, 1);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 0);
	assert_int_equal(dp_fault_pending(env->w, 0, 0), 1);
	zpt_advance(env, DP_FAULT_HOLD_NS);
	assert_int_equal(replies(seq, 32, NULL), 1);
	assert_int_equal(seq[0], 9);
	/* TX likewise. */
	fault_set("", "reorder=1", 1);
	pings(1, 4);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 4);
	assert_int_equal(seq[0], 2);
	assert_int_equal(seq[1], 1);
	assert_int_equal(seq[2], 4);
	assert_int_equal(seq[3], 3);
}

static void test_corrupt_rate_one_is_caught_by_checksums(void **state)
{
	uint16_t seq[32];
	unsigned bad;

	(void)state;
	fault_set("corrupt=1", "", 1);
	pings(1, 8);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 0);
	assert_int_equal(stat(DP_STAT_FAULT_RX_CORRUPT), 8);
	assert_int_equal(env->w->drops[DP_DROP_ICMP_CSUM], 8);
	/* TX: the replies leave with a bad ICMP checksum and an intact IPv4 header. */
	fault_set("", "corrupt=1", 1);
	pings(1, 8);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, &bad), 8);
	assert_int_equal(bad, 8);
	assert_int_equal(stat(DP_STAT_FAULT_TX_CORRUPT), 8);
}

/* ---- time --------------------------------------------------------------------------------- */

static void test_delay_releases_at_the_right_virtual_time(void **state)
{
	uint16_t seq[32];
	unsigned i;

	(void)state;
	fault_set("delay=20ms", "", 1);
	pings(1, 3);
	zpt_poll(env);
	assert_int_equal(replies(seq, 32, NULL), 0);
	assert_int_equal(dp_fault_pending(env->w, 0, 0), 3);
	zpt_advance(env, 19 * MS);
	assert_int_equal(replies(seq, 32, NULL), 0);
	zpt_advance(env, 1 * MS - 1);
	assert_int_equal(replies(seq, 32, NULL), 0);
	zpt_advance(env, 1);
	assert_int_equal(replies(seq, 32, NULL), 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(seq[i], 1 + i); /* equal delays keep the order */
	assert_int_equal(stat(DP_STAT_FAULT_RX_DELAY), 3);
	/* TX delay adds up with RX delay. */
	fault_set("delay=20ms", "delay=5ms", 1);
	pings(1, 1);
	zpt_poll(env);
	zpt_advance(env, 20 * MS);
	assert_int_equal(replies(seq, 32, NULL), 0);
	zpt_advance(env, 5 * MS);
	assert_int_equal(replies(seq, 32, NULL), 1);
}

static void test_jitter_stays_within_bounds_and_varies(void **state)
{
	uint64_t first = UINT64_MAX, last = 0;
	uint16_t seq[64];
	unsigned got = 0, ms;

	(void)state;
	fault_set("delay=20ms,jitter=5ms", "", 3);
	pings(1, 32);
	zpt_poll(env);
	for (ms = 0; ms <= 30; ms++) {
		unsigned n = replies(seq, 64, NULL);

		if (n > 0) {
			first = first < ms ? first : ms;
			last = ms;
		}
		got += n;
		zpt_advance(env, MS);
	}
	assert_int_equal(got, 32);
	assert_true(first >= 15);
	assert_true(last <= 25);
	assert_true(last > first); /* jitter spreads them */
}

/* ---- determinism -------------------------------------------------------------------------- */

static unsigned run_mix(uint64_t seed, uint16_t *seq, unsigned max)
{
	unsigned i, n = 0;

	fault_set("drop=0.2,dup=0.2,reorder=0.3,delay=2ms,jitter=1ms", "drop=0.1,reorder=0.2",
		  seed);
	for (i = 0; i < 8; i++) {
		pings((uint16_t)(1 + 8 * i), 8);
		zpt_advance(env, MS);
		n += replies(seq + n, max - n, NULL);
	}
	zpt_advance(env, 10 * MS);
	n += replies(seq + n, max - n, NULL);
	return n;
}

static void test_a_seed_reproduces_the_same_decisions(void **state)
{
	uint16_t a[256], b[256], c[256];
	unsigned na, nb, nc;

	(void)state;
	na = run_mix(7, a, 256);
	zpt_env_free(env);
	setup(NULL);
	nb = run_mix(7, b, 256);
	zpt_env_free(env);
	setup(NULL);
	nc = run_mix(8, c, 256);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	assert_true(na != nc || memcmp(a, c, na * sizeof(a[0])) != 0);
	assert_true(na > 20 && na < 100); /* something was dropped, something duplicated */
}

/* ---- configuration ------------------------------------------------------------------------ */

static void test_fault_spec_parsing_and_errors(void **state)
{
	struct dp_fault_dir d;
	char err[256], buf[256];

	(void)state;
	assert_int_equal(dp_fault_parse("\"drop=0.01,dup=0.05,reorder=0.25,delay=20ms,jitter=5ms,"
					"corrupt=0.01\"",
					&d, err, sizeof(err)),
			 0);
	assert_int_equal(d.delay_ns, 20 * MS);
	assert_int_equal(d.jitter_ns, 5 * MS);
	assert_int_equal(d.drop, (uint64_t)(0.01 * DP_FAULT_ONE + 0.5));
	assert_int_equal(d.reorder, DP_FAULT_ONE / 4);
	dp_fault_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "drop=0.01,dup=0.05,reorder=0.25,corrupt=0.01,delay=20ms,"
				 "jitter=5ms");
	assert_int_equal(dp_fault_parse("delay=1.5s,drop=50%", &d, err, sizeof(err)), 0);
	assert_int_equal(d.delay_ns, 1500 * MS);
	assert_int_equal(d.drop, DP_FAULT_ONE / 2);
	assert_int_equal(dp_fault_parse("off", &d, err, sizeof(err)), 0);
	assert_false(dp_fault_dir_active(&d));
	assert_int_equal(dp_fault_parse("drop=2", &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "drop=2: a rate is a number from 0 to 1 (or 0%..100%)");
	assert_int_equal(dp_fault_parse("delay=5min", &d, err, sizeof(err)), -EINVAL);
	assert_int_equal(dp_fault_parse("lose=0.1", &d, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "unknown impairment \"lose\" (known: drop, dup, reorder, corrupt, "
				 "delay, jitter)");
	assert_int_equal(dp_fault_parse("drop", &d, err, sizeof(err)), -EINVAL);
}

static void test_zpath_ini_keys_and_overrides_reach_the_interface(void **state)
{
	static const char text[] = "[port0]\n"
				   "device = net_tap0\n"
				   "address = 10.0.0.2/24\n"
				   "fault_rx = \"drop=0.01,delay=20ms\"\n"
				   "fault_seed = 42\n";
	struct ctl_config c;
	struct dp_stack s;
	char err[512];

	(void)state;
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "z.ini", text, err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "port0.fault_tx=dup=0.5", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(ctl_config_to_stack(&c, &s, err, sizeof(err)), 0);
	assert_true(s.ifaces[0].fault.on);
	assert_int_equal(s.ifaces[0].fault.seed, 42);
	assert_int_equal(s.ifaces[0].fault.rx.delay_ns, 20 * MS);
	assert_int_equal(s.ifaces[0].fault.tx.dup, DP_FAULT_ONE / 2);
	assert_int_equal(ctl_config_override(&c, "port0.fault_rx=drop=x", err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "-s port0.fault_rx=drop=x: [port0] fault_rx: drop=x: a rate is "
				 "a number from 0 to 1 (or 0%..100%)");
	/* Without the keys the port is not wrapped at all. */
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "z.ini",
						 "[port0]\ndevice = a\naddress = "
						 "10.0.0.2/24\n",
						 err, sizeof(err)),
			 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(ctl_config_to_stack(&c, &s, err, sizeof(err)), 0);
	assert_false(s.ifaces[0].fault.on);
}

static void test_held_packets_are_freed_at_worker_fini(void **state)
{
	(void)state;
	fault_set("delay=10s", "reorder=1", 1);
	pings(1, 5);
	zpt_poll(env);
	assert_int_equal(dp_fault_pending(env->w, 0, 0), 5);
	/* teardown: zpt_env_free() checks that every mbuf came back */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_all_rates_zero_is_transparent),
		TEST(test_drop_rate_one_drops_everything_rx_and_tx),
		TEST(test_dup_rate_one_doubles_every_packet_in_place),
		TEST(test_reorder_rate_one_swaps_neighbours),
		TEST(test_corrupt_rate_one_is_caught_by_checksums),
		TEST(test_delay_releases_at_the_right_virtual_time),
		TEST(test_jitter_stays_within_bounds_and_varies),
		TEST(test_a_seed_reproduces_the_same_decisions),
		TEST(test_fault_spec_parsing_and_errors),
		TEST(test_zpath_ini_keys_and_overrides_reach_the_interface),
		TEST(test_held_packets_are_freed_at_worker_fini),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
