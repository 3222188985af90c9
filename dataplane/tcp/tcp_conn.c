/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection blocks and tables of one worker: the 4-tuple hash (rte_hash), the listener list
 * (per worker: a listener is replicated on every worker, REU-6), local port allocation and
 * the bind rules of close-semantics §9, connection deletion and the control-plane views.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>

#include "tcp_priv.h"

#define TCP_HASH_ENTRIES 65536

static void tcp_engine_input(struct dp_worker *w, struct rte_mbuf *m)
{
	tcp_input(w, m);
}

static void tcp_engine_icmp(struct dp_worker *w, uint8_t type, uint8_t code,
			    const struct rte_ipv4_hdr *inner, const void *inner_l4, size_t inner_len)
{
	if (inner->next_proto_id != IPPROTO_TCP || inner_len < 8)
		return;
	tcp_icmp_error(w, inner->src_addr, inner->dst_addr, inner_l4, type, code);
}

int tcp_engine_create(struct dp_worker *w)
{
	struct rte_hash_parameters hp = {0};
	struct tcp_engine *e;
	char name[RTE_HASH_NAMESIZE];
	static unsigned inst; /* unique names when tests create many workers */
	int rc;

	rc = tcp__dynfield_init();
	if (rc < 0)
		return rc;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->w = w;
	TAILQ_INIT(&e->conns);
	TAILQ_INIT(&e->listeners);
	TAILQ_INIT(&e->outq);
	snprintf(name, sizeof(name), "ztcp_%u_%u", w->id,
		 __atomic_fetch_add(&inst, 1, __ATOMIC_RELAXED));
	hp.name = name;
	hp.entries = TCP_HASH_ENTRIES;
	hp.key_len = sizeof(struct tcp_key);
	hp.hash_func = rte_jhash;
	hp.socket_id = SOCKET_ID_ANY;
	e->hash = rte_hash_create(&hp);
	e->bind_ports = calloc(UINT16_MAX + 1u, sizeof(*e->bind_ports));
	if (e->hash == NULL || e->bind_ports == NULL) {
		rte_hash_free(e->hash);
		free(e->bind_ports);
		free(e);
		return -ENOMEM;
	}
	e->isn_key[0] = w->rand(w);
	e->isn_key[1] = w->rand(w);
	e->eph_next = (uint32_t)w->rand(w);
	e->delack_ns = TCP_DELACK_NS;
	e->app_out_defer = true;
	e->output = NULL;
	w->tcp = e;
	dp_l4_register(IPPROTO_TCP, tcp_engine_input);
	dp_poll_register(tcp__outq_run);
	dp_icmp_error_register(tcp_engine_icmp);
	return 0;
}

void tcp_engine_destroy(struct dp_worker *w)
{
	struct tcp_engine *e = tcp__engine(w);
	struct tcp_conn *c;

	if (e == NULL)
		return;
	while ((c = TAILQ_FIRST(&e->conns)) != NULL) {
		c->upcall = NULL;
		c->flags |= TCPF_ORPHAN;
		c->zc_refs = 0;
		if (c->state != TCPS_CLOSED) {
			tcp__timers_cancel(c);
			tcp__hash_del(c);
			c->state = TCPS_CLOSED;
		}
		tcp__conn_free(c);
	}
	rte_hash_free(e->hash);
	free(e->bind_ports);
	free(e);
	w->tcp = NULL;
}

uint32_t tcp__sndbuf_default(const struct tcp_engine *e)
{
	uint32_t v = e->w->stack != NULL ? e->w->stack->tun.tcp_sndbuf : 0;

	return v != 0 ? TCP_MIN(TCP_MAX(v, TCP_BUF_MIN), TCP_BUF_MAX) : TCP_SNDBUF_DEFAULT;
}

void tcp_sndbuf_default(struct tcp_conn *c, uint32_t bytes)
{
	if (c->flags & TCPF_SNDBUF_LOCK)
		return;
	if (bytes == 0)
		bytes = tcp__sndbuf_default(c->e);
	c->sndbuf_max = TCP_MIN(TCP_MAX(bytes, TCP_BUF_MIN), TCP_BUF_MAX);
}

void tcp_output_set(struct dp_worker *w, tcp_output_fn fn)
{
	tcp__engine(w)->output = fn;
}

/* ---- blocks ------------------------------------------------------------------------------ */

