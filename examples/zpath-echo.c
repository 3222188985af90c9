/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpath-echo: the demo program of the zpath public API.
 *
 *   zpath-echo [EAL args] -- -c zpath.ini [-q] [-s section.key=value]... -- [options]
 *
 * Mode "icmp" (the default) answers ARP and ping until SIGINT/SIGTERM or --duration; with
 * --ping it also sends ICMP echo requests every --interval-ms and stops once --count replies
 * arrived.
 *
 * Mode "echo" is a TCP echo server on --port, on every worker (each worker has its own
 * listener and serves the flows steered to it), driven by zp_epoll: many connections at once,
 * each one's bytes sent back as they come, with backpressure (a connection whose echo cannot
 * be sent is not read); at the peer's end of stream the rest is sent and the connection closed.
 * --close-after N closes each connection first (FIN) once N bytes were echoed; --abort-after N
 * aborts it (SO_LINGER {1,0}, RST) instead; --linger0 closes every connection with a RST.
 *
 * Mode "client" connects to the echo server at --connect A.B.C.D:P: --conns connections in
 * all, --parallel at a time per worker, each sending --bytes bytes (pseudo-random, different
 * per connection) in writes of --size bytes and checking that exactly the same bytes come
 * back, then shutting down writing and waiting for the server's end of stream (--linger0:
 * abort instead once all came back). With --rr each --size message waits for its echo before
 * the next one is sent, and the round-trip times are reported. --delay-ms waits (polling)
 * before the first connection, e.g. until the kernel's end of a new tap device is up.
 *
 * --et makes both TCP modes use edge-triggered epoll (EPOLLET) for their connections.
 *
 * Every second a progress line goes to stderr; at exit one summary line goes to stdout:
 *   zpath-echo: rx=.. tx=.. arp_in=.. echo_answered=.. ping_sent=.. ping_replies=.. drops=..
 * then the mode's own counters (echo: conns_accepted= conns_closed= bytes_echoed= resets=
 * errors=; client: conns_ok= conns_failed= bytes_verified= ms= mbit_s= rtt_*_us= ...), then
 * every non-zero drop reason by name (" eth_dst=3").
 *
 * Exit status: 0 on success; 1 when zpath could not start, --ping got fewer than --count
 * replies (no reply at all without --count), or a client connection failed; 2 for a bad
 * program argument.
 *
 * Adding a mode: write a `struct echo_mode` with a worker function that loops while
 * zp_running(), drives its worker with zp_epoll_wait() (or zp_poll()) and calls echo_tick()
 * from worker 0, add its options to parse_opts(), and list it in modes[]. echo_tick() handles
 * --duration and the progress line for every mode.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <zpath/zpath.h>
#include <zpath/zpath_socket.h>

#define ECHO_MAX_COUNTERS 512
#define ECHO_MAX_WORKERS  64
#define ECHO_EVENTS	  64
#define ECHO_CONN_BUF	  (64u * 1024)	/* per echo connection: bytes read, not yet echoed */
#define ECHO_IO_BUF	  (256u * 1024) /* per client worker: one read or write */
#define ECHO_SAMPLES	  (1u << 20)	/* RTT samples kept per worker */
#define ECHO_DRAIN_NS	  300000000ull	/* keep polling after the end so the last FIN/ACK leave */
#define ECHO_REPORT_FAILS 5		/* failure reasons printed per worker */

struct echo_ctx;

/** A mode of operation: its worker function runs on every worker. */
struct echo_mode {
	const char *name;
	const char *help;
	int (*worker)(struct echo_ctx *ctx);
	/** Exit status once the workers returned (0 = success). */
	int (*status)(const struct echo_ctx *ctx);
	/** Optional: the mode's fields of the progress line (" key=value..."). */
	void (*progress)(const struct echo_ctx *ctx, char *buf, size_t len);
	/** Optional: the mode's fields of the summary line, and a human-readable report. */
	void (*summary)(const struct echo_ctx *ctx, FILE *f);
};

struct echo_opts {
	const struct echo_mode *mode;
	double duration_s; /* 0 = until a signal */
	bool ping;
	uint32_t ping_dst; /* network order */
	char ping_dst_s[INET_ADDRSTRLEN];
	uint64_t count; /* 0 = no target */
	unsigned interval_ms;
	size_t size; /* echo payload bytes (icmp); write size (client) */
	bool size_set;
	/* TCP modes */
	uint16_t port;	      /* echo: listening port; client: the server's (host order) */
	uint32_t connect_dst; /* client: server address, network order */
	char connect_s[INET_ADDRSTRLEN + 8];
	uint64_t bytes;	      /* client: bytes per connection */
	uint64_t conns;	      /* client: connections in all */
	unsigned parallel;    /* client: connections at a time per worker */
	bool rr;	      /* client: request/response */
	bool linger0;	      /* close with SO_LINGER {1,0} */
	bool nodelay;	      /* TCP_NODELAY */
	bool et;	      /* edge-triggered epoll */
	uint64_t abort_after; /* echo: abort after echoing this many bytes (0 = never) */
	uint64_t close_after; /* echo: close (FIN) after echoing this many bytes (0 = never) */
	unsigned delay_ms;    /* client: poll this long before the first connection */
};

/* Per-worker TCP counters: written by that worker only; read by worker 0 (progress line, with
 * relaxed atomic loads) and by main after zp_run() returned. */
struct tcp_wstats {
	/* echo */
	uint64_t accepted, closed, bytes_in, bytes_out, resets, errors;
	/* client */
	uint64_t ok, failed, started, bytes_verified, bytes_sent, retrans, srtt_sum_us;
	uint64_t t_first_ns, t_last_ns; /* first connect, last connection done */
	uint32_t nrtt, nconn;		/* samples in rtt[] / conn_ns[] */
	uint32_t *rtt_ns;		/* request/response round trips */
	uint32_t *conn_ns;		/* connect() to established */
	bool done;			/* client: this worker finished its share */
} __attribute__((aligned(64)));

