/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zpath-bench internals: the backend ops table, the run configuration, the per-worker result
 * and the latency histogram.
 *
 * The workload code (bench_workload.c) is written once against struct bench_ops. Two
 * backends fill the table: bench_kernel.c with the Linux socket calls, bench_zpath.c with
 * the zp_* calls of zpath_socket.h. Every socket is non-blocking and every wait is an
 * epoll_wait-shaped call, because that is the only way a zpath worker can wait.
 */
#ifndef ZPATH_BENCH_H
#define ZPATH_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <netinet/in.h>

/* ------------------------------------------------------------------------------------------ */
/* Backend ops.                                                                                */

/**
 * What a backend provides. Calls follow POSIX: -1 and errno. Sockets are TCP/IPv4 and
 * non-blocking; send never raises SIGPIPE.
 */
struct bench_ops {
	const char *name; /**< "kernel" or "zpath": the "backend" field of the results */
	int (*socket)(void);
	int (*bind)(int fd, const struct sockaddr_in *addr);
	int (*listen)(int fd, int backlog);
	int (*accept)(int fd);
	int (*connect)(int fd, const struct sockaddr_in *addr);
	ssize_t (*send)(int fd, const void *buf, size_t len);
	ssize_t (*recv)(int fd, void *buf, size_t len);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);
	int (*setsockopt)(int fd, int level, int name, const void *val, socklen_t len);
	int (*getsockopt)(int fd, int level, int name, void *val, socklen_t *len);
	int (*epoll_create)(void);
	int (*epoll_ctl)(int epfd, int op, int fd, struct epoll_event *ev);
	int (*epoll_wait)(int epfd, struct epoll_event *evs, int max, int timeout_ms);
	/** False once the process was asked to stop (signal, zp_stop()). */
	bool (*running)(void);
};

/* ------------------------------------------------------------------------------------------ */
/* Configuration.                                                                              */

enum bench_mode {
	BENCH_RR,   /**< request/response: latency percentiles and transactions/s */
	BENCH_BULK, /**< one-way stream: Gbit/s */
	BENCH_CRR,  /**< connect, one request/response, close: connections/s */
};

/** The options common to both binaries (everything after the MODE word). */
struct bench_cfg {
	enum bench_mode mode;
	bool server;		 /**< --server [ADDR:]PORT, else --client ADDR:PORT */
	struct sockaddr_in addr; /**< where to listen or connect */
	uint32_t size;		 /**< request bytes (rr, crr) or bytes per send (bulk) */
	uint32_t resp_size;	 /**< response bytes (rr, crr); default = size */
	uint32_t pipeline;	 /**< rr: requests in flight per connection */
	uint32_t conns;		 /**< client connections (crr: concurrent attempts) */
	double duration_s;	 /**< measured time (client); server: exit after this, 0 = never */
	double warmup_s;	 /**< client: time before measuring starts */
	double wait_s;		 /**< client: keep retrying a refused first connect this long */
	int cpu;		 /**< kernel backend: pin to this CPU (-1 = no pinning) */
	bool reverse;		 /**< bulk: the server sends and the client receives */
	bool nodelay;		 /**< TCP_NODELAY (default on for rr and crr) */
	bool quiet;		 /**< no progress lines on stderr */
	char label[48];		 /**< "transport" field of the results */
};

/** Parse MODE OPTIONS (argv[0] is the MODE word). Prints a message and returns -1 on error. */
int bench_cfg_parse(struct bench_cfg *cfg, int argc, char **argv, const char *prog, bool kernel);
/** Print usage of @p prog to @p f. */
void bench_usage(FILE *f, const char *prog, bool kernel);
/** "rr", "bulk", "crr". */
const char *bench_mode_name(enum bench_mode m);

/* ------------------------------------------------------------------------------------------ */
/* Latency histogram.                                                                          */

#define BENCH_HIST_SUB_BITS  6	/* 64 linear sub-buckets per power of two (error < 0.8 %) */
#define BENCH_HIST_MAX_SHIFT 30 /* values up to 2^(30+7) ns (~137 s); larger ones clamp */
#define BENCH_HIST_BUCKETS   ((BENCH_HIST_MAX_SHIFT + 2) << BENCH_HIST_SUB_BITS)

/** A log-linear histogram of nanosecond values (see bench_hist.c for why hand-written). */
struct bench_hist {
	uint64_t count;
	uint64_t min, max;
	uint64_t buckets[BENCH_HIST_BUCKETS];
};

/** Empty @p h. */
void bench_hist_reset(struct bench_hist *h);
/** Record one value in nanoseconds. */
void bench_hist_record(struct bench_hist *h, uint64_t ns);
/** Add every count of @p src to @p dst. */
void bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src);
/** Value (ns) at quantile @p q in [0, 1]: the midpoint of the bucket holding it; 0 if empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);
/** Bucket index of @p ns (exposed for the unit check of the layout). */
unsigned bench_hist_index(uint64_t ns);
/** Smallest value that falls in bucket @p idx. */
uint64_t bench_hist_lower(unsigned idx);

/* ------------------------------------------------------------------------------------------ */
/* Workload and results.                                                                       */

/** What one worker measured (client) or served (server). */
struct bench_result {
	uint64_t ops; /**< rr: responses; crr: completed connections; bulk: sends */
	uint64_t bytes_tx, bytes_rx;
	uint64_t errors;	/**< failed connections or calls */
	uint64_t accepted;	/**< server: connections accepted */
	double elapsed_s;	/**< measured interval */
	int status;		/**< 0, or an errno that ended the run */
	struct bench_hist hist; /**< rr: per request; crr: connect to response */
};

/**
 * Run the configured role until the duration ends or ops->running() turns false.
 * @p worker / @p nb_workers split the client connections (zpath: one call per worker).
 * @return 0 or -1 (the reason is printed and left in res->status).
 */
int bench_run(const struct bench_ops *ops, const struct bench_cfg *cfg, unsigned worker,
	      unsigned nb_workers, struct bench_result *res);

/** Merge @p n worker results and print the one JSON line on stdout. */
void bench_report(const struct bench_ops *ops, const struct bench_cfg *cfg,
		  const struct bench_result *res, unsigned n);

/** CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

#endif
