/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-window autotuning (tcp_autotune.c): the first window, growth to twice what the
 * reader takes per round trip, the SO_RCVBUF ceiling, and a slow reader that gets no more.
 */
#include "test_common.h"

static uint32_t rcv_wnd(int fd)
{
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	return ti.rcv_wnd;
}

/* Client with SO_RCVBUF @p rcvbuf (0 = default); the peer's SYN,ACK offers window scaling,
 * so windows beyond 64 KiB can be offered. */
static int client(int rcvbuf)
{
	static const uint8_t ws[4] = {1, 3, 3, 7};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	if (rcvbuf != 0)
		assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)),
				 0);
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_true(zpt_tcp_pop(T, &s));
	T->our_iss = s.seq;
	T->lport = s.sport;
	zpt_tcp_inject_full(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, 65535, ws, 4, NULL, 0);
	T->peer_nxt++;
	zpt_tcp_drain(T);
	return fd;
}

/* The peer fills the offered window in 1460-byte segments; returns the bytes sent. */
static uint32_t peer_fill(int fd)
{
	static uint8_t d[1460];
	uint32_t w = rcv_wnd(fd), sent = 0;

	while (sent + sizeof(d) <= w) {
		zpt_tcp_peer_send(T, T->our_iss + 1, d, sizeof(d));
		sent += sizeof(d);
	}
	zpt_tcp_drain(T);
	return sent;
}

static void read_all(int fd, uint32_t n)
{
	static uint8_t buf[1 << 20];

	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), (ssize_t)n);
}

static void test_first_window_is_64k_below_a_larger_rcvbuf(void **state)
{
	int fd = client(0);

	(void)state;
	assert_int_equal(rcv_wnd(fd), TCP_RCVWIN_INIT);
	zp_close(fd);
}

static void test_window_grows_with_a_fast_reader_up_to_rcvbuf(void **state)
{
	uint32_t w, prev = 0, n;
	int fd, i, rcvbuf = 512 * 1024;

	(void)state;
	fd = client(rcvbuf);
	for (i = 0; i < 12; i++) {
		n = peer_fill(fd); /* a window per 10 ms round trip, all of it read at once */
		read_all(fd, n);
		zpt_tcp_advance(T, 10 * MSEC);
		w = rcv_wnd(fd);
		assert_true(w >= prev); /* never shrinks */
		assert_true(w <= (uint32_t)rcvbuf);
		prev = w;
	}
	assert_true(prev > 4 * TCP_RCVWIN_INIT); /* grew well past the first window */
	zp_close(fd);
}

static void test_window_is_capped_by_rcvbuf(void **state)
{
	uint32_t n;
	int fd, i;

	(void)state;
	fd = client(0); /* default SO_RCVBUF 256 KiB */
	for (i = 0; i < 12; i++) {
		n = peer_fill(fd);
		read_all(fd, n);
		zpt_tcp_advance(T, 10 * MSEC);
	}
	assert_int_equal(rcv_wnd(fd), TCP_RCVBUF_DEFAULT);
	zp_close(fd);
}

static void test_slow_reader_gets_no_more_window(void **state)
{
	static uint8_t buf[4096];
	int fd, i;

	(void)state;
	fd = client(0);
	for (i = 0; i < 12; i++) {
		zpt_tcp_peer_send(T, T->our_iss + 1, buf, 1460);
		zpt_tcp_drain(T);
		assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), 1460); /* 1460 B per RTT */
		zpt_tcp_advance(T, 10 * MSEC);
	}
	assert_int_equal(rcv_wnd(fd), TCP_RCVWIN_INIT);
	zp_close(fd);
}

static void test_small_rcvbuf_is_the_window(void **state)
{
	int v = 16384, fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;

	(void)state;
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_true(zpt_tcp_pop(T, &s));
	T->our_iss = s.seq;
	T->lport = s.sport;
	zpt_tcp_inject(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, NULL, 0);
	T->peer_nxt++;
	zpt_tcp_drain(T);
	assert_int_equal(rcv_wnd(fd), 16384);
	zp_close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_first_window_is_64k_below_a_larger_rcvbuf),
		TEST(test_window_grows_with_a_fast_reader_up_to_rcvbuf),
		TEST(test_window_is_capped_by_rcvbuf),
		TEST(test_slow_reader_gets_no_more_window),
		TEST(test_small_rcvbuf_is_the_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
