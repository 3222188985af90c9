/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) for Ethernet/IPv4: a per-worker cache, resolution with a bounded queue of
 * packets waiting for it, retries, expiry with re-validation of the entries in use (RFC 1122
 * 2.3.2.1, in the spirit of RFC 4861 NUD), answers for our addresses and gratuitous
 * announcements (RFC 5227 section 3).
 *
 * Every worker owns its own table (struct dp_arp_table, open addressing with linear probing
 * and backward-shift deletion, keyed on (ip, iface)). Non-IP traffic reaches only one worker,
 * so whatever a worker learns from the wire it also posts to the other workers, which apply
 * it to their own tables on their own threads: no table is ever touched by two threads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_malloc.h>

#include "dp_priv.h"
#include "net_priv.h"

#define ARP_MASK       (DP_ARP_SLOTS - 1)
#define ARP_HASH_SHIFT (32 - __builtin_ctz(DP_ARP_SLOTS))
/* Keep probe sequences short: beyond this load the oldest resolved entry is evicted. */
#define ARP_LOAD_MAX (DP_ARP_SLOTS * 3 / 4)
/* The table is scanned when its earliest deadline passes, but not more than once per tick. */
#define ARP_SWEEP_MIN_NS DP_TIMER_TICK_NS
#define MS_TO_NS(ms)	 ((uint64_t)(ms)*1000000ULL)

_Static_assert((DP_ARP_SLOTS & (DP_ARP_SLOTS - 1)) == 0, "DP_ARP_SLOTS must be a power of two");
_Static_assert(DP_ARP_PENDING_MAX <= UINT16_MAX, "nb_pending is a uint16_t");
_Static_assert(DP_ARP_PENDING_DEFAULT <= DP_ARP_PENDING_MAX, "default above the maximum");
/* The pending array starts this small and doubles up to arp_pending. */
#define ARP_PENDING_FIRST 16

static const struct rte_ether_addr arp_bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

/* A mapping one worker learnt, posted to the others (allocated with rte_malloc, freed by the
 * receiver). @create follows the RFC 826 merge rule: false = refresh an existing entry only. */
struct arp_share {
	rte_be32_t ip;
	uint16_t iface;
	bool create;
	struct rte_ether_addr mac;
};

static inline uint32_t arp_hash(rte_be32_t ip)
{
	/* Fibonacci hashing: the high bits of the product mix every bit of the address. */
	return (rte_be_to_cpu_32(ip) * 2654435761u) >> ARP_HASH_SHIFT;
}

static int arp_find(const struct dp_arp_table *t, rte_be32_t ip, uint16_t iface)
{
	uint32_t i = arp_hash(ip), n;

	for (n = 0; n < DP_ARP_SLOTS; n++, i = (i + 1) & ARP_MASK) {
		const struct dp_arp_entry *e = &t->e[i];

		if (e->state == DP_ARP_FREE)
			return -1;
		if (e->ip == ip && e->iface == iface)
			return (int)i;
	}
	return -1;
}

static void arp_deadline(struct dp_arp_table *t, uint64_t ns)
{
	if (ns < t->next_sweep_ns)
		t->next_sweep_ns = ns;
}

/* Free slot @hole and shift later members of its probe run back so lookups still find them
 * (Knuth 6.4, algorithm R). The entry's pending packets must have been dealt with. */
static void arp_remove(struct dp_arp_table *t, uint32_t hole)
{
	uint32_t j = hole;

	for (;;) {
		struct dp_arp_entry *e;
		uint32_t home;

		j = (j + 1) & ARP_MASK;
		e = &t->e[j];
		if (e->state == DP_ARP_FREE)
			break;
		home = arp_hash(e->ip);
		/* The entry may fill the hole if the hole lies on its probe path [home, j). */
		if (((j - home) & ARP_MASK) >= ((j - hole) & ARP_MASK)) {
			t->e[hole] = *e;
			hole = j;
		}
	}
	memset(&t->e[hole], 0, sizeof(t->e[hole]));
	t->used--;
}

/* Make room by evicting the resolved entry closest to expiry (or to its next re-validation
 * request). False if every entry is still resolving (those hold packets and are bounded by
 * their retries). */
