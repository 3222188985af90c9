/* SPDX-License-Identifier: BSD-3-Clause */
/* Teardown: close-semantics.md §1 (CL), §2 (RST), §4 (TW), §6 (F), §7 (LNG), §8 (SD). */
#include "test_common.h"

static uint32_t snd_nxt(void)
{
	return T->our_iss + 1;
}

static void linger(int fd, int on, int secs)
{
	struct linger l = {.l_onoff = on, .l_linger = secs};

	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
}

/* Our side closes first, the peer acks the FIN: FIN_WAIT_2. Returns the FIN's seq. */
static uint32_t to_fin_wait_2(int fd)
{
	struct zpt_seg s;

	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(F_FIN | F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_FIN_WAIT_2);
	return s.seq;
}

static void test_CL_1_fin_follows_queued_data_and_later_send_fails_epipe(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_send(fd, "abc", 3, 0), 3);
	s = expect_seg(F_ACK | F_PSH);
	assert_int_equal(s.len, 3);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(F_FIN | F_ACK);
	assert_int_equal(s.seq, T->our_iss + 1 + 3);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_FIN_WAIT_1);
	assert_int_equal(zp_send(fd, "d", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	zp_close(fd);
}

static void test_CL_2_fin_wait_1_ack_of_fin_goes_to_fin_wait_2(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	to_fin_wait_2(fd);
	zp_close(fd);
}

static void test_CL_2_fin_wait_1_fin_without_ack_goes_closing_then_time_wait(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(F_FIN | F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, s.seq, F_FIN | F_ACK, NULL, 0); /* does not ack our FIN */
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSING);
	{
		struct zpt_seg a = expect_seg(F_ACK);

		assert_int_equal(a.ack, T->peer_nxt + 1);
	}
	zpt_tcp_inject(T, T->peer_nxt + 1, s.seq + 1, F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_TIME_WAIT);
	zp_close(fd);
}

static void test_CL_2_fin_wait_1_fin_acking_ours_goes_time_wait(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(F_FIN | F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_FIN | F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_TIME_WAIT);
	expect_seg(F_ACK);
	zp_close(fd);
}

static void test_CL_2_fin_wait_2_fin_goes_time_wait(void **state)
{
	uint32_t fin;
	int fd = zpt_tcp_client(T);

	(void)state;
	fin = to_fin_wait_2(fd);
	zpt_tcp_inject(T, T->peer_nxt, fin + 1, F_FIN | F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_TIME_WAIT);
	expect_seg(F_ACK);
	zp_close(fd);
	/* The orphan lives on in TIME_WAIT, then goes. */
	assert_int_equal(zpt_tcp_conns(T), 1);
	zpt_tcp_advance(T, 2ull * T->w->stack->tun.tcp_msl_ms * MSEC + 20 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_CL_3_passive_close_close_wait_last_ack_no_time_wait(void **state)
{
	char buf[16];
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt(), "hello", 5);
	expect_seg(F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	s = expect_seg(F_ACK);
	assert_int_equal(s.ack, T->peer_nxt + 1);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSE_WAIT);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 5);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 0);
	assert_int_equal(zp_close(fd), 0);
	s = expect_seg(F_FIN | F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 1);
	zpt_tcp_inject(T, T->peer_nxt + 1, s.seq + 1, F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_conns(T), 0); /* deleted at once, no TIME_WAIT */
	expect_none();
}

static void test_CL_4_simultaneous_close_passes_closing_ends_time_wait(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(F_FIN | F_ACK);
	/* The peer's FIN crosses ours. */
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSING);
	expect_seg(F_ACK);
	zpt_tcp_inject(T, T->peer_nxt + 1, s.seq + 1, F_ACK, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_TIME_WAIT);
	zp_close(fd);
}

