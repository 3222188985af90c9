/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port burst guard: see dp_guard.h for the PMD race it survives and what a fault costs.
 *
 * Hand-written because nothing in DPDK serialises a PMD's control path against its data
 * path for us: net_memif's disconnect takes no lock the burst functions take, so the only
 * place left to catch the fault is the fault itself. The mechanism is the classic one for
 * touching memory that another party may unmap (sigsetjmp before, siglongjmp from the
 * handler), confined to one thread's own burst call on one kind of port.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include <rte_ethdev.h>

#include "dp_guard.h"
#include "dp_priv.h"

struct guard_frame {
	sigjmp_buf jb;
	uint16_t port_id;
};

/* The guarded burst this thread is in, or NULL. Written only by its own thread; the handler
 * runs on that thread too (SIGSEGV/SIGBUS from a memory access are delivered to the thread
 * that made it). */
static _Thread_local struct guard_frame *volatile guard_cur;

static struct sigaction guard_old_segv, guard_old_bus;
static atomic_bool guard_installed;
static atomic_uint_fast64_t guard_nfaults;

static bool guard_port_down(uint16_t port_id)
{
	struct rte_eth_link link;

	/* net_memif's link_update does no I/O: this reads dev_link, which memif_disconnect()
	 * sets to down before it unmaps anything. */
	memset(&link, 0, sizeof(link));
	if (rte_eth_link_get_nowait(port_id, &link) != 0)
		return false;
	return link.link_status == RTE_ETH_LINK_DOWN;
}

/* Hand a fault that is not ours to the disposition from before dp_guard_install(). */
static void guard_chain(int sig, siginfo_t *si, void *uctx)
{
	const struct sigaction *old = sig == SIGBUS ? &guard_old_bus : &guard_old_segv;

	if ((old->sa_flags & SA_SIGINFO) && old->sa_sigaction != NULL) {
		old->sa_sigaction(sig, si, uctx);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	/* Default (or ignored, which for a real fault means the same): put it back and return;
	 * the faulting access runs again and the kernel ends the process with a core. */
	signal(sig, SIG_DFL);
}

static void guard_handler(int sig, siginfo_t *si, void *uctx)
{
	struct guard_frame *f = guard_cur;

	/* si_code > 0: raised by the kernel for an access, not sent with kill()/raise(). */
	if (f != NULL && si != NULL && si->si_code > 0 && guard_port_down(f->port_id)) {
		guard_cur = NULL;
		siglongjmp(f->jb, 1); /* SA_NODEFER: the signal stays unblocked after the jump */
	}
	guard_chain(sig, si, uctx);
}

int dp_guard_install(void)
{
	struct sigaction sa;
	bool expected = false;

	if (!atomic_compare_exchange_strong(&guard_installed, &expected, true))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = guard_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &guard_old_segv) != 0 ||
	    sigaction(SIGBUS, &sa, &guard_old_bus) != 0) {
		int err = errno;

		atomic_store(&guard_installed, false);
		return -err;
	}
	return 0;
}

void dp_guard_uninstall(void)
{
	bool expected = true;

	if (!atomic_compare_exchange_strong(&guard_installed, &expected, false))
		return;
	sigaction(SIGSEGV, &guard_old_segv, NULL);
	sigaction(SIGBUS, &guard_old_bus, NULL);
}

int dp_guard_run(uint16_t port_id, void (*fn)(void *arg), void *arg)
{
	struct guard_frame f;

	f.port_id = port_id;
	if (sigsetjmp(f.jb, 0) != 0) {
		atomic_fetch_add_explicit(&guard_nfaults, 1, memory_order_relaxed);
		return -EFAULT;
	}
	guard_cur = &f;
	atomic_signal_fence(memory_order_seq_cst);
	fn(arg);
	atomic_signal_fence(memory_order_seq_cst);
	guard_cur = NULL;
	return 0;
}

struct guard_burst {
	uint16_t port_id, queue, n, done;
	struct rte_mbuf **pkts;
};

static void guard_do_rx(void *arg)
{
	struct guard_burst *b = arg;

	b->done = rte_eth_rx_burst(b->port_id, b->queue, b->pkts, b->n);
}

static void guard_do_tx(void *arg)
{
	struct guard_burst *b = arg;

	b->done = rte_eth_tx_burst(b->port_id, b->queue, b->pkts, b->n);
}

uint16_t dp_guard_rx_burst(struct dp_worker *w, uint16_t port_id, uint16_t queue,
			   struct rte_mbuf **pkts, uint16_t n)
{
	struct guard_burst b = {.port_id = port_id, .queue = queue, .n = n, .pkts = pkts};

	if (dp_guard_run(port_id, guard_do_rx, &b) != 0) {
		w->drops[DP_DROP_PORT_FAULT]++;
		return 0;
	}
	return b.done;
}

uint16_t dp_guard_tx_burst(struct dp_worker *w, uint16_t port_id, uint16_t queue,
			   struct rte_mbuf **pkts, uint16_t n)
{
	struct guard_burst b = {.port_id = port_id, .queue = queue, .n = n, .pkts = pkts};

	if (dp_guard_run(port_id, guard_do_tx, &b) != 0) {
		w->drops[DP_DROP_PORT_FAULT]++;
		return n; /* the PMD may have freed some: never hand them out again */
	}
	return b.done;
}

uint64_t dp_guard_faults(void)
{
	return atomic_load_explicit(&guard_nfaults, memory_order_relaxed);
}
