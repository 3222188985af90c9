/* SPDX-License-Identifier: BSD-3-Clause */
/* Accepting RSTs and SYNs (close-semantics §3, RA-*, RFC 5961) and errors (§5, ERR-*). */
#include "test_common.h"

static uint32_t snd_nxt(void)
{
	return T->our_iss + 1;
}

static void test_RA_2_rst_out_of_window_in_window_and_exact(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt - 1, 0, F_RST, NULL, 0);
	expect_none();
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	s = expect_seg(F_ACK); /* challenge ACK */
	assert_int_equal(s.seq, snd_nxt());
	assert_int_equal(s.ack, T->peer_nxt);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	expect_none();
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	assert_int_equal(zpt_tcp_so_error(fd), ECONNRESET);
	zp_close(fd);
}

static void test_RA_2_rst_at_rcv_nxt_accepted_with_zero_window(void **state)
{
	int small = 2048;
	uint8_t data[1024];
	int fd;

	(void)state;
	fd = zpt_tcp_client(T);
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)), 0);
	tcp__engine(T->w)->delack_ns = 0;
	memset(data, 1, sizeof(data));
	/* Fill what the peer may send; the window we offered was 64 KiB at the handshake, so
	 * shrink it by reading nothing and sending until the engine advertises 0. */
	{
		struct tcp_conn *c = TAILQ_FIRST(&tcp__engine(T->w)->conns);

		c->rcvbuf = 1024;
		c->rcv_adv = c->rcv_nxt + 1024;
	}
	zpt_tcp_peer_send(T, snd_nxt(), data, 1024);
	{
		struct zpt_seg s = expect_seg(F_ACK);

		assert_int_equal(s.win, 0);
	}
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	zp_close(fd);
}

static void test_RA_3_rst_in_syn_received_from_listen_is_silent(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg s;
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 8), 0);
	T->lport = 80;
	zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0);
	s = expect_seg(F_SYN | F_ACK);
	zpt_tcp_inject(T, 101, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_conns(T), 1);
	assert_int_equal(zp_accept(l, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	(void)s;
	zp_close(l);
}

static void test_RA_3_rst_in_active_syn_received_refuses(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 9000, 0, F_SYN, NULL, 0);
	expect_seg(F_SYN | F_ACK);
	zpt_tcp_inject(T, 9001, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_so_error(fd), ECONNREFUSED);
	zp_close(fd);
}

static void test_RA_3_rst_in_last_ack_closes_quietly(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	zp_close(fd);
	zpt_tcp_drain(T);
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	expect_none();
	assert_int_equal(zpt_tcp_conns(T), 0);
	assert_int_equal(zpt_tcp_stat(T, "rst_in_closing"), 1);
}

static void test_RA_4_syn_in_established_gets_challenge_ack(void **state)
{
	struct zpt_seg s;
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt + 5, 0, F_SYN, NULL, 0);
	s = expect_seg(F_ACK);
	assert_int_equal(s.ack, T->peer_nxt);
	zpt_tcp_inject(T, 1, 0, F_SYN, NULL, 0); /* any sequence number */
	expect_seg(F_ACK);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	zp_close(fd);
}

static void test_RA_5_ack_for_unsent_data_is_dropped_with_ack(void **state)
{
	char b[4];
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt() + 1000, "xy", 2);
	expect_seg(F_ACK);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1); /* data not taken */
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(zpt_tcp_drop(T, "bad_ack"), 1);
	zp_close(fd);
}

static void test_RA_6_challenge_acks_limited_per_connection(void **state)
{
	unsigned i, a_acks, b_acks;
	uint16_t pa, la, lb;
	int a = zpt_tcp_client(T), b;
	uint32_t a_nxt = T->peer_nxt;

	(void)state;
	pa = T->pport;
	la = T->lport;
	T->pport++;
	b = zpt_tcp_client(T);
	lb = T->lport;
	T->pport = pa;
	T->lport = la;
	for (i = 0; i < 1000; i++)
		zpt_tcp_inject(T, a_nxt + 1 + i, 0, F_RST, NULL, 0);
	a_acks = zpt_tcp_drain(T);
	assert_true(a_acks <= TCP_CHALLENGE_PER_SEC);
	assert_true(a_acks > 0);
	T->pport = (uint16_t)(pa + 1);
	T->lport = lb;
	zpt_tcp_inject(T, T->peer_nxt + 1, 0, F_RST, NULL, 0);
	b_acks = zpt_tcp_drain(T);
	assert_int_equal(b_acks, 1); /* the other connection still has its budget */
	zp_close(a);
	zp_close(b);
}

static void test_RA_7_rst_with_payload_is_accepted(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, "diagnostic", 10);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	zp_close(fd);
}

static void test_RA_8_rst_without_timestamp_processed_when_ts_negotiated(void **state)
{
	int l, fd;

	(void)state;
	T->peer_ts = true;
	T->peer_tsval = 50;
	fd = zpt_tcp_server(T, 80, &l);
	T->peer_ts = false;
	/* A data segment without TS is dropped (RFC 7323 §3.2)... */
	zpt_tcp_peer_send(T, T->our_iss + 1, "x", 1);
	assert_int_equal(zpt_tcp_drop(T, "no_ts"), 1);
	T->peer_nxt--;
	/* ...a RST without TS is not. */
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	zp_close(fd);
	zp_close(l);
}

