/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpath-echo: the demo program of the zpath public API.
 *
 *   zpath-echo [EAL args] -- -c zpath.ini [-q] [-s section.key=value]... -- [options]
 *
 * Mode "icmp" (the default) answers ARP and ping until SIGINT/SIGTERM or --duration; with
 * --ping it also sends ICMP echo requests every --interval-ms and stops once --count replies
 * arrived. Every second a progress line goes to stderr; at exit one summary line goes to
 * stdout:
 *   zpath-echo: rx=.. tx=.. arp_in=.. echo_answered=.. ping_sent=.. ping_replies=.. drops=..
 * followed by every non-zero drop reason by name (" eth_dst=3").
 *
 * Exit status: 0 on success; 1 when zpath could not start or --ping got fewer than --count
 * replies (no reply at all without --count); 2 for a bad program argument.
 *
 * Adding a mode (e.g. TCP "echo" / "client"): write a `struct echo_mode` with a worker
 * function that loops while zp_running(), drives its worker with zp_epoll_wait() (or
 * zp_poll()) and calls echo_tick() from worker 0, add its options to parse_opts(), and list
 * it in modes[]. echo_tick() handles --duration and the progress line for every mode.
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

#define ECHO_MAX_COUNTERS 128

struct echo_ctx;

/** A mode of operation: its worker function runs on every worker. */
struct echo_mode {
	const char *name;
	const char *help;
	int (*worker)(struct echo_ctx *ctx);
	/** Exit status once the workers returned (0 = success). */
	int (*status)(const struct echo_ctx *ctx);
};

struct echo_opts {
	const struct echo_mode *mode;
	double duration_s; /* 0 = until a signal */
	bool ping;
	uint32_t ping_dst; /* network order */
	char ping_dst_s[INET_ADDRSTRLEN];
	uint64_t count; /* 0 = no target */
	unsigned interval_ms;
	size_t size; /* echo payload bytes */
};

/* Written by worker 0 only; read by main after zp_run() returned. */
struct echo_ctx {
	struct echo_opts opt;
	uint64_t start_ns;
	uint64_t next_report_ns;
	uint16_t ident;
	uint64_t ping_sent;
	uint64_t ping_errors;
	uint64_t ping_replies;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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

	if (ctx->opt.duration_s > 0 &&
	    now - ctx->start_ns >= (uint64_t)(ctx->opt.duration_s * 1e9)) {
		zp_stop();
		return;
	}
	if (now < ctx->next_report_ns)
		return;
	ctx->next_report_ns += 1000000000u;
	totals_read(&t);
	fprintf(stderr,
		"zpath-echo: %" PRIu64 "s rx=%" PRIu64 " tx=%" PRIu64 " echo_answered=%" PRIu64
		" replies=%" PRIu64 " drops=%" PRIu64 "\n",
		(now - ctx->start_ns) / 1000000000u, t.rx, t.tx, t.echo_answered, ctx->ping_replies,
		t.drops);
}

static void summary(const struct echo_ctx *ctx)
{
	struct echo_totals t;
	unsigned i;

	totals_read(&t);
	printf("zpath-echo: rx=%" PRIu64 " tx=%" PRIu64 " arp_in=%" PRIu64 " echo_answered=%" PRIu64
	       " ping_sent=%" PRIu64 " ping_replies=%" PRIu64 " drops=%" PRIu64,
	       t.rx, t.tx, t.arp_in, t.echo_answered, ctx->ping_sent, ctx->ping_replies, t.drops);
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

static const struct echo_mode modes[] = {
	{.name = "icmp",
	 .help = "answer ARP and ping; with --ping, send echo requests",
	 .worker = icmp_worker,
	 .status = icmp_status},
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
		"  --ping A.B.C.D      send ICMP echo requests to this address\n"
		"  --count N           with --ping: stop after N replies (exit 1 if fewer)\n"
		"  --interval-ms MS    with --ping: one request every MS ms (default 200)\n"
		"  --size BYTES        with --ping: payload bytes (default 56)\n"
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
	enum { O_MODE = 1, O_DURATION, O_PING, O_COUNT, O_INTERVAL, O_SIZE, O_HELP };
	static const struct option lopts[] = {
		{"mode", required_argument, NULL, O_MODE},
		{"duration", required_argument, NULL, O_DURATION},
		{"ping", required_argument, NULL, O_PING},
		{"count", required_argument, NULL, O_COUNT},
		{"interval-ms", required_argument, NULL, O_INTERVAL},
		{"size", required_argument, NULL, O_SIZE},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	struct in_addr a;
	uint64_t v;
	char *end;
	unsigned i;
	int c;

	o->mode = &modes[0];
	o->interval_ms = 200;
	o->size = 56;
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
			if (parse_u64(optarg, 0, 8972, &v) != 0) {
				fprintf(stderr, "zpath-echo: --size \"%s\": need 0..8972\n",
					optarg);
				return -1;
			}
			o->size = (size_t)v;
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
	ctx.ident = (uint16_t)getpid();
	ctx.start_ns = now_ns();
	ctx.next_report_ns = ctx.start_ns + 1000000000u;

	rc = zp_run(run_worker, &ctx);
	summary(&ctx);
	status = rc != 0 ? 1 : ctx.opt.mode->status(&ctx);
	if (zp_fini() != 0)
		fprintf(stderr, "zpath-echo: zp_fini: %s\n", strerror(errno));
	return status;
}
