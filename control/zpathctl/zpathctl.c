/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpathctl: the command-line client of a zpath instance's control socket
 * (/run/zpath/<instance>.sock, JSON lines) and monitoring stream (<instance>.nmi.sock).
 *
 *   zpathctl [--instance NAME] [--json] COMMAND ...
 *
 * Aligned tables by default (like ss(8) and VPP's show commands), the server's JSON with
 * --json. Exit status: 0 success, 1 failure (instance unreachable, the server refused or
 * the object was not found), 2 bad usage, 3 monitoring stream ended abnormally.
 *
 * Requests are built with the same code the server validates them with (control/ctl_proto.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "ctl_priv.h"
#include "zpath/zpath.h"
#include "zpath/zpath_nmi.h"

#define EXIT_FAIL	 1
#define EXIT_USAGE	 2
#define EXIT_ABNORMAL	 3
#define REPLY_TIMEOUT_MS 10000

static struct {
	const char *instance;
	const char *dir;
	bool json;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} opt;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: zpathctl [--instance NAME] [--json] COMMAND [ARGS]\n"
		"\n"
		"  status                          instance, workers, ports and link state, "
		"uptime\n"
		"  netstat [--state S] [--port P]  connections of every worker\n"
		"  stats [--all] [--watch [SEC]] [--count N]\n"
		"                                  per-worker counters and drop reasons\n"
		"  sockopt show                    socket-option defaults per local port range\n"
		"  sockopt set [--ports LO-HI] KEY=VALUE...\n"
		"        linger=N|off nodelay=0|1 keepalive=0|1 keepidle=S keepintvl=S keepcnt=N\n"
		"        sndbuf=B rcvbuf=B (k/m suffixes; 0 = stack default)\n"
		"  sockopt del --ports LO-HI       remove the rule of a port range\n"
		"  conn drop ID                    abort a connection (RST); ID from netstat\n"
		"  monitor [--list] [--no-events] [--queue-kib N] [--count N]\n"
		"                                  follow the monitoring stream (NMI records)\n"
		"  debug conn-events [--worker W] [COUNT]   (instance started with "
		"ZPATH_CTL_DEBUG=1)\n"
		"  debug nmi-fail-alloc\n"
		"\n"
		"  --instance NAME   instance (default: $ZPATH_INSTANCE or \"zpath\")\n"
		"  --json            print the server's JSON (one object per line)\n"
		"  Sockets live in $ZPATH_RUN_DIR (default /run/zpath).\n"
		"\n"
		"Exit status: 0 ok, 1 failed or not found, 2 bad usage, 3 monitoring stream ended\n"
		"abnormally (TERM with a non-zero code, or closed without TERM).\n");
}

static void __attribute__((format(printf, 1, 2), noreturn)) die_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zpathctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see zpathctl --help)\n");
	exit(EXIT_USAGE);
}

static void __attribute__((format(printf, 1, 2), noreturn)) die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "zpathctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_FAIL);
}

/* ---- connection -------------------------------------------------------------------------- */

static int connect_path(const char *suffix, int rcvbuf)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if ((size_t)snprintf(opt.path, sizeof(opt.path), "%s/%s%s", opt.dir, opt.instance,
			     suffix) >= sizeof(opt.path))
		die("socket path too long: %s/%s%s", opt.dir, opt.instance, suffix);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt.path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		die("SO_RCVBUF: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("cannot reach instance '%s' at %s: %s", opt.instance, opt.path,
		    strerror(errno));
	return fd;
}

/* Send all of @p buf; 0 or -errno. */
static int send_some(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void send_all(int fd, const char *buf, size_t len)
{
	int rc = send_some(fd, buf, len);

	if (rc < 0)
		die("%s: send: %s", opt.path, strerror(-rc));
}

/* Send @p req, return the reply line (caller frees). */
static char *transact_raw(int fd, const struct ctl_req *req)
{
	struct json_object *o = ctl_req_to_json(req);
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);
	int sent;

	if (buf == NULL)
		die("out of memory");
	/* A server that refuses us (credentials, too many clients) says why and closes, maybe
	 * before our request arrives: then the send fails but its line is there to read. */
	sent = send_some(fd, s, strlen(s));
	if (sent == 0)
		sent = send_some(fd, "\n", 1);
	json_object_put(o);
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char *nl;
		ssize_t n;
		int rc = poll(&p, 1, REPLY_TIMEOUT_MS);

		if (rc == 0)
			die("%s: no reply within %d s", opt.path, REPLY_TIMEOUT_MS / 1000);
		if (rc < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (cap - len < 4096) {
			cap *= 2;
			buf = realloc(buf, cap);
			if (buf == NULL)
				die("out of memory");
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("%s: %s: %s", opt.path, sent < 0 ? "send" : "recv",
			    strerror(sent < 0 ? -sent : errno));
		}
		if (n == 0)
			die("%s: the instance closed the connection without a reply%s%s%s",
			    opt.path, sent < 0 ? " (send: " : "", sent < 0 ? strerror(-sent) : "",
			    sent < 0 ? ")" : "");
		len += (size_t)n;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl != NULL) {
			*nl = '\0';
			return buf;
		}
	}
}

/* Send @p req and parse the reply; on {"ok":false} print the message and exit 1.
 * With --json the reply line is printed as received. */
static int ctl_fd = -1;

static struct json_object *transact(const struct ctl_req *req, bool print_json)
{
	char *line;

	/* Connected on first use: arguments are checked before, so usage errors exit 2 even
	 * when the instance is not running. */
	if (ctl_fd < 0)
		ctl_fd = connect_path(".sock", 0);
	line = transact_raw(ctl_fd, req);
	struct json_object *o, *ok, *msg = NULL;