static void test_paws_rejects_old_timestamp_with_ack(void **state)
{
	char b[4];
	int l, fd;

	(void)state;
	T->peer_ts = true;
	T->peer_tsval = 5000;
	fd = zpt_tcp_server(T, 80, &l);
	T->peer_tsval = 4000;
	zpt_tcp_peer_send(T, T->our_iss + 1, "old", 3);
	expect_seg(F_ACK);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(zpt_tcp_drop(T, "paws"), 1);
	zp_close(fd);
	zp_close(l);
}

/* PAWS is about replays, not reordering: a TSval one 1 ms tick behind TS.Recent passes (as
 * Linux's TCP_PAWS_WINDOW), and so does a reordered duplicate ACK younger than one RTO (Linux's
 * tcp_disordered_ack) — its SACK blocks matter to loss recovery. Old data, and an ACK older
 * than the RTO, are still dropped. */
static void test_paws_passes_one_tick_and_a_reordered_duplicate_ack(void **state)
{
	char b[4];
	int l, fd;

	(void)state;
	T->peer_ts = true;
	T->peer_tsval = 5000;
	fd = zpt_tcp_server(T, 80, &l);
	T->peer_tsval = 4999; /* one tick behind: data accepted */
	zpt_tcp_peer_send(T, T->our_iss + 1, "new", 3);
	assert_int_equal(recv_some(fd, b, sizeof(b)), 3);
	assert_int_equal(zpt_tcp_drop(T, "paws"), 0);
	zpt_tcp_drain(T);
	T->peer_tsval = 4990; /* a duplicate ACK 10 ms behind: accepted, nothing sent */
	zpt_tcp_inject(T, T->peer_nxt, T->our_iss + 1, F_ACK, NULL, 0);
	expect_none();
	assert_int_equal(zpt_tcp_drop(T, "paws"), 0);
	zpt_tcp_peer_send(T, T->our_iss + 1, "old", 3); /* data that old: dropped */
	expect_seg(F_ACK);
	assert_int_equal(zpt_tcp_drop(T, "paws"), 1);
	T->peer_nxt -= 3;
	T->peer_tsval = 3000; /* an ACK 2 s old, older than the RTO: dropped */
	zpt_tcp_inject(T, T->peer_nxt, T->our_iss + 1, F_ACK, NULL, 0);
	expect_seg(F_ACK);
	assert_int_equal(zpt_tcp_drop(T, "paws"), 2);
	zp_close(fd);
	zp_close(l);
}

/* RFC 7323 R1 answers a segment PAWS rejects with an ACK; for one without data (an ACK
 * overtaken on a reordering path: hundreds per run under 20 ms ± 5 ms jitter) that ACK comes
 * out of the per-connection budget shared with challenge ACKs (Linux tcp_oow_rate_limited).
 * Old data is answered every time: its sender needs our ACK. */
static void test_paws_answers_stale_pure_acks_within_the_budget(void **state)
{
	unsigned i, acks;
	int l, fd;

	(void)state;
	T->peer_ts = true;
	T->peer_tsval = 5000;
	fd = zpt_tcp_server(T, 80, &l);
	zpt_tcp_drain(T);
	T->peer_tsval = 2000; /* 3 s old: older than the RTO, not a disordered ACK */
	for (i = 0; i < 30; i++)
		zpt_tcp_inject(T, T->peer_nxt, T->our_iss + 1, F_ACK, NULL, 0);
	acks = zpt_tcp_drain(T);
	assert_int_equal(zpt_tcp_drop(T, "paws"), 30);
	assert_true(acks > 0);
	assert_true(acks <= TCP_CHALLENGE_PER_SEC);
	assert_int_equal(zpt_tcp_stat(T, "oow_acks_limited"), 30 - acks);
	for (i = 0; i < 3; i++) { /* budget spent, but old data is still answered */
		zpt_tcp_peer_send(T, T->our_iss + 1, "old", 3);
		T->peer_nxt -= 3;
	}
	assert_int_equal(zpt_tcp_drain(T), 3);
	assert_int_equal(zpt_tcp_drop(T, "paws"), 33);
	zp_close(fd);
	zp_close(l);
}

/* ---- errors ------------------------------------------------------------------------------ */

static void test_ERR_1_error_reported_once(void **state)
{
	char b[4];
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, ECONNRESET);
	assert_int_equal(zpt_tcp_so_error(fd), 0);
	zp_close(fd);
}

