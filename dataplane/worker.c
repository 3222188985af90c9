/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The worker poll loop, in l3fwd's shape: RX burst, process, timers, control messages,
 * TX flush. One struct dp_worker per lcore holds all of its state.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "dp_priv.h"
#include "port/dp_fault.h"
#include "port/dp_guard.h"

#define DP_STEER_RING_SIZE 4096
#define DP_MSG_RING_SIZE 1024
#define DP_MSG_BURST 16

static RTE_DEFINE_PER_LCORE(struct dp_worker *, dp_self);
static dp_poll_fn poll_hook;

void dp_poll_register(dp_poll_fn fn)
{
	poll_hook = fn;
}

struct dp_worker *dp_worker_self(void)
{
	return RTE_PER_LCORE(dp_self);
}

void dp_worker_set_self(struct dp_worker *w)
{
	RTE_PER_LCORE(dp_self) = w;
}

/*
 * Nanoseconds = cycles * 10^9 / hz, computed as a multiply and a shift with a factor fixed at
 * the first call: a 128-bit division on every pass of the poll loop was half the cost of an
 * idle pass. With 32 fractional bits the error is below 1 ns per second of uptime at any TSC
 * rate of 100 MHz or more.
 */
uint64_t dp_clock_ns(void)
{
	static uint64_t mult; /* written once, the same value from any thread */
	uint64_t m = __atomic_load_n(&mult, __ATOMIC_RELAXED);

	if (unlikely(m == 0)) {
		m = (uint64_t)(((unsigned __int128)1000000000u << 32) / rte_get_tsc_hz());
		__atomic_store_n(&mult, m, __ATOMIC_RELAXED);
	}
	return (uint64_t)(((unsigned __int128)rte_get_tsc_cycles() * m) >> 32);
}

