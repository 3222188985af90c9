/* SPDX-License-Identifier: BSD-3-Clause */
/* Opening connections: RFC 9293 §3.5, §3.10.7.2-3; RST-4, RA-1, PSX-1, D-12, R2 for SYNs. */
#include "test_common.h"

static void connect_peer(int fd, int expect_errno)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, expect_errno);
}

static void test_active_open_syn_carries_mss_ws_ts_and_completes(void **state)
{
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	s = expect_seg(F_SYN);
	assert_true(s.has_mss);
	assert_int_equal(s.mss, 1460);
	assert_true(s.has_ws);
	assert_true(s.has_ts);
	assert_int_equal(s.dport, T->pport);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_SYN_SENT);
	T->lport = s.sport;
	zpt_tcp_inject(T, 5000, s.seq + 1, F_SYN | F_ACK, NULL, 0);
	s = expect_seg(F_ACK);
	assert_int_equal(s.ack, 5001);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	assert_int_equal(zpt_tcp_so_error(fd), 0);
	assert_int_equal(zp_close(fd), 0);
}

static void test_passive_open_answers_syn_ack_and_accept_returns_socket(void **state)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg s;
	uint8_t mss_opt[4] = {2, 4, 0x02, 0x00}; /* MSS 512 */
	int l = zp_socket(AF_INET, SOCK_STREAM, 0), fd;

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	assert_int_equal(zp_accept(l, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	zpt_tcp_inject_full(T, 7000, 0, F_SYN, 65535, mss_opt, 4, NULL, 0);
	s = expect_seg(F_SYN | F_ACK);
	assert_int_equal(s.ack, 7001);
	assert_true(s.has_mss);
	assert_false(s.has_ws); /* RFC 7323: not offered by the SYN, not in the SYN,ACK */
	assert_false(s.has_ts);
	zpt_tcp_inject(T, 7001, s.seq + 1, F_ACK, NULL, 0);
	fd = zp_accept(l, (struct sockaddr *)&peer, &plen);
	assert_true(fd >= 0);
	assert_int_equal(peer.sin_addr.s_addr, T->peer);
	assert_int_equal(rte_be_to_cpu_16(peer.sin_port), T->pport);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	{
		int mss;
		socklen_t ml = sizeof(mss);

		assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &ml), 0);
		assert_int_equal(mss, 512);
	}
	zp_close(fd);
	zp_close(l);
}

static void test_simultaneous_open_goes_through_syn_received(void **state)
{
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	/* The peer's own SYN crosses ours (RFC 9293 Figure 8). */
	zpt_tcp_inject(T, 9000, 0, F_SYN, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_SYN_RECEIVED);
	{
		struct zpt_seg sa = expect_seg(F_SYN | F_ACK);

		assert_int_equal(sa.seq, s.seq);
		assert_int_equal(sa.ack, 9001);
	}
	zpt_tcp_inject(T, 9000, s.seq + 1, F_SYN | F_ACK, NULL, 0);
	/* A SYN,ACK in SYN_RECEIVED: the SYN bit is trimmed as old, the ACK completes. */
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_RST_4_segment_for_no_connection_gets_rst(void **state)
{
	struct zpt_seg s;

	(void)state;
	/* With ACK: <SEQ=SEG.ACK><CTL=RST>. */
	zpt_tcp_inject(T, 100, 777, F_ACK, "x", 1);
	s = expect_seg(F_RST);
	assert_int_equal(s.seq, 777);
	/* Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
	zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0);
	s = expect_seg(F_RST | F_ACK);
	assert_int_equal(s.seq, 0);
	assert_int_equal(s.ack, 101);
	/* Never a RST for a RST. */
	zpt_tcp_inject(T, 100, 0, F_RST, NULL, 0);
	expect_none();
	assert_int_equal(zpt_tcp_drop(T, "no_conn"), 3);
}

static void test_RST_4_ack_to_listener_gets_rst_and_listener_stays(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg s;
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	zpt_tcp_inject(T, 1, 4242, F_ACK, NULL, 0);
	s = expect_seg(F_RST);
	assert_int_equal(s.seq, 4242);
	assert_int_equal(zpt_tcp_state(l), ZP_TCP_LISTEN);
	zpt_tcp_inject(T, 1, 0, F_RST, NULL, 0);
	expect_none();
	zp_close(l);
}

static void test_RST_4_syn_sent_unacceptable_ack_gets_rst_state_unchanged(void **state)
{
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 5000, s.seq + 100, F_SYN | F_ACK, NULL, 0);
	{
		struct zpt_seg r = expect_seg(F_RST);

		assert_int_equal(r.seq, s.seq + 100);
	}
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_SYN_SENT);
	zp_close(fd);
	expect_none(); /* RST-3: no RST from SYN_SENT */
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RA_1_syn_sent_bare_rst_ignored_rst_ack_refuses(void **state)
{
	struct zpt_seg s;
	char b[4];
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 0, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_SYN_SENT);
	zpt_tcp_inject(T, 0, s.seq + 2, F_RST | F_ACK, NULL, 0); /* bad ACK */
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_SYN_SENT);
	zpt_tcp_inject(T, 0, s.seq + 1, F_RST | F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	expect_none();
	assert_int_equal(zpt_tcp_so_error(fd), ECONNREFUSED);
	assert_int_equal(zpt_tcp_so_error(fd), 0); /* ERR-1: reported once */
	assert_int_equal(zp_recv(fd, b, sizeof(b), 0), 0);
	zp_close(fd);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_PSX_1_connect_einprogress_ealready_then_eisconn(void **state)
{
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	connect_peer(fd, EALREADY);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 5000, s.seq + 1, F_SYN | F_ACK, NULL, 0);
	zpt_tcp_drain(T);
	connect_peer(fd, EISCONN);
	assert_int_equal(zpt_tcp_so_error(fd), 0);
	zp_close(fd);
}

