/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Work the control plane asks of workers, by dp_worker_post() only: connection dumps, drops,
 * and (debug) synthetic connection events. The message functions here run ON the worker; the
 * rest runs on the control thread or the telemetry thread.
 *
 * A job is shared between threads by reference count (one reference for the side that waits,
 * one per posted message); the worker writes its part, marks it done with a release store,
 * and the last part to finish rings the control thread's wake eventfd when the job asks for
 * it. Nothing is ever waited for on a worker.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl_priv.h"
#include "zpath/zpath_socket.h"

/* Set by ctl_thread.c; written (eventfd) by the worker that completes a notifying job. */
int ctl_wake_fd = -1;

void ctl_wake(void)
{
	uint64_t one = 1;
	int fd = __atomic_load_n(&ctl_wake_fd, __ATOMIC_ACQUIRE);

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the control thread is woken anyway. */
	}
}

struct ctl_job *ctl_job_new(enum ctl_job_kind kind, uint16_t nb_parts, bool notify)
{
	struct ctl_job *job = calloc(1, sizeof(*job) + nb_parts * sizeof(job->part[0]));

	if (job == NULL)
		return NULL;
	job->refs = 1;
	job->kind = kind;
	job->notify = notify;
	job->nb_parts = nb_parts;
	job->deadline_ns = ctl_mono_ns() + CTL_JOB_TIMEOUT_NS;
	return job;
}

void ctl_job_put(struct ctl_job *job)
{
	uint16_t i;

	if (__atomic_sub_fetch(&job->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (i = 0; i < job->nb_parts; i++)
		free(job->part[i].views);
	free(job);
}

/* The worker's answer is complete: publish it, and wake the waiter if it was the last. */
static void job_part_done(struct ctl_job *job, struct ctl_job_part *part)
{
	bool notify = job->notify; /* read before our reference may be the last */

	__atomic_store_n(&part->done, 1, __ATOMIC_RELEASE);
	if (__atomic_sub_fetch(&job->pending, 1, __ATOMIC_ACQ_REL) == 0 && notify)
		ctl_wake();
	ctl_job_put(job);
}

/* On the worker: dump its connections into a buffer that grows until everything fits. */
static void job_dump_msg(struct dp_worker *w, void *arg)
{
	struct ctl_job *job = arg;
	struct ctl_job_part *part = &job->part[w->id];
	unsigned cap = 256, n;

	for (;;) {
		struct dp_conn_view *v = realloc(part->views, cap * sizeof(*v));

		if (v == NULL) {
			part->rc = -ENOMEM;
			part->truncated = true;
			break;
		}
		part->views = v;
		n = dp_conn_dump(w, v, cap);
		part->n = n;
		if (n < cap)
			break;
		if (cap >= CTL_DUMP_MAX) {
			part->truncated = true;
			break;
		}
		cap *= 2;
	}
	job_part_done(job, part);
}

/* On the worker that owns job->conn_id. */
static void job_drop_msg(struct dp_worker *w, void *arg)
{
	struct ctl_job *job = arg;

	job->part[0].rc = dp_conn_drop(w, job->conn_id);
	job_part_done(job, &job->part[0]);
}

void ctl_job_post_dump(struct ctl_job *job, const struct dp_stack *stack)
{
	uint16_t i;

	job->pending = job->nb_parts;
	for (i = 0; i < job->nb_parts; i++) {
		__atomic_add_fetch(&job->refs, 1, __ATOMIC_RELAXED);
		if (i < stack->nb_workers && stack->workers[i] != NULL &&
		    dp_worker_post(stack->workers[i], job_dump_msg, job) == 0)
			continue;
		job->part[i].rc = -ENOBUFS;
		job_part_done(job, &job->part[i]);
	}
}

int ctl_job_post_drop(struct ctl_job *job, const struct dp_stack *stack, uint16_t wid)
{
	job->pending = 1;
	__atomic_add_fetch(&job->refs, 1, __ATOMIC_RELAXED);
	if (wid < stack->nb_workers && dp_worker_post(stack->workers[wid], job_drop_msg, job) == 0)
		return 0;
	job->part[0].rc = -ENOBUFS;
	job_part_done(job, &job->part[0]);
	return -ENOBUFS;
}

/* ---- synthetic connection events (debug-conn-events) ------------------------------------- */

/*
 * Emitted through dp_conn_event_emit() on the worker, so they take the same path as real
 * events: the registered hook, the MP/SC ring, the control thread, the subscribers. They are
 * recognisable: transport "synth", addresses from TEST-NET-1/2 (192.0.2.1 <- 198.51.100.x),
 * id bit 47 set. Emitted in slices so the worker keeps polling between them.
 */
#define CTL_SYNTH_SLICE	 512
#define CTL_SYNTH_ID_BIT (1ULL << 47)

struct synth {
	uint32_t left;
	uint64_t seq;
};

static void synth_msg(struct dp_worker *w, void *arg)
{
	struct synth *s = arg;
	struct dp_conn_event ev;
	unsigned i;

	for (i = 0; i < CTL_SYNTH_SLICE && s->left > 0; i++, s->left--) {
		uint64_t n = s->seq++;

		memset(&ev, 0, sizeof(ev));
		ev.type = (n & 1) == 0 ? DP_CONN_OPEN : DP_CONN_CLOSE;
		ev.view.id = ((uint64_t)w->id << 48) | CTL_SYNTH_ID_BIT | (n >> 1);
		ev.view.worker = w->id;
		ev.view.state = ev.type == DP_CONN_OPEN ? ZP_TCP_ESTABLISHED : ZP_TCP_CLOSED;
		/* 192.0.2.1 <- 198.51.100.x (RTE_IPV4 overflows int for these) */
		ev.view.laddr = rte_cpu_to_be_32(0xc0000201u);
		ev.view.raddr = rte_cpu_to_be_32(0xc6336400u | (uint32_t)((n >> 1) % 254 + 1));
		ev.view.lport = rte_cpu_to_be_16(7);
		ev.view.rport = rte_cpu_to_be_16((uint16_t)(49152 + (n >> 1) % 16384));
		memcpy(ev.view.transport, "synth", 5);
		memcpy(ev.view.tls, "-", 1);
		if (ev.type == DP_CONN_CLOSE) {
			ev.bytes_in = 100 + (n >> 1);
			ev.bytes_out = 200 + (n >> 1);
			ev.duration_ns = 1000000;
			ev.how = DP_CLOSE_NORMAL;
		}
		dp_conn_event_emit(w, &ev);
	}
	if (s->left == 0 || dp_worker_post(w, synth_msg, s) != 0)
		free(s);
}

int ctl_synth_post(const struct dp_stack *stack, int worker, uint32_t count)
{
	uint16_t i;
	int posted = 0;

	for (i = 0; i < stack->nb_workers; i++) {
		struct synth *s;

		if (worker >= 0 && i != worker)
			continue;
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -ENOMEM;
		s->left = count;
		if (dp_worker_post(stack->workers[i], synth_msg, s) != 0) {
			free(s);
			return -ENOBUFS;
		}
		posted++;
	}
	return posted > 0 ? posted : -ENOENT;
}