static bool arp_evict(struct dp_arp_table *t)
{
	uint32_t i, victim = DP_ARP_SLOTS;

	for (i = 0; i < DP_ARP_SLOTS; i++)
		if ((t->e[i].state == DP_ARP_REACHABLE || t->e[i].state == DP_ARP_PROBE) &&
		    (victim == DP_ARP_SLOTS || t->e[i].expire_ns < t->e[victim].expire_ns))
			victim = i;
	if (victim == DP_ARP_SLOTS)
		return false;
	arp_remove(t, victim);
	return true;
}

static struct dp_arp_entry *arp_insert(struct dp_arp_table *t, rte_be32_t ip, uint16_t iface)
{
	uint32_t i;

	if (t->used >= ARP_LOAD_MAX && !arp_evict(t))
		return NULL;
	for (i = arp_hash(ip); t->e[i].state != DP_ARP_FREE; i = (i + 1) & ARP_MASK)
		;
	memset(&t->e[i], 0, sizeof(t->e[i]));
	t->e[i].ip = ip;
	t->e[i].iface = iface;
	t->used++;
	return &t->e[i];
}

/* Build and queue an ARP packet from @iface's addresses. */
static int arp_send(struct dp_worker *w, uint16_t iface, uint16_t op,
		    const struct rte_ether_addr *eth_dst, const struct rte_ether_addr *tha,
		    rte_be32_t tip)
{
	const struct dp_iface *ifc = &w->stack->ifaces[iface];
	struct rte_mbuf *m = rte_pktmbuf_alloc(w->pool);
	struct rte_arp_hdr *a;

	if (m == NULL) {
		w->drops[DP_DROP_NOMEM]++;
		return -ENOBUFS;
	}
	a = (struct rte_arp_hdr *)rte_pktmbuf_append(m, sizeof(*a));
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = sizeof(rte_be32_t);
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = ifc->mac;
	a->arp_data.arp_sip = ifc->addr;
	if (tha != NULL)
		a->arp_data.arp_tha = *tha;
	else
		memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	a->arp_data.arp_tip = tip;
	dp_eth_output(w, iface, m, eth_dst, RTE_ETHER_TYPE_ARP);
	return 0;
}

/* Requests sent for one resolution or one re-validation: arp_retries, at least 1 and at most
 * what e->retries (a uint8_t) counts. */
static uint32_t arp_max_tries(const struct dp_worker *w)
{
	uint32_t n = w->stack->tun.arp_retries;

	return n == 0 ? 1 : RTE_MIN(n, (uint32_t)UINT8_MAX);
}

/* Packets one unresolved address may hold: [stack] arp_pending (0 in a bare test stack). */
static uint32_t arp_pending_limit(const struct dp_worker *w)
{
	uint32_t n = w->stack->tun.arp_pending;

	return n == 0 ? DP_ARP_PENDING_DEFAULT : RTE_MIN(n, (uint32_t)DP_ARP_PENDING_MAX);
}

static void arp_request(struct dp_worker *w, struct dp_arp_entry *e)
{
	if (arp_send(w, e->iface, RTE_ARP_OP_REQUEST, &arp_bcast, NULL, e->ip) == 0)
		w->stats[DP_STAT_ARP_REQ_OUT]++;
	/* A failed send counts as an attempt too, so resolution still ends. */
	e->retries++;
	e->expire_ns = w->now_ns + MS_TO_NS(w->stack->tun.arp_retry_ms);
	arp_deadline(&w->arp, e->expire_ns);
}

/*
 * One re-validation request for an entry in PROBE (RFC 1122 2.3.2.1): unicast to the MAC we
 * keep using, so a healthy peer answers without the whole link hearing it; the last of the
 * arp_retries requests is broadcast, in case the peer's MAC changed without it announcing
 * so (Linux: ucast_probes, then mcast_probes).
 */
static void arp_probe(struct dp_worker *w, struct dp_arp_entry *e)
{
	bool last = e->retries + 1u >= arp_max_tries(w);

	if (arp_send(w, e->iface, RTE_ARP_OP_REQUEST, last ? &arp_bcast : &e->mac, NULL, e->ip) ==
	    0)
		w->stats[DP_STAT_ARP_PROBE_OUT]++;
	e->retries++;
	e->expire_ns = w->now_ns + MS_TO_NS(w->stack->tun.arp_retry_ms);
	arp_deadline(&w->arp, e->expire_ns);
}