static void test_CL_5_half_close_receives_and_refuses_sends(void **state)
{
	char buf[8];
	int fd = zpt_tcp_client(T);
	uint32_t fin;

	(void)state;
	fin = to_fin_wait_2(fd);
	zpt_tcp_peer_send(T, fin + 1, "abc", 3); /* receiving stays allowed */
	expect_seg(F_ACK);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 3);
	assert_int_equal(zp_send(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	zp_close(fd);
}

static void test_CL_5_data_after_peer_fin_is_ignored(void **state)
{
	char buf[8];
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	T->peer_nxt++;
	expect_seg(F_ACK);
	zpt_tcp_peer_send(T, snd_nxt(), "late", 4);
	assert_true(zpt_tcp_drop(T, "after_fin") + zpt_tcp_drop(T, "out_of_window") +
			    zpt_tcp_drop(T, "dup") >= 1);
	zpt_tcp_drain(T);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 0);
	/* CLOSE_WAIT can still send. */
	assert_int_equal(zp_send(fd, "ok", 2, 0), 2);
	zp_close(fd);
}

static void test_CL_6_second_close_sends_no_second_fin(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	expect_seg(F_FIN | F_ACK);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	assert_int_equal(zp_close(fd), 0);
	expect_none();
}

static void test_CL_7_fin_gives_eof_rst_gives_error(void **state)
{
	char buf[8];
	int a = zpt_tcp_client(T), b;

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	assert_int_equal(recv_some(a, buf, sizeof(buf)), 0);
	zpt_tcp_drain(T);
	T->pport++;
	b = zpt_tcp_client(T);
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(recv_some(b, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	zp_close(a);
	zp_close(b);
}

static void test_CL_8_time_wait_lasts_2msl_and_fin_restarts_it(void **state)
{
	uint64_t two_msl = 2ull * T->w->stack->tun.tcp_msl_ms * MSEC;
	uint32_t fin;
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	fin = to_fin_wait_2(fd);
	zpt_tcp_inject(T, T->peer_nxt, fin + 1, F_FIN | F_ACK, NULL, 0);
	expect_seg(F_ACK);
	zp_close(fd);
	zpt_tcp_advance(T, two_msl / 2);
	/* The peer's FIN again: re-ACKed, 2MSL restarts. */
	zpt_tcp_inject(T, T->peer_nxt, fin + 1, F_FIN | F_ACK, NULL, 0);
	s = expect_seg(F_ACK);
	assert_int_equal(s.ack, T->peer_nxt + 1);
	zpt_tcp_advance(T, two_msl - 50 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 1);
	zpt_tcp_advance(T, 100 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_CL_9_orphan_fin_wait_2_times_out_owned_one_does_not(void **state)
{
	uint64_t tmo = (uint64_t)T->w->stack->tun.tcp_fin_timeout_ms * MSEC;
	int a = zpt_tcp_client(T), b;

	(void)state;
	to_fin_wait_2(a);                   /* half-closed, still owned */
	T->pport++;
	b = zpt_tcp_client(T);
	to_fin_wait_2(b);
	assert_int_equal(zp_close(b), 0);   /* orphan */
	zpt_tcp_advance(T, tmo + 20 * MSEC);
	assert_int_equal(zpt_tcp_state(a), ZP_TCP_FIN_WAIT_2);
	assert_int_equal(zpt_tcp_conns(T), 1);
	assert_int_equal(zpt_tcp_stat(T, "fin_timeouts"), 1);
	expect_none();
	zp_close(a);
	zpt_tcp_advance(T, tmo + 20 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_CL_10_abort_deletes_at_once_without_time_wait(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	linger(fd, 1, 0);
	assert_int_equal(zp_close(fd), 0);
	expect_seg(F_RST | F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RST_1_close_with_unread_data_sends_rst_not_fin(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt(), "0123456789", 10);
	expect_seg(F_ACK);
	assert_int_equal(zp_close(fd), 0);
	s = expect_seg(F_RST | F_ACK);
	assert_int_equal(s.seq, snd_nxt());
	expect_none();
	assert_int_equal(zpt_tcp_conns(T), 0);
	assert_int_equal(zpt_tcp_stat(T, "rst_unread"), 1);
}

static void test_RST_1_unread_data_then_fin_still_resets(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt(), "0123456789", 10);
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	zpt_tcp_drain(T);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSE_WAIT);
	assert_int_equal(zp_close(fd), 0);
	expect_seg(F_RST | F_ACK);
	expect_none();
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RST_2_data_after_close_gets_rst(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_close(fd), 0);
	s = expect_seg(F_FIN | F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_ACK, NULL, 0); /* FIN_WAIT_2, orphan */
	zpt_tcp_peer_send(T, s.seq + 1, "more", 4);
	expect_seg(F_RST | F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 0);
	assert_int_equal(zpt_tcp_drop(T, "orphan_data"), 1);
}

static void test_RST_3_linger_zero_resets_in_established_and_close_wait(void **state)
{
	struct zpt_seg s;
	int a = zpt_tcp_client(T), b;

	(void)state;
	assert_int_equal(zp_send(a, "q", 1, 0), 1);
	expect_seg(F_ACK | F_PSH);
	linger(a, 1, 0);
	assert_int_equal(zp_close(a), 0);
	s = expect_seg(F_RST | F_ACK);
	assert_int_equal(s.seq, snd_nxt() + 1); /* SND.NXT */
	T->pport++;
	b = zpt_tcp_client(T);
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	expect_seg(F_ACK);
	linger(b, 1, 0);
	assert_int_equal(zp_close(b), 0);
	expect_seg(F_RST | F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RST_3_linger_zero_in_last_ack_deletes_quietly(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	expect_seg(F_ACK);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	expect_seg(F_FIN | F_ACK);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_LAST_ACK);
	linger(fd, 1, 0);
	assert_int_equal(zp_close(fd), 0);
	expect_none();
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RST_5_closing_listener_resets_accept_queue_drops_half_open(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg s;
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 8), 0);
	T->lport = 80;
	zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0); /* completes */
	s = expect_seg(F_SYN | F_ACK);
	zpt_tcp_inject(T, 101, s.seq + 1, F_ACK, NULL, 0);
	T->pport++;
	zpt_tcp_inject(T, 500, 0, F_SYN, NULL, 0); /* stays half-open */
	expect_seg(F_SYN | F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 3);
	assert_int_equal(zp_close(l), 0);
	s = expect_seg(F_RST | F_ACK);
	assert_int_equal(s.dport, T->pport - 1);
	expect_none();
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_RST_6_keepalive_exhaustion_sends_rst_and_etimedout(void **state)
{
	int one = 1, idle = 10, intvl = 2, cnt = 3, probes = 0;
	char b[4];
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)), 0);
	zpt_tcp_advance(T, 9 * SEC);
	expect_none();
	zpt_tcp_advance(T, 2 * SEC);
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_nxt() - 1); /* RFC 9293 §3.8.4 probe */
	probes++;
	/* The peer answers: idle starts over. */
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_ACK, NULL, 0);
	zpt_tcp_advance(T, 9 * SEC);
	expect_none();
	while (zpt_tcp_state(fd) == ZP_TCP_ESTABLISHED) {
		zpt_tcp_advance(T, SEC);
		while (zpt_tcp_pop(T, &s)) {
			if (s.flags & F_RST)
				break;
			probes++;
		}
	}
	assert_true(s.flags & F_RST);
	assert_int_equal(probes, 1 + cnt);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, ETIMEDOUT);
	zp_close(fd);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

