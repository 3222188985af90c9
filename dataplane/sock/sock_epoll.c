/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zp_epoll_*: per-worker event sets with Linux epoll semantics (epoll_ctl(2)): level- and
 * edge-triggered, EPOLLONESHOT, EPOLLERR/EPOLLHUP always reported (POLL-2), EPOLLRDHUP on
 * request. Like Linux, an item sits on the set's ready list after every wake-up of its socket
 * (sock__upcall, POLL-5); zp_epoll_wait() evaluates the socket's mask (table P), reports it,
 * keeps level-triggered items on the list and drops edge-triggered ones until the next
 * wake-up. zp_epoll_wait() is also where the worker polls the network.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sock_priv.h"
#include "zpath/zpath.h"

static int fail(int err)
{
	errno = err;
	return -1;
}

int zp_epoll_create(void)
{
	struct dp_worker *w = dp_worker_self();
	struct sock_worker *sw = w != NULL ? sock__worker(w) : NULL;
	struct sock_epoll *ep;
	int fd;

	if (sw == NULL)
		return fail(EPERM);
	ep = calloc(1, sizeof(*ep));
	if (ep == NULL)
		return fail(ENOMEM);
	TAILQ_INIT(&ep->items);
	TAILQ_INIT(&ep->ready);
	fd = sock__fd_alloc(sw, SOCK_KIND_EPOLL, ep);
	if (fd < 0) {
		free(ep);
		return fail(-fd);
	}
	ep->fd = fd;
	return fd;
}

static void item_free(struct sock_epitem *it)
{
	struct sock_epoll *ep = it->ep;

	if (it->on_ready)
		TAILQ_REMOVE(&ep->ready, it, ready_link);
	TAILQ_REMOVE(&ep->items, it, ep_link);
	TAILQ_REMOVE(&it->s->watchers, it, sock_link);
	free(it);
}

void sock__epoll_free(struct sock_epoll *ep)
{
	struct sock_epitem *it;

	while ((it = TAILQ_FIRST(&ep->items)) != NULL)
		item_free(it);
	free(ep);
}

void sock__epoll_sock_closed(struct zsock *s)
{
	struct sock_epitem *it;

	/* Closing the (only) descriptor removes it from every set (epoll(7)). */
	while ((it = TAILQ_FIRST(&s->watchers)) != NULL)
		item_free(it);
}

static void make_ready(struct sock_epitem *it)
{
	if (it->on_ready)
		return;
	TAILQ_INSERT_TAIL(&it->ep->ready, it, ready_link);
	it->on_ready = true;
}

int zp_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct dp_worker *w = dp_worker_self();
	struct sock_worker *sw = w != NULL ? sock__worker(w) : NULL;
	struct sock_file *ef, *sf;
	struct sock_epitem *it;
	struct zsock *s;

	if (sw == NULL)
		return fail(EPERM);
	ef = sock__file(sw, epfd);
	sf = sock__file(sw, fd);
	if (ef == NULL || sf == NULL)
		return fail(EBADF);
	if (ef->kind != SOCK_KIND_EPOLL || epfd == fd)
		return fail(EINVAL);
	if (sf->kind != SOCK_KIND_TCP)
		return fail(EPERM); /* Linux: the target does not support epoll (nested sets) */
	s = sf->s;
	TAILQ_FOREACH(it, &s->watchers, sock_link)
		if (it->ep == ef->ep)
			break;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (ev == NULL)
			return fail(EFAULT);
		if (it != NULL)
			return fail(EEXIST);
		it = calloc(1, sizeof(*it));
		if (it == NULL)
			return fail(ENOMEM);
		it->ep = ef->ep;
		it->s = s;
		it->fd = fd;
		it->events = ev->events;
		it->data = ev->data;
		TAILQ_INSERT_TAIL(&ef->ep->items, it, ep_link);
		TAILQ_INSERT_TAIL(&s->watchers, it, sock_link);
		make_ready(it); /* report the current state at the next wait */
		return 0;
	case EPOLL_CTL_MOD:
		if (ev == NULL)
			return fail(EFAULT);
		if (it == NULL)
			return fail(ENOENT);
		it->events = ev->events;
		it->data = ev->data;
		it->disarmed = false;
		make_ready(it);
		return 0;
	case EPOLL_CTL_DEL:
		if (it == NULL)
			return fail(ENOENT);
		item_free(it);
		return 0;
	default:
		return fail(EINVAL);
	}
}

/* Report what is ready now; Linux ep_send_events(). */
static int collect(struct sock_epoll *ep, struct epoll_event *events, int maxevents)
{
	struct sock_epitem *it;
	int n = 0;
	unsigned todo = 0, i;

	TAILQ_FOREACH(it, &ep->ready, ready_link)
		todo++;
	for (i = 0; i < todo && n < maxevents; i++) {
		uint32_t want, mask;

		it = TAILQ_FIRST(&ep->ready);
		TAILQ_REMOVE(&ep->ready, it, ready_link);
		it->on_ready = false;
		if (it->disarmed)
			continue;
		/* POLL-2: ERR and HUP whether requested or not; RDHUP only on request. */
		want = (it->events & (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI)) | EPOLLERR |
		       EPOLLHUP;
		mask = it->s->ops->events(it->s->t) & want;
		if (mask == 0)
			continue;
		events[n].events = mask;
		events[n].data = it->data;
		n++;
		if (it->events & EPOLLONESHOT)
			it->disarmed = true;
		else if (!(it->events & EPOLLET))
			make_ready(it); /* level-triggered: look again next time */
	}
	return n;
}

int zp_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms)
{
	struct dp_worker *w = dp_worker_self();
	struct sock_worker *sw = w != NULL ? sock__worker(w) : NULL;
	struct sock_file *ef;
	uint64_t deadline;
	int n;

	if (sw == NULL)
		return fail(EPERM);
	ef = sock__file(sw, epfd);
	if (ef == NULL)
		return fail(EBADF);
	if (ef->kind != SOCK_KIND_EPOLL || maxevents <= 0 || events == NULL)
		return fail(EINVAL);
	deadline = timeout_ms < 0 ? UINT64_MAX : w->now_ns + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		dp_worker_poll(w);
		n = collect(ef->ep, events, maxevents);
		if (n > 0 || timeout_ms == 0 || !zp_running())
			return n;
		if (w->virt_clock)
			w->now_ns += DP_TIMER_TICK_NS; /* tests: virtual time passes while we wait */
		if (w->now_ns >= deadline)
			return 0;
	}
}
