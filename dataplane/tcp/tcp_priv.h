/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the files of dataplane/tcp share: the connection block, the per-worker engine, the
 * state / drop / statistic lists and the folder-internal functions (tcp__*).
 *
 * Sequence-number conventions follow RFC 9293 §3.3.1: snd_una .. snd_max is in flight
 * (snd_max is the RFC's SND.NXT; snd_nxt moves back on retransmission like BSD's), rcv_nxt is
 * the next byte expected. The send buffer is a byte ring holding every byte from snd_buf_seq
 * (the first unacknowledged data byte) on; the receive queue is a chain of the received mbufs.
 */
#ifndef ZPATH_TCP_PRIV_H
#define ZPATH_TCP_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "dp_priv.h"
#include "tcp.h"
#include "tcp_wire.h"
#include "tcp_cc.h"
#include "tcp_sack.h"

/* ---- states (RFC 9293 §3.3.2, RFC order, same values as enum zp_tcp_state) -------------- */

#define TCP_STATE_LIST(X)                                                                          \
	X(CLOSED, "CLOSED")                                                                        \
	X(LISTEN, "LISTEN")                                                                        \
	X(SYN_SENT, "SYN_SENT")                                                                    \
	X(SYN_RECEIVED, "SYN_RECEIVED")                                                            \
	X(ESTABLISHED, "ESTABLISHED")                                                              \
	X(FIN_WAIT_1, "FIN_WAIT_1")                                                                \
	X(FIN_WAIT_2, "FIN_WAIT_2")                                                                \
	X(CLOSE_WAIT, "CLOSE_WAIT")                                                                \
	X(CLOSING, "CLOSING")                                                                      \
	X(LAST_ACK, "LAST_ACK")                                                                    \
	X(TIME_WAIT, "TIME_WAIT")

#define TCP_X_ENUM(e, name) TCPS_##e,
enum tcp_state { TCP_STATE_LIST(TCP_X_ENUM) };
#define TCP_NSTATES (TCPS_TIME_WAIT + 1)
/** "No transition" in the next-state tables. */
#define TCPS_NONE ((enum tcp_state)TCP_NSTATES)
#undef TCP_X_ENUM

_Static_assert((int)TCPS_TIME_WAIT == (int)ZP_TCP_TIME_WAIT, "states follow zp_tcp_state");
_Static_assert((int)TCPS_ESTABLISHED == (int)ZP_TCP_ESTABLISHED, "states follow zp_tcp_state");

/** States where both ISNs are known (RFC 9293 "synchronized states"). */
static inline bool tcp_state_synced(enum tcp_state s)
{
	return s >= TCPS_SYN_RECEIVED;
}

/* ---- drop reasons: every segment the engine frees without using it counts one ----------- */

