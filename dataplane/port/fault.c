/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection wrapped around a port's RX and TX (see dp_fault.h for the semantics).
 *
 * Runs on the worker that polls / transmits; the per-worker state (w->fault) is created on
 * first use. Randomness: one splitmix64 stream per worker, port and direction, seeded from
 * the port's fault_seed, so a seed replays the same decisions for the same packet sequence.
 * Time: w->now_ns only (tests drive it on a virtual clock).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_fault.h"
#include "dp_guard.h"

/* ---- configuration ------------------------------------------------------------------------ */

static int parse_rate(const char *v, uint64_t *out)
{
	char *end;
	double r;

	errno = 0;
	r = strtod(v, &end);
	if (end == v || errno != 0)
		return -EINVAL;
	if (*end == '%') {
		r /= 100;
		end++;
	}
	if (*end != '\0' || !(r >= 0 && r <= 1))
		return -EINVAL;
	*out = (uint64_t)(r * (double)DP_FAULT_ONE + 0.5);
	return 0;
}

static int parse_time(const char *v, uint64_t *out)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"", 1e6}};
	char *end;
	double t;
	unsigned i;

	errno = 0;
	t = strtod(v, &end);
	if (end == v || errno != 0 || !(t >= 0 && t <= 3600))
		return -EINVAL;
	for (i = 0; i < RTE_DIM(units); i++)
		if (strcmp(end, units[i].unit) == 0) {
			*out = (uint64_t)(t * units[i].ns + 0.5);
			return 0;
		}
	return -EINVAL;
}

int dp_fault_parse(const char *spec, struct dp_fault_dir *out, char *err, size_t errlen)
{
	char buf[256], *item, *save = NULL;
	size_t n = strlen(spec);

	memset(out, 0, sizeof(*out));
	if (n >= 2 && spec[0] == '"' && spec[n - 1] == '"') {
		spec++;
		n -= 2;
	}
	if (n >= sizeof(buf)) {
		snprintf(err, errlen, "fault specification too long");
		return -EINVAL;
	}
	memcpy(buf, spec, n);
	buf[n] = '\0';
	if (n == 0 || strcmp(buf, "off") == 0 || strcmp(buf, "none") == 0)
		return 0;
	for (item = strtok_r(buf, ",", &save); item != NULL; item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		const char *k, *v;
		uint64_t *rate = NULL, *time = NULL;

		while (*item == ' ')
			item++;
		if (eq == NULL) {
			snprintf(err, errlen, "\"%s\": expected name=value", item);
			return -EINVAL;
		}
		*eq = '\0';
		k = item;
		v = eq + 1;
		if (strcmp(k, "drop") == 0)
			rate = &out->drop;
		else if (strcmp(k, "dup") == 0)
			rate = &out->dup;
		else if (strcmp(k, "reorder") == 0)
			rate = &out->reorder;
		else if (strcmp(k, "corrupt") == 0)
			rate = &out->corrupt;
		else if (strcmp(k, "delay") == 0)
			time = &out->delay_ns;
		else if (strcmp(k, "jitter") == 0)
			time = &out->jitter_ns;
		if (rate == NULL && time == NULL) {
			snprintf(err, errlen,
				 "unknown impairment \"%s\" (known: drop, dup, reorder, corrupt, "
				 "delay, jitter)",
				 k);
			return -EINVAL;
		}
		if (rate != NULL && parse_rate(v, rate) != 0) {
			snprintf(err, errlen,
				 "%s=%s: a rate is a number from 0 to 1 (or 0%%..100%%)", k, v);
			return -EINVAL;
		}
		if (time != NULL && parse_time(v, time) != 0) {
			snprintf(err, errlen,
				 "%s=%s: a time is a number with ns, us, ms or s (at "
				 "most 3600 s)",
				 k, v);
			return -EINVAL;
		}
	}
	return 0;
}

bool dp_fault_dir_active(const struct dp_fault_dir *d)
{
	return d->drop || d->dup || d->reorder || d->corrupt || d->delay_ns || d->jitter_ns;
}

