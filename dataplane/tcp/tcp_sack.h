/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Selective acknowledgments and loss recovery (tcp_sack.c):
 *  - receiver: SACK blocks from the out-of-order queue, the block holding the segment that
 *    triggered the ACK first, then the most recently reported ones (RFC 2018 §4); a
 *    duplicate segment's range goes first as a D-SACK block in the next ACK (RFC 2883);
 *  - sender: a scoreboard of SACKed ranges (RFC 6675 §3), D-SACK detection (RFC 2883 §4) with
 *    undo of a reduction whose every retransmission proved spurious;
 *  - loss recovery: RFC 6675 (IsLost, pipe, NextSeg rules 1-3) when SACK was negotiated,
 *    NewReno (RFC 5681 §3.2 + RFC 6582) otherwise; what cwnd/ssthresh become is asked of the
 *    connection's congestion-control algorithm (tcp_cc.h).
 */
#ifndef ZPATH_TCP_SACK_H
#define ZPATH_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

struct tcp_conn;
struct tcp_seg;

#define TCP_SACK_RCV_BLOCKS 4  /**< blocks remembered for reporting (4 fit without TS) */
#define TCP_SACK_SB_MAX	    16 /**< scoreboard ranges (the highest is forgotten on overflow) */
#define TCP_DUPTHRESH	    3u /**< RFC 5681 / RFC 6675 DupThresh */

struct tcp_sack_block {
	uint32_t start, end; /**< [start, end) */
};

/** Per-connection SACK and recovery state (embedded in struct tcp_conn). */
struct tcp_sack_state {
	/* Receiver side. */
	struct tcp_sack_block rcv[TCP_SACK_RCV_BLOCKS]; /**< most recent first */
	uint8_t nrcv;
	bool dsack; /**< dsack_blk goes first in the next ACK (RFC 2883) */
	struct tcp_sack_block dsack_blk;
	/* Sender side. */
	uint8_t nsb;
	bool recovery;	       /**< in RFC 6675 loss recovery */
	bool undo_armed;       /**< a reduction may still be undone by D-SACKs */
	bool limited;	       /**< Limited Transmit in progress: output sends by cwnd - pipe */
	uint32_t high_rxt;     /**< RFC 6675 HighRxt */
	uint32_t sacked;       /**< bytes in the scoreboard */
	uint32_t undo_retrans; /**< retransmissions of the episode not yet D-SACKed */
	struct tcp_sack_block sb[TCP_SACK_SB_MAX]; /**< sorted, disjoint, above snd_una */
};

/* Receiver. */
/** Out-of-order data [@p seq, @p end) was just queued (or found already queued). */
void tcp__sack_rcv_ooo(struct tcp_conn *c, uint32_t seq, uint32_t end);
/** Data [@p seq, @p end) arrived a second time: report it as a D-SACK block (RFC 2883 §4)
 *  in the next ACK. A range contiguous with the one waiting extends it; another one waits
 *  for the next duplicate (one D-SACK block per ACK). No-op without SACK. */
void tcp__sack_rcv_dup(struct tcp_conn *c, uint32_t seq, uint32_t end);
/** Bytes of SACK option the next segment of @p c carries (0 when none). */
unsigned tcp__sack_optlen(struct tcp_conn *c);
/** Write the SACK option (NOP, NOP, kind 5, blocks) in at most @p room bytes. */
unsigned tcp__sack_write(struct tcp_conn *c, uint8_t *p, unsigned room);

/* Sender. */
/** Take the SACK blocks of an acceptable ACK into the scoreboard; true if new data was
 *  SACKed. Counts D-SACKs. */
bool tcp__sack_update(struct tcp_conn *c, const struct tcp_seg *s);
/** Duplicate ACK (RFC 5681 §2, or RFC 6675 §2 with SACK) given what the update found. */
bool tcp__is_dupack(const struct tcp_conn *c, const struct tcp_seg *s, bool newly_sacked);
/** A duplicate ACK arrived: count it, enter or continue loss recovery. */
void tcp__recovery_dupack(struct tcp_conn *c);
/** SND.UNA advanced by @p acked: leave recovery, retransmit on a partial ACK, or grow cwnd. */
void tcp__recovery_ack(struct tcp_conn *c, uint32_t acked);
/** The retransmission timer fired (c->retries already counts it). */
void tcp__recovery_rto(struct tcp_conn *c);
/** What tcp__output may send: @p usable, or cwnd - pipe (and the peer window) in recovery. */
uint32_t tcp__sack_usable(const struct tcp_conn *c, uint32_t usable);
/** Retransmitting after a timeout: move snd_nxt past SACKed data; returns snd_nxt. */
uint32_t tcp__sack_skip(struct tcp_conn *c);
/** Limit a segment at snd_nxt to end where SACKed data begins. */
uint32_t tcp__sack_clamp(const struct tcp_conn *c, uint32_t len);
/** RFC 6675 pipe (bytes in flight) and whether [seq] is lost (IsLost), for tests. */
uint32_t tcp__sack_pipe(const struct tcp_conn *c);
bool tcp__sack_is_lost(const struct tcp_conn *c, uint32_t seq);

#endif
