/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Fault injection on any port (dataplane/port/fault.c), in the spirit of VPP's nsim and
 * Linux netem (which this environment lacks): drop, duplicate, reorder, delay with jitter and
 * corrupt, each with its own rate, on RX and on TX, deterministic for a given seed.
 *
 * Configured per port in zpath.ini (or with -s port0.fault_rx=...):
 * @code
 *   [port0]
 *   fault_rx = "drop=0.01,dup=0.05,reorder=0.25,delay=20ms,jitter=5ms,corrupt=0.01"
 *   fault_tx = drop=0.02
 *   fault_seed = 7
 * @endcode
 * The configuration lives in struct dp_iface (ifc->fault, read-only once workers run). Each
 * worker keeps its own state (random generator, time-ordered delay queue) in w->fault; the
 * worker loop calls dp_fault_rx() after each RX burst and dp_fault_tx() from dp_tx_flush_iface(),
 * only for ports with ifc->fault.on. What it does is counted in the fault_* statistics.
 *
 * Semantics, per packet, in this order (five random draws per packet whatever the rates, so
 * one rate never changes the decisions of another):
 *  - drop:    freed (the emulated wire lost it; counted fault_*_drop, not a drop reason);
 *  - dup:     a deep copy follows it (same release time, just behind it);
 *  - corrupt: one byte after the IPv4 header is inverted; checksums catch it (RX checksum
 *             flags are cleared; on TX an offloaded checksum is computed in software first);
 *             frames that are not IPv4 are left alone;
 *  - reorder: held back until the next packet of that direction has gone, then sent right
 *             behind it (at rate 1: 1 2 3 4 -> 2 1 4 3); alone for DP_FAULT_HOLD_NS, it goes;
 *  - delay:   released at now + delay + uniform(-jitter, +jitter) (at least now), from a
 *             time-ordered queue (equal times keep arrival order) that w->now_ns drains.
 */
#ifndef ZPATH_DP_FAULT_H
#define ZPATH_DP_FAULT_H

#include <stddef.h>
#include <stdint.h>

#include "dp_priv.h"

/** A reordered packet with nobody to overtake it goes after this long. */
#define DP_FAULT_HOLD_NS 1000000ull
/** Packets a delay queue holds (per worker, port and direction); beyond: fault_queue_full. */
#define DP_FAULT_QUEUE_MAX 16384u
/** Probability 1 in the fixed-point rates of struct dp_fault_dir. */
#define DP_FAULT_ONE (1ull << 32)

/**
 * Parse "drop=0.01,dup=0.05,reorder=0.25,delay=20ms,jitter=5ms,corrupt=0.01" (any subset, any
 * order; rates 0..1 or percentages "1%"; times in ns/us/ms/s, bare numbers are ms; "" or "off"
 * = nothing; surrounding double quotes are ignored) into @p out.
 * @return 0 or -EINVAL with the reason in @p err.
 */
int dp_fault_parse(const char *spec, struct dp_fault_dir *out, char *err, size_t errlen);

/** Write @p d back in the syntax dp_fault_parse() reads ("off" when it does nothing). */
int dp_fault_format(const struct dp_fault_dir *d, char *buf, size_t len);

/** True if @p d does anything. */
bool dp_fault_dir_active(const struct dp_fault_dir *d);

/**
 * RX hook: @p n packets just received on @p iface go through the impairments; returns how many
 * of the packets now due (delayed ones included) were put back in @p pkts (at most
 * DP_RX_BURST). Call it even when @p n is 0, so delayed packets come out.
 */
uint16_t dp_fault_rx(struct dp_worker *w, uint16_t iface, struct rte_mbuf **pkts, uint16_t n);

/**
 * TX hook (dp_tx_flush_iface): the packets buffered in @p tb for @p iface go through the
 * impairments and @p tb is left empty; the ones due are sent (TX_PACKETS), what the port
 * refuses stays queued in order for the next flush, as dp_tx_flush_iface() keeps it.
 */
void dp_fault_tx(struct dp_worker *w, uint16_t iface, struct dp_txbuf *tb);

/** Free the worker's fault state and the packets it still holds (dp_worker_fini). */
void dp_fault_fini(struct dp_worker *w);

/** Packets held (delayed or reordered) by @p w for @p iface, direction RX (0) or TX (1). */
unsigned dp_fault_pending(const struct dp_worker *w, uint16_t iface, int tx);

#endif