/* ---- TIME_WAIT ------------------------------------------------------------------------------ */

/* Server side connection (listener on 80 stays), peer with timestamps; we close first and
 * reach TIME_WAIT. */
static int server_to_time_wait(int *lfd, bool ts)
{
	struct zpt_seg s;
	int fd;

	T->peer_ts = ts;
	T->peer_tsval = 1000;
	fd = zpt_tcp_server(T, 80, lfd);
	assert_int_equal(zp_close(fd), 0);
	s = expect_seg(F_FIN | F_ACK);
	T->peer_tsval++;
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_FIN | F_ACK, NULL, 0);
	expect_seg(F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 2); /* listener + TIME_WAIT */
	return s.seq + 1; /* old SND.NXT */
}

static void test_TW_1_active_closer_enters_time_wait(void **state)
{
	int l;

	(void)state;
	server_to_time_wait(&l, false);
	zpt_tcp_advance(T, 2ull * T->w->stack->tun.tcp_msl_ms * MSEC + 20 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 1);
	zp_close(l);
}

static void test_TW_2_rst_in_time_wait_ignored_rfc1337(void **state)
{
	int l;

	(void)state;
	server_to_time_wait(&l, false);
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_conns(T), 2);
	assert_int_equal(zpt_tcp_drop(T, "tw_rst_ignored"), 1);
	zp_close(l);
}

