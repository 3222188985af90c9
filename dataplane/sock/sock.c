/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The POSIX-shaped socket API (include/zpath/zpath_socket.h) on the calling worker: the
 * descriptor table, socket creation with the control plane's option defaults, and the calls
 * that turn the transports' negative errnos into -1/errno (close-semantics.md).
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sock_priv.h"

/* ---- the TCP stream ops -------------------------------------------------------------------- */

static ssize_t tcp_ops_send(void *t, const struct iovec *iov, int n, int flags)
{
	return tcp_send(t, iov, n, flags);
}

static ssize_t tcp_ops_recv(void *t, const struct iovec *iov, int n, int flags)
{
	return tcp_recv(t, iov, n, flags);
}

static int tcp_ops_zc_recv(void *t, struct zp_zc_view *v, int max)
{
	return tcp_zc_recv(t, v, max);
}

static int tcp_ops_shutdown(void *t, int how)
{
	return tcp_shutdown(t, how);
}

static void tcp_ops_close(void *t)
{
	tcp_close(t);
}

static void tcp_ops_abort(void *t)
{
	tcp_abort(t);
}

static uint32_t tcp_ops_events(const void *t)
{
	return tcp_poll_events(t);
}

const struct zp_stream_ops sock_tcp_stream_ops = {
	.name = "tcp",
	.send = tcp_ops_send,
	.recv = tcp_ops_recv,
	.zc_recv = tcp_ops_zc_recv,
	.shutdown = tcp_ops_shutdown,
	.close = tcp_ops_close,
	.abort = tcp_ops_abort,
	.events = tcp_ops_events,
};

/* ---- per-worker setup ---------------------------------------------------------------------- */

int dp_sock_worker_init(struct dp_worker *w)
{
	struct sock_worker *sw;
	int rc;

	rc = tcp_engine_create(w);
	if (rc < 0)
		return rc;
	sw = calloc(1, sizeof(*sw));
	if (sw == NULL)
		goto nomem;
	sw->files = calloc(SOCK_FDS_INIT, sizeof(*sw->files));
	if (sw->files == NULL)
		goto nomem;
	sw->nfiles = SOCK_FDS_INIT;
	sw->w = w;
	w->sock = sw;
	return 0;
nomem:
	free(sw);
	tcp_engine_destroy(w);
	return -ENOMEM;
}

void dp_sock_worker_fini(struct dp_worker *w)
{
	struct sock_worker *sw = sock__worker(w);
	unsigned i;

	if (sw == NULL) {
		tcp_engine_destroy(w);
		return;
	}
	/* Epoll sets first so sockets need not unlink themselves one by one. */
	for (i = 0; i < sw->nfiles; i++)
		if (sw->files[i].kind == SOCK_KIND_EPOLL)
			sock__epoll_free(sw->files[i].ep);
	for (i = 0; i < sw->nfiles; i++)
		if (sw->files[i].kind == SOCK_KIND_TCP)
			free(sw->files[i].s); /* the engine frees the connections */
	free(sw->files);
	free(sw);
	w->sock = NULL;
	tcp_engine_destroy(w);
}

unsigned dp_conn_dump(struct dp_worker *w, struct dp_conn_view *out, unsigned max)
{
	return tcp_conn_dump(w, out, max);
}

int dp_conn_drop(struct dp_worker *w, uint64_t id)
{
	return tcp_conn_drop(w, id);
}

/* ---- descriptors ----------------------------------------------------------------------------- */

int sock__fd_alloc(struct sock_worker *sw, enum sock_kind kind, void *p)
{
	unsigned i;

	/* POSIX: the lowest free descriptor. */
	for (i = 0; i < sw->nfiles; i++)
		if (sw->files[i].kind == SOCK_KIND_FREE)
			break;
	if (i == sw->nfiles) {
		unsigned n = sw->nfiles * 2;
		struct sock_file *f;

		if (n > SOCK_FDS_MAX)
			return -EMFILE;
		f = realloc(sw->files, n * sizeof(*f));
		if (f == NULL)
			return -ENOMEM;
		memset(f + sw->nfiles, 0, (n - sw->nfiles) * sizeof(*f));
		sw->files = f;
		sw->nfiles = n;
	}
	sw->files[i].kind = kind;
	if (kind == SOCK_KIND_EPOLL)
		sw->files[i].ep = p;
	else
		sw->files[i].s = p;
	sw->used++;
	return (int)i;
}

void sock__fd_free(struct sock_worker *sw, int fd)
{
	sw->files[fd].kind = SOCK_KIND_FREE;
	sw->files[fd].s = NULL;
	sw->used--;
}