/* X(ENUM_SUFFIX, "name", "help") */
#define TCP_DROP_LIST(X)                                                                           \
	X(SHORT, "short", "shorter than a TCP header, or data offset out of range")                \
	X(CSUM, "csum", "TCP checksum is wrong")                                                   \
	X(BAD_FLAGS, "bad_flags", "impossible flag combination (SYN+FIN, SYN+RST, no flags)")      \
	X(NO_CONN, "no_conn", "no connection or listener; RST sent unless it was a RST (RST-4)")  \
	X(LISTEN_ACK, "listen_ack", "ACK to a listener without connection; RST sent (RST-4)")     \
	X(LISTEN_RST, "listen_rst", "RST to a listener ignored")                                   \
	X(BACKLOG_FULL, "backlog_full", "SYN dropped: half-open or accept queue full")             \
	X(SYN_SENT_BAD_ACK, "syn_sent_bad_ack", "SYN_SENT: unacceptable ACK; RST sent (RST-4)")   \
	X(SYN_SENT_RST, "syn_sent_rst", "SYN_SENT: RST without acceptable ACK ignored (RA-1)")     \
	X(SYN_SENT_NOSYN, "syn_sent_nosyn", "SYN_SENT: segment without SYN or RST")               \
	X(RST_OUT_OF_WINDOW, "rst_out_of_window", "RST outside the receive window (RA-2)")         \
	X(RST_CHALLENGED, "rst_challenged", "RST in window but not at RCV.NXT: challenge ACK")     \
	X(SYN_CHALLENGED, "syn_challenged", "SYN in a synchronized state: challenge ACK (RA-4)")   \
	X(BAD_ACK, "bad_ack", "ACK outside SND.UNA-MAX.SND.WND..SND.NXT: ACK sent (RA-5)")         \
	X(SYN_RCVD_BAD_ACK, "syn_rcvd_bad_ack", "SYN_RECEIVED: unacceptable ACK; RST sent")        \
	X(NO_ACK, "no_ack", "synchronized state, segment without ACK")                             \
	X(OUT_OF_WINDOW, "out_of_window", "sequence outside the receive window: ACK sent")         \
	X(PAWS, "paws", "timestamp older than TS.Recent (RFC 7323 PAWS): ACK sent")               \
	X(NO_TS, "no_ts", "timestamps negotiated but the segment has none (RFC 7323 §3.2)")        \
	X(DUP, "dup", "duplicate: every byte already received (ACK sent)")                         \
	X(AFTER_FIN, "after_fin", "data after the peer's FIN ignored (CL-5)")                      \
	X(AFTER_SHUT_RD, "after_shut_rd", "data after SHUT_RD acked and discarded (D-8)")          \
	X(ORPHAN_DATA, "orphan_data", "data after the app closed: RST sent (RST-2)")               \
	X(REASS_FULL, "reass_full", "out-of-order queue full")                                     \
	X(TW_RST, "tw_rst_ignored", "RST ignored in TIME_WAIT (RFC 1337, TW-2)")                   \
	X(TW_SYN, "tw_syn", "SYN in TIME_WAIT rejected by the RFC 6191 test (TW-3)")               \
	X(TW_SEG, "tw_seg", "other segment in TIME_WAIT (acked, TW-4)")                            \
	X(CLOSED_CONN, "closed_conn", "segment for a connection being torn down")                  \
	X(NOMEM, "nomem", "mbuf allocation failed")                                                 \
	X(RCV_POOL, "rcv_pool_low", "payload not queued: the mbuf pool is low (the peer resends it)")