/* Written by worker 0 only (and each worker's own tcp[] slot); read by main after zp_run(). */
struct echo_ctx {
	struct echo_opts opt;
	uint64_t start_ns;
	uint64_t next_report_ns;
	uint16_t ident;
	uint64_t ping_sent;
	uint64_t ping_errors;
	uint64_t ping_replies;
	struct tcp_wstats tcp[ECHO_MAX_WORKERS];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t load(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void bump(uint64_t *p, uint64_t n)
{
	/* Single writer: a plain add, published so worker 0 reads a whole value. */
	__atomic_store_n(p, *p + n, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------------------------------ */
/* Counters                                                                                    */

struct echo_totals {
	uint64_t rx, tx, arp_in, echo_answered, drops;
	unsigned n;
	struct zp_counter c[ECHO_MAX_COUNTERS];
};

static void totals_read(struct echo_totals *t)
{
	int n = zp_counters(t->c, ECHO_MAX_COUNTERS);
	unsigned i;

	memset(t, 0, offsetof(struct echo_totals, c));
	if (n > ECHO_MAX_COUNTERS) {
		static bool warned;

		if (!warned)
			fprintf(stderr, "zpath-echo: the stack has %d counters, only %d are shown\n", n,
				ECHO_MAX_COUNTERS);
		warned = true;
	}
	t->n = n < 0 ? 0 : n > ECHO_MAX_COUNTERS ? ECHO_MAX_COUNTERS : (unsigned)n;
	for (i = 0; i < t->n; i++) {
		const struct zp_counter *c = &t->c[i];

		if (c->drop)
			t->drops += c->value;
		else if (strcmp(c->name, "rx_packets") == 0)
			t->rx = c->value;
		else if (strcmp(c->name, "tx_packets") == 0)
			t->tx = c->value;
		else if (strcmp(c->name, "arp_requests_in") == 0 ||
			 strcmp(c->name, "arp_replies_in") == 0)
			t->arp_in += c->value;
		else if (strcmp(c->name, "icmp_echo_in") == 0)
			t->echo_answered = c->value;
	}
}

/*
 * Called by worker 0 of every mode on each loop pass: ends the run at --duration and prints
 * the progress line once a second.
 */
static void echo_tick(struct echo_ctx *ctx, uint64_t now)
{
	struct echo_totals t;
	char extra[512] = "";

	if (ctx->opt.duration_s > 0 &&
	    now - ctx->start_ns >= (uint64_t)(ctx->opt.duration_s * 1e9)) {
		zp_stop();
		return;
	}
	if (now < ctx->next_report_ns)
		return;
	ctx->next_report_ns += 1000000000u;
	totals_read(&t);
	if (ctx->opt.mode->progress != NULL)
		ctx->opt.mode->progress(ctx, extra, sizeof(extra));
	fprintf(stderr,
		"zpath-echo: %" PRIu64 "s rx=%" PRIu64 " tx=%" PRIu64 " echo_answered=%" PRIu64
		" replies=%" PRIu64 " drops=%" PRIu64 "%s\n",
		(now - ctx->start_ns) / 1000000000u, t.rx, t.tx, t.echo_answered, ctx->ping_replies,
		t.drops, extra);
}

static void summary(const struct echo_ctx *ctx)
{
	struct echo_totals t;
	unsigned i;

	totals_read(&t);
	printf("zpath-echo: rx=%" PRIu64 " tx=%" PRIu64 " arp_in=%" PRIu64 " echo_answered=%" PRIu64
	       " ping_sent=%" PRIu64 " ping_replies=%" PRIu64 " drops=%" PRIu64,
	       t.rx, t.tx, t.arp_in, t.echo_answered, ctx->ping_sent, ctx->ping_replies, t.drops);
	if (ctx->opt.mode->summary != NULL)
		ctx->opt.mode->summary(ctx, stdout);
	for (i = 0; i < t.n; i++)
		if (t.c[i].drop && t.c[i].value != 0)
			printf(" %s=%" PRIu64, t.c[i].name, t.c[i].value);
	printf("\n");
	fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* Mode "icmp": answer ARP and ping; --ping sends echo requests from worker 0.                 */

static void ping_step(struct echo_ctx *ctx, uint64_t now, uint64_t *next_ping, uint16_t *seq)
{
	const struct echo_opts *o = &ctx->opt;

	if (now >= *next_ping) {
		*next_ping += (uint64_t)o->interval_ms * 1000000u;
		if (zp_ping_send(o->ping_dst, ctx->ident, (*seq)++, o->size) == 0) {
			ctx->ping_sent++;
		} else {
			if (ctx->ping_errors++ == 0)
				fprintf(stderr, "zpath-echo: ping %s: %s\n", o->ping_dst_s,
					strerror(errno));
		}
	}
	ctx->ping_replies = zp_ping_replies(ctx->ident);
	if (o->count > 0 && ctx->ping_replies >= o->count)
		zp_stop();
}

static int icmp_worker(struct echo_ctx *ctx)
{
	uint64_t next_ping = now_ns();
	uint16_t seq = 1;

	if (zp_worker_id() != 0) {
		/* Other workers only serve their queues (and flows steered to them). */
		while (zp_running())
			zp_poll();
		return 0;
	}
	while (zp_running()) {
		uint64_t now;

		zp_poll();
		now = now_ns();
		if (ctx->opt.ping)
			ping_step(ctx, now, &next_ping, &seq);
		echo_tick(ctx, now);
	}
	/* A last look: replies that arrived with the final poll. */
	if (ctx->opt.ping)
		ctx->ping_replies = zp_ping_replies(ctx->ident);
	return 0;
}

static int icmp_status(const struct echo_ctx *ctx)
{
	if (!ctx->opt.ping)
		return 0;
	if (ctx->opt.count > 0)
		return ctx->ping_replies >= ctx->opt.count ? 0 : 1;
	return ctx->ping_replies > 0 ? 0 : 1;
}

/* ------------------------------------------------------------------------------------------ */
/* TCP helpers shared by "echo" and "client".                                                  */

/* Bytes of connection @p conn's stream: position @p off holds byte (off & 7) of a 64-bit
 * splitmix of (off / 8, conn), so a lost, duplicated or reordered byte never matches. */
static uint64_t mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void stream_fill(uint8_t *p, uint64_t conn, uint64_t off, size_t n)
{
	uint64_t seed = conn << 40;

	while (n > 0) {
		uint64_t w = mix((off >> 3) ^ seed);
		unsigned k = (unsigned)(off & 7);

		if (k == 0 && n >= 8) {
			memcpy(p, &w, 8);
			p += 8;
			off += 8;
			n -= 8;
			continue;
		}
		for (; k < 8 && n > 0; k++, n--, off++)
			*p++ = (uint8_t)(w >> (8 * k));
	}
}

/* EPOLLET with --et, else 0: set by main() before the workers start, read-only after. */
static uint32_t epoll_et;

/* Set the epoll interest of @p fd to @p want if it changed. */
static int interest(int ep, int fd, uint32_t *cur, uint32_t want)
{
	struct epoll_event ev = {.events = want | epoll_et, .data.fd = fd};

	if (*cur == want)
		return 0;
	*cur = want;
	return zp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void set_linger0(int fd)
{
	struct linger l = {.l_onoff = 1, .l_linger = 0};

	zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
}

/* Grow a descriptor-indexed table of pointers to hold @p fd. */
static int table_fit(void ***tab, unsigned *cap, int fd)
{
	unsigned n = *cap ? *cap : 64;
	void **t;

	if ((unsigned)fd < *cap)
		return 0;
	while (n <= (unsigned)fd)
		n *= 2;
	t = realloc(*tab, n * sizeof(*t));
	if (t == NULL)
		return -1;
	memset(t + *cap, 0, (n - *cap) * sizeof(*t));
	*tab = t;
	*cap = n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Mode "echo": TCP echo server.                                                               */

struct econn {
	int fd;
	uint32_t events;   /* current epoll interest */
	uint32_t off, len; /* buf[off, off+len) read but not yet echoed */
	uint64_t echoed;
	bool eof;
	uint8_t buf[ECHO_CONN_BUF];
};

struct eworker {
	struct echo_ctx *ctx;
	struct tcp_wstats *st;
	int ep, lfd;
	struct econn **conns; /* by descriptor */
	unsigned cap;
};

static void econn_close(struct eworker *ew, struct econn *c, bool abort, int err)
{
	if (err == ECONNRESET || err == EPIPE)
		bump(&ew->st->resets, 1);
	else if (err != 0) {
		if (ew->st->errors < ECHO_REPORT_FAILS)
			fprintf(stderr, "zpath-echo: connection %d: %s\n", c->fd, strerror(err));
		bump(&ew->st->errors, 1);
	}
	if (abort)
		set_linger0(c->fd);
	zp_close(c->fd); /* also leaves the epoll set */
	ew->conns[c->fd] = NULL;
	free(c);
	bump(&ew->st->closed, 1);
}

/* Echo what can be echoed now: send what is pending, read more, repeat until blocked. */
static void econn_run(struct eworker *ew, struct econn *c)
{
	const struct echo_opts *o = &ew->ctx->opt;
	uint64_t limit = o->abort_after ? o->abort_after : o->close_after;
	ssize_t n;

	for (;;) {
		while (c->len > 0) {
			n = zp_send(c->fd, c->buf + c->off, c->len, 0);
			if (n < 0) {
				if (errno != EAGAIN) {
					econn_close(ew, c, false, errno);
					return;
				}
				/* Backpressure: stop reading until the echo can leave. */
				if (interest(ew->ep, c->fd, &c->events, EPOLLOUT) != 0) {
					econn_close(ew, c, true, errno);
					return;
				}
				return;
			}
			c->off += (uint32_t)n;
			c->len -= (uint32_t)n;
			c->echoed += (uint64_t)n;
			bump(&ew->st->bytes_out, (uint64_t)n);
		}
		c->off = 0;
		if (limit > 0 && c->echoed >= limit) {
			/* We close first: RST with --abort-after (or --linger0), else FIN. */
			econn_close(ew, c, o->abort_after > 0 || o->linger0, 0);
			return;
		}
		if (c->eof) {
			econn_close(ew, c, o->linger0, 0); /* all echoed: FIN */
			return;
		}
		n = zp_recv(c->fd, c->buf, sizeof(c->buf), 0);
		if (n > 0) {
			if (limit > 0 && c->echoed + (uint64_t)n > limit)
				n = (ssize_t)(limit - c->echoed);
			c->len = (uint32_t)n;
			bump(&ew->st->bytes_in, (uint64_t)n);
			continue;
		}
		if (n == 0) {
			c->eof = true;
			continue;
		}
		if (errno != EAGAIN) {
			econn_close(ew, c, false, errno);
			return;
		}
		if (interest(ew->ep, c->fd, &c->events, EPOLLIN | EPOLLRDHUP) != 0) {
			econn_close(ew, c, true, errno);
			return;
		}
		return;
	}
}

static void eworker_accept(struct eworker *ew)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | epoll_et};
		struct econn *c;
		int one = 1;
		int fd = zp_accept(ew->lfd, NULL, NULL);

		if (fd < 0) {
			if (errno != EAGAIN) {
				if (ew->st->errors < ECHO_REPORT_FAILS)
					fprintf(stderr, "zpath-echo: accept: %s\n",
						strerror(errno));
				bump(&ew->st->errors, 1);
			}
			return;
		}
		bump(&ew->st->accepted, 1);
		c = malloc(sizeof(*c));
		if (c == NULL || table_fit((void ***)&ew->conns, &ew->cap, fd) != 0) {
			free(c);
			set_linger0(fd);
			zp_close(fd);
			bump(&ew->st->errors, 1);
			bump(&ew->st->closed, 1);
			continue;
		}
		memset(c, 0, offsetof(struct econn, buf));
		c->fd = fd;
		c->events = EPOLLIN | EPOLLRDHUP;
		ev.data.fd = fd;
		if (ew->ctx->opt.nodelay)
			zp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ew->conns[fd] = c;
		if (zp_epoll_ctl(ew->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			econn_close(ew, c, true, errno);
			continue;
		}
		econn_run(ew, c); /* data may have come with the handshake's last ACK */
	}
}

static int echo_worker(struct echo_ctx *ctx)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event evs[ECHO_EVENTS], lev = {.events = EPOLLIN};
	struct eworker ew = {.ctx = ctx};
	int wid = zp_worker_id(), one = 1, i, n;
	unsigned fd;

	ew.st = &ctx->tcp[wid];
	ew.ep = zp_epoll_create();
	ew.lfd = zp_socket(AF_INET, SOCK_STREAM, 0);
	if (ew.ep < 0 || ew.lfd < 0) {
		fprintf(stderr, "zpath-echo: worker %d: socket: %s\n", wid, strerror(errno));
		zp_stop();
		return 1;
	}
	zp_setsockopt(ew.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons(ctx->opt.port);
	lev.data.fd = ew.lfd;
	if (zp_bind(ew.lfd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    zp_listen(ew.lfd, 1024) != 0 || zp_epoll_ctl(ew.ep, EPOLL_CTL_ADD, ew.lfd, &lev) != 0) {
		fprintf(stderr, "zpath-echo: worker %d: listen on port %u: %s\n", wid,
			ctx->opt.port, strerror(errno));
		zp_stop();
		return 1;
	}
	if (wid == 0)
		fprintf(stderr, "zpath-echo: TCP echo on port %u, %u worker(s)\n", ctx->opt.port,
			zp_worker_count());
	while (zp_running()) {
		n = zp_epoll_wait(ew.ep, evs, ECHO_EVENTS, 1);
		for (i = 0; i < n; i++) {
			int efd = evs[i].data.fd;

			if (efd == ew.lfd)
				eworker_accept(&ew);
			else if ((unsigned)efd < ew.cap && ew.conns[efd] != NULL)
				econn_run(&ew, ew.conns[efd]);
		}
		if (wid == 0)
			echo_tick(ctx, now_ns());
	}
	/* Stopped: reset what is still open (the process goes away). */
	for (fd = 0; fd < ew.cap; fd++)
		if (ew.conns[fd] != NULL)
			econn_close(&ew, ew.conns[fd], true, 0);
	free(ew.conns);
	zp_close(ew.lfd);
	zp_close(ew.ep);
	return 0;
}

static int echo_status(const struct echo_ctx *ctx)
{
	(void)ctx;
	return 0;
}

struct tcp_sum {
	uint64_t accepted, closed, bytes_in, bytes_out, resets, errors;
	uint64_t ok, failed, started, bytes_verified, bytes_sent, retrans, srtt_sum_us;
	uint64_t t_first_ns, t_last_ns;
};

static void tcp_sum(const struct echo_ctx *ctx, struct tcp_sum *s)
{
	unsigned i, nw = zp_worker_count();

	memset(s, 0, sizeof(*s));
	for (i = 0; i < nw && i < ECHO_MAX_WORKERS; i++) {
		const struct tcp_wstats *w = &ctx->tcp[i];

		s->accepted += load(&w->accepted);
		s->closed += load(&w->closed);
		s->bytes_in += load(&w->bytes_in);
		s->bytes_out += load(&w->bytes_out);
		s->resets += load(&w->resets);
		s->errors += load(&w->errors);
		s->ok += load(&w->ok);
		s->failed += load(&w->failed);
		s->started += load(&w->started);
		s->bytes_verified += load(&w->bytes_verified);
		s->bytes_sent += load(&w->bytes_sent);
		s->retrans += load(&w->retrans);
		s->srtt_sum_us += load(&w->srtt_sum_us);
		if (w->t_first_ns != 0 && (s->t_first_ns == 0 || w->t_first_ns < s->t_first_ns))
			s->t_first_ns = w->t_first_ns;
		if (w->t_last_ns > s->t_last_ns)
			s->t_last_ns = w->t_last_ns;
	}
}

static void echo_progress(const struct echo_ctx *ctx, char *buf, size_t len)
{
	struct tcp_sum s;

	tcp_sum(ctx, &s);
	snprintf(buf, len,
		 " conns_accepted=%" PRIu64 " active=%" PRIu64 " bytes_echoed=%" PRIu64
		 " resets=%" PRIu64 " errors=%" PRIu64,
		 s.accepted, s.accepted - s.closed, s.bytes_out, s.resets, s.errors);
}

static void echo_summary(const struct echo_ctx *ctx, FILE *f)
{
	struct tcp_sum s;

	tcp_sum(ctx, &s);
	fprintf(f,
		" conns_accepted=%" PRIu64 " conns_closed=%" PRIu64 " bytes_in=%" PRIu64
		" bytes_echoed=%" PRIu64 " resets=%" PRIu64 " errors=%" PRIu64,
		s.accepted, s.closed, s.bytes_in, s.bytes_out, s.resets, s.errors);
}

/* ------------------------------------------------------------------------------------------ */
/* Mode "client": connect, send, verify the echo.                                              */

struct cconn {
	int fd;
	uint32_t events;
	uint64_t idx; /* connection number: selects its byte stream */
	uint64_t sent, echoed;
	uint64_t t_start, t_req;
	bool connected, shut, blocked;
};

struct cworker {
	struct echo_ctx *ctx;
	struct tcp_wstats *st;
	int ep;
	struct cconn **conns; /* by descriptor */
	unsigned cap;
	unsigned active;
	uint64_t next_idx, step;
	uint8_t *io, *want;
};

static void sample(uint32_t *arr, uint32_t *n, uint64_t ns)
{
	if (arr != NULL && *n < ECHO_SAMPLES)
		arr[(*n)++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

static void cconn_end(struct cworker *cw, struct cconn *c, int err, const char *why)
{
	struct zp_tcp_info ti;
	socklen_t tl = sizeof(ti);

	if (zp_getsockopt(c->fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &tl) == 0) {
		bump(&cw->st->retrans, ti.total_retrans);
		bump(&cw->st->srtt_sum_us, ti.rtt_us);
	}
	if (why == NULL) {
		bump(&cw->st->ok, 1);
		bump(&cw->st->bytes_verified, c->echoed);
	} else {
		if (cw->st->failed < ECHO_REPORT_FAILS)
			fprintf(stderr,
				"zpath-echo: connection %" PRIu64 " failed after %" PRIu64
				" bytes sent, %" PRIu64 " echoed: %s%s%s\n",
				c->idx, c->sent, c->echoed, why, err ? ": " : "",
				err ? strerror(err) : "");
		if (err == ECONNRESET || err == EPIPE)
			bump(&cw->st->resets, 1);
		bump(&cw->st->failed, 1);
	}
	if (cw->ctx->opt.linger0 || why != NULL)
		set_linger0(c->fd);
	zp_close(c->fd);
	cw->conns[c->fd] = NULL;
	free(c);
	cw->active--;
	cw->st->t_last_ns = now_ns();
}

static int cconn_open(struct cworker *cw)
{
	const struct echo_opts *o = &cw->ctx->opt;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP | epoll_et};
	struct cconn *c;
	int fd, one = 1;

	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		return -1;
	c = calloc(1, sizeof(*c));
	if (c == NULL || table_fit((void ***)&cw->conns, &cw->cap, fd) != 0) {
		free(c);
		zp_close(fd);
		errno = ENOMEM;
		return -1;
	}
	c->fd = fd;
	c->idx = cw->next_idx;
	cw->next_idx += cw->step;
	c->t_start = now_ns();
	if (cw->st->t_first_ns == 0)
		cw->st->t_first_ns = c->t_start;
	cw->conns[fd] = c;
	cw->active++;
	bump(&cw->st->started, 1);
	if (o->nodelay || o->rr)
		zp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sin.sin_addr.s_addr = o->connect_dst;
	sin.sin_port = htons(o->port);
	ev.data.fd = fd;
	c->events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
	if (zp_epoll_ctl(cw->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
		cconn_end(cw, c, errno, "epoll_ctl");
		return 0;
	}
	if (zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 && errno != EINPROGRESS)
		cconn_end(cw, c, errno, "connect");
	return 0;
}

/* Send what may be sent now. Returns 0, or -1 with errno when the connection failed. */
static int cconn_send(struct cworker *cw, struct cconn *c)
{
	const struct echo_opts *o = &cw->ctx->opt;

	c->blocked = false;
	while (c->sent < o->bytes) {
		uint64_t chunk_end, n;
		ssize_t r;

		if (o->rr) {
			/* One message at a time: a new one only once the last came back whole. */
			if (c->sent % o->size == 0) {
				if (c->echoed != c->sent)
					return 0;
				c->t_req = now_ns();
			}
			chunk_end = (c->sent / o->size + 1) * o->size;
		} else {
			chunk_end = c->sent + o->size;
		}
		if (chunk_end > o->bytes)
			chunk_end = o->bytes;
		n = chunk_end - c->sent;
		if (n > ECHO_IO_BUF)
			n = ECHO_IO_BUF;
		stream_fill(cw->io, c->idx, c->sent, n);
		r = zp_send(c->fd, cw->io, n, 0);
		if (r < 0) {
			if (errno == EAGAIN) {
				c->blocked = true;
				return 0;
			}
			return -1;
		}
		c->sent += (uint64_t)r;
		bump(&cw->st->bytes_sent, (uint64_t)r);
		if ((uint64_t)r < n) {
			c->blocked = true;
			return 0;
		}
	}
	if (!c->shut && !o->linger0) {
		/* All sent: half-close; the server's end of stream follows the last echo. */
		c->shut = true;
		if (zp_shutdown(c->fd, SHUT_WR) != 0)
			return -1;
	}
	return 0;
}

static void cconn_run(struct cworker *cw, struct cconn *c)
{
	const struct echo_opts *o = &cw->ctx->opt;
	uint32_t want;

	if (!c->connected) {
		struct sockaddr_in peer;
		socklen_t el = sizeof(int), pl = sizeof(peer);
		int err = 0;

		if (zp_getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
			err = errno;
		if (err != 0) {
			cconn_end(cw, c, err, "connect");
			return;
		}
		if (zp_getpeername(c->fd, (struct sockaddr *)&peer, &pl) != 0)
			return; /* still in progress */
		c->connected = true;
		sample(cw->st->conn_ns, &cw->st->nconn, now_ns() - c->t_start);
	}
	for (;;) {
		ssize_t r;

		if (cconn_send(cw, c) != 0) {
			cconn_end(cw, c, errno, "send");
			return;
		}
		r = zp_recv(c->fd, cw->io, ECHO_IO_BUF, 0);
		if (r > 0) {
			if (c->echoed + (uint64_t)r > c->sent) {
				cconn_end(cw, c, 0, "more bytes came back than were sent");
				return;
			}
			stream_fill(cw->want, c->idx, c->echoed, (size_t)r);
			if (memcmp(cw->io, cw->want, (size_t)r) != 0) {
				size_t k = 0;

				while (cw->io[k] == cw->want[k])
					k++;
				fprintf(stderr,
					"zpath-echo: connection %" PRIu64
					": echo differs at byte %" PRIu64 "\n",
					c->idx, c->echoed + k);
				cconn_end(cw, c, 0, "echo differs");
				return;
			}
			c->echoed += (uint64_t)r;
			if (o->rr && c->echoed == c->sent &&
			    (c->echoed % o->size == 0 || c->echoed == o->bytes))
				sample(cw->st->rtt_ns, &cw->st->nrtt, now_ns() - c->t_req);
			if (o->linger0 && c->echoed == o->bytes) {
				cconn_end(cw, c, 0, NULL); /* abort once all came back */
				return;
			}
			continue;
		}
		if (r == 0) {
			if (c->echoed == o->bytes && c->sent == o->bytes) {
				cconn_end(cw, c, 0, NULL);
				return;
			}
			cconn_end(cw, c, 0, "end of stream before the whole echo");
			return;
		}
		if (errno != EAGAIN) {
			cconn_end(cw, c, errno, "recv");
			return;
		}
		break;
	}
	want = EPOLLIN | EPOLLRDHUP | (c->blocked ? EPOLLOUT : 0);
	if (interest(cw->ep, c->fd, &c->events, want) != 0) {
		cconn_end(cw, c, errno, "epoll_ctl");
		return;
	}
}

static int client_worker(struct echo_ctx *ctx)
{
	const struct echo_opts *o = &ctx->opt;
	struct epoll_event evs[ECHO_EVENTS];
	struct cworker cw = {.ctx = ctx};
	int wid = zp_worker_id(), i, n;
	uint64_t drain_end = 0, start_at = now_ns() + (uint64_t)o->delay_ms * 1000000u;
	unsigned fd;

	cw.st = &ctx->tcp[wid];
	cw.next_idx = (uint64_t)wid;
	cw.step = zp_worker_count();
	cw.ep = zp_epoll_create();
	cw.io = malloc(ECHO_IO_BUF);
	cw.want = malloc(ECHO_IO_BUF);
	cw.st->rtt_ns = o->rr ? malloc(ECHO_SAMPLES * sizeof(uint32_t)) : NULL;
	cw.st->conn_ns = malloc(ECHO_SAMPLES * sizeof(uint32_t));
	if (cw.ep < 0 || cw.io == NULL || cw.want == NULL || cw.st->conn_ns == NULL ||
	    (o->rr && cw.st->rtt_ns == NULL)) {
		fprintf(stderr, "zpath-echo: worker %d: out of memory\n", wid);
		zp_stop();
		return 1;
	}
	while (zp_running()) {
		uint64_t now;

		while (cw.active < o->parallel && cw.next_idx < o->conns && now_ns() >= start_at) {
			if (cconn_open(&cw) != 0) {
				fprintf(stderr, "zpath-echo: socket: %s\n", strerror(errno));
				bump(&cw.st->failed, 1);
				cw.next_idx += cw.step;
			}
		}
		n = zp_epoll_wait(cw.ep, evs, ECHO_EVENTS, 0);
		for (i = 0; i < n; i++) {
			int efd = evs[i].data.fd;

			if ((unsigned)efd < cw.cap && cw.conns[efd] != NULL)
				cconn_run(&cw, cw.conns[efd]);
		}
		now = now_ns();
		if (cw.active == 0 && cw.next_idx >= o->conns) {
			if (drain_end == 0)
				drain_end = now + ECHO_DRAIN_NS;
			else if (now >= drain_end && !cw.st->done)
				__atomic_store_n(&cw.st->done, true, __ATOMIC_RELEASE);
		}
		if (wid == 0) {
			unsigned w, done = 0;

			for (w = 0; w < zp_worker_count(); w++)
				done += __atomic_load_n(&ctx->tcp[w].done, __ATOMIC_ACQUIRE);
			if (done == zp_worker_count())
				zp_stop();
			echo_tick(ctx, now);
		}
	}
	for (fd = 0; fd < cw.cap; fd++)
		if (cw.conns[fd] != NULL)
			cconn_end(&cw, cw.conns[fd], 0, "stopped before the echo was complete");
	free(cw.conns);
	free(cw.io);
	free(cw.want);
	zp_close(cw.ep);
	return 0;
}

static int client_status(const struct echo_ctx *ctx)
{
	struct tcp_sum s;

	tcp_sum(ctx, &s);
	return s.ok == ctx->opt.conns && s.failed == 0 ? 0 : 1;
}

static void client_progress(const struct echo_ctx *ctx, char *buf, size_t len)
{
	struct tcp_sum s;

	tcp_sum(ctx, &s);
	snprintf(buf, len,
		 " conns_ok=%" PRIu64 " failed=%" PRIu64 " active=%" PRIu64 " bytes_sent=%" PRIu64
		 " bytes_verified=%" PRIu64,
		 s.ok, s.failed, s.started - s.ok - s.failed, s.bytes_sent, s.bytes_verified);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

struct dist {
	uint64_t n, avg, p50, p99, max; /* microseconds */
};

/* Gather every worker's samples of one kind and summarise them. */
static void dist_of(const struct echo_ctx *ctx, bool rtt, struct dist *d)
{
	unsigned w, nw = zp_worker_count();
	uint64_t total = 0, sum = 0, i;
	uint32_t *all;

	memset(d, 0, sizeof(*d));
	for (w = 0; w < nw; w++)
		total += rtt ? ctx->tcp[w].nrtt : ctx->tcp[w].nconn;
	if (total == 0 || (all = malloc(total * sizeof(*all))) == NULL)
		return;
	total = 0;
	for (w = 0; w < nw; w++) {
		const uint32_t *a = rtt ? ctx->tcp[w].rtt_ns : ctx->tcp[w].conn_ns;
		uint32_t k = rtt ? ctx->tcp[w].nrtt : ctx->tcp[w].nconn;

		if (a != NULL)
			memcpy(all + total, a, k * sizeof(*a));
		total += a != NULL ? k : 0;
	}
	qsort(all, total, sizeof(*all), cmp_u32);
	for (i = 0; i < total; i++)
		sum += all[i];
	d->n = total;
	d->avg = total ? sum / total / 1000 : 0;
	d->p50 = total ? all[total / 2] / 1000 : 0;
	d->p99 =
		total ? all[(total * 99) / 100 < total ? (total * 99) / 100 : total - 1] / 1000 : 0;
	d->max = total ? all[total - 1] / 1000 : 0;
	free(all);
}

static void client_summary(const struct echo_ctx *ctx, FILE *f)
{
	const struct echo_opts *o = &ctx->opt;
	struct tcp_sum s;
	struct dist rtt, con;
	uint64_t ms, mbit;
	double secs;

	tcp_sum(ctx, &s);
	dist_of(ctx, true, &rtt);
	dist_of(ctx, false, &con);
	secs = s.t_last_ns > s.t_first_ns ? (double)(s.t_last_ns - s.t_first_ns) / 1e9 : 0;
	ms = (uint64_t)(secs * 1000);
	mbit = secs > 0 ? (uint64_t)((double)s.bytes_verified * 8 / secs / 1e6) : 0;
	fprintf(f,
		" conns_ok=%" PRIu64 " conns_failed=%" PRIu64 " bytes_sent=%" PRIu64
		" bytes_verified=%" PRIu64 " ms=%" PRIu64 " mbit_s=%" PRIu64 " resets=%" PRIu64
		" retrans=%" PRIu64 " srtt_avg_us=%" PRIu64 " connect_avg_us=%" PRIu64
		" connect_p99_us=%" PRIu64,
		s.ok, s.failed, s.bytes_sent, s.bytes_verified, ms, mbit, s.resets, s.retrans,
		s.ok + s.failed ? s.srtt_sum_us / (s.ok + s.failed) : 0, con.avg, con.p99);
	if (o->rr)
		fprintf(f,
			" rtt_n=%" PRIu64 " rtt_avg_us=%" PRIu64 " rtt_p50_us=%" PRIu64
			" rtt_p99_us=%" PRIu64 " rtt_max_us=%" PRIu64,
			rtt.n, rtt.avg, rtt.p50, rtt.p99, rtt.max);
	fprintf(stderr,
		"zpath-echo: client: %" PRIu64 "/%" PRIu64 " connections verified, %" PRIu64
		" bytes each way in %.3f s: %.1f Mbit/s each way, %.0f connections/s; "
		"connect avg %" PRIu64 " us p99 %" PRIu64 " us",
		s.ok, o->conns, s.bytes_verified, secs, secs > 0 ? (double)mbit : 0.0,
		secs > 0 ? (double)s.ok / secs : 0.0, con.avg, con.p99);
	if (o->rr)
		fprintf(stderr,
			"; %" PRIu64 "-byte round trips: avg %" PRIu64 " us p50 %" PRIu64
			" us p99 %" PRIu64 " us max %" PRIu64 " us (%.0f/s per connection)",
			(uint64_t)o->size, rtt.avg, rtt.p50, rtt.p99, rtt.max,
			rtt.avg ? 1e6 / (double)rtt.avg : 0.0);
	fprintf(stderr, "\n");
}

static const struct echo_mode modes[] = {
	{.name = "icmp",
	 .help = "answer ARP and ping; with --ping, send echo requests",
	 .worker = icmp_worker,
	 .status = icmp_status},
	{.name = "echo",
	 .help = "TCP echo server on --port (every worker)",
	 .worker = echo_worker,
	 .status = echo_status,
	 .progress = echo_progress,
	 .summary = echo_summary},
	{.name = "client",
	 .help = "TCP client of an echo server at --connect: send, verify the echo",
	 .worker = client_worker,
	 .status = client_status,
	 .progress = client_progress,
	 .summary = client_summary},
};

/* ------------------------------------------------------------------------------------------ */
/* Program arguments (what zp_init() left after the second "--")                              */

static void usage(FILE *f, const char *prog)
{
	unsigned i;

	fprintf(f,
		"usage: %s [EAL args] -- [-c zpath.ini] [-i NAME] [-q] [-s section.key=value]... "
		"-- [options]\n"
		"options:\n"
		"  --mode MODE         what to do (default icmp)\n"
		"  --duration SEC      stop after SEC seconds (default: at SIGINT/SIGTERM)\n"
		"  --ping A.B.C.D      icmp: send ICMP echo requests to this address\n"
		"  --count N           icmp: stop after N replies (exit 1 if fewer)\n"
		"  --interval-ms MS    icmp: one request every MS ms (default 200)\n"
		"  --size BYTES        icmp: payload bytes (default 56);\n"
		"                      client: bytes per write / per --rr message (default 16384)\n"
		"  --port P            echo: TCP port to listen on\n"
		"  --connect A.B.C.D:P client: the echo server\n"
		"  --bytes N           client: bytes sent (and echoed) per connection (default 1 "
		"MiB)\n"
		"  --conns N           client: connections in all (default 1)\n"
		"  --parallel N        client: connections at a time per worker (default 1)\n"
		"  --rr                client: request/response, one --size message at a time\n"
		"  --nodelay           set TCP_NODELAY on every connection\n"
		"  --linger0           close with SO_LINGER {1,0} (RST) instead of FIN\n"
		"  --abort-after N     echo: abort each connection once N bytes were echoed\n"
		"  --close-after N     echo: close each connection (FIN) once N bytes were echoed\n"
		"  --delay-ms MS       client: keep polling MS ms before the first connection\n"
		"  --et                use edge-triggered epoll (EPOLLET) for the connections\n"
		"modes:\n",
		prog);
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
		fprintf(f, "  %-8s %s\n", modes[i].name, modes[i].help);
}

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct echo_opts *o)
{
	enum {
		O_MODE = 1,
		O_DURATION,
		O_PING,
		O_COUNT,
		O_INTERVAL,
		O_SIZE,
		O_PORT,
		O_CONNECT,
		O_BYTES,
		O_CONNS,
		O_PARALLEL,
		O_RR,
		O_NODELAY,
		O_LINGER0,
		O_ABORT_AFTER,
		O_CLOSE_AFTER,
		O_DELAY,
		O_ET,
		O_HELP
	};
	static const struct option lopts[] = {
		{"mode", required_argument, NULL, O_MODE},
		{"duration", required_argument, NULL, O_DURATION},
		{"ping", required_argument, NULL, O_PING},
		{"count", required_argument, NULL, O_COUNT},
		{"interval-ms", required_argument, NULL, O_INTERVAL},
		{"size", required_argument, NULL, O_SIZE},
		{"port", required_argument, NULL, O_PORT},
		{"connect", required_argument, NULL, O_CONNECT},
		{"bytes", required_argument, NULL, O_BYTES},
		{"conns", required_argument, NULL, O_CONNS},
		{"parallel", required_argument, NULL, O_PARALLEL},
		{"rr", no_argument, NULL, O_RR},
		{"nodelay", no_argument, NULL, O_NODELAY},
		{"linger0", no_argument, NULL, O_LINGER0},
		{"abort-after", required_argument, NULL, O_ABORT_AFTER},
		{"close-after", required_argument, NULL, O_CLOSE_AFTER},
		{"delay-ms", required_argument, NULL, O_DELAY},
		{"et", no_argument, NULL, O_ET},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	struct in_addr a;
	uint64_t v, size = 0;
	char *end, host[INET_ADDRSTRLEN + 8], *colon;
	unsigned i;
	int c;

	o->mode = &modes[0];
	o->interval_ms = 200;
	o->size = 56;
	o->bytes = 1u << 20;
	o->conns = 1;
	o->parallel = 1;
	optind = 1;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
		switch (c) {
		case O_MODE:
			o->mode = NULL;
			for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++)
				if (strcmp(optarg, modes[i].name) == 0)
					o->mode = &modes[i];
			if (o->mode == NULL) {
				fprintf(stderr, "zpath-echo: unknown --mode \"%s\"\n", optarg);
				return -1;
			}
			break;
		case O_DURATION:
			errno = 0;
			o->duration_s = strtod(optarg, &end);
			if (errno != 0 || *end != '\0' || !(o->duration_s > 0)) {
				fprintf(stderr, "zpath-echo: --duration \"%s\": need seconds > 0\n",
					optarg);
				return -1;
			}
			break;
		case O_PING:
			if (inet_pton(AF_INET, optarg, &a) != 1) {
				fprintf(stderr, "zpath-echo: --ping \"%s\": not an IPv4 address\n",
					optarg);
				return -1;
			}
			o->ping = true;
			o->ping_dst = a.s_addr;
			snprintf(o->ping_dst_s, sizeof(o->ping_dst_s), "%s", optarg);
			break;
		case O_COUNT:
			if (parse_u64(optarg, 1, UINT32_MAX, &o->count) != 0) {
				fprintf(stderr, "zpath-echo: --count \"%s\": need 1..%u\n", optarg,
					UINT32_MAX);
				return -1;
			}
			break;
		case O_INTERVAL:
			if (parse_u64(optarg, 1, 3600000, &v) != 0) {
				fprintf(stderr,
					"zpath-echo: --interval-ms \"%s\": need 1..3600000\n",
					optarg);
				return -1;
			}
			o->interval_ms = (unsigned)v;
			break;
		case O_SIZE:
			if (parse_u64(optarg, 0, 1u << 24, &size) != 0) {
				fprintf(stderr, "zpath-echo: --size \"%s\": need a byte count\n",
					optarg);
				return -1;
			}
			o->size_set = true;
			break;
		case O_PORT:
			if (parse_u64(optarg, 1, 65535, &v) != 0) {
				fprintf(stderr, "zpath-echo: --port \"%s\": need 1..65535\n",
					optarg);
				return -1;
			}
			o->port = (uint16_t)v;
			break;
		case O_CONNECT:
			snprintf(host, sizeof(host), "%s", optarg);
			colon = strrchr(host, ':');
			if (colon != NULL)
				*colon = '\0';
			if (colon == NULL || inet_pton(AF_INET, host, &a) != 1 ||
			    parse_u64(colon + 1, 1, 65535, &v) != 0) {
				fprintf(stderr, "zpath-echo: --connect \"%s\": need A.B.C.D:PORT\n",
					optarg);
				return -1;
			}
			o->connect_dst = a.s_addr;
			o->port = (uint16_t)v;
			snprintf(o->connect_s, sizeof(o->connect_s), "%s", optarg);
			break;
		case O_BYTES:
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &o->bytes) != 0) {
				fprintf(stderr, "zpath-echo: --bytes \"%s\": need >= 1\n", optarg);
				return -1;
			}
			break;
		case O_CONNS:
			if (parse_u64(optarg, 1, UINT32_MAX, &o->conns) != 0) {
				fprintf(stderr, "zpath-echo: --conns \"%s\": need >= 1\n", optarg);
				return -1;
			}
			break;
		case O_PARALLEL:
			if (parse_u64(optarg, 1, 60000, &v) != 0) {
				fprintf(stderr, "zpath-echo: --parallel \"%s\": need 1..60000\n",
					optarg);
				return -1;
			}
			o->parallel = (unsigned)v;
			break;
		case O_RR:
			o->rr = true;
			break;
		case O_NODELAY:
			o->nodelay = true;
			break;
		case O_LINGER0:
			o->linger0 = true;
			break;
		case O_ABORT_AFTER:
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &o->abort_after) != 0) {
				fprintf(stderr, "zpath-echo: --abort-after \"%s\": need >= 1\n",
					optarg);
				return -1;
			}
			break;
		case O_CLOSE_AFTER:
			if (parse_u64(optarg, 1, UINT64_MAX / 2, &o->close_after) != 0) {
				fprintf(stderr, "zpath-echo: --close-after \"%s\": need >= 1\n",
					optarg);
				return -1;
			}
			break;
		case O_ET:
			o->et = true;
			break;
		case O_DELAY:
			if (parse_u64(optarg, 0, 3600000, &v) != 0) {
				fprintf(stderr, "zpath-echo: --delay-ms \"%s\": need 0..3600000\n",
					optarg);
				return -1;
			}
			o->delay_ms = (unsigned)v;
			break;
		case 'h':
		case O_HELP:
			usage(stdout, argv[0]);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "zpath-echo: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	if (!o->ping && o->count > 0) {
		fprintf(stderr, "zpath-echo: --count needs --ping\n");
		return -1;
	}
	if (o->mode->worker == client_worker) {
		if (o->connect_dst == 0) {
			fprintf(stderr, "zpath-echo: --mode client needs --connect A.B.C.D:PORT\n");
			return -1;
		}
		if (o->size_set && size == 0) {
			fprintf(stderr, "zpath-echo: --size: need >= 1 in client mode\n");
			return -1;
		}
		o->size = o->size_set ? (size_t)size : 16384;
	} else if (o->mode->worker == echo_worker) {
		if (o->port == 0) {
			fprintf(stderr, "zpath-echo: --mode echo needs --port P\n");
			return -1;
		}
	} else if (o->size_set) {
		if (size > 8972) {
			fprintf(stderr, "zpath-echo: --size \"%" PRIu64 "\": need 0..8972\n", size);
			return -1;
		}
		o->size = (size_t)size;
	}
	return 0;
}

static int run_worker(void *arg)
{
	struct echo_ctx *ctx = arg;

	return ctx->opt.mode->worker(ctx);
}

int main(int argc, char **argv)
{
	static struct echo_ctx ctx;
	int n, rc, status;
	unsigned i;

	n = zp_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "zpath-echo: %s\n", zp_strerror_last());
		return 1;
	}
	argc -= n;
	argv += n;
	if (parse_opts(argc, argv, &ctx.opt) != 0) {
		usage(stderr, argv[0]);
		zp_fini();
		return 2;
	}
	if (zp_worker_count() > ECHO_MAX_WORKERS) {
		fprintf(stderr, "zpath-echo: at most %u workers\n", ECHO_MAX_WORKERS);
		zp_fini();
		return 2;
	}
	epoll_et = ctx.opt.et ? EPOLLET : 0;
	ctx.ident = (uint16_t)getpid();
	ctx.start_ns = now_ns();
	ctx.next_report_ns = ctx.start_ns + 1000000000u;

	rc = zp_run(run_worker, &ctx);
	summary(&ctx);
	status = rc != 0 ? 1 : ctx.opt.mode->status(&ctx);
	for (i = 0; i < ECHO_MAX_WORKERS; i++) {
		free(ctx.tcp[i].rtt_ns);
		free(ctx.tcp[i].conn_ns);
	}
	if (zp_fini() != 0)
		fprintf(stderr, "zpath-echo: zp_fini: %s\n", strerror(errno));
	return status;
}
