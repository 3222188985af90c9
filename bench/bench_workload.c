/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmark workloads (rr, bulk, crr; client and server), written once against
 * struct bench_ops so that the kernel and the zpath numbers come from the same code.
 *
 * One event loop per worker, level-triggered epoll, non-blocking sockets. Each connection
 * starts with a 16-byte hello from the client that tells the server the mode and the message
 * sizes, so one server serves every mode. What is sent is counted, not copied: a connection
 * keeps "bytes still to send" and sends them from one constant buffer.
 *
 *   rr    the client keeps --pipeline requests of --size bytes in flight on each of --conns
 *         connections; the server answers each complete request with --resp-size bytes.
 *         Latency = time from queueing a request to receiving the last byte of its response.
 *   bulk  the client sends without pause (--reverse: the server does); the receiver only
 *         counts. Gbit/s = payload bytes moved in the measured interval.
 *   crr   --conns slots each loop: connect, send one request, read the response, wait for
 *         the server's FIN (the server closes first, so TIME_WAIT stays on the server side
 *         and the client never runs out of ports), close. Latency = connect() to response.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define HELLO_MAGIC	0x5a504231u /* "ZPB1" */
#define HELLO_LEN	16
#define HELLO_F_REVERSE 0x01
#define MAX_EVENTS	256
#define RECV_BUF	(256u * 1024)
#define RECV_ROUNDS	8	     /* recv calls per event before giving others a turn */
#define TX_CHUNK_MAX	(4u << 20)   /* largest single send */
#define RETRY_NS	100000000ull /* 100 ms between attempts while the server is not up */
#define NS_PER_S	1000000000ull
#define LISTEN_ID	UINT64_MAX

/* The wire hello, network byte order. */
struct bench_hello {
	uint32_t magic;
	uint8_t mode;
	uint8_t flags;
	uint16_t reserved;
	uint32_t req_size;
	uint32_t resp_size;
};
_Static_assert(sizeof(struct bench_hello) == HELLO_LEN, "hello is 16 bytes on the wire");

enum conn_state {
	CS_FREE = 0,
	CS_RETRY,      /**< client: waiting to (re)connect at retry_at */
	CS_CONNECTING, /**< client: connect() in progress */
	CS_HELLO,      /**< server: reading the hello */
	CS_OPEN,       /**< exchanging data */
	CS_DRAIN,      /**< crr client: response complete, waiting for the server's FIN */
};

struct conn {
	int fd;
	enum conn_state state;
	bool want_out;	  /**< EPOLLOUT is in the interest set */
	bool close_after; /**< server crr: close once the response is sent */
	bool reverse;
	enum bench_mode mode;
	uint32_t req, resp;
	uint32_t hello_left; /**< client: hello bytes still to send */
	uint32_t hello_got;  /**< server: hello bytes received */
	uint8_t hello[HELLO_LEN];
	uint64_t tx_pending;	 /**< payload bytes still to send (UINT64_MAX: stream forever) */
	uint64_t rx_partial;	 /**< bytes of the current message received so far */
	uint64_t t_start;	 /**< crr: when connect() was called */
	uint64_t retry_at;	 /**< CS_RETRY: when to try again */
	uint32_t head, inflight; /**< rr client: ring of request timestamps */
	uint64_t *ts;
};

struct ctx {
	const struct bench_ops *ops;
	const struct bench_cfg *cfg;
	struct bench_result *res;
	unsigned worker, nb_workers;
	int ep, lfd;
	struct conn **conns; /**< slot table, epoll data = slot index */
	unsigned nb_slots, nb_used;
	unsigned nb_retry;
	uint8_t *txbuf; /**< hello followed by the payload pattern */
	size_t tx_cap;	/**< payload bytes available after the hello */
	uint8_t *rxbuf;
	uint64_t *ts_all;
	bool started; /**< client: a first connection was established */
	bool measuring, done;
	uint64_t t0, t_measure, t_first;
	/* Progress. */
	uint64_t next_tick, tick_ops, tick_tx, tick_rx;
	bool tick_measuring; /**< the interval being reported started measured */
	struct bench_hist tick_hist;
	/* Totals kept across the warm-up reset (server and progress). */
	uint64_t all_ops, all_tx, all_rx;
};

