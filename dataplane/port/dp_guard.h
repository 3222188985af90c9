/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Port burst guard (dataplane/port/guard.c): survive a PMD that unmaps a queue's rings while
 * a worker is inside rte_eth_rx_burst()/rte_eth_tx_burst() on it.
 *
 * DPDK 22.11's net_memif does this. When the memif peer goes away (exits, crashes, or stops
 * its port), the EAL interrupt thread runs memif_disconnect(): it marks the link down, clears
 * the "connected" flag and munmap()s the shared regions, with no lock against the data path.
 * A worker that tested the flag before it was cleared and is still in the burst (preempted
 * there, typically) then reads unmapped memory: SIGSEGV. Measured: a memif server whose peer
 * exited died that way in about 1 of 30 exits when its control threads share the worker's CPU
 * (tests/integration/test_memif_peer_exit.sh); test_tcp_memif.sh died 1 run in 8 under load.
 *
 * The guard is for ports flagged dp_iface.guard (net_memif): the burst runs under sigsetjmp;
 * a SIGSEGV/SIGBUS raised by the kernel while this thread is inside a guarded burst, on a port
 * whose link is now down, jumps back out of the PMD and the burst counts as a fault. Any other
 * fault goes to the disposition that was there before (a crash, or the sanitizer's report).
 * What the abandoned burst held is lost, never freed twice: an RX burst returns nothing (mbufs
 * the PMD had allocated for it leak); a TX burst counts every packet as taken (the PMD frees
 * each one after copying it, so the ones it had not reached leak). Drop counter `port_fault`.
 */
#ifndef ZPATH_DP_GUARD_H
#define ZPATH_DP_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "dp_priv.h"

/**
 * Install the SIGSEGV and SIGBUS handler (once per process; later calls do nothing). The
 * dispositions found are kept and get every fault that is not a guarded burst's.
 * @return 0, or -errno from sigaction().
 */
int dp_guard_install(void);

/** Put back the dispositions dp_guard_install() found (zp_fini(), once no burst can run). */
void dp_guard_uninstall(void);

/**
 * Run @p fn(@p arg) as a guarded burst on @p port_id. dp_guard_install() must have run.
 * @return 0 when @p fn returned, -EFAULT when it faulted on a port that is down (abandoned).
 */
int dp_guard_run(uint16_t port_id, void (*fn)(void *arg), void *arg);

/** rte_eth_rx_burst() under the guard; a fault counts DP_DROP_PORT_FAULT and returns 0. */
uint16_t dp_guard_rx_burst(struct dp_worker *w, uint16_t port_id, uint16_t queue,
			   struct rte_mbuf **pkts, uint16_t n);

/** rte_eth_tx_burst() under the guard; a fault counts DP_DROP_PORT_FAULT and returns @p n. */
uint16_t dp_guard_tx_burst(struct dp_worker *w, uint16_t port_id, uint16_t queue,
			   struct rte_mbuf **pkts, uint16_t n);

/** The RX burst of every worker poll: through the guard on a guarded port, else straight. */
static inline uint16_t dp_port_rx_burst(struct dp_worker *w, const struct dp_iface *ifc,
					uint16_t queue, struct rte_mbuf **pkts, uint16_t n)
{
	if (likely(!ifc->guard))
		return rte_eth_rx_burst(ifc->port_id, queue, pkts, n);
	return dp_guard_rx_burst(w, ifc->port_id, queue, pkts, n);
}

/** A TX burst on worker @p w's queue of @p ifc: through the guard on a guarded port. */
static inline uint16_t dp_port_tx_burst(struct dp_worker *w, const struct dp_iface *ifc,
					struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t queue = w->id % ifc->nb_queues;

	if (likely(!ifc->guard))
		return rte_eth_tx_burst(ifc->port_id, queue, pkts, n);
	return dp_guard_tx_burst(w, ifc->port_id, queue, pkts, n);
}

/** Faults recovered in this process (all workers), for tests and the report. */
uint64_t dp_guard_faults(void);

#endif
