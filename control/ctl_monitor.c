/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The monitoring stream (NMI-shaped, include/zpath/zpath_nmi.h) on
 * /run/zpath/<instance>.nmi.sock. Control thread only.
 *
 * Every subscriber has a non-blocking socket and a bounded queue; a record is encoded once
 * and copied into each queue. A subscriber whose queue is full is cut off with TERM
 * EWOULDBLOCK (the queue keeps room for that TERM), so a slow reader never stalls the control
 * thread and never costs another subscriber a record. TERM is followed by close once it is
 * written, or after ZP_NMI_TERM_GRACE_MS if the subscriber does not read it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctl_priv.h"
#include "zpath/zpath.h"

#define CTL_SUBS_MAX 32

struct ctl_sub {
	struct ctl_ep ep; /* first: epoll data points here */
	struct ctl_sub *next;
	uint32_t flags; /**< ZP_NMI_REQ_* in effect */
	struct ctl_nmi_rx rx;
	bool rd_closed;	      /**< subscriber shut down its writing side */
	struct ctl_outq out;  /**< records for the socket */
	struct ctl_outq held; /**< events arriving while a LIST is being collected */
	struct ctl_job *list_job;
	bool terminating;
	uint32_t termcode;
	uint64_t deadline_ns;
	uint32_t epoll_mask;
};

static struct ctl_sub *subs;
static unsigned nb_subs;
static bool fail_next_alloc;

unsigned ctl_mon_count(void)
{
	return nb_subs;
}

unsigned ctl_mon_event_subscribers(void)
{
	const struct ctl_sub *s;
	unsigned n = 0;

	for (s = subs; s != NULL; s = s->next)
		n += !s->terminating && (s->flags & ZP_NMI_REQ_EVENTS) != 0;
	return n;
}

void ctl_mon_fail_next_alloc(void)
{
	fail_next_alloc = true;
}

static void sub_epoll(struct ctl_sub *s, uint32_t mask)
{
	if (mask != s->epoll_mask && ctl_ep_mod(&s->ep, mask) == 0)
		s->epoll_mask = mask;
}

static uint32_t sub_base_mask(const struct ctl_sub *s)
{
	return s->terminating || s->rd_closed ? 0 : EPOLLIN;
}

/* Read and discard what the subscriber sent, so closing does not turn our EOF into
 * ECONNRESET on its side (AF_UNIX resets the peer when unread data is left behind). */
static void sub_drain_input(int fd)
{
	char buf[4096];
	int i;

	for (i = 0; i < 64; i++)
		if (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) <= 0)
			break;
}

static void sub_close(struct ctl_sub *s, bool term_delivered)
{
	struct ctl_sub **pp;

	for (pp = &subs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	nb_subs--;
	if (s->terminating && !term_delivered)
		ctl_counters()->nmi_term_lost++;
	if (s->list_job != NULL)
		s->list_job->sub = NULL; /* the job finishes without us */
	sub_drain_input(s->ep.fd);
	ctl_ep_del(&s->ep);
	close(s->ep.fd);
	ctl_outq_fini(&s->out);
	ctl_outq_fini(&s->held);
	free(s);
	ctl_events_enable(ctl_mon_event_subscribers() > 0);
}

static size_t term_encode(uint32_t code, uint8_t *buf, size_t len)
{
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_TERM};
	ssize_t n;

	rec.u.term.termcode = code;
	rec.u.term.time_ns = ctl_real_ns();
	n = zp_nmi_encode(&rec, buf, len);
	return n > 0 ? (size_t)n : 0;
}

/* For a subscriber refused before it has a queue: one non-blocking attempt, then close. */
static void term_direct(int fd, enum zp_nmi_termcode code)
{
	uint8_t buf[sizeof(struct zp_nmi_wire_term)];
	size_t n = term_encode(code, buf, sizeof(buf));
	bool sent;

	ctl_counters()->nmi_term[ctl_nmi_term_index(code)]++;
	sent = send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n;
	if (!sent)
		ctl_counters()->nmi_term_lost++;
	sub_drain_input(fd);
	close(fd);
}

/* Push what is queued; close the subscriber when TERM went out or the peer is gone. */
static void sub_flush(struct ctl_sub *s)
{
	int rc = ctl_outq_flush(&s->out, s->ep.fd);

	switch (rc) {
	case 0:
		if (s->terminating) {
			sub_close(s, true);
			return;
		}
		sub_epoll(s, sub_base_mask(s));
		return;
	case -EAGAIN:
		sub_epoll(s, sub_base_mask(s) | EPOLLOUT);
		return;
	default: /* EPIPE, ECONNRESET: the subscriber went away */
		sub_close(s, false);
		return;
	}
}