static const char *role_name(const struct ctx *c)
{
	return c->cfg->server ? "server" : "client";
}

static void hello_encode(const struct bench_cfg *cfg, uint8_t *out)
{
	struct bench_hello h = {
		.magic = htonl(HELLO_MAGIC),
		.mode = (uint8_t)cfg->mode,
		.flags = cfg->reverse ? HELLO_F_REVERSE : 0,
		.req_size = htonl(cfg->size),
		.resp_size = htonl(cfg->resp_size),
	};

	memcpy(out, &h, sizeof(h));
}

static int hello_decode(struct conn *cn)
{
	struct bench_hello h;

	memcpy(&h, cn->hello, sizeof(h));
	if (ntohl(h.magic) != HELLO_MAGIC || h.mode > BENCH_CRR || h.req_size == 0 ||
	    h.resp_size == 0)
		return -EPROTO;
	cn->mode = (enum bench_mode)h.mode;
	cn->reverse = (h.flags & HELLO_F_REVERSE) != 0;
	cn->req = ntohl(h.req_size);
	cn->resp = ntohl(h.resp_size);
	return 0;
}

/* ---- connection table ---------------------------------------------------------------------- */

static struct conn *slot_new(struct ctx *c, unsigned *id)
{
	unsigned i;

	for (i = 0; i < c->nb_slots; i++)
		if (c->conns[i]->state == CS_FREE)
			break;
	if (i == c->nb_slots) {
		unsigned n = c->nb_slots ? c->nb_slots * 2 : 64;
		struct conn **t = realloc(c->conns, n * sizeof(*t));
		unsigned j;

		if (t == NULL)
			return NULL;
		c->conns = t;
		for (j = c->nb_slots; j < n; j++) {
			t[j] = calloc(1, sizeof(**t));
			if (t[j] == NULL) {
				c->nb_slots = j;
				return NULL;
			}
			t[j]->fd = -1;
		}
		c->nb_slots = n;
	}
	*id = i;
	c->nb_used++;
	return c->conns[i];
}

static void conn_release(struct ctx *c, struct conn *cn)
{
	uint64_t *ts = cn->ts;

	if (cn->fd >= 0) {
		c->ops->epoll_ctl(c->ep, EPOLL_CTL_DEL, cn->fd, NULL);
		c->ops->close(cn->fd);
	}
	memset(cn, 0, sizeof(*cn));
	cn->fd = -1;
	cn->ts = ts;
	c->nb_used--;
}

static int set_events(struct ctx *c, struct conn *cn, unsigned id, bool out)
{
	struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | (out ? EPOLLOUT : 0),
				 .data.u64 = id};

	if (out == cn->want_out)
		return 0;
	cn->want_out = out;
	return c->ops->epoll_ctl(c->ep, EPOLL_CTL_MOD, cn->fd, &ev);
}

static void count_tx(struct ctx *c, uint64_t n)
{
	c->all_tx += n;
	if (c->measuring || c->cfg->server)
		c->res->bytes_tx += n;
}

static void count_rx(struct ctx *c, uint64_t n)
{
	c->all_rx += n;
	if (c->measuring || c->cfg->server)
		c->res->bytes_rx += n;
}

/* Send the hello and pending payload until done or EAGAIN. 0 or -errno. */
static int conn_flush(struct ctx *c, struct conn *cn, unsigned id)
{
	while (cn->hello_left > 0 || cn->tx_pending > 0) {
		size_t off = HELLO_LEN - cn->hello_left;
		uint64_t want = cn->tx_pending < c->tx_cap ? cn->tx_pending : c->tx_cap;
		size_t len = cn->hello_left + (size_t)want;
		ssize_t n = c->ops->send(cn->fd, c->txbuf + off, len);
		uint64_t payload;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return set_events(c, cn, id, true) < 0 ? -errno : 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((uint32_t)n <= cn->hello_left) {
			cn->hello_left -= (uint32_t)n;
			continue;
		}
		payload = (uint64_t)n - cn->hello_left;
		cn->hello_left = 0;
		if (cn->tx_pending != UINT64_MAX)
			cn->tx_pending -= payload;
		count_tx(c, payload);
	}
	return set_events(c, cn, id, false) < 0 ? -errno : 0;
}