struct sock_file *sock__file(struct sock_worker *sw, int fd)
{
	if (fd < 0 || (unsigned)fd >= sw->nfiles || sw->files[fd].kind == SOCK_KIND_FREE)
		return NULL;
	return &sw->files[fd];
}

static int fail(int err)
{
	errno = err;
	return -1;
}

static struct sock_worker *self(void)
{
	struct dp_worker *w = dp_worker_self();

	return w != NULL ? sock__worker(w) : NULL;
}

/** The socket behind @p fd, or NULL with errno set (EPERM, EBADF, ENOTSOCK). */
static struct zsock *sock_get(int fd)
{
	struct sock_worker *sw = self();
	struct sock_file *f;

	if (sw == NULL) {
		errno = EPERM;
		return NULL;
	}
	f = sock__file(sw, fd);
	if (f == NULL) {
		errno = EBADF;
		return NULL;
	}
	if (f->kind != SOCK_KIND_TCP) {
		errno = ENOTSOCK;
		return NULL;
	}
	return f->s;
}

static ssize_t ret(ssize_t rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/* ---- sockets ---------------------------------------------------------------------------------- */

void sock__upcall(void *arg)
{
	struct zsock *s = arg;
	struct sock_epitem *it;

	/* POLL-5: every change may make a waiter ready; the wait re-evaluates the mask. */
	TAILQ_FOREACH(it, &s->watchers, sock_link) {
		if (it->on_ready || it->disarmed)
			continue;
		TAILQ_INSERT_TAIL(&it->ep->ready, it, ready_link);
		it->on_ready = true;
	}
}

/* One integer option the application did not set itself: set it to @p want unless it is so. */
static void default_int(struct zsock *s, uint32_t bit, int level, int name, int want)
{
	socklen_t l = sizeof(int);
	int cur;

	if (s->opts_set & bit)
		return;
	if (tcp_getsockopt(s->tc, level, name, &cur, &l) == 0 && cur == want)
		return;
	tcp_setsockopt(s->tc, level, name, &want, sizeof(want));
}

/*
 * The control plane's defaults (at zp_socket, zp_bind and zp_accept): every option the
 * application did not set itself (s->opts_set) takes the rule's value, or the engine's own
 * where the rule says "stack default" (0 / off), so the narrowest rule wins and an option a
 * socket only inherited from an older rule follows the current one. What the application set
 * is never touched.
 */
static void apply_defaults(struct zsock *s, const struct dp_sockopt_defaults *d)
{
	struct dp_sockopt_defaults b;

	tcp_sockopt_builtin(&b);
	if (!(s->opts_set & SOCK_OPT_LINGER)) {
		struct linger want = {.l_onoff = d->linger_on,
				      .l_linger = d->linger_on ? (int)d->linger_s : 0},
			      cur;
		socklen_t l = sizeof(cur);

		if (tcp_getsockopt(s->tc, SOL_SOCKET, SO_LINGER, &cur, &l) != 0 ||
		    cur.l_onoff != want.l_onoff || cur.l_linger != want.l_linger)
			tcp_setsockopt(s->tc, SOL_SOCKET, SO_LINGER, &want, sizeof(want));
	}
	default_int(s, SOCK_OPT_NODELAY, IPPROTO_TCP, TCP_NODELAY, d->nodelay);
	/* The keepalive timings before SO_KEEPALIVE, which arms the timer with them. */
	default_int(s, SOCK_OPT_KEEPIDLE, IPPROTO_TCP, TCP_KEEPIDLE,
		    (int)(d->keepidle_s ? d->keepidle_s : b.keepidle_s));
	default_int(s, SOCK_OPT_KEEPINTVL, IPPROTO_TCP, TCP_KEEPINTVL,
		    (int)(d->keepintvl_s ? d->keepintvl_s : b.keepintvl_s));
	default_int(s, SOCK_OPT_KEEPCNT, IPPROTO_TCP, TCP_KEEPCNT,
		    (int)(d->keepcnt ? d->keepcnt : b.keepcnt));
	default_int(s, SOCK_OPT_KEEPALIVE, SOL_SOCKET, SO_KEEPALIVE, d->keepalive);
	/* Not through setsockopt: a default SO_SNDBUF is the cap of send autotuning, one the
	 * application sets pins the limit (tcp_autotune.c). */
	if (!(s->opts_set & SOCK_OPT_SNDBUF))
		tcp_sndbuf_default(s->tc, d->sndbuf); /* 0: [stack] tcp_sndbuf */
	default_int(s, SOCK_OPT_RCVBUF, SOL_SOCKET, SO_RCVBUF,
		    (int)(d->rcvbuf ? d->rcvbuf : b.rcvbuf));
}

static struct zsock *zsock_new(struct sock_worker *sw, struct tcp_conn *tc, int *err)
{
	struct zsock *s = calloc(1, sizeof(*s));
	int fd;

	if (s == NULL) {
		*err = ENOMEM;
		return NULL;
	}
	s->w = sw->w;
	s->tc = tc;
	s->t = tc;
	s->ops = &sock_tcp_stream_ops;
	TAILQ_INIT(&s->watchers);
	fd = sock__fd_alloc(sw, SOCK_KIND_TCP, s);
	if (fd < 0) {
		free(s);
		*err = -fd;
		return NULL;
	}
	s->fd = fd;
	tcp_upcall_set(tc, sock__upcall, s);
	return s;
}

int zp_socket(int domain, int type, int protocol)
{
	struct sock_worker *sw = self();
	struct dp_sockopt_defaults d;
	struct tcp_conn *tc;
	struct zsock *s;
	int err;

	if (sw == NULL)
		return fail(EPERM);
	if (domain != AF_INET)
		return fail(EAFNOSUPPORT);
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM)
		return fail(ESOCKTNOSUPPORT);
	if (protocol != 0 && protocol != IPPROTO_TCP)
		return fail(EPROTONOSUPPORT);
	tc = tcp_conn_new(sw->w);
	if (tc == NULL)
		return fail(ENOMEM);
	s = zsock_new(sw, tc, &err);
	if (s == NULL) {
		tcp_close(tc);
		return fail(err);
	}
	dp_sockopt_defaults_get(sw->w, 0, &d);
	apply_defaults(s, &d);
	return s->fd;
}

