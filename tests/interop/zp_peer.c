/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zp_peer: the zpath end of the interop tests (tests/interop/test_*.sh), written on the
 * public API only (zpath.h, zpath_socket.h) so that the tests check what an application sees.
 *
 *   zp_peer [EAL args] -- -c zpath.ini [-q] -- server --port P [--conns N] --steps LIST
 *                                              [--after LIST] [--timeout S] [--seed N]
 *   zp_peer [EAL args] -- -c zpath.ini [-q] -- client --connect A.B.C.D:P [--bind-port P]
 *                                              [--conns N] --steps LIST [--timeout S]
 *                                              [--start-delay MS]
 *   zp_peer [EAL args] -- -c zpath.ini [-q] -- server --port P --hold [--greet N]
 *                                              [--late-listen P2:FILE]
 *
 * A server accepts N connections one after the other, a client makes N connections one after
 * the other; on each, the comma-separated steps run in order (the same step language as the
 * kernel-side peer, kpeer.py):
 *
 *   send:N         send N bytes of a pseudo-random stream (--seed); they enter the tx hash
 *   recv:N         receive exactly N bytes (rx hash); EOF or an error before that fails
 *   recv_eof       receive until end of stream (rx hash); an error fails
 *   recv_zero      one more recv must return 0 at once (EOF stays EOF, F-2)
 *   expect_reset   receive until recv fails ECONNRESET (data before it enters the rx hash),
 *                  then recv must return 0 (F-1); EOF instead of the reset fails
 *   send_fails:E   a 1-byte send must fail with errno E (EPIPE, ECONNRESET, ...)
 *   echo           send back everything received until EOF, then shut down writing
 *   shut_wr, shut_rd, linger0 (SO_LINGER {1, 0}), close
 *   sleep:MS       keep the stack running MS ms without touching the socket
 * After the last connection a server closes its listener and runs the --after steps, which
 * need no connection:
 *   sleep:MS
 *   tw_restart     with the last connection in TIME_WAIT on our side (we closed first):
 *                  bind to its local address without SO_REUSEADDR fails EADDRINUSE (REU-1);
 *                  with SO_REUSEADDR bind and listen succeed (REU-2); a socket bound there
 *                  with SO_REUSEADDR cannot connect to the same peer address and port: the
 *                  4-tuple is still in use (REU-4, EADDRNOTAVAIL)
 *
 * --hold (server, instead of --steps): serve any number of connections at once until the
 * process is stopped (SIGTERM): on each, send --greet N bytes, then echo what arrives; at end
 * of stream shut down writing and close; a failing recv (ECONNRESET, ECONNABORTED, ...) just
 * closes. --late-listen P2:FILE also listens on port P2, from the moment FILE exists (so that
 * socket-option defaults set meanwhile by zpathctl apply to it). One line per event on stderr:
 *   zp_peer: hold: listening port=P nodelay=.. keepalive=.. keepidle=.. keepintvl=..
 *            keepcnt=.. sndbuf=.. rcvbuf=.. linger=..
 *   zp_peer: hold: open fd=F local=A:P peer=A:P nodelay=.. (the same options)
 *   zp_peer: hold: end fd=F local=A:P peer=A:P rx=N tx=N how=eof|ECONNRESET|...
 * (peer-visible effects only; the summary counts bytes over all connections, no hashes).
 *
 * Output: progress on stderr, one summary line on stdout
 *   zp_peer: result=ok conns=1 rx_bytes=.. rx_sha256=.. tx_bytes=.. tx_sha256=..
 * (result=fail reason="..." on failure). Hashes cover all connections in order.
 * Exit status: 0 ok, 1 a step failed, 2 usage or start-up error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <zpath/zpath.h>
#include <zpath/zpath_socket.h>

#define BUF_SIZE  (64 * 1024)
#define MAX_STEPS 32
#define DRAIN_MS  300 /* keep polling after the end so the last FIN/RST/ACK leave */

enum step_kind {
	ST_SEND,
	ST_RECV,
	ST_RECV_EOF,
	ST_RECV_ZERO,
	ST_EXPECT_RESET,
	ST_SEND_FAILS,
	ST_ECHO,
	ST_SHUT_WR,
	ST_SHUT_RD,
	ST_LINGER0,
	ST_CLOSE,
	ST_SLEEP,
	ST_TW_RESTART,
};

struct step {
	enum step_kind kind;
	uint64_t arg;
};

struct step_list {
	unsigned n;
	struct step s[MAX_STEPS];
};

struct peer {
	bool server;
	struct sockaddr_in addr; /**< server: listen address; client: destination */
	uint16_t bind_port;	 /**< client: bind to this local port first (0 = any) */
	unsigned conns;
	unsigned timeout_ms;
	unsigned start_delay_ms; /**< client: let ARP and the peer settle before connecting */
	uint64_t seed;
	bool quiet;
	bool hold;	    /**< server: --hold */
	uint64_t greet;	    /**< --hold: bytes sent on each new connection */
	uint16_t late_port; /**< --hold: second listener, once late_file exists */
	const char *late_file;
	struct step_list steps, after;