/* ---- client ------------------------------------------------------------------------------- */

static int client_connect(struct ctx *c, struct conn *cn, unsigned id, uint64_t now)
{
	const struct bench_ops *ops = c->ops;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP, .data.u64 = id};
	int one = 1, fd;

	fd = ops->socket();
	if (fd < 0)
		return -errno;
	if (c->cfg->nodelay)
		ops->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	cn->fd = fd;
	cn->t_start = now;
	if (ops->connect(fd, &c->cfg->addr) < 0 && errno != EINPROGRESS) {
		int err = errno;

		ops->close(fd);
		cn->fd = -1;
		return -err;
	}
	if (ops->epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int err = errno;

		ops->close(fd);
		cn->fd = -1;
		return -err;
	}
	cn->want_out = true;
	cn->state = CS_CONNECTING;
	return 0;
}

/* Put slot @p cn back to connecting, now or after @p delay_ns. */
static void client_restart(struct ctx *c, struct conn *cn, unsigned id, uint64_t now,
			   uint64_t delay_ns)
{
	int err;

	if (cn->fd >= 0) {
		c->ops->epoll_ctl(c->ep, EPOLL_CTL_DEL, cn->fd, NULL);
		c->ops->close(cn->fd);
		cn->fd = -1;
	}
	cn->want_out = false;
	cn->hello_left = 0;
	cn->tx_pending = 0;
	cn->rx_partial = 0;
	if (c->done)
		return;
	if (delay_ns == 0) {
		err = client_connect(c, cn, id, now);
		if (err == 0)
			return;
		c->res->errors++;
		delay_ns = RETRY_NS / 100;
	}
	cn->state = CS_RETRY;
	cn->retry_at = now + delay_ns;
	c->nb_retry++;
}

static void client_fail(struct ctx *c, int err, const char *what)
{
	fprintf(stderr, "[%s w%u] %s: %s\n", c->ops->name, c->worker, what, strerror(err));
	if (c->res->status == 0)
		c->res->status = err;
	c->done = true;
}

static void client_established(struct ctx *c, struct conn *cn, unsigned id, uint64_t now)
{
	const struct bench_cfg *cfg = c->cfg;
	uint32_t i;
	int err;

	cn->state = CS_OPEN;
	cn->hello_left = HELLO_LEN;
	cn->rx_partial = 0;
	switch (cfg->mode) {
	case BENCH_RR:
		cn->head = 0;
		cn->inflight = cfg->pipeline;
		for (i = 0; i < cfg->pipeline; i++)
			cn->ts[i] = now;
		cn->tx_pending = (uint64_t)cfg->pipeline * cfg->size;
		break;
	case BENCH_CRR:
		cn->tx_pending = cfg->size;
		break;
	case BENCH_BULK:
		cn->tx_pending = cfg->reverse ? 0 : UINT64_MAX;
		break;
	}
	if (!c->started) {
		c->started = true;
		c->t0 = now;
		c->next_tick = now + NS_PER_S;
	}
	err = conn_flush(c, cn, id);
	if (err < 0)
		client_fail(c, -err, "send");
}

static void client_on_connect(struct ctx *c, struct conn *cn, unsigned id, uint64_t now)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->ops->getsockopt(cn->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err == EINPROGRESS || err == EALREADY)
		return;
	if (err == 0) {
		client_established(c, cn, id, now);
		return;
	}
	if (!c->started && err == ECONNREFUSED &&
	    now - c->t0 < (uint64_t)(c->cfg->wait_s * NS_PER_S)) {
		client_restart(c, cn, id, now, RETRY_NS); /* the server is not up yet */
		return;
	}
	c->res->errors++;
	if (c->cfg->mode == BENCH_CRR && c->started) {
		client_restart(c, cn, id, now, 0);
		return;
	}
	client_fail(c, err, "connect");
}

