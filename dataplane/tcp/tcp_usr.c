/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * User requests (RFC 9293 §3.10.1-3.10.6: OPEN, SEND, RECEIVE, CLOSE, ABORT, STATUS) with the
 * POSIX errno contract of shared/spec/close-semantics.md: connect, listen/accept, send/recv
 * (Linux ordering of data, EOF and latched errors: F-1, F-2, ERR-1, ERR-7), shutdown (§8),
 * close (table L, RST-1, RST-3, RST-5, LNG-5), readiness (table P) and socket options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_priv.h"

#define MS 1000000ull

/* ---- listen / accept ---------------------------------------------------------------------- */

int tcp_listen(struct tcp_conn *c, int backlog)
{
	struct tcp_engine *e = c->e;
	struct tcp_conn *o;
	uint32_t bl = backlog <= 0 ? 1u : TCP_MIN((uint32_t)backlog, 4096u);
	int rc;

	if (c->state == TCPS_LISTEN && !(c->flags & TCPF_LISTEN_SHUT)) {
		c->backlog = bl;
		return 0;
	}
	if (c->state != TCPS_CLOSED || (c->flags & (TCPF_WAS_CONN | TCPF_CONN_FAILED)))
		return -EINVAL;
	if (!(c->flags & TCPF_BOUND)) {
		rc = tcp_bind(c, 0, 0);
		if (rc < 0)
			return rc;
	}
	/* REU-2: never two listeners on one address and port (unless both SO_REUSEPORT). */
	TAILQ_FOREACH(o, &e->listeners, link) {
		if (o->key.lport != c->key.lport)
			continue;
		if (o->key.laddr != 0 && c->key.laddr != 0 && o->key.laddr != c->key.laddr)
			continue;
		if (!((o->flags & TCPF_REUSEPORT) && (c->flags & TCPF_REUSEPORT)))
			return -EADDRINUSE;
	}
	c->backlog = bl;
	TAILQ_REMOVE(&e->conns, c, link);
	TAILQ_INSERT_TAIL(&e->listeners, c, link);
	tcp__set_state(c, TCPS_LISTEN);
	return 0;
}

/* RST-5: reset the connections waiting in the accept queue, drop the half-open ones. */
static void listener_stop(struct tcp_conn *l)
{
	struct tcp_conn *c;

	while ((c = TAILQ_FIRST(&l->acceptq)) != NULL) {
		TAILQ_REMOVE(&l->acceptq, c, qlink);
		l->acceptq_len--;
		c->flags &= ~TCPF_IN_ACCEPTQ;
		c->parent = NULL;
		c->flags |= TCPF_ORPHAN;
		if (c->state != TCPS_CLOSED) {
			tcp__stat(l->e, TCP_STAT_RST_LISTEN_CLOSE);
			tcp__send_rst(c);
			tcp__closed(c, DP_CLOSE_RESET_OUT); /* frees the orphan */
		} else {
			tcp__conn_free(c);
		}
	}
	while ((c = TAILQ_FIRST(&l->synq)) != NULL) {
		c->flags |= TCPF_ORPHAN;
		tcp__closed(c, DP_CLOSE_RESET_OUT); /* unlinks and frees the child */
	}
}

int tcp_accept(struct tcp_conn *l, struct tcp_conn **child)
{
	struct tcp_conn *c;

	if (l->flags & TCPF_LISTEN_SHUT)
		return -ECONNABORTED; /* SD-4 */
	if (l->state != TCPS_LISTEN)
		return -EINVAL;
	c = TAILQ_FIRST(&l->acceptq);
	if (c == NULL)
		return -EAGAIN;
	TAILQ_REMOVE(&l->acceptq, c, qlink);
	l->acceptq_len--;
	c->flags &= ~TCPF_IN_ACCEPTQ;
	c->parent = NULL;
	*child = c;
	return 0;
}

/* ---- connect ------------------------------------------------------------------------------ */