/* The lifetime of an entry in use is over: keep its MAC and start re-validating it. */
static void arp_revalidate(struct dp_worker *w, struct dp_arp_entry *e)
{
	w->stats[DP_STAT_ARP_REVALIDATE]++;
	e->state = DP_ARP_PROBE;
	e->retries = 0;
	arp_probe(w, e);
}

/* Release the pending array (its packets must have been sent or dropped). */
static void arp_pending_free(struct dp_arp_entry *e)
{
	free(e->pending);
	e->pending = NULL;
	e->nb_pending = 0;
	e->pending_cap = 0;
}

static void arp_drop_pending(struct dp_worker *w, struct dp_arp_entry *e)
{
	uint16_t i;

	for (i = 0; i < e->nb_pending; i++)
		dp_drop(w, e->pending[i], DP_DROP_ARP_UNRESOLVED);
	arp_pending_free(e);
}

/* Queue @m on the unresolved entry @e, in order; false (nothing queued) when its queue holds
 * arp_pending packets already or cannot grow. */
static bool arp_pending_add(struct dp_worker *w, struct dp_arp_entry *e, struct rte_mbuf *m)
{
	uint32_t limit = arp_pending_limit(w);

	if (e->nb_pending >= limit)
		return false;
	if (e->nb_pending == e->pending_cap) {
		uint32_t cap = e->pending_cap == 0 ? ARP_PENDING_FIRST : 2u * e->pending_cap;
		struct rte_mbuf **p;

		cap = RTE_MIN(cap, limit);
		p = realloc(e->pending, cap * sizeof(*p));
		if (p == NULL)
			return false;
		e->pending = p;
		e->pending_cap = (uint16_t)cap;
	}
	e->pending[e->nb_pending++] = m;
	return true;
}

/*
 * Record ip -> mac on @iface in this worker's table: refresh an existing entry, or create one
 * when @create. An entry that was resolving sends its pending packets now. Returns the entry
 * or NULL (not present and not created, or no room).
 */
static struct dp_arp_entry *arp_learn(struct dp_worker *w, uint16_t iface, rte_be32_t ip,
				      const struct rte_ether_addr *mac, bool create)
{
	struct dp_arp_table *t = &w->arp;
	struct dp_arp_entry *e;
	int idx = arp_find(t, ip, iface);
	uint16_t i;

	if (idx >= 0)
		e = &t->e[idx];
	else if (!create || (e = arp_insert(t, ip, iface)) == NULL)
		return NULL;
	e->mac = *mac;
	e->state = DP_ARP_REACHABLE;
	e->retries = 0;
	e->used = false; /* confirmed: a new lifetime, in use again once something is sent */
	e->expire_ns = w->now_ns + MS_TO_NS(w->stack->tun.arp_timeout_ms);
	arp_deadline(t, e->expire_ns);
	for (i = 0; i < e->nb_pending; i++)
		dp_eth_output(w, iface, e->pending[i], &e->mac, RTE_ETHER_TYPE_IPV4);
	arp_pending_free(e);
	return e;
}

static void arp_share_apply(struct dp_worker *w, void *arg)
{
	struct arp_share *sh = arg;

	arp_learn(w, sh->iface, sh->ip, &sh->mac, sh->create);
	rte_free(sh);
}

/* Tell every other worker what this one learnt from the wire. */
static void arp_share(struct dp_worker *w, uint16_t iface, rte_be32_t ip,
		      const struct rte_ether_addr *mac, bool create)
{
	const struct dp_stack *s = w->stack;
	uint16_t i;

	for (i = 0; i < s->nb_workers; i++) {
		struct dp_worker *other = s->workers[i];
		struct arp_share *sh;

		if (other == NULL || other == w)
			continue;
		sh = rte_malloc("zp_arp_share", sizeof(*sh), 0);
		if (sh == NULL) {
			w->drops[DP_DROP_NOMEM]++;
			continue;
		}
		sh->ip = ip;
		sh->iface = iface;
		sh->create = create;
		sh->mac = *mac;
		if (dp_worker_post(other, arp_share_apply, sh) != 0) {
			rte_free(sh);
			w->drops[DP_DROP_MSG_FULL]++;
		}
	}
}

static bool arp_sip_is_bad(rte_be32_t sip)
{
	uint32_t a = rte_be_to_cpu_32(sip);

	/* Multicast, class E (with the limited broadcast) and loopback never own a MAC. */
	return (a >> 28) == 0xe || (a >> 28) == 0xf || (a >> 24) == 127;
}

