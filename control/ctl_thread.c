/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control-plane thread: an rte_ctrl_thread (not an lcore) sleeping in epoll_wait on its
 * own descriptors: the control socket (JSON lines), the monitoring socket (ctl_monitor.c), a
 * wake eventfd, and the accepted clients. It never touches a connection: it reads worker
 * counters without locks, posts messages to workers (ctl_job.c) and publishes immutable
 * snapshots (ctl_sockopt.c). Workers hand it connection events through an MP/SC ring.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "ctl.h"
#include "ctl_priv.h"
#include "tcp/tcp.h"
#include "zpath/zpath.h"

#define CTL_EV_RING_SIZE   8192
#define CTL_EV_BURST	   64
#define CTL_EV_BUDGET	   4096 /* events handled per loop pass before looking at sockets */
#define CTL_CLIENTS_MAX	   64
#define CTL_CLIENT_OUT_MAX (512u * 1024 * 1024)
#define CTL_EPOLL_EVENTS   32

_Static_assert(sizeof(struct dp_conn_event) % 4 == 0, "rte_ring element size");

struct ctl_client {
	struct ctl_ep ep; /* first: epoll data points here */
	struct ctl_client *next;
	char *in;
	size_t in_len, in_cap;
	struct ctl_outq out;
	struct ctl_job *job; /**< waiting for workers; later lines wait too */
	bool closing;	     /**< close once the output is flushed */
	uint32_t epoll_mask;
};

static struct {
	struct dp_stack *stack;
	char instance[CTL_INSTANCE_MAX + 1];
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char nmi_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct ctl_state_view view;
	bool running;
	uint32_t stop; /* atomic: ctl_stop() asks the thread to finish */
	pthread_t tid;
	int epfd;
	struct ctl_ep listen, nmi_listen, wake;
	struct ctl_client *clients;
	unsigned nb_clients;
	struct ctl_job *jobs; /* jobs the control thread waits for */
	uint64_t lost_seen;
	struct ctl_counters cnt;
} ctl = {.epfd = -1};

/* Shared with the workers. Created once per process and kept: a worker may still be
 * emitting while ctl_stop() runs, so the ring and the flags outlive a stop. */
static struct rte_ring *ev_ring;
static uint32_t ev_on;	  /* atomic: enqueue events at all (some subscriber wants them) */
static uint32_t ev_armed; /* atomic: the next enqueue rings the wake eventfd */
static struct ctl_wstat wstats[DP_MAX_WORKERS];

/* ---- small services ---------------------------------------------------------------------- */

uint64_t ctl_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t ctl_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const struct ctl_state_view *ctl_state(void)
{
	return &ctl.view;
}

struct ctl_counters *ctl_counters(void)
{
	return &ctl.cnt;
}

const struct ctl_wstat *ctl_wstats(void)
{
	return wstats;
}

int ctl_ep_add(struct ctl_ep *ep, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = ep};

	return epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ep->fd, &ev) < 0 ? -errno : 0;
}

int ctl_ep_mod(struct ctl_ep *ep, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = ep};

	return epoll_ctl(ctl.epfd, EPOLL_CTL_MOD, ep->fd, &ev) < 0 ? -errno : 0;
}

void ctl_ep_del(struct ctl_ep *ep)
{
	epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, ep->fd, NULL);
}

void ctl_job_track(struct ctl_job *job)
{
	job->next = ctl.jobs;
	ctl.jobs = job;
}

void ctl_events_enable(bool on)
{
	__atomic_store_n(&ev_on, on ? 1u : 0u, __ATOMIC_RELEASE);
}

int ctl_peer_check(int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0)
		return -errno;
	if (cr.uid == 0 || cr.uid == geteuid() || cr.gid == getegid())
		return 0;
	return -EACCES;
}

/* ---- connection events from the workers -------------------------------------------------- */