int tcp_connect(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port)
{
	struct tcp_engine *e = c->e;
	rte_be32_t src;
	uint16_t mtu;
	int rc;

	if (c->flags & TCPF_CONNECTING)
		return -EALREADY;
	if (c->flags & TCPF_CONN_FAILED)
		return -EINVAL; /* D-12 */
	if (c->state == TCPS_LISTEN)
		return -EINVAL;
	if (c->state != TCPS_CLOSED)
		return -EISCONN;
	if (c->flags & TCPF_WAS_CONN)
		return -EINVAL;
	if (port == 0)
		return -EADDRNOTAVAIL;
	if (addr == 0 || addr == RTE_BE32(0xffffffff))
		return -ENETUNREACH;
	rc = tcp__route_src(e->w->stack, addr, &src, &mtu);
	if (rc < 0)
		return rc;
	if ((c->flags & TCPF_BOUND) && c->key.laddr != 0)
		src = c->key.laddr;
	rc = tcp__connect_tuple(c, src, addr, port);
	if (rc < 0)
		return rc;
	rc = tcp__hash_add(c);
	if (rc < 0)
		return -EADDRNOTAVAIL;
	c->rcv_mss = (uint16_t)(mtu - 40);
	c->iss = tcp__isn(e, &c->key);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_buf_seq = c->iss + 1;
	c->rcv_wscale = 0;
	c->flags |= TCPF_CONNECTING;
	c->rtt_timing = true;
	c->rtt_start_ns = e->w->now_ns;
	tcp__stat(e, TCP_STAT_ACTIVE_OPENS);
	tcp__set_state(c, TCPS_SYN_SENT);
	tcp__output(c); /* SYN */
	return -EINPROGRESS;
}

/* ---- send / receive ----------------------------------------------------------------------- */

static int take_error(struct tcp_conn *c)
{
	int err = c->so_error;

	c->so_error = 0;
	return err;
}

ssize_t tcp_send(struct tcp_conn *c, const struct iovec *iov, int iovcnt, int flags)
{
	size_t total = 0, copied = 0;
	uint32_t space, limit;
	int i;

	if (c->so_error)
		return -take_error(c); /* ERR-7: the first send after a RST */
	if (c->shut & TCP_SND_SHUT)
		return -EPIPE;
	switch (c->state) {
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		break;
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
		return -EAGAIN;
	case TCPS_CLOSED:
		return (c->flags & (TCPF_WAS_CONN | TCPF_CONN_FAILED)) ? -EPIPE : -ENOTCONN;
	case TCPS_LISTEN:
		return -ENOTCONN;
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		return -EPIPE; /* CL-5 */
	}
	for (i = 0; i < iovcnt; i++)
		total += iov[i].iov_len;
	if (total == 0)
		return 0;
	tcp__snd_expand(c);
	limit = tcp__snd_limit(c);
	space = limit > c->sbuf_len ? limit - c->sbuf_len : 0;
	if (space == 0)
		return -EAGAIN;
	if (total > space)
		total = space;
	if (tcp__sbuf_reserve(c, c->sbuf_len + (uint32_t)total) < 0)
		return -ENOMEM;
	space = TCP_MIN(space, c->sbuf_size - c->sbuf_len);
	for (i = 0; i < iovcnt && space > 0; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t left = TCP_MIN(iov[i].iov_len, (size_t)space);

		while (left > 0) {
			uint32_t pos = (c->sbuf_head + c->sbuf_len) % c->sbuf_size;
			uint32_t n = (uint32_t)TCP_MIN(left, (size_t)(c->sbuf_size - pos));

			memcpy(c->sbuf + pos, p, n);
			c->sbuf_len += n;
			space -= n;
			left -= n;
			p += n;
			copied += n;
		}
	}
	if (flags & MSG_MORE)
		c->flags |= TCPF_CORK;
	else
		c->flags &= ~TCPF_CORK;
	tcp__output_app(c);
	return (ssize_t)copied;
}

/* After the reader freed space: tell the peer when the window grew usefully (RFC 9293
 * §3.8.6.2.2: by min(RCV.BUFF/2, Eff.snd.MSS)). */
