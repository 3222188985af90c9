/* SPDX-License-Identifier: BSD-3-Clause */
/* Data transfer: windows, retransmission (RFC 6298), fast retransmit (RFC 5681),
 * reassembly, zero-window probes, Nagle, delayed ACK, window scaling, zero-copy receive. */
#include "test_common.h"

static uint32_t snd_nxt(void)
{
	return T->our_iss + 1;
}

static void test_bulk_send_respects_peer_window_and_mss(void **state)
{
	static uint8_t data[10000];
	struct zpt_seg s;
	uint32_t sent = 0;
	int fd;

	(void)state;
	T->peer_win = 3000;
	fd = zpt_tcp_client(T);
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(zp_send(fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	while (zpt_tcp_pop(T, &s)) {
		assert_true(s.len <= TCP_MSS_NOOPT); /* the peer sent no MSS option */
		sent += s.len;
	}
	/* The window is filled up to less than one MSS (sender SWS avoidance). */
	assert_true(sent <= 3000 && sent > 3000 - TCP_MSS_NOOPT);
	/* ACK everything so far: the next window's worth goes. */
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt() + sent, F_ACK, NULL, 0);
	sent = 0;
	while (zpt_tcp_pop(T, &s))
		sent += s.len;
	assert_true(sent <= 3000 && sent > 3000 - TCP_MSS_NOOPT);
	zp_close(fd);
}

static void test_rto_retransmits_oldest_segment_with_backoff(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	(void)state;
	assert_int_equal(zp_send(fd, "hello", 5, 0), 5);
	expect_seg(F_ACK | F_PSH);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	zpt_tcp_advance(T, (uint64_t)ti.rto_us * 1000 + 10 * MSEC);
	s = expect_seg(F_ACK | F_PSH);
	assert_int_equal(s.seq, snd_nxt());
	assert_int_equal(s.len, 5);
	zpt_tcp_advance(T, (uint64_t)ti.rto_us * 1000 + 10 * MSEC);
	expect_none(); /* backed off: 2 * RTO */
	zpt_tcp_advance(T, (uint64_t)ti.rto_us * 1000);
	expect_seg(F_ACK | F_PSH);
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt() + 5, F_ACK, NULL, 0);
	zpt_tcp_advance(T, 10 * SEC);
	expect_none();
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 2);
	zp_close(fd);
}

static void test_three_dupacks_trigger_fast_retransmit(void **state)
{
	static uint8_t data[4 * 1460];
	struct zpt_seg s;
	int fd = zpt_tcp_client(T), i;

	(void)state;
	assert_int_equal(zp_send(fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	assert_true(zpt_tcp_drain(T) >= 4);
	for (i = 0; i < 3; i++)
		zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_ACK, NULL, 0);
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_nxt());
	assert_int_equal(zpt_tcp_stat(T, "fast_retrans"), 1);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_out_of_order_segments_are_reassembled(void **state)
{
	char buf[16];
	struct zpt_seg s;
	uint32_t base;
	int fd = zpt_tcp_client(T);

	(void)state;
	base = T->peer_nxt;
	zpt_tcp_inject(T, base + 4, snd_nxt(), F_ACK, "efgh", 4);
	s = expect_seg(F_ACK); /* immediate duplicate ACK (RFC 5681 §4.2) */
	assert_int_equal(s.ack, base);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), -1);
	zpt_tcp_inject(T, base + 2, snd_nxt(), F_ACK, "cdef", 4); /* overlaps */
	zpt_tcp_inject(T, base, snd_nxt(), F_ACK, "ab", 2);
	zpt_tcp_drain(T);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 8);
	assert_memory_equal(buf, "abcdefgh", 8);
	zp_close(fd);
}

static void test_zero_window_is_probed_until_it_opens(void **state)
{
	struct zpt_seg s;
	int fd;

	(void)state;
	T->peer_win = 0;
	fd = zpt_tcp_client(T);
	assert_int_equal(zp_send(fd, "abc", 3, 0), 3);
	expect_none();
	zpt_tcp_advance(T, 2 * SEC);
	s = expect_seg(F_ACK);
	assert_int_equal(s.len, 1); /* RFC 9293 §3.8.6.1 */
	assert_int_equal(s.seq, snd_nxt());
	zpt_tcp_drain(T);
	T->peer_win = 1000;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_ACK, NULL, 0);
	s = expect_seg(F_ACK | F_PSH);
	assert_int_equal(s.len, 3);
	assert_true(zpt_tcp_stat(T, "persist_probes") >= 1);
	zp_close(fd);
}