/* dp_conn_event_fn, on a worker: enqueue only, never block. */
static void ctl_conn_event_sink(struct dp_worker *w, const struct dp_conn_event *ev)
{
	struct ctl_wstat *ws;

	if (!__atomic_load_n(&ev_on, __ATOMIC_RELAXED))
		return;
	ws = &wstats[w != NULL && w->id < DP_MAX_WORKERS ? w->id : 0];
	if (rte_ring_mp_enqueue_elem(ev_ring, (void *)(uintptr_t)ev, sizeof(*ev)) != 0) {
		ws->events_lost++;
		return;
	}
	ws->events++;
	/* Pairs with the fence in drain_events(): either we see armed or it sees our event. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_exchange_n(&ev_armed, 0, __ATOMIC_SEQ_CST) != 0)
		ctl_wake();
}

static uint64_t events_lost_total(void)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < DP_MAX_WORKERS; i++)
		t += __atomic_load_n(&wstats[i].events_lost, __ATOMIC_RELAXED);
	return t;
}

/* Drain the event ring into the subscribers' queues. Returns true if events are left. */
static bool drain_events(void)
{
	struct dp_conn_event evs[CTL_EV_BURST];
	struct zp_nmi_record rec;
	uint8_t buf[ZP_NMI_MAX_LEN];
	unsigned n, i, done = 0;
	uint64_t lost, now;
	ssize_t len;
	bool more = false;

	__atomic_store_n(&ev_armed, 1, __ATOMIC_SEQ_CST);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	while ((n = rte_ring_sc_dequeue_burst_elem(ev_ring, evs, sizeof(evs[0]), CTL_EV_BURST,
						   NULL)) > 0) {
		now = ctl_real_ns();
		for (i = 0; i < n; i++) {
			ctl_nmi_from_event(&evs[i], now, &rec);
			len = zp_nmi_encode(&rec, buf, sizeof(buf));
			if (len > 0)
				ctl_mon_broadcast(buf, (size_t)len);
		}
		done += n;
		if (done >= CTL_EV_BUDGET) {
			more = rte_ring_count(ev_ring) > 0;
			break;
		}
	}
	lost = events_lost_total();
	if (lost > ctl.lost_seen) {
		memset(&rec, 0, sizeof(rec));
		rec.id = ZP_NMI_ID_LOST;
		rec.u.lost.count = lost - ctl.lost_seen;
		rec.u.lost.total = lost;
		rec.u.lost.time_ns = ctl_real_ns();
		ctl.lost_seen = lost;
		len = zp_nmi_encode(&rec, buf, sizeof(buf));
		if (len > 0)
			ctl_mon_broadcast(buf, (size_t)len);
	}
	ctl_mon_flush_all();
	return more;
}

/* ---- replies ----------------------------------------------------------------------------- */

static void client_close(struct ctl_client *c)
{
	struct ctl_client **pp;

	for (pp = &ctl.clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ctl.nb_clients--;
	if (c->job != NULL)
		c->job->client = NULL;
	ctl_ep_del(&c->ep);
	close(c->ep.fd);
	ctl_outq_fini(&c->out);
	free(c->in);
	free(c);
}

static void client_epoll(struct ctl_client *c)
{
	uint32_t mask = 0;

	if (!c->closing && c->job == NULL)
		mask |= EPOLLIN;
	if (ctl_outq_pending(&c->out) > 0)
		mask |= EPOLLOUT;
	if (mask != c->epoll_mask && ctl_ep_mod(&c->ep, mask) == 0)
		c->epoll_mask = mask;
}

/* Flush; returns false if the client was closed. */
static bool client_flush(struct ctl_client *c)
{
	int rc = ctl_outq_flush(&c->out, c->ep.fd);

	if (rc < 0 && rc != -EAGAIN) {
		client_close(c);
		return false;
	}
	if (rc == 0 && c->closing && c->job == NULL) {
		client_close(c);
		return false;
	}
	client_epoll(c);
	return true;
}

/* Queue @p o (consumed) as one line. */
static void client_reply(struct ctl_client *c, struct json_object *o)
{
	const char *s;
	size_t len;

	if (o == NULL) {
		o = ctl_reply_err("?", ENOMEM, "out of memory building the reply");
		if (o == NULL) {
			c->closing = true;
			return;
		}
	}
	if (json_object_is_type(o, json_type_object)) {
		struct json_object *ok;

		if (json_object_object_get_ex(o, "ok", &ok) && !json_object_get_boolean(ok))
			ctl.cnt.request_errors++;
	}
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(s);
	if (ctl_outq_push(&c->out, s, len, false) < 0 || ctl_outq_push(&c->out, "\n", 1, false) < 0)
		c->closing = true;
	json_object_put(o);
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_uint64(v));
}

/* ---- commands ---------------------------------------------------------------------------- */

static struct json_object *cmd_status(void)
{
	struct json_object *o = ctl_reply_ok("status"), *ws, *ps, *c;
	const struct dp_stack *s = ctl.stack;
	uint64_t up = (ctl_mono_ns() - ctl.view.start_mono_ns) / 1000000000ULL;
	char buf[64], ip[INET_ADDRSTRLEN];
	uint16_t i;

	if (o == NULL)
		return NULL;
	add_str(o, "instance", ctl.instance);
	add_str(o, "version", ZPATH_VERSION);
	add_u64(o, "pid", (uint64_t)getpid());
	add_u64(o, "uptime_s", up);
	add_u64(o, "start_time_ns", ctl.view.start_realtime_ns);
	ws = json_object_new_array();
	for (i = 0; i < s->nb_workers; i++) {
		const struct dp_worker *w = s->workers[i];
		struct json_object *wj = json_object_new_object();

		json_object_object_add(wj, "id", json_object_new_int(i));
		json_object_object_add(wj, "lcore", json_object_new_int((int)w->lcore));
		json_object_object_add(wj, "rx_queues", json_object_new_int(w->nb_rxq));
		add_u64(wj, "loops", __atomic_load_n(&w->loops, __ATOMIC_RELAXED));
		json_object_array_add(ws, wj);
	}
	json_object_object_add(o, "workers", ws);
	ps = json_object_new_array();
	for (i = 0; i < s->nb_ifaces; i++) {
		const struct dp_iface *ifc = &s->ifaces[i];
		struct json_object *pj = json_object_new_object(), *lj = json_object_new_object();
		struct rte_eth_link link;
		int rc;

		json_object_object_add(pj, "index", json_object_new_int(i));
		json_object_object_add(pj, "port_id", json_object_new_int(ifc->port_id));
		add_str(pj, "name", ifc->name);
		rte_ether_format_addr(buf, sizeof(buf), &ifc->mac);
		add_str(pj, "mac", buf);
		snprintf(buf, sizeof(buf), "%s/%u", ctl_ip_str(ifc->addr, ip, sizeof(ip)),
			 ifc->prefix_len);
		add_str(pj, "addr", buf);
		json_object_object_add(pj, "mtu", json_object_new_int(ifc->mtu));
		json_object_object_add(pj, "queues", json_object_new_int(ifc->nb_queues));
		json_object_object_add(pj, "rss", json_object_new_boolean(ifc->rss));
		memset(&link, 0, sizeof(link));
		rc = rte_eth_link_get_nowait(ifc->port_id, &link);
		if (rc < 0) {
			add_str(lj, "error", ctl_errno_name(-rc));
		} else {
			json_object_object_add(lj, "up", json_object_new_boolean(link.link_status));
			add_u64(lj, "speed_mbps",
				link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed);
			add_str(lj, "duplex", link.link_duplex ? "full" : "half");
			json_object_object_add(lj, "autoneg",
					       json_object_new_boolean(link.link_autoneg));
		}
		json_object_object_add(pj, "link", lj);
		json_object_array_add(ps, pj);
	}
	json_object_object_add(o, "ports", ps);
	c = json_object_new_object();
	add_str(c, "socket", ctl.sock_path);
	add_str(c, "nmi_socket", ctl.nmi_path);
	add_u64(c, "clients", ctl.nb_clients);
	add_u64(c, "subscribers", ctl_mon_count());
	json_object_object_add(c, "debug", json_object_new_boolean(ctl.view.debug));
	json_object_object_add(o, "control", c);
	return o;
}

static struct json_object *counters_obj(const uint64_t *drops, const uint64_t *stats, uint64_t ev,
					uint64_t ev_lost)
{
	struct json_object *o = json_object_new_object(), *d, *s, *c;
	int i;

	s = json_object_new_object();
	for (i = 0; i < DP_STAT_MAX; i++)
		add_u64(s, dp_stat_name((enum dp_stat)i), stats[i]);
	d = json_object_new_object();
	for (i = 0; i < DP_DROP_MAX; i++)
		add_u64(d, dp_drop_name((enum dp_drop)i), drops[i]);
	c = json_object_new_object();
	add_u64(c, "conn_events", ev);
	add_u64(c, "conn_events_lost", ev_lost);
	json_object_object_add(o, "stats", s);
	json_object_object_add(o, "drops", d);
	json_object_object_add(o, "ctl", c);
	return o;
}

/* The TCP engine's counters (dataplane/tcp) of one worker or the total: {"stats": {...},
 * "drops": {...}} by the names of TCP_STAT_LIST / TCP_DROP_LIST; @p v holds the
 * tcp_stat_count() statistics, then the tcp_drop_count() drop reasons. */
static struct json_object *tcp_counters_obj(const uint64_t *v)
{
	struct json_object *o = json_object_new_object(), *s, *d;
	unsigned k, ns = tcp_stat_count();

	s = json_object_new_object();
	for (k = 0; k < ns; k++)
		add_u64(s, tcp_stat_name(k), v[k]);
	d = json_object_new_object();
	for (k = 0; k < tcp_drop_count(); k++)
		add_u64(d, tcp_drop_name(k), v[ns + k]);
	json_object_object_add(o, "stats", s);
	json_object_object_add(o, "drops", d);
	return o;
}

static struct json_object *cmd_stats(void)
{
	struct json_object *o, *ws, *help, *hs, *hd, *ht, *cj, *tj;
	const struct dp_stack *s = ctl.stack;
	uint64_t td[DP_DROP_MAX] = {0}, ts[DP_STAT_MAX] = {0}, tev = 0, tlost = 0;
	unsigned ntcp_s = tcp_stat_count(), ntcp = ntcp_s + tcp_drop_count(), j;
	uint64_t *ttcp = calloc(2 * (size_t)ntcp, sizeof(*ttcp)), *wtcp = ttcp + ntcp;
	uint16_t i;
	int k;

	if (ttcp == NULL)
		return NULL;
	o = ctl_reply_ok("stats");
	if (o == NULL) {
		free(ttcp);
		return NULL;
	}
	ws = json_object_new_array();
	for (i = 0; i < s->nb_workers; i++) {
		const struct dp_worker *w = s->workers[i];
		uint64_t d[DP_DROP_MAX], st[DP_STAT_MAX], ev, lost;
		struct json_object *wj;

		/* Single-writer counters: plain 64-bit loads are whole on every target we run. */
		for (k = 0; k < DP_DROP_MAX; k++)
			td[k] += d[k] = __atomic_load_n(&w->drops[k], __ATOMIC_RELAXED);
		for (k = 0; k < DP_STAT_MAX; k++)
			ts[k] += st[k] = __atomic_load_n(&w->stats[k], __ATOMIC_RELAXED);
		tev += ev = __atomic_load_n(&wstats[i].events, __ATOMIC_RELAXED);
		tlost += lost = __atomic_load_n(&wstats[i].events_lost, __ATOMIC_RELAXED);
		/* The engine's counters: the same single writer, tcp_*_get() load them relaxed. */
		for (j = 0; j < ntcp; j++)
			ttcp[j] += wtcp[j] =
				j < ntcp_s ? tcp_stat_get(w, j) : tcp_drop_get(w, j - ntcp_s);
		wj = counters_obj(d, st, ev, lost);
		json_object_object_add(wj, "tcp", tcp_counters_obj(wtcp));
		json_object_object_add(wj, "id", json_object_new_int(i));
		json_object_array_add(ws, wj);
	}
	json_object_object_add(o, "workers", ws);
	tj = counters_obj(td, ts, tev, tlost);
	json_object_object_add(tj, "tcp", tcp_counters_obj(ttcp));
	json_object_object_add(o, "total", tj);
	free(ttcp);
	help = json_object_new_object();
	hs = json_object_new_object();
	for (k = 0; k < DP_STAT_MAX; k++)
		add_str(hs, dp_stat_name((enum dp_stat)k), dp_stat_help((enum dp_stat)k));
	hd = json_object_new_object();
	for (k = 0; k < DP_DROP_MAX; k++)
		add_str(hd, dp_drop_name((enum dp_drop)k), dp_drop_help((enum dp_drop)k));
	json_object_object_add(help, "stats", hs);
	json_object_object_add(help, "drops", hd);
	ht = json_object_new_object();
	hs = json_object_new_object();
	for (j = 0; j < ntcp_s; j++)
		add_str(hs, tcp_stat_name(j), tcp_stat_help(j));
	hd = json_object_new_object();
	for (j = 0; j < ntcp - ntcp_s; j++)
		add_str(hd, tcp_drop_name(j), tcp_drop_help(j));
	json_object_object_add(ht, "stats", hs);
	json_object_object_add(ht, "drops", hd);
	json_object_object_add(help, "tcp", ht);
	json_object_object_add(o, "help", help);
	cj = json_object_new_object();
	add_u64(cj, "requests", ctl.cnt.requests);
	add_u64(cj, "request_errors", ctl.cnt.request_errors);
	add_u64(cj, "clients_refused", ctl.cnt.clients_refused);
	add_u64(cj, "nmi_subscribers_total", ctl.cnt.nmi_subscribers_total);
	add_u64(cj, "nmi_records", ctl.cnt.nmi_records);
	{
		static const enum zp_nmi_termcode codes[] = {
			ZP_NMI_TERM_PLANNED, ZP_NMI_TERM_EWOULDBLOCK, ZP_NMI_TERM_ENOMEM,
			ZP_NMI_TERM_EACCES,  ZP_NMI_TERM_EINVAL,      ZP_NMI_TERM_EPIPE,
		};
		char key[48];

		for (k = 0; k < (int)RTE_DIM(codes); k++) {
			snprintf(key, sizeof(key), "nmi_term_%s", zp_nmi_termcode_name(codes[k]));
			add_u64(cj, key, ctl.cnt.nmi_term[ctl_nmi_term_index(codes[k])]);
		}
	}
	add_u64(cj, "nmi_term_lost", ctl.cnt.nmi_term_lost);
	json_object_object_add(o, "control", cj);
	return o;
}

static struct json_object *cmd_sockopt_show(const char *cmd)
{
	const struct ctl_sockopt_table *t = ctl_sockopt_current();
	struct json_object *o = ctl_reply_ok(cmd), *rules;
	unsigned i;

	if (o == NULL)
		return NULL;
	rules = json_object_new_array();
	for (i = 0; i < t->n; i++)
		json_object_array_add(rules, ctl_json_sockopt(t->r[i].lo, t->r[i].hi, &t->r[i].d));
	json_object_object_add(o, "rules", rules);
	return o;
}

static struct json_object *cmd_sockopt_change(const struct ctl_req *req)
{
	struct ctl_sockopt_table *t = NULL;
	const char *name = ctl_cmd_name(req->cmd);
	char err[160] = "";
	int rc;

	if (req->cmd == CTL_CMD_SOCKOPT_SET) {
		rc = ctl_sockopt_table_set(ctl_sockopt_current(), &req->so, &t, err, sizeof(err));
	} else {
		rc = ctl_sockopt_table_del(ctl_sockopt_current(), req->so.lo, req->so.hi, &t);
		if (rc == -ENOENT)
			snprintf(err, sizeof(err), "no rule for ports %u-%u", req->so.lo,
				 req->so.hi);
		else if (rc == -EINVAL)
			snprintf(err, sizeof(err), "the 0-65535 rule cannot be removed");
	}
	if (rc < 0)
		return ctl_reply_err(name, -rc, err[0] ? err : NULL);
	ctl_sockopt_publish(t);
	return cmd_sockopt_show(name);
}

static struct json_object *cmd_monitor(void)
{
	struct json_object *o = ctl_reply_ok("monitor");

	if (o == NULL)
		return NULL;
	add_str(o, "socket", ctl.nmi_path);
	add_u64(o, "subscribers", ctl_mon_count());
	add_u64(o, "event_subscribers", ctl_mon_event_subscribers());
	json_object_object_add(o, "version", json_object_new_int(ZP_NMI_VERSION1));
	return o;
}

/* Replies to a job the workers answered (or that timed out). */
static struct json_object *job_reply(struct ctl_job *job)
{
	struct json_object *o, *arr, *missing, *errs;
	char msg[128];
	bool truncated = false;
	uint16_t i;
	unsigned j;

	switch (job->kind) {
	case CTL_JOB_DROP:
		if (!__atomic_load_n(&job->part[0].done, __ATOMIC_ACQUIRE)) {
			snprintf(msg, sizeof(msg), "worker %u did not answer",
				 (unsigned)(job->conn_id >> 48));
			return ctl_reply_err("conn-drop", ETIMEDOUT, msg);
		}
		if (job->part[0].rc < 0) {
			int e = -job->part[0].rc;

			snprintf(msg, sizeof(msg),
				 e == ENOENT ? "connection 0x%016" PRIx64 " not found"
					     : "connection 0x%016" PRIx64 ": %s",
				 job->conn_id, strerror(e));
			return ctl_reply_err("conn-drop", e, msg);
		}
		o = ctl_reply_ok("conn-drop");
		add_u64(o, "id", job->conn_id);
		add_str(o, "result", "done");
		return o;
	case CTL_JOB_DUMP:
		o = ctl_reply_ok("netstat");
		arr = json_object_new_array();
		missing = json_object_new_array();
		errs = json_object_new_object();
		for (i = 0; i < job->nb_parts; i++) {
			const struct ctl_job_part *p = &job->part[i];

			if (!__atomic_load_n(&p->done, __ATOMIC_ACQUIRE)) {
				json_object_array_add(missing, json_object_new_int(i));
				continue;
			}
			if (p->rc < 0) {
				snprintf(msg, sizeof(msg), "%d", i);
				add_str(errs, msg, ctl_errno_name(-p->rc));
			}
			truncated |= p->truncated;
			for (j = 0; j < p->n; j++)
				if (ctl_conn_match(&p->views[j], &job->req))
					json_object_array_add(arr, ctl_json_conn(&p->views[j]));
		}
		json_object_object_add(o, "connections", arr);
		json_object_object_add(o, "unanswered_workers", missing);
		json_object_object_add(o, "worker_errors", errs);
		json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
		return o;
	}
	return NULL;
}

/* Handle one request line. May leave the client waiting on a job. */
static void client_request(struct ctl_client *c, const char *line, size_t len)
{
	struct ctl_req req;
	struct ctl_job *job;
	char err[256];
	int rc;

	ctl.cnt.requests++;
	rc = ctl_req_parse(line, len, &req, err, sizeof(err));
	if (rc < 0) {
		client_reply(c, ctl_reply_err("?", -rc, err));
		return;
	}
	if (ctl_cmd_debug_only(req.cmd) && !ctl.view.debug) {
		client_reply(c, ctl_reply_err(ctl_cmd_name(req.cmd), EPERM,
					      "debug commands are off (start the instance with "
					      "ZPATH_CTL_DEBUG=1)"));
		return;
	}
	switch (req.cmd) {
	case CTL_CMD_STATUS:
		client_reply(c, cmd_status());
		return;
	case CTL_CMD_STATS:
		client_reply(c, cmd_stats());
		return;
	case CTL_CMD_SOCKOPT_SHOW:
		client_reply(c, cmd_sockopt_show("sockopt-show"));
		return;
	case CTL_CMD_SOCKOPT_SET:
	case CTL_CMD_SOCKOPT_DEL:
		client_reply(c, cmd_sockopt_change(&req));
		return;
	case CTL_CMD_MONITOR:
		client_reply(c, cmd_monitor());
		return;
	case CTL_CMD_NETSTAT:
		job = ctl_job_new(CTL_JOB_DUMP, ctl.stack->nb_workers, true);
		if (job == NULL) {
			client_reply(c, ctl_reply_err("netstat", ENOMEM, NULL));
			return;
		}
		job->req = req;
		job->client = c;
		c->job = job;
		ctl_job_post_dump(job, ctl.stack);
		ctl_job_track(job);
		return;
	case CTL_CMD_CONN_DROP:
		if ((req.conn_id >> 48) >= ctl.stack->nb_workers) {
			snprintf(err, sizeof(err),
				 "connection 0x%016" PRIx64 " not found (no worker "
				 "%u)",
				 req.conn_id, (unsigned)(req.conn_id >> 48));
			client_reply(c, ctl_reply_err("conn-drop", ENOENT, err));
			return;
		}
		job = ctl_job_new(CTL_JOB_DROP, 1, true);
		if (job == NULL) {
			client_reply(c, ctl_reply_err("conn-drop", ENOMEM, NULL));
			return;
		}
		job->req = req;
		job->conn_id = req.conn_id;
		job->client = c;
		c->job = job;
		ctl_job_post_drop(job, ctl.stack, (uint16_t)(req.conn_id >> 48));
		ctl_job_track(job);
		return;
	case CTL_CMD_DEBUG_CONN_EVENTS:
		if (req.worker >= (int)ctl.stack->nb_workers) {
			client_reply(c,
				     ctl_reply_err("debug-conn-events", ENOENT, "no such worker"));
			return;
		}
		rc = ctl_synth_post(ctl.stack, req.worker, req.count);
		if (rc < 0) {
			client_reply(c, ctl_reply_err("debug-conn-events", -rc, NULL));
		} else {
			struct json_object *o = ctl_reply_ok("debug-conn-events");

			add_u64(o, "workers", (uint64_t)rc);
			add_u64(o, "count_per_worker", req.count);
			client_reply(c, o);
		}
		return;
	case CTL_CMD_DEBUG_NMI_FAIL_ALLOC:
		ctl_mon_fail_next_alloc();
		client_reply(c, ctl_reply_ok("debug-nmi-fail-alloc"));
		return;
	case CTL_CMD_MAX:
		break;
	}
	client_reply(c, ctl_reply_err("?", EINVAL, "unhandled command"));
}

/* Run the complete lines in the input buffer while no job is pending. */
static void client_process(struct ctl_client *c)
{
	size_t start = 0;
	char *nl;

	while (c->job == NULL && !c->closing && start < c->in_len &&
	       (nl = memchr(c->in + start, '\n', c->in_len - start)) != NULL) {
		size_t len = (size_t)(nl - (c->in + start));

		if (len > 0 && c->in[start + len - 1] == '\r')
			len--;
		if (len > 0)
			client_request(c, c->in + start, len);
		start = (size_t)(nl - c->in) + 1;
	}
	memmove(c->in, c->in + start, c->in_len - start);
	c->in_len -= start;
	/* Only a line without its newline can be too long: complete lines merely wait. */
	if (c->in_len > CTL_LINE_MAX && !c->closing && memchr(c->in, '\n', c->in_len) == NULL) {
		client_reply(c, ctl_reply_err("?", E2BIG, "request line too long"));
		c->closing = true;
	}
}

static void client_readable(struct ctl_client *c)
{
	ssize_t n;

	if (c->in_cap - c->in_len < 4096) {
		size_t cap = c->in_cap == 0 ? 8192 : c->in_cap * 2;
		char *b;

		if (cap > CTL_LINE_MAX * 2 + 8192)
			cap = CTL_LINE_MAX * 2 + 8192;
		b = realloc(c->in, cap);
		if (b == NULL) {
			c->closing = true;
			return;
		}
		c->in = b;
		c->in_cap = cap;
	}
	if (c->in_len == c->in_cap) {
		/* Cannot happen: complete lines are consumed, a long one is refused at 64 KiB. */
		c->closing = true;
		return;
	}
	n = recv(c->ep.fd, c->in + c->in_len, c->in_cap - c->in_len, MSG_DONTWAIT);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			c->closing = true;
		return;
	}
	if (n == 0) {
		c->closing = true; /* answer what is pending, then close */
		return;
	}
	c->in_len += (size_t)n;
	client_process(c);
}