/* End the subscription with TERM @p code: queue it (room is reserved), flush, close. */
static void sub_terminate(struct ctl_sub *s, enum zp_nmi_termcode code)
{
	uint8_t buf[sizeof(struct zp_nmi_wire_term)];
	size_t n;

	if (s->terminating)
		return;
	s->terminating = true;
	s->termcode = code;
	s->deadline_ns = ctl_mono_ns() + ZP_NMI_TERM_GRACE_MS * 1000000ULL;
	ctl_counters()->nmi_term[ctl_nmi_term_index(code)]++;
	ctl_outq_fini(&s->held);
	n = term_encode(code, buf, sizeof(buf));
	if (ctl_outq_push(&s->out, buf, n, true) < 0) {
		/* No queue memory at all (ENOMEM before the first record): try directly. */
		if (ctl_outq_pending(&s->out) == 0 &&
		    send(s->ep.fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)n) {
			sub_close(s, true);
			return;
		}
		sub_close(s, false);
		return;
	}
	ctl_events_enable(ctl_mon_event_subscribers() > 0);
	sub_flush(s);
}

/* Queue an encoded record for @p s; a full queue cuts the subscriber off (EWOULDBLOCK). */
static int sub_push(struct ctl_sub *s, struct ctl_outq *q, const void *rec, size_t len)
{
	int rc = ctl_outq_push(q, rec, len, false);

	switch (rc) {
	case 0:
		ctl_counters()->nmi_records++;
		return 0;
	case -ENOSPC:
		sub_terminate(s, ZP_NMI_TERM_EWOULDBLOCK);
		return rc;
	default:
		sub_terminate(s, ZP_NMI_TERM_ENOMEM);
		return rc;
	}
}

static int sub_push_rec(struct ctl_sub *s, const struct zp_nmi_record *rec)
{
	uint8_t buf[ZP_NMI_MAX_LEN];
	ssize_t n = zp_nmi_encode(rec, buf, sizeof(buf));

	if (n < 0)
		return -errno;
	return sub_push(s, &s->out, buf, (size_t)n);
}

int ctl_mon_accept(int lfd)
{
	const struct ctl_state_view *st = ctl_state();
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_INIT};
	struct ctl_sub *s;
	int fd, rc;

	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	ctl_counters()->nmi_subscribers_total++;
	rc = ctl_peer_check(fd);
	if (rc < 0) {
		term_direct(fd, ZP_NMI_TERM_EACCES);
		return 0;
	}
	s = nb_subs < CTL_SUBS_MAX ? calloc(1, sizeof(*s)) : NULL;
	if (s == NULL) {
		term_direct(fd, ZP_NMI_TERM_ENOMEM);
		return 0;
	}
	s->ep.kind = CTL_EP_SUB;
	s->ep.fd = fd;
	s->flags = ZP_NMI_REQ_EVENTS;
	ctl_nmi_rx_init(&s->rx);
	ctl_outq_init(&s->out, ZP_NMI_QUEUE_DEFAULT, sizeof(struct zp_nmi_wire_term));
	ctl_outq_init(&s->held, ZP_NMI_QUEUE_DEFAULT, 0);
	s->out.fail_alloc = fail_next_alloc;
	fail_next_alloc = false;
	if (ctl_ep_add(&s->ep, EPOLLIN) < 0) {
		term_direct(fd, ZP_NMI_TERM_ENOMEM);
		free(s);
		return 0;
	}
	s->epoll_mask = EPOLLIN;
	s->next = subs;
	subs = s;
	nb_subs++;

	snprintf(rec.u.init.instance, sizeof(rec.u.init.instance), "%s", st->instance);
	snprintf(rec.u.init.stack_version, sizeof(rec.u.init.stack_version), "%s", ZPATH_VERSION);
	rec.u.init.start_ns = st->start_realtime_ns;
	rec.u.init.now_ns = ctl_real_ns();
	rec.u.init.pid = (uint32_t)getpid();
	rec.u.init.nb_workers = st->stack != NULL ? st->stack->nb_workers : 0;
	rec.u.init.flags = s->flags;
	rec.u.init.queue_bytes = (uint32_t)s->out.max;
	if (sub_push_rec(s, &rec) < 0)
		return 0; /* terminated (ENOMEM) */
	ctl_events_enable(ctl_mon_event_subscribers() > 0);
	sub_flush(s);
	return 0;
}

/* A REQUEST arrived: apply it. */
static void sub_request(struct ctl_sub *s, const struct zp_nmi_request *req)
{
	const struct ctl_state_view *st = ctl_state();
	size_t bytes = ctl_nmi_queue_bytes(req->queue_kib);

	s->flags = req->flags;
	if (bytes < ctl_outq_pending(&s->out) + s->out.reserve)
		bytes = ctl_outq_pending(&s->out) + s->out.reserve;
	s->out.max = bytes;
	s->held.max = bytes;
	ctl_events_enable(ctl_mon_event_subscribers() > 0);
	if (!(req->flags & ZP_NMI_REQ_LIST) || st->stack == NULL || s->list_job != NULL)
		return;
	s->list_job = ctl_job_new(CTL_JOB_DUMP, st->stack->nb_workers, true);
	if (s->list_job == NULL) {
		sub_terminate(s, ZP_NMI_TERM_ENOMEM);
		return;
	}
	s->list_job->sub = s;
	ctl_job_post_dump(s->list_job, st->stack);
	ctl_job_track(s->list_job);
}