int dp_fault_format(const struct dp_fault_dir *d, char *buf, size_t len)
{
	static const char *const names[] = {"drop", "dup", "reorder", "corrupt"};
	const uint64_t rates[] = {d->drop, d->dup, d->reorder, d->corrupt};
	size_t off = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < RTE_DIM(rates); i++)
		if (rates[i] != 0 && off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s=%g", off ? "," : "",
						names[i], (double)rates[i] / (double)DP_FAULT_ONE);
	if (d->delay_ns != 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%sdelay=%gms", off ? "," : "",
					(double)d->delay_ns / 1e6);
	if (d->jitter_ns != 0 && off < len)
		off += (size_t)snprintf(buf + off, len - off, "%sjitter=%gms", off ? "," : "",
					(double)d->jitter_ns / 1e6);
	if (off == 0)
		off = (size_t)snprintf(buf, len, "off");
	return (int)off;
}

/* ---- per-worker state --------------------------------------------------------------------- */

struct fault_item {
	uint64_t release_ns;
	uint64_t seq; /* arrival order: equal release times keep it */
	struct rte_mbuf *m;
};

/* One direction of one port on one worker. */
struct fault_q {
	bool seeded;
	uint64_t rng;
	uint64_t seq;
	struct fault_item *heap; /* min-heap on (release_ns, seq) */
	uint32_t n, cap;
	struct rte_mbuf *held; /* reordered, waiting for a packet to overtake it */
	uint64_t held_ns;      /* when it was held */
	uint64_t held_release; /* its own release time, had it not been held */
};

struct dp_fault_worker {
	struct fault_q q[DP_MAX_PORTS][2];
};

enum { DIR_RX = 0, DIR_TX = 1 };

static uint64_t rng_next(struct fault_q *q)
{
	/* splitmix64 */
	uint64_t z = (q->rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static struct fault_q *fault_q(struct dp_worker *w, uint16_t iface, int dir)
{
	struct dp_fault_worker *fw = w->fault;
	struct fault_q *q;

	if (fw == NULL) {
		fw = calloc(1, sizeof(*fw));
		if (fw == NULL)
			return NULL;
		w->fault = fw;
	}
	q = &fw->q[iface][dir];
	if (!q->seeded) {
		q->rng = w->stack->ifaces[iface].fault.seed * 0x2545f4914f6cdd1dULL ^
			 ((uint64_t)w->id << 40) ^ ((uint64_t)iface << 8) ^ (uint64_t)dir;
		q->seeded = true;
	}
	return q;
}

static bool item_lt(const struct fault_item *a, const struct fault_item *b)
{
	return a->release_ns < b->release_ns || (a->release_ns == b->release_ns && a->seq < b->seq);
}

static int heap_push_seq(struct dp_worker *w, struct fault_q *q, struct rte_mbuf *m, uint64_t rel,
			 uint64_t seq)
{
	uint32_t i;

	if (q->n == q->cap) {
		uint32_t cap = q->cap ? q->cap * 2 : 256;
		struct fault_item *h;

		if (q->cap >= DP_FAULT_QUEUE_MAX ||
		    (h = realloc(q->heap, cap * sizeof(*h))) == NULL) {
			w->stats[DP_STAT_FAULT_QUEUE_FULL]++;
			rte_pktmbuf_free(m);
			return -ENOBUFS;
		}
		q->heap = h;
		q->cap = cap;
	}
	i = q->n++;
	q->heap[i] = (struct fault_item){.release_ns = rel, .seq = seq, .m = m};
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		struct fault_item t;

		if (!item_lt(&q->heap[i], &q->heap[p]))
			break;
		t = q->heap[p];
		q->heap[p] = q->heap[i];
		q->heap[i] = t;
		i = p;
	}
	return 0;
}

static int heap_push(struct dp_worker *w, struct fault_q *q, struct rte_mbuf *m, uint64_t rel)
{
	return heap_push_seq(w, q, m, rel, q->seq++);
}

/* The earliest packet if it is due at @p now (its place in *it when not NULL), else NULL. */
static struct rte_mbuf *heap_pop_due(struct fault_q *q, uint64_t now, struct fault_item *it)
{
	struct rte_mbuf *m;
	uint32_t i = 0;

	if (q->n == 0 || q->heap[0].release_ns > now)
		return NULL;
	if (it != NULL)
		*it = q->heap[0];
	m = q->heap[0].m;
	q->heap[0] = q->heap[--q->n];
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, s = i;
		struct fault_item t;

		if (l < q->n && item_lt(&q->heap[l], &q->heap[s]))
			s = l;
		if (r < q->n && item_lt(&q->heap[r], &q->heap[s]))
			s = r;
		if (s == i)
			break;
		t = q->heap[s];
		q->heap[s] = q->heap[i];
		q->heap[i] = t;
		i = s;
	}
	return m;
}