static void client_event(struct ctl_client *c, uint32_t events)
{
	if (events & EPOLLERR) {
		client_close(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLHUP))
		client_readable(c);
	if (c->closing && ctl_outq_pending(&c->out) == 0 && c->job == NULL) {
		client_close(c);
		return;
	}
	client_flush(c);
}

static void client_accept(void)
{
	struct ctl_client *c;
	int fd = accept4(ctl.listen.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	int rc;

	if (fd < 0)
		return;
	rc = ctl_peer_check(fd);
	if (rc < 0 || ctl.nb_clients >= CTL_CLIENTS_MAX) {
		const char *msg = rc < 0 ? "{\"ok\":false,\"cmd\":\"?\",\"errno\":13,\"error\":"
					   "\"EACCES\",\"message\":\"peer credentials not "
					   "permitted\"}\n"
					 : "{\"ok\":false,\"cmd\":\"?\",\"errno\":16,\"error\":"
					   "\"EBUSY\",\"message\":\"too many clients\"}\n";

		char junk[512];

		ctl.cnt.clients_refused++;
		if (send(fd, msg, strlen(msg), MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* nothing more to do: it is refused either way */
		}
		/* What it sent already: read, so that our close is an EOF, not a reset. */
		while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->ep.kind = CTL_EP_CLIENT;
	c->ep.fd = fd;
	ctl_outq_init(&c->out, CTL_CLIENT_OUT_MAX, 0);
	if (ctl_ep_add(&c->ep, EPOLLIN) < 0) {
		close(fd);
		free(c);
		return;
	}
	c->epoll_mask = EPOLLIN;
	c->next = ctl.clients;
	ctl.clients = c;
	ctl.nb_clients++;
}

/* ---- jobs -------------------------------------------------------------------------------- */

/* Finish jobs that completed or timed out; returns ms until the next deadline, or -1. */
static int jobs_run(uint64_t now)
{
	struct ctl_job **pp = &ctl.jobs, *job;
	uint64_t soonest = UINT64_MAX;

	while ((job = *pp) != NULL) {
		if (!ctl_job_done(job) && now < job->deadline_ns) {
			if (job->deadline_ns < soonest)
				soonest = job->deadline_ns;
			pp = &job->next;
			continue;
		}
		*pp = job->next;
		if (job->client != NULL) {
			struct ctl_client *c = job->client;

			c->job = NULL;
			job->client = NULL;
			client_reply(c, job_reply(job));
			client_process(c); /* lines that waited */
			if (client_flush(c) && c->closing && ctl_outq_pending(&c->out) == 0)
				client_close(c);
		} else if (job->sub != NULL) {
			ctl_mon_list_done(job);
		}
		ctl_job_put(job);
	}
	return soonest == UINT64_MAX ? -1 : (int)((soonest - now) / 1000000 + 1);
}

/* ---- the thread -------------------------------------------------------------------------- */

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void loop_once(int timeout)
{
	struct epoll_event evs[CTL_EPOLL_EVENTS];
	uint64_t val;
	int n, i;

	n = epoll_wait(ctl.epfd, evs, CTL_EPOLL_EVENTS, timeout);
	for (i = 0; i < n; i++) {
		struct ctl_ep *ep = evs[i].data.ptr;

		switch ((enum ctl_ep_kind)ep->kind) {
		case CTL_EP_LISTEN:
			client_accept();
			break;
		case CTL_EP_NMI_LISTEN:
			ctl_mon_accept(ep->fd);
			break;
		case CTL_EP_WAKE:
			if (read(ep->fd, &val, sizeof(val)) < 0) {
				/* EAGAIN: another wake-up already consumed it */
			}
			break;
		case CTL_EP_CLIENT:
			client_event((struct ctl_client *)ep, evs[i].events);
			break;
		case CTL_EP_SUB:
			ctl_mon_event((struct ctl_sub *)ep, evs[i].events);
			break;
		}
	}
}

static void *ctl_main(void *arg)
{
	bool more = false;
	uint64_t end;
	int timeout;

	(void)arg;
	while (!__atomic_load_n(&ctl.stop, __ATOMIC_ACQUIRE)) {
		uint64_t now = ctl_mono_ns();

		timeout = more ? 0 : -1;
		timeout = min_timeout(timeout, jobs_run(now));
		timeout = min_timeout(timeout, ctl_mon_timers(now));
		if (ctl_sockopt_reclaim())
			timeout = min_timeout(timeout, 10);
		/* Belt and braces for the doorbell: look at the ring now and then anyway. */
		if (ctl_mon_event_subscribers() > 0)
			timeout = min_timeout(timeout, 100);
		loop_once(timeout);
		more = drain_events();
	}

	/* Planned stop: no new clients or subscribers; TERM 0 to every subscriber. */
	ctl_ep_del(&ctl.listen);
	ctl_ep_del(&ctl.nmi_listen);
	while (ctl.clients != NULL)
		client_close(ctl.clients);
	drain_events();
	ctl_mon_stop_all();
	end = ctl_mono_ns() + ZP_NMI_TERM_GRACE_MS * 1000000ULL;
	while (ctl_mon_count() > 0 && ctl_mono_ns() < end) {
		ctl_mon_timers(ctl_mono_ns());
		loop_once(10);
	}
	ctl_mon_timers(UINT64_MAX);
	while (ctl.jobs != NULL) {
		struct ctl_job *job = ctl.jobs;

		ctl.jobs = job->next;
		job->client = NULL;
		job->sub = NULL;
		ctl_job_put(job); /* a worker still holding it frees it */
	}
	return NULL;
}

/* ---- start / stop ------------------------------------------------------------------------ */

static bool instance_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > CTL_INSTANCE_MAX || s[0] == '.')
		return false;
	for (i = 0; i < n; i++) {
		char ch = s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
			return false;
	}
	return true;
}

/* Bind a listening Unix socket at @p path (mode 0660), replacing a stale one. */
static int listen_unix(const char *path, int *out, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	/* A live instance answers; a stale socket file refuses and is replaced. */
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EAGAIN) {
		close(fd);
		snprintf(err, errlen, "%s: another instance with this name is running", path);
		return -EADDRINUSE;
	}
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		return rc;
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 ||
	    listen(fd, 64) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s%s", path, strerror(-rc),
			 rc == -EACCES ? " (ZPATH_RUN_DIR names another directory)" : "");
		close(fd);
		unlink(path);
		return rc;
	}
	*out = fd;
	return 0;
}