static void window_update(struct tcp_conn *c)
{
	uint32_t adv, now;

	if (!tcp_state_synced(c->state) || c->state == TCPS_TIME_WAIT)
		return;
	adv = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	now = tcp__rcv_wnd(c);
	if (now > adv && now - adv >= TCP_MIN(c->rcvbuf / 2, 2u * c->rcv_mss))
		tcp__send_ack(c);
}

/* What a read returns once the queue is empty (Linux tcp_recvmsg order: F-1, F-2, D-4). */
static ssize_t recv_empty(struct tcp_conn *c)
{
	if (c->flags & TCPF_PEER_FIN)
		return 0; /* the FIN reached the stream: clean EOF even after a RST (F-2) */
	if (c->so_error)
		return -take_error(c); /* once (F-1) */
	if (c->shut & TCP_RCV_SHUT)
		return 0;
	if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN)
		return -ENOTCONN;
	return -EAGAIN;
}

ssize_t tcp_recv(struct tcp_conn *c, const struct iovec *iov, int iovcnt, int flags)
{
	struct rte_mbuf *m = c->rq_head;
	size_t copied = 0, off = 0;
	int i = 0;
	size_t ioff = 0;

	if (c->state == TCPS_LISTEN)
		return -ENOTCONN;
	if (c->rq_bytes == 0)
		return recv_empty(c);
	while (m != NULL && i < iovcnt) {
		size_t mavail = rte_pktmbuf_data_len(m) - off;
		size_t n = TCP_MIN(mavail, iov[i].iov_len - ioff);

		memcpy((uint8_t *)iov[i].iov_base + ioff, rte_pktmbuf_mtod_offset(m, uint8_t *, off),
		       n);
		copied += n;
		ioff += n;
		off += n;
		if (ioff == iov[i].iov_len) {
			i++;
			ioff = 0;
		}
		if (off == rte_pktmbuf_data_len(m)) {
			m = m->next;
			off = 0;
		}
	}
	if (flags & MSG_PEEK)
		return (ssize_t)copied;
	/* Consume. */
	{
		size_t left = copied;

		while (left > 0) {
			struct rte_mbuf *h = c->rq_head;
			size_t l = rte_pktmbuf_data_len(h);

			if (left >= l) {
				c->rq_head = h->next;
				if (c->rq_head == NULL)
					c->rq_tail = NULL;
				h->next = NULL;
				rte_pktmbuf_free(h);
				left -= l;
			} else {
				rte_pktmbuf_adj(h, (uint16_t)left);
				left = 0;
			}
		}
		c->rq_bytes -= (uint32_t)copied;
	}
	tcp__rcv_consumed(c, (uint32_t)copied); /* window autotuning */
	window_update(c);
	return (ssize_t)copied;
}

int tcp_zc_recv(struct tcp_conn *c, struct zp_zc_view *views, int max)
{
	int n = 0;

	if (c->state == TCPS_LISTEN)
		return -ENOTCONN;
	if (c->rq_bytes == 0)
		return (int)recv_empty(c);
	while (n < max && c->rq_head != NULL) {
		struct rte_mbuf *m = c->rq_head;
		uint32_t len = rte_pktmbuf_data_len(m);

		c->rq_head = m->next;
		if (c->rq_head == NULL)
			c->rq_tail = NULL;
		m->next = NULL;
		c->rq_bytes -= len;
		c->zc_held += len;
		c->zc_refs++;
		*tcp__mbuf_conn(m) = c;
		views[n].data = rte_pktmbuf_mtod(m, const void *);
		views[n].len = len;
		views[n].token = m;
		tcp__rcv_consumed(c, len); /* window autotuning */
		n++;
	}
	return n;
}

void tcp_zc_release(struct zp_zc_view *views, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		struct rte_mbuf *m = views[i].token;
		struct tcp_conn *c;

		if (m == NULL)
			continue;
		c = *tcp__mbuf_conn(m);
		views[i].token = NULL;
		if (c != NULL) {
			c->zc_held -= rte_pktmbuf_data_len(m);
			c->zc_refs--;
		}
		rte_pktmbuf_free(m);
		if (c == NULL)
			continue;
		if (c->flags & TCPF_FREED) {
			if (c->zc_refs == 0)
				free(c);
			continue;
		}
		window_update(c);
	}
}

