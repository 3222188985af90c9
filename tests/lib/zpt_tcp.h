/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * TCP test harness (on top of zpt.h): a worker with the socket layer and TCP engine, whose
 * segments are captured at the engine's output seam and whose input is crafted segments fed
 * straight to tcp_input() — a scripted peer at 10.0.0.2 on a virtual clock.
 */
#ifndef ZPATH_TEST_ZPT_TCP_H
#define ZPATH_TEST_ZPT_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zpt.h"
#include "tcp/tcp.h"
#include "zpath/zpath_socket.h"

#define ZPT_TCP_MAX_OUT 1024
#define ZPT_PEER_ISS 1000u

/** A captured or crafted segment in host order. */
struct zpt_seg {
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint16_t sport, dport; /**< host order */
	uint32_t len;
	bool has_mss, has_ws, has_ts;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t data[2048]; /**< last: zpt_tcp_pop() clears everything before it */
};

struct zpt_tcp {
	struct zpt_env *env;
	struct dp_worker *w;
	struct rte_mbuf *out[ZPT_TCP_MAX_OUT];
	unsigned out_head, out_tail;
	rte_be32_t local, peer;
	uint16_t lport, pport; /**< host order */
	uint32_t peer_nxt;     /**< next sequence number the peer sends */
	uint32_t our_iss;      /**< ISS of the connection under test */
	uint16_t peer_win;
	bool peer_ts;          /**< the peer puts a TS option on its segments */
	uint32_t peer_tsval;
};

/** New env (1 interface, 10.0.0.1/24), socket layer, capture hook, delayed ACK off. */
struct zpt_tcp *zpt_tcp_new(void);
/** Tear down everything; fails on leaked mbufs. */
void zpt_tcp_free(struct zpt_tcp *t);
/** Number of connection blocks still alive. */
unsigned zpt_tcp_conns(struct zpt_tcp *t);

/** Inject a segment from peer:pport to local:lport (window t->peer_win). */
void zpt_tcp_inject(struct zpt_tcp *t, uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
		    uint32_t len);
/** Same with explicit window and raw options (padded to 4 bytes by the caller). */
void zpt_tcp_inject_full(struct zpt_tcp *t, uint32_t seq, uint32_t ack, uint8_t flags,
			 uint16_t win, const uint8_t *opts, unsigned optlen, const void *data,
			 uint32_t len);
/** The next captured segment; false if none. */
bool zpt_tcp_pop(struct zpt_tcp *t, struct zpt_seg *s);
/** Captured segments waiting. */
unsigned zpt_tcp_pending(struct zpt_tcp *t);
/** Drop every captured segment; returns how many. */
unsigned zpt_tcp_drain(struct zpt_tcp *t);
/** Advance the virtual clock by @p ns in steps of at most 10 ms, running timers. */
void zpt_tcp_advance(struct zpt_tcp *t, uint64_t ns);

/** zp_connect() @p fd (options already set) to the peer: the SYN it sent in *syn; our_iss,
 *  lport and peer_nxt (ZPT_PEER_ISS) set for the SYN,ACK the caller answers with. */
void zpt_tcp_connect_syn(struct zpt_tcp *t, int fd, struct zpt_seg *syn);
/** Client side: zp_connect() to the peer, complete the handshake. Returns the fd. */
int zpt_tcp_client(struct zpt_tcp *t);
/** Server side: listener on @p port, handshake from the peer, accept. *lfd = listener. */
int zpt_tcp_server(struct zpt_tcp *t, uint16_t port, int *lfd);
/** Peer sends @p len bytes (pattern) at peer_nxt with ACK of @p ack; advances peer_nxt. */
void zpt_tcp_peer_send(struct zpt_tcp *t, uint32_t ack, const void *data, uint32_t len);

/** Current TCP state of socket @p fd (via ZP_TCP_INFO). */
int zpt_tcp_state(int fd);
/** SO_ERROR of @p fd (reads and clears). */
int zpt_tcp_so_error(int fd);
/** Engine drop / stat counter by name ("rst_challenged"); fails the test if unknown. */
uint64_t zpt_tcp_drop(struct zpt_tcp *t, const char *name);
uint64_t zpt_tcp_stat(struct zpt_tcp *t, const char *name);

#endif
