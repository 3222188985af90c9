/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ip.h>
#include <rte_malloc.h>

#include "zpt_tcp.h"
#include "tcp/tcp_priv.h"

static struct zpt_tcp *cur;

static int capture(struct dp_worker *w, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst)
{
	(void)w;
	(void)src;
	(void)dst;
	assert_non_null(cur);
	assert_true(cur->out_tail - cur->out_head < ZPT_TCP_MAX_OUT);
	cur->out[cur->out_tail++ % ZPT_TCP_MAX_OUT] = m;
	return 0;
}

struct zpt_tcp *zpt_tcp_new(void)
{
	struct zpt_tcp *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->env = zpt_env_new(1);
	t->w = t->env->w;
	assert_int_equal(dp_sock_worker_init(t->w), 0);
	tcp_output_set(t->w, capture);
	tcp__engine(t->w)->delack_ns = 0;
	/* Segments are captured at the engine's seam as they are built: the application's
	 * output is built at once, not at the end of the next loop pass. */
	tcp__engine(t->w)->app_out_defer = false;
	t->local = ZPT_IP(10, 0, 0, 1);
	t->peer = ZPT_IP(10, 0, 0, 2);
	t->pport = 40000;
	t->lport = 80;
	t->peer_win = 65535;
	t->peer_nxt = ZPT_PEER_ISS;
	cur = t;
	return t;
}

void zpt_tcp_free(struct zpt_tcp *t)
{
	zpt_tcp_drain(t);
	dp_sock_worker_fini(t->w);
	zpt_tcp_drain(t);
	zpt_env_free(t->env);
	cur = NULL;
	free(t);
}

unsigned zpt_tcp_conns(struct zpt_tcp *t)
{
	return tcp_conn_count(t->w);
}

void zpt_tcp_inject_full(struct zpt_tcp *t, uint32_t seq, uint32_t ack, uint8_t flags,
			 uint16_t win, const uint8_t *opts, unsigned optlen, const void *data,
			 uint32_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(t->env->pool);
	uint8_t buf[2200];
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)buf;
	struct tcp_wire_hdr *h = (struct tcp_wire_hdr *)(buf + sizeof(*ip));
	unsigned hlen = TCP_HDR_LEN + optlen;
	size_t total = sizeof(*ip) + hlen + len;
	char *p;

	assert_non_null(m);
	assert_true(optlen % 4 == 0 && optlen <= 40);
	assert_true(total <= sizeof(buf));
	memset(buf, 0, sizeof(*ip) + TCP_HDR_LEN);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)total);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_TCP;
	ip->src_addr = t->peer;
	ip->dst_addr = t->local;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	h->sport = rte_cpu_to_be_16(t->pport);
	h->dport = rte_cpu_to_be_16(t->lport);
	h->seq = rte_cpu_to_be_32(seq);
	h->ack = rte_cpu_to_be_32(ack);
	h->doff = (uint8_t)((hlen / 4) << 4);
	h->flags = flags;
	h->win = rte_cpu_to_be_16(win);
	if (optlen)
		memcpy(h + 1, opts, optlen);
	if (len)
		memcpy((uint8_t *)h + hlen, data, len);
	h->cksum = rte_ipv4_udptcp_cksum(ip, h);
	p = rte_pktmbuf_append(m, (uint16_t)total);
	assert_non_null(p);
	memcpy(p, buf, total);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	rte_pktmbuf_adj(m, sizeof(*ip));
	tcp_input(t->w, m);
}

void zpt_tcp_inject(struct zpt_tcp *t, uint32_t seq, uint32_t ack, uint8_t flags, const void *data,
		    uint32_t len)
{
	uint8_t o[12];
	unsigned n = 0;

	if (t->peer_ts) {
		uint32_t v = rte_cpu_to_be_32(t->peer_tsval), e = 0;

		o[0] = 1;
		o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		memcpy(o + 4, &v, 4);
		memcpy(o + 8, &e, 4);
		n = 12;
	}
	zpt_tcp_inject_full(t, seq, ack, flags, t->peer_win, o, n, data, len);
}