	/* State. */
	int ep;	     /**< one-socket wait set */
	int idle_ep; /**< empty set: sleep while the stack runs */
	uint64_t rng;
	EVP_MD_CTX *rx_md, *tx_md;
	uint64_t rx_bytes, tx_bytes;
	struct sockaddr_in last_local, last_peer;
	bool have_last;
	unsigned done_conns;
	char reason[256];
	bool failed;
	uint8_t buf[BUF_SIZE];
};

static struct peer P;

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	if (P.quiet)
		return;
	va_start(ap, fmt);
	fputs("zp_peer: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Record the first failure; returns -1 so callers can `return fail(...)`. */
static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
	va_list ap;

	if (!P.failed) {
		va_start(ap, fmt);
		vsnprintf(P.reason, sizeof(P.reason), fmt, ap);
		va_end(ap);
		P.failed = true;
		fprintf(stderr, "zp_peer: FAIL: %s\n", P.reason);
	}
	return -1;
}

/* ---- errno names ------------------------------------------------------------------------- */

static const struct {
	const char *name;
	int value;
} errnames[] = {
	{"EPIPE", EPIPE},
	{"ECONNRESET", ECONNRESET},
	{"ENOTCONN", ENOTCONN},
	{"EADDRINUSE", EADDRINUSE},
	{"EADDRNOTAVAIL", EADDRNOTAVAIL},
	{"ECONNREFUSED", ECONNREFUSED},
	{"ETIMEDOUT", ETIMEDOUT},
	{"EAGAIN", EAGAIN},
	{"EINVAL", EINVAL},
	{"EBADF", EBADF},
	{"EINPROGRESS", EINPROGRESS},
	{"ECONNABORTED", ECONNABORTED},
};

static const char *errname(int e)
{
	unsigned i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].value == e)
			return errnames[i].name;
	return e == 0 ? "success" : strerror(e);
}

static int errvalue(const char *s)
{
	unsigned i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (strcmp(errnames[i].name, s) == 0)
			return errnames[i].value;
	return -1;
}

/* ---- step lists ---------------------------------------------------------------------------- */

static int parse_steps(const char *text, struct step_list *out, bool after)
{
	static const struct {
		const char *name;
		enum step_kind kind;
		bool arg;
	} names[] = {
		{"send", ST_SEND, true},
		{"recv", ST_RECV, true},
		{"recv_eof", ST_RECV_EOF, false},
		{"recv_zero", ST_RECV_ZERO, false},
		{"expect_reset", ST_EXPECT_RESET, false},
		{"send_fails", ST_SEND_FAILS, true},
		{"echo", ST_ECHO, false},
		{"shut_wr", ST_SHUT_WR, false},
		{"shut_rd", ST_SHUT_RD, false},
		{"linger0", ST_LINGER0, false},
		{"close", ST_CLOSE, false},
		{"sleep", ST_SLEEP, true},
		{"tw_restart", ST_TW_RESTART, false},
	};
	char *copy = strdup(text), *save = NULL, *tok;
	int rc = 0;

	if (copy == NULL)
		return -1;
	out->n = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		unsigned i;
		bool found = false;

		if (colon != NULL)
			*colon++ = '\0';
		if (out->n == MAX_STEPS) {
			fprintf(stderr, "zp_peer: more than %d steps\n", MAX_STEPS);
			rc = -1;
			break;
		}
		for (i = 0; i < sizeof(names) / sizeof(names[0]) && !found; i++) {
			struct step *s = &out->s[out->n];

			if (strcmp(tok, names[i].name) != 0)
				continue;
			found = true;
			if (names[i].arg != (colon != NULL)) {
				fprintf(stderr, "zp_peer: step %s %s an argument\n", tok,
					names[i].arg ? "needs" : "takes no");
				rc = -1;
				break;
			}
			if ((after && names[i].kind != ST_SLEEP &&
			     names[i].kind != ST_TW_RESTART) ||
			    (!after && names[i].kind == ST_TW_RESTART)) {
				fprintf(stderr, "zp_peer: step %s not allowed %s\n", tok,
					after ? "in --after" : "on a connection");
				rc = -1;
				break;
			}
			s->kind = names[i].kind;
			if (names[i].kind == ST_SEND_FAILS) {
				int e = errvalue(colon);

				if (e < 0) {
					fprintf(stderr, "zp_peer: unknown errno name %s\n", colon);
					rc = -1;
					break;
				}
				s->arg = (uint64_t)e;
			} else if (colon != NULL) {
				char *end;

				errno = 0;
				s->arg = strtoull(colon, &end, 0);
				if (errno != 0 || *end != '\0') {
					fprintf(stderr, "zp_peer: bad number in step %s:%s\n", tok,
						colon);
					rc = -1;
					break;
				}
			}
			out->n++;
		}
		if (rc < 0)
			break;
		if (!found) {
			fprintf(stderr, "zp_peer: unknown step %s\n", tok);
			rc = -1;
			break;
		}
	}
	free(copy);
	return rc;
}