struct tcp_conn *tcp__conn_alloc(struct tcp_engine *e)
{
	struct tcp_conn *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->e = e;
	c->id = ((uint64_t)e->w->id << 48) | ++e->next_id;
	c->state = TCPS_CLOSED;
	c->rcvbuf = TCP_RCVBUF_DEFAULT;
	c->sndbuf_max = tcp__sndbuf_default(e);
	c->rto_us = TCP_RTO_INIT_US;
	c->keepidle_s = TCP_DEF_KEEPIDLE_S;
	c->keepintvl_s = TCP_DEF_KEEPINTVL_S;
	c->keepcnt = TCP_DEF_KEEPCNT;
	c->rcv_mss = TCP_MSS_NOOPT;
	c->snd_mss = TCP_MSS_NOOPT;
	c->created_ns = e->w->now_ns;
	TAILQ_INIT(&c->synq);
	TAILQ_INIT(&c->acceptq);
	tcp__timers_init(c);
	TAILQ_INSERT_TAIL(&e->conns, c, link);
	e->nb_conns++;
	return c;
}

struct tcp_conn *tcp_conn_new(struct dp_worker *w)
{
	return tcp__conn_alloc(tcp__engine(w));
}

void tcp__conn_free(struct tcp_conn *c)
{
	struct tcp_engine *e = c->e;

	if (c->flags & TCPF_FREED)
		return;
	tcp__timers_cancel(c);
	tcp__hash_del(c);
	tcp__outq_del(c);
	if (c->flags & TCPF_BIND_PORT)
		e->bind_ports[rte_be_to_cpu_16(c->key.lport)]--;
	if (c->state == TCPS_LISTEN)
		TAILQ_REMOVE(&e->listeners, c, link);
	else
		TAILQ_REMOVE(&e->conns, c, link);
	e->nb_conns--;
	tcp__rq_flush(c);
	tcp__reass_flush(c);
	tcp__sbuf_free(c);
	c->flags |= TCPF_FREED;
	if (c->zc_refs == 0)
		free(c);
	/* else tcp_zc_release() frees the block when the last view comes back. */
}

unsigned tcp_conn_count(const struct dp_worker *w)
{
	const struct tcp_engine *e = w->tcp;

	return e != NULL ? e->nb_conns : 0;
}

/* ---- the 4-tuple table ------------------------------------------------------------------- */

int tcp__hash_add(struct tcp_conn *c)
{
	int rc;

	if (c->hashed)
		return 0;
	rc = rte_hash_add_key_data(c->e->hash, &c->key, c);
	if (rc < 0)
		return rc == -ENOSPC ? -EAGAIN : rc;
	c->hashed = true;
	return 0;
}

void tcp__hash_del(struct tcp_conn *c)
{
	if (!c->hashed)
		return;
	rte_hash_del_key(c->e->hash, &c->key);
	c->hashed = false;
}

struct tcp_conn *tcp__lookup(struct tcp_engine *e, const struct tcp_key *k)
{
	void *data;

	if (rte_hash_lookup_data(e->hash, k, &data) < 0)
		return NULL;
	return data;
}

struct tcp_conn *tcp__listener_lookup(struct tcp_engine *e, rte_be32_t addr, rte_be16_t port)
{
	struct tcp_conn *l, *wild = NULL;

	/* An exact local address wins over INADDR_ANY; with SO_REUSEPORT the first one serves
	 * (load balancing across listeners happens across workers, REU-6). */
	TAILQ_FOREACH(l, &e->listeners, link) {
		if (l->key.lport != port || (l->flags & TCPF_LISTEN_SHUT))
			continue;
		if (l->key.laddr == addr)
			return l;
		if (l->key.laddr == 0 && wild == NULL)
			wild = l;
	}
	return wild;
}

/* ---- addresses, routes, ports ------------------------------------------------------------ */

bool tcp__addr_local(const struct dp_stack *s, rte_be32_t a)
{
	unsigned i;

	for (i = 0; i < s->nb_ifaces; i++)
		if (s->ifaces[i].addr == a)
			return true;
	return false;
}

int tcp__route_src(const struct dp_stack *s, rte_be32_t dst, rte_be32_t *src, uint16_t *mtu)
{
	unsigned i;

	/* Routes are sorted longest prefix first (dp_stack). */
	for (i = 0; i < s->nb_routes; i++) {
		const struct dp_route *r = &s->routes[i];

		if ((dst & r->mask) == r->net && r->iface < s->nb_ifaces) {
			*src = s->ifaces[r->iface].addr;
			*mtu = s->ifaces[r->iface].mtu;
			return 0;
		}
	}
	return -ENETUNREACH;
}

