/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Command line of both zpath-bench binaries (everything after the MODE word) and the JSON
 * result line. Shared by the kernel and the zpath backend so that they take the same options
 * and print the same fields.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

const char *bench_mode_name(enum bench_mode m)
{
	switch (m) {
	case BENCH_RR:
		return "rr";
	case BENCH_BULK:
		return "bulk";
	case BENCH_CRR:
		return "crr";
	}
	return "?";
}

void bench_usage(FILE *f, const char *prog, bool kernel)
{
	fprintf(f,
		"usage: %s %sMODE ROLE [OPTIONS]\n"
		"MODE:  rr    request/response: latency percentiles, transactions/s\n"
		"       bulk  stream one way: Gbit/s\n"
		"       crr   connect, one request/response, close: connections/s\n"
		"ROLE:  --server [ADDR:]PORT | --client ADDR:PORT\n"
		"OPTIONS:\n"
		"  --size N          request bytes (rr, crr; default 64) or bytes per send\n"
		"                    (bulk; default 64k); k/m suffixes accepted\n"
		"  --resp-size N     response bytes (rr, crr; default = --size)\n"
		"  --pipeline N      rr: requests in flight per connection (default 1)\n"
		"  --conns N         client connections, crr: concurrent attempts (default 1)\n"
		"  --duration S      client: measured seconds (default 10);\n"
		"                    server: exit after S seconds (default: run until signalled)\n"
		"  --warmup S        client: seconds before measuring (default 1)\n"
		"  --wait S          client: retry a refused first connect for S s (default 5)\n"
		"  --reverse         bulk: the server sends, the client receives and measures\n"
		"  --no-nodelay      leave Nagle on (rr and crr set TCP_NODELAY by default)\n"
		"  --label NAME      transport label for the results (default: derived)\n"
		"  --quiet           no progress lines on stderr\n"
		"%s"
		"Results: one JSON line on stdout; progress every second on stderr.\n",
		prog, kernel ? "" : "[EAL args] -- -c zpath.ini -- ",
		kernel ? "  --cpu N           pin the process to CPU N\n"
		       : "  (pin with the EAL -l option; --cpu is accepted and ignored)\n");
}

static int parse_size(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s)
		return -1;
	if (*end == 'k' || *end == 'K') {
		v <<= 10;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v <<= 20;
		end++;
	}
	if (*end != '\0' || v == 0 || v > (1u << 30))
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > 86400)
		return -1;
	*out = v;
	return 0;
}

/* "ADDR:PORT", or "PORT" alone when @p any_ok (the server binds INADDR_ANY). */
static int parse_addr(const char *s, bool any_ok, struct sockaddr_in *sin)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	const char *port = colon != NULL ? colon + 1 : s;
	char *end;
	unsigned long p;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	p = strtoul(port, &end, 10);
	if (*port == '\0' || *end != '\0' || p == 0 || p > 65535)
		return -1;
	sin->sin_port = htons((uint16_t)p);
	if (colon == NULL) {
		if (!any_ok)
			return -1;
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	if ((size_t)(colon - s) >= sizeof(host))
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (host[0] == '\0' && any_ok) {
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		return 0;
	}
	return inet_pton(AF_INET, host, &sin->sin_addr) == 1 ? 0 : -1;
}