/* ---- waiting ---------------------------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until @p fd reports one of @p events (or ERR/HUP). Returns the events, 0 on timeout. */
static uint32_t wait_fd(int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	uint64_t deadline = now_ms() + P.timeout_ms;
	uint32_t got = 0;

	if (zp_epoll_ctl(P.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		fail("epoll_ctl ADD: %s", errname(errno));
		return 0;
	}
	while (zp_running()) {
		uint64_t now = now_ms();
		struct epoll_event out;
		int n;

		if (now >= deadline)
			break;
		n = zp_epoll_wait(P.ep, &out, 1,
				  (int)(deadline - now > 100 ? 100 : deadline - now));
		if (n > 0) {
			got = out.events;
			break;
		}
		if (n < 0 && errno != EINTR) {
			fail("epoll_wait: %s", errname(errno));
			break;
		}
	}
	zp_epoll_ctl(P.ep, EPOLL_CTL_DEL, fd, NULL);
	return got;
}

static void run_for_ms(uint64_t ms)
{
	uint64_t deadline = now_ms() + ms;
	struct epoll_event out;

	while (zp_running() && now_ms() < deadline)
		zp_epoll_wait(P.idle_ep, &out, 1, 10);
}

/* ---- data ------------------------------------------------------------------------------ */

static void fill(uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		/* xorshift64*: not a repeating pattern, so reordering changes the hash. */
		P.rng ^= P.rng >> 12;
		P.rng ^= P.rng << 25;
		P.rng ^= P.rng >> 27;
		p[i] = (uint8_t)((P.rng * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

static int do_send(int fd, uint64_t total)
{
	uint64_t left = total;
	size_t off = 0, len = 0;

	while (left > 0) {
		ssize_t n;

		if (off == len) {
			len = left < BUF_SIZE ? (size_t)left : BUF_SIZE;
			fill(P.buf, len);
			off = 0;
		}
		n = zp_send(fd, P.buf + off, len - off, 0);
		if (n > 0) {
			EVP_DigestUpdate(P.tx_md, P.buf + off, (size_t)n);
			P.tx_bytes += (uint64_t)n;
			off += (size_t)n;
			left -= (uint64_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(fd, EPOLLOUT) == 0)
				return P.failed ? -1
						: fail("send: no buffer space for %u ms after "
						       "%llu of %llu bytes",
						       P.timeout_ms,
						       (unsigned long long)(total - left),
						       (unsigned long long)total);
			continue;
		}
		return fail("send: %s after %llu of %llu bytes",
			    n == 0 ? "returned 0" : errname(errno),
			    (unsigned long long)(total - left), (unsigned long long)total);
	}
	return 0;
}

/* Receive @p want bytes (UINT64_MAX: until EOF). @p echo_fd >= 0 sends everything back.
 * Returns bytes received, or -1 with errno = the error recv reported (P.failed not set) when
 * @p tolerate_error, else after fail(). Sets *eof when the stream ended. */
static int64_t do_recv(int fd, uint64_t want, bool *eof, bool tolerate_error, bool echo)
{
	uint64_t got = 0;

	*eof = false;
	while (got < want) {
		size_t cap = want - got < BUF_SIZE ? (size_t)(want - got) : BUF_SIZE;
		ssize_t n = zp_recv(fd, P.buf, cap, 0);

		if (n > 0) {
			EVP_DigestUpdate(P.rx_md, P.buf, (size_t)n);
			P.rx_bytes += (uint64_t)n;
			got += (uint64_t)n;
			if (echo) {
				size_t off = 0;

				while (off < (size_t)n) {
					ssize_t s = zp_send(fd, P.buf + off, (size_t)n - off, 0);

					if (s > 0) {
						EVP_DigestUpdate(P.tx_md, P.buf + off, (size_t)s);
						P.tx_bytes += (uint64_t)s;
						off += (size_t)s;
					} else if (s < 0 && errno == EAGAIN) {
						if (wait_fd(fd, EPOLLOUT) == 0)
							return fail("echo: send blocked");
					} else {
						return fail("echo: send: %s", errname(errno));
					}
				}
			}
			continue;
		}
		if (n == 0) {
			*eof = true;
			return (int64_t)got;
		}
		if (errno == EAGAIN) {
			if (wait_fd(fd, EPOLLIN | EPOLLRDHUP) == 0)
				return P.failed ? -1
						: fail("recv: nothing for %u ms after %llu bytes",
						       P.timeout_ms, (unsigned long long)got);
			continue;
		}
		if (tolerate_error) {
			int e = errno;

			note("recv: %s after %llu bytes", errname(e), (unsigned long long)got);
			errno = e; /* the caller counts the bytes through P.rx_bytes */
			return -1;
		}
		return fail("recv: %s after %llu bytes", errname(errno), (unsigned long long)got);
	}
	return (int64_t)got;
}

/* ---- steps -------------------------------------------------------------------------------- */

static int expect(const char *what, int rc, int want_errno)
{
	int e = rc < 0 ? errno : 0;

	if (e != want_errno)
		return fail("%s: got %s, expected %s", what, errname(e), errname(want_errno));
	note("%s: %s (as expected)", what, errname(e));
	return 0;
}

static int new_socket(bool reuse)
{
	int one = 1, fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return fail("socket: %s", errname(errno));
	if (reuse && zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		zp_close(fd);
		return fail("SO_REUSEADDR: %s", errname(errno));
	}
	return fd;
}

/* REU-1, REU-2, REU-4 against the connection that is in TIME_WAIT (see the file comment). */
static int tw_restart(void)
{
	struct sockaddr_in local = P.last_local;
	int fd, rc, err = 0;
	socklen_t len = sizeof(err);

	if (!P.have_last)
		return fail("tw_restart: no earlier connection");
	fd = new_socket(false);
	if (fd < 0)
		return -1;
	rc = zp_bind(fd, (struct sockaddr *)&local, sizeof(local));
	zp_close(fd);
	if (expect("bind without SO_REUSEADDR (TIME_WAIT on the port)", rc, EADDRINUSE) < 0)
		return -1;

	fd = new_socket(true);
	if (fd < 0)
		return -1;
	rc = zp_bind(fd, (struct sockaddr *)&local, sizeof(local));
	if (expect("bind with SO_REUSEADDR", rc, 0) < 0 ||
	    expect("listen after the restart", zp_listen(fd, 16), 0) < 0) {
		zp_close(fd);
		return -1;
	}
	zp_close(fd);

	fd = new_socket(true);
	if (fd < 0)
		return -1;
	rc = zp_bind(fd, (struct sockaddr *)&local, sizeof(local));
	if (expect("bind with SO_REUSEADDR for the same 4-tuple", rc, 0) < 0) {
		zp_close(fd);
		return -1;
	}
	rc = zp_connect(fd, (struct sockaddr *)&P.last_peer, sizeof(P.last_peer));
	if (rc < 0 && errno == EINPROGRESS) {
		/* Refused later rather than at once: read the outcome. */
		wait_fd(fd, EPOLLOUT);
		zp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
		rc = err != 0 ? -1 : 0;
		errno = err;
		note("connect to the same 4-tuple returned EINPROGRESS first");
	}
	zp_close(fd);
	return expect("connect reusing the 4-tuple in TIME_WAIT", rc, EADDRNOTAVAIL);
}

static int run_steps(int *fdp, const struct step_list *l)
{
	unsigned i;

	for (i = 0; i < l->n && !P.failed; i++) {
		const struct step *s = &l->s[i];
		int fd = *fdp;
		bool eof;
		int64_t n;

		if (fd < 0 && s->kind != ST_SLEEP && s->kind != ST_TW_RESTART)
			return fail("step %u needs an open socket (closed earlier)", i + 1);
		switch (s->kind) {
		case ST_SEND:
			if (do_send(fd, s->arg) < 0)
				return -1;
			note("sent %llu bytes", (unsigned long long)s->arg);
			break;
		case ST_RECV:
			n = do_recv(fd, s->arg, &eof, false, false);
			if (n < 0)
				return -1;
			if ((uint64_t)n < s->arg)
				return fail("recv: EOF after %lld of %llu bytes", (long long)n,
					    (unsigned long long)s->arg);
			note("received %lld bytes", (long long)n);
			break;
		case ST_RECV_EOF:
		case ST_ECHO:
			n = do_recv(fd, UINT64_MAX, &eof, false, s->kind == ST_ECHO);
			if (n < 0)
				return -1;
			note("%s %lld bytes, then EOF", s->kind == ST_ECHO ? "echoed" : "received",
			     (long long)n);
			if (s->kind == ST_ECHO && zp_shutdown(fd, SHUT_WR) < 0)
				return fail("shutdown(SHUT_WR) after echo: %s", errname(errno));
			break;
		case ST_RECV_ZERO: {
			ssize_t r = zp_recv(fd, P.buf, BUF_SIZE, 0);

			if (r != 0)
				return fail("recv after EOF: got %s, expected 0",
					    r > 0 ? "data" : errname(errno));
			note("recv after EOF: 0 (as expected)");
			break;
		}
		case ST_EXPECT_RESET: {
			uint64_t before = P.rx_bytes;
			ssize_t r;

			n = do_recv(fd, UINT64_MAX, &eof, true, false);
			if (n >= 0)
				return fail("expected ECONNRESET, got EOF after %lld bytes",
					    (long long)n);
			if (errno != ECONNRESET)
				return fail("expected ECONNRESET after %llu bytes, got %s",
					    (unsigned long long)(P.rx_bytes - before),
					    errname(errno));
			note("data (%llu bytes), then ECONNRESET (as expected)",
			     (unsigned long long)(P.rx_bytes - before));
			r = zp_recv(fd, P.buf, BUF_SIZE, 0);
			if (r != 0)
				return fail("recv after ECONNRESET: got %s, expected 0 (F-1)",
					    r > 0 ? "data" : errname(errno));
			break;
		}
		case ST_SEND_FAILS: {
			ssize_t r = zp_send(fd, "x", 1, 0);

			if (expect("send", r < 0 ? -1 : 0, (int)s->arg) < 0)
				return -1;
			break;
		}
		case ST_SHUT_WR:
		case ST_SHUT_RD:
			if (zp_shutdown(fd, s->kind == ST_SHUT_WR ? SHUT_WR : SHUT_RD) < 0)
				return fail("shutdown: %s", errname(errno));
			break;
		case ST_LINGER0: {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};

			if (zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) < 0)
				return fail("SO_LINGER: %s", errname(errno));
			break;
		}
		case ST_CLOSE:
			if (zp_close(fd) < 0)
				return fail("close: %s", errname(errno));
			*fdp = -1;
			break;
		case ST_SLEEP:
			run_for_ms(s->arg);
			break;
		case ST_TW_RESTART:
			if (tw_restart() < 0)
				return -1;
			break;
		}
	}
	return P.failed ? -1 : 0;
}

/* ---- roles ----------------------------------------------------------------------------- */

static int server(void)
{
	int one = 1, lfd = new_socket(false);
	unsigned i;

	if (lfd < 0)
		return -1;
	zp_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (zp_bind(lfd, (struct sockaddr *)&P.addr, sizeof(P.addr)) < 0 ||
	    zp_listen(lfd, 128) < 0) {
		zp_close(lfd);
		return fail("listen on port %u: %s", ntohs(P.addr.sin_port), errname(errno));
	}
	note("listening on port %u", ntohs(P.addr.sin_port));
	i = 0;
	while (i < P.conns && !P.failed && zp_running()) {
		socklen_t len = sizeof(P.last_peer);
		int fd = zp_accept(lfd, (struct sockaddr *)&P.last_peer, &len);

		if (fd < 0 && errno == EAGAIN) {
			if (wait_fd(lfd, EPOLLIN) == 0) {
				fail("no connection %u within %u ms", i + 1, P.timeout_ms);
				break;
			}
			continue;
		}
		if (fd < 0) {
			fail("accept: %s", errname(errno));
			break;
		}
		len = sizeof(P.last_local);
		zp_getsockname(fd, (struct sockaddr *)&P.last_local, &len);
		P.have_last = true;
		if (P.conns <= 10)
			note("connection %u from %s:%u", i + 1, inet_ntoa(P.last_peer.sin_addr),
			     ntohs(P.last_peer.sin_port));
		run_steps(&fd, &P.steps);
		if (fd >= 0)
			zp_close(fd);
		P.done_conns++;
		i++;
	}
	zp_close(lfd);
	if (!P.failed)
		run_steps(&lfd, &P.after);
	return P.failed ? -1 : 0;
}

static int client(void)
{
	unsigned i;

	run_for_ms(P.start_delay_ms);
	for (i = 0; i < P.conns && !P.failed && zp_running(); i++) {
		int fd = new_socket(P.bind_port != 0), err = 0;
		socklen_t len = sizeof(err);

		if (fd < 0)
			break;
		if (P.bind_port != 0) {
			struct sockaddr_in b = {.sin_family = AF_INET,
						.sin_port = htons(P.bind_port)};

			if (zp_bind(fd, (struct sockaddr *)&b, sizeof(b)) < 0) {
				fail("bind to port %u: %s", P.bind_port, errname(errno));
				zp_close(fd);
				break;
			}
		}
		if (zp_connect(fd, (struct sockaddr *)&P.addr, sizeof(P.addr)) < 0) {
			if (errno != EINPROGRESS) {
				fail("connect: %s", errname(errno));
				zp_close(fd);
				break;
			}
			if (wait_fd(fd, EPOLLOUT) == 0) {
				fail("connect: no answer within %u ms", P.timeout_ms);
				zp_close(fd);
				break;
			}
			zp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			if (err != 0) {
				fail("connect (connection %u): %s", i + 1, errname(err));
				zp_close(fd);
				break;
			}
		}
		len = sizeof(P.last_local);
		zp_getsockname(fd, (struct sockaddr *)&P.last_local, &len);
		P.last_peer = P.addr;
		P.have_last = true;
		run_steps(&fd, &P.steps);
		if (fd >= 0)
			zp_close(fd);
		P.done_conns++;
	}
	return P.failed ? -1 : 0;
}

/* ---- --hold ------------------------------------------------------------------------------ */

#define HOLD_FDS 1024

struct hold_conn {
	bool used, listener;
	uint64_t rx, tx;
	struct sockaddr_in local, peer;
};

static struct hold_conn hold_tab[HOLD_FDS];
static int hold_wep = -1; /**< waits for send space on one socket */

static const char *sin_str(const struct sockaddr_in *a, char *buf, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs(a->sin_port));
	return buf;
}

/* The options an application would read back, for the log line of a socket. */
static void hold_opts(int fd, char *buf, size_t len)
{
	int nodelay = -1, keepalive = -1, idle = -1, intvl = -1, cnt = -1, sb = -1, rb = -1;
	struct linger lg = {0, 0};
	socklen_t l;

	l = sizeof(int);
	zp_getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &l);
	l = sizeof(int);
	zp_getsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &l);
	l = sizeof(int);
	zp_getsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, &l);
	l = sizeof(int);
	zp_getsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, &l);
	l = sizeof(int);
	zp_getsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, &l);
	l = sizeof(int);
	zp_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, &l);
	l = sizeof(int);
	zp_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rb, &l);
	l = sizeof(lg);
	zp_getsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, &l);
	snprintf(buf, len,
		 "nodelay=%d keepalive=%d keepidle=%d keepintvl=%d keepcnt=%d sndbuf=%d "
		 "rcvbuf=%d linger=%s%d",
		 nodelay, keepalive, idle, intvl, cnt, sb, rb, lg.l_onoff ? "" : "off/",
		 lg.l_linger);
}