static void test_TW_2_rst_in_time_wait_kills_with_knob_off(void **state)
{
	int l;

	(void)state;
	T->env->stack.tun.tcp_rfc1337_off = true;
	server_to_time_wait(&l, false);
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_conns(T), 1);
	zp_close(l);
}

/* One SYN against a fresh TIME_WAIT: returns true if a SYN,ACK came back. */
static bool tw_syn(bool syn_ts, int32_t dts, int32_t dseq, uint32_t *iss_out)
{
	struct zpt_seg s;
	uint32_t old_nxt, rcv_nxt;
	int l, fd;
	bool acc;

	old_nxt = (uint32_t)server_to_time_wait(&l, true);
	rcv_nxt = T->peer_nxt + 1;
	T->peer_ts = syn_ts;
	T->peer_tsval = (uint32_t)((int32_t)T->peer_tsval + dts);
	zpt_tcp_inject(T, (uint32_t)((int32_t)rcv_nxt + dseq), 0, F_SYN, NULL, 0);
	acc = zpt_tcp_pop(T, &s);
	if (acc) {
		assert_int_equal(s.flags, F_SYN | F_ACK);
		*iss_out = s.seq;
		assert_int_equal(s.seq, old_nxt + TCP_TW_ISS_GAP);
	}
	expect_none();
	zp_close(l); /* resets/frees the new child, the TIME_WAIT stays */
	zpt_tcp_drain(T);
	fd = 0;
	(void)fd;
	zpt_tcp_advance(T, 2ull * T->w->stack->tun.tcp_msl_ms * MSEC + 20 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 0);
	T->peer_ts = false;
	return acc;
}

static void test_TW_3_syn_reopen_follows_rfc6191(void **state)
{
	uint32_t iss;

	(void)state;
	assert_true(tw_syn(true, 1, 0, &iss));   /* TSval greater */
	assert_true(tw_syn(true, 0, 1, &iss));   /* TSval equal, seq greater */
	assert_false(tw_syn(true, 0, -1, &iss)); /* TSval equal, seq smaller */
	assert_false(tw_syn(true, -1, 5, &iss)); /* TSval smaller */
	assert_true(tw_syn(false, 0, 1, &iss));  /* no TS now, seq greater */
	assert_false(tw_syn(false, 0, -1, &iss)); /* no TS now, seq smaller */
}

static void test_TW_4_time_wait_acks_segments_and_drops_ones_without_ts(void **state)
{
	int l;

	(void)state;
	server_to_time_wait(&l, true);
	T->peer_tsval++;
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_ACK, NULL, 0);
	expect_seg(F_ACK);
	T->peer_ts = false;
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_ACK, NULL, 0);
	expect_none();
	assert_int_equal(zpt_tcp_drop(T, "no_ts"), 1);
	zp_close(l);
}

static void test_TW_5_connect_never_reuses_a_time_wait_tuple(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int one = 1, l, fd;

	(void)state;
	server_to_time_wait(&l, false);
	zp_close(l);
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sin.sin_addr.s_addr = T->local;
	sin.sin_port = RTE_BE16(80);
	assert_int_equal(zp_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
	zp_close(fd);
}

/* ---- RST after FIN --------------------------------------------------------------------------- */

static void test_F_1_rst_reader_gets_data_then_econnreset_then_eof(void **state)
{
	uint8_t data[100], buf[200];
	int fd = zpt_tcp_client(T);

	(void)state;
	memset(data, 7, sizeof(data));
	zpt_tcp_peer_send(T, snd_nxt(), data, sizeof(data));
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 100);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 0);
	zpt_tcp_drain(T);
	assert_int_equal(zp_close(fd), 0); /* PSX-4 */
	expect_none();
}

static void test_F_2_fin_then_rst_reader_gets_data_then_eof(void **state)
{
	char buf[64];
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt(), "last words", 10);
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 10);
	assert_memory_equal(buf, "last words", 10);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 0);
	assert_int_equal(recv_some(fd, buf, sizeof(buf)), 0);
	assert_int_equal(zp_send(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	assert_int_equal(zpt_tcp_so_error(fd), 0);
	zpt_tcp_drain(T);
	assert_int_equal(zp_close(fd), 0);
}

static void test_F_2_fin_then_rst_so_error_is_epipe(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_so_error(fd), EPIPE);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_F_3_rst_after_our_shut_wr_still_econnreset(void **state)
{
	char b[4];
	int fd = zpt_tcp_client(T);

	(void)state;
	to_fin_wait_2(fd);
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, ECONNRESET);
	zp_close(fd);
}