	o = json_tokener_parse(line);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		die("%s: malformed reply: %.200s", opt.path, line);
	if (opt.json && print_json)
		printf("%s\n", line);
	free(line);
	if (json_object_object_get_ex(o, "ok", &ok) && json_object_get_boolean(ok))
		return o;
	if (!opt.json || !print_json) {
		json_object_object_get_ex(o, "message", &msg);
		fprintf(stderr, "zpathctl: %s\n",
			msg != NULL ? json_object_get_string(msg) : "request failed");
	}
	json_object_put(o);
	close(ctl_fd);
	exit(EXIT_FAIL);
}

/* ---- JSON access ------------------------------------------------------------------------- */

static struct json_object *jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (o != NULL)
		json_object_object_get_ex(o, key, &v);
	return v;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v != NULL ? json_object_get_string(v) : "-";
}

static uint64_t ju64(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v != NULL ? json_object_get_uint64(v) : 0;
}

static int64_t ji64(struct json_object *o, const char *key)
{
	struct json_object *v = jget(o, key);

	return v != NULL ? json_object_get_int64(v) : 0;
}

/* ---- tables ------------------------------------------------------------------------------ */

#define TBL_COLS 24

struct tbl {
	int ncol;
	const char *hdr[TBL_COLS];
	bool right[TBL_COLS];
	char **cell; /* nrow * ncol */
	int nrow, cap;
};

static void tbl_init(struct tbl *t, const char *spec)
{
	/* spec: "NAME,>COUNT,..." ('>' = right-aligned) */
	char *s = strdup(spec), *tok, *save = NULL;

	memset(t, 0, sizeof(*t));
	for (tok = strtok_r(s, ",", &save); tok != NULL && t->ncol < TBL_COLS;
	     tok = strtok_r(NULL, ",", &save)) {
		t->right[t->ncol] = tok[0] == '>';
		t->hdr[t->ncol++] = strdup(tok + (tok[0] == '>'));
	}
	free(s);
}

static void __attribute__((format(printf, 3, 4)))
tbl_set(struct tbl *t, int col, const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	free(t->cell[(t->nrow - 1) * t->ncol + col]);
	t->cell[(t->nrow - 1) * t->ncol + col] = s;
}

static void tbl_row(struct tbl *t)
{
	int i;

	if (t->nrow == t->cap) {
		t->cap = t->cap == 0 ? 32 : t->cap * 2;
		t->cell = realloc(t->cell, (size_t)t->cap * (size_t)t->ncol * sizeof(char *));
		if (t->cell == NULL)
			die("out of memory");
	}
	for (i = 0; i < t->ncol; i++)
		t->cell[t->nrow * t->ncol + i] = NULL;
	t->nrow++;
}

static void tbl_free(struct tbl *t)
{
	int i;

	for (i = 0; i < t->nrow * t->ncol; i++)
		free(t->cell[i]);
	for (i = 0; i < t->ncol; i++)
		free((char *)t->hdr[i]);
	free(t->cell);
	memset(t, 0, sizeof(*t));
}

static void tbl_print(struct tbl *t, const char *indent)
{
	int w[TBL_COLS], r, c;

	for (c = 0; c < t->ncol; c++)
		w[c] = (int)strlen(t->hdr[c]);
	for (r = 0; r < t->nrow; r++)
		for (c = 0; c < t->ncol; c++) {
			const char *s = t->cell[r * t->ncol + c];
			int l = s != NULL ? (int)strlen(s) : 1;

			if (l > w[c])
				w[c] = l;
		}
	for (r = -1; r < t->nrow; r++) {
		fputs(indent, stdout);
		for (c = 0; c < t->ncol; c++) {
			const char *s = r < 0 ? t->hdr[c] : t->cell[r * t->ncol + c];
			bool last = c == t->ncol - 1;

			if (s == NULL)
				s = "-";
			if (t->right[c])
				printf("%*s", w[c], s);
			else if (last)
				printf("%s", s);
			else
				printf("%-*s", w[c], s);
			if (!last)
				fputs("  ", stdout);
		}
		fputc('\n', stdout);
	}
	tbl_free(t);
}

static const char *fmt_duration(uint64_t s, char *buf, size_t len)
{
	if (s >= 86400)
		snprintf(buf, len, "%" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 86400,
			 s / 3600 % 24, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%02" PRIu64 ":%02" PRIu64 ":%02" PRIu64, s / 3600, s / 60 % 60,
			 s % 60);
	return buf;
}

/* ---- status ------------------------------------------------------------------------------ */