static uint64_t default_rand(struct dp_worker *w)
{
	/* splitmix64: cheap, per worker, no shared state. */
	uint64_t z = (w->rand_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int dp_worker_init(struct dp_worker *w, const struct dp_stack *stack, uint16_t id,
		   struct rte_mempool *pool)
{
	char name[RTE_RING_NAMESIZE];
	static unsigned instance; /* unique ring names when tests create many workers */
	unsigned inst = __atomic_fetch_add(&instance, 1, __ATOMIC_RELAXED);

	memset(w, 0, sizeof(*w));
	w->id = id;
	w->stack = stack;
	w->pool = pool;
	w->rand = default_rand;
	w->rand_state = rte_rdtsc() ^ ((uint64_t)id << 48);
	w->now_ns = dp_clock_ns();
	w->timers.last_tick = w->now_ns / DP_TIMER_TICK_NS;

	snprintf(name, sizeof(name), "zp_steer_%u_%u", id, inst);
	w->steer_ring = rte_ring_create(name, DP_STEER_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (w->steer_ring == NULL)
		return -rte_errno;
	snprintf(name, sizeof(name), "zp_msg_%u_%u", id, inst);
	w->msg_ring = rte_ring_create_elem(name, sizeof(struct dp_msg), DP_MSG_RING_SIZE,
					   SOCKET_ID_ANY, RING_F_SC_DEQ);
	if (w->msg_ring == NULL) {
		int err = rte_errno;
		rte_ring_free(w->steer_ring);
		w->steer_ring = NULL;
		return -err;
	}
	dp_arp_init(w);
	return 0;
}

void dp_worker_fini(struct dp_worker *w)
{
	struct rte_mbuf *m;
	unsigned i;

	dp_arp_fini(w);
	dp_fault_fini(w);
	for (i = 0; i < DP_MAX_PORTS; i++) {
		rte_pktmbuf_free_bulk(w->tx[i].pkts, w->tx[i].n);
		w->tx[i].n = 0;
	}
	if (w->steer_ring != NULL) {
		while (rte_ring_sc_dequeue(w->steer_ring, (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(w->steer_ring);
		w->steer_ring = NULL;
	}
	rte_ring_free(w->msg_ring);
	w->msg_ring = NULL;
}

int dp_worker_post(struct dp_worker *w, dp_msg_fn fn, void *arg)
{
	struct dp_msg msg = {.fn = fn, .arg = arg};

	if (rte_ring_mp_enqueue_elem(w->msg_ring, &msg, sizeof(msg)) != 0)
		return -ENOBUFS;
	return 0;
}

/*
 * Without RSS every worker polls its own queue but flows may land on any worker; hand each
 * packet to its owner (dp_steer_worker) over the owner's steering ring.
 */
static uint16_t steer_burst(struct dp_worker *w, uint16_t iface, struct rte_mbuf **pkts,
			    uint16_t n)
{
	const struct dp_stack *s = w->stack;
	uint16_t i, keep = 0;

	for (i = 0; i < n; i++) {
		uint16_t owner = dp_steer_worker(s, pkts[i]);
		if (owner == w->id || owner >= s->nb_workers) {
			pkts[keep++] = pkts[i];
			continue;
		}
		/* The owner needs our interface index, not the driver's port id. */
		pkts[i]->port = iface;
		if (rte_ring_mp_enqueue(s->workers[owner]->steer_ring, pkts[i]) != 0) {
			dp_drop(w, pkts[i], DP_DROP_STEER_FULL);
			continue;
		}
		w->stats[DP_STAT_STEERED_OUT]++;
	}
	return keep;
}

uint32_t dp_idle_sleep_us(const struct dp_tunables *t, uint32_t empty, uint64_t now_ns,
			  uint64_t deadline_ns)
{
	uint32_t k, us;
	uint64_t left;

	if (empty < t->idle_after || deadline_ns <= now_ns)
		return 0;
	/* Grow like l3fwd-power's idle heuristic: short naps first, so traffic that pauses
	 * briefly loses little, then longer ones while nothing comes. */
	k = empty - t->idle_after;
	us = k >= 31 ? UINT32_MAX : 1u << k;
	us = RTE_MIN(us, t->idle_sleep_max_us);
	left = (deadline_ns - now_ns) / 1000;
	return (uint32_t)RTE_MIN((uint64_t)us, left);
}

/* Packets a fault-injection port holds back for later (released by a later pass). */
static bool fault_held(const struct dp_worker *w)
{
	const struct dp_stack *s = w->stack;
	uint16_t i;

	for (i = 0; i < s->nb_ifaces; i++)
		if (s->ifaces[i].fault.on &&
		    (dp_fault_pending(w, i, 0) != 0 || dp_fault_pending(w, i, 1) != 0))
			return true;
	return false;
}

/*
 * The idle policy ([stack] idle), at the end of a pass that received, sent and ran nothing.
 * Output a full TX ring refuses does not make a pass busy: on a shared CPU the ring's
 * consumer (a vhost or memif peer) needs the CPU to drain it, and spinning keeps it away.
 * sched_yield() is called directly (DPDK has no yield); the sleep is rte_delay_us_sleep(),
 * bounded by the next timer and ARP deadline. On a virtual clock (tests) nothing blocks: a
 * sleep advances the clock by its length instead.
 */
static void idle(struct dp_worker *w)
{
	const struct dp_tunables *t = &w->stack->tun;
	uint64_t now, deadline;
	uint32_t us;

	if (w->idle_passes < UINT32_MAX)
		w->idle_passes++;
	if (w->idle_passes < t->idle_after)
		return;
	switch ((enum dp_idle_policy)t->idle) {
	case DP_IDLE_POLL:
		return;
	case DP_IDLE_YIELD:
		w->stats[DP_STAT_IDLE_YIELDS]++;
		if (!w->virt_clock)
			sched_yield();
		return;
	case DP_IDLE_SLEEP:
		break;
	}
	if (fault_held(w))
		return;
	now = w->virt_clock ? w->now_ns : dp_clock_ns();
	deadline = dp_timer_next_ns(w, now + (uint64_t)t->idle_sleep_max_us * 1000);
	deadline = RTE_MIN(deadline, w->arp.next_sweep_ns);
	us = dp_idle_sleep_us(t, w->idle_passes, now, deadline);
	if (us == 0)
		return;
	w->stats[DP_STAT_IDLE_SLEEPS]++;
	w->stats[DP_STAT_IDLE_SLEEP_US] += us;
	if (w->virt_clock) {
		w->now_ns += (uint64_t)us * 1000;
		return;
	}
	if (!w->idle_slack_set) {
		/* The default 50 us timer slack would overshoot short naps and timer deadlines. */
		prctl(PR_SET_TIMERSLACK, 1000UL);
		w->idle_slack_set = true;
	}
	rte_delay_us_sleep(us);
}

unsigned dp_worker_poll(struct dp_worker *w)
{
	const struct dp_stack *s = w->stack;
	struct rte_mbuf *pkts[DP_RX_BURST];
	struct dp_msg msgs[DP_MSG_BURST];
	unsigned total = 0, i, j, n;
	uint64_t tx0 = w->stats[DP_STAT_TX_PACKETS];

	if (!w->virt_clock)
		w->now_ns = dp_clock_ns();
	w->loops++;
	w->in_poll = true;

	for (i = 0; i < w->nb_rxq; i++) {
		const struct dp_rxq *q = &w->rxq[i];
		const struct dp_iface *ifc = &s->ifaces[q->iface];
		uint16_t nb = dp_port_rx_burst(w, ifc, q->queue, pkts, DP_RX_BURST);

		if (ifc->fault.on)
			nb = dp_fault_rx(w, q->iface, pkts, nb);
		if (nb == 0)
			continue;
		total += nb;
		w->stats[DP_STAT_RX_PACKETS] += nb;
		for (j = 0; j < nb; j++)
			w->stats[DP_STAT_RX_BYTES] += pkts[j]->pkt_len;
		if (!ifc->rss && s->nb_workers > 1)
			nb = steer_burst(w, q->iface, pkts, nb);
		dp_input(w, q->iface, pkts, nb);
	}

	/* Packets other workers steered to us. Their iface is stamped in m->port. */
	n = rte_ring_sc_dequeue_burst(w->steer_ring, (void **)pkts, DP_RX_BURST, NULL);
	if (n > 0) {
		w->stats[DP_STAT_STEERED_IN] += n;
		for (j = 0; j < n; j++)
			dp_input(w, pkts[j]->port, &pkts[j], 1);
		total += n;
	}

	dp_arp_timer(w);
	dp_timer_run(w);

	n = rte_ring_sc_dequeue_burst_elem(w->msg_ring, msgs, sizeof(msgs[0]), DP_MSG_BURST,
					   NULL);
	for (j = 0; j < n; j++)
		msgs[j].fn(w, msgs[j].arg);
	w->stats[DP_STAT_MSG_RUN] += n;

	/* End of the pass (dataplane/tcp): output held back by a full TX buffer (the port had a
	 * whole pass to drain it) and the ACKs batched over this pass's RX bursts. */
	if (poll_hook != NULL)
		poll_hook(w);
	w->in_poll = false;
	dp_tx_flush(w);
	if (unlikely(s->tun.idle != DP_IDLE_POLL)) {
		if (total != 0 || n != 0 || w->stats[DP_STAT_TX_PACKETS] != tx0)
			w->idle_passes = 0;
		else
			idle(w);
	}
	return total;
}

void dp_tx_enqueue(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m)
{
	struct dp_txbuf *tb = &w->tx[iface];

	if (tb->n == DP_TX_BURST) {
		dp_tx_flush_iface(w, iface);
		/* The port still refuses everything: this packet is the one that cannot wait. */
		if (tb->n == DP_TX_BURST) {
			dp_drop(w, m, DP_DROP_TX_FULL);
			return;
		}
	}
	/* Bytes are counted here: after a successful burst the PMD owns (and may free) m. */
	w->stats[DP_STAT_TX_BYTES] += m->pkt_len;
	tb->pkts[tb->n++] = m;
}

/*
 * What the port does not take stays queued, in order, for the next flush: a full TX ring is
 * usually momentary, and a dropped SYN or FIN costs the peer a whole retransmission timeout.
 * Only dp_tx_enqueue() drops, when the buffer is still full after a flush.
 */
void dp_tx_flush_iface(struct dp_worker *w, uint16_t iface)
{
	const struct dp_iface *ifc = &w->stack->ifaces[iface];
	struct dp_txbuf *tb = &w->tx[iface];
	uint16_t sent;

	if (ifc->fault.on)
		dp_fault_tx(w, iface, tb); /* sends what is due itself, leaves tb empty */
	if (tb->n == 0)
		return;
	sent = dp_port_tx_burst(w, ifc, tb->pkts, tb->n);
	w->stats[DP_STAT_TX_PACKETS] += sent;
	if (sent < tb->n)
		memmove(tb->pkts, tb->pkts + sent, (size_t)(tb->n - sent) * sizeof(tb->pkts[0]));
	tb->n = (uint16_t)(tb->n - sent);
}

void dp_tx_flush(struct dp_worker *w)
{
	uint16_t i;

	for (i = 0; i < w->stack->nb_ifaces; i++)
		dp_tx_flush_iface(w, i);
}