/* ---- shutdown / close / abort -------------------------------------------------------------- */

/* RFC 9293 §3.10.4 CLOSE for the sending direction: queue a FIN behind the data (CL-1). */
static void usrclosed(struct tcp_conn *c)
{
	enum tcp_state next = tcp__usrclosed_next(c->state);

	c->shut |= TCP_SND_SHUT;
	switch (c->state) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
		c->flags |= TCPF_FIN_QUEUED;
		tcp__set_state(c, next);
		tcp__output_app(c);
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		break; /* CL-6: no second FIN */
	}
}

static void shut_rd(struct tcp_conn *c)
{
	/* SD-2 / D-8 (FreeBSD): flush, later data is acked, discarded and counted. */
	c->flags |= TCPF_USER_SHUT_RD;
	c->shut |= TCP_RCV_SHUT;
	c->e->drops[TCP_DROP_AFTER_SHUT_RD] += c->rq_head != NULL;
	tcp__rq_flush(c);
}

int tcp_shutdown(struct tcp_conn *c, int how)
{
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return -EINVAL;
	switch (c->state) {
	case TCPS_LISTEN:
		if (how == SHUT_WR)
			return 0;
		/* SD-4: stop listening; a pending accept fails ECONNABORTED. */
		listener_stop(c);
		c->flags |= TCPF_LISTEN_SHUT;
		tcp__wakeup(c);
		return 0;
	case TCPS_CLOSED:
		return -ENOTCONN; /* SD-3 */
	case TCPS_SYN_SENT:
		/* Linux aborts the connect. */
		c->flags |= TCPF_CONN_FAILED;
		tcp__closed(c, DP_CLOSE_RESET_OUT);
		return -ENOTCONN;
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		break;
	}
	if (how == SHUT_RD || how == SHUT_RDWR)
		shut_rd(c);
	if (how == SHUT_WR || how == SHUT_RDWR)
		usrclosed(c); /* LNG-9: linger never makes shutdown abortive */
	tcp__wakeup(c);
	return 0;
}

/* RST-3: where an abort sends a RST. */
static bool abort_sends_rst(enum tcp_state s)
{
	switch (s) {
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
		return true;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		return false;
	}
	return false;
}

static void abort_conn(struct tcp_conn *c, enum tcp_stat why)
{
	/* What send() queued in this application turn (tcp__output_app) leaves before the RST,
	 * as it did when send() built it at once. */
	if (c->flags & TCPF_OUTQ)
		tcp__output(c);
	if (abort_sends_rst(c->state)) {
		tcp__stat(c->e, why);
		tcp__send_rst(c);
	}
	tcp__closed(c, DP_CLOSE_RESET_OUT); /* CL-10: no TIME_WAIT */
}

void tcp_close(struct tcp_conn *c)
{
	c->upcall = NULL;
	c->upcall_arg = NULL;
	c->flags |= TCPF_ORPHAN;
	switch (c->state) {
	case TCPS_CLOSED:
		tcp__conn_free(c);
		return;
	case TCPS_LISTEN:
		listener_stop(c);
		tcp__conn_free(c);
		return;
	case TCPS_SYN_SENT:
		tcp__closed(c, DP_CLOSE_RESET_OUT); /* RST-3: no RST from SYN_SENT */
		return;
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_FIN_WAIT_1:
	case TCPS_FIN_WAIT_2:
	case TCPS_CLOSE_WAIT:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
	case TCPS_TIME_WAIT:
		break;
	}
	if (c->rq_bytes > 0 && abort_sends_rst(c->state)) {
		/* RST-1 / D-1: data the application never read: RST, not FIN. */
		tcp__rq_flush(c);
		abort_conn(c, TCP_STAT_RST_UNREAD);
		return;
	}
	tcp__rq_flush(c);
	if ((c->flags & TCPF_LINGER) && c->linger_s == 0) {
		abort_conn(c, TCP_STAT_RST_LINGER0); /* RST-3 */
		return;
	}
	/* Background close (table L). */
	usrclosed(c);
	switch (c->state) {
	case TCPS_FIN_WAIT_2:
		tcp__close_timer_arm(c, (uint64_t)c->e->w->stack->tun.tcp_fin_timeout_ms * MS);
		break;
	case TCPS_FIN_WAIT_1:
	case TCPS_CLOSING:
	case TCPS_LAST_ACK:
		/* LNG-5: linger > 0 bounds how long the background close may take. */
		if (c->flags & TCPF_LINGER)
			tcp__close_timer_arm(c, (uint64_t)c->linger_s * 1000 * MS);
		break;
	case TCPS_CLOSED:
	case TCPS_LISTEN:
	case TCPS_SYN_SENT:
	case TCPS_SYN_RECEIVED:
	case TCPS_ESTABLISHED:
	case TCPS_CLOSE_WAIT:
	case TCPS_TIME_WAIT:
		break;
	}
}