int bench_cfg_parse(struct bench_cfg *cfg, int argc, char **argv, const char *prog, bool kernel)
{
	enum {
		O_SERVER = 256,
		O_CLIENT,
		O_SIZE,
		O_RESP,
		O_PIPE,
		O_CONNS,
		O_DUR,
		O_WARM,
		O_WAIT,
		O_CPU,
		O_REV,
		O_NODELAY,
		O_NONODELAY,
		O_LABEL,
		O_QUIET,
		O_HELP
	};
	static const struct option longopts[] = {
		{"server", required_argument, NULL, O_SERVER},
		{"client", required_argument, NULL, O_CLIENT},
		{"size", required_argument, NULL, O_SIZE},
		{"resp-size", required_argument, NULL, O_RESP},
		{"pipeline", required_argument, NULL, O_PIPE},
		{"conns", required_argument, NULL, O_CONNS},
		{"duration", required_argument, NULL, O_DUR},
		{"warmup", required_argument, NULL, O_WARM},
		{"wait", required_argument, NULL, O_WAIT},
		{"cpu", required_argument, NULL, O_CPU},
		{"reverse", no_argument, NULL, O_REV},
		{"nodelay", no_argument, NULL, O_NODELAY},
		{"no-nodelay", no_argument, NULL, O_NONODELAY},
		{"label", required_argument, NULL, O_LABEL},
		{"quiet", no_argument, NULL, O_QUIET},
		{"help", no_argument, NULL, O_HELP},
		{NULL, 0, NULL, 0},
	};
	bool have_role = false, have_dur = false, have_size = false, have_resp = false;
	int nodelay = -1;
	uint32_t v;
	int c;

	memset(cfg, 0, sizeof(*cfg));
	cfg->pipeline = 1;
	cfg->conns = 1;
	cfg->warmup_s = 1;
	cfg->wait_s = 5;
	cfg->cpu = -1;

	if (argc < 1 || argv[0] == NULL) {
		bench_usage(stderr, prog, kernel);
		return -1;
	}
	if (strcmp(argv[0], "rr") == 0) {
		cfg->mode = BENCH_RR;
	} else if (strcmp(argv[0], "bulk") == 0) {
		cfg->mode = BENCH_BULK;
	} else if (strcmp(argv[0], "crr") == 0) {
		cfg->mode = BENCH_CRR;
	} else {
		if (strcmp(argv[0], "--help") != 0 && strcmp(argv[0], "-h") != 0)
			fprintf(stderr, "%s: unknown mode '%s'\n", prog, argv[0]);
		bench_usage(stderr, prog, kernel);
		return -1;
	}

	optind = 0; /* glibc: full re-initialisation (zp_init() may have used getopt) */
	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case O_SERVER:
		case O_CLIENT:
			if (have_role) {
				fprintf(stderr, "%s: give one of --server, --client\n", prog);
				return -1;
			}
			have_role = true;
			cfg->server = c == O_SERVER;
			if (parse_addr(optarg, cfg->server, &cfg->addr) < 0) {
				fprintf(stderr, "%s: bad address '%s'\n", prog, optarg);
				return -1;
			}
			break;
		case O_SIZE:
		case O_RESP:
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "%s: bad size '%s'\n", prog, optarg);
				return -1;
			}
			if (c == O_SIZE) {
				cfg->size = v;
				have_size = true;
			} else {
				cfg->resp_size = v;
				have_resp = true;
			}
			break;
		case O_PIPE:
		case O_CONNS:
			if (parse_size(optarg, &v) < 0 || v > 65536) {
				fprintf(stderr, "%s: bad count '%s'\n", prog, optarg);
				return -1;
			}
			if (c == O_PIPE)
				cfg->pipeline = v;
			else
				cfg->conns = v;
			break;
		case O_DUR:
		case O_WARM:
		case O_WAIT: {
			double *d = c == O_DUR	  ? &cfg->duration_s
				    : c == O_WARM ? &cfg->warmup_s
						  : &cfg->wait_s;
			if (parse_seconds(optarg, d) < 0) {
				fprintf(stderr, "%s: bad seconds '%s'\n", prog, optarg);
				return -1;
			}
			have_dur |= c == O_DUR;
			break;
		}
		case O_CPU:
			cfg->cpu = atoi(optarg);
			break;
		case O_REV:
			cfg->reverse = true;
			break;
		case O_NODELAY:
			nodelay = 1;
			break;
		case O_NONODELAY:
			nodelay = 0;
			break;
		case O_LABEL:
			snprintf(cfg->label, sizeof(cfg->label), "%s", optarg);
			break;
		case O_QUIET:
			cfg->quiet = true;
			break;
		case O_HELP:
			bench_usage(stdout, prog, kernel);
			exit(0);
		default:
			bench_usage(stderr, prog, kernel);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		return -1;
	}
	if (!have_role) {
		fprintf(stderr, "%s: --server or --client is required\n", prog);
		return -1;
	}
	if (!have_size)
		cfg->size = cfg->mode == BENCH_BULK ? 65536 : 64;
	if (!have_resp)
		cfg->resp_size = cfg->size;
	if (!have_dur && !cfg->server)
		cfg->duration_s = 10;
	if (!cfg->server && cfg->duration_s <= 0) {
		fprintf(stderr, "%s: --duration must be > 0 for a client\n", prog);
		return -1;
	}
	if (!cfg->server && cfg->addr.sin_addr.s_addr == htonl(INADDR_ANY)) {
		fprintf(stderr, "%s: the client needs a destination address\n", prog);
		return -1;
	}
	cfg->nodelay = nodelay >= 0 ? nodelay == 1 : cfg->mode != BENCH_BULK;
	if (cfg->label[0] == '\0') {
		bool lo = (ntohl(cfg->addr.sin_addr.s_addr) >> 24) == 127;
		snprintf(cfg->label, sizeof(cfg->label), "%s",
			 kernel ? (lo ? "loopback" : "kernel-net") : "dpdk");
	}
	return 0;
}