static void record_latency(struct ctx *c, uint64_t ns)
{
	if (c->measuring) {
		bench_hist_record(&c->res->hist, ns);
		c->res->ops++;
	}
	bench_hist_record(&c->tick_hist, ns);
	c->all_ops++;
}

/* Account @p n received bytes on a client connection. */
static void client_data(struct ctx *c, struct conn *cn, uint64_t n, uint64_t now)
{
	const struct bench_cfg *cfg = c->cfg;

	count_rx(c, n);
	switch (cfg->mode) {
	case BENCH_RR:
		cn->rx_partial += n;
		while (cn->rx_partial >= cfg->resp_size && cn->inflight > 0) {
			cn->rx_partial -= cfg->resp_size;
			record_latency(c, now - cn->ts[cn->head]);
			cn->head = (cn->head + 1) % cfg->pipeline;
			/* Replace it at once: the slot just freed is the ring's tail. */
			cn->ts[(cn->head + cn->inflight - 1) % cfg->pipeline] = now;
			cn->tx_pending += cfg->size;
		}
		break;
	case BENCH_CRR:
		cn->rx_partial += n;
		if (cn->state == CS_OPEN && cn->rx_partial >= cfg->resp_size) {
			record_latency(c, now - cn->t_start);
			cn->state = CS_DRAIN;
		}
		break;
	case BENCH_BULK:
		break;
	}
}

static void client_input(struct ctx *c, struct conn *cn, unsigned id, uint64_t now)
{
	unsigned round;
	int err;

	for (round = 0; round < RECV_ROUNDS; round++) {
		ssize_t n = c->ops->recv(cn->fd, c->rxbuf, RECV_BUF);

		if (n > 0) {
			client_data(c, cn, (uint64_t)n, now);
			/* A short read drained the queue, except in crr: the server's FIN follows
			 * the response at once, and reading the EOF now closes in this same turn
			 * (one event-loop round per connection less, with either backend). */
			if ((size_t)n < RECV_BUF && c->cfg->mode != BENCH_CRR)
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && cn->state == CS_DRAIN) {
			client_restart(c, cn, id, now, 0); /* crr: one connection done */
			return;
		}
		err = n == 0 ? ECONNRESET : errno;
		c->res->errors++;
		if (c->cfg->mode == BENCH_CRR) {
			client_restart(c, cn, id, now, 0);
			return;
		}
		client_fail(c, err, n == 0 ? "server closed the connection" : "recv");
		return;
	}
	if (cn->tx_pending > 0 || cn->hello_left > 0) {
		err = conn_flush(c, cn, id);
		if (err < 0)
			client_fail(c, -err, "send");
	}
}

static void client_event(struct ctx *c, unsigned id, uint32_t events, uint64_t now)
{
	struct conn *cn = c->conns[id];
	int err;

	switch (cn->state) {
	case CS_CONNECTING:
		client_on_connect(c, cn, id, now);
		return;
	case CS_OPEN:
	case CS_DRAIN:
		if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
			client_input(c, cn, id, now);
		if (!c->done && (cn->state == CS_OPEN || cn->state == CS_DRAIN) &&
		    (events & EPOLLOUT)) {
			err = conn_flush(c, cn, id);
			if (err < 0)
				client_fail(c, -err, "send");
		}
		return;
	case CS_FREE:
	case CS_RETRY:
	case CS_HELLO:
		return;
	}
}

static void client_retry_due(struct ctx *c, uint64_t now)
{
	unsigned i;

	for (i = 0; i < c->nb_slots && c->nb_retry > 0; i++) {
		struct conn *cn = c->conns[i];

		if (cn->state != CS_RETRY || now < cn->retry_at)
			continue;
		c->nb_retry--;
		client_restart(c, cn, i, now, 0); /* sets the next state */
	}
}