static void test_ERR_7_first_send_after_rst_econnreset_then_epipe(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zp_send(fd, "x", 1, 0), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(zp_send(fd, "x", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	zp_close(fd);
}

static void test_PSX_3_reset_before_accept_hands_out_socket_read_econnreset(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg s;
	char b[4];
	int l = zp_socket(AF_INET, SOCK_STREAM, 0), fd;

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 8), 0);
	T->lport = 80;
	zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0);
	s = expect_seg(F_SYN | F_ACK);
	zpt_tcp_inject(T, 101, s.seq + 1, F_ACK, NULL, 0);
	zpt_tcp_inject(T, 101, 0, F_RST, NULL, 0);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(recv_some(fd, b, sizeof(b)), 0);
	zp_close(fd);
	zp_close(l);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

/* ---- close and SO_LINGER --------------------------------------------------------------------- */

static void test_PSX_4_close_never_returns_econnreset(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zp_close(fd), 0);
	assert_int_equal(zp_close(fd), -1);
	assert_int_equal(errno, EBADF);
}

static void test_LNG_5_linger_positive_never_blocks_and_bounds_background_close(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	linger(fd, 1, 2);
	T->peer_win = 0;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_ACK, NULL, 0); /* zero window */
	assert_int_equal(zp_send(fd, "stuck", 5, 0), 5);
	assert_int_equal(zp_close(fd), 0); /* at once */
	zpt_tcp_drain(T);
	zpt_tcp_advance(T, 1900 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 1);
	zpt_tcp_drain(T);
	zpt_tcp_advance(T, 200 * MSEC);
	assert_int_equal(zpt_tcp_conns(T), 0);
	assert_int_equal(zpt_tcp_stat(T, "linger_aborts"), 1);
	{
		struct zpt_seg s;
		bool rst = false;

		while (zpt_tcp_pop(T, &s))
			rst |= (s.flags & F_RST) != 0;
		assert_true(rst);
	}
}

static void test_LNG_6_linger_option_validation(void **state)
{
	struct linger l = {.l_onoff = 1, .l_linger = -1}, g;
	socklen_t len = sizeof(g);
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l) - 1), -1);
	assert_int_equal(errno, EINVAL);
	l.l_linger = 7;
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_LINGER, &g, &len), 0);
	assert_int_equal(g.l_onoff, 1);
	assert_int_equal(g.l_linger, 7);
	zp_close(fd);
}

static void test_LNG_9_shutdown_with_linger_zero_sends_fin_then_close_rst(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	linger(fd, 1, 0);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	expect_seg(F_FIN | F_ACK);
	assert_int_equal(zp_close(fd), 0);
	expect_seg(F_RST | F_ACK);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

/* ---- shutdown ----------------------------------------------------------------------------------- */

static void test_SD_1_shut_wr_fin_after_data_reads_continue(void **state)
{
	char b[8];
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_send(fd, "ab", 2, 0), 2);
	expect_seg(F_ACK | F_PSH);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	expect_seg(F_FIN | F_ACK);
	zpt_tcp_peer_send(T, snd_nxt() + 2, "cd", 2);
	assert_int_equal(recv_some(fd, b, sizeof(b)), 2);
	assert_int_equal(zp_send(fd, "e", 1, 0), -1);
	assert_int_equal(errno, EPIPE);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_SD_2_shut_rd_sends_nothing_discards_and_counts(void **state)
{
	char b[8];
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_shutdown(fd, SHUT_RD), 0);
	expect_none();
	assert_int_equal(recv_some(fd, b, sizeof(b)), 0);
	zpt_tcp_peer_send(T, snd_nxt(), "zz", 2);
	s = expect_seg(F_ACK);
	assert_int_equal(s.ack, T->peer_nxt); /* acked */
	assert_int_equal(recv_some(fd, b, sizeof(b)), 0);
	assert_int_equal(zpt_tcp_drop(T, "after_shut_rd"), 1);
	zp_close(fd);
	expect_seg(F_FIN | F_ACK); /* nothing unread: FIN, not RST */
}

