/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpath-bench: the benchmark on zpath sockets.
 *
 *   zpath-bench [EAL args] -- -c zpath.ini [-q] -- MODE ROLE [OPTIONS]
 *
 * Every worker lcore runs the same workload code as zpath-bench-kernel; a server listens on
 * every worker (the listener is per worker), a client spreads --conns over the workers. Pin
 * with the EAL -l option. The per-worker results are merged into one JSON line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <zpath/zpath.h>
#include <zpath/zpath_socket.h>

#include "bench.h"

#define DRAIN_NS 100000000ull /* poll this long after the run so closes reach the wire */

static int z_socket(void)
{
	return zp_socket(AF_INET, SOCK_STREAM, 0);
}

static int z_bind(int fd, const struct sockaddr_in *addr)
{
	return zp_bind(fd, (const struct sockaddr *)addr, sizeof(*addr));
}

static int z_accept(int fd)
{
	return zp_accept(fd, NULL, NULL);
}

static int z_connect(int fd, const struct sockaddr_in *addr)
{
	return zp_connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
}

static ssize_t z_send(int fd, const void *buf, size_t len)
{
	return zp_send(fd, buf, len, 0);
}

static ssize_t z_recv(int fd, void *buf, size_t len)
{
	return zp_recv(fd, buf, len, 0);
}

static int z_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return zp_setsockopt(fd, level, name, val, len);
}

static int z_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return zp_getsockopt(fd, level, name, val, len);
}

static const struct bench_ops zpath_ops = {
	.name = "zpath",
	.socket = z_socket,
	.bind = z_bind,
	.listen = zp_listen,
	.accept = z_accept,
	.connect = z_connect,
	.send = z_send,
	.recv = z_recv,
	.shutdown = zp_shutdown,
	.close = zp_close,
	.setsockopt = z_setsockopt,
	.getsockopt = z_getsockopt,
	.epoll_create = zp_epoll_create,
	.epoll_ctl = zp_epoll_ctl,
	.epoll_wait = zp_epoll_wait,
	.running = zp_running,
};

struct run_arg {
	const struct bench_cfg *cfg;
	struct bench_result *res; /**< one per worker */
};

static int bench_worker(void *arg)
{
	const struct run_arg *ra = arg;
	int id = zp_worker_id();
	uint64_t until;
	int rc;

	if (id < 0)
		return -EPERM;
	rc = bench_run(&zpath_ops, ra->cfg, (unsigned)id, zp_worker_count(), &ra->res[id]);
	/* zp_close() finishes in the background: keep polling so FIN/RST leave the host. */
	until = bench_now_ns() + DRAIN_NS;
	while (bench_now_ns() < until && zp_running())
		zp_poll();
	return rc;
}

/* Every non-zero dataplane counter on stderr: where drops and retransmissions show. */
static void print_counters(void)
{
	struct zp_counter c[256];
	const int max = (int)(sizeof(c) / sizeof(c[0]));
	int i, n = zp_counters(c, (unsigned)max);

	if (n < 0)
		return;
	if (n > max)
		n = max;
	fprintf(stderr, "zpath-bench: counters:");
	for (i = 0; i < n; i++)
		if (c[i].value != 0)
			fprintf(stderr, " %s%s=%" PRIu64, c[i].drop ? "drop." : "", c[i].name,
				c[i].value);
	fputc('\n', stderr);
}

static bool is_mode(const char *s)
{
	return s != NULL &&
	       (strcmp(s, "rr") == 0 || strcmp(s, "bulk") == 0 || strcmp(s, "crr") == 0 ||
		strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0);
}

int main(int argc, char **argv)
{
	struct bench_cfg cfg;
	struct run_arg ra;
	unsigned nb;
	int n, i = 0, rc;

	n = zp_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "zpath-bench: zp_init: %s (%s)\n", zp_strerror_last(),
			strerror(errno));
		return 2;
	}
	argc -= n;
	argv += n;
	/* What is left: [prog] [--] MODE OPTIONS. */
	if (i < argc && !is_mode(argv[i]))
		i++;
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	if (bench_cfg_parse(&cfg, argc - i, argv + i, "zpath-bench", false) < 0) {
		zp_fini();
		return 2;
	}
	nb = zp_worker_count();
	ra.cfg = &cfg;
	ra.res = calloc(nb ? nb : 1, sizeof(*ra.res));
	if (ra.res == NULL) {
		zp_fini();
		return 2;
	}
	rc = zp_run(bench_worker, &ra);
	if (cfg.server && rc != 0) {
		bool real_error = false;

		for (unsigned w = 0; w < nb; w++)
			real_error |= ra.res[w].status != 0;
		if (!real_error)
			rc = 0; /* stopped by a signal after serving */
	}
	bench_report(&zpath_ops, &cfg, ra.res, nb);
	print_counters();
	free(ra.res);
	zp_fini();
	return rc == 0 ? 0 : 1;
}