static int cmd_status(int argc, char **argv)
{
	struct ctl_req req;
	struct json_object *o, *ports, *workers, *c;
	struct tbl t;
	char buf[64];
	size_t i;

	if (argc > 0)
		die_usage("status: unexpected argument '%s'", argv[0]);
	ctl_req_init(&req, CTL_CMD_STATUS);
	o = transact(&req, true);
	if (opt.json) {
		json_object_put(o);
		return 0;
	}
	c = jget(o, "control");
	printf("instance   %s (pid %" PRIu64 ")\n", jstr(o, "instance"), ju64(o, "pid"));
	printf("version    %s\n", jstr(o, "version"));
	printf("uptime     %s\n", fmt_duration(ju64(o, "uptime_s"), buf, sizeof(buf)));
	workers = jget(o, "workers");
	ports = jget(o, "ports");
	printf("workers    %zu\n", workers != NULL ? json_object_array_length(workers) : 0);
	printf("control    %s (%" PRIu64 " client%s)\n", jstr(c, "socket"), ju64(c, "clients"),
	       ju64(c, "clients") == 1 ? "" : "s");
	printf("monitor    %s (%" PRIu64 " subscriber%s)\n", jstr(c, "nmi_socket"),
	       ju64(c, "subscribers"), ju64(c, "subscribers") == 1 ? "" : "s");
	printf("\n");
	tbl_init(&t, "PORT,NAME,MAC,ADDRESS,>MTU,>QUEUES,RSS,LINK,>SPEED,DUPLEX");
	for (i = 0; ports != NULL && i < json_object_array_length(ports); i++) {
		struct json_object *p = json_object_array_get_idx(ports, i), *l = jget(p, "link");
		uint64_t sp = ju64(l, "speed_mbps");

		tbl_row(&t);
		tbl_set(&t, 0, "%" PRId64, ji64(p, "index"));
		tbl_set(&t, 1, "%s", jstr(p, "name"));
		tbl_set(&t, 2, "%s", jstr(p, "mac"));
		tbl_set(&t, 3, "%s", jstr(p, "addr"));
		tbl_set(&t, 4, "%" PRId64, ji64(p, "mtu"));
		tbl_set(&t, 5, "%" PRId64, ji64(p, "queues"));
		tbl_set(&t, 6, "%s", json_object_get_boolean(jget(p, "rss")) ? "yes" : "no");
		if (jget(l, "error") != NULL) {
			tbl_set(&t, 7, "? (%s)", jstr(l, "error"));
			continue;
		}
		tbl_set(&t, 7, "%s", json_object_get_boolean(jget(l, "up")) ? "up" : "down");
		if (sp == 0)
			tbl_set(&t, 8, "-");
		else if (sp % 1000 == 0)
			tbl_set(&t, 8, "%" PRIu64 "G", sp / 1000);
		else
			tbl_set(&t, 8, "%" PRIu64 "M", sp);
		tbl_set(&t, 9, "%s", jstr(l, "duplex"));
	}
	tbl_print(&t, "");
	printf("\n");
	tbl_init(&t, ">WORKER,>LCORE,>RXQ,>LOOPS");
	for (i = 0; workers != NULL && i < json_object_array_length(workers); i++) {
		struct json_object *w = json_object_array_get_idx(workers, i);

		tbl_row(&t);
		tbl_set(&t, 0, "%" PRId64, ji64(w, "id"));
		tbl_set(&t, 1, "%" PRId64, ji64(w, "lcore"));
		tbl_set(&t, 2, "%" PRId64, ji64(w, "rx_queues"));
		tbl_set(&t, 3, "%" PRIu64, ju64(w, "loops"));
	}
	tbl_print(&t, "");
	json_object_put(o);
	return 0;
}

/* ---- netstat ----------------------------------------------------------------------------- */

static int cmd_netstat(int argc, char **argv)
{
	struct ctl_req req;
	struct json_object *o, *conns, *missing;
	struct tbl t;
	size_t i;
	int a;

	ctl_req_init(&req, CTL_CMD_NETSTAT);
	for (a = 0; a < argc; a++) {
		if (strcmp(argv[a], "--state") == 0 && a + 1 < argc) {
			a++;
			if (strcasecmp(argv[a], "all") == 0)
				continue;
			req.state = ctl_tcp_state_parse(argv[a]);
			if (req.state < 0)
				die_usage("unknown TCP state '%s' (ESTABLISHED, LISTEN, SYN_SENT, "
					  "SYN_RECEIVED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, "
					  "CLOSING, LAST_ACK, TIME_WAIT, CLOSED)",
					  argv[a]);
		} else if (strcmp(argv[a], "--port") == 0 && a + 1 < argc) {
			uint16_t lo, hi;

			a++;
			if (ctl_ports_parse(argv[a], &lo, &hi) < 0 || lo != hi)
				die_usage("--port takes one port number 0-65535, not '%s'",
					  argv[a]);
			req.port = lo;
		} else {
			die_usage("netstat: unexpected argument '%s'", argv[a]);
		}
	}
	o = transact(&req, true);
	missing = jget(o, "unanswered_workers");
	for (i = 0; missing != NULL && i < json_object_array_length(missing); i++)
		fprintf(stderr, "zpathctl: worker %d did not answer; its connections are missing\n",
			json_object_get_int(json_object_array_get_idx(missing, i)));
	if (json_object_get_boolean(jget(o, "truncated")))
		fprintf(stderr, "zpathctl: the list was cut (too many connections)\n");
	if (opt.json) {
		json_object_put(o);
		return 0;
	}
	conns = jget(o, "connections");
	tbl_init(&t, "ID,>W,STATE,>RECV-Q,>SEND-Q,LOCAL,PEER,>RTT(us),>CWND,TRANSPORT,TLS");
	for (i = 0; conns != NULL && i < json_object_array_length(conns); i++) {
		struct json_object *c = json_object_array_get_idx(conns, i);

		tbl_row(&t);
		tbl_set(&t, 0, "%s", jstr(c, "id_hex"));
		tbl_set(&t, 1, "%" PRId64, ji64(c, "worker"));
		tbl_set(&t, 2, "%s", jstr(c, "state"));
		tbl_set(&t, 3, "%" PRIu64, ju64(c, "rcv_queue"));
		tbl_set(&t, 4, "%" PRIu64, ju64(c, "snd_queue"));
		tbl_set(&t, 5, "%s:%" PRId64, jstr(c, "laddr"), ji64(c, "lport"));
		tbl_set(&t, 6, "%s:%" PRId64, jstr(c, "raddr"), ji64(c, "rport"));
		tbl_set(&t, 7, "%" PRIu64, ju64(c, "rtt_us"));
		tbl_set(&t, 8, "%" PRIu64, ju64(c, "cwnd"));
		tbl_set(&t, 9, "%s", jstr(c, "transport"));
		tbl_set(&t, 10, "%s", jstr(c, "tls"));
	}
	tbl_print(&t, "");
	json_object_put(o);
	return 0;
}

/* ---- stats ------------------------------------------------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* The counters of @p x (a worker or the total): the dataplane's "stats" / "drops", or with
 * @p group "tcp" the TCP engine's. */
static struct json_object *stats_of(struct json_object *x, const char *group, const char *section)
{
	return jget(group != NULL ? jget(x, group) : x, section);
}

/* One section ("stats" or "drops") as a table: a row per counter, a column per worker. The
 * TCP engine's sections (@p group "tcp") name their rows "tcp.NAME". */