static int sin_get(const struct sockaddr *addr, socklen_t len, const struct sockaddr_in **sin)
{
	if (addr == NULL || len < (socklen_t)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (addr->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	*sin = (const struct sockaddr_in *)(const void *)addr;
	return 0;
}

int zp_bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct zsock *s = sock_get(fd);
	const struct sockaddr_in *sin;
	struct dp_sockopt_defaults d;
	rte_be32_t a;
	rte_be16_t p;
	int rc;

	if (s == NULL)
		return -1;
	rc = sin_get(addr, len, &sin);
	if (rc < 0)
		return fail(-rc);
	rc = tcp_bind(s->tc, sin->sin_addr.s_addr, sin->sin_port);
	if (rc < 0)
		return fail(-rc);
	/* Per-port defaults of the control plane, where the app did not choose itself. */
	tcp_sockname(s->tc, &a, &p);
	dp_sockopt_defaults_get(s->w, p, &d);
	apply_defaults(s, &d);
	return 0;
}

int zp_listen(int fd, int backlog)
{
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	return (int)ret(tcp_listen(s->tc, backlog));
}

static void sin_put(struct sockaddr *addr, socklen_t *len, rte_be32_t a, rte_be16_t p)
{
	struct sockaddr_in sin;

	if (addr == NULL || len == NULL)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = a;
	sin.sin_port = p;
	memcpy(addr, &sin, *len < (socklen_t)sizeof(sin) ? (size_t)*len : sizeof(sin));
	*len = sizeof(sin);
}

int zp_accept(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct zsock *s = sock_get(fd), *ns;
	struct dp_sockopt_defaults d;
	struct sock_worker *sw;
	struct tcp_conn *child;
	rte_be32_t a;
	rte_be16_t p;
	int rc, err;

	if (s == NULL)
		return -1;
	sw = sock__worker(s->w);
	rc = tcp_accept(s->tc, &child);
	if (rc < 0)
		return fail(-rc);
	ns = zsock_new(sw, child, &err);
	if (ns == NULL) {
		tcp_abort(child);
		tcp_close(child);
		return fail(err);
	}
	/* An accepted socket is a new socket: the options the application set on the listener
	 * were inherited and stay; the others follow the rule for the port as it is now. */
	ns->opts_set = s->opts_set;
	tcp_sockname(child, &a, &p);
	dp_sockopt_defaults_get(s->w, p, &d);
	apply_defaults(ns, &d);
	if (tcp_peername(child, &a, &p) == 0)
		sin_put(addr, len, a, p);
	else if (len != NULL)
		sin_put(addr, len, 0, 0); /* D-6: reset before accept: hand it out anyway */
	return ns->fd;
}

int zp_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	struct zsock *s = sock_get(fd);
	const struct sockaddr_in *sin;
	int rc;

	if (s == NULL)
		return -1;
	rc = sin_get(addr, len, &sin);
	if (rc < 0)
		return fail(-rc);
	return (int)ret(tcp_connect(s->tc, sin->sin_addr.s_addr, sin->sin_port));
}

