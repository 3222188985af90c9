/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-window autotuning (tcp_autotune.c): the first window, growth to twice what the
 * reader takes per round trip, the SO_RCVBUF ceiling, and a slow reader that gets no more.
 * Send-buffer autotuning: the limit starts at 2 x IW, follows 2 x cwnd up to SO_SNDBUF, an
 * explicit SO_SNDBUF pins it, EPOLLOUT follows it, a slow path and a low pool keep it small.
 */
#include <sys/epoll.h>

#include <rte_mbuf.h>

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
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	if (rcvbuf != 0)
		assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)),
				 0);
	zpt_tcp_connect_syn(T, fd, &s);
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
	struct zpt_seg s;

	(void)state;
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	zpt_tcp_connect_syn(T, fd, &s);
	zpt_tcp_inject(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, NULL, 0);
	T->peer_nxt++;
	zpt_tcp_drain(T);
	assert_int_equal(rcv_wnd(fd), 16384);
	zp_close(fd);
}

/* ---- send-buffer autotuning ------------------------------------------------------------- */

static struct zp_tcp_info sinfo(int fd)
{
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	return ti;
}

/* Client with SO_SNDBUF @p sndbuf (0 = not set) whose peer announces MSS 1460 and a window
 * of @p win (with window scale 7 when @p ws). */
static int sclient(int sndbuf, uint16_t win, bool ws)
{
	const uint8_t opts[8] = {2, 4, 1460 >> 8, 1460 & 0xff, 1, 3, 3, 7};
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	if (sndbuf != 0)
		assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)),
				 0);
	zpt_tcp_connect_syn(T, fd, &s);
	T->peer_win = win;
	zpt_tcp_inject_full(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, win, opts, ws ? 8 : 4,
			    NULL, 0);
	T->peer_nxt++;
	zpt_tcp_drain(T);
	return fd;
}

/* Write until the send buffer is full; returns the bytes taken. */
static uint32_t fill(int fd)
{
	static uint8_t d[64 * 1024];
	uint32_t total = 0;
	ssize_t n;

	while ((n = zp_send(fd, d, sizeof(d), 0)) > 0)
		total += (uint32_t)n;
	assert_int_equal(errno, EAGAIN);
	return total;
}

/* The peer acknowledges, one ACK per segment, every data segment sent so far (what those
 * ACKs let out waits for the next call). Returns the number of segments acked. */
static unsigned ack_flight(void)
{
	static uint32_t ends[ZPT_TCP_MAX_OUT];
	struct zpt_seg s;
	unsigned n = 0, i;

	while (zpt_tcp_pop(T, &s))
		if (s.len > 0)
			ends[n++] = s.seq + s.len;
	for (i = 0; i < n; i++)
		zpt_tcp_inject(T, T->peer_nxt, ends[i], F_ACK, NULL, 0);
	return n;
}

