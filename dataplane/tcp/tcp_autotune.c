/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive-window autotuning (dynamic right-sizing, as Linux's tcp_rcv_space_adjust): the
 * window we offer starts at TCP_RCVWIN_INIT and, once per receiver round trip, grows to twice
 * what the application consumed in it, up to SO_RCVBUF. A slow reader therefore never gets
 * more window than it can use, a fast one on a long path gets what the path needs, and the
 * mbufs a connection can pin stay bounded by what it really consumes.
 *
 * The receiver's RTT comes from the timestamp echo of arriving data (RFC 7323 §4: TSecr is
 * our TSval, 1 ms clock) or, without timestamps, from the time one window of data takes to
 * arrive (an upper bound, as Linux's tcp_rcv_rtt_measure). Window scale is still chosen
 * from SO_RCVBUF at the SYN, so the window can grow to it.
 *
 * Send-buffer autotuning (as Linux's tcp_sndbuf_expand / tcp_new_space): how much the
 * application may queue starts at TCP_SNDBUF_INIT (16 KiB) before the connection is up, is
 * twice the initial window once it is (2 x 10 MSS, 29200 bytes at MSS 1460), and grows with
 * every ACK to 2 x min(cwnd, largest window the peer offered), so a sender never runs out of
 * data while cwnd grows (one window in flight, one queued behind it), never beyond the cap:
 * SO_SNDBUF when the application never set it is the default (control-plane rule, else
 * TCP_SNDBUF_DEFAULT); set by the application, the limit is that value and is not tuned
 * (Linux's SOCK_SNDBUF_LOCK). The limit never shrinks. Linux counts each segment's skb
 * overhead in sk_sndbuf; the ring here holds payload only, so MSS-with-overhead is the MSS.
 *
 * Memory: the ring is allocated as the application fills it (a power of two, at least
 * TCP_SBUF_RING_MIN, never beyond the limit), so a request/response connection holds a few
 * KiB, not SO_SNDBUF. Growth is refused (counter sndbuf_pool_low) while the worker's mbuf
 * pool is below a quarter (e->pool_low, the receive side's rcv_pool_low signal) or while
 * the send rings of the worker already hold as many bytes as the pool's mbufs can carry:
 * every queued byte leaves in an mbuf of that pool, so many connections growing at once
 * cannot queue more than the worker can send.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_mbuf.h>

#include "tcp_priv.h"

uint32_t tcp__rcv_autowin(const struct tcp_conn *c)
{
	uint32_t w = c->at.rcv_win != 0 ? c->at.rcv_win : TCP_RCVWIN_INIT;

	return TCP_MIN(w, c->rcvbuf);
}

static void rtt_sample(struct tcp_conn *c, uint32_t us)
{
	struct tcp_autotune *a = &c->at;

	if (us == 0)
		us = 1;
	a->rtt_us = a->rtt_us == 0 ? us : (7 * a->rtt_us + us) / 8;
}

void tcp__rcv_arrived(struct tcp_conn *c, uint32_t tsecr)
{
	struct tcp_autotune *a = &c->at;
	uint64_t now = c->e->w->now_ns;

	if ((c->flags & TCPF_TS_OK) && tsecr != 0) {
		uint32_t ms = tcp__ts_now(c->e) - tsecr;

		if (ms < 60000u)
			rtt_sample(c, TCP_MAX(ms, 1u) * 1000u);
		return;
	}
	if (a->win_ns == 0) {
		a->win_ns = now;
		a->win_seq = c->rcv_nxt;
	} else if (c->rcv_nxt - a->win_seq >= tcp__rcv_autowin(c)) {
		rtt_sample(c, (uint32_t)TCP_MIN((now - a->win_ns) / 1000u, (uint64_t)UINT32_MAX));
		a->win_ns = now;
		a->win_seq = c->rcv_nxt;
	}
}

void tcp__rcv_consumed(struct tcp_conn *c, uint32_t n)
{
	struct tcp_autotune *a = &c->at;
	uint64_t now = c->e->w->now_ns;
	uint32_t rtt = a->rtt_us != 0 ? a->rtt_us : (c->rtt_valid ? c->srtt_us : 0);
	uint32_t win = tcp__rcv_autowin(c);

	a->copied += n;
	if (a->t0_ns == 0) {
		a->t0_ns = now;
		return;
	}
	if (rtt == 0 || now - a->t0_ns < (uint64_t)rtt * 1000u)
		return;
	/* One round trip: offer twice what the reader took, so the sender is never held up
	 * by the window while the reader keeps pace. */
	if (2ull * a->copied > win)
		a->rcv_win = (uint32_t)TCP_MIN(2ull * a->copied, (uint64_t)c->rcvbuf);
	else if (a->rcv_win == 0)
		a->rcv_win = win;
	a->copied = 0;
	a->t0_ns = now;
}

/* ---- send-buffer autotuning --------------------------------------------------------------- */

uint32_t tcp__snd_limit(const struct tcp_conn *c)
{
	uint32_t l;

	if (c->flags & TCPF_SNDBUF_LOCK)
		return c->sndbuf_max;
	l = c->snd_limit != 0 ? c->snd_limit : TCP_SNDBUF_INIT;
	return TCP_MIN(l, c->sndbuf_max);
}

/* The worker's send rings already hold what its mbuf pool can carry? */
static bool snd_mem_full(const struct tcp_engine *e)
{
	const struct rte_mempool *mp = e->w->pool;

	if (mp == NULL)
		return false;
	return e->snd_mem >=
	       (uint64_t)mp->size * rte_pktmbuf_data_room_size((struct rte_mempool *)mp);
}

void tcp__snd_expand(struct tcp_conn *c)
{
	uint32_t mss = c->snd_mss, iw, eff;
	uint64_t want;

	if ((c->flags & TCPF_SNDBUF_LOCK) || !tcp_state_synced(c->state) || c->cwnd == 0)
		return;
	/* What can be in flight: cwnd, unless the peer never offered that much; never below
	 * the initial window (RFC 6928, as tcp__cc_conn_init). */
	iw = TCP_MIN(10u * mss, TCP_MAX(2u * mss, 14600u));
	eff = c->max_sndwnd != 0 ? TCP_MIN(c->cwnd, c->max_sndwnd) : c->cwnd;
	want = 2ull * TCP_MAX(eff, iw);
	if (want > c->sndbuf_max)
		want = c->sndbuf_max;
	if (want <= tcp__snd_limit(c))
		return;
	if (c->snd_limit != 0 && (c->e->pool_low || snd_mem_full(c->e))) {
		tcp__stat(c->e, TCP_STAT_SNDBUF_POOL_LOW);
		return;
	}
	if (c->snd_limit != 0)
		tcp__stat(c->e, TCP_STAT_SNDBUF_GROWN);
	c->snd_limit = (uint32_t)want;
}

int tcp__sbuf_reserve(struct tcp_conn *c, uint32_t need)
{
	uint32_t limit = tcp__snd_limit(c), size, i, first;
	uint8_t *nb;

	if (need > limit)
		need = limit;
	if (c->sbuf != NULL && c->sbuf_size >= need)
		return 0;
	/* Doubling steps, so a growing buffer is copied O(log n) times. */
	size = rte_align32pow2(TCP_MAX(need, TCP_SBUF_RING_MIN));
	size = TCP_MIN(size, TCP_MAX(limit, c->sbuf_len));
	if (c->sbuf != NULL && size <= c->sbuf_size)
		return 0;
	nb = malloc(size);
	if (nb == NULL)
		return -ENOMEM;
	if (c->sbuf != NULL) {
		/* Linearise the ring into the new one: two copies at most. */
		i = c->sbuf_len;
		first = TCP_MIN(i, c->sbuf_size - c->sbuf_head);
		memcpy(nb, c->sbuf + c->sbuf_head, first);
		memcpy(nb + first, c->sbuf, i - first);
		free(c->sbuf);
		c->e->snd_mem -= c->sbuf_size;
	}
	c->sbuf = nb;
	c->sbuf_head = 0;
	c->sbuf_size = size;
	c->e->snd_mem += size;
	return 0;
}

void tcp__sbuf_free(struct tcp_conn *c)
{
	if (c->sbuf != NULL)
		c->e->snd_mem -= c->sbuf_size;
	free(c->sbuf);
	c->sbuf = NULL;
	c->sbuf_size = 0;
	c->sbuf_head = 0;
}