void tcp_abort(struct tcp_conn *c)
{
	if (c->state == TCPS_LISTEN) {
		listener_stop(c);
		c->flags |= TCPF_LISTEN_SHUT;
		tcp__wakeup(c);
		return;
	}
	if (c->state == TCPS_CLOSED)
		return;
	c->so_error = ECONNABORTED;
	c->app_errno = ECONNABORTED;
	if (c->state == TCPS_SYN_SENT)
		c->flags |= TCPF_CONN_FAILED;
	abort_conn(c, TCP_STAT_RST_LINGER0);
}

/* ---- readiness (table P, Linux tcp_poll) ---------------------------------------------------- */

uint32_t tcp_poll_events(const struct tcp_conn *c)
{
	uint32_t mask = 0;

	if (c->state == TCPS_LISTEN) {
		if (c->flags & TCPF_LISTEN_SHUT)
			return EPOLLIN | EPOLLHUP;
		return c->acceptq_len > 0 ? EPOLLIN : 0;
	}
	/* POLL-1: HUP only when both directions are shut or the socket is CLOSED. */
	if (c->shut == (TCP_RCV_SHUT | TCP_SND_SHUT) || c->state == TCPS_CLOSED)
		mask |= EPOLLHUP;
	if (c->shut & TCP_RCV_SHUT)
		mask |= EPOLLIN | EPOLLRDHUP;
	if (c->state != TCPS_SYN_SENT && c->state != TCPS_SYN_RECEIVED) {
		if (c->rq_bytes > 0)
			mask |= EPOLLIN;
		if (!(c->shut & TCP_SND_SHUT)) {
			uint32_t limit = tcp__snd_limit(c);
			uint32_t free_b = limit > c->sbuf_len ? limit - c->sbuf_len : 0;

			/* Writable when a third of the (autotuned) limit is free. */
			if (free_b >= c->sbuf_len / 2 && free_b > 0)
				mask |= EPOLLOUT;
		} else {
			mask |= EPOLLOUT; /* a send would fail at once */
		}
	}
	if (c->so_error)
		mask |= EPOLLERR; /* POLL-4 */
	return mask;
}

/* ---- names, state -------------------------------------------------------------------------- */

void tcp_upcall_set(struct tcp_conn *c, tcp_upcall_fn fn, void *arg)
{
	c->upcall = fn;
	c->upcall_arg = arg;
}

void tcp_sockname(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port)
{
	*addr = c->key.laddr;
	*port = c->key.lport;
}

int tcp_peername(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port)
{
	if (c->state == TCPS_CLOSED || c->state == TCPS_LISTEN || c->state == TCPS_SYN_SENT ||
	    c->key.rport == 0)
		return -ENOTCONN;
	*addr = c->key.raddr;
	*port = c->key.rport;
	return 0;
}

enum zp_tcp_state tcp_conn_state(const struct tcp_conn *c)
{
	return (enum zp_tcp_state)c->state;
}

uint64_t tcp_conn_id(const struct tcp_conn *c)
{
	return c->id;
}