static void test_nagle_holds_small_segment_until_ack_nodelay_does_not(void **state)
{
	int one = 1;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_send(fd, "a", 1, 0), 1);
	expect_seg(F_ACK | F_PSH);
	assert_int_equal(zp_send(fd, "b", 1, 0), 1);
	expect_none(); /* RFC 9293 §3.7.4: one small segment in flight */
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt() + 1, F_ACK, NULL, 0);
	expect_seg(F_ACK | F_PSH);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	assert_int_equal(zp_send(fd, "c", 1, 0), 1);
	expect_seg(F_ACK | F_PSH);
	zp_close(fd);
}

static void test_delayed_ack_waits_then_acks_or_acks_every_second_segment(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	tcp__engine(T->w)->delack_ns = TCP_DELACK_NS;
	zpt_tcp_peer_send(T, snd_nxt(), "one", 3);
	expect_none();
	zpt_tcp_advance(T, TCP_DELACK_NS + MSEC);
	expect_seg(F_ACK);
	zpt_tcp_peer_send(T, snd_nxt(), "two", 3);
	zpt_tcp_peer_send(T, snd_nxt(), "three", 5);
	expect_seg(F_ACK);
	assert_true(zpt_tcp_stat(T, "delayed_acks") >= 1);
	zp_close(fd);
}

static void test_window_scale_applies_to_peer_window(void **state)
{
	uint8_t ws[4] = {1, 3, 3, 2};
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject_full(T, 5000, s.seq + 1, F_SYN | F_ACK, 1000, ws, 4, NULL, 0);
	expect_seg(F_ACK);
	zpt_tcp_inject_full(T, 5001, s.seq + 1, F_ACK, 1000, NULL, 0, NULL, 0);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	assert_int_equal(ti.snd_wscale, 2);
	assert_int_equal(ti.snd_wnd, 4000);
	assert_true(ti.options & 4);
	zp_close(fd);
}

static void test_zero_copy_receive_reopens_window_on_release(void **state)
{
	struct zp_zc_view v[4];
	uint8_t data[1000];
	int fd = zpt_tcp_client(T), n;
	uint32_t held;

	(void)state;
	memset(data, 3, sizeof(data));
	zpt_tcp_peer_send(T, snd_nxt(), data, sizeof(data));
	zpt_tcp_drain(T);
	n = zp_zc_recv(fd, v, 4);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].len, 1000);
	assert_memory_equal(v[0].data, data, 1000);
	held = TAILQ_FIRST(&tcp__engine(T->w)->conns)->zc_held;
	assert_int_equal(held, 1000);
	/* The block outlives close() while a view is out. */
	zp_close(fd);
	zpt_tcp_drain(T);
	zp_zc_release(v, n);
}

static void test_peek_readv_writev(void **state)
{
	char a[3], b[4], p[8];
	struct iovec iov[2] = {{a, sizeof(a)}, {b, sizeof(b)}};
	struct iovec out[2] = {{(void *)"xy", 2}, {(void *)"z", 1}};
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt(), "1234567", 7);
	zpt_tcp_drain(T);
	assert_int_equal(zp_recv(fd, p, sizeof(p), MSG_PEEK), 7);
	assert_int_equal(zp_readv(fd, iov, 2), 7);
	assert_memory_equal(a, "123", 3);
	assert_memory_equal(b, "4567", 4);
	assert_int_equal(zp_writev(fd, out, 2), 3);
	s = expect_seg(F_ACK | F_PSH);
	assert_memory_equal(s.data, "xyz", 3);
	zp_close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_bulk_send_respects_peer_window_and_mss),
		TEST(test_rto_retransmits_oldest_segment_with_backoff),
		TEST(test_three_dupacks_trigger_fast_retransmit),
		TEST(test_out_of_order_segments_are_reassembled),
		TEST(test_zero_window_is_probed_until_it_opens),
		TEST(test_nagle_holds_small_segment_until_ack_nodelay_does_not),
		TEST(test_delayed_ack_waits_then_acks_or_acks_every_second_segment),
		TEST(test_window_scale_applies_to_peer_window),
		TEST(test_zero_copy_receive_reopens_window_on_release),
		TEST(test_peek_readv_writev),
	};

	return cmocka_run_group_tests_name("tcp_data", tests, NULL, NULL);
}