static int client_setup(struct ctx *c, uint64_t now)
{
	const struct bench_cfg *cfg = c->cfg;
	unsigned n = cfg->conns / c->nb_workers + (c->worker < cfg->conns % c->nb_workers);
	unsigned i, id;

	if (n == 0)
		return 0;
	if (cfg->mode == BENCH_RR) {
		c->ts_all = calloc((size_t)n * cfg->pipeline, sizeof(uint64_t));
		if (c->ts_all == NULL)
			return -ENOMEM;
	}
	c->t0 = now;
	for (i = 0; i < n; i++) {
		struct conn *cn = slot_new(c, &id);

		if (cn == NULL)
			return -ENOMEM;
		if (c->ts_all != NULL)
			cn->ts = c->ts_all + (size_t)i * cfg->pipeline;
		cn->state = CS_RETRY;
		cn->retry_at = now;
		c->nb_retry++;
	}
	return 0;
}

/* ---- server ------------------------------------------------------------------------------- */

static int server_setup(struct ctx *c)
{
	const struct bench_ops *ops = c->ops;
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = LISTEN_ID};
	int one = 1;

	c->lfd = ops->socket();
	if (c->lfd < 0)
		return -errno;
	ops->setsockopt(c->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ops->bind(c->lfd, &c->cfg->addr) < 0 || ops->listen(c->lfd, 1024) < 0 ||
	    ops->epoll_ctl(c->ep, EPOLL_CTL_ADD, c->lfd, &ev) < 0)
		return -errno;
	return 0;
}

static void server_event(struct ctx *c, unsigned id, uint32_t events);

static void server_accept(struct ctx *c, uint64_t now)
{
	unsigned round;

	for (round = 0; round < 64; round++) {
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct conn *cn;
		unsigned id;
		int fd = c->ops->accept(c->lfd);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED &&
			    errno != EINTR)
				c->res->errors++;
			return;
		}
		cn = slot_new(c, &id);
		if (cn == NULL) {
			c->ops->close(fd);
			c->res->errors++;
			return;
		}
		cn->fd = fd;
		cn->state = CS_HELLO;
		ev.data.u64 = id;
		if (c->ops->epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			c->res->errors++;
			conn_release(c, cn);
			continue;
		}
		c->res->accepted++;
		if (c->t_first == 0)
			c->t_first = now;
		/* The request often came with the handshake's last ACK: read it now rather
		 * than one event-loop round later (crr: one round per connection less). */
		server_event(c, id, EPOLLIN);
	}
}

/* Feed @p n bytes at @p p to a server connection. 0, or -errno to drop it. */
static int server_data(struct ctx *c, struct conn *cn, const uint8_t *p, uint64_t n)
{
	uint64_t k;

	if (cn->state == CS_HELLO) {
		uint32_t take = HELLO_LEN - cn->hello_got;
		int one = 1;

		if (take > n)
			take = (uint32_t)n;
		memcpy(cn->hello + cn->hello_got, p, take);
		cn->hello_got += take;
		n -= take;
		if (cn->hello_got < HELLO_LEN)
			return 0;
		if (hello_decode(cn) < 0)
			return -EPROTO;
		cn->state = CS_OPEN;
		if (cn->mode != BENCH_BULK && c->cfg->nodelay)
			c->ops->setsockopt(cn->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (cn->mode == BENCH_BULK && cn->reverse)
			cn->tx_pending = UINT64_MAX;
	}
	count_rx(c, n);
	if (cn->mode == BENCH_BULK || n == 0)
		return 0;
	cn->rx_partial += n;
	k = cn->rx_partial / cn->req;
	cn->rx_partial %= cn->req;
	cn->tx_pending += k * cn->resp;
	c->all_ops += k;
	c->res->ops += k;
	if (cn->mode == BENCH_CRR && k > 0)
		cn->close_after = true;
	return 0;
}

static void server_event(struct ctx *c, unsigned id, uint32_t events)
{
	struct conn *cn = c->conns[id];
	unsigned round;
	int err = 0;

	if (cn->state != CS_HELLO && cn->state != CS_OPEN)
		return;
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
		for (round = 0; round < RECV_ROUNDS; round++) {
			ssize_t n = c->ops->recv(cn->fd, c->rxbuf, RECV_BUF);

			if (n > 0) {
				err = server_data(c, cn, c->rxbuf, (uint64_t)n);
				if (err < 0 || (size_t)n < RECV_BUF)
					break;
				continue;
			}
			if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;
			if (n < 0 && errno == EINTR)
				continue;
			/* EOF or reset: the client is done with this connection. */
			if (n < 0 && errno != ECONNRESET && errno != EPIPE)
				c->res->errors++;
			conn_release(c, cn);
			return;
		}
	}
	if (err == 0 && (cn->tx_pending > 0 || (events & EPOLLOUT)))
		err = conn_flush(c, cn, id);
	if (err < 0) {
		if (err != -ECONNRESET && err != -EPIPE)
			c->res->errors++;
		conn_release(c, cn);
		return;
	}
	if (cn->close_after && cn->tx_pending == 0)
		conn_release(c, cn); /* crr: the server closes first */
}

