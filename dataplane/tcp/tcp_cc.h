/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Pluggable congestion control (VPP's tcp_cc_algorithm shape): one ops table per algorithm,
 * one file per algorithm (tcp_cc_newreno.c, tcp_cc_cubic.c), the registry and the generic
 * glue in tcp_cc.c.
 *
 * Division of labour. Loss *detection and recovery* (duplicate ACKs, SACK scoreboard,
 * RFC 6675 / RFC 6582 retransmission, cwnd inflation while recovering without SACK) live in
 * tcp_sack.c and are the same whatever the algorithm. An algorithm only decides how cwnd
 * grows on new ACKs and what ssthresh becomes on a congestion event or a timeout:
 *
 *  - init:           a connection starts using the algorithm (private state reset);
 *  - on_ack:         @p acked new bytes were cumulatively acknowledged outside recovery;
 *                    grow c->cwnd (slow start below c->ssthresh, avoidance above);
 *  - enter_recovery: a loss was detected by duplicate ACKs / SACK; set c->ssthresh (the
 *                    recovery code then sets cwnd from it);
 *  - exit_recovery:  the recovery point was acknowledged; set c->cwnd (normally ssthresh);
 *  - on_rto:         the retransmission timer expired; set c->ssthresh (only the first
 *                    timeout of an episode calls it, RFC 5681 §3.1 (4)); cwnd becomes one
 *                    segment in the caller (RFC 5681 loss window), for every algorithm.
 *
 * Everything runs on the worker that owns the connection; time is w->now_ns.
 */
#ifndef ZPATH_TCP_CC_H
#define ZPATH_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_conn;

/** The algorithms, in registry order. 0 is the process default when nothing is configured. */
enum tcp_cc_algo {
	TCP_CC_CUBIC = 0, /**< RFC 9438 (default, as in Linux) */
	TCP_CC_NEWRENO,	  /**< RFC 5681 + RFC 6582 */
	TCP_CC_MAX,
};

/** Longest algorithm name, NUL included (Linux TCP_CA_NAME_MAX). */
#define TCP_CC_NAME_MAX 16

struct tcp_cc_ops {
	const char *name;
	void (*init)(struct tcp_conn *c);
	void (*on_ack)(struct tcp_conn *c, uint32_t acked, uint32_t rtt_us);
	void (*enter_recovery)(struct tcp_conn *c);
	void (*exit_recovery)(struct tcp_conn *c);
	void (*on_rto)(struct tcp_conn *c);
};

/** Per-connection congestion-control state (embedded in struct tcp_conn). */
struct tcp_cc_state {
	const struct tcp_cc_ops *ops; /**< NULL until chosen: the stack default applies */
	const char *name;	      /**< name as set (the "reno" alias reports "reno") */
	uint32_t prior_cwnd;	      /**< before the last reduction (undo, RFC 2883 §4) */
	uint32_t prior_ssthresh;
	uint64_t priv[10]; /**< the algorithm's own state */
};

/**
 * Receive-window autotuning (tcp_autotune.c, Linux's dynamic right-sizing): the window we
 * offer starts at TCP_RCVWIN_INIT and grows to twice what the application read in the last
 * round trip, never beyond SO_RCVBUF (c->rcvbuf), never shrinking.
 */
struct tcp_autotune {
	uint32_t rcv_win; /**< current limit of the offered window; 0 = not started */
	uint32_t copied;  /**< bytes the application took since t0_ns */
	uint64_t t0_ns;	  /**< start of the current measurement; 0 = none */
	uint32_t rtt_us;  /**< receiver-side RTT estimate (TS echo, or time for a window) */
	uint32_t win_seq; /**< rcv_nxt when the time-for-a-window measurement began */
	uint64_t win_ns;  /**< 0 = no such measurement running */
};

#define TCP_RCVWIN_INIT (64u * 1024) /**< first offered window (Linux's is about 64 KiB) */

extern const struct tcp_cc_ops tcp_cc_newreno_ops;
extern const struct tcp_cc_ops tcp_cc_cubic_ops;

/** Ops of algorithm @p a (TCP_CC_*). */
const struct tcp_cc_ops *tcp_cc_ops_get(enum tcp_cc_algo a);
/**
 * Look an algorithm up by name ("cubic", "newreno", and "reno" for newreno as Linux names it).
 * @return its enum tcp_cc_algo, or -ENOENT.
 */
int tcp_cc_lookup(const char *name);
/** "cubic, newreno" (for error messages). */
const char *tcp_cc_names(void);

/* ---- glue used by the rest of dataplane/tcp (tcp_cc.c) --------------------------------- */

/** Choose the algorithm of @p c by name (TCP_CONGESTION). 0 or -ENOENT. */
int tcp__cc_set(struct tcp_conn *c, const char *name);
/** The name getsockopt(TCP_CONGESTION) / ZP_TCP_INFO report. */
const char *tcp__cc_name(const struct tcp_conn *c);
/** Connection synchronised, MSS known: initial window (RFC 6928), ssthresh, algorithm init. */
void tcp__cc_conn_init(struct tcp_conn *c);
/** Copy the algorithm of listener @p l to its child @p c. */
void tcp__cc_inherit(struct tcp_conn *c, const struct tcp_conn *l);
void tcp__cc_ack(struct tcp_conn *c, uint32_t acked);
/** Congestion event: remember cwnd/ssthresh for undo, let the algorithm set ssthresh. */
void tcp__cc_enter_recovery(struct tcp_conn *c);
void tcp__cc_exit_recovery(struct tcp_conn *c);
/** Retransmission timeout number @p nth (1 = first of the episode): cwnd = 1 MSS. */
void tcp__cc_rto(struct tcp_conn *c, uint32_t nth);
/** Undo the last reduction (every retransmission of the episode was spurious). */
void tcp__cc_undo(struct tcp_conn *c);

/* ---- receive-window autotuning (tcp_autotune.c) ------------------------------------------ */

/** How far the offered window may reach now (at most c->rcvbuf). */
uint32_t tcp__rcv_autowin(const struct tcp_conn *c);
/** In-order data arrived (@p tsecr: its TS echo, 0 = none): receiver RTT estimate. */
void tcp__rcv_arrived(struct tcp_conn *c, uint32_t tsecr);
/** The application took @p n bytes (read or zero-copy view): maybe grow the window. */
void tcp__rcv_consumed(struct tcp_conn *c, uint32_t n);

/* ---- send-buffer autotuning (tcp_autotune.c) --------------------------------------------- */

/** How many bytes the send buffer may hold now (SO_SNDBUF when set by the application). */
uint32_t tcp__snd_limit(const struct tcp_conn *c);
/** cwnd or the peer's window grew (ACK, establishment, send): raise the limit to follow. */
void tcp__snd_expand(struct tcp_conn *c);
/** Make the ring hold at least @p need bytes (at most the limit). 0 or -ENOMEM. */
int tcp__sbuf_reserve(struct tcp_conn *c, uint32_t need);
/** Free the ring (connection freed). */
void tcp__sbuf_free(struct tcp_conn *c);

#endif