/* X(ENUM_SUFFIX, "name", "help") */
#define TCP_STAT_LIST(X)                                                                           \
	X(SEGS_IN, "segs_in", "segments received")                                                 \
	X(SEGS_OUT, "segs_out", "segments sent")                                                   \
	X(ACTIVE_OPENS, "active_opens", "connect() calls that sent a SYN")                         \
	X(PASSIVE_OPENS, "passive_opens", "SYNs accepted by a listener")                           \
	X(CONN_ESTAB, "conn_established", "connections that reached ESTABLISHED")                  \
	X(CONN_CLOSED, "conn_closed", "connections deleted")                                       \
	X(RST_IN, "rst_in", "RSTs accepted")                                                       \
	X(RST_OUT, "rst_out", "RSTs sent")                                                         \
	X(RST_UNREAD, "rst_unread", "close with unread data sent RST (RST-1)")                     \
	X(RST_LINGER0, "rst_linger0", "abortive close (SO_LINGER 0) sent RST (RST-3)")             \
	X(RST_LISTEN_CLOSE, "rst_listen_close", "accept-queue connections reset at close (RST-5)")\
	X(CHALLENGE_ACKS, "challenge_acks", "challenge ACKs sent (RFC 5961)")                      \
	X(CHALLENGE_LIMITED, "challenge_limited", "challenge ACKs suppressed by the rate limit")    \
	X(OOW_ACKS_LIMITED, "oow_acks_limited", "ACKs not sent for an unacceptable segment without data (PAWS or out of window): per-connection budget") \
	X(RETRANS, "retrans_segs", "segments retransmitted")                                       \
	X(RTO_EXPIRED, "rto_expired", "retransmission timeouts")                                   \
	X(FAST_RETRANS, "fast_retrans", "fast retransmits (3 duplicate ACKs)")                     \
	X(TIMEOUT_DROPS, "timeout_drops", "connections dropped at the retransmission limit (R2)")  \
	X(KEEPALIVE_PROBES, "keepalive_probes", "keepalive probes sent")                           \
	X(KEEPALIVE_DROPS, "keepalive_drops", "connections dropped by keepalive (RST-6)")          \
	X(FIN_TIMEOUTS, "fin_timeouts", "orphaned FIN_WAIT_2 connections timed out (CL-9)")        \
	X(LINGER_ABORTS, "linger_aborts", "background closes cut by SO_LINGER (RST sent)")         \
	X(TW_REUSED, "tw_reused", "TIME_WAIT entries replaced by a new SYN (TW-3)")                \
	X(TW_ACKS, "tw_acks", "ACKs sent from TIME_WAIT")                                          \
	X(DELAYED_ACKS, "delayed_acks", "ACKs sent by the delayed-ACK timer")                      \
	X(PERSIST_PROBES, "persist_probes", "zero-window probes sent")                             \
	X(OOO_SEGS, "ooo_segs", "segments queued out of order")                                    \
	X(PAWS_DROPS, "paws_rejected", "segments rejected by PAWS")                                \
	X(RST_CLOSE_WAIT, "rst_in_close_wait", "RSTs in CLOSE_WAIT (EPIPE latched, F-2)")          \
	X(RST_CLOSING, "rst_in_closing", "RSTs in CLOSING/LAST_ACK")                               \
	X(ICMP_SOFT, "icmp_soft", "ICMP errors remembered as soft errors")                         \
	X(ICMP_HARD, "icmp_hard", "ICMP errors that aborted a connect")                            \
	X(SACK_RECOVERIES, "sack_recoveries", "loss recoveries driven by SACK (RFC 6675)")          \
	X(DSACKS, "dsacks_in", "D-SACK blocks received: a segment reached the peer twice")        \
	X(DSACK_OUT, "dsack_sent", "D-SACK blocks sent (RFC 2883): a segment reached us twice")   \
	X(SPURIOUS_UNDO, "spurious_undos", "cwnd reductions undone: retransmissions were D-SACKed") \
	X(TX_BLOCKED, "tx_blocked", "times output stopped at a full TX buffer (per connection and loop pass)") \
	X(SNDBUF_GROWN, "sndbuf_grown", "send-buffer limits raised by autotuning (2 x cwnd)")       \
	X(SNDBUF_POOL_LOW, "sndbuf_pool_low", "send-buffer growth refused: mbuf pool low or worker send memory at its budget") \
	X(SPURIOUS_UNDO_TS, "spurious_undos_ts", "cwnd reductions undone: a timestamp echo showed the original arrived (Eifel, RFC 3522)") \
	X(RACK_LOST, "rack_lost", "segments RACK marked lost (RFC 8985: sent RACK.rtt + reo_wnd before a delivered one)") \
	X(RACK_REO_TIMEOUTS, "rack_reo_timeouts", "RACK reordering timer expirations (RFC 8985 §6.3)") \
	X(TLP_SENT, "tlp_sent", "tail loss probes sent (RFC 8985 §7)")                              \
	X(TLP_RECOVERED, "tlp_recovered", "tail losses repaired by a probe (its ACK went beyond it)") \
	X(DSACKS_DUBIOUS, "dsacks_dubious", "D-SACK blocks ignored: they cover nothing we retransmitted (the path duplicated a segment)") \
	X(TLP_DEFERRED, "tlp_deferred", "tail loss probes put off: the port's TX buffer was full (the data is still on this host)")

#define TCP_X_ENUM(e, name, help) TCP_DROP_##e,
enum tcp_drop { TCP_DROP_LIST(TCP_X_ENUM) TCP_DROP_MAX };
#undef TCP_X_ENUM
#define TCP_X_ENUM(e, name, help) TCP_STAT_##e,
enum tcp_stat { TCP_STAT_LIST(TCP_X_ENUM) TCP_STAT_MAX };
#undef TCP_X_ENUM

/* ---- sequence arithmetic (RFC 9293 §3.4, modulo 2^32) ---------------------------------- */

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define SEQ_MAX(a, b) (SEQ_GT(a, b) ? (a) : (b))
#define SEQ_MIN(a, b) (SEQ_LT(a, b) ? (a) : (b))

/* Minimum / maximum without RTE_MIN's statement expression (which shadows when nested).
 * Arguments are evaluated twice: pass plain values. */
#define TCP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TCP_MAX(a, b) ((a) > (b) ? (a) : (b))

/* ---- constants -------------------------------------------------------------------------- */