static void test_send_limit_starts_at_2iw_and_follows_2cwnd_up_to_sndbuf(void **state)
{
	uint32_t prev, lim;
	struct zp_tcp_info ti;
	int fd, i;

	(void)state;
	fd = sclient(0, 65535, true);		/* the peer offers 8 MiB: cwnd is all that limits */
	assert_int_equal(sinfo(fd).snd_mem, 0); /* nothing allocated before the first write */
	assert_int_equal(fill(fd), 2 * 14600);	/* 2 x IW (RFC 6928: 10 x 1460) */
	prev = sinfo(fd).snd_buf;
	assert_int_equal(prev, 2 * 14600);
	for (i = 0; i < 12; i++) {
		ack_flight();
		fill(fd);
		ti = sinfo(fd);
		lim = TCP_MIN(2 * ti.snd_cwnd, TCP_SNDBUF_DEFAULT);
		assert_int_equal(ti.snd_buf, lim);	       /* 2 x cwnd ... */
		assert_true(ti.snd_buf >= prev);	       /* ... never shrinking ... */
		assert_true(ti.snd_buf <= TCP_SNDBUF_DEFAULT); /* ... never beyond SO_SNDBUF */
		assert_int_equal(ti.snd_queue, ti.snd_buf);    /* the app could fill all of it */
		assert_true(ti.snd_mem >= ti.snd_buf && ti.snd_mem <= TCP_SNDBUF_DEFAULT);
		prev = ti.snd_buf;
	}
	assert_int_equal(prev, TCP_SNDBUF_DEFAULT); /* reached the cap */
	assert_true(sinfo(fd).snd_cwnd > TCP_SNDBUF_DEFAULT / 2);
	assert_true(zpt_tcp_stat(T, "sndbuf_grown") > 0);
	/* getsockopt(SO_SNDBUF) reports the cap, not the current limit. */
	{
		int v = 0;
		socklen_t l = sizeof(v);

		assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
		assert_int_equal(v, TCP_SNDBUF_DEFAULT);
	}
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_stack_tcp_sndbuf_is_the_default_cap(void **state)
{
	int fd, i, v = 0;
	socklen_t l = sizeof(v);

	(void)state;
	T->env->stack.tun.tcp_sndbuf = 65536; /* [stack] tcp_sndbuf = 65536 */
	fd = sclient(0, 65535, true);
	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(fill(fd), 29200); /* still autotuned from 2 x IW ... */
	for (i = 0; i < 8; i++) {
		ack_flight();
		fill(fd);
	}
	assert_int_equal(sinfo(fd).snd_buf, 65536); /* ... up to the stack's cap */
	T->env->stack.tun.tcp_sndbuf = 0;
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_explicit_sndbuf_pins_the_limit(void **state)
{
	int fd, i, v = 0;
	socklen_t l = sizeof(v);

	(void)state;
	/* Larger than 2 x IW: all of it at once, and no more as cwnd grows. */
	fd = sclient(100000, 65535, true);
	assert_int_equal(sinfo(fd).snd_buf, 100000);
	assert_int_equal(fill(fd), 100000);
	for (i = 0; i < 10; i++) {
		ack_flight();
		fill(fd);
		assert_int_equal(sinfo(fd).snd_buf, 100000);
		assert_int_equal(sinfo(fd).snd_queue, 100000);
	}
	assert_true(sinfo(fd).snd_cwnd > 100000);
	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &l), 0);
	assert_int_equal(v, 100000);
	zp_close(fd);
	zpt_tcp_drain(T);

	/* Smaller than 2 x IW: the limit stays below what autotuning would give. */
	fd = sclient(20000, 65535, true);
	assert_int_equal(fill(fd), 20000);
	for (i = 0; i < 6; i++) {
		ack_flight();
		fill(fd);
		assert_int_equal(sinfo(fd).snd_buf, 20000);
	}
	assert_true(sinfo(fd).snd_mem <= 20000);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_epollout_when_the_grown_buffer_frees(void **state)
{
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLET}, out[2];
	int ep = zp_epoll_create(), fd;

	(void)state;
	fd = sclient(0, 65535, true);
	ev.data.fd = fd;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1); /* writable at first */
	assert_int_equal(fill(fd), 29200);		   /* 10 segments out, 10 queued */
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 0); /* full: not writable */
	/* The first flight is acked: 14600 bytes leave the buffer, cwnd doubles, and the
	 * limit with it (2 x 29200): EPOLLOUT, and a write takes the grown space. */
	assert_int_equal(ack_flight(), 10);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_true(out[0].events & EPOLLOUT);
	assert_int_equal(sinfo(fd).snd_buf, 58400);
	assert_int_equal(fill(fd), 58400 - 14600); /* 43800: more than the whole old limit */
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 0);
	zp_close(fd);
	zp_close(ep);
	zpt_tcp_drain(T);
}