/* ---- options -------------------------------------------------------------------------------- */

static int get_int(const void *val, socklen_t len, int *out)
{
	if (val == NULL || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, val, sizeof(int));
	return 0;
}

static void set_flag(struct tcp_conn *c, uint32_t f, int on)
{
	if (on)
		c->flags |= f;
	else
		c->flags &= ~f;
}

int tcp_setsockopt(struct tcp_conn *c, int level, int name, const void *val, socklen_t len)
{
	int v, rc;

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_LINGER: {
			struct linger l;

			if (val == NULL || len < (socklen_t)sizeof(l))
				return -EINVAL; /* LNG-6 */
			memcpy(&l, val, sizeof(l));
			if (l.l_onoff && l.l_linger < 0)
				return -EINVAL;
			set_flag(c, TCPF_LINGER, l.l_onoff);
			c->linger_s = l.l_onoff ? (uint32_t)l.l_linger : 0;
			return 0;
		}
		case SO_REUSEADDR:
		case SO_REUSEPORT:
		case SO_KEEPALIVE:
		case SO_RCVBUF:
		case SO_SNDBUF:
			break;
		case SO_ERROR:
		case SO_TYPE:
		case SO_ACCEPTCONN:
			return -ENOPROTOOPT;
		default:
			return -ENOPROTOOPT;
		}
		rc = get_int(val, len, &v);
		if (rc < 0)
			return rc;
		switch (name) {
		case SO_REUSEADDR:
			set_flag(c, TCPF_REUSEADDR, v); /* REU-6: read at bind time */
			return 0;
		case SO_REUSEPORT:
			set_flag(c, TCPF_REUSEPORT, v);
			return 0;
		case SO_KEEPALIVE:
			set_flag(c, TCPF_KEEPALIVE, v);
			if (c->state == TCPS_ESTABLISHED || c->state == TCPS_CLOSE_WAIT)
				tcp__keep_arm(c);
			return 0;
		case SO_RCVBUF:
			if (v < 0)
				return -EINVAL;
			c->rcvbuf = TCP_MIN(TCP_MAX((uint32_t)v, TCP_BUF_MIN), TCP_BUF_MAX);
			return 0;
		case SO_SNDBUF:
			if (v < 0)
				return -EINVAL;
			/* The limit is this value from now on, not autotuned (Linux's
			 * SOCK_SNDBUF_LOCK; Linux doubles it, zpath does not). Bytes already queued
			 * stay; the ring follows the limit as the application writes. */
			c->sndbuf_max = TCP_MIN(TCP_MAX((uint32_t)v, TCP_BUF_MIN), TCP_BUF_MAX);
			c->flags |= TCPF_SNDBUF_LOCK;
			return 0;
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (name == TCP_CONGESTION) {
		char cc[TCP_CC_NAME_MAX];
		size_t n;

		if (val == NULL || len == 0)
			return -EINVAL;
		n = strnlen(val, TCP_MIN((size_t)len, sizeof(cc) - 1));
		memcpy(cc, val, n);
		cc[n] = '\0';
		return tcp__cc_set(c, cc); /* -ENOENT for an unknown algorithm, as Linux */
	}
	if (name == ZP_TCP_INFO)
		return -ENOPROTOOPT;
	rc = get_int(val, len, &v);
	if (rc < 0)
		return rc;
	switch (name) {
	case TCP_NODELAY:
		set_flag(c, TCPF_NODELAY, v);
		if (v)
			tcp__output(c);
		return 0;
	case TCP_MAXSEG:
		if (v != 0 && (v < (int)TCP_MSS_MIN || v > 65535))
			return -EINVAL;
		c->user_mss = (uint16_t)v;
		return 0;
	case TCP_KEEPIDLE:
		if (v < 1 || v > 32767)
			return -EINVAL;
		c->keepidle_s = (uint32_t)v;
		if (c->flags & TCPF_KEEPALIVE && c->state == TCPS_ESTABLISHED)
			tcp__keep_arm(c);
		return 0;
	case TCP_KEEPINTVL:
		if (v < 1 || v > 32767)
			return -EINVAL;
		c->keepintvl_s = (uint32_t)v;
		return 0;
	case TCP_KEEPCNT:
		if (v < 1 || v > 127)
			return -EINVAL;
		c->keepcnt = (uint32_t)v;
		return 0;
	case TCP_USER_TIMEOUT:
		if (v < 0)
			return -EINVAL;
		c->user_timeout_ms = (uint32_t)v; /* ERR-5 */
		return 0;
	default:
		return -ENOPROTOOPT;
	}
}

