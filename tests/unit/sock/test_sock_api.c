/* SPDX-License-Identifier: BSD-3-Clause */
/* The socket layer: descriptors and errnos, bind rules (REU-*), epoll (POLL-*, table P, F-4),
 * control-plane seams (dp_conn_dump/drop, connection events, option defaults). */
#include "../tcp/test_common.h"

static uint32_t snd_nxt(void)
{
	return T->our_iss + 1;
}

static int bind_port(int fd, rte_be32_t addr, uint16_t port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	sin.sin_addr.s_addr = addr;
	sin.sin_port = rte_cpu_to_be_16(port);
	return zp_bind(fd, (struct sockaddr *)&sin, sizeof(sin));
}

static uint32_t poll_mask(int fd)
{
	int ep = zp_epoll_create();
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP}, out[2];
	int n;

	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	n = zp_epoll_wait(ep, out, 2, 0);
	zp_close(ep);
	return n == 1 ? out[0].events : 0;
}

static void test_errno_basics(void **state)
{
	char b[4];
	int fd;

	(void)state;
	assert_int_equal(zp_socket(AF_INET6, SOCK_STREAM, 0), -1);
	assert_int_equal(errno, EAFNOSUPPORT);
	assert_int_equal(zp_socket(AF_INET, SOCK_DGRAM, 0), -1);
	assert_int_equal(errno, ESOCKTNOSUPPORT);
	assert_int_equal(zp_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), -1);
	assert_int_equal(errno, EPROTONOSUPPORT);
	assert_int_equal(zp_send(99, "x", 1, 0), -1);
	assert_int_equal(errno, EBADF);
	fd = zp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(fd, 0);
	assert_int_equal(zp_recv(fd, b, sizeof(b), 0), -1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(zp_send(fd, "x", 1, 0), -1);
	assert_int_equal(errno, ENOTCONN);
	assert_int_equal(zp_accept(fd, NULL, NULL), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(bind_port(fd, ZPT_IP(10, 9, 9, 9), 80), -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
	{
		struct sockaddr_in sin;
		socklen_t l = sizeof(sin);

		assert_int_equal(zp_getpeername(fd, (struct sockaddr *)&sin, &l), -1);
		assert_int_equal(errno, ENOTCONN);
	}
	{
		int v;
		socklen_t l = sizeof(v);

		assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &v, &l), -1);
		assert_int_equal(errno, ENOPROTOOPT);
	}
	assert_int_equal(zp_close(fd), 0);
	assert_int_equal(zp_close(fd), -1);
	assert_int_equal(errno, EBADF);
}

static void test_getsockname_getpeername(void **state)
{
	struct sockaddr_in sin;
	socklen_t l = sizeof(sin);
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_getsockname(fd, (struct sockaddr *)&sin, &l), 0);
	assert_int_equal(sin.sin_addr.s_addr, T->local);
	assert_int_equal(rte_be_to_cpu_16(sin.sin_port), T->lport);
	assert_int_equal(zp_getpeername(fd, (struct sockaddr *)&sin, &l), 0);
	assert_int_equal(sin.sin_addr.s_addr, T->peer);
	zp_close(fd);
}

/* ---- §9 bind rules --------------------------------------------------------------------------- */

static void make_time_wait_on_80(void)
{
	struct zpt_seg s;
	int l, fd = zpt_tcp_server(T, 80, &l);

	zp_close(l);
	zp_close(fd);
	s = expect_seg(F_FIN | F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_FIN | F_ACK, NULL, 0);
	zpt_tcp_drain(T);
	{
		struct dp_conn_view v[8];
		unsigned n = dp_conn_dump(T->w, v, 8), i, tw = 0;

		for (i = 0; i < n; i++)
			tw += v[i].state == ZP_TCP_TIME_WAIT;
		assert_int_equal(tw, 1);
	}
}

static void test_REU_1_bind_fails_eaddrinuse_while_time_wait(void **state)
{
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	make_time_wait_on_80();
	assert_int_equal(bind_port(fd, 0, 80), -1);
	assert_int_equal(errno, EADDRINUSE);
	zp_close(fd);
}

