/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP options: MSS (RFC 9293 §3.7.1), window scale and timestamps (RFC 7323 §2-3), SACK-
 * permitted and SACK blocks (RFC 2018; the blocks themselves are built in tcp_sack.c).
 */
#include <string.h>

#include "tcp_priv.h"

void tcp__parse_opts(const uint8_t *p, unsigned len, bool syn, struct tcp_opts *o)
{
	unsigned i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == TCP_OPT_EOL)
			break;
		if (kind == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			break; /* malformed: ignore the rest (RFC 9293 §3.2, MUST-7) */
		switch (kind) {
		case TCP_OPT_MSS:
			/* Only meaningful on a SYN (RFC 9293 §3.7.1). */
			if (olen == TCP_OPTLEN_MSS && syn) {
				o->mss_ok = true;
				o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			}
			break;
		case TCP_OPT_WSCALE:
			if (olen == TCP_OPTLEN_WSCALE && syn) {
				o->ws_ok = true;
				o->ws = p[i + 2];
			}
			break;
		case TCP_OPT_SACK_PERM:
			if (olen == 2 && syn)
				o->sack_ok = true;
			break;
		case TCP_OPT_SACK:
			if (!syn && olen >= 10 && (olen - 2) % 8 == 0) {
				unsigned b, nb = TCP_MIN((unsigned)(olen - 2) / 8, 4u);

				for (b = 0; b < nb; b++) {
					const uint8_t *q = p + i + 2 + 8 * b;

					o->sack[b][0] = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
							(uint32_t)q[2] << 8 | q[3];
					o->sack[b][1] = (uint32_t)q[4] << 24 | (uint32_t)q[5] << 16 |
							(uint32_t)q[6] << 8 | q[7];
				}
				o->nsack = (uint8_t)nb;
			}
			break;
		case TCP_OPT_TS:
			if (olen == TCP_OPTLEN_TS) {
				const uint8_t *q = p + i + 2;

				o->ts_ok = true;
				o->tsval = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
					   (uint32_t)q[2] << 8 | q[3];
				o->tsecr = (uint32_t)q[4] << 24 | (uint32_t)q[5] << 16 |
					   (uint32_t)q[6] << 8 | q[7];
			}
			break;
		default:
			break;
		}
		i += olen;
	}
}

static unsigned put_ts(struct tcp_conn *c, uint8_t *p)
{
	struct tcp_wire_opt_ts_aligned ts = {
		.nop1 = TCP_OPT_NOP,
		.nop2 = TCP_OPT_NOP,
		.kind = TCP_OPT_TS,
		.len = TCP_OPTLEN_TS,
		.tsval = rte_cpu_to_be_32(tcp__ts_now(c->e)),
		.tsecr = rte_cpu_to_be_32(c->ts_recent),
	};

	memcpy(p, &ts, sizeof(ts));
	return sizeof(ts);
}

static uint8_t wscale_for(uint32_t rcvbuf)
{
	uint8_t s = 0;

	while (s < TCP_WSCALE_MAX && (rcvbuf >> s) > 65535u)
		s++;
	return s;
}

unsigned tcp__write_syn_opts(struct tcp_conn *c, uint8_t *p, bool synack,
			     const struct tcp_opts *peer)
{
	struct tcp_wire_opt_mss mss = {
		.kind = TCP_OPT_MSS,
		.len = TCP_OPTLEN_MSS,
		.mss = rte_cpu_to_be_16(c->rcv_mss),
	};
	unsigned n = 0;

	memcpy(p, &mss, sizeof(mss));
	n += sizeof(mss);
	/* RFC 7323 §2.2: a SYN-ACK carries WS only if the SYN did; same for TS (§3.2).
	 * tcp__negotiate() recorded what the SYN offered in c->flags. */
	(void)peer;
	if (!synack || (c->flags & TCPF_WS_OK)) {
		struct tcp_wire_opt_ws_aligned ws = {
			.nop = TCP_OPT_NOP,
			.kind = TCP_OPT_WSCALE,
			.len = TCP_OPTLEN_WSCALE,
			.shift = synack ? c->rcv_wscale : wscale_for(c->rcvbuf),
		};
		memcpy(p + n, &ws, sizeof(ws));
		n += sizeof(ws);
	}
	if (!synack || (c->flags & TCPF_TS_OK))
		n += put_ts(c, p + n);
	if (!synack || (c->flags & TCPF_SACK_OK)) {
		/* RFC 2018 §2: SACK-permitted, NOP-padded to a word. */
		p[n++] = TCP_OPT_NOP;
		p[n++] = TCP_OPT_NOP;
		p[n++] = TCP_OPT_SACK_PERM;
		p[n++] = 2;
	}
	return n;
}

unsigned tcp__write_opts(struct tcp_conn *c, uint8_t *p)
{
	unsigned n = 0;

	if (c->flags & TCPF_TS_OK)
		n = put_ts(c, p);
	if (c->flags & TCPF_SACK_OK)
		n += tcp__sack_write(c, p + n, 40 - n);
	return n;
}

void tcp__negotiate(struct tcp_conn *c, const struct tcp_opts *peer)
{
	uint32_t mss;

	c->peer_mss = peer->mss_ok ? peer->mss : TCP_MSS_NOOPT;
	if (peer->ws_ok) {
		c->flags |= TCPF_WS_OK;
		c->snd_wscale = TCP_MIN(peer->ws, (uint8_t)TCP_WSCALE_MAX);
		c->rcv_wscale = wscale_for(c->rcvbuf);
	} else {
		c->flags &= ~TCPF_WS_OK;
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	if (peer->ts_ok) {
		c->flags |= TCPF_TS_OK;
		c->ts_recent = peer->tsval;
		c->ts_recent_ns = c->e->w->now_ns;
	} else {
		c->flags &= ~TCPF_TS_OK;
	}
	if (peer->sack_ok)
		c->flags |= TCPF_SACK_OK;
	else
		c->flags &= ~TCPF_SACK_OK;
	mss = TCP_MIN((uint32_t)c->peer_mss, (uint32_t)c->rcv_mss);
	if (c->user_mss != 0)
		mss = TCP_MIN(mss, (uint32_t)c->user_mss);
	if (c->flags & TCPF_TS_OK)
		mss -= 12; /* RFC 7323 §3.2 / RFC 6691: options come out of the MSS */
	if (mss < TCP_MSS_MIN)
		mss = TCP_MSS_MIN;
	c->snd_mss = (uint16_t)mss;
	/* RFC 6928 initial window, ssthresh, the congestion-control algorithm (tcp_cc.c). */
	tcp__cc_conn_init(c);
	tcp__rack_init(c); /* RACK-TLP with SACK (tcp_rack.c) */
}

uint16_t tcp__our_mss(const struct tcp_conn *c)
{
	return c->rcv_mss;
}