static void test_D_12_connect_after_failed_connect_is_einval(void **state)
{
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 0, s.seq + 1, F_RST | F_ACK, NULL, 0);
	connect_peer(fd, EINVAL);
	zp_close(fd);
}

static void test_syn_retransmits_with_backoff_then_connect_fails_etimedout(void **state)
{
	uint64_t t0;
	unsigned n = 0;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(fd, EINPROGRESS);
	expect_seg(F_SYN);
	t0 = T->w->now_ns;
	zpt_tcp_advance(T, 999 * MSEC);
	expect_none();
	zpt_tcp_advance(T, 2 * MSEC);
	expect_seg(F_SYN); /* RFC 6298 §2.1: initial RTO 1 s */
	n++;
	zpt_tcp_advance(T, 1990 * MSEC);
	expect_none();
	zpt_tcp_advance(T, 20 * MSEC);
	expect_seg(F_SYN); /* backed off to 2 s */
	n++;
	while (zpt_tcp_state(fd) == ZP_TCP_SYN_SENT && T->w->now_ns - t0 < 600 * SEC) {
		zpt_tcp_advance(T, SEC);
		n += zpt_tcp_drain(T);
	}
	/* RFC 9293 MUST-23: R2 for a SYN is at least 3 minutes. */
	assert_true(T->w->now_ns - t0 >= 180 * SEC);
	assert_int_equal(n, TCP_SYN_RETRIES);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	assert_int_equal(zpt_tcp_so_error(fd), ETIMEDOUT);
	zp_close(fd);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RST_4_synchronized_unacceptable_segment_gets_ack_not_rst(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt + 1000000, T->our_iss + 1, F_ACK, "zz", 2);
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, T->our_iss + 1);
	assert_int_equal(s.ack, T->peer_nxt);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	zp_close(fd);
}

static void test_REU_4_connect_never_duplicates_a_4tuple(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;
	int one = 1;
	int a = zp_socket(AF_INET, SOCK_STREAM, 0), b = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	connect_peer(a, EINPROGRESS);
	s = expect_seg(F_SYN);
	/* b binds the same local port (SO_REUSEADDR) and connects to the same peer. */
	assert_int_equal(zp_setsockopt(b, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sin.sin_addr.s_addr = T->local;
	sin.sin_port = rte_cpu_to_be_16(s.sport);
	assert_int_equal(zp_bind(b, (struct sockaddr *)&sin, sizeof(sin)), 0);
	connect_peer(b, EADDRNOTAVAIL);
	zp_close(a);
	zp_close(b);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_listener_backlog_full_drops_syn(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);
	unsigned i;

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 2), 0);
	for (i = 0; i < 3; i++) {
		T->pport = (uint16_t)(41000 + i);
		zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0);
	}
	assert_int_equal(zpt_tcp_drain(T), 2);
	assert_int_equal(zpt_tcp_drop(T, "backlog_full"), 1);
	zp_close(l);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_active_open_syn_carries_mss_ws_ts_and_completes),
		TEST(test_passive_open_answers_syn_ack_and_accept_returns_socket),
		TEST(test_simultaneous_open_goes_through_syn_received),
		TEST(test_RST_4_segment_for_no_connection_gets_rst),
		TEST(test_RST_4_ack_to_listener_gets_rst_and_listener_stays),
		TEST(test_RST_4_syn_sent_unacceptable_ack_gets_rst_state_unchanged),
		TEST(test_RA_1_syn_sent_bare_rst_ignored_rst_ack_refuses),
		TEST(test_PSX_1_connect_einprogress_ealready_then_eisconn),
		TEST(test_D_12_connect_after_failed_connect_is_einval),
		TEST(test_syn_retransmits_with_backoff_then_connect_fails_etimedout),
		TEST(test_RST_4_synchronized_unacceptable_segment_gets_ack_not_rst),
		TEST(test_REU_4_connect_never_duplicates_a_4tuple),
		TEST(test_listener_backlog_full_drops_syn),
	};

	return cmocka_run_group_tests_name("tcp_handshake", tests, NULL, NULL);
}