#define TCP_MSS_NOOPT 536u         /* RFC 9293 §3.7.1 when the peer sends no MSS */
#define TCP_MSS_MIN 88u
#define TCP_SNDBUF_DEFAULT (256u * 1024) /* default SO_SNDBUF: the cap of send autotuning */
#define TCP_SNDBUF_INIT (16u * 1024)     /* send-buffer limit before the connection is up (Linux tcp_wmem[1]) */
#define TCP_SBUF_RING_MIN 4096u          /* smallest send ring allocated */
#define TCP_RCVBUF_DEFAULT (256u * 1024)
#define TCP_BUF_MIN 2048u
#define TCP_BUF_MAX (16u * 1024 * 1024)
#define TCP_WSCALE_MAX 14u           /* RFC 7323 §2.3 */
#define TCP_RTO_INIT_US 1000000u     /* RFC 6298 §2.1 */
#define TCP_RTO_MIN_US 200000u       /* Linux TCP_RTO_MIN; RFC 6298 §2.4 allows it (MAY) */
#define TCP_RTO_MAX_US 120000000u    /* RFC 6298 §2.5 upper bound (>= 60 s) */
#define TCP_SYN_RETRIES 7u           /* 1+2+..+128 s > 3 min (RFC 9293 MUST-23) */
#define TCP_DATA_RETRIES 15u         /* R2 (Linux tcp_retries2) */
#define TCP_SYNACK_RETRIES 5u
#define TCP_DELACK_NS 40000000ull    /* 40 ms; RFC 9293 §3.8.6.3 bounds it by 500 ms */
#define TCP_PERSIST_MIN_US 200000u
#define TCP_CHALLENGE_PER_SEC 10u    /* per-connection challenge ACK budget (RA-6) */
#define TCP_TW_ACK_PER_SEC 10u
#define TCP_DEF_KEEPIDLE_S 7200u         /* RFC 9293 MUST-28: >= 2 h */
#define TCP_DEF_KEEPINTVL_S 75u
#define TCP_DEF_KEEPCNT 9u
#define TCP_REASS_MAX_SEGS 256u
#define TCP_EPHEMERAL_LO 32768u
#define TCP_EPHEMERAL_HI 60999u
#define TCP_TW_ISS_GAP 65537u        /* TW-3 / TW-5: ISS = old SND.NXT + 65537 (Linux) */

/* ---- connection ------------------------------------------------------------------------ */

/** The 4-tuple, hash key of the connection table (network byte order). */
struct tcp_key {
	rte_be32_t laddr;
	rte_be32_t raddr;
	rte_be16_t lport;
	rte_be16_t rport;
};
_Static_assert(sizeof(struct tcp_key) == 12, "tcp_key is packed");

/* c->flags */
#define TCPF_ORPHAN 0x00000001u      /* the application closed its descriptor */
#define TCPF_PEER_FIN 0x00000002u    /* the peer's FIN reached the stream (Linux SOCK_DONE) */
#define TCPF_FIN_QUEUED 0x00000004u  /* we must send a FIN after the queued data */
#define TCPF_FIN_SENT 0x00000008u    /* fin_seq is valid */
#define TCPF_ACK_NOW 0x00000010u     /* send an ACK on the next output */
#define TCPF_DELACK 0x00000020u      /* an ACK is being delayed */
#define TCPF_NODELAY 0x00000040u     /* TCP_NODELAY: Nagle off */
#define TCPF_KEEPALIVE 0x00000080u   /* SO_KEEPALIVE */
#define TCPF_REUSEADDR 0x00000100u
#define TCPF_REUSEPORT 0x00000200u
#define TCPF_LINGER 0x00000400u      /* SO_LINGER on (linger_s holds the time) */
#define TCPF_BOUND 0x00000800u       /* local address/port assigned */
#define TCPF_WAS_CONN 0x00001000u    /* reached a synchronized state at least once */
#define TCPF_CONN_FAILED 0x00002000u /* connect() failed (D-12) */
#define TCPF_PASSIVE 0x00004000u     /* born from a listener */
#define TCPF_CORK 0x00008000u        /* MSG_MORE in effect for queued data */
#define TCPF_TS_OK 0x00010000u       /* timestamps negotiated (RFC 7323 §3) */
#define TCPF_WS_OK 0x00020000u       /* window scaling negotiated (RFC 7323 §2) */
#define TCPF_USER_SHUT_RD 0x00040000u /* shutdown(SHUT_RD) (D-8: discard later data) */
#define TCPF_LISTEN_SHUT 0x00080000u /* listener shut down: accept fails ECONNABORTED (SD-4) */
#define TCPF_IN_ACCEPTQ 0x00100000u
#define TCPF_CONNECTING 0x00200000u  /* connect() in progress (EALREADY) */
#define TCPF_PERSIST 0x00400000u     /* t_rexmt runs as the persist timer */
#define TCPF_FREED 0x00800000u       /* freed once zero-copy views come back */
#define TCPF_SACK_OK 0x01000000u     /* SACK permitted both ways (RFC 2018) */
#define TCPF_BIND_PORT 0x02000000u   /* holds its port by bind()/listen (e->bind_ports) */
#define TCPF_OUTQ 0x04000000u      /* on e->outq (output runs at the end of the loop pass) */
#define TCPF_ACK_BATCH 0x08000000u /* an every-second-segment ACK waits for the burst's end */
#define TCPF_SNDBUF_LOCK 0x10000000u /* SO_SNDBUF set by the app: no send autotuning (Linux SOCK_SNDBUF_LOCK) */
#define TCPF_ACK_APP 0x20000000u   /* an ACK waits one application turn (tcp__ack_after_app) */