static void stats_section(struct json_object *o, const char *group, const char *section, bool all,
			  struct json_object *prev, double interval)
{
	struct json_object *workers = jget(o, "workers");
	struct json_object *total = stats_of(jget(o, "total"), group, section);
	struct json_object *help = stats_of(jget(o, "help"), group, section);
	size_t nw = workers != NULL ? json_object_array_length(workers) : 0, i;
	bool drops = strcmp(section, "drops") == 0;
	const char *pfx = group != NULL ? "tcp." : "";
	char spec[512];
	struct tbl t;
	int col;

	if (total == NULL)
		return;
	snprintf(spec, sizeof(spec), "%s%s", group != NULL ? "TCP " : "",
		 drops ? "DROP REASON" : "COUNTER");
	for (i = 0; i < nw; i++)
		snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), ",>W%zu", i);
	snprintf(spec + strlen(spec), sizeof(spec) - strlen(spec), ",>TOTAL%s%s",
		 prev != NULL ? ",>PER-SEC" : "", drops ? ",MEANING" : "");
	tbl_init(&t, spec);
	json_object_object_foreach(total, key, val)
	{
		uint64_t v = json_object_get_uint64(val);

		if (!all && v == 0 && drops)
			continue;
		tbl_row(&t);
		tbl_set(&t, 0, "%s%s", pfx, key);
		for (i = 0; i < nw; i++) {
			struct json_object *wi = json_object_array_get_idx(workers, i);

			tbl_set(&t, (int)i + 1, "%" PRIu64,
				ju64(stats_of(wi, group, section), key));
		}
		col = (int)nw + 1;
		tbl_set(&t, col++, "%" PRIu64, v);
		if (prev != NULL) {
			uint64_t p = ju64(stats_of(jget(prev, "total"), group, section), key);

			tbl_set(&t, col++, "%.0f", v >= p ? (double)(v - p) / interval : 0.0);
		}
		if (drops)
			tbl_set(&t, col, "%s", jstr(help, key));
	}
	if (t.nrow == 0 && drops) {
		printf("no %sdrops\n", group != NULL ? "TCP " : "");
		tbl_free(&t);
		return;
	}
	tbl_print(&t, "");
}

static void stats_print(struct json_object *o, bool all, struct json_object *prev, double iv)
{
	struct json_object *c = jget(o, "control");
	struct json_object *wk = jget(o, "workers");
	uint64_t ev = 0, lost = 0;
	size_t i;

	stats_section(o, NULL, "stats", all, prev, iv);
	printf("\n");
	stats_section(o, NULL, "drops", all, prev, iv);
	if (jget(jget(o, "total"), "tcp") != NULL) {
		printf("\n");
		stats_section(o, "tcp", "stats", all, prev, iv);
		printf("\n");
		stats_section(o, "tcp", "drops", all, prev, iv);
	}
	for (i = 0; wk != NULL && i < json_object_array_length(wk); i++) {
		struct json_object *cw = jget(json_object_array_get_idx(wk, i), "ctl");

		ev += ju64(cw, "conn_events");
		lost += ju64(cw, "conn_events_lost");
	}
	printf("\ncontrol: requests %" PRIu64 " (errors %" PRIu64 "), conn events %" PRIu64
	       " (lost %" PRIu64 "), monitor subscribers %" PRIu64 ", records %" PRIu64 "\n",
	       ju64(c, "requests"), ju64(c, "request_errors"), ev, lost,
	       ju64(c, "nmi_subscribers_total"), ju64(c, "nmi_records"));
	printf("monitor TERM: planned %" PRIu64 ", EWOULDBLOCK %" PRIu64 ", ENOMEM %" PRIu64
	       ", EACCES %" PRIu64 ", EINVAL %" PRIu64 ", EPIPE %" PRIu64 ", undelivered %" PRIu64
	       "\n",
	       ju64(c, "nmi_term_planned"), ju64(c, "nmi_term_EWOULDBLOCK"),
	       ju64(c, "nmi_term_ENOMEM"), ju64(c, "nmi_term_EACCES"), ju64(c, "nmi_term_EINVAL"),
	       ju64(c, "nmi_term_EPIPE"), ju64(c, "nmi_term_lost"));
}

static int cmd_stats(int argc, char **argv)
{
	struct ctl_req req;
	struct json_object *o, *prev = NULL;
	double interval = 1.0;
	bool watch = false, all = false;
	long count = -1, n;
	int a;

	for (a = 0; a < argc; a++) {
		char *end;

		if (strcmp(argv[a], "--all") == 0) {
			all = true;
		} else if (strcmp(argv[a], "--watch") == 0) {
			watch = true;
			if (a + 1 < argc && argv[a + 1][0] != '-') {
				interval = strtod(argv[++a], &end);
				if (*end != '\0' || interval < 0.1 || interval > 3600)
					die_usage("--watch takes seconds between 0.1 and 3600, not "
						  "'%s'",
						  argv[a]);
			}
		} else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
			count = strtol(argv[++a], &end, 10);
			if (*end != '\0' || count < 1)
				die_usage("--count takes a positive number, not '%s'", argv[a]);
		} else {
			die_usage("stats: unexpected argument '%s'", argv[a]);
		}
	}
	if (count > 0 && !watch)
		die_usage("--count goes with --watch");
	ctl_req_init(&req, CTL_CMD_STATS);
	if (!watch) {
		o = transact(&req, true);
		if (!opt.json)
			stats_print(o, all, NULL, 0);
		json_object_put(o);
		return 0;
	}
	signal(SIGINT, on_sigint);
	for (n = 0; !interrupted && (count < 0 || n < count); n++) {
		struct timespec ts = {.tv_sec = (time_t)interval,
				      .tv_nsec =
					      (long)((interval - (double)(time_t)interval) * 1e9)};
		char when[32];
		time_t now;

		if (n > 0)
			nanosleep(&ts, NULL);
		if (interrupted)
			break;
		o = transact(&req, true);
		if (!opt.json) {
			if (isatty(STDOUT_FILENO))
				fputs("\033[H\033[2J", stdout);
			now = time(NULL);
			strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
			printf("zpath %s  %s  every %.1f s\n\n", opt.instance, when, interval);
			stats_print(o, all, prev, interval);
			printf("\n");
		}
		fflush(stdout);
		if (prev != NULL)
			json_object_put(prev);
		prev = o;
	}
	if (prev != NULL)
		json_object_put(prev);
	return 0;
}