static void sub_readable(struct ctl_sub *s)
{
	char buf[512];
	struct zp_nmi_request req;
	ssize_t n;
	int rc;

	for (;;) {
		n = recv(s->ep.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				sub_close(s, false);
			return;
		}
		if (n == 0) {
			s->rd_closed = true; /* may still read: keep streaming */
			sub_epoll(s, sub_base_mask(s) | (s->epoll_mask & EPOLLOUT));
			return;
		}
		rc = ctl_nmi_rx_feed(&s->rx, buf, (size_t)n, &req);
		switch (rc) {
		case 0:
			break;
		case 1:
			sub_request(s, &req);
			if (s->terminating)
				return;
			break;
		case -EINVAL:
			sub_terminate(s, ZP_NMI_TERM_EINVAL);
			return;
		default:
			sub_terminate(s, ZP_NMI_TERM_EPIPE);
			return;
		}
	}
}

void ctl_mon_event(struct ctl_sub *s, uint32_t events)
{
	if (events & EPOLLERR) {
		sub_close(s, false);
		return;
	}
	if ((events & EPOLLIN) && !s->terminating && !s->rd_closed) {
		sub_readable(s);
		return; /* s may be gone */
	}
	if (events & EPOLLOUT) {
		sub_flush(s);
		return;
	}
	if (events & EPOLLHUP)
		sub_close(s, false);
}

void ctl_mon_broadcast(const void *rec, size_t len)
{
	struct ctl_sub *s, *next;

	for (s = subs; s != NULL; s = next) {
		next = s->next; /* s may be closed below */
		if (s->terminating || !(s->flags & ZP_NMI_REQ_EVENTS))
			continue;
		sub_push(s, s->list_job != NULL ? &s->held : &s->out, rec, len);
	}
}

void ctl_mon_flush_all(void)
{
	struct ctl_sub *s, *next;

	for (s = subs; s != NULL; s = next) {
		next = s->next;
		if (ctl_outq_pending(&s->out) > 0 && !(s->epoll_mask & EPOLLOUT))
			sub_flush(s);
	}
}

void ctl_mon_list_done(struct ctl_job *job)
{
	struct ctl_sub *s = job->sub;
	struct zp_nmi_record rec;
	uint64_t now = ctl_real_ns();
	uint32_t count = 0, flags = 0;
	uint16_t i;
	unsigned j;

	if (s == NULL)
		return;
	s->list_job = NULL;
	job->sub = NULL;
	if (s->terminating)
		return;
	for (i = 0; i < job->nb_parts; i++) {
		const struct ctl_job_part *p = &job->part[i];

		if (!__atomic_load_n(&p->done, __ATOMIC_ACQUIRE) || p->rc < 0 || p->truncated) {
			flags |= ZP_NMI_LIST_INCOMPLETE;
			if (!__atomic_load_n(&p->done, __ATOMIC_ACQUIRE))
				continue;
		}
		for (j = 0; j < p->n; j++) {
			ctl_nmi_from_view(&p->views[j], now, &rec);
			if (sub_push_rec(s, &rec) < 0)
				return;
			count++;
		}
	}
	memset(&rec, 0, sizeof(rec));
	rec.id = ZP_NMI_ID_LIST_END;
	rec.u.list_end.count = count;
	rec.u.list_end.flags = flags;
	rec.u.list_end.time_ns = now;
	if (sub_push_rec(s, &rec) < 0)
		return;
	/* Then the events that arrived while the list was collected. */
	if (ctl_outq_pending(&s->held) > 0) {
		if (sub_push(s, &s->out, s->held.buf + s->held.head, ctl_outq_pending(&s->held)) <
		    0)
			return;
		ctl_counters()->nmi_records--; /* counted when held */
	}
	ctl_outq_fini(&s->held);
	ctl_outq_init(&s->held, s->out.max, 0);
	sub_flush(s);
}

int ctl_mon_timers(uint64_t now_ns)
{
	struct ctl_sub *s, *next;
	uint64_t soonest = UINT64_MAX;

	for (s = subs; s != NULL; s = next) {
		next = s->next;
		if (!s->terminating)
			continue;
		if (now_ns >= s->deadline_ns) {
			sub_close(s, false);
			continue;
		}
		if (s->deadline_ns < soonest)
			soonest = s->deadline_ns;
	}
	if (soonest == UINT64_MAX)
		return -1;
	return (int)((soonest - now_ns) / 1000000 + 1);
}

void ctl_mon_stop_all(void)
{
	struct ctl_sub *s, *next;

	for (s = subs; s != NULL; s = next) {
		next = s->next;
		sub_terminate(s, ZP_NMI_TERM_PLANNED);
	}
}