static void fill_info(const struct tcp_conn *c, struct zp_tcp_info *ti)
{
	memset(ti, 0, sizeof(*ti));
	ti->state = (uint8_t)c->state;
	ti->snd_wscale = c->snd_wscale;
	ti->rcv_wscale = c->rcv_wscale;
	ti->options = (uint8_t)(((c->flags & TCPF_TS_OK) ? 1 : 0) |
				((c->flags & TCPF_SACK_OK) ? 2 : 0) |
				((c->flags & TCPF_WS_OK) ? 4 : 0));
	ti->rto_us = c->rto_us;
	ti->rtt_us = c->srtt_us;
	ti->rttvar_us = c->rttvar_us;
	ti->snd_mss = c->snd_mss;
	ti->rcv_mss = c->rcv_mss;
	ti->snd_cwnd = c->cwnd;
	ti->snd_ssthresh = c->ssthresh;
	ti->snd_wnd = c->snd_wnd;
	ti->rcv_wnd = tcp__rcv_wnd(c);
	ti->unacked = c->snd_max - c->snd_una;
	ti->retransmits = c->retries;
	ti->total_retrans = c->total_retrans;
	ti->bytes_sent = c->bytes_out;
	ti->bytes_acked = c->bytes_acked;
	ti->bytes_received = c->bytes_in;
	ti->snd_queue = c->sbuf_len;
	ti->snd_buf = tcp__snd_limit(c);
	ti->snd_mem = c->sbuf != NULL ? c->sbuf_size : 0;
	ti->rcv_queue = c->rq_bytes;
	snprintf(ti->congestion, sizeof(ti->congestion), "%s", tcp__cc_name(c));
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (val == NULL || len == NULL || *len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(val, &v, sizeof(int));
	*len = sizeof(int);
	return 0;
}

int tcp_getsockopt(struct tcp_conn *c, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR: {
			/* ERR-8: hard error first, else the soft one; both cleared. */
			int err = c->so_error ? c->so_error : c->soft_error;

			if (val == NULL || len == NULL || *len < (socklen_t)sizeof(int))
				return -EINVAL;
			if (c->so_error)
				c->so_error = 0;
			else
				c->soft_error = 0;
			return put_int(val, len, err);
		}
		case SO_LINGER: {
			struct linger l = {.l_onoff = !!(c->flags & TCPF_LINGER),
					   .l_linger = (int)c->linger_s};

			if (val == NULL || len == NULL || *len < (socklen_t)sizeof(l))
				return -EINVAL;
			memcpy(val, &l, sizeof(l));
			*len = sizeof(l);
			return 0;
		}
		case SO_REUSEADDR:
			return put_int(val, len, !!(c->flags & TCPF_REUSEADDR));
		case SO_REUSEPORT:
			return put_int(val, len, !!(c->flags & TCPF_REUSEPORT));
		case SO_KEEPALIVE:
			return put_int(val, len, !!(c->flags & TCPF_KEEPALIVE));
		case SO_RCVBUF:
			return put_int(val, len, (int)c->rcvbuf);
		case SO_SNDBUF:
			return put_int(val, len, (int)c->sndbuf_max); /* the cap, as SO_RCVBUF */
		case SO_TYPE:
			return put_int(val, len, SOCK_STREAM);
		case SO_ACCEPTCONN:
			return put_int(val, len, c->state == TCPS_LISTEN);
		default:
			return -ENOPROTOOPT;
		}
	}
	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	switch (name) {
	case TCP_NODELAY:
		return put_int(val, len, !!(c->flags & TCPF_NODELAY));
	case TCP_MAXSEG:
		return put_int(val, len, tcp_state_synced(c->state) ? c->snd_mss
								     : (c->user_mss ? c->user_mss
										    : TCP_MSS_NOOPT));
	case TCP_KEEPIDLE:
		return put_int(val, len, (int)c->keepidle_s);
	case TCP_KEEPINTVL:
		return put_int(val, len, (int)c->keepintvl_s);
	case TCP_KEEPCNT:
		return put_int(val, len, (int)c->keepcnt);
	case TCP_USER_TIMEOUT:
		return put_int(val, len, (int)c->user_timeout_ms);
	case TCP_CONGESTION: {
		const char *cc = tcp__cc_name(c);
		size_t n = strlen(cc) + 1;

		if (val == NULL || len == NULL || *len == 0)
			return -EINVAL;
		memcpy(val, cc, TCP_MIN((size_t)*len, n));
		*len = (socklen_t)TCP_MIN((size_t)*len, n);
		return 0;
	}
	case ZP_TCP_INFO: {
		struct zp_tcp_info ti;

		if (val == NULL || len == NULL)
			return -EINVAL;
		fill_info(c, &ti);
		*len = (socklen_t)TCP_MIN((size_t)*len, sizeof(ti));
		memcpy(val, &ti, *len);
		return 0;
	}
	default:
		return -ENOPROTOOPT;
	}
}