/* A JSON number, or null when the quantity does not apply / was not measured. */
static void json_num(FILE *f, const char *key, bool valid, double v, int prec)
{
	if (valid && isfinite(v))
		fprintf(f, ",\"%s\":%.*f", key, prec, v);
	else
		fprintf(f, ",\"%s\":null", key);
}

void bench_report(const struct bench_ops *ops, const struct bench_cfg *cfg,
		  const struct bench_result *res, unsigned n)
{
	static struct bench_hist h; /* ~16 KiB: keep it off the stack */
	uint64_t ops_total = 0, tx = 0, rx = 0, errors = 0, accepted = 0;
	double elapsed = 0, gbps;
	bool lat, bytes_valid;
	unsigned i;
	int status = 0;

	bench_hist_reset(&h);
	for (i = 0; i < n; i++) {
		ops_total += res[i].ops;
		tx += res[i].bytes_tx;
		rx += res[i].bytes_rx;
		errors += res[i].errors;
		accepted += res[i].accepted;
		if (res[i].elapsed_s > elapsed)
			elapsed = res[i].elapsed_s;
		if (status == 0)
			status = res[i].status;
		bench_hist_merge(&h, &res[i].hist);
	}
	lat = !cfg->server && cfg->mode != BENCH_BULK && h.count > 0;
	bytes_valid = elapsed > 0;
	/* bulk: payload in the measured direction; rr/crr: both directions. */
	if (cfg->mode == BENCH_BULK)
		gbps = (double)(cfg->server != cfg->reverse ? rx : tx) * 8 / elapsed / 1e9;
	else
		gbps = (double)(tx + rx) * 8 / elapsed / 1e9;

	printf("{\"mode\":\"%s\",\"backend\":\"%s\",\"transport\":\"%s\",\"role\":\"%s\"",
	       bench_mode_name(cfg->mode), ops->name, cfg->label,
	       cfg->server ? "server" : "client");
	printf(",\"conns\":%u,\"size\":%u,\"resp_size\":%u,\"pipeline\":%u,\"reverse\":%s",
	       cfg->conns, cfg->size, cfg->resp_size, cfg->pipeline,
	       cfg->reverse ? "true" : "false");
	printf(",\"workers\":%u,\"cpu\":%d", n, cfg->cpu);
	json_num(stdout, "duration", true, elapsed, 3);
	printf(",\"ops\":%" PRIu64 ",\"bytes_tx\":%" PRIu64 ",\"bytes_rx\":%" PRIu64, ops_total, tx,
	       rx);
	json_num(stdout, "ops_per_s", bytes_valid, (double)ops_total / elapsed, 1);
	json_num(stdout, "gbps", bytes_valid, gbps, 4);
	json_num(stdout, "p50_us", lat, (double)bench_hist_quantile(&h, 0.50) / 1e3, 2);
	json_num(stdout, "p90_us", lat, (double)bench_hist_quantile(&h, 0.90) / 1e3, 2);
	json_num(stdout, "p99_us", lat, (double)bench_hist_quantile(&h, 0.99) / 1e3, 2);
	json_num(stdout, "p999_us", lat, (double)bench_hist_quantile(&h, 0.999) / 1e3, 2);
	json_num(stdout, "max_us", lat, (double)h.max / 1e3, 2);
	json_num(stdout, "cps", cfg->mode == BENCH_CRR && bytes_valid && !cfg->server,
		 (double)ops_total / elapsed, 1);
	printf(",\"errors\":%" PRIu64, errors);
	if (cfg->server)
		printf(",\"accepted\":%" PRIu64, accepted);
	printf(",\"status\":\"%s\"}\n", status == 0 ? "ok" : strerror(status));
	fflush(stdout);
}