static void test_REU_2_reuseaddr_binds_over_time_wait_not_over_listener(void **state)
{
	int one = 1;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0), l2 = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	make_time_wait_on_80();
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind_port(fd, 0, 80), 0);
	assert_int_equal(zp_listen(fd, 4), 0);
	assert_int_equal(zp_setsockopt(l2, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind_port(l2, T->local, 80), -1);
	assert_int_equal(errno, EADDRINUSE);
	zp_close(fd);
	zp_close(l2);
}

static void test_REU_3_only_the_new_binder_needs_reuseaddr(void **state)
{
	int one = 1;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	make_time_wait_on_80(); /* the old socket never set SO_REUSEADDR (D-11) */
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind_port(fd, 0, 80), 0);
	zp_close(fd);
}

static void test_REU_5_reuseport_allows_two_listeners(void **state)
{
	int one = 1;
	int a = zp_socket(AF_INET, SOCK_STREAM, 0), b = zp_socket(AF_INET, SOCK_STREAM, 0),
	    c = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(zp_setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	assert_int_equal(bind_port(a, 0, 8080), 0);
	assert_int_equal(zp_listen(a, 4), 0);
	assert_int_equal(bind_port(b, 0, 8080), 0);
	assert_int_equal(zp_listen(b, 4), 0);
	assert_int_equal(bind_port(c, 0, 8080), -1); /* without the option */
	assert_int_equal(errno, EADDRINUSE);
	zp_close(a);
	zp_close(b);
	zp_close(c);
}

static void test_REU_6_options_are_read_at_bind_time(void **state)
{
	int one = 1;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	make_time_wait_on_80();
	assert_int_equal(bind_port(fd, 0, 80), -1);
	/* Setting the option after a failed bind and retrying works; setting it after a
	 * successful bind changes nothing for that binding. */
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind_port(fd, 0, 80), 0);
	assert_int_equal(bind_port(fd, 0, 81), -1);
	assert_int_equal(errno, EINVAL); /* already bound */
	zp_close(fd);
}

/* ---- epoll and table P ------------------------------------------------------------------------ */

static void test_table_P_fresh_socket_is_out_hup(void **state)
{
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(poll_mask(fd), EPOLLOUT | EPOLLHUP);
	zp_close(fd);
}

static void test_table_P_syn_sent_is_nothing(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	assert_int_equal(poll_mask(fd), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_POLL_1_peer_fin_is_in_rdhup_not_hup_shut_wr_plus_fin_is_hup(void **state)
{
	int fd = zpt_tcp_client(T);
	struct zpt_seg s;

	(void)state;
	assert_int_equal(poll_mask(fd), EPOLLOUT);
	zpt_tcp_inject(T, T->peer_nxt, snd_nxt(), F_FIN | F_ACK, NULL, 0);
	T->peer_nxt++;
	assert_int_equal(poll_mask(fd), EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	zpt_tcp_drain(T);
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	s = expect_seg(F_FIN | F_ACK);
	(void)s;
	assert_int_equal(poll_mask(fd), EPOLLIN | EPOLLRDHUP | EPOLLOUT | EPOLLHUP);
	zp_close(fd);
}

static void test_POLL_1_shut_wr_alone_is_out_without_hup(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	assert_int_equal(zp_shutdown(fd, SHUT_WR), 0);
	zpt_tcp_drain(T);
	assert_int_equal(poll_mask(fd), EPOLLOUT);
	assert_int_equal(zp_shutdown(fd, SHUT_RD), 0);
	assert_int_equal(poll_mask(fd) & (EPOLLIN | EPOLLRDHUP), EPOLLIN | EPOLLRDHUP);
	zp_close(fd);
}

static void test_POLL_2_err_hup_reported_unrequested_rdhup_only_on_request(void **state)
{
	int ep = zp_epoll_create(), fd = zpt_tcp_client(T);
	struct epoll_event ev = {.events = EPOLLIN}, out[2];

	(void)state;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(out[0].events, EPOLLIN | EPOLLERR | EPOLLHUP);
	zp_close(fd);
	zp_close(ep);
}

static void test_POLL_4_err_stays_until_consumed(void **state)
{
	int fd = zpt_tcp_client(T);

	(void)state;
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_true(poll_mask(fd) & EPOLLERR);
	assert_true(poll_mask(fd) & EPOLLERR);
	assert_int_equal(zpt_tcp_so_error(fd), ECONNRESET);
	assert_false(poll_mask(fd) & EPOLLERR);
	zp_close(fd);
}

static void test_POLL_5_F_4_edge_triggered_wakes_on_rst_with_empty_queue(void **state)
{
	int ep = zp_epoll_create(), fd = zpt_tcp_client(T);
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 77}, out[2];

	(void)state;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 0); /* writable only, not asked */
	zpt_tcp_peer_send(T, snd_nxt(), "a", 1);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(out[0].data.u32, 77);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 0); /* edge: once */
	{
		char b[2];

		assert_int_equal(zp_recv(fd, b, 2, 0), 1);
	}
	zpt_tcp_inject(T, T->peer_nxt, 0, F_RST, NULL, 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_true(out[0].events & EPOLLIN);
	assert_true(out[0].events & EPOLLERR);
	zpt_tcp_drain(T);
	zp_close(fd);
	zp_close(ep);
}

static void test_epoll_level_triggered_repeats_and_oneshot_once(void **state)
{
	int ep = zp_epoll_create(), fd = zpt_tcp_client(T);
	struct epoll_event ev = {.events = EPOLLIN}, out[2];

	(void)state;
	zpt_tcp_peer_send(T, snd_nxt(), "abc", 3);
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	ev.events = EPOLLIN | EPOLLONESHOT;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 0);
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL), 0);
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL), -1);
	assert_int_equal(errno, ENOENT);
	zpt_tcp_drain(T);
	zp_close(fd);
	zp_close(ep);
}