static int hold_listen(uint16_t port)
{
	struct sockaddr_in a = P.addr;
	struct epoll_event ev = {.events = EPOLLIN};
	int one = 1, fd = new_socket(false);
	char opts[256];

	if (fd < 0)
		return -1;
	a.sin_port = htons(port);
	zp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd >= HOLD_FDS || zp_bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    zp_listen(fd, 128) < 0) {
		zp_close(fd);
		return fail("listen on port %u: %s", port, errname(errno));
	}
	ev.data.fd = fd;
	if (zp_epoll_ctl(P.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		zp_close(fd);
		return fail("epoll_ctl ADD listener: %s", errname(errno));
	}
	hold_tab[fd] = (struct hold_conn){.used = true, .listener = true, .local = a};
	hold_opts(fd, opts, sizeof(opts));
	fprintf(stderr, "zp_peer: hold: listening port=%u %s\n", port, opts);
	return 0;
}

static void hold_end(int fd, const char *how)
{
	struct hold_conn *h = &hold_tab[fd];
	char l[32], r[32];

	fprintf(stderr, "zp_peer: hold: end fd=%d local=%s peer=%s rx=%llu tx=%llu how=%s\n", fd,
		sin_str(&h->local, l, sizeof(l)), sin_str(&h->peer, r, sizeof(r)),
		(unsigned long long)h->rx, (unsigned long long)h->tx, how);
	zp_epoll_ctl(P.ep, EPOLL_CTL_DEL, fd, NULL);
	zp_close(fd);
	h->used = false;
	P.done_conns++;
}