/* c->shut: what the socket can no longer do (Linux sk_shutdown bits). */
#define TCP_RCV_SHUT 1u
#define TCP_SND_SHUT 2u

struct tcp_conn {
	TAILQ_ENTRY(tcp_conn) link;      /**< engine->conns */
	TAILQ_ENTRY(tcp_conn) qlink;     /**< listener's half-open / accept queue */
	TAILQ_ENTRY(tcp_conn) outq_link; /**< engine->outq, when TCPF_OUTQ */
	struct tcp_engine *e;
	uint64_t id;
	struct tcp_key key;
	bool hashed;
	enum tcp_state state;
	uint32_t flags;
	uint8_t shut;
	int so_error;                    /**< latched hard error (ERR-1) */
	int soft_error;                  /**< remembered soft error (ERR-2) */

	/* Send sequence space (RFC 9293 §3.3.1). */
	uint32_t iss;
	uint32_t snd_una;
	uint32_t snd_nxt;
	uint32_t snd_max;                /**< highest sequence sent + 1 (RFC SND.NXT) */
	uint32_t snd_wnd;                /**< peer window, scaled, bytes */
	uint32_t snd_wl1, snd_wl2;
	uint32_t max_sndwnd;             /**< MAX.SND.WND (RFC 5961 §5.2) */
	uint32_t fin_seq;                /**< sequence number of our FIN (TCPF_FIN_SENT) */
	uint32_t snd_buf_seq;            /**< sequence of sbuf's first byte */
	uint8_t snd_wscale;              /**< shift the peer applies to its window field */
	uint8_t rcv_wscale;              /**< shift we apply to ours */

	/* Receive sequence space. */
	uint32_t irs;
	uint32_t rcv_nxt;
	uint32_t rcv_adv;                /**< right edge of the window we last advertised */
	uint32_t last_ack_sent;
	uint32_t ts_recent;              /**< RFC 7323 §4.3 TS.Recent */
	uint64_t ts_recent_ns;
	uint32_t ts_last_seq;            /**< highest SEG.SEQ seen (RFC 6191 in TIME_WAIT) */

	uint16_t snd_mss;                /**< what we put in a segment */
	uint16_t rcv_mss;                /**< what we advertised */
	uint16_t peer_mss;
	uint16_t user_mss;               /**< TCP_MAXSEG, 0 = none */

	/* Congestion control (RFC 5681, NewReno RFC 6582). */
	uint32_t cwnd, ssthresh;
	uint32_t dupacks;
	uint32_t recover;
	bool in_recovery;
	struct tcp_cc_state cc;          /**< algorithm and its state (tcp_cc.h) */
	struct tcp_sack_state sack;      /**< SACK blocks, scoreboard (tcp_sack.h) */
	struct tcp_autotune at;          /**< receive-window autotuning (tcp_autotune.c) */

	/* RTT (RFC 6298). */
	uint32_t srtt_us, rttvar_us, rto_us;
	bool rtt_valid;
	uint32_t rtt_seq;                /**< timed sequence (Karn) */
	uint64_t rtt_start_ns;
	bool rtt_timing;
	uint32_t retries;                /**< consecutive timeouts of the oldest segment */
	uint64_t total_retrans;
	uint64_t rexmit_start_ns;        /**< first timeout of the current episode */
	uint32_t persist_shift;

