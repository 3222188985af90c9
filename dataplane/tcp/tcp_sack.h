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
#define TCP_RACK_SEGS	    32 /**< transmission records per connection (tcp_rack.c) */
#define TCP_RACK_DELIV	    8  /**< newly delivered ranges one ACK reports to RACK */
#define TCP_RACK_REO_MIN_US 1000u /**< smallest non-zero reo_wnd: the timer tick */
#define TCP_RTX_LOG	    16 /**< recent retransmitted ranges kept to judge D-SACKs */

struct tcp_sack_block {
	uint32_t start, end; /**< [start, end) */
};

/* struct tcp_rack_seg flags */
#define TCP_RACK_RETRANS 0x01u /**< the range was sent more than once */
#define TCP_RACK_LOST	 0x02u /**< RACK marked it lost; cleared when it is sent again */
#define TCP_RACK_FLAGS	 0x03u

/** Sequence range [start, end) last sent at a time (RFC 8985 per-segment state). Ranges
 *  sent in the same loop pass with the same flags share one record. 16 bytes: the flags
 *  live in the two low bits of the time (ns; 4 ns less precise). */
struct tcp_rack_seg {
	uint32_t start, end;
	uint64_t tf; /**< send time (w->now_ns) & ~TCP_RACK_FLAGS | flags */
};
_Static_assert(sizeof(struct tcp_rack_seg) == 16, "RACK records stay small");

/** RACK-TLP state (RFC 8985), embedded in struct tcp_sack_state. */
struct tcp_rack {
	struct tcp_rack_seg seg[TCP_RACK_SEGS]; /**< sorted by sequence, from SND.UNA on */
	uint8_t nseg;
	bool on;	      /**< RACK-TLP replaces DupThresh (SACK negotiated, knob on) */
	bool reord_seen;      /**< RACK.reordering_seen */
	bool dsack_round_on;  /**< RACK.dsack_round is set */
	bool tlp_on;	      /**< a probe is outstanding: TLP.end_seq is set */
	bool tlp_retrans;     /**< TLP.is_retrans */
	bool timer_pto;	      /**< t_rack runs as the probe timer (else: reordering timer) */
	bool dsack_now;	      /**< the ACK being processed carries a D-SACK */
	bool xmit_retrans;    /**< RACK's segment (xmit_ns, end_seq) was a retransmission */
	uint8_t reo_wnd_mult; /**< RACK.reo_wnd_mult */
	uint8_t reo_wnd_persist;
	uint8_t ndeliv;
	uint32_t end_seq;     /**< RACK.end_seq */
	uint32_t fack;	      /**< highest sequence SACKed or acknowledged so far */
	uint32_t dsack_round; /**< RACK.dsack_round */
	uint32_t tlp_end_seq; /**< TLP.end_seq */
	uint64_t xmit_ns;     /**< RACK.xmit_ts: latest send time of a delivered range */
	uint32_t rtt_us;      /**< RACK.rtt */
	uint32_t min_rtt_us;  /**< RACK.min_RTT; 0 = no sample yet */
	uint32_t reo_extent_us; /**< the latest a reordered segment came (reo_wnd covers it) */
	struct tcp_sack_block deliv[TCP_RACK_DELIV]; /**< newly delivered by the current ACK */
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
	uint32_t undo_tsval;   /**< TSval of the episode's first retransmission (Eifel) */
	uint32_t undo_seq;     /**< sequence of the episode's first retransmission */
	bool undo_ts;	       /**< undo_tsval/undo_seq are set */
	uint8_t rtx_n;	       /**< ranges in tcp_conn.rtx_log */
	uint8_t rtx_head;      /**< the oldest of them */
	struct tcp_sack_block sb[TCP_SACK_SB_MAX]; /**< sorted, disjoint, above snd_una */
	struct tcp_rack rack;
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
/** Octets the peer SACKed in [@p a, @p b). */
uint32_t tcp__sack_sacked_in(const struct tcp_conn *c, uint32_t a, uint32_t b);
/** Retransmit [seq, seq + len) in recovery (HighRxt, counters, undo bookkeeping). */
bool tcp__sack_rexmit(struct tcp_conn *c, uint32_t seq, uint32_t len);
/** A data/FIN segment [@p seq, @p end) is being sent (xmit()): a retransmission is logged so
 *  that the D-SACK reporting it can be told from one of a duplicate the path made. */
void tcp__sack_sent(struct tcp_conn *c, uint32_t seq, uint32_t end);
/** The ACK @p s was processed (SND.UNA moved to its ACK if it acknowledged new data):
 *  Eifel undo (RFC 3522) of the current episode when the ACK proves it spurious. */
void tcp__sack_ack_done(struct tcp_conn *c, const struct tcp_seg *s);

/* RACK-TLP (RFC 8985, tcp_rack.c). Active when c->sack.rack.on. */
/** Connection synchronised: RACK on when SACK was negotiated and [stack] tcp_recovery allows. */
void tcp__rack_init(struct tcp_conn *c);
/** A data segment [@p seq, @p end) (FIN included) leaves now. */
void tcp__rack_sent(struct tcp_conn *c, uint32_t seq, uint32_t end);
/** Step 2-4 of RFC 8985 §6.2 for the ranges the ACK @p s newly delivered (SND.UNA not yet
 *  moved). */
void tcp__rack_update(struct tcp_conn *c, const struct tcp_seg *s);
/** RFC 8985 §6.2 step 5: mark what is lost; arm the reordering timer. True if any range is
 *  marked lost and not yet retransmitted. */
bool tcp__rack_detect(struct tcp_conn *c);
/** The first lost, unSACKed, not yet retransmitted range at or above SND.UNA. */
bool tcp__rack_next_lost(const struct tcp_conn *c, uint32_t *seq, uint32_t *len);
/** Octets marked lost and not SACKed (they leave the pipe until sent again). */
uint32_t tcp__rack_lost_bytes(const struct tcp_conn *c);
/** TLP (RFC 8985 §7): arm the probe timeout if the conditions of §7.2 hold. */
void tcp__tlp_arm(struct tcp_conn *c);
/** §7.4: the ACK @p s ends (or not) the probe episode; @p advanced: SND.UNA moved,
 *  @p sacked: it SACKed new data. */
void tcp__tlp_ack(struct tcp_conn *c, const struct tcp_seg *s, bool advanced, bool sacked);
/** RACK loss detection then recovery: enter it, or retransmit what is lost; Limited Transmit
 *  when @p dupack and nothing is lost (tcp_sack.c). Also the reordering timer's action. */
void tcp__recovery_rack(struct tcp_conn *c, bool dupack);
/** Retransmission timeout: forget lost marks, the probe and the reordering timer. */
void tcp__rack_rto(struct tcp_conn *c);
/** A retransmission proved spurious (D-SACK, or Eifel when the peer sends no D-SACK): count
 *  reordering, widen reo_wnd once per round trip. */
void tcp__rack_spurious(struct tcp_conn *c);
/** A segment the sender retransmitted arrived @p us later than RACK expected it (Eifel saw
 *  its original delivered): reo_wnd covers that much from now on. */
void tcp__rack_late(struct tcp_conn *c, uint32_t us);
/** Leaving recovery (RFC 8985 §6.2 step 4: reo_wnd_persist). */
void tcp__rack_recovery_done(struct tcp_conn *c);
/** Current RACK.reo_wnd in µs (tests). */
uint32_t tcp__rack_reo_wnd_us(const struct tcp_conn *c);

#endif