/* Send all of @p n bytes of @p p (waiting for space); false after a send error. */
static bool hold_send(int fd, const uint8_t *p, size_t n, int *err)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = fd}, out;
	size_t off = 0;

	while (off < n && zp_running()) {
		ssize_t s = zp_send(fd, p + off, n - off, 0);

		if (s > 0) {
			off += (size_t)s;
			hold_tab[fd].tx += (uint64_t)s;
			P.tx_bytes += (uint64_t)s;
			continue;
		}
		if (s < 0 && errno == EAGAIN) {
			zp_epoll_ctl(hold_wep, EPOLL_CTL_ADD, fd, &ev);
			zp_epoll_wait(hold_wep, &out, 1, 100);
			zp_epoll_ctl(hold_wep, EPOLL_CTL_DEL, fd, NULL);
			continue;
		}
		*err = s < 0 ? errno : EIO;
		return false;
	}
	return off == n;
}

static void hold_accept(int lfd)
{
	for (;;) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);
		struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP};
		struct hold_conn *h;
		char l[32], r[32], opts[256];
		int fd = zp_accept(lfd, (struct sockaddr *)&peer, &len), err = 0;
		uint64_t left;

		if (fd < 0) {
			if (errno != EAGAIN)
				fprintf(stderr, "zp_peer: hold: accept: %s\n", errname(errno));
			return;
		}
		if (fd >= HOLD_FDS) {
			fprintf(stderr, "zp_peer: hold: fd %d over %d, closed\n", fd, HOLD_FDS);
			zp_close(fd);
			continue;
		}
		h = &hold_tab[fd];
		*h = (struct hold_conn){.used = true, .peer = peer};
		len = sizeof(h->local);
		zp_getsockname(fd, (struct sockaddr *)&h->local, &len);
		hold_opts(fd, opts, sizeof(opts));
		fprintf(stderr, "zp_peer: hold: open fd=%d local=%s peer=%s %s\n", fd,
			sin_str(&h->local, l, sizeof(l)), sin_str(&peer, r, sizeof(r)), opts);
		for (left = P.greet; left > 0;) {
			size_t n = left < BUF_SIZE ? (size_t)left : BUF_SIZE;

			fill(P.buf, n);
			if (!hold_send(fd, P.buf, n, &err))
				break;
			left -= n;
		}
		ev.data.fd = fd;
		if (err != 0 || zp_epoll_ctl(P.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
			hold_end(fd, errname(err != 0 ? err : errno));
			continue;
		}
	}
}