/* ---- sockopt ----------------------------------------------------------------------------- */

static void sockopt_print(struct json_object *o)
{
	struct json_object *rules = jget(o, "rules");
	struct tbl t;
	size_t i;
	int so;

	tbl_init(&t,
		 "PORTS,LINGER,NODELAY,KEEPALIVE,>KEEPIDLE,>KEEPINTVL,>KEEPCNT,>SNDBUF,>RCVBUF");
	for (i = 0; rules != NULL && i < json_object_array_length(rules); i++) {
		struct json_object *r = json_object_array_get_idx(rules, i);

		tbl_row(&t);
		tbl_set(&t, 0, "%s", jstr(r, "ports"));
		for (so = 0; so < CTL_SO_MAX; so++) {
			int64_t v = ji64(r, ctl_so_key((enum ctl_so)so));

			switch ((enum ctl_so)so) {
			case CTL_SO_LINGER:
				if (v < 0)
					tbl_set(&t, so + 1, "off");
				else
					tbl_set(&t, so + 1, "%" PRId64 "s", v);
				break;
			case CTL_SO_NODELAY:
			case CTL_SO_KEEPALIVE:
				tbl_set(&t, so + 1, "%s", v ? "on" : "off");
				break;
			case CTL_SO_KEEPIDLE:
			case CTL_SO_KEEPINTVL:
			case CTL_SO_KEEPCNT:
			case CTL_SO_SNDBUF:
			case CTL_SO_RCVBUF:
				if (v == 0)
					tbl_set(&t, so + 1, "default");
				else
					tbl_set(&t, so + 1, "%" PRId64, v);
				break;
			case CTL_SO_MAX:
				break;
			}
		}
	}
	tbl_print(&t, "");
}

static int cmd_sockopt(int argc, char **argv)
{
	struct ctl_req req;
	struct json_object *o;
	char err[256];
	bool ports = false;
	int a;

	if (argc == 0)
		die_usage("sockopt needs show, set or del");
	if (strcmp(argv[0], "show") == 0) {
		if (argc > 1)
			die_usage("sockopt show takes no arguments");
		ctl_req_init(&req, CTL_CMD_SOCKOPT_SHOW);
	} else if (strcmp(argv[0], "set") == 0 || strcmp(argv[0], "del") == 0) {
		ctl_req_init(&req, strcmp(argv[0], "set") == 0 ? CTL_CMD_SOCKOPT_SET
							       : CTL_CMD_SOCKOPT_DEL);
		for (a = 1; a < argc; a++) {
			if (strcmp(argv[a], "--ports") == 0 && a + 1 < argc) {
				a++;
				if (ctl_ports_parse(argv[a], &req.so.lo, &req.so.hi) < 0)
					die_usage(
						"--ports takes LO-HI with 0 <= LO <= HI <= 65535, "
						"not '%s'",
						argv[a]);
				ports = true;
			} else if (req.cmd == CTL_CMD_SOCKOPT_SET && argv[a][0] != '-') {
				if (ctl_sockopt_kv_parse(argv[a], &req.so, err, sizeof(err)) < 0)
					die_usage("%s", err);
			} else {
				die_usage("sockopt %s: unexpected argument '%s'", argv[0], argv[a]);
			}
		}
		if (req.cmd == CTL_CMD_SOCKOPT_SET && req.so.mask == 0)
			die_usage("sockopt set needs at least one KEY=VALUE");
		if (req.cmd == CTL_CMD_SOCKOPT_DEL && !ports)
			die_usage("sockopt del needs --ports LO-HI");
	} else {
		die_usage("sockopt: unknown subcommand '%s' (show, set, del)", argv[0]);
	}
	o = transact(&req, true);
	if (!opt.json)
		sockopt_print(o);
	json_object_put(o);
	return 0;
}

/* ---- conn drop --------------------------------------------------------------------------- */

static int cmd_conn(int argc, char **argv)
{
	struct ctl_req req;
	struct json_object *o, *id;
	char err[256];
	char line[128];
	int n;

	if (argc < 1 || strcmp(argv[0], "drop") != 0)
		die_usage("conn needs 'drop ID'");
	if (argc != 2)
		die_usage("conn drop takes exactly one connection id");
	/* Validate the id with the server's own parser. */
	n = snprintf(line, sizeof(line), "{\"cmd\":\"conn-drop\",\"id\":\"%s\"}", argv[1]);
	if (n >= (int)sizeof(line) || strchr(argv[1], '"') != NULL ||
	    strchr(argv[1], '\\') != NULL ||
	    ctl_req_parse(line, (size_t)n, &req, err, sizeof(err)) < 0)
		die_usage("'%s' is not a connection id (decimal or 0x hex, as netstat shows)",
			  argv[1]);
	o = transact(&req, true);
	id = jget(o, "id");
	if (!opt.json)
		printf("connection 0x%016" PRIx64 " dropped (RST sent)\n",
		       id != NULL ? json_object_get_uint64(id) : req.conn_id);
	json_object_put(o);
	return 0;
}

/* ---- debug ------------------------------------------------------------------------------- */