static void test_POLL_6_connect_success_out_failure_out_err_hup(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;
	int ep = zp_epoll_create(), fd = zp_socket(AF_INET, SOCK_STREAM, 0), fd2;
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLET}, out[2];

	(void)state;
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 0);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 5000, s.seq + 1, F_SYN | F_ACK, NULL, 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(out[0].events, EPOLLOUT);
	zpt_tcp_drain(T);
	fd2 = zp_socket(AF_INET, SOCK_STREAM, 0);
	T->pport++;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	zp_connect(fd2, (struct sockaddr *)&sin, sizeof(sin));
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd2, &ev), 0);
	s = expect_seg(F_SYN);
	T->lport = s.sport;
	zpt_tcp_inject(T, 0, s.seq + 1, F_RST | F_ACK, NULL, 0);
	assert_int_equal(zp_epoll_wait(ep, out, 2, 0), 1);
	assert_int_equal(out[0].events, EPOLLOUT | EPOLLERR | EPOLLHUP);
	zp_close(fd);
	zp_close(fd2);
	zp_close(ep);
}

static void test_listener_readable_when_accept_queue_non_empty(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg s;
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	assert_int_equal(poll_mask(l), 0);
	T->lport = 80;
	zpt_tcp_inject(T, 100, 0, F_SYN, NULL, 0);
	s = expect_seg(F_SYN | F_ACK);
	zpt_tcp_inject(T, 101, s.seq + 1, F_ACK, NULL, 0);
	assert_int_equal(poll_mask(l), EPOLLIN);
	zp_close(l);
	zpt_tcp_drain(T);
}

/* ---- control plane seams ------------------------------------------------------------------------ */

static unsigned opens, closes;
static struct dp_conn_event last_ev;

static void sink(struct dp_worker *w, const struct dp_conn_event *ev)
{
	(void)w;
	if (ev->type == DP_CONN_OPEN)
		opens++;
	else
		closes++;
	last_ev = *ev;
}

static void defaults(struct dp_worker *w, rte_be16_t lport, struct dp_sockopt_defaults *d)
{
	(void)w;
	d->nodelay = true;
	if (lport == RTE_BE16(9000)) {
		d->linger_on = true;
		d->linger_s = 0;
	}
}

static void test_conn_events_dump_and_drop(void **state)
{
	struct dp_conn_view v[4];
	char b[4];
	int fd;

	(void)state;
	dp_conn_event_register(sink);
	opens = closes = 0;
	fd = zpt_tcp_client(T);
	assert_int_equal(opens, 1);
	assert_int_equal(dp_conn_dump(T->w, v, 4), 1);
	assert_int_equal(v[0].state, ZP_TCP_ESTABLISHED);
	assert_string_equal(v[0].transport, "tcp");
	assert_int_equal(dp_conn_drop(T->w, v[0].id), 0);
	expect_seg(F_RST | F_ACK);
	assert_int_equal(closes, 1);
	assert_int_equal(last_ev.how, DP_CLOSE_RESET_OUT);
	assert_int_equal(zp_recv(fd, b, sizeof(b), 0), -1);
	assert_int_equal(errno, ECONNABORTED);
	assert_int_equal(dp_conn_drop(T->w, v[0].id), -ENOENT);
	zp_close(fd);
	dp_conn_event_register(NULL);
}