void dp_arp_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m)
{
	const struct dp_iface *ifc = &w->stack->ifaces[iface];
	const struct rte_arp_hdr *a;
	struct rte_ether_addr sha;
	rte_be32_t sip, tip;
	uint16_t op;
	bool for_us;

	if (rte_pktmbuf_data_len(m) < sizeof(*a)) {
		dp_drop(w, m, DP_DROP_ARP_SHORT);
		return;
	}
	a = rte_pktmbuf_mtod(m, const struct rte_arp_hdr *);
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != sizeof(rte_be32_t)) {
		dp_drop(w, m, DP_DROP_ARP_FORMAT);
		return;
	}
	op = rte_be_to_cpu_16(a->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		dp_drop(w, m, DP_DROP_ARP_OP);
		return;
	}
	sha = a->arp_data.arp_sha;
	sip = a->arp_data.arp_sip;
	tip = a->arp_data.arp_tip;
	if (!rte_is_valid_assigned_ether_addr(&sha) || arp_sip_is_bad(sip) ||
	    (sip == 0 && op == RTE_ARP_OP_REPLY)) {
		dp_drop(w, m, DP_DROP_ARP_BAD_SENDER);
		return;
	}
	if (dp_addr_is_local(w->stack, sip)) {
		/* Another host uses one of our addresses (RFC 5227 section 2.4): never learn it. */
		dp_drop(w, m, DP_DROP_ARP_CONFLICT);
		return;
	}
	for_us = ifc->addr != 0 && tip == ifc->addr;

	/*
	 * RFC 826 merge rule: refresh the sender's entry if we have one; add it only if the
	 * packet is for us. A sender address of 0 is an RFC 5227 probe: nothing to learn.
	 */
	if (sip != 0) {
		int idx = arp_find(&w->arp, sip, iface);
		bool changed = idx >= 0 && !rte_is_same_ether_addr(&w->arp.e[idx].mac, &sha);

		arp_learn(w, iface, sip, &sha, for_us);
		/* Share what matters to the other workers: mappings addressed to us, gratuitous
		 * announcements and changed addresses; not every third-party request. */
		if (for_us || sip == tip || changed)
			arp_share(w, iface, sip, &sha, for_us);
	}
	if (!for_us) {
		dp_drop(w, m, DP_DROP_ARP_NOT_FOR_US);
		return;
	}
	if (op == RTE_ARP_OP_REQUEST) {
		/* The reply goes to the requester's hardware address (to sip, 0 for a probe). */
		if (arp_send(w, iface, RTE_ARP_OP_REPLY, &sha, &sha, sip) == 0)
			w->stats[DP_STAT_ARP_REQ_IN]++;
	} else {
		w->stats[DP_STAT_ARP_REPLY_IN]++;
	}
	rte_pktmbuf_free(m);
}

void dp_arp_output(struct dp_worker *w, uint16_t iface, rte_be32_t nexthop, struct rte_mbuf *m)
{
	struct dp_arp_table *t = &w->arp;
	struct dp_arp_entry *e = NULL;
	int idx = arp_find(t, nexthop, iface);

	if (idx >= 0) {
		e = &t->e[idx];
		switch (e->state) {
		case DP_ARP_REACHABLE:
			/* Expired but not swept yet: in use right now, so re-validate it. */
			if (e->expire_ns <= w->now_ns)
				arp_revalidate(w, e);
			else
				e->used = true;
			dp_eth_output(w, iface, m, &e->mac, RTE_ETHER_TYPE_IPV4);
			return;
		case DP_ARP_PROBE:
			/* Traffic keeps flowing while the peer is asked to confirm. */
			dp_eth_output(w, iface, m, &e->mac, RTE_ETHER_TYPE_IPV4);
			return;
		case DP_ARP_INCOMPLETE:
			break;
		case DP_ARP_FREE:
			e = NULL; /* arp_find() never returns a free slot */
			break;
		}
	}
	if (e == NULL) {
		e = arp_insert(t, nexthop, iface);
		if (e == NULL) {
			dp_drop(w, m, DP_DROP_ARP_QUEUE_FULL);
			return;
		}
		e->state = DP_ARP_INCOMPLETE;
	}
	if (!arp_pending_add(w, e, m)) {
		dp_drop(w, m, DP_DROP_ARP_QUEUE_FULL);
		return;
	}
	if (e->retries == 0)
		arp_request(w, e);
}

