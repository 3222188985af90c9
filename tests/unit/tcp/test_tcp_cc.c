/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control (tcp_cc*.c) on the virtual clock: the RFC 6928 initial window, NewReno
 * (RFC 5681 §3.2 halving, RFC 6582 partial ACKs), CUBIC (RFC 9438: beta 0.7, W_cubic(t),
 * fast convergence), the loss window after a timeout, the TCP_CONGESTION option and
 * zpath.ini [stack] tcp_cc.
 */
#include "test_common.h"
#include "config.h"
#include "tcp/tcp_cc.h"

static uint32_t snd_base(void)
{
	return T->our_iss + 1;
}

static struct zp_tcp_info info(int fd)
{
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	return ti;
}

/* The connection under test (the only one on the worker). */
static struct tcp_conn *conn(void)
{
	struct tcp_conn *c = TAILQ_FIRST(&tcp__engine(T->w)->conns);

	assert_non_null(c);
	return c;
}

/* Client with algorithm @p cc ("" = the stack default); the peer sends MSS @p mss. */
static int client(const char *cc, uint16_t mss)
{
	uint8_t opts[4] = {2, 4, (uint8_t)(mss >> 8), (uint8_t)mss};
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0), sb = 256 * 1024;

	assert_true(fd >= 0);
	/* A fixed send buffer: the tests queue more than the autotuned first limit (2 x IW). */
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb)), 0);
	if (cc[0] != '\0')
		assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc)), 0);
	zpt_tcp_connect_syn(T, fd, &s);
	zpt_tcp_inject_full(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, T->peer_win, opts,
			    sizeof(opts), NULL, 0);
	T->peer_nxt++;
	expect_seg(F_ACK);
	return fd;
}

static void ack(uint32_t a)
{
	zpt_tcp_inject(T, T->peer_nxt, a, F_ACK, NULL, 0);
}

/* Pop everything sent; return the number of data segments and their bytes in *bytes. */
static unsigned flight(uint32_t *bytes)
{
	struct zpt_seg s;
	unsigned n = 0;

	*bytes = 0;
	while (zpt_tcp_pop(T, &s))
		if (s.len > 0) {
			n++;
			*bytes += s.len;
		}
	return n;
}