/* ---- the loop ----------------------------------------------------------------------------- */

static void progress(struct ctx *c, uint64_t now)
{
	double dt = (double)(now - (c->next_tick - NS_PER_S)) / 1e9;
	uint64_t ops = c->all_ops - c->tick_ops;
	uint64_t tx = c->all_tx - c->tick_tx, rx = c->all_rx - c->tick_rx;
	double t = (double)(now - c->t0) / 1e9;

	if (!c->cfg->quiet) {
		fprintf(stderr, "[%s %s %s w%u] t=%.0fs %s ops/s=%.0f tx=%.3f rx=%.3f Gbit/s",
			c->ops->name, bench_mode_name(c->cfg->mode), role_name(c), c->worker, t,
			c->cfg->server	    ? "serve"
			: c->tick_measuring ? "run"
					    : "warmup",
			(double)ops / dt, (double)tx * 8 / dt / 1e9, (double)rx * 8 / dt / 1e9);
		if (c->tick_hist.count > 0)
			fprintf(stderr, " p50=%.1fus p99=%.1fus",
				(double)bench_hist_quantile(&c->tick_hist, 0.5) / 1e3,
				(double)bench_hist_quantile(&c->tick_hist, 0.99) / 1e3);
		if (c->cfg->server)
			fprintf(stderr, " conns=%u", c->nb_used);
		fputc('\n', stderr);
	}
	c->tick_ops = c->all_ops;
	c->tick_tx = c->all_tx;
	c->tick_rx = c->all_rx;
	c->tick_measuring = c->measuring;
	bench_hist_reset(&c->tick_hist);
	c->next_tick += NS_PER_S;
	if (c->next_tick <= now)
		c->next_tick = now + NS_PER_S;
}

/* Warm-up → measuring → done transitions of the client. */
static void client_clock(struct ctx *c, uint64_t now)
{
	const struct bench_cfg *cfg = c->cfg;

	if (!c->started) {
		if (c->nb_used > 0 && now - c->t0 > (uint64_t)((cfg->wait_s + 5) * NS_PER_S))
			client_fail(c, ETIMEDOUT, "no connection established");
		return;
	}
	if (!c->measuring && now - c->t0 >= (uint64_t)(cfg->warmup_s * NS_PER_S)) {
		struct bench_result *r = c->res;

		r->ops = r->bytes_tx = r->bytes_rx = r->errors = 0;
		bench_hist_reset(&r->hist);
		c->measuring = true;
		c->t_measure = now;
	}
	if (c->measuring && now - c->t_measure >= (uint64_t)(cfg->duration_s * NS_PER_S)) {
		c->res->elapsed_s = (double)(now - c->t_measure) / 1e9;
		c->done = true;
	}
}

static void ctx_free(struct ctx *c)
{
	unsigned i;

	for (i = 0; i < c->nb_slots; i++) {
		if (c->conns[i]->state != CS_FREE && c->conns[i]->state != CS_RETRY)
			conn_release(c, c->conns[i]);
		free(c->conns[i]);
	}
	free(c->conns);
	if (c->lfd >= 0)
		c->ops->close(c->lfd);
	if (c->ep >= 0)
		c->ops->close(c->ep);
	free(c->txbuf);
	free(c->rxbuf);
	free(c->ts_all);
}