static int cmd_debug(int argc, char **argv)
{
	struct ctl_req req;
	struct json_object *o;
	int a;

	if (argc < 1)
		die_usage("debug needs conn-events or nmi-fail-alloc");
	if (strcmp(argv[0], "conn-events") == 0) {
		ctl_req_init(&req, CTL_CMD_DEBUG_CONN_EVENTS);
		for (a = 1; a < argc; a++) {
			char *end;
			long v;

			if (strcmp(argv[a], "--worker") == 0 && a + 1 < argc) {
				v = strtol(argv[++a], &end, 10);
				if (*end != '\0' || v < 0 || v >= DP_MAX_WORKERS)
					die_usage("--worker takes a worker id, not '%s'", argv[a]);
				req.worker = (int)v;
			} else {
				v = strtol(argv[a], &end, 10);
				if (*end != '\0' || v < 1 || v > 10000000)
					die_usage("conn-events COUNT is 1..10000000, not '%s'",
						  argv[a]);
				req.count = (uint32_t)v;
			}
		}
	} else if (strcmp(argv[0], "nmi-fail-alloc") == 0 && argc == 1) {
		ctl_req_init(&req, CTL_CMD_DEBUG_NMI_FAIL_ALLOC);
	} else {
		die_usage("debug: unknown subcommand '%s'", argv[0]);
	}
	o = transact(&req, true);
	if (!opt.json) {
		if (req.cmd == CTL_CMD_DEBUG_CONN_EVENTS)
			printf("%u synthetic events posted to %" PRIu64 " worker(s)\n", req.count,
			       ju64(o, "workers"));
		else
			printf("the next monitoring subscriber's allocation will fail\n");
	}
	json_object_put(o);
	return 0;
}

/* ---- monitor ----------------------------------------------------------------------------- */

static const char *fmt_time(uint64_t ns, char *buf, size_t len)
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	localtime_r(&s, &tm);
	n = strftime(buf, len, "%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03u", (unsigned)(ns / 1000000 % 1000));
	return buf;
}

static void conn_addrs(const struct zp_nmi_conn *c, char *l, char *r, size_t len)
{
	char ip[INET_ADDRSTRLEN];

	snprintf(l, len, "%s:%u", ctl_ip_str(c->laddr, ip, sizeof(ip)), ntohs(c->lport));
	snprintf(r, len, "%s:%u", ctl_ip_str(c->raddr, ip, sizeof(ip)), ntohs(c->rport));
}