static void test_sockopt_defaults_at_socket_and_bind(void **state)
{
	int v = 0;
	socklen_t l = sizeof(v);
	struct linger lg;
	socklen_t ll = sizeof(lg);
	int fd;

	(void)state;
	dp_sockopt_defaults_register(defaults);
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &l), 0);
	assert_int_equal(v, 1);
	assert_int_equal(bind_port(fd, 0, 9000), 0);
	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &ll), 0);
	assert_int_equal(lg.l_onoff, 1);
	dp_sockopt_defaults_register(NULL);
	zp_close(fd);
}

/* A rule for one port that the test changes while a listener exists. */
static struct dp_sockopt_defaults rule;
static rte_be16_t rule_port;

static void port_rule(struct dp_worker *w, rte_be16_t lport, struct dp_sockopt_defaults *d)
{
	(void)w;
	if (lport == rule_port)
		*d = rule;
}

static int sockopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t l = sizeof(v);

	assert_int_equal(zp_getsockopt(fd, level, name, &v, &l), 0);
	return v;
}

/* The peer at T->pport connects to the listener on T->lport; the accepted descriptor. */
static int accept_from(int l, uint16_t pport)
{
	struct zpt_seg s;
	int fd;

	T->pport = pport;
	T->peer_nxt = ZPT_PEER_ISS;
	zpt_tcp_inject(T, T->peer_nxt++, 0, F_SYN, NULL, 0);
	s = expect_seg(F_SYN | F_ACK);
	zpt_tcp_inject(T, T->peer_nxt, s.seq + 1, F_ACK, NULL, 0);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);
	return fd;
}