/* ---- ICMP (RFC 9293 §3.9.2.2, ERR-2/3/4, table E) ------------------------------------------ */

void tcp_icmp_error(struct dp_worker *w, rte_be32_t src, rte_be32_t dst, const void *tcph,
		    uint8_t type, uint8_t code)
{
	struct tcp_engine *e = tcp__engine(w);
	const struct tcp_wire_hdr *h = tcph;
	struct tcp_key k;
	struct tcp_conn *c;
	uint32_t seq;
	int err;

	if (e == NULL)
		return;
	/* The quoted header is ours: src = our address. */
	k.laddr = src;
	k.raddr = dst;
	k.lport = h->sport;
	k.rport = h->dport;
	c = tcp__lookup(e, &k);
	if (c == NULL)
		return;
	seq = rte_be_to_cpu_32(h->seq);
	if (SEQ_LT(seq, c->snd_una) || SEQ_GEQ(seq, c->snd_max + 1))
		return; /* not in flight: stale or forged */
	if (type == 3) { /* destination unreachable */
		switch (code) {
		case 0:
		case 6:
			err = ENETUNREACH;
			break;
		case 2:
		case 3:
			err = ECONNREFUSED;
			break;
		case 4:
			return; /* fragmentation needed: PMTUD is not implemented */
		case 9:
		case 10:
		case 13:
			err = EACCES;
			break;
		default:
			err = EHOSTUNREACH;
			break;
		}
	} else if (type == 11) {
		err = EHOSTUNREACH; /* time exceeded: soft */
	} else if (type == 12) {
		err = ENOPROTOOPT; /* parameter problem: soft */
	} else {
		return; /* source quench and the rest are ignored (MUST-55) */
	}
	if (c->state == TCPS_SYN_RECEIVED && (c->flags & TCPF_PASSIVE)) {
		/* ERR-4: a half-open request vanishes, accept() never hears of it. */
		tcp__closed(c, DP_CLOSE_REFUSED);
		return;
	}
	if (c->state == TCPS_SYN_SENT && type == 3 &&
	    (code == 2 || code == 3 || code == 9 || code == 10 || code == 13)) {
		/* Table E: port / protocol / administratively prohibited abort a connect. */
		tcp__stat(e, TCP_STAT_ICMP_HARD);
		c->flags |= TCPF_CONN_FAILED;
		tcp__drop_conn(c, err, DP_CLOSE_REFUSED);
		return;
	}
	/* ERR-3: everything else is soft and never aborts a synchronized connection. */
	tcp__stat(e, TCP_STAT_ICMP_SOFT);
	c->soft_error = err;
}