static void hold_read(int fd)
{
	for (;;) {
		ssize_t n = zp_recv(fd, P.buf, BUF_SIZE, 0);
		int err = 0;

		if (n > 0) {
			hold_tab[fd].rx += (uint64_t)n;
			P.rx_bytes += (uint64_t)n;
			if (!hold_send(fd, P.buf, (size_t)n, &err)) {
				hold_end(fd, errname(err));
				return;
			}
			continue;
		}
		if (n == 0) {
			zp_shutdown(fd, SHUT_WR);
			hold_end(fd, "eof");
			return;
		}
		if (errno != EAGAIN)
			hold_end(fd, errname(errno));
		return;
	}
}

static int hold_server(void)
{
	struct epoll_event evs[32];
	bool late_done = P.late_port == 0;
	int i, n;

	hold_wep = zp_epoll_create();
	if (hold_wep < 0)
		return fail("epoll_create: %s", errname(errno));
	if (hold_listen(ntohs(P.addr.sin_port)) < 0)
		return -1;
	while (zp_running() && !P.failed) {
		if (!late_done && access(P.late_file, F_OK) == 0) {
			late_done = true;
			if (hold_listen(P.late_port) < 0)
				break;
		}
		n = zp_epoll_wait(P.ep, evs, 32, 50);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd < 0 || fd >= HOLD_FDS || !hold_tab[fd].used)
				continue;
			if (hold_tab[fd].listener)
				hold_accept(fd);
			else
				hold_read(fd);
		}
	}
	for (i = 0; i < HOLD_FDS; i++)
		if (hold_tab[i].used && !hold_tab[i].listener)
			hold_end(i, "stopped");
	for (i = 0; i < HOLD_FDS; i++)
		if (hold_tab[i].used)
			zp_close(i);
	zp_close(hold_wep);
	return P.failed ? -1 : 0;
}