bool zpt_tcp_pop(struct zpt_tcp *t, struct zpt_seg *s)
{
	struct rte_mbuf *m;
	const struct tcp_wire_hdr *h;
	unsigned hlen, i;
	const uint8_t *o;

	if (t->out_head == t->out_tail)
		return false;
	m = t->out[t->out_head++ % ZPT_TCP_MAX_OUT];
	memset(s, 0, offsetof(struct zpt_seg, data));
	h = rte_pktmbuf_mtod(m, const struct tcp_wire_hdr *);
	hlen = (unsigned)(h->doff >> 4) * 4;
	assert_int_equal(h->cksum, 0); /* dp_ipv4_output fills it */
	s->seq = rte_be_to_cpu_32(h->seq);
	s->ack = rte_be_to_cpu_32(h->ack);
	s->flags = h->flags;
	s->win = rte_be_to_cpu_16(h->win);
	s->sport = rte_be_to_cpu_16(h->sport);
	s->dport = rte_be_to_cpu_16(h->dport);
	s->len = rte_pktmbuf_pkt_len(m) - hlen;
	assert_true(s->len <= sizeof(s->data));
	memcpy(s->data, (const uint8_t *)h + hlen, s->len);
	o = (const uint8_t *)(h + 1);
	for (i = 0; i < hlen - TCP_HDR_LEN;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (o[i] == 2) {
			s->has_mss = true;
			s->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
		} else if (o[i] == 3) {
			s->has_ws = true;
			s->ws = o[i + 2];
		} else if (o[i] == 8) {
			uint32_t v, e;

			memcpy(&v, o + i + 2, 4);
			memcpy(&e, o + i + 6, 4);
			s->has_ts = true;
			s->tsval = rte_be_to_cpu_32(v);
			s->tsecr = rte_be_to_cpu_32(e);
		}
		i += o[i + 1];
	}
	rte_pktmbuf_free(m);
	return true;
}

unsigned zpt_tcp_pending(struct zpt_tcp *t)
{
	return t->out_tail - t->out_head;
}

unsigned zpt_tcp_drain(struct zpt_tcp *t)
{
	unsigned n = 0;

	while (t->out_head != t->out_tail) {
		rte_pktmbuf_free(t->out[t->out_head++ % ZPT_TCP_MAX_OUT]);
		n++;
	}
	return n;
}

void zpt_tcp_advance(struct zpt_tcp *t, uint64_t ns)
{
	const uint64_t step = 10000000ull;

	while (ns > 0) {
		uint64_t d = ns < step ? ns : step;

		t->w->now_ns += d;
		dp_timer_run(t->w);
		ns -= d;
	}
}

void zpt_tcp_connect_syn(struct zpt_tcp *t, int fd, struct zpt_seg *syn)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};

	sin.sin_addr.s_addr = t->peer;
	sin.sin_port = rte_cpu_to_be_16(t->pport);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_true(zpt_tcp_pop(t, syn));
	assert_int_equal(syn->flags, TCP_FLAG_SYN);
	t->our_iss = syn->seq;
	t->lport = syn->sport;
	t->peer_nxt = ZPT_PEER_ISS;
}

int zpt_tcp_client(struct zpt_tcp *t)
{
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	zpt_tcp_connect_syn(t, fd, &s);
	zpt_tcp_inject(t, t->peer_nxt, t->our_iss + 1, TCP_FLAG_SYN | TCP_FLAG_ACK, NULL, 0);
	t->peer_nxt++;
	assert_true(zpt_tcp_pop(t, &s));
	assert_int_equal(s.flags, TCP_FLAG_ACK);
	assert_int_equal(s.ack, t->peer_nxt);
	assert_int_equal(zpt_tcp_state(fd), ZP_TCP_ESTABLISHED);
	return fd;
}

int zpt_tcp_server(struct zpt_tcp *t, uint16_t port, int *lfd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct zpt_seg s;
	int l = zp_socket(AF_INET, SOCK_STREAM, 0), fd;

	assert_true(l >= 0);
	sin.sin_port = rte_cpu_to_be_16(port);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 16), 0);
	t->lport = port;
	t->peer_nxt = ZPT_PEER_ISS;
	zpt_tcp_inject(t, t->peer_nxt, 0, TCP_FLAG_SYN, NULL, 0);
	t->peer_nxt++;
	assert_true(zpt_tcp_pop(t, &s));
	assert_int_equal(s.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_int_equal(s.ack, t->peer_nxt);
	t->our_iss = s.seq;
	zpt_tcp_inject(t, t->peer_nxt, t->our_iss + 1, TCP_FLAG_ACK, NULL, 0);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);
	*lfd = l;
	return fd;
}

void zpt_tcp_peer_send(struct zpt_tcp *t, uint32_t ack, const void *data, uint32_t len)
{
	zpt_tcp_inject(t, t->peer_nxt, ack, TCP_FLAG_ACK | TCP_FLAG_PSH, data, len);
	t->peer_nxt += len;
}

int zpt_tcp_state(int fd)
{
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	return ti.state;
}

int zpt_tcp_so_error(int fd)
{
	int e = -1;
	socklen_t len = sizeof(e);

	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len), 0);
	return e;
}

uint64_t zpt_tcp_drop(struct zpt_tcp *t, const char *name)
{
	unsigned i;

	for (i = 0; i < tcp_drop_count(); i++)
		if (strcmp(tcp_drop_name(i), name) == 0)
			return tcp_drop_get(t->w, i);
	fail_msg("unknown drop reason %s", name);
	return 0;
}

uint64_t zpt_tcp_stat(struct zpt_tcp *t, const char *name)
{
	unsigned i;

	for (i = 0; i < tcp_stat_count(); i++)
		if (strcmp(tcp_stat_name(i), name) == 0)
			return tcp_stat_get(t->w, i);
	fail_msg("unknown stat %s", name);
	return 0;
}
