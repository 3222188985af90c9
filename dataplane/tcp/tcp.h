/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The TCP engine as the socket layer (dataplane/sock), the control plane seams and the tests
 * see it. Everything runs on the worker that owns the engine (w->tcp); nothing here locks.
 *
 * Calls return 0 / a count, or a negative errno whose value is exactly the one the socket API
 * must report (shared/spec/close-semantics.md); the socket layer only turns it into -1/errno.
 */
#ifndef ZPATH_TCP_H
#define ZPATH_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "dp_priv.h"
#include "zpath/zpath_socket.h"

struct tcp_conn;
struct tcp_engine;

/** How the engine hands a finished segment to IPv4 (data at the TCP header, cksum 0). */
typedef int (*tcp_output_fn)(struct dp_worker *w, struct rte_mbuf *m, rte_be32_t src,
			     rte_be32_t dst);

/** Create the engine of @p w (w->tcp) and register tcp_input for IPPROTO_TCP. 0 or -errno. */
int tcp_engine_create(struct dp_worker *w);
/** Abort every connection (no segments sent) and free the engine. */
void tcp_engine_destroy(struct dp_worker *w);
/** Replace the output function (tests capture segments here). NULL = dp_ipv4_output. */
void tcp_output_set(struct dp_worker *w, tcp_output_fn fn);
/** The IPPROTO_TCP input handler: data at the TCP header, IPv4 header at dp_mbuf_ip(m). */
void tcp_input(struct dp_worker *w, struct rte_mbuf *m);
/** ICMP error concerning one of our segments (RFC 9293 §3.9.2.2; ERR-2/3/4). @p tcph points to
 *  the first 8 bytes of the offending TCP header as quoted in the ICMP payload. */
void tcp_icmp_error(struct dp_worker *w, rte_be32_t src, rte_be32_t dst, const void *tcph,
		    uint8_t type, uint8_t code);

/* ---- connections as the socket layer uses them ------------------------------------------- */

/** Wake-up from the engine: readiness of @p c may have changed (POLL-5). */
typedef void (*tcp_upcall_fn)(void *arg);

/** A fresh CLOSED connection owned by the application. NULL = ENOMEM. */
struct tcp_conn *tcp_conn_new(struct dp_worker *w);
void tcp_upcall_set(struct tcp_conn *c, tcp_upcall_fn fn, void *arg);

int tcp_bind(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port);
int tcp_listen(struct tcp_conn *c, int backlog);
/** Take the next connection off the accept queue. -EAGAIN, -EINVAL, -ECONNABORTED. */
int tcp_accept(struct tcp_conn *c, struct tcp_conn **child);
int tcp_connect(struct tcp_conn *c, rte_be32_t addr, rte_be16_t port);
ssize_t tcp_send(struct tcp_conn *c, const struct iovec *iov, int iovcnt, int flags);
ssize_t tcp_recv(struct tcp_conn *c, const struct iovec *iov, int iovcnt, int flags);
int tcp_zc_recv(struct tcp_conn *c, struct zp_zc_view *views, int max);
void tcp_zc_release(struct zp_zc_view *views, int n);
int tcp_shutdown(struct tcp_conn *c, int how);
/** The application lets go of @p c (zp_close): background close per table L; never fails. */
void tcp_close(struct tcp_conn *c);
/** Abort: RST where RST-3 says so, delete the TCB. @p c stays owned by the caller. */
void tcp_abort(struct tcp_conn *c);
/** Current EPOLL* readiness per table P. */
uint32_t tcp_poll_events(const struct tcp_conn *c);
int tcp_setsockopt(struct tcp_conn *c, int level, int name, const void *val, socklen_t len);
int tcp_getsockopt(struct tcp_conn *c, int level, int name, void *val, socklen_t *len);
/** The engine's own option values (what tcp_conn_new gives), in the control plane's shape. */
void tcp_sockopt_builtin(struct dp_sockopt_defaults *out);
/** The socket layer's default SO_SNDBUF (control-plane rule or built-in) for a socket whose
 *  application never set SO_SNDBUF: the cap of send autotuning, not a fixed size. */
void tcp_sndbuf_default(struct tcp_conn *c, uint32_t bytes); /* 0 = [stack] tcp_sndbuf */
void tcp_sockname(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port);
/** -ENOTCONN when there is no peer. */
int tcp_peername(const struct tcp_conn *c, rte_be32_t *addr, rte_be16_t *port);
enum zp_tcp_state tcp_conn_state(const struct tcp_conn *c);
uint64_t tcp_conn_id(const struct tcp_conn *c);

/* ---- control plane (dp_conn_dump / dp_conn_drop) ---------------------------------------- */

unsigned tcp_conn_dump(struct dp_worker *w, struct dp_conn_view *out, unsigned max);
int tcp_conn_drop(struct dp_worker *w, uint64_t id);

/* ---- counters ----------------------------------------------------------------------------- */

/** Number of TCP drop reasons / statistics, their names and help texts (telemetry). */
unsigned tcp_drop_count(void);
const char *tcp_drop_name(unsigned i);
const char *tcp_drop_help(unsigned i);
unsigned tcp_stat_count(void);
const char *tcp_stat_name(unsigned i);
const char *tcp_stat_help(unsigned i);
/** One counter of @p w's engine (0 without one). Any thread, no lock: the worker is the single
 *  writer, the load is a relaxed atomic one (as for w->drops[] / w->stats[]). */
uint64_t tcp_drop_get(const struct dp_worker *w, unsigned i);
uint64_t tcp_stat_get(const struct dp_worker *w, unsigned i);
/** Connections alive on @p w (every state, TIME_WAIT and orphans included). */
unsigned tcp_conn_count(const struct dp_worker *w);

#endif