static void test_iw10_first_flight(void **state)
{
	static uint8_t data[64 * 1024];
	uint32_t bytes;
	int fd;

	(void)state;
	fd = client("", 1460);
	assert_int_equal(info(fd).snd_mss, 1460);
	assert_int_equal(info(fd).snd_cwnd, 14600); /* RFC 6928: min(10 MSS, max(2 MSS, 14600)) */
	assert_int_equal(zp_send(fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	assert_int_equal(flight(&bytes), 10);
	assert_int_equal(bytes, 14600);
	zp_close(fd);
}

/* Fill the first flight of 10 segments; returns the bytes in flight. */
static uint32_t first_flight(int fd, uint32_t mss)
{
	static uint8_t data[40 * 1460];
	uint32_t bytes;

	assert_int_equal(zp_send(fd, data, 40 * mss, 0), (ssize_t)(40 * mss));
	assert_int_equal(flight(&bytes), 10);
	assert_int_equal(bytes, 10 * mss);
	return bytes;
}

static void test_newreno_halves_on_three_dupacks(void **state)
{
	struct zpt_seg s;
	int fd;

	(void)state;
	fd = client("newreno", 536);
	first_flight(fd, 536);
	ack(snd_base());
	ack(snd_base());
	expect_none(); /* two duplicates are not a loss */
	ack(snd_base());
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base());
	assert_int_equal(s.len, 536);
	expect_none();
	/* RFC 5681 §3.2: ssthresh = FlightSize / 2, cwnd = ssthresh + 3 SMSS. */
	assert_int_equal(info(fd).snd_ssthresh, 5 * 536);
	assert_int_equal(info(fd).snd_cwnd, 8 * 536);
	/* Step 5: each further duplicate inflates by one SMSS. */
	ack(snd_base());
	assert_int_equal(info(fd).snd_cwnd, 9 * 536);
	assert_int_equal(zpt_tcp_stat(T, "fast_retrans"), 1);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_newreno_partial_ack_retransmits_next_hole_and_full_ack_deflates(void **state)
{
	struct zpt_seg s;
	uint32_t cwnd;
	int fd, i;

	(void)state;
	fd = client("newreno", 536);
	first_flight(fd, 536);
	for (i = 0; i < 3; i++)
		ack(snd_base());
	expect_seg(F_ACK); /* the fast retransmission */
	cwnd = info(fd).snd_cwnd;
	/* Segments 1 and 2 arrive, 3 was lost too: a partial ACK (RFC 6582 §3.2 step 3). */
	ack(snd_base() + 2 * 536);
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base() + 2 * 536);
	assert_int_equal(s.len, 536);
	expect_none();
	/* Deflated by what was acked, one SMSS added back. */
	assert_int_equal(info(fd).snd_cwnd, cwnd - 2 * 536 + 536);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 2);
	/* Everything up to the recovery point: recovery ends, cwnd = ssthresh. */
	ack(snd_base() + 10 * 536);
	assert_int_equal(info(fd).snd_cwnd, info(fd).snd_ssthresh);
	assert_int_equal(info(fd).snd_ssthresh, 5 * 536);
	assert_false(conn()->in_recovery);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_cubic_reduces_by_beta_0_7(void **state)
{
	int fd, i;

	(void)state;
	fd = client("cubic", 536);
	first_flight(fd, 536);
	for (i = 0; i < 3; i++)
		ack(snd_base());
	expect_seg(F_ACK);
	/* RFC 9438 §4.6: ssthresh = cwnd * 0.7 (cwnd was 10 segments). */
	assert_int_equal(info(fd).snd_ssthresh, (uint32_t)(5360 * 0.7));
	ack(snd_base() + 10 * 536);
	assert_int_equal(info(fd).snd_cwnd, (uint32_t)(5360 * 0.7));
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void rto_collapses_to_one_segment(const char *cc, uint32_t want_ssthresh)
{
	int fd;
	struct zp_tcp_info ti;

	fd = client(cc, 536);
	first_flight(fd, 536);
	ti = info(fd);
	assert_int_equal(ti.snd_cwnd, 5360);
	zpt_tcp_advance(T, (uint64_t)ti.rto_us * 1000 + 10 * MSEC);
	expect_seg(F_ACK); /* the oldest segment again */
	expect_none();
	ti = info(fd);
	assert_int_equal(ti.snd_cwnd, 536); /* RFC 5681 §3.1 loss window */
	assert_int_equal(ti.snd_ssthresh, want_ssthresh);
	/* A second timeout keeps ssthresh (RFC 5681 §3.1 (4)). */
	zpt_tcp_advance(T, 2ull * ti.rto_us * 1000 + 10 * MSEC);
	expect_seg(F_ACK);
	assert_int_equal(info(fd).snd_cwnd, 536);
	assert_int_equal(info(fd).snd_ssthresh, want_ssthresh);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 2);
	zp_close(fd);
}

static void test_rto_collapses_cwnd_to_one_mss_newreno(void **state)
{
	(void)state;
	rto_collapses_to_one_segment("newreno", 5 * 536);
}

static void test_rto_collapses_cwnd_to_one_mss_cubic(void **state)
{
	(void)state;
	rto_collapses_to_one_segment("cubic", (uint32_t)(5360 * 0.7));
}

/*
 * Drive the algorithm of an established connection directly: ACKs of one segment each,
 * spread evenly over each RTT, a window's worth per RTT (an ACK clock), until time @p until.
 */
static void ack_clock(struct tcp_conn *c, uint64_t rtt_ns, uint64_t until)
{
	while (T->w->now_ns < until) {
		uint32_t n = c->cwnd / c->snd_mss, i;

		for (i = 0; i < n && T->w->now_ns < until; i++) {
			T->w->now_ns += rtt_ns / n;
			tcp__cc_ack(c, c->snd_mss);
		}
	}
}

static double cube_root(double x)
{
	double r = x > 1 ? x / 3 : 1;
	int i;

	for (i = 0; i < 200; i++)
		r = (2 * r + x / (r * r)) / 3;
	return r;
}

/* W_cubic(t) in segments (RFC 9438 Figure 1), C = 0.4. */
static double w_cubic(double t, double k, double w_max)
{
	return 0.4 * (t - k) * (t - k) * (t - k) + w_max;
}

static void check_curve(struct tcp_conn *c, uint64_t t0, double k, double w_max, double t)
{
	double want = w_cubic(t, k, w_max), got;

	ack_clock(c, 100 * MSEC, t0 + (uint64_t)(t * 1e9));
	got = (double)c->cwnd / c->snd_mss;
	print_message("t=%.1fs cwnd %.2f W_cubic %.2f segments\n", t, got, want);
	assert_true((got > want ? got - want : want - got) <= 0.05 * want + 1);
}

static void test_cubic_growth_follows_w_cubic(void **state)
{
	struct tcp_conn *c;
	uint64_t t0;
	double k;
	int fd;

	(void)state;
	fd = client("cubic", 1460);
	c = conn();
	c->srtt_us = 100000; /* RTT 100 ms */
	c->cwnd = 100 * c->snd_mss;
	c->ssthresh = 50 * c->snd_mss; /* in congestion avoidance */
	tcp__cc_enter_recovery(c);
	assert_int_equal(c->ssthresh, 70 * c->snd_mss); /* beta 0.7 */
	tcp__cc_exit_recovery(c);
	assert_int_equal(c->cwnd, 70 * c->snd_mss);
	/* K = cbrt(W_max (1 - beta) / C) = cbrt(75) s; plateau at W_max = 100. */
	k = cube_root(100 * 0.3 / 0.4);
	t0 = T->w->now_ns;
	check_curve(c, t0, k, 100, 1.0); /* concave */
	check_curve(c, t0, k, 100, 3.0);
	check_curve(c, t0, k, 100, k);	 /* the plateau */
	check_curve(c, t0, k, 100, 6.0); /* convex */
	check_curve(c, t0, k, 100, 8.0);
	zp_close(fd);
}

static void test_cubic_fast_convergence_lowers_the_plateau(void **state)
{
	struct tcp_conn *c;
	uint64_t t0;
	double k, w_max;
	int fd;

	(void)state;
	fd = client("cubic", 1460);
	c = conn();
	c->srtt_us = 100000;
	c->cwnd = 100 * c->snd_mss;
	c->ssthresh = 50 * c->snd_mss;
	tcp__cc_enter_recovery(c); /* W_max = 100 */
	tcp__cc_exit_recovery(c);
	/* The next loss comes below W_max: another flow took bandwidth (RFC 9438 §4.7). */
	c->cwnd = 80 * c->snd_mss;
	tcp__cc_enter_recovery(c);
	tcp__cc_exit_recovery(c);
	assert_int_equal(c->cwnd, 56 * c->snd_mss);
	w_max = 80 * (1 + 0.7) / 2; /* 68, not 80 */
	k = cube_root((w_max - 56) / 0.4);
	t0 = T->w->now_ns;
	/* One second in, still in the cubic region: about 64.3 segments, where the curve
	 * without fast convergence (plateau 80, K = cbrt(60)) would give about 70.1. */
	check_curve(c, t0, k, w_max, 1.0);
	assert_true((double)c->cwnd / c->snd_mss < 66);
	zp_close(fd);
}

static void test_cubic_idle_time_does_not_count_on_the_curve(void **state)
{
	struct tcp_conn *c;
	uint32_t before;
	int fd;

	(void)state;
	fd = client("cubic", 1460);
	c = conn();
	c->srtt_us = 100000;
	c->cwnd = 100 * c->snd_mss;
	c->ssthresh = 50 * c->snd_mss;
	tcp__cc_enter_recovery(c);
	tcp__cc_exit_recovery(c);
	ack_clock(c, 100 * MSEC, T->w->now_ns + SEC); /* about 86.6 segments, concave */
	before = c->cwnd;
	T->w->now_ns += 20 * SEC; /* idle: the curve would be far above 1000 segments by now */
	ack_clock(c, 100 * MSEC, T->w->now_ns + 100 * MSEC);
	assert_true(c->cwnd < before + 2 * c->snd_mss);
	zp_close(fd);
}

static void test_cubic_reno_friendly_region_when_rtt_is_short(void **state)
{
	struct tcp_conn *c;
	int fd;

	(void)state;
	fd = client("cubic", 1460);
	c = conn();
	c->srtt_us = 1000; /* 1 ms: CUBIC alone would be slower than Reno */
	c->cwnd = 1000 * c->snd_mss;
	c->ssthresh = 500 * c->snd_mss;
	tcp__cc_enter_recovery(c);
	tcp__cc_exit_recovery(c);
	/* 100 RTTs of 1 ms: W_cubic barely moves, W_est grows ~0.53 segment per RTT. */
	ack_clock(c, MSEC, T->w->now_ns + 100 * MSEC);
	assert_true(c->cwnd / c->snd_mss >= 700 + 45);
	assert_true(c->cwnd / c->snd_mss <= 700 + 60);
	zp_close(fd);
}

static void test_congestion_sockopt_selects_and_reports_algorithm(void **state)
{
	char name[16];
	socklen_t len = sizeof(name);
	struct zp_tcp_info ti;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	assert_string_equal(name, "cubic"); /* the default */
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "newreno", 8), 0);
	len = sizeof(name);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	assert_string_equal(name, "newreno");
	assert_int_equal(len, 8);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "bbr", 3), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "cubicx", 6), -1);
	assert_int_equal(errno, ENOENT);
	len = sizeof(name);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	assert_string_equal(name, "newreno"); /* unchanged by the failures */
	len = sizeof(ti);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	assert_string_equal(ti.congestion, "newreno");
	zp_close(fd);
}