static void test_ERR_2_timeout_reports_soft_error(void **state)
{
	struct tcp_wire_hdr h = {0};
	char b[4];
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_send(fd, "data", 4, 0), 4);
	zpt_tcp_drain(T);
	h.sport = rte_cpu_to_be_16(T->lport);
	h.dport = rte_cpu_to_be_16(T->pport);
	h.seq = rte_cpu_to_be_32(snd_nxt());
	tcp_icmp_error(T->w, T->local, T->peer, &h, 3, 1); /* host unreachable: soft */
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED); /* ERR-3 */
	while (zpt_tcp_state(fd) == ZP_TCP_ESTABLISHED) {
		zpt_tcp_advance(T, 10 * SEC);
		zpt_tcp_drain(T);
	}
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, EHOSTUNREACH);
	zp_close(fd);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

static void test_ERR_3_icmp_never_aborts_synchronized_connection(void **state)
{
	struct tcp_wire_hdr h = {0};
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_send(fd, "data", 4, 0), 4);
	h.sport = rte_cpu_to_be_16(T->lport);
	h.dport = rte_cpu_to_be_16(T->pport);
	h.seq = rte_cpu_to_be_32(snd_nxt());
	tcp_icmp_error(T->w, T->local, T->peer, &h, 3, 3); /* port unreachable (hard) */
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	assert_int_equal(zpt_tcp_so_error(fd), ECONNREFUSED); /* ERR-8: soft one when no hard */
	assert_int_equal(zpt_tcp_so_error(fd), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_ERR_4_icmp_for_half_open_request_removes_it_silently(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct tcp_wire_hdr h = {0};
	struct zpt_seg s;
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 8), 0);
	T->lport = 80;
	zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0);
	s = expect_seg(F_SYN | F_ACK);
	h.sport = RTE_BE16(80);
	h.dport = rte_cpu_to_be_16(T->pport);
	h.seq = rte_cpu_to_be_32(s.seq);
	tcp_icmp_error(T->w, T->local, T->peer, &h, 3, 1);
	assert_int_equal(zpt_tcp_conns(T), 1);
	assert_int_equal(zp_accept(l, NULL, NULL), -1);
	assert_int_equal(errno, EAGAIN);
	zp_close(l);
}

static void test_ERR_5_user_timeout_bounds_retransmission(void **state)
{
	int ms = 3000;
	char b[4];
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms)), 0);
	assert_int_equal(zp_send(fd, "data", 4, 0), 4);
	zpt_tcp_advance(T, 5 * SEC);
	zpt_tcp_drain(T);
	assert_true(zpt_tcp_state(fd) == ZP_TCP_ESTABLISHED); /* first RTO at 1 s, then 3 s */
	zpt_tcp_advance(T, 5 * SEC);
	zpt_tcp_drain(T);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_CLOSED);
	assert_int_equal(recv_some(fd, b, sizeof(b)), -1);
	assert_int_equal(errno, ETIMEDOUT);
	zp_close(fd);
}

static void test_ERR_6_retransmission_limit_deletes_with_etimedout_no_rst(void **state)
{
	struct zpt_seg s;
	unsigned rexmits = 0;
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_send(fd, "data", 4, 0), 4);
	expect_seg(F_ACK | F_PSH);
	while (zpt_tcp_state(fd) == ZP_TCP_ESTABLISHED) {
		zpt_tcp_advance(T, 10 * SEC);
		while (zpt_tcp_pop(T, &s)) {
			assert_false(s.flags & F_RST);
			assert_int_equal(s.seq, snd_nxt());
			rexmits++;
		}
	}
	assert_int_equal(rexmits, TCP_DATA_RETRIES);
	assert_int_equal(zpt_tcp_so_error(fd), ETIMEDOUT);
	zp_close(fd);
	assert_int_equal(zpt_tcp_conns(T), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_RA_2_rst_out_of_window_in_window_and_exact),
		TEST(test_RA_2_rst_at_rcv_nxt_accepted_with_zero_window),
		TEST(test_RA_3_rst_in_syn_received_from_listen_is_silent),
		TEST(test_RA_3_rst_in_active_syn_received_refuses),
		TEST(test_RA_3_rst_in_last_ack_closes_quietly),
		TEST(test_RA_4_syn_in_established_gets_challenge_ack),
		TEST(test_RA_5_ack_for_unsent_data_is_dropped_with_ack),
		TEST(test_RA_6_challenge_acks_limited_per_connection),
		TEST(test_RA_7_rst_with_payload_is_accepted),
		TEST(test_RA_8_rst_without_timestamp_processed_when_ts_negotiated),
		TEST(test_paws_rejects_old_timestamp_with_ack),
		TEST(test_paws_passes_one_tick_and_a_reordered_duplicate_ack),
		TEST(test_paws_answers_stale_pure_acks_within_the_budget),
		TEST(test_ERR_1_error_reported_once),
		TEST(test_ERR_2_timeout_reports_soft_error),
		TEST(test_ERR_3_icmp_never_aborts_synchronized_connection),
		TEST(test_ERR_4_icmp_for_half_open_request_removes_it_silently),
		TEST(test_ERR_5_user_timeout_bounds_retransmission),
		TEST(test_ERR_6_retransmission_limit_deletes_with_etimedout_no_rst),
	};

	return cmocka_run_group_tests_name("tcp_rfc5961", tests, NULL, NULL);
}