	/* Send buffer: a byte ring of sbuf_size bytes from snd_buf_seq on (allocated as the
	 * application fills it, never beyond the limit); how much it may hold is
	 * tcp__snd_limit(): snd_limit autotuned up to sndbuf_max (tcp_autotune.c). */
	uint8_t *sbuf;
	uint32_t sbuf_size, sbuf_head, sbuf_len;
	uint32_t sndbuf_max;             /**< SO_SNDBUF, or the default cap when not set */
	uint32_t snd_limit;              /**< autotuned limit; 0 = TCP_SNDBUF_INIT */

	/* Receive queue: in-order mbufs (data at payload), m->next chained. */
	struct rte_mbuf *rq_head, *rq_tail;
	uint32_t rq_bytes;
	uint32_t rcvbuf;
	uint32_t zc_held;                /**< bytes handed out as zero-copy views */
	uint32_t zc_refs;                /**< views outstanding (the block lives until 0) */
	/* Out-of-order queue, sorted by sequence, in the mbufs' dynfield. */
	struct rte_mbuf *ooo_head;
	uint32_t ooo_segs, ooo_bytes;

	/* Timers. */
	struct dp_timer t_rexmt;         /**< retransmission or persist */
	struct dp_timer t_delack;
	struct dp_timer t_keep;          /**< keepalive, SYN_RECEIVED lifetime */
	struct dp_timer t_close;         /**< TIME_WAIT 2MSL, orphan FIN_WAIT_2, linger bound */
	struct dp_timer t_rack;          /**< RACK reordering timeout or TLP probe (tcp_rack.c) */
	uint32_t keep_probes;
	uint64_t last_rcv_ns;             /**< last segment from the peer (keepalive idle) */

	/* Options. */
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	uint32_t user_timeout_ms;
	uint32_t linger_s;

	/* Listener side. */
	struct tcp_conn *parent;         /**< listener that produced this one */
	TAILQ_HEAD(, tcp_conn) synq;     /**< half-open children (listener) */
	TAILQ_HEAD(, tcp_conn) acceptq;  /**< established, not yet accepted (listener) */
	uint32_t synq_len, acceptq_len;
	uint32_t backlog;

	/* RFC 5961 §7 per-connection challenge ACK budget; TIME_WAIT ACK budget. */
	uint64_t chal_start_ns;
	uint32_t chal_count;

	/* Socket layer. */
	tcp_upcall_fn upcall;
	void *upcall_arg;

	/* Accounting for dp_conn_event and TCP_INFO. */
	uint64_t created_ns, estab_ns;
	uint64_t ack_app_loop;            /**< w->loops when TCPF_ACK_APP was set */
	uint64_t bytes_in, bytes_out, bytes_acked;
	enum dp_conn_close_how how;
	int app_errno;
	bool open_emitted;

	/* Cold, at the end so that the hot fields above keep their cache lines: the most recent
	 * retransmitted ranges (a ring, sack.rtx_head / sack.rtx_n; contiguous retransmissions
	 * share one entry). A D-SACK that covers none of them reports a duplicate the path
	 * made, not a spurious retransmission (Linux's "dubious" D-SACK), tcp_sack.c. */
	struct tcp_sack_block rtx_log[TCP_RTX_LOG];
};

/* ---- engine ----------------------------------------------------------------------------- */

struct tcp_engine {
	struct dp_worker *w;
	struct rte_hash *hash;           /**< tcp_key -> tcp_conn (synchronized + SYN_SENT) */
	TAILQ_HEAD(, tcp_conn) conns;    /**< every connection block of the worker */
	TAILQ_HEAD(, tcp_conn) listeners;
	uint32_t nb_conns;
	uint64_t next_id;
	uint64_t isn_key[2];             /**< RFC 6528 secret (SipHash key) */
	uint32_t eph_next;               /**< RFC 6056 Algorithm 3 counter (ephemeral ports) */
	tcp_output_fn output;
	uint64_t delack_ns;              /**< 0 = ACK at once (tests) */
	bool app_out_defer;              /**< tcp__output_app() defers to the pass's end */
	uint64_t drops[TCP_DROP_MAX];
	uint64_t stats[TCP_STAT_MAX];
	uint64_t state_enter[TCP_NSTATES];
	uint32_t *bind_ports;            /**< per local port: blocks holding it by bind() (65536) */
	bool pool_low;                   /**< w->pool below a quarter: queue no payload (tcp__text) */
	uint64_t snd_mem;                /**< bytes of send rings allocated on this worker */
	/** Output to run at the end of the poll-loop pass (tcp__outq_run): connections that
	 * held data back because the egress TX buffer was full (TCPF_OUTQ), and ACKs batched
	 * over an RX burst (TCPF_ACK_BATCH). */
	TAILQ_HEAD(, tcp_conn) outq;
	uint64_t tx_full_loop[DP_MAX_PORTS]; /**< w->loops when the port's TX buffer stayed full */
};