static void record_json(const struct zp_nmi_record *rec)
{
	struct json_object *o = json_object_new_object();
	char l[48], r[48], hex[24];

	json_object_object_add(o, "record", json_object_new_string(zp_nmi_id_name(rec->id)));
	json_object_object_add(o, "version", json_object_new_int((int)rec->version));
	switch (rec->id) {
	case ZP_NMI_ID_INIT:
		json_object_object_add(o, "instance", json_object_new_string(rec->u.init.instance));
		json_object_object_add(o, "stack_version",
				       json_object_new_string(rec->u.init.stack_version));
		json_object_object_add(o, "start_ns", json_object_new_uint64(rec->u.init.start_ns));
		json_object_object_add(o, "time_ns", json_object_new_uint64(rec->u.init.now_ns));
		json_object_object_add(o, "pid", json_object_new_int64(rec->u.init.pid));
		json_object_object_add(o, "workers", json_object_new_int(rec->u.init.nb_workers));
		json_object_object_add(o, "flags", json_object_new_int64(rec->u.init.flags));
		json_object_object_add(o, "queue_bytes",
				       json_object_new_int64(rec->u.init.queue_bytes));
		break;
	case ZP_NMI_ID_CONN_OPEN:
	case ZP_NMI_ID_CONN_CLOSE:
		conn_addrs(&rec->u.conn, l, r, sizeof(l));
		snprintf(hex, sizeof(hex), "0x%016" PRIx64, rec->u.conn.conn_id);
		json_object_object_add(o, "id", json_object_new_uint64(rec->u.conn.conn_id));
		json_object_object_add(o, "id_hex", json_object_new_string(hex));
		json_object_object_add(o, "time_ns", json_object_new_uint64(rec->u.conn.time_ns));
		json_object_object_add(o, "worker", json_object_new_int(rec->u.conn.worker));
		json_object_object_add(
			o, "state", json_object_new_string(ctl_tcp_state_name(rec->u.conn.state)));
		json_object_object_add(
			o, "existing",
			json_object_new_boolean((rec->u.conn.flags & ZP_NMI_CONN_EXISTING) != 0));
		json_object_object_add(o, "local", json_object_new_string(l));
		json_object_object_add(o, "remote", json_object_new_string(r));
		json_object_object_add(o, "transport",
				       json_object_new_string(rec->u.conn.transport));
		json_object_object_add(o, "tls", json_object_new_string(rec->u.conn.tls));
		if (rec->id == ZP_NMI_ID_CONN_CLOSE) {
			json_object_object_add(o, "bytes_in",
					       json_object_new_uint64(rec->u.conn.bytes_in));
			json_object_object_add(o, "bytes_out",
					       json_object_new_uint64(rec->u.conn.bytes_out));
			json_object_object_add(o, "duration_ns",
					       json_object_new_uint64(rec->u.conn.duration_ns));
			json_object_object_add(
				o, "how",
				json_object_new_string(zp_nmi_close_how_name(rec->u.conn.how)));
			json_object_object_add(o, "app_errno",
					       json_object_new_int(rec->u.conn.app_errno));
		}
		break;
	case ZP_NMI_ID_LIST_END:
		json_object_object_add(o, "count", json_object_new_int64(rec->u.list_end.count));
		json_object_object_add(o, "incomplete",
				       json_object_new_boolean((rec->u.list_end.flags &
								ZP_NMI_LIST_INCOMPLETE) != 0));
		json_object_object_add(o, "time_ns",
				       json_object_new_uint64(rec->u.list_end.time_ns));
		break;
	case ZP_NMI_ID_LOST:
		json_object_object_add(o, "count", json_object_new_uint64(rec->u.lost.count));
		json_object_object_add(o, "total", json_object_new_uint64(rec->u.lost.total));
		json_object_object_add(o, "time_ns", json_object_new_uint64(rec->u.lost.time_ns));
		break;
	case ZP_NMI_ID_TERM:
		json_object_object_add(o, "termcode", json_object_new_int64(rec->u.term.termcode));
		json_object_object_add(
			o, "reason",
			json_object_new_string(zp_nmi_termcode_name(rec->u.term.termcode)));
		json_object_object_add(o, "time_ns", json_object_new_uint64(rec->u.term.time_ns));
		break;
	default:
		json_object_object_add(o, "id", json_object_new_int64(rec->id));
		break;
	}
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

static void record_text(const struct zp_nmi_record *rec)
{
	char t[32], l[48], r[48];
	const struct zp_nmi_conn *c = &rec->u.conn;

	switch (rec->id) {
	case ZP_NMI_ID_INIT:
		printf("%s INIT       instance=%s version=%s pid=%u workers=%u queue=%u "
		       "flags=%s%s\n",
		       fmt_time(rec->u.init.now_ns, t, sizeof(t)), rec->u.init.instance,
		       rec->u.init.stack_version, rec->u.init.pid, rec->u.init.nb_workers,
		       rec->u.init.queue_bytes,
		       rec->u.init.flags & ZP_NMI_REQ_EVENTS ? "events" : "",
		       rec->u.init.flags & ZP_NMI_REQ_LIST ? ",list" : "");
		return;
	case ZP_NMI_ID_CONN_OPEN:
		conn_addrs(c, l, r, sizeof(l));
		printf("%s CONN_OPEN  id=0x%016" PRIx64 " w%u %s %s <-> %s %s tls=%s%s\n",
		       fmt_time(c->time_ns, t, sizeof(t)), c->conn_id, c->worker,
		       ctl_tcp_state_name(c->state), l, r, c->transport, c->tls,
		       c->flags & ZP_NMI_CONN_EXISTING ? " (existing)" : "");
		return;
	case ZP_NMI_ID_CONN_CLOSE:
		conn_addrs(c, l, r, sizeof(l));
		printf("%s CONN_CLOSE id=0x%016" PRIx64 " w%u %s <-> %s %s in=%" PRIu64
		       " out=%" PRIu64 " duration=%.3fs how=%s errno=%d%s%s\n",
		       fmt_time(c->time_ns, t, sizeof(t)), c->conn_id, c->worker, l, r,
		       c->transport, c->bytes_in, c->bytes_out, (double)c->duration_ns / 1e9,
		       zp_nmi_close_how_name(c->how), c->app_errno, c->app_errno ? " " : "",
		       c->app_errno ? ctl_errno_name(c->app_errno) : "");
		return;
	case ZP_NMI_ID_LIST_END:
		printf("%s LIST_END   count=%u%s\n",
		       fmt_time(rec->u.list_end.time_ns, t, sizeof(t)), rec->u.list_end.count,
		       rec->u.list_end.flags & ZP_NMI_LIST_INCOMPLETE ? " (incomplete)" : "");
		return;
	case ZP_NMI_ID_LOST:
		printf("%s LOST       count=%" PRIu64 " total=%" PRIu64 "\n",
		       fmt_time(rec->u.lost.time_ns, t, sizeof(t)), rec->u.lost.count,
		       rec->u.lost.total);
		return;
	case ZP_NMI_ID_TERM:
		printf("%s TERM       code=%u (%s)\n", fmt_time(rec->u.term.time_ns, t, sizeof(t)),
		       rec->u.term.termcode, zp_nmi_termcode_name(rec->u.term.termcode));
		return;
	default:
		printf("(record id 0x%08x, %u bytes, skipped)\n", rec->id, rec->len);
		return;
	}
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

static int cmd_monitor(int argc, char **argv)
{
	struct zp_nmi_record rec;
	uint8_t raw[256], buf[65536];
	size_t nraw = 0, have = 0;
	bool request = false, quiet = false, got_term = false;
	const char *hold = NULL;
	uint32_t flags = ZP_NMI_REQ_EVENTS, queue_kib = 0, termcode = 0;
	long count = -1, conns = 0, rcvbuf = 0;
	uint64_t lost = 0;
	double stall = 0;
	int fd, a;

	for (a = 0; a < argc; a++) {
		char *end;

		if (strcmp(argv[a], "--list") == 0) {
			flags |= ZP_NMI_REQ_LIST;
			request = true;
		} else if (strcmp(argv[a], "--no-events") == 0) {
			flags &= ~ZP_NMI_REQ_EVENTS;
			request = true;
		} else if (strcmp(argv[a], "--queue-kib") == 0 && a + 1 < argc) {
			queue_kib = (uint32_t)strtoul(argv[++a], &end, 10);
			if (*end != '\0')
				die_usage("--queue-kib takes a number, not '%s'", argv[a]);
			request = true;
		} else if (strcmp(argv[a], "--count") == 0 && a + 1 < argc) {
			count = strtol(argv[++a], &end, 10);
			if (*end != '\0' || count < 1)
				die_usage("--count takes a positive number, not '%s'", argv[a]);
		} else if (strcmp(argv[a], "--quiet") == 0) {
			quiet = true;
		} else if (strcmp(argv[a], "--raw") == 0 && a + 1 < argc) {
			/* test aid: send these bytes (hex) after the request, if any */
			const char *h = argv[++a];

			for (; h[0] != '\0'; h += 2) {
				if (hexval(h[0]) < 0 || h[1] == '\0' || hexval(h[1]) < 0 ||
				    nraw == sizeof(raw))
					die_usage("--raw takes up to %zu bytes of hex",
						  sizeof(raw));
				raw[nraw++] = (uint8_t)(hexval(h[0]) << 4 | hexval(h[1]));
			}
		} else if (strcmp(argv[a], "--rcvbuf") == 0 && a + 1 < argc) {
			rcvbuf = strtol(argv[++a], &end, 10);
			if (*end != '\0' || rcvbuf < 1)
				die_usage("--rcvbuf takes bytes, not '%s'", argv[a]);
		} else if (strcmp(argv[a], "--stall") == 0 && a + 1 < argc) {
			stall = strtod(argv[++a], &end);
			if (*end != '\0' || stall < 0)
				die_usage("--stall takes seconds, not '%s'", argv[a]);
		} else if (strcmp(argv[a], "--hold-until") == 0 && a + 1 < argc) {
			hold = argv[++a]; /* test aid: read nothing until this file exists */
		} else {
			die_usage("monitor: unexpected argument '%s'", argv[a]);
		}
	}
	fd = connect_path(".nmi.sock", (int)rcvbuf);
	if (request) {
		struct zp_nmi_record rq = {.id = ZP_NMI_ID_REQUEST};
		uint8_t w[sizeof(struct zp_nmi_wire_request)];

		rq.u.request.flags = flags;
		rq.u.request.queue_kib = queue_kib;
		if (zp_nmi_encode(&rq, w, sizeof(w)) != (ssize_t)sizeof(w))
			die("cannot encode the request");
		send_all(fd, (const char *)w, sizeof(w));
	}
	if (nraw > 0)
		send_all(fd, (const char *)raw, nraw);
	if (!quiet && !opt.json)
		fprintf(stderr, "zpathctl: following %s\n", opt.path);
	fflush(stderr);
	if (stall > 0) {
		struct timespec ts = {.tv_sec = (time_t)stall,
				      .tv_nsec = (long)((stall - (double)(time_t)stall) * 1e9)};

		nanosleep(&ts, NULL);
	}
	while (hold != NULL && access(hold, F_OK) != 0) {
		struct timespec ts = {.tv_nsec = 10000000};

		nanosleep(&ts, NULL);
	}

	for (;;) {
		ssize_t n, used;

		n = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && got_term && errno == ECONNRESET)
			n = 0;
		if (n < 0)
			die("%s: recv: %s", opt.path, strerror(errno));
		if (n == 0)
			break;
		have += (size_t)n;
		while ((used = zp_nmi_decode(buf, have, &rec)) > 0) {
			if (opt.json)
				record_json(&rec);
			else if (!quiet || rec.id == ZP_NMI_ID_TERM)
				record_text(&rec);
			if (rec.id == ZP_NMI_ID_TERM) {
				got_term = true;
				termcode = rec.u.term.termcode;
			}
			if (rec.id == ZP_NMI_ID_CONN_OPEN || rec.id == ZP_NMI_ID_CONN_CLOSE)
				conns++;
			if (rec.id == ZP_NMI_ID_LOST)
				lost = rec.u.lost.total;
			memmove(buf, buf + used, have - (size_t)used);
			have -= (size_t)used;
			/* A snapshot without events is complete at LIST_END. */
			if ((count > 0 && conns >= count) ||
			    (rec.id == ZP_NMI_ID_LIST_END && !(flags & ZP_NMI_REQ_EVENTS))) {
				fflush(stdout);
				close(fd);
				return 0;
			}
		}
		if (used < 0)
			die("%s: malformed record from the server", opt.path);
		fflush(stdout);
	}
	fflush(stdout);
	close(fd);
	if (quiet)
		fprintf(stderr,
			"zpathctl: %ld connection records; %" PRIu64 " events lost before "
			"the server's queues\n",
			conns, lost);
	if (!got_term) {
		fprintf(stderr, "zpathctl: %s closed without TERM: abnormal end of the stream\n",
			opt.path);
		return EXIT_ABNORMAL;
	}
	if (termcode != ZP_NMI_TERM_PLANNED) {
		fprintf(stderr, "zpathctl: monitoring stream terminated: %s (%u)\n",
			zp_nmi_termcode_name(termcode), termcode);
		return EXIT_ABNORMAL;
	}
	return 0;
}

/* ---- main -------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *cmd;
	int c, rc;

	opt.instance = getenv("ZPATH_INSTANCE");
	if (opt.instance == NULL || opt.instance[0] == '\0')
		opt.instance = CTL_INSTANCE_DEFAULT;
	opt.dir = getenv("ZPATH_RUN_DIR");
	if (opt.dir == NULL || opt.dir[0] == '\0')
		opt.dir = CTL_RUN_DIR;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+i:jhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			opt.instance = optarg;
			break;
		case 'j':
			opt.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("zpathctl %s\n", ZPATH_VERSION);
			return 0;
		default:
			if (optopt != 0 && strchr("i", optopt) != NULL)
				die_usage("option -%c needs an argument", optopt);
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_usage("no command given");
	if (opt.instance[0] == '\0' || strchr(opt.instance, '/') != NULL)
		die_usage("bad instance name '%s'", opt.instance);
	cmd = argv[optind];
	argc -= optind + 1;
	argv += optind + 1;
	/* --json is also accepted after the command ("zpathctl status --json"). */
	for (c = 0, rc = 0; c < argc; c++) {
		if (strcmp(argv[c], "--json") == 0)
			opt.json = true;
		else
			argv[rc++] = argv[c];
	}
	argc = rc;
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "monitor") == 0)
		return cmd_monitor(argc, argv);
	if (strcmp(cmd, "status") != 0 && strcmp(cmd, "netstat") != 0 &&
	    strcmp(cmd, "stats") != 0 && strcmp(cmd, "sockopt") != 0 && strcmp(cmd, "conn") != 0 &&
	    strcmp(cmd, "debug") != 0)
		die_usage("unknown command '%s'", cmd);
	if (strcmp(cmd, "status") == 0)
		rc = cmd_status(argc, argv);
	else if (strcmp(cmd, "netstat") == 0)
		rc = cmd_netstat(argc, argv);
	else if (strcmp(cmd, "stats") == 0)
		rc = cmd_stats(argc, argv);
	else if (strcmp(cmd, "sockopt") == 0)
		rc = cmd_sockopt(argc, argv);
	else if (strcmp(cmd, "conn") == 0)
		rc = cmd_conn(argc, argv);
	else
		rc = cmd_debug(argc, argv);
	if (ctl_fd >= 0)
		close(ctl_fd);
	return rc;
}
