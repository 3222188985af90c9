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
 */
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