int bench_run(const struct bench_ops *ops, const struct bench_cfg *cfg, unsigned worker,
	      unsigned nb_workers, struct bench_result *res)
{
	static __thread struct epoll_event evs[MAX_EVENTS];
	struct ctx *c = calloc(1, sizeof(*c));
	uint64_t now = bench_now_ns();
	size_t payload;
	int err, i, n;

	memset(res, 0, sizeof(*res));
	bench_hist_reset(&res->hist);
	if (c == NULL) {
		res->status = ENOMEM;
		return -1;
	}
	c->ops = ops;
	c->cfg = cfg;
	c->res = res;
	c->worker = worker;
	c->nb_workers = nb_workers ? nb_workers : 1;
	c->lfd = -1;
	c->t0 = now;
	c->next_tick = now + NS_PER_S;
	bench_hist_reset(&c->tick_hist);

	payload = cfg->size > cfg->resp_size ? cfg->size : cfg->resp_size;
	if (payload < 65536)
		payload = 65536;
	if (payload > TX_CHUNK_MAX)
		payload = TX_CHUNK_MAX;
	c->tx_cap = payload;
	c->txbuf = malloc(HELLO_LEN + payload);
	c->rxbuf = malloc(RECV_BUF);
	c->ep = ops->epoll_create();
	if (c->txbuf == NULL || c->rxbuf == NULL || c->ep < 0) {
		err = c->ep < 0 ? errno : ENOMEM;
		fprintf(stderr, "[%s w%u] setup: %s\n", ops->name, worker, strerror(err));
		res->status = err;
		ctx_free(c);
		free(c);
		return -1;
	}
	hello_encode(cfg, c->txbuf);
	for (size_t k = 0; k < payload; k++)
		c->txbuf[HELLO_LEN + k] = (uint8_t)('a' + k % 26);

	err = cfg->server ? server_setup(c) : client_setup(c, now);
	if (err < 0) {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET, &cfg->addr.sin_addr, a, sizeof(a));
		fprintf(stderr, "[%s w%u] %s %s:%u: %s\n", ops->name, worker,
			cfg->server ? "listen on" : "set up", a, ntohs(cfg->addr.sin_port),
			strerror(-err));
		res->status = -err;
		ctx_free(c);
		free(c);
		return -1;
	}
	if (!cfg->server && c->nb_used == 0) {
		ctx_free(c); /* more workers than connections: this one idles */
		free(c);
		return 0;
	}

	while (!c->done && ops->running()) {
		int timeout = c->nb_retry > 0 ? 1 : 100;

		n = ops->epoll_wait(c->ep, evs, MAX_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			client_fail(c, errno, "epoll_wait");
			break;
		}
		now = bench_now_ns();
		for (i = 0; i < n && !c->done; i++) {
			uint64_t id = evs[i].data.u64;

			if (id == LISTEN_ID)
				server_accept(c, now);
			else if (cfg->server)
				server_event(c, (unsigned)id, evs[i].events);
			else
				client_event(c, (unsigned)id, evs[i].events, now);
		}
		if (c->nb_retry > 0)
			client_retry_due(c, now);
		if (cfg->server) {
			if (cfg->duration_s > 0 &&
			    now - c->t0 >= (uint64_t)(cfg->duration_s * NS_PER_S))
				c->done = true;
		} else {
			client_clock(c, now);
		}
		if (now >= c->next_tick)
			progress(c, now);
	}
	now = bench_now_ns();
	if (cfg->server)
		res->elapsed_s = c->t_first ? (double)(now - c->t_first) / 1e9 : 0;
	else if (res->elapsed_s == 0 && c->measuring)
		res->elapsed_s = (double)(now - c->t_measure) / 1e9; /* stopped early */
	if (!cfg->server && !c->measuring && res->status == 0)
		res->status = c->started ? EINTR : ETIMEDOUT;
	if (cfg->mode == BENCH_BULK && !cfg->server)
		res->ops = (cfg->reverse ? res->bytes_rx : res->bytes_tx) / cfg->size;
	ctx_free(c);
	free(c);
	return res->status == 0 ? 0 : -1;
}