static bool addr_overlap(rte_be32_t a, rte_be32_t b)
{
	return a == 0 || b == 0 || a == b;
}

/*
 * bind() conflicts (close-semantics §9). Every block using the port counts: listeners,
 * bound-but-unconnected sockets, live connections and TIME_WAIT.
 *  - REU-5: if the existing user and the binder both set SO_REUSEPORT, no conflict.
 *  - REU-2: with SO_REUSEADDR on the binder (D-11: only the binder needs it), only a
 *    listener or an unconnected bound socket without SO_REUSEADDR conflicts.
 *  - REU-1: otherwise any user conflicts, TIME_WAIT included.
 */
static bool port_conflict(const struct tcp_conn *c, const struct tcp_conn *o, rte_be32_t addr)
{
	bool reuse = c->flags & TCPF_REUSEADDR;

	if (o == c || !(o->flags & TCPF_BOUND) || !addr_overlap(o->key.laddr, addr))
		return false;
	if (o->state == TCPS_CLOSED && (o->flags & TCPF_WAS_CONN))
		return false; /* a dead block waiting for its close() */
	if ((c->flags & TCPF_REUSEPORT) && (o->flags & TCPF_REUSEPORT))
		return false;
	if (!reuse)
		return true;
	if (o->state == TCPS_LISTEN)
		return true;
	if (o->state == TCPS_CLOSED && !(o->flags & TCPF_REUSEADDR))
		return true;
	return false;
}

static bool port_in_use(struct tcp_engine *e, const struct tcp_conn *c, rte_be32_t addr,
			rte_be16_t port)
{
	const struct tcp_conn *o;

	TAILQ_FOREACH(o, &e->listeners, link)
		if (o->key.lport == port && port_conflict(c, o, addr))
			return true;
	TAILQ_FOREACH(o, &e->conns, link)
		if (o->key.lport == port && port_conflict(c, o, addr))
			return true;
	return false;
}

/* The block now holds @p port by bind() (or listen): connect() never picks it (see below). */
static void bind_port_hold(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port)
{
	c->key.laddr = addr;
	c->key.lport = port;
	c->flags |= TCPF_BOUND | TCPF_BIND_PORT;
	c->e->bind_ports[rte_be_to_cpu_16(port)]++;
}

static int ephemeral_bind(struct tcp_conn *c, rte_be32_t addr)
{
	struct tcp_engine *e = c->e;
	uint32_t range = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	uint32_t start = (uint32_t)(e->w->rand(e->w) % range), i;

	for (i = 0; i < range; i++) {
		rte_be16_t p = rte_cpu_to_be_16((uint16_t)(TCP_EPHEMERAL_LO + (start + i) % range));

		if (!port_in_use(e, c, addr, p)) {
			bind_port_hold(c, addr, p);
			return 0;
		}
	}
	return -EADDRINUSE;
}

int tcp_bind(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port)
{
	struct tcp_engine *e = c->e;

	if ((c->flags & TCPF_BOUND) || c->state != TCPS_CLOSED)
		return -EINVAL;
	if (addr != 0 && !tcp__addr_local(e->w->stack, addr))
		return -EADDRNOTAVAIL;
	if (port == 0)
		return ephemeral_bind(c, addr);
	if (port_in_use(e, c, addr, port))
		return -EADDRINUSE;
	bind_port_hold(c, addr, port);
	return 0;
}

/*
 * connect(): pick a source port whose flow hashes back to this worker (architecture.md,
 * dp_flow_worker) and whose 4-tuple is free (REU-4, TW-5: a tuple in TIME_WAIT is never
 * reused silently). As in Linux (__inet_hash_connect), ports that connect() chose are shared
 * by connections whose 4-tuples differ, and a port some socket holds by bind() or listen() is
 * never chosen: both are O(1) checks (the hash table, e->bind_ports), so the cost of a
 * connect() does not grow with the number of connections (TIME_WAIT included).
 */
static bool tuple_ok(struct tcp_engine *e, const struct tcp_key *k)
{
	const struct dp_stack *s = e->w->stack;

	if (tcp__lookup(e, k) != NULL)
		return false;
	if (s->nb_workers > 1 &&
	    dp_flow_worker(s, k->raddr, k->laddr, k->rport, k->lport) != e->w->id)
		return false;
	return true;
}