static void test_window_limited_path_keeps_a_small_buffer(void **state)
{
	int fd, i;

	(void)state;
	/* The peer never offers more than 8 KiB (no window scaling): whatever cwnd does, no
	 * more than 8 KiB is ever in flight, so the buffer stays at its first size. */
	fd = sclient(0, 8192, false);
	assert_int_equal(fill(fd), 29200);
	for (i = 0; i < 40; i++) {
		ack_flight();
		fill(fd);
		assert_int_equal(sinfo(fd).snd_buf, 29200);
	}
	assert_true(sinfo(fd).snd_cwnd > 8192);
	assert_true(sinfo(fd).snd_mem <= 32768);
	assert_int_equal(zpt_tcp_stat(T, "sndbuf_grown"), 0);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_low_pool_stops_send_buffer_growth(void **state)
{
	struct rte_mempool *mp = T->w->pool;
	unsigned held = 0, n, i;
	struct rte_mbuf **ms;
	uint32_t lim;
	int fd;

	(void)state;
	/* Take the pool below a quarter (as many readers that fell behind would) before the
	 * connection opens: its first segment in runs the engine's pool check. */
	n = rte_mempool_avail_count(mp) - mp->size / 4 + 64;
	ms = calloc(n, sizeof(*ms));
	assert_non_null(ms);
	for (held = 0; held < n; held++) {
		ms[held] = rte_pktmbuf_alloc(mp);
		assert_non_null(ms[held]);
	}
	fd = sclient(0, 65535, true);
	assert_int_equal(fill(fd), 29200); /* the first limit is always given */
	for (i = 0; i < 6; i++) {
		ack_flight();
		fill(fd);
	}
	/* cwnd grew; the limit did not. */
	lim = sinfo(fd).snd_buf;
	assert_int_equal(lim, 29200);
	assert_true(sinfo(fd).snd_cwnd > 8 * 14600);
	assert_true(zpt_tcp_stat(T, "sndbuf_pool_low") > 0);
	for (i = 0; i < held; i++)
		rte_pktmbuf_free(ms[i]);
	free(ms);
	/* The pool is back: the next check (every 32 segments) lets the buffer grow again. */
	for (i = 0; i < 6; i++) {
		ack_flight();
		fill(fd);
	}
	assert_true(sinfo(fd).snd_buf > lim);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_worker_send_memory_budget_stops_growth(void **state)
{
	struct tcp_engine *e = tcp__engine(T->w);
	uint64_t budget = (uint64_t)T->w->pool->size * rte_pktmbuf_data_room_size(T->w->pool);
	uint64_t others;
	int fd, i;

	(void)state;
	fd = sclient(0, 65535, true);
	assert_int_equal(fill(fd), 29200);
	/* As if the worker's other connections' rings already held what its pool can carry. */
	others = budget - e->snd_mem;
	e->snd_mem += others;
	for (i = 0; i < 6; i++) {
		ack_flight();
		fill(fd);
		assert_int_equal(sinfo(fd).snd_buf, 29200);
	}
	assert_true(zpt_tcp_stat(T, "sndbuf_pool_low") > 0);
	/* They closed: growth resumes at the next ACK. */
	e->snd_mem -= others;
	ack_flight();
	fill(fd);
	assert_true(sinfo(fd).snd_buf > 29200);
	/* Once everything and our FIN are acked (FIN_WAIT_2), the ring goes back. */
	zp_close(fd);
	for (i = 0; i < 64 && e->snd_mem != 0; i++) {
		struct zpt_seg sg;
		uint32_t hi = 0;
		bool any = false;

		while (zpt_tcp_pop(T, &sg)) {
			hi = sg.seq + sg.len + !!(sg.flags & F_FIN);
			any = true;
		}
		if (any)
			zpt_tcp_inject(T, T->peer_nxt, hi, F_ACK, NULL, 0);
	}
	assert_int_equal(e->snd_mem, 0);
	zpt_tcp_drain(T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_first_window_is_64k_below_a_larger_rcvbuf),
		TEST(test_window_grows_with_a_fast_reader_up_to_rcvbuf),
		TEST(test_window_is_capped_by_rcvbuf),
		TEST(test_slow_reader_gets_no_more_window),
		TEST(test_small_rcvbuf_is_the_window),
		TEST(test_send_limit_starts_at_2iw_and_follows_2cwnd_up_to_sndbuf),
		TEST(test_stack_tcp_sndbuf_is_the_default_cap),
		TEST(test_explicit_sndbuf_pins_the_limit),
		TEST(test_epollout_when_the_grown_buffer_frees),
		TEST(test_window_limited_path_keeps_a_small_buffer),
		TEST(test_low_pool_stops_send_buffer_growth),
		TEST(test_worker_send_memory_budget_stops_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
