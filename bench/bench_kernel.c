/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpath-bench-kernel: the benchmark on Linux kernel sockets. One thread, one epoll loop,
 * optionally pinned to a CPU with --cpu, so that it is the kernel counterpart of one zpath
 * worker running the same workload code.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int k_socket(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static int k_bind(int fd, const struct sockaddr_in *addr)
{
	return bind(fd, (const struct sockaddr *)addr, sizeof(*addr));
}

static int k_accept(int fd)
{
	return accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static int k_connect(int fd, const struct sockaddr_in *addr)
{
	return connect(fd, (const struct sockaddr *)addr, sizeof(*addr));
}

static ssize_t k_send(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static ssize_t k_recv(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

static int k_epoll_create(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

static bool k_running(void)
{
	return !stop_requested;
}

static const struct bench_ops kernel_ops = {
	.name = "kernel",
	.socket = k_socket,
	.bind = k_bind,
	.listen = listen,
	.accept = k_accept,
	.connect = k_connect,
	.send = k_send,
	.recv = k_recv,
	.shutdown = shutdown,
	.close = close,
	.setsockopt = setsockopt,
	.getsockopt = getsockopt,
	.epoll_create = k_epoll_create,
	.epoll_ctl = epoll_ctl,
	.epoll_wait = epoll_wait,
	.running = k_running,
};

int main(int argc, char **argv)
{
	static struct bench_result res; /* holds a histogram: keep it off the stack */
	struct bench_cfg cfg;
	struct sigaction sa;
	int rc;

	if (bench_cfg_parse(&cfg, argc - 1, argv + 1, "zpath-bench-kernel", true) < 0)
		return 2;
	if (cfg.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cfg.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0) {
			fprintf(stderr, "zpath-bench-kernel: --cpu %d: %s\n", cfg.cpu,
				strerror(errno));
			return 2;
		}
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = bench_run(&kernel_ops, &cfg, 0, 1, &res);
	/* A server stopped by a signal has still served: report what it did. */
	if (cfg.server && rc < 0 && res.status == 0)
		rc = 0;
	bench_report(&kernel_ops, &cfg, &res, 1);
	return rc == 0 ? 0 : 1;
}