int tcp__connect_tuple(struct tcp_conn *c, rte_be32_t laddr, rte_be32_t raddr, rte_be16_t rport)
{
	struct tcp_engine *e = c->e;
	struct tcp_key k = {.laddr = laddr, .raddr = raddr, .rport = rport};
	uint32_t range = TCP_EPHEMERAL_HI - TCP_EPHEMERAL_LO + 1;
	uint32_t start, i;

	if (c->flags & TCPF_BOUND) {
		k.lport = c->key.lport;
		if (tcp__lookup(e, &k) != NULL)
			return -EADDRNOTAVAIL; /* D-3 / REU-4 */
		c->key = k;
		return 0;
	}
	/*
	 * RFC 6056 §3.3.3 (Algorithm 3, as Linux): a keyed hash of the destination plus a counter
	 * that moves past every port taken. Towards one destination the ports go round the whole
	 * range before one comes back, so a new connection never reuses the 4-tuple of one closed
	 * an instant ago: the peer still holds that one in TIME_WAIT and, within the same
	 * timestamp tick and with an ISN not yet past the old sequence numbers, drops the SYN
	 * (RFC 6191), which costs a 1 s SYN retransmission. A random start made that happen
	 * about once in a thousand connections at a few thousand connections per second.
	 */
	start = rte_jhash_3words(raddr, laddr, rport, (uint32_t)e->isn_key[0]) + e->eph_next;
	for (i = 0; i < range; i++) {
		uint16_t p = (uint16_t)(TCP_EPHEMERAL_LO + (start + i) % range);

		k.lport = rte_cpu_to_be_16(p);
		if (e->bind_ports[p] != 0 || !tuple_ok(e, &k))
			continue;
		c->key = k;
		c->flags |= TCPF_BOUND;
		e->eph_next += i + 1;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/* ---- deletion ---------------------------------------------------------------------------- */

void tcp__wakeup(struct tcp_conn *c)
{
	if (c->upcall != NULL)
		c->upcall(c->upcall_arg);
}

void tcp__conn_view(const struct tcp_conn *c, struct dp_conn_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = c->id;
	v->worker = c->e->w->id;
	v->state = (uint8_t)c->state;
	v->laddr = c->key.laddr;
	v->raddr = c->key.raddr;
	v->lport = c->key.lport;
	v->rport = c->key.rport;
	v->snd_queue = c->sbuf_len;
	v->snd_buf = tcp__snd_limit(c);
	v->snd_mem = c->sbuf != NULL ? c->sbuf_size : 0;
	v->rcv_queue = c->rq_bytes;
	v->rtt_us = c->srtt_us;
	v->cwnd = c->cwnd;
	snprintf(v->transport, sizeof(v->transport), "tcp");
	snprintf(v->tls, sizeof(v->tls), "-");
}

void tcp__emit_open(struct tcp_conn *c)
{
	struct dp_conn_event ev;

	if (c->open_emitted)
		return;
	c->open_emitted = true;
	c->estab_ns = c->e->w->now_ns;
	memset(&ev, 0, sizeof(ev));
	ev.type = DP_CONN_OPEN;
	tcp__conn_view(c, &ev.view);
	dp_conn_event_emit(c->e->w, &ev);
}

static void emit_close(struct tcp_conn *c)
{
	struct dp_conn_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = DP_CONN_CLOSE;
	tcp__conn_view(c, &ev.view);
	ev.bytes_in = c->bytes_in;
	ev.bytes_out = c->bytes_out;
	ev.duration_ns = c->e->w->now_ns - c->created_ns;
	ev.how = c->how;
	ev.app_errno = c->app_errno;
	dp_conn_event_emit(c->e->w, &ev);
}

/*
 * The connection is gone (RFC 9293 "delete the TCB"): CLOSED, out of the table, timers and
 * send queue dropped. The receive queue stays for the reader (F-1: queued bytes survive a
 * RST). A block nobody owns any more (orphan, or a listener's child) is freed.
 */
void tcp__closed(struct tcp_conn *c, enum dp_conn_close_how how)
{
	struct tcp_engine *e = c->e;
	struct tcp_conn *p = c->parent;

	if (c->state == TCPS_CLOSED)
		return;
	c->how = how;
	tcp__set_state(c, TCPS_CLOSED);
	tcp__timers_cancel(c);
	tcp__hash_del(c);
	tcp__reass_flush(c);
	c->sbuf_len = 0;
	tcp__sbuf_free(c); /* nothing can be sent any more: give the memory back now */
	c->shut = TCP_RCV_SHUT | TCP_SND_SHUT;
	c->flags &= ~(TCPF_CONNECTING | TCPF_FIN_QUEUED);
	if (c->flags & TCPF_WAS_CONN || c->open_emitted) {
		tcp__stat(e, TCP_STAT_CONN_CLOSED);
		emit_close(c);
	}
	if (p != NULL && !(c->flags & TCPF_IN_ACCEPTQ)) {
		/* A half-open child dies with nobody to tell (RA-3, ERR-4). */
		TAILQ_REMOVE(&p->synq, c, qlink);
		p->synq_len--;
		c->parent = NULL;
		tcp__conn_free(c);
		return;
	}
	if (p != NULL)
		return; /* in the accept queue: accept() hands it out anyway (D-6) */
	if (c->flags & TCPF_ORPHAN) {
		tcp__conn_free(c);
		return;
	}
	tcp__wakeup(c);
}

/** Abort with an error for the application (latched, ERR-1). */
void tcp__drop_conn(struct tcp_conn *c, int err, enum dp_conn_close_how how)
{
	if (err != 0) {
		c->so_error = err;
		c->app_errno = err;
	}
	tcp__closed(c, how);
}

/* ---- control plane ----------------------------------------------------------------------- */

unsigned tcp_conn_dump(struct dp_worker *w, struct dp_conn_view *out, unsigned max)
{
	struct tcp_engine *e = tcp__engine(w);
	struct tcp_conn *c;
	unsigned n = 0;

	if (e == NULL)
		return 0;
	TAILQ_FOREACH(c, &e->listeners, link) {
		if (n == max)
			return n;
		tcp__conn_view(c, &out[n++]);
	}
	TAILQ_FOREACH(c, &e->conns, link) {
		if (n == max)
			return n;
		if (c->state == TCPS_CLOSED)
			continue;
		tcp__conn_view(c, &out[n++]);
	}
	return n;
}

int tcp_conn_drop(struct dp_worker *w, uint64_t id)
{
	struct tcp_engine *e = tcp__engine(w);
	struct tcp_conn *c;

	if (e == NULL)
		return -ENOENT;
	TAILQ_FOREACH(c, &e->conns, link) {
		if (c->id == id && c->state != TCPS_CLOSED) {
			tcp_abort(c);
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- counters ---------------------------------------------------------------------------- */

#define TCP_X_NAME(e, name, help) name,
static const char *const drop_names[] = {TCP_DROP_LIST(TCP_X_NAME)};
static const char *const stat_names[] = {TCP_STAT_LIST(TCP_X_NAME)};
#undef TCP_X_NAME
#define TCP_X_HELP(e, name, help) help,
static const char *const drop_helps[] = {TCP_DROP_LIST(TCP_X_HELP)};
static const char *const stat_helps[] = {TCP_STAT_LIST(TCP_X_HELP)};
#undef TCP_X_HELP

unsigned tcp_drop_count(void)
{
	return TCP_DROP_MAX;
}

const char *tcp_drop_name(unsigned i)
{
	return i < TCP_DROP_MAX ? drop_names[i] : "?";
}

const char *tcp_drop_help(unsigned i)
{
	return i < TCP_DROP_MAX ? drop_helps[i] : "?";
}

unsigned tcp_stat_count(void)
{
	return TCP_STAT_MAX;
}

const char *tcp_stat_name(unsigned i)
{
	return i < TCP_STAT_MAX ? stat_names[i] : "?";
}

const char *tcp_stat_help(unsigned i)
{
	return i < TCP_STAT_MAX ? stat_helps[i] : "?";
}

uint64_t tcp_drop_get(const struct dp_worker *w, unsigned i)
{
	const struct tcp_engine *e = w->tcp;

	return e != NULL && i < TCP_DROP_MAX ? __atomic_load_n(&e->drops[i], __ATOMIC_RELAXED) : 0;
}

uint64_t tcp_stat_get(const struct dp_worker *w, unsigned i)
{
	const struct tcp_engine *e = w->tcp;

	return e != NULL && i < TCP_STAT_MAX ? __atomic_load_n(&e->stats[i], __ATOMIC_RELAXED) : 0;
}

void tcp_sockopt_builtin(struct dp_sockopt_defaults *out)
{
	/* The values tcp__conn_alloc() gives a new block. */
	memset(out, 0, sizeof(*out));
	out->keepidle_s = TCP_DEF_KEEPIDLE_S;
	out->keepintvl_s = TCP_DEF_KEEPINTVL_S;
	out->keepcnt = TCP_DEF_KEEPCNT;
	out->sndbuf = TCP_SNDBUF_DEFAULT;
	out->rcvbuf = TCP_RCVBUF_DEFAULT;
}