static inline struct tcp_engine *tcp__engine(struct dp_worker *w)
{
	return (struct tcp_engine *)w->tcp;
}

static inline void tcp__stat(struct tcp_engine *e, enum tcp_stat s)
{
	e->stats[s]++;
}

/** A parsed incoming segment. */
struct tcp_opts {
	bool mss_ok, ws_ok, ts_ok, sack_ok;
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint8_t nsack;                   /**< SACK blocks (RFC 2018), not on a SYN */
	uint32_t sack[4][2];
};

struct tcp_seg {
	struct rte_mbuf *m;              /**< payload at data; NULL once consumed */
	rte_be32_t saddr, daddr;
	rte_be16_t sport, dport;
	uint32_t seq, ack;
	uint32_t len;                    /**< payload bytes */
	uint32_t wnd;                    /**< raw window field */
	uint8_t flags;
	struct tcp_opts opt;
};

/** Sequence space a segment occupies (RFC 9293 §3.4: SYN and FIN count one). */
static inline uint32_t tcp_seg_seqlen(const struct tcp_seg *s)
{
	return s->len + !!(s->flags & TCP_FLAG_SYN) + !!(s->flags & TCP_FLAG_FIN);
}

/* ---- folder-internal functions ----------------------------------------------------------- */

/* tcp_fsm.c */
const char *tcp__state_name(enum tcp_state s);
void tcp__set_state(struct tcp_conn *c, enum tcp_state s);
void tcp__segment(struct tcp_conn *c, struct tcp_seg *s);
enum tcp_state tcp__usrclosed_next(enum tcp_state s);

/* tcp_conn.c */
struct tcp_conn *tcp__conn_alloc(struct tcp_engine *e);
int tcp__hash_add(struct tcp_conn *c);
void tcp__hash_del(struct tcp_conn *c);
struct tcp_conn *tcp__lookup(struct tcp_engine *e, const struct tcp_key *k);
struct tcp_conn *tcp__listener_lookup(struct tcp_engine *e, rte_be32_t addr, rte_be16_t port);
void tcp__conn_free(struct tcp_conn *c);
void tcp__drop_conn(struct tcp_conn *c, int err, enum dp_conn_close_how how);
void tcp__closed(struct tcp_conn *c, enum dp_conn_close_how how);
void tcp__wakeup(struct tcp_conn *c);
void tcp__emit_open(struct tcp_conn *c);
bool tcp__addr_local(const struct dp_stack *s, rte_be32_t a);
int tcp__route_src(const struct dp_stack *s, rte_be32_t dst, rte_be32_t *src, uint16_t *mtu);
void tcp__conn_view(const struct tcp_conn *c, struct dp_conn_view *v);
int tcp__connect_tuple(struct tcp_conn *c, rte_be32_t laddr, rte_be32_t raddr, rte_be16_t rport);
/** Default SO_SNDBUF of the worker ([stack] tcp_sndbuf, else TCP_SNDBUF_DEFAULT). */
uint32_t tcp__sndbuf_default(const struct tcp_engine *e);

/* tcp_input.c */
void tcp__drop_seg(struct tcp_engine *e, struct tcp_seg *s, enum tcp_drop why);
/** Free a segment that did its work (not a drop). */
void tcp__seg_free(struct tcp_seg *s);
bool tcp__ack_acceptable(const struct tcp_conn *c, uint32_t ack);
void tcp__process_ack(struct tcp_conn *c, struct tcp_seg *s);
void tcp__process_data(struct tcp_conn *c, struct tcp_seg *s);
void tcp__rq_flush(struct tcp_conn *c);
bool tcp__challenge_allowed(struct tcp_conn *c);
void tcp__listen_input(struct tcp_conn *l, struct tcp_seg *s);
void tcp__listen_syn_iss(struct tcp_conn *l, struct tcp_seg *s, uint32_t iss);
void tcp__rq_deliver(struct tcp_conn *c, struct rte_mbuf *m, uint32_t len);
bool tcp__text(struct tcp_conn *c, struct tcp_seg *s);