/* ---- impairments -------------------------------------------------------------------------- */

/* TX with checksum offload: compute the checksums now, so that the corruption shows. */
static void tx_sw_cksum(struct rte_mbuf *m, struct rte_ipv4_hdr *ip, uint8_t *l4, uint32_t l4len)
{
	uint64_t l4f = m->ol_flags & RTE_MBUF_F_TX_L4_MASK;

	if (m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM) {
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
	}
	if (l4f == RTE_MBUF_F_TX_TCP_CKSUM && l4len >= 20) {
		memset(l4 + 16, 0, 2);
		*(uint16_t *)(void *)(l4 + 16) = rte_ipv4_udptcp_cksum(ip, l4);
	} else if (l4f == RTE_MBUF_F_TX_UDP_CKSUM && l4len >= 8) {
		memset(l4 + 6, 0, 2);
		*(uint16_t *)(void *)(l4 + 6) = rte_ipv4_udptcp_cksum(ip, l4);
	}
	m->ol_flags &= ~(RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_L4_MASK);
}

/* Invert one byte after the IPv4 header of the Ethernet frame @p m. False if not IPv4. */
static bool corrupt(struct rte_mbuf *m, uint64_t r, int dir)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m), off;
	struct rte_ipv4_hdr *ip;

	if (len < RTE_ETHER_HDR_LEN + sizeof(*ip) ||
	    ((const struct rte_ether_hdr *)p)->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return false;
	ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	off = RTE_ETHER_HDR_LEN + (uint32_t)(ip->version_ihl & 0xf) * 4;
	if (off >= len)
		return false;
	if (dir == DIR_TX)
		tx_sw_cksum(m, ip, p + off, len - off);
	else
		m->ol_flags &= ~(RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK);
	p[off + r % (len - off)] ^= 0xff;
	return true;
}

static const enum dp_stat dir_stats[2][5] = {
	{DP_STAT_FAULT_RX_DROP, DP_STAT_FAULT_RX_DUP, DP_STAT_FAULT_RX_REORDER,
	 DP_STAT_FAULT_RX_DELAY, DP_STAT_FAULT_RX_CORRUPT},
	{DP_STAT_FAULT_TX_DROP, DP_STAT_FAULT_TX_DUP, DP_STAT_FAULT_TX_REORDER,
	 DP_STAT_FAULT_TX_DELAY, DP_STAT_FAULT_TX_CORRUPT},
};
enum { ST_DROP, ST_DUP, ST_REORDER, ST_DELAY, ST_CORRUPT };

/* Release a held packet right behind one released at @p rel. */
static void release_held(struct dp_worker *w, struct fault_q *q, uint64_t rel)
{
	struct rte_mbuf *h = q->held;

	q->held = NULL;
	heap_push(w, q, h, rel);
}

/* One packet in: decide its fate, queue what survives. */
static void impair(struct dp_worker *w, struct fault_q *q, const struct dp_fault_dir *d, int dir,
		   struct rte_mbuf *m)
{
	const enum dp_stat *st = dir_stats[dir];
	uint64_t now = w->now_ns, rel = now;
	/* Always five draws, so one rate never shifts the decisions of another. */
	uint64_t r_drop = rng_next(q) >> 32, r_dup = rng_next(q) >> 32;
	uint64_t r_cor = rng_next(q), r_reo = rng_next(q) >> 32, r_jit = rng_next(q);
	struct rte_mbuf *copy = NULL;

	if (r_drop < d->drop) {
		w->stats[st[ST_DROP]]++;
		rte_pktmbuf_free(m);
		return;
	}
	if (r_dup < d->dup) {
		copy = rte_pktmbuf_copy(m, w->pool, 0, UINT32_MAX);
		if (copy != NULL)
			w->stats[st[ST_DUP]]++;
	}
	if ((r_cor >> 32) < d->corrupt && corrupt(m, r_cor & 0xffffffffu, dir))
		w->stats[st[ST_CORRUPT]]++;
	if (d->delay_ns != 0 || d->jitter_ns != 0) {
		uint64_t span = 2 * d->jitter_ns + 1;
		int64_t j = (int64_t)(r_jit % span) - (int64_t)d->jitter_ns;
		int64_t del = (int64_t)d->delay_ns + j;

		rel = now + (uint64_t)(del > 0 ? del : 0);
		w->stats[st[ST_DELAY]]++;
	}
	if (q->held == NULL && r_reo < d->reorder) {
		/* Wait for a packet to overtake this one (its duplicate, if any, goes first). */
		w->stats[st[ST_REORDER]]++;
		q->held = m;
		q->held_ns = now;
		q->held_release = rel;
		if (copy != NULL)
			heap_push(w, q, copy, rel);
		return;
	}
	heap_push(w, q, m, rel);
	if (copy != NULL)
		heap_push(w, q, copy, rel);
	if (q->held != NULL)
		release_held(w, q, rel > q->held_release ? rel : q->held_release);
}