static void test_listener_children_inherit_the_algorithm(void **state)
{
	char name[16];
	socklen_t len = sizeof(name);
	int l = zp_socket(AF_INET, SOCK_STREAM, 0), fd;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = rte_cpu_to_be_16(8080)};
	struct zpt_seg s;

	(void)state;
	assert_int_equal(zp_setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	T->lport = 8080;
	zpt_tcp_inject(T, T->peer_nxt, 0, F_SYN, NULL, 0);
	T->peer_nxt++;
	assert_true(zpt_tcp_pop(T, &s));
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_ACK, NULL, 0);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	assert_string_equal(name, "reno");
	assert_ptr_equal(conn()->cc.ops, &tcp_cc_newreno_ops);
	zp_close(fd);
	zp_close(l);
}

static void test_stack_default_comes_from_tunables(void **state)
{
	char name[16];
	socklen_t len = sizeof(name);
	int fd;

	(void)state;
	T->env->stack.tun.tcp_cc = TCP_CC_NEWRENO;
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, name, &len), 0);
	assert_string_equal(name, "newreno");
	zp_close(fd);
	T->env->stack.tun.tcp_cc = TCP_CC_CUBIC;
}

static void test_config_stack_tcp_cc_is_validated(void **state)
{
	struct ctl_config c;
	char err[512];

	(void)state;
	ctl_config_defaults(&c);
	assert_int_equal(c.tun.tcp_cc, TCP_CC_CUBIC);
	assert_int_equal(ctl_config_parse_string(&c, "z.ini", "[stack]\ntcp_cc = newreno\n", err,
						 sizeof(err)),
			 0);
	assert_int_equal(c.tun.tcp_cc, TCP_CC_NEWRENO);
	assert_int_equal(ctl_config_override(&c, "stack.tcp_cc=cubic", err, sizeof(err)), 0);
	assert_int_equal(c.tun.tcp_cc, TCP_CC_CUBIC);
	ctl_config_defaults(&c);
	assert_int_equal(
		ctl_config_parse_string(&c, "z.ini", "[stack]\ntcp_cc = vegas\n", err, sizeof(err)),
		-EINVAL);
	assert_string_equal(err, "z.ini:2: [stack] tcp_cc: \"vegas\" is not a congestion control "
				 "algorithm (known: cubic, newreno (alias reno))");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_iw10_first_flight),
		TEST(test_newreno_halves_on_three_dupacks),
		TEST(test_newreno_partial_ack_retransmits_next_hole_and_full_ack_deflates),
		TEST(test_cubic_reduces_by_beta_0_7),
		TEST(test_rto_collapses_cwnd_to_one_mss_newreno),
		TEST(test_rto_collapses_cwnd_to_one_mss_cubic),
		TEST(test_cubic_growth_follows_w_cubic),
		TEST(test_cubic_fast_convergence_lowers_the_plateau),
		TEST(test_cubic_reno_friendly_region_when_rtt_is_short),
		TEST(test_cubic_idle_time_does_not_count_on_the_curve),
		TEST(test_congestion_sockopt_selects_and_reports_algorithm),
		TEST(test_listener_children_inherit_the_algorithm),
		TEST(test_stack_default_comes_from_tunables),
		TEST(test_config_stack_tcp_cc_is_validated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