/* tcp_output.c */
void tcp__output(struct tcp_conn *c);
/** Run output again for the connections a full TX buffer held back (poll-loop hook). */
void tcp__outq_run(struct dp_worker *w);
/** Take @p c off the TX wait list (connection freed). */
void tcp__outq_del(struct tcp_conn *c);
/** Put @p c on e->outq: tcp__output() runs for it at the end of this loop pass. */
void tcp__outq_add(struct tcp_conn *c);
/** The worker's TX buffer towards @p c's port is full even after a flush (one attempt per
 *  loop pass and port): a segment built now would be dropped (drop.tx_full). */
bool tcp__tx_full(struct tcp_conn *c);
int tcp__send_ctl(struct tcp_conn *c, uint32_t seq, uint8_t flags);
void tcp__send_ack(struct tcp_conn *c);
/** The ACK of a SYN,ACK or a FIN the application is about to answer (send, close): inside
 *  the poll loop it waits until the application had one turn, so it rides on that segment;
 *  outside the loop (tests feeding segments) it is sent at once (TCPF_ACK_NOW). */
void tcp__ack_after_app(struct tcp_conn *c);
/** Output the application asked for (send, close): built at the end of the next loop pass
 *  (e->outq), just before the TX flush that would send it anyway, so a send and a close in one
 *  application turn leave as one segment; at once outside the loop or when
 *  !e->app_out_defer. */
void tcp__output_app(struct tcp_conn *c);
void tcp__send_challenge_ack(struct tcp_conn *c);
void tcp__send_rst(struct tcp_conn *c);
void tcp__reply_rst(struct tcp_engine *e, const struct tcp_seg *s);
uint32_t tcp__rcv_wnd(const struct tcp_conn *c);
uint32_t tcp__ts_now(const struct tcp_engine *e);
uint32_t tcp__sbuf_unsent(const struct tcp_conn *c);
int tcp__rexmit(struct tcp_conn *c, uint32_t seq, uint32_t len, bool fin);

/* tcp_timer.c */
void tcp__timers_init(struct tcp_conn *c);
void tcp__timers_cancel(struct tcp_conn *c);
void tcp__rexmt_arm(struct tcp_conn *c);
void tcp__persist_arm(struct tcp_conn *c);
void tcp__delack_arm(struct tcp_conn *c);
void tcp__keep_arm(struct tcp_conn *c);
void tcp__tw_arm(struct tcp_conn *c);
void tcp__close_timer_arm(struct tcp_conn *c, uint64_t after_ns);
void tcp__rtt_sample(struct tcp_conn *c, uint32_t rtt_us);

/* tcp_rack.c */
void tcp__rack_timer_fire(struct dp_worker *w, struct dp_timer *t);

/* tcp_options.c */
void tcp__parse_opts(const uint8_t *p, unsigned len, bool syn, struct tcp_opts *o);
unsigned tcp__write_syn_opts(struct tcp_conn *c, uint8_t *p, bool synack,
			     const struct tcp_opts *peer);
unsigned tcp__write_opts(struct tcp_conn *c, uint8_t *p);
void tcp__negotiate(struct tcp_conn *c, const struct tcp_opts *peer);
uint16_t tcp__our_mss(const struct tcp_conn *c);

/* tcp_reass.c */
void tcp__reass_insert(struct tcp_conn *c, struct tcp_seg *s);
void tcp__reass_pull(struct tcp_conn *c);
void tcp__reass_flush(struct tcp_conn *c);
/** Sequence number of an mbuf held by the engine (rx dynfield). */
uint32_t *tcp__mbuf_seq(struct rte_mbuf *m);
struct tcp_conn **tcp__mbuf_conn(struct rte_mbuf *m);
int tcp__dynfield_init(void);

/* tcp_isn.c */
uint32_t tcp__isn(struct tcp_engine *e, const struct tcp_key *k);
uint64_t tcp__siphash(const uint64_t key[2], const void *data, size_t len);

#endif