static void test_SD_3_shutdown_errors(void **state)
{
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_shutdown(fd, 7), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), -1);
	assert_int_equal(errno, ENOTCONN);
	zp_close(fd);
	fd = zpt_tcp_client(T);
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zp_shutdown(fd, SHUT_RDWR), -1);
	assert_int_equal(errno, ENOTCONN);
	zp_close(fd);
}

static void test_SD_4_shutdown_listener_accept_econnaborted(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 8), 0);
	assert_int_equal(zp_shutdown(l, SHUT_RD), 0);
	assert_int_equal(zp_accept(l, NULL, NULL), -1);
	assert_int_equal(errno, ECONNABORTED);
	zp_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_CL_1_fin_follows_queued_data_and_later_send_fails_epipe),
		TEST(test_CL_2_fin_wait_1_ack_of_fin_goes_to_fin_wait_2),
		TEST(test_CL_2_fin_wait_1_fin_without_ack_goes_closing_then_time_wait),
		TEST(test_CL_2_fin_wait_1_fin_acking_ours_goes_time_wait),
		TEST(test_CL_2_fin_wait_2_fin_goes_time_wait),
		TEST(test_CL_3_passive_close_close_wait_last_ack_no_time_wait),
		TEST(test_CL_4_simultaneous_close_passes_closing_ends_time_wait),
		TEST(test_CL_5_half_close_receives_and_refuses_sends),
		TEST(test_CL_5_data_after_peer_fin_is_ignored),
		TEST(test_CL_6_second_close_sends_no_second_fin),
		TEST(test_CL_7_fin_gives_eof_rst_gives_error),
		TEST(test_CL_8_time_wait_lasts_2msl_and_fin_restarts_it),
		TEST(test_CL_9_orphan_fin_wait_2_times_out_owned_one_does_not),
		TEST(test_CL_10_abort_deletes_at_once_without_time_wait),
		TEST(test_RST_1_close_with_unread_data_sends_rst_not_fin),
		TEST(test_RST_1_unread_data_then_fin_still_resets),
		TEST(test_RST_2_data_after_close_gets_rst),
		TEST(test_RST_3_linger_zero_resets_in_established_and_close_wait),
		TEST(test_RST_3_linger_zero_in_last_ack_deletes_quietly),
		TEST(test_RST_5_closing_listener_resets_accept_queue_drops_half_open),
		TEST(test_RST_6_keepalive_exhaustion_sends_rst_and_etimedout),
		TEST(test_TW_1_active_closer_enters_time_wait),
		TEST(test_TW_2_rst_in_time_wait_ignored_rfc1337),
		TEST(test_TW_2_rst_in_time_wait_kills_with_knob_off),
		TEST(test_TW_3_syn_reopen_follows_rfc6191),
		TEST(test_TW_4_time_wait_acks_segments_and_drops_ones_without_ts),
		TEST(test_TW_5_connect_never_reuses_a_time_wait_tuple),
		TEST(test_F_1_rst_reader_gets_data_then_econnreset_then_eof),
		TEST(test_F_2_fin_then_rst_reader_gets_data_then_eof),
		TEST(test_F_2_fin_then_rst_so_error_is_epipe),
		TEST(test_F_3_rst_after_our_shut_wr_still_econnreset),
		TEST(test_ERR_7_first_send_after_rst_econnreset_then_epipe),
		TEST(test_PSX_3_reset_before_accept_hands_out_socket_read_econnreset),
		TEST(test_PSX_4_close_never_returns_econnreset),
		TEST(test_LNG_5_linger_positive_never_blocks_and_bounds_background_close),
		TEST(test_LNG_6_linger_option_validation),
		TEST(test_LNG_9_shutdown_with_linger_zero_sends_fin_then_close_rst),
		TEST(test_SD_1_shut_wr_fin_after_data_reads_continue),
		TEST(test_SD_2_shut_rd_sends_nothing_discards_and_counts),
		TEST(test_SD_3_shutdown_errors),
		TEST(test_SD_4_shutdown_listener_accept_econnaborted),
	};

	return cmocka_run_group_tests_name("tcp_close", tests, NULL, NULL);
}