/* A held packet nobody overtook goes after DP_FAULT_HOLD_NS. */
static void held_timeout(struct dp_worker *w, struct fault_q *q)
{
	if (q->held != NULL && w->now_ns - q->held_ns >= DP_FAULT_HOLD_NS)
		release_held(w, q, q->held_release);
}

uint16_t dp_fault_rx(struct dp_worker *w, uint16_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	const struct dp_fault_dir *d = &w->stack->ifaces[iface].fault.rx;
	struct fault_q *q = fault_q(w, iface, DIR_RX);
	struct rte_mbuf *m;
	uint16_t i, out = 0;

	if (q == NULL)
		return n; /* no memory for the state: pass everything through */
	for (i = 0; i < n; i++)
		impair(w, q, d, DIR_RX, pkts[i]);
	held_timeout(w, q);
	while (out < DP_RX_BURST && (m = heap_pop_due(q, w->now_ns, NULL)) != NULL)
		pkts[out++] = m;
	return out;
}

/* Send up to a burst of what is due; what the port refuses goes back in the queue, in its
 * place (like dp_tx_flush_iface keeps it). False when the port is full. */
static bool tx_burst(struct dp_worker *w, uint16_t iface, struct fault_q *q)
{
	const struct dp_iface *ifc = &w->stack->ifaces[iface];
	struct rte_mbuf *burst[DP_TX_BURST];
	struct fault_item it[DP_TX_BURST];
	uint16_t nb = 0, sent, j;

	while (nb < DP_TX_BURST && (burst[nb] = heap_pop_due(q, w->now_ns, &it[nb])) != NULL)
		nb++;
	if (nb == 0)
		return false;
	sent = dp_port_tx_burst(w, ifc, burst, nb);
	w->stats[DP_STAT_TX_PACKETS] += sent;
	for (j = sent; j < nb; j++)
		heap_push_seq(w, q, burst[j], it[j].release_ns, it[j].seq);
	return sent == nb && nb == DP_TX_BURST;
}

void dp_fault_tx(struct dp_worker *w, uint16_t iface, struct dp_txbuf *tb)
{
	const struct dp_fault_dir *d = &w->stack->ifaces[iface].fault.tx;
	struct fault_q *q = fault_q(w, iface, DIR_TX);
	uint16_t i;

	if (q == NULL)
		return; /* no memory for the state: dp_tx_flush_iface sends them unimpaired */
	for (i = 0; i < tb->n; i++)
		impair(w, q, d, DIR_TX, tb->pkts[i]);
	tb->n = 0;
	held_timeout(w, q);
	while (tx_burst(w, iface, q))
		;
}

unsigned dp_fault_pending(const struct dp_worker *w, uint16_t iface, int tx)
{
	const struct dp_fault_worker *fw = w->fault;
	const struct fault_q *q;

	if (fw == NULL || iface >= DP_MAX_PORTS)
		return 0;
	q = &fw->q[iface][tx ? DIR_TX : DIR_RX];
	return q->n + (q->held != NULL);
}

void dp_fault_fini(struct dp_worker *w)
{
	struct dp_fault_worker *fw = w->fault;
	unsigned i, d;
	uint32_t k;

	if (fw == NULL)
		return;
	for (i = 0; i < DP_MAX_PORTS; i++)
		for (d = 0; d < 2; d++) {
			struct fault_q *q = &fw->q[i][d];

			for (k = 0; k < q->n; k++)
				rte_pktmbuf_free(q->heap[k].m);
			rte_pktmbuf_free(q->held);
			free(q->heap);
		}
	free(fw);
	w->fault = NULL;
}