static void test_sockopt_defaults_at_accept_follow_the_current_rule(void **state)
{
	struct linger lg;
	socklen_t ll = sizeof(lg);
	int l, a, b, v = 100;

	(void)state;
	memset(&rule, 0, sizeof(rule));
	rule.nodelay = true;
	rule.keepalive = true;
	rule.keepidle_s = 30;
	rule.sndbuf = 65536;
	rule_port = RTE_BE16(9100);
	dp_sockopt_defaults_register(port_rule);
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	/* The application chooses TCP_KEEPIDLE on the listener itself: that one is its own. */
	assert_int_equal(zp_setsockopt(l, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), 0);
	assert_int_equal(bind_port(l, 0, 9100), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	assert_int_equal(sockopt_int(l, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(sockopt_int(l, SOL_SOCKET, SO_SNDBUF), 65536);
	{
		/* A rule's SO_SNDBUF is the cap of send autotuning, not a pinned size. */
		struct zp_tcp_info ti;
		socklen_t tl = sizeof(ti);

		assert_int_equal(zp_getsockopt(l, IPPROTO_TCP, ZP_TCP_INFO, &ti, &tl), 0);
		assert_int_equal(ti.snd_buf, TCP_SNDBUF_INIT);
	}

	/* The rule changes while the listener exists: nodelay off, keepalive, linger, buffers. */
	memset(&rule, 0, sizeof(rule));
	rule.keepalive = true;
	rule.keepidle_s = 40;
	rule.keepcnt = 3;
	rule.linger_on = true;
	rule.linger_s = 0;
	rule.rcvbuf = 1u << 20;
	T->lport = 9100;
	a = accept_from(l, 40001);
	/* An accepted socket is a new socket: the current rule, except what the app set. */
	assert_int_equal(sockopt_int(a, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_int_equal(sockopt_int(a, SOL_SOCKET, SO_KEEPALIVE), 1);
	assert_int_equal(sockopt_int(a, IPPROTO_TCP, TCP_KEEPIDLE), 100);
	assert_int_equal(sockopt_int(a, IPPROTO_TCP, TCP_KEEPCNT), 3);
	assert_int_equal(sockopt_int(a, IPPROTO_TCP, TCP_KEEPINTVL), TCP_DEF_KEEPINTVL_S);
	assert_int_equal(sockopt_int(a, SOL_SOCKET, SO_SNDBUF), TCP_SNDBUF_DEFAULT);
	assert_int_equal(sockopt_int(a, SOL_SOCKET, SO_RCVBUF), 1 << 20);
	assert_int_equal(zp_getsockopt(a, SOL_SOCKET, SO_LINGER, &lg, &ll), 0);
	assert_int_equal(lg.l_onoff, 1);
	assert_int_equal(lg.l_linger, 0);
	/* The listener itself keeps what it had: rules never change an existing socket. */
	assert_int_equal(sockopt_int(l, IPPROTO_TCP, TCP_NODELAY), 1);
	assert_int_equal(sockopt_int(l, SOL_SOCKET, SO_SNDBUF), 65536);
	assert_int_equal(sockopt_int(l, IPPROTO_TCP, TCP_KEEPCNT), TCP_DEF_KEEPCNT);

	/* The rule is deleted: the next one gets the stack's own values, and the app's choice. */
	rule_port = 0;
	b = accept_from(l, 40002);
	assert_int_equal(sockopt_int(b, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_int_equal(sockopt_int(b, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(sockopt_int(b, IPPROTO_TCP, TCP_KEEPIDLE), 100);
	assert_int_equal(sockopt_int(b, IPPROTO_TCP, TCP_KEEPCNT), TCP_DEF_KEEPCNT);
	assert_int_equal(sockopt_int(b, SOL_SOCKET, SO_SNDBUF), TCP_SNDBUF_DEFAULT);
	assert_int_equal(sockopt_int(b, SOL_SOCKET, SO_RCVBUF), TCP_RCVBUF_DEFAULT);
	assert_int_equal(zp_getsockopt(b, SOL_SOCKET, SO_LINGER, &lg, &ll), 0);
	assert_int_equal(lg.l_onoff, 0);
	/* An option the app sets on the accepted socket is its own from then on. */
	v = 1;
	assert_int_equal(zp_setsockopt(b, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)), 0);
	assert_int_equal(sockopt_int(b, IPPROTO_TCP, TCP_NODELAY), 1);

	dp_sockopt_defaults_register(NULL);
	zp_close(a); /* SO_LINGER 0: RST */
	zp_close(b);
	zp_close(l);
	zpt_tcp_drain(T);
}

static void test_sockopt_validation(void **state)
{
	int v = -1, fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	char cc[16];
	socklen_t l = sizeof(cc);

	(void)state;
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_ERROR, &v, sizeof(v)), -1);
	assert_int_equal(errno, ENOPROTOOPT);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "vegas", 5), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, "reno", 4), 0);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, &l), 0);
	assert_string_equal(cc, "reno");
	zp_close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_errno_basics),
		TEST(test_getsockname_getpeername),
		TEST(test_REU_1_bind_fails_eaddrinuse_while_time_wait),
		TEST(test_REU_2_reuseaddr_binds_over_time_wait_not_over_listener),
		TEST(test_REU_3_only_the_new_binder_needs_reuseaddr),
		TEST(test_REU_5_reuseport_allows_two_listeners),
		TEST(test_REU_6_options_are_read_at_bind_time),
		TEST(test_table_P_fresh_socket_is_out_hup),
		TEST(test_table_P_syn_sent_is_nothing),
		TEST(test_POLL_1_peer_fin_is_in_rdhup_not_hup_shut_wr_plus_fin_is_hup),
		TEST(test_POLL_1_shut_wr_alone_is_out_without_hup),
		TEST(test_POLL_2_err_hup_reported_unrequested_rdhup_only_on_request),
		TEST(test_POLL_4_err_stays_until_consumed),
		TEST(test_POLL_5_F_4_edge_triggered_wakes_on_rst_with_empty_queue),
		TEST(test_epoll_level_triggered_repeats_and_oneshot_once),
		TEST(test_POLL_6_connect_success_out_failure_out_err_hup),
		TEST(test_listener_readable_when_accept_queue_non_empty),
		TEST(test_conn_events_dump_and_drop),
		TEST(test_sockopt_defaults_at_socket_and_bind),
		TEST(test_sockopt_defaults_at_accept_follow_the_current_rule),
		TEST(test_sockopt_validation),
	};

	return cmocka_run_group_tests_name("sock_api", tests, NULL, NULL);
}