static void close_fds(void)
{
	if (ctl.listen.fd >= 0) {
		close(ctl.listen.fd);
		unlink(ctl.sock_path);
	}
	if (ctl.nmi_listen.fd >= 0) {
		close(ctl.nmi_listen.fd);
		unlink(ctl.nmi_path);
	}
	__atomic_store_n(&ctl_wake_fd, -1, __ATOMIC_RELEASE);
	if (ctl.wake.fd >= 0)
		close(ctl.wake.fd);
	if (ctl.epfd >= 0)
		close(ctl.epfd);
	ctl.listen.fd = ctl.nmi_listen.fd = ctl.wake.fd = ctl.epfd = -1;
}

int ctl_start(struct dp_stack *stack, const char *instance, char *err, size_t errlen)
{
	const char *dir = getenv("ZPATH_RUN_DIR");
	const char *dbg = getenv("ZPATH_CTL_DEBUG");
	char dummy[8];
	int rc;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (ctl.running) {
		snprintf(err, errlen, "control thread already running");
		return -EALREADY;
	}
	if (stack == NULL || stack->nb_workers == 0 || stack->nb_workers > DP_MAX_WORKERS) {
		snprintf(err, errlen, "control: no workers");
		return -EINVAL;
	}
	if (instance == NULL)
		instance = CTL_INSTANCE_DEFAULT;
	if (!instance_name_ok(instance)) {
		snprintf(err, errlen,
			 "instance name '%s': use 1-%d of [A-Za-z0-9._-], not "
			 "starting with '.'",
			 instance, CTL_INSTANCE_MAX);
		return -EINVAL;
	}
	if (dir == NULL || dir[0] == '\0')
		dir = CTL_RUN_DIR;
	if ((size_t)snprintf(ctl.nmi_path, sizeof(ctl.nmi_path), "%s/%s.nmi.sock", dir, instance) >=
	    sizeof(ctl.nmi_path)) {
		snprintf(err, errlen, "control socket path too long: %s/%s.nmi.sock", dir,
			 instance);
		return -ENAMETOOLONG;
	}
	snprintf(ctl.sock_path, sizeof(ctl.sock_path), "%s/%s.sock", dir, instance);
	snprintf(ctl.instance, sizeof(ctl.instance), "%s", instance);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "mkdir %s: %s%s", dir, strerror(-rc),
			 rc == -EACCES ? " (ZPATH_RUN_DIR names another directory)" : "");
		return rc;
	}

	ctl.stack = stack;
	ctl.stop = 0;
	ctl.clients = NULL;
	ctl.nb_clients = 0;
	ctl.jobs = NULL;
	memset(&ctl.cnt, 0, sizeof(ctl.cnt));
	ctl.listen = (struct ctl_ep){.kind = CTL_EP_LISTEN, .fd = -1};
	ctl.nmi_listen = (struct ctl_ep){.kind = CTL_EP_NMI_LISTEN, .fd = -1};
	ctl.wake = (struct ctl_ep){.kind = CTL_EP_WAKE, .fd = -1};
	ctl.epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl.wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctl.epfd < 0 || ctl.wake.fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "control: epoll/eventfd: %s", strerror(-rc));
		goto fail;
	}
	rc = listen_unix(ctl.sock_path, &ctl.listen.fd, err, errlen);
	if (rc < 0)
		goto fail;
	rc = listen_unix(ctl.nmi_path, &ctl.nmi_listen.fd, err, errlen);
	if (rc < 0)
		goto fail;
	if (ctl_ep_add(&ctl.listen, EPOLLIN) < 0 || ctl_ep_add(&ctl.nmi_listen, EPOLLIN) < 0 ||
	    ctl_ep_add(&ctl.wake, EPOLLIN) < 0) {
		rc = -errno;
		snprintf(err, errlen, "control: epoll_ctl: %s", strerror(-rc));
		goto fail;
	}
	if (ev_ring == NULL) {
		ev_ring = rte_ring_create_elem("zp_ctl_events", sizeof(struct dp_conn_event),
					       CTL_EV_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (ev_ring == NULL) {
			rc = -rte_errno;
			snprintf(err, errlen, "control: event ring: %s", rte_strerror(-rc));
			goto fail;
		}
	}
	rc = ctl_sockopt_start(stack);
	if (rc < 0) {
		snprintf(err, errlen, "control: socket-option defaults: %s", strerror(-rc));
		goto fail;
	}
	ctl_events_enable(false);
	{
		struct dp_conn_event stale;

		/* Events a previous run left behind (enqueued after its last drain). */
		while (rte_ring_sc_dequeue_elem(ev_ring, &stale, sizeof(stale)) == 0)
			;
	}
	ctl.lost_seen = events_lost_total();
	__atomic_store_n(&ev_armed, 1, __ATOMIC_SEQ_CST);
	dp_conn_event_register(ctl_conn_event_sink);
	__atomic_store_n(&ctl_wake_fd, ctl.wake.fd, __ATOMIC_RELEASE);

	ctl_telemetry_lock(); /* telemetry callbacks may already run */
	ctl.view.stack = stack;
	ctl.view.instance = ctl.instance;
	ctl.view.sock_path = ctl.sock_path;
	ctl.view.nmi_path = ctl.nmi_path;
	ctl.view.start_realtime_ns = ctl_real_ns();
	ctl.view.start_mono_ns = ctl_mono_ns();
	ctl.view.debug = dbg != NULL && strcmp(dbg, "1") == 0;
	ctl_telemetry_unlock();

	rc = ctl_telemetry_register();
	if (rc < 0) {
		snprintf(err, errlen, "control: telemetry: %s", strerror(-rc));
		goto fail;
	}
	rc = rte_ctrl_thread_create(&ctl.tid, "zp-ctl", NULL, ctl_main, NULL);
	if (rc != 0) {
		rc = -rc;
		snprintf(err, errlen, "control: thread: %s", strerror(-rc));
		goto fail;
	}
	ctl.running = true;
	return 0;
fail:
	ctl_telemetry_lock();
	ctl.view.stack = NULL;
	ctl_telemetry_unlock();
	close_fds();
	ctl.stack = NULL;
	return rc;
}

void ctl_stop(void)
{
	if (!ctl.running)
		return;
	__atomic_store_n(&ctl.stop, 1, __ATOMIC_RELEASE);
	ctl_wake();
	pthread_join(ctl.tid, NULL);
	ctl_events_enable(false);
	ctl_sockopt_stop();
	ctl_telemetry_lock();
	ctl.view.stack = NULL;
	ctl_telemetry_unlock();
	close_fds();
	ctl.stack = NULL;
	ctl.running = false;
}