static int peer_worker(void *arg)
{
	(void)arg;
	if (zp_worker_id() != 0) {
		while (zp_running())
			zp_poll();
		return 0;
	}
	P.ep = zp_epoll_create();
	P.idle_ep = zp_epoll_create();
	if (P.ep < 0 || P.idle_ep < 0) {
		fail("epoll_create: %s", errname(errno));
	} else {
		if (P.hold)
			hold_server();
		else if (P.server)
			server();
		else
			client();
		run_for_ms(DRAIN_MS);
		zp_close(P.ep);
		zp_close(P.idle_ep);
	}
	zp_stop();
	return P.failed ? 1 : 0;
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f, "usage: zp_peer [EAL args] -- -c zpath.ini [-q] -- server --port P [--conns N]\n"
		   "           --steps LIST [--after LIST] [--timeout S] [--seed N] [--quiet]\n"
		   "       zp_peer [EAL args] -- -c zpath.ini [-q] -- client --connect A.B.C.D:P\n"
		   "           [--bind-port P] [--conns N] --steps LIST [--timeout S] [--seed N]\n"
		   "           [--start-delay MS]\n"
		   "       zp_peer [EAL args] -- -c zpath.ini [-q] -- server --port P --hold\n"
		   "           [--greet N] [--late-listen P2:FILE]\n"
		   "steps: send:N recv:N recv_eof recv_zero expect_reset send_fails:ERRNO echo\n"
		   "       shut_wr shut_rd linger0 close sleep:MS; --after: sleep:MS tw_restart\n");
}