ssize_t zp_send(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (buf == NULL && len > 0)
		return fail(EFAULT);
	if (flags & MSG_OOB)
		return fail(EOPNOTSUPP);
	return ret(s->ops->send(s->t, &iov, 1, flags));
}

ssize_t zp_recv(int fd, void *buf, size_t len, int flags)
{
	struct iovec iov = {.iov_base = buf, .iov_len = len};
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (buf == NULL && len > 0)
		return fail(EFAULT);
	if (flags & MSG_OOB)
		return fail(EINVAL); /* no urgent data is ever held */
	return ret(s->ops->recv(s->t, &iov, 1, flags));
}

ssize_t zp_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (iovcnt < 0 || iovcnt > IOV_MAX || (iov == NULL && iovcnt > 0))
		return fail(EINVAL);
	return ret(s->ops->send(s->t, iov, iovcnt, 0));
}

ssize_t zp_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (iovcnt < 0 || iovcnt > IOV_MAX || (iov == NULL && iovcnt > 0))
		return fail(EINVAL);
	return ret(s->ops->recv(s->t, iov, iovcnt, 0));
}

int zp_shutdown(int fd, int how)
{
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	return (int)ret(s->ops->shutdown(s->t, how));
}

int zp_close(int fd)
{
	struct sock_worker *sw = self();
	struct sock_file *f;

	/* D-10 / PSX-4 / LNG-5: the only failure is EBADF; never blocks. */
	if (sw == NULL)
		return fail(EBADF);
	f = sock__file(sw, fd);
	if (f == NULL)
		return fail(EBADF);
	if (f->kind == SOCK_KIND_EPOLL) {
		sock__epoll_free(f->ep);
	} else {
		struct zsock *s = f->s;

		sock__epoll_sock_closed(s);
		tcp_upcall_set(s->tc, NULL, NULL);
		s->ops->close(s->t);
		free(s);
	}
	sock__fd_free(sw, fd);
	return 0;
}

int zp_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct zsock *s = sock_get(fd);
	rte_be32_t a;
	rte_be16_t p;

	if (s == NULL)
		return -1;
	if (addr == NULL || len == NULL)
		return fail(EFAULT);
	tcp_sockname(s->tc, &a, &p);
	sin_put(addr, len, a, p);
	return 0;
}

int zp_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct zsock *s = sock_get(fd);
	rte_be32_t a;
	rte_be16_t p;
	int rc;

	if (s == NULL)
		return -1;
	if (addr == NULL || len == NULL)
		return fail(EFAULT);
	rc = tcp_peername(s->tc, &a, &p);
	if (rc < 0)
		return fail(-rc);
	sin_put(addr, len, a, p);
	return 0;
}

static uint32_t opt_bit(int level, int name)
{
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_LINGER:
			return SOCK_OPT_LINGER;
		case SO_KEEPALIVE:
			return SOCK_OPT_KEEPALIVE;
		case SO_SNDBUF:
			return SOCK_OPT_SNDBUF;
		case SO_RCVBUF:
			return SOCK_OPT_RCVBUF;
		default:
			return 0;
		}
	}
	if (level == IPPROTO_TCP) {
		switch (name) {
		case TCP_NODELAY:
			return SOCK_OPT_NODELAY;
		case TCP_KEEPIDLE:
			return SOCK_OPT_KEEPIDLE;
		case TCP_KEEPINTVL:
			return SOCK_OPT_KEEPINTVL;
		case TCP_KEEPCNT:
			return SOCK_OPT_KEEPCNT;
		default:
			return 0;
		}
	}
	return 0;
}

int zp_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct zsock *s = sock_get(fd);
	int rc;

	if (s == NULL)
		return -1;
	rc = tcp_setsockopt(s->tc, level, name, val, len);
	if (rc < 0)
		return fail(-rc);
	s->opts_set |= opt_bit(level, name);
	return 0;
}

int zp_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	return (int)ret(tcp_getsockopt(s->tc, level, name, val, len));
}

int zp_zc_recv(int fd, struct zp_zc_view *views, int max)
{
	struct zsock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (views == NULL || max <= 0)
		return fail(EINVAL);
	return (int)ret(s->ops->zc_recv(s->t, views, max));
}

void zp_zc_release(struct zp_zc_view *views, int n)
{
	if (views != NULL && n > 0)
		tcp_zc_release(views, n);
}
