/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zpath process API: bring the stack up, run code on the worker lcores, shut it down.
 *
 * A zpath program is `prog [EAL args] -- [zpath args] [-- program args]`:
 * @code
 *   int main(int argc, char **argv) {
 *       int n = zp_init(argc, argv);      // EAL, zpath.ini, ports, control thread
 *       if (n < 0) { fprintf(stderr, "%s\n", zp_strerror_last()); return 1; }
 *       argc -= n; argv += n;             // what is left is the program's
 *       zp_run(my_worker, NULL);          // my_worker runs on every worker lcore
 *       zp_fini();
 *   }
 * @endcode
 * Inside a worker function the zp_* socket calls (zpath_socket.h) act on that worker's
 * stack instance; zp_epoll_wait() (or zp_poll()) drives its poll loop.
 */
#ifndef ZPATH_ZPATH_H
#define ZPATH_ZPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ZPATH_VERSION "0.1.0"

/**
 * Initialise the process: rte_eal_init() with the EAL arguments, then the zpath arguments
 * after the first "--":
 *   -c, --config FILE    zpath.ini (default ./zpath.ini)
 *   -i, --instance NAME  instance name for the control socket (default "zpath")
 *   -q, --quiet          no start-up report on stdout
 *   -s, --set SECTION.KEY=VALUE  override one zpath.ini value (repeatable)
 * Parsing stops at a second "--" or the first non-option argument.
 *
 * @return number of arguments consumed (argv[0] is kept in place for the program), or -1
 *   with errno set: EINVAL (bad argument or configuration; zp_strerror_last() says which key
 *   and line), ENODEV (a configured port does not exist), ENOMEM, EALREADY (called twice).
 */
int zp_init(int argc, char **argv);

/** Human-readable reason for the last zp_init() failure ("" if none). */
const char *zp_strerror_last(void);

/** Function run on each worker lcore by zp_run(). Its return value is collected. */
typedef int (*zp_worker_fn)(void *arg);

/**
 * Run @p fn on every worker (the main lcore is worker 0) and wait for all to return.
 * @return 0 if every call returned 0, else the first non-zero return value.
 */
int zp_run(zp_worker_fn fn, void *arg);

/** Ask every worker to stop: zp_running() turns false and zp_epoll_wait() returns at once. */
void zp_stop(void);
/** False once zp_stop() was called (also on SIGINT/SIGTERM, which zp_init() hooks). */
bool zp_running(void);

/** One pass of the calling worker's poll loop. Returns packets received, -1/EPERM off-worker. */
int zp_poll(void);

/** Index of the calling worker (0 .. zp_worker_count()-1), or -1 off a worker. */
int zp_worker_id(void);
/** Number of workers. */
unsigned zp_worker_count(void);

/** Stop the control thread, close ports, release EAL. Returns 0 or -1/errno. */
int zp_fini(void);

/** One process-wide counter: a statistic or a drop reason, summed over workers. */
struct zp_counter {
	/** "rx_packets", "ip_csum", ... (the names zpathctl stats shows); the TCP engine's carry
	 *  the prefix "tcp." ("tcp.retrans_segs", "tcp.out_of_window"). Valid until exit. */
	const char *name;
	bool drop; /**< true for a drop reason */
	uint64_t value;
};

/**
 * Read every counter summed over the workers: the statistics first (the dataplane's, then the
 * TCP engine's, "tcp."-prefixed), then the drop reasons (the dataplane's, then the TCP
 * engine's: segments TCP discarded, "tcp."-prefixed), each list in its fixed order. A packet
 * the dataplane drops is counted by one dataplane drop reason; a segment TCP discards by one
 * "tcp." drop reason. Callable from any thread while the workers run (the values are read
 * without locks and may lag by a few packets).
 * @return the number of counters, which may exceed @p max (only @p max are written; about
 *   130 today, so 256 slots leave room), or -1 with errno EINVAL before zp_init() succeeded,
 *   ENOMEM if the names could not be built.
 */
int zp_counters(struct zp_counter *out, unsigned max);

/**
 * Send one ICMP echo request (RFC 792) from the calling worker to @p dst_be (network byte
 * order) with identifier @p ident, sequence number @p seq and @p payload_len bytes of data.
 * The request waits for ARP resolution if needed; replies are counted by zp_ping_replies().
 * @return 0, or -1 with errno: EPERM (not on a worker), EHOSTUNREACH (no route), EMSGSIZE
 *   (larger than the interface MTU), ENOBUFS (no mbuf).
 */
int zp_ping_send(uint32_t dst_be, uint16_t ident, uint16_t seq, size_t payload_len);

/**
 * Number of echo replies with identifier @p ident the calling worker received since its
 * first zp_ping_send() with that identifier (the worker tracks its 8 most recent ones).
 * @return the count; 0 with errno EPERM off a worker.
 */
uint64_t zp_ping_replies(uint16_t ident);

#ifdef __cplusplus
}
#endif
#endif