static int parse_args(int argc, char **argv)
{
	enum {
		O_PORT = 1,
		O_CONNECT,
		O_BIND,
		O_CONNS,
		O_STEPS,
		O_AFTER,
		O_TIMEOUT,
		O_SEED,
		O_DELAY,
		O_QUIET,
		O_HOLD,
		O_GREET,
		O_LATE
	};
	static const struct option lopts[] = {
		{"port", required_argument, NULL, O_PORT},
		{"connect", required_argument, NULL, O_CONNECT},
		{"bind-port", required_argument, NULL, O_BIND},
		{"conns", required_argument, NULL, O_CONNS},
		{"steps", required_argument, NULL, O_STEPS},
		{"after", required_argument, NULL, O_AFTER},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"seed", required_argument, NULL, O_SEED},
		{"start-delay", required_argument, NULL, O_DELAY},
		{"quiet", no_argument, NULL, O_QUIET},
		{"hold", no_argument, NULL, O_HOLD},
		{"greet", required_argument, NULL, O_GREET},
		{"late-listen", required_argument, NULL, O_LATE},
		{NULL, 0, NULL, 0},
	};
	int i = 0, c;
	bool have_steps = false, have_addr = false;
	char host[64], *colon;

	/* What zp_init() left: [prog] [--] ROLE OPTIONS. */
	if (i < argc && strcmp(argv[i], "server") != 0 && strcmp(argv[i], "client") != 0)
		i++;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (i >= argc) {
		usage(stderr);
		return -1;
	}
	if (strcmp(argv[i], "server") == 0) {
		P.server = true;
	} else if (strcmp(argv[i], "client") != 0) {
		usage(stderr);
		return -1;
	}
	P.conns = 1;
	P.timeout_ms = 30000;
	P.seed = 1;
	P.addr.sin_family = AF_INET;
	optind = 0;
	while ((c = getopt_long(argc - i, argv + i, "+", lopts, NULL)) != -1) {
		switch (c) {
		case O_PORT:
			P.addr.sin_port = htons((uint16_t)atoi(optarg));
			have_addr = P.addr.sin_port != 0;
			break;
		case O_CONNECT:
			snprintf(host, sizeof(host), "%s", optarg);
			colon = strrchr(host, ':');
			if (colon == NULL)
				break;
			*colon = '\0';
			P.addr.sin_port = htons((uint16_t)atoi(colon + 1));
			have_addr = inet_pton(AF_INET, host, &P.addr.sin_addr) == 1 &&
				    P.addr.sin_port != 0;
			break;
		case O_BIND:
			P.bind_port = (uint16_t)atoi(optarg);
			break;
		case O_CONNS:
			P.conns = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case O_STEPS:
			if (parse_steps(optarg, &P.steps, false) < 0)
				return -1;
			have_steps = true;
			break;
		case O_AFTER:
			if (parse_steps(optarg, &P.after, true) < 0)
				return -1;
			break;
		case O_TIMEOUT:
			P.timeout_ms = (unsigned)(strtod(optarg, NULL) * 1000);
			break;
		case O_SEED:
			P.seed = strtoull(optarg, NULL, 0);
			break;
		case O_DELAY:
			P.start_delay_ms = (unsigned)strtoul(optarg, NULL, 0);
			break;
		case O_QUIET:
			P.quiet = true;
			break;
		case O_HOLD:
			P.hold = true;
			break;
		case O_GREET:
			P.greet = strtoull(optarg, NULL, 0);
			break;
		case O_LATE:
			P.late_port = (uint16_t)strtoul(optarg, &colon, 10);
			if (*colon != ':' || colon[1] == '\0' || P.late_port == 0) {
				usage(stderr);
				return -1;
			}
			P.late_file = colon + 1;
			break;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (P.hold && (!P.server || have_steps))
		have_steps = false; /* --hold replaces --steps, server only */
	else if (P.hold)
		have_steps = true;
	if (!P.hold && (P.greet > 0 || P.late_port != 0))
		have_steps = false; /* --greet and --late-listen need --hold */
	if (!have_addr || !have_steps || P.conns == 0 || P.timeout_ms == 0 ||
	    (!P.server && P.after.n > 0)) {
		usage(stderr);
		return -1;
	}
	P.rng = P.seed ? P.seed : 1;
	return 0;
}

static void hex(const unsigned char *md, unsigned len, char *out)
{
	unsigned i;

	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
	out[2 * len] = '\0';
}

int main(int argc, char **argv)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	char rx_hex[2 * EVP_MAX_MD_SIZE + 1], tx_hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned mdlen;
	int n, rc;

	n = zp_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "zp_peer: zp_init: %s\n", zp_strerror_last());
		return 2;
	}
	if (parse_args(argc - n, argv + n) < 0) {
		zp_fini();
		return 2;
	}
	P.rx_md = EVP_MD_CTX_new();
	P.tx_md = EVP_MD_CTX_new();
	if (P.rx_md == NULL || P.tx_md == NULL ||
	    EVP_DigestInit_ex(P.rx_md, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(P.tx_md, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "zp_peer: OpenSSL SHA-256 unavailable\n");
		zp_fini();
		return 2;
	}
	rc = zp_run(peer_worker, NULL);
	if (rc != 0 && !P.failed)
		fail("worker returned %d", rc);
	EVP_DigestFinal_ex(P.rx_md, md, &mdlen);
	hex(md, mdlen, rx_hex);
	EVP_DigestFinal_ex(P.tx_md, md, &mdlen);
	hex(md, mdlen, tx_hex);
	printf("zp_peer: result=%s conns=%u rx_bytes=%llu rx_sha256=%s tx_bytes=%llu "
	       "tx_sha256=%s",
	       P.failed ? "fail" : "ok", P.done_conns, (unsigned long long)P.rx_bytes, rx_hex,
	       (unsigned long long)P.tx_bytes, tx_hex);
	if (P.failed)
		printf(" reason=\"%s\"", P.reason);
	printf("\n");
	fflush(stdout);
	EVP_MD_CTX_free(P.rx_md);
	EVP_MD_CTX_free(P.tx_md);
	zp_fini();
	return P.failed ? 1 : 0;
}