void dp_arp_announce(struct dp_worker *w)
{
	const struct dp_stack *s = w->stack;
	uint16_t i;

	/* RFC 5227 section 3: an ARP announcement is a request with sender = target = ours. */
	for (i = 0; i < s->nb_ifaces; i++) {
		if (s->ifaces[i].addr == 0)
			continue;
		if (arp_send(w, i, RTE_ARP_OP_REQUEST, &arp_bcast, NULL, s->ifaces[i].addr) == 0)
			w->stats[DP_STAT_ARP_GRATUITOUS_OUT]++;
	}
}

void dp_arp_timer(struct dp_worker *w)
{
	struct dp_arp_table *t = &w->arp;
	uint32_t max_tries = arp_max_tries(w);
	uint64_t next = UINT64_MAX;
	uint32_t i = 0;

	/* One comparison per loop; the scan runs only when some deadline has passed. */
	if (w->now_ns < t->next_sweep_ns)
		return;
	while (i < DP_ARP_SLOTS) {
		struct dp_arp_entry *e = &t->e[i];

		if (e->state == DP_ARP_FREE) {
			i++;
			continue;
		}
		if (e->expire_ns > w->now_ns) {
			next = RTE_MIN(next, e->expire_ns);
			i++;
			continue;
		}
		switch (e->state) {
		case DP_ARP_FREE:
			break;
		case DP_ARP_REACHABLE:
			/* RFC 1122 2.3.2.1: an entry in use is re-validated, not dropped, so the
			 * traffic through it never stops; an unused one simply goes. */
			if (e->used) {
				arp_revalidate(w, e);
				next = RTE_MIN(next, e->expire_ns);
				break;
			}
			w->stats[DP_STAT_ARP_EXPIRED]++;
			arp_remove(t, i);
			continue; /* slot i may now hold a shifted entry */
		case DP_ARP_PROBE:
			if (e->retries < max_tries) {
				arp_probe(w, e);
				next = RTE_MIN(next, e->expire_ns);
				break;
			}
			/* No answer to arp_retries requests: the next packet resolves afresh. */
			w->stats[DP_STAT_ARP_REVALIDATE_FAIL]++;
			arp_remove(t, i);
			continue;
		case DP_ARP_INCOMPLETE:
			if (e->retries < max_tries) {
				arp_request(w, e);
				next = RTE_MIN(next, e->expire_ns);
				break;
			}
			arp_drop_pending(w, e);
			arp_remove(t, i);
			continue;
		}
		i++;
	}
	t->next_sweep_ns = RTE_MAX(next, w->now_ns + ARP_SWEEP_MIN_NS);
}

const struct dp_arp_entry *dp_arp_lookup(const struct dp_worker *w, rte_be32_t ip)
{
	const struct dp_arp_table *t = &w->arp;
	uint32_t i = arp_hash(ip), n;

	for (n = 0; n < DP_ARP_SLOTS; n++, i = (i + 1) & ARP_MASK) {
		const struct dp_arp_entry *e = &t->e[i];

		if (e->state == DP_ARP_FREE)
			return NULL;
		if (e->ip != ip)
			continue;
		if ((e->state == DP_ARP_REACHABLE && e->expire_ns > w->now_ns) ||
		    e->state == DP_ARP_PROBE)
			return e;
	}
	return NULL;
}

void dp_arp_update(struct dp_worker *w, uint16_t iface, rte_be32_t ip,
		   const struct rte_ether_addr *mac)
{
	arp_learn(w, iface, ip, mac, true);
}

void dp_arp_init(struct dp_worker *w)
{
	memset(&w->arp, 0, sizeof(w->arp));
	w->arp.next_sweep_ns = UINT64_MAX;
	/* dp_worker_init() calls only this of dataplane/net; seed the IPv4 identification too. */
	w->ip_id = (uint16_t)w->rand(w);
	memset(&w->ping, 0, sizeof(w->ping));
}

void dp_arp_fini(struct dp_worker *w)
{
	uint32_t i;

	for (i = 0; i < DP_ARP_SLOTS; i++)
		if (w->arp.e[i].state != DP_ARP_FREE)
			arp_drop_pending(w, &w->arp.e[i]);
	memset(&w->arp, 0, sizeof(w->arp));
	w->arp.next_sweep_ns = UINT64_MAX;
}
