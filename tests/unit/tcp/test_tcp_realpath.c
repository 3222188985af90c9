/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP through the real path: frames go in on a port's RX ring and come out of its TX ring
 * (net_ring port → dp_input → Ethernet → IPv4 → tcp_input ... tcp output → dp_ipv4_output →
 * ARP → Ethernet → TX), with the socket API on the worker and zp_epoll_wait() driving the
 * loop. A scripted "kernel" peer (10.0.0.2, Linux-style options) crafts every frame with
 * correct checksums and verifies every frame the stack sends: Ethernet addresses, IPv4 and
 * TCP checksums (computed in software here: the ring port offers no offload), options.
 *
 * The other TCP tests feed segments straight into tcp_input() and catch them at the output
 * hook; this file is the one that proves the layers fit together.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <time.h>

#include <rte_arp.h>
#include <rte_ip.h>
#include <rte_mempool.h>

#include "zpt.h"
#include "zpt_tcp.h"
#include "tcp/tcp_priv.h"
#include "zpath/zpath_socket.h"

#define MSEC	 1000000ull
#define SEC	 1000000000ull
#define F_FIN	 TCP_FLAG_FIN
#define F_SYN	 TCP_FLAG_SYN
#define F_RST	 TCP_FLAG_RST
#define F_PSH	 TCP_FLAG_PSH
#define F_ACK	 TCP_FLAG_ACK
#define PEER_WS	 7 /* Linux's usual shift */
#define PEER_MSS 1460

/* ---- frames the stack sent ------------------------------------------------------------------- */

struct kframe {
	struct rte_ether_addr dst, src;
	uint16_t type;
	/* ARP */
	uint16_t arp_op;
	rte_be32_t arp_sip, arp_tip;
	/* IPv4 */
	rte_be32_t saddr, daddr;
	uint8_t proto;
	uint16_t frag;
	/* TCP */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	bool has_mss, has_ws, has_ts;
	uint8_t nsack; /**< SACK blocks (RFC 2018) */
	uint32_t sack[4][2];
	uint16_t mss;
	uint8_t ws;
	uint32_t tsval, tsecr;
	uint32_t len;
	uint8_t data[2048];
};

static struct zpt_env *E;
static const struct rte_ether_addr BCAST = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};

/* Parse a TCP header's options (RFC 9293 §3.2). */
static void parse_tcp_opts(struct kframe *f, const uint8_t *o, unsigned n)
{
	unsigned i = 0;

	while (i < n) {
		if (o[i] == TCP_OPT_EOL)
			break;
		if (o[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		assert_true(i + 1 < n);
		assert_true(o[i + 1] >= 2 && i + o[i + 1] <= n);
		switch (o[i]) {
		case TCP_OPT_MSS:
			assert_int_equal(o[i + 1], 4);
			f->has_mss = true;
			f->mss = (uint16_t)(o[i + 2] << 8 | o[i + 3]);
			break;
		case TCP_OPT_WSCALE:
			assert_int_equal(o[i + 1], 3);
			f->has_ws = true;
			f->ws = o[i + 2];
			break;
		case TCP_OPT_TS:
			assert_int_equal(o[i + 1], 10);
			f->has_ts = true;
			f->tsval = (uint32_t)o[i + 2] << 24 | (uint32_t)o[i + 3] << 16 |
				   (uint32_t)o[i + 4] << 8 | o[i + 5];
			f->tsecr = (uint32_t)o[i + 6] << 24 | (uint32_t)o[i + 7] << 16 |
				   (uint32_t)o[i + 8] << 8 | o[i + 9];
			break;
		case TCP_OPT_SACK:
			assert_true(o[i + 1] >= 10 && (o[i + 1] - 2) % 8 == 0);
			for (f->nsack = 0; f->nsack < (o[i + 1] - 2) / 8; f->nsack++) {
				const uint8_t *q = o + i + 2 + 8 * f->nsack;

				f->sack[f->nsack][0] = (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 |
						       (uint32_t)q[2] << 8 | q[3];
				f->sack[f->nsack][1] = (uint32_t)q[4] << 24 | (uint32_t)q[5] << 16 |
						       (uint32_t)q[6] << 8 | q[7];
			}
			break;
		default:
			break;
		}
		i += o[i + 1];
	}
}

/*
 * Take the next frame off the TX ring and check it the way a receiving host would: our MAC as
 * source, a valid IPv4 header checksum, DF set, a valid TCP checksum over the pseudo header.
 */
static bool pop_frame(struct kframe *f)
{
	struct rte_mbuf *m = zpt_tx_pop(E, 0);
	const struct rte_ether_hdr *eh;

	if (m == NULL)
		return false;
	memset(f, 0, offsetof(struct kframe, data));
	assert_int_equal(m->nb_segs, 1);
	assert_true(rte_pktmbuf_data_len(m) >= sizeof(*eh));
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	f->dst = eh->dst_addr;
	f->src = eh->src_addr;
	f->type = rte_be_to_cpu_16(eh->ether_type);
	assert_true(rte_is_same_ether_addr(&f->src, &E->stack.ifaces[0].mac));
	if (f->type == RTE_ETHER_TYPE_ARP) {
		const struct rte_arp_hdr *a = (const struct rte_arp_hdr *)(eh + 1);

		f->arp_op = rte_be_to_cpu_16(a->arp_opcode);
		f->arp_sip = a->arp_data.arp_sip;
		f->arp_tip = a->arp_data.arp_tip;
	} else {
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(uintptr_t)(eh + 1);
		const struct tcp_wire_hdr *h;
		unsigned tot, hlen;

		assert_int_equal(f->type, RTE_ETHER_TYPE_IPV4);
		assert_int_equal(ip->version_ihl, RTE_IPV4_VHL_DEF);
		assert_int_equal(rte_raw_cksum(ip, sizeof(*ip)), 0xffff); /* IPv4 checksum */
		tot = rte_be_to_cpu_16(ip->total_length);
		assert_int_equal(tot + sizeof(*eh), rte_pktmbuf_data_len(m));
		assert_true(tot <= E->stack.ifaces[0].mtu);
		f->saddr = ip->src_addr;
		f->daddr = ip->dst_addr;
		f->proto = ip->next_proto_id;
		f->frag = rte_be_to_cpu_16(ip->fragment_offset);
		assert_int_equal(f->frag, RTE_IPV4_HDR_DF_FLAG);
		assert_int_equal(f->proto, IPPROTO_TCP);
		h = (const struct tcp_wire_hdr *)(ip + 1);
		assert_int_equal(rte_ipv4_udptcp_cksum_verify(ip, h), 0); /* TCP checksum */
		hlen = (unsigned)(h->doff >> 4) * 4;
		assert_true(hlen >= TCP_HDR_LEN && hlen <= tot - sizeof(*ip));
		f->sport = rte_be_to_cpu_16(h->sport);
		f->dport = rte_be_to_cpu_16(h->dport);
		f->seq = rte_be_to_cpu_32(h->seq);
		f->ack = rte_be_to_cpu_32(h->ack);
		f->flags = h->flags;
		f->win = rte_be_to_cpu_16(h->win);
		parse_tcp_opts(f, (const uint8_t *)(h + 1), hlen - TCP_HDR_LEN);
		f->len = tot - (unsigned)sizeof(*ip) - hlen;
		assert_true(f->len <= sizeof(f->data));
		memcpy(f->data, (const uint8_t *)h + hlen, f->len);
	}
	rte_pktmbuf_free(m);
	return true;
}

/* ---- the scripted kernel peer ---------------------------------------------------------------- */

struct kpeer {
	struct rte_ether_addr mac;
	rte_be32_t ip, zip;
	uint16_t port, zport; /**< host order */
	uint32_t snd_nxt;     /**< next sequence we send */
	uint32_t rcv_nxt;     /**< next sequence expected from zpath */
	uint32_t z_una;	      /**< highest ACK zpath sent us */
	uint32_t z_wnd;	      /**< zpath's window, bytes (scaled) */
	uint8_t z_ws;	      /**< zpath's window shift */
	uint32_t ts_recent;   /**< zpath's last TSval */
	uint16_t win;	      /**< raw window field we advertise (<< PEER_WS) */
	uint32_t acked;	      /**< the ACK field of our last segment */
	bool ts;	      /**< timestamps negotiated */
	bool got_fin;
	uint8_t *rx; /**< in-order bytes received from zpath */
	size_t rx_len, rx_cap;
	unsigned segs, acks_sent, dup_segs;
};

static struct kpeer P;

/* How peer_inject() delivers: with P_virtio set, as a virtio peer on the same host does
 * (VIRTIO_NET_HDR_F_NEEDS_CSUM): the TCP checksum field holds only the pseudo-header sum and
 * the mbuf carries RX flags @p P_rx_flags, the verdict of the device. */
static bool P_virtio;
static uint64_t P_rx_flags;

static uint32_t peer_tsval(void)
{
	return (uint32_t)(E->w->now_ns / MSEC) + 777000u;
}

static void peer_init(uint16_t port, uint16_t zport)
{
	free(P.rx);
	memset(&P, 0, sizeof(P));
	P.mac = zpt_peer_mac(2);
	P.ip = ZPT_IP(10, 0, 0, 2);
	P.zip = ZPT_IP(10, 0, 0, 1);
	P.port = port;
	P.zport = zport;
	P.snd_nxt = 0x7a000000u;
	P.win = 502; /* 502 << 7 = 64256 bytes, what Linux offers first */
	P.rx_cap = 1u << 20;
	P.rx = malloc(P.rx_cap);
	assert_non_null(P.rx);
}

/* Inject one TCP segment from the peer with explicit everything. */
static void peer_inject(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t win,
			const uint8_t *opts, unsigned optlen, const void *data, uint32_t len)
{
	static uint8_t l4[2048], frame[2200];
	struct tcp_wire_hdr *h = (struct tcp_wire_hdr *)l4;
	struct rte_ipv4_hdr *ip;
	unsigned hlen = TCP_HDR_LEN + optlen;
	size_t n;

	assert_true(optlen % 4 == 0 && hlen + len <= sizeof(l4));
	memset(h, 0, TCP_HDR_LEN);
	h->sport = rte_cpu_to_be_16(P.port);
	h->dport = rte_cpu_to_be_16(P.zport);
	h->seq = rte_cpu_to_be_32(seq);
	h->ack = rte_cpu_to_be_32(ack);
	h->doff = (uint8_t)((hlen / 4) << 4);
	h->flags = flags;
	h->win = rte_cpu_to_be_16(win);
	memcpy(l4 + TCP_HDR_LEN, opts, optlen);
	if (len > 0)
		memcpy(l4 + hlen, data, len);
	n = zpt_build_ipv4(frame, &E->stack.ifaces[0].mac, &P.mac, P.ip, P.zip, IPPROTO_TCP, l4,
			   hlen + len);
	ip = (struct rte_ipv4_hdr *)(frame + RTE_ETHER_HDR_LEN);
	h = (struct tcp_wire_hdr *)(ip + 1);
	if (P_virtio) {
		struct rte_mbuf *m;

		h->cksum = rte_ipv4_phdr_cksum(ip, 0);
		m = zpt_mbuf(E, frame, n);
		m->ol_flags = P_rx_flags;
		assert_int_equal(rte_ring_enqueue(E->rx[0], m), 0);
		return;
	}
	h->cksum = rte_ipv4_udptcp_cksum(ip, h);
	zpt_inject(E, 0, frame, n);
}

static unsigned put_ts(uint8_t *o)
{
	uint32_t v = rte_cpu_to_be_32(peer_tsval()), e = rte_cpu_to_be_32(P.ts_recent);

	o[0] = TCP_OPT_NOP;
	o[1] = TCP_OPT_NOP;
	o[2] = TCP_OPT_TS;
	o[3] = 10;
	memcpy(o + 4, &v, 4);
	memcpy(o + 8, &e, 4);
	return 12;
}

/* Linux's SYN options: MSS, SACK permitted, timestamps, NOP, window scale (20 bytes). */
static unsigned put_syn_opts(uint8_t *o, bool synack)
{
	uint32_t v = rte_cpu_to_be_32(peer_tsval()), e = rte_cpu_to_be_32(synack ? P.ts_recent : 0);

	o[0] = TCP_OPT_MSS;
	o[1] = 4;
	o[2] = PEER_MSS >> 8;
	o[3] = PEER_MSS & 0xff;
	o[4] = TCP_OPT_SACK_PERM;
	o[5] = 2;
	o[6] = TCP_OPT_TS;
	o[7] = 10;
	memcpy(o + 8, &v, 4);
	memcpy(o + 12, &e, 4);
	o[16] = TCP_OPT_NOP;
	o[17] = TCP_OPT_WSCALE;
	o[18] = 3;
	o[19] = PEER_WS;
	return 20;
}

/* A segment at P.snd_nxt acknowledging P.rcv_nxt (with TS when negotiated). */
static void peer_send(uint8_t flags, const void *data, uint32_t len)
{
	uint8_t o[12];
	unsigned n = P.ts ? put_ts(o) : 0;

	peer_inject(P.snd_nxt, (flags & F_ACK) ? P.rcv_nxt : 0, flags, P.win, o, n, data, len);
	P.snd_nxt += len + !!(flags & F_SYN) + !!(flags & F_FIN);
	if (flags & F_ACK) {
		P.acks_sent++;
		P.acked = P.rcv_nxt;
	}
}

/* What the peer learns from every TCP frame of zpath's: window, ACK, TS.Recent, data. */
static void peer_take(const struct kframe *f)
{
	assert_int_equal(f->type, RTE_ETHER_TYPE_IPV4);
	assert_true(rte_is_same_ether_addr(&f->dst, &P.mac));
	assert_int_equal(f->saddr, P.zip);
	assert_int_equal(f->daddr, P.ip);
	assert_int_equal(f->sport, P.zport);
	assert_int_equal(f->dport, P.port);
	P.segs++;
	if (P.ts && !(f->flags & F_RST)) {
		assert_true(f->has_ts); /* RFC 7323 §3.2: on every segment once negotiated */
		P.ts_recent = f->tsval;
	}
	if (f->flags & F_ACK) {
		if ((int32_t)(f->ack - P.z_una) >= 0)
			P.z_una = f->ack;
		P.z_wnd = (uint32_t)f->win << P.z_ws;
	}
	if (f->len > 0) {
		assert_true(f->len <= PEER_MSS - (P.ts ? 12 : 0)); /* never more than our MSS */
		if (f->seq == P.rcv_nxt) {
			assert_true(P.rx_len + f->len <= P.rx_cap);
			memcpy(P.rx + P.rx_len, f->data, f->len);
			P.rx_len += f->len;
			P.rcv_nxt += f->len;
		} else {
			P.dup_segs++;
		}
	}
	if ((f->flags & F_FIN) && f->seq + f->len == P.rcv_nxt) {
		P.rcv_nxt++;
		P.got_fin = true;
	}
}

/*
 * Run the worker once (through zp_epoll_wait() when @p epfd >= 0, else a bare loop pass),
 * then read everything zpath sent, ACK it like a quick receiver, and return the frames seen.
 */
static unsigned peer_pump(void)
{
	struct kframe f;
	unsigned n = 0;
	bool ack = false;

	zpt_poll(E);
	while (pop_frame(&f)) {
		n++;
		peer_take(&f);
		if (f.len > 0 || (f.flags & F_FIN))
			ack = true;
	}
	if (ack)
		peer_send(F_ACK, NULL, 0);
	return n;
}

/* Advance the virtual clock @p ms milliseconds, one loop pass per millisecond, pumping. */
static void advance_ms(unsigned ms)
{
	while (ms-- > 0) {
		E->w->now_ns += MSEC;
		peer_pump();
	}
}

/* Resolve each other: the peer asks who has zpath's address; zpath answers and learns. */
static void peer_arp(void)
{
	uint8_t frame[64];
	struct kframe f;
	size_t n = zpt_build_arp(frame, &BCAST, RTE_ARP_OP_REQUEST, &P.mac, P.ip, NULL, P.zip);

	zpt_inject(E, 0, frame, n);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.type, RTE_ETHER_TYPE_ARP);
	assert_int_equal(f.arp_op, RTE_ARP_OP_REPLY);
	assert_true(rte_is_same_ether_addr(&f.dst, &P.mac));
	assert_int_equal(f.arp_sip, P.zip);
	assert_int_equal(f.arp_tip, P.ip);
	assert_false(pop_frame(&f));
}

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 11) * 7u + 3u);
}

static void fill(uint8_t *b, size_t off, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = pattern(off + i);
}

/* Passive open on @p port (the peer on port + 45000, timestamps on): the handshake's ACK
 * carries @p req_len bytes of request (0: a bare ACK), which the application reads. Returns
 * the accepted descriptor; *lfd is the listener. */
static int peer_connect(uint16_t port, size_t req_len, int *lfd)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = rte_cpu_to_be_16(port)};
	uint8_t o[40], req[80], buf[256];
	struct kframe f;
	int l, fd;

	assert_true(req_len <= sizeof(req));
	peer_init((uint16_t)(port + 45000), port);
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	peer_arp();
	peer_inject(P.snd_nxt, 0, F_SYN, 64240, o, put_syn_opts(o, false), NULL, 0);
	P.snd_nxt++;
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq + 1;
	P.z_ws = f.ws;
	P.ts = true;
	P.ts_recent = f.tsval;
	fill(req, 1, req_len);
	peer_send(req_len > 0 ? F_ACK | F_PSH : F_ACK, req, (uint32_t)req_len);
	zpt_poll(E);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);
	if (req_len > 0)
		assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), (ssize_t)req_len);
	*lfd = l;
	return fd;
}

/* Passive open on @p port whose handshake's ACK carries an 80-byte request, read by the app. */
static int accept_with_request(uint16_t port, int *lfd)
{
	int fd = peer_connect(port, 80, lfd);

	P.segs = 0;
	return fd;
}

/* ---- set-up -------------------------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	E = zpt_env_new(1);
	assert_int_equal(dp_sock_worker_init(E->w), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	zpt_tx_drain(E);
	dp_sock_worker_fini(E->w);
	zpt_env_free(E);
	E = NULL;
	P_virtio = false;
	free(P.rx);
	P.rx = NULL;
	return 0;
}

/* The TCP state of zpath's connection to the peer (any block with that remote port). */
static int conn_state(void)
{
	struct dp_conn_view v[16];
	unsigned n = dp_conn_dump(E->w, v, 16), i;

	for (i = 0; i < n; i++)
		if (v[i].rport == rte_cpu_to_be_16(P.port) && v[i].raddr == P.ip)
			return v[i].state;
	return -1;
}

static int zpt_tcp_state_of(int fd)
{
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	return ti.state;
}

static int ep_wait(int ep, struct epoll_event *ev, int max)
{
	return zp_epoll_wait(ep, ev, max, 0);
}

/* Find @p fd's events among @p n reported ones (data.fd); 0 if absent. */
static uint32_t ev_of(const struct epoll_event *ev, int n, int fd)
{
	int i;

	for (i = 0; i < n; i++)
		if (ev[i].data.fd == fd)
			return ev[i].events;
	return 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

/*
 * Passive open by a Linux-like client, data both ways, zpath closes first: FIN_WAIT_1 →
 * FIN_WAIT_2 → TIME_WAIT (the peer's FIN retransmitted there is re-ACKed) → gone after 2*MSL.
 */
static void test_realpath_passive_open_data_both_ways_close_time_wait(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(7)};
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct epoll_event ev[8], e = {0};
	struct kframe f;
	uint8_t o[40], buf[8192], out[5000];
	uint32_t z_iss;
	int l, ep, fd, n;
	ssize_t r;

	(void)state;
	peer_init(45678, 7);
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(l >= 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 16), 0);
	ep = zp_epoll_create();
	assert_true(ep >= 0);
	e.events = EPOLLIN;
	e.data.fd = l;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, l, &e), 0);
	assert_int_equal(ep_wait(ep, ev, 8), 0);

	peer_arp();

	/* SYN with Linux's options. */
	peer_inject(P.snd_nxt, 0, F_SYN, 64240, o, put_syn_opts(o, false), NULL, 0);
	P.snd_nxt++;
	assert_int_equal(ep_wait(ep, ev, 8), 0); /* half-open: nothing to accept yet */
	assert_true(pop_frame(&f));
	assert_true(rte_is_same_ether_addr(&f.dst, &P.mac));
	assert_int_equal(f.flags, F_SYN | F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_true(f.has_mss);
	assert_int_equal(f.mss, E->stack.ifaces[0].mtu - 40);
	assert_true(f.has_ws);
	assert_true(f.ws >= 1 && f.ws <= 14);
	assert_true(f.has_ts);
	assert_int_equal(f.tsecr, peer_tsval()); /* echoes the SYN's TSval */
	assert_true(f.win > 0);
	assert_int_equal(f.len, 0);
	assert_false(pop_frame(&f));
	z_iss = f.seq;
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq + 1;
	P.z_ws = f.ws;
	P.ts = true;
	P.ts_recent = f.tsval;

	/* The handshake's ACK: the listener becomes readable, accept hands out the socket. */
	peer_send(F_ACK, NULL, 0);
	n = ep_wait(ep, ev, 8);
	assert_int_equal(n, 1);
	assert_int_equal(ev_of(ev, n, l), EPOLLIN);
	fd = zp_accept(l, (struct sockaddr *)&peer, &plen);
	assert_true(fd >= 0);
	assert_int_equal(peer.sin_addr.s_addr, P.ip);
	assert_int_equal(rte_be_to_cpu_16(peer.sin_port), P.port);
	assert_false(pop_frame(&f)); /* a pure ACK is not answered */
	e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	e.data.fd = fd;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
	n = ep_wait(ep, ev, 8);
	assert_int_equal(ev_of(ev, n, fd), EPOLLOUT);
	e.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e), 0);
	(void)ep_wait(ep, ev, 8);

	/* Peer → zpath: 3000 bytes in three segments; zpath reads them through epoll. */
	fill(out, 0, 3000);
	peer_send(F_ACK | F_PSH, out, 1448);
	peer_send(F_ACK | F_PSH, out + 1448, 1448);
	n = ep_wait(ep, ev, 8);
	assert_int_equal(ev_of(ev, n, fd), EPOLLIN);
	/* Two full segments: the second is acknowledged at once (RFC 5681 §4.2). */
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));
	peer_send(F_ACK | F_PSH, out + 2896, 104);
	(void)ep_wait(ep, ev, 8);
	r = zp_recv(fd, buf, sizeof(buf), 0);
	assert_int_equal(r, 3000);
	assert_memory_equal(buf, out, 3000);
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);
	/* The lone last segment's ACK is delayed, at most 40 ms here. */
	advance_ms(41);
	assert_int_equal(P.z_una, P.snd_nxt);

	/* zpath → peer: 5000 bytes; the peer ACKs what it gets (Nagle waits for the ACK). */
	fill(out, 100000, sizeof(out));
	assert_int_equal(zp_send(fd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	for (n = 0; n < 20 && P.rx_len < sizeof(out); n++)
		peer_pump();
	assert_int_equal(P.rx_len, sizeof(out));
	assert_memory_equal(P.rx, out, sizeof(out));
	assert_int_equal(P.dup_segs, 0);

	/* zpath closes first: FIN → FIN_WAIT_1; the ACK → FIN_WAIT_2. */
	assert_int_equal(zp_close(fd), 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_FIN | F_ACK);
	assert_int_equal(f.seq, z_iss + 1 + sizeof(out));
	peer_take(&f);
	assert_true(P.got_fin);
	assert_int_equal(conn_state(), ZP_TCP_FIN_WAIT_1);
	peer_send(F_ACK, NULL, 0);
	zpt_poll(E);
	assert_false(pop_frame(&f));
	assert_int_equal(conn_state(), ZP_TCP_FIN_WAIT_2);
	/* The peer's FIN → TIME_WAIT, ACKed. */
	peer_send(F_FIN | F_ACK, NULL, 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_int_equal(conn_state(), ZP_TCP_TIME_WAIT);
	/* The FIN again (our ACK lost): ACKed again, TIME_WAIT goes on. */
	E->w->now_ns += 1 * SEC;
	peer_inject(P.snd_nxt - 1, P.rcv_nxt, F_FIN | F_ACK, P.win, o, put_ts(o), NULL, 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_int_equal(conn_state(), ZP_TCP_TIME_WAIT);
	/* 2*MSL after the last FIN the connection is gone. */
	zpt_advance(E, 2ull * E->stack.tun.tcp_msl_ms * MSEC - 10 * MSEC);
	assert_int_equal(conn_state(), ZP_TCP_TIME_WAIT);
	zpt_advance(E, 20 * MSEC);
	assert_int_equal(conn_state(), -1);
	assert_false(pop_frame(&f));
	assert_int_equal(zp_close(l), 0);
	assert_int_equal(zp_close(ep), 0);
	assert_int_equal(tcp_conn_count(E->w), 0);
	assert_int_equal(zpt_drops_total(E), 0);
}

/*
 * Active open to a peer whose MAC is unknown: the SYN waits for ARP, goes out with the reply;
 * connect completes (EPOLLOUT, SO_ERROR 0); data both ways; the peer closes first:
 * CLOSE_WAIT (EPOLLIN|EPOLLRDHUP, recv 0), our close → LAST_ACK → deleted, no TIME_WAIT.
 */
static void test_realpath_active_open_waits_for_arp_then_passive_close(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event ev[4], e = {0};
	struct kframe f;
	uint8_t o[40], buf[4096], out[2000];
	uint8_t frame[64];
	size_t fl;
	int fd, ep, n, err;
	socklen_t el = sizeof(err);

	(void)state;
	peer_init(80, 0);
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	ep = zp_epoll_create();
	assert_true(fd >= 0 && ep >= 0);
	e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	e.data.fd = fd;
	sin.sin_addr.s_addr = P.ip;
	sin.sin_port = rte_cpu_to_be_16(P.port);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);

	/* First on the wire: a broadcast ARP request for the peer, not the SYN. */
	assert_int_equal(ep_wait(ep, ev, 4), 0);
	assert_true(pop_frame(&f));
	assert_int_equal(f.type, RTE_ETHER_TYPE_ARP);
	assert_int_equal(f.arp_op, RTE_ARP_OP_REQUEST);
	assert_true(rte_is_broadcast_ether_addr(&f.dst));
	assert_int_equal(f.arp_tip, P.ip);
	assert_int_equal(f.arp_sip, P.zip);
	assert_false(pop_frame(&f));
	advance_ms(100); /* no reply yet: nothing else is sent meanwhile */
	assert_int_equal(P.segs, 0);

	/* The reply releases the waiting SYN. */
	fl = zpt_build_arp(frame, &E->stack.ifaces[0].mac, RTE_ARP_OP_REPLY, &P.mac, P.ip,
			   &E->stack.ifaces[0].mac, P.zip);
	zpt_inject(E, 0, frame, fl);
	assert_int_equal(ep_wait(ep, ev, 4), 0);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_SYN);
	assert_true(rte_is_same_ether_addr(&f.dst, &P.mac));
	assert_true(f.has_mss);
	assert_int_equal(f.mss, E->stack.ifaces[0].mtu - 40);
	assert_true(f.has_ws);
	assert_true(f.has_ts);
	assert_int_equal(f.tsecr, 0);
	assert_int_equal(f.dport, P.port);
	assert_true(f.sport >= TCP_EPHEMERAL_LO && f.sport <= TCP_EPHEMERAL_HI);
	assert_false(pop_frame(&f));
	P.zport = f.sport;
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq;
	P.z_ws = f.ws;
	P.ts_recent = f.tsval;

	/* SYN,ACK with Linux's options: the connect completes; the ACK waits for the
	 * application's turn and, as it sends nothing, leaves at the end of the next pass. */
	peer_inject(P.snd_nxt, P.rcv_nxt, F_SYN | F_ACK, 65160, o, put_syn_opts(o, true), NULL, 0);
	P.snd_nxt++;
	P.ts = true;
	n = ep_wait(ep, ev, 4);
	assert_int_equal(ev_of(ev, n, fd), EPOLLOUT);
	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	assert_false(pop_frame(&f));
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_int_equal(f.tsecr, peer_tsval());
	assert_false(pop_frame(&f));
	{
		struct zp_tcp_info ti;
		socklen_t tl = sizeof(ti);

		assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &tl), 0);
		assert_int_equal(ti.state, ZP_TCP_ESTABLISHED);
		assert_int_equal(ti.snd_wscale, PEER_WS);
		assert_int_equal(ti.snd_mss, PEER_MSS - 12);
		assert_int_equal(ti.snd_wnd, 65160u); /* the SYN,ACK's window is never scaled */
		assert_int_equal(ti.options & 5, 5);  /* timestamps and window scaling */
	}

	/* zpath → peer, then peer → zpath. */
	fill(out, 7, sizeof(out));
	assert_int_equal(zp_send(fd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	for (n = 0; n < 10 && P.rx_len < sizeof(out); n++)
		peer_pump();
	assert_int_equal(P.rx_len, sizeof(out));
	assert_memory_equal(P.rx, out, sizeof(out));
	fill(out, 99, sizeof(out));
	peer_send(F_ACK | F_PSH, out, 1000);
	peer_send(F_ACK | F_PSH, out + 1000, 1000);
	n = ep_wait(ep, ev, 4);
	assert_true(ev_of(ev, n, fd) & EPOLLIN);
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), 2000);
	assert_memory_equal(buf, out, 2000);
	peer_pump();

	/* The peer closes first: EOF, readable with RDHUP but no HUP (POLL-1). The ACK of the
	 * FIN waits for the application's turn. */
	peer_send(F_FIN | F_ACK, NULL, 0);
	n = ep_wait(ep, ev, 4);
	assert_int_equal(ev_of(ev, n, fd), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
	assert_false(pop_frame(&f));
	assert_int_equal(conn_state(), ZP_TCP_CLOSE_WAIT);
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), 0);
	/* Our close: FIN → LAST_ACK, the FIN carries the ACK of the peer's; the peer's ACK
	 * deletes it (CL-3: no TIME_WAIT). */
	assert_int_equal(zp_close(fd), 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_FIN | F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));
	assert_int_equal(conn_state(), ZP_TCP_LAST_ACK);
	peer_send(F_ACK, NULL, 0);
	zpt_poll(E);
	assert_false(pop_frame(&f));
	assert_int_equal(conn_state(), -1);
	assert_int_equal(tcp_conn_count(E->w), 0);
	assert_int_equal(zp_close(ep), 0);
	assert_int_equal(zpt_drops_total(E), 0);
}

/*
 * Bulk both ways at the peer's window: 1 MiB zpath → peer in full-sized segments that never
 * overrun the peer's advertised (scaled) window, and 1 MiB peer → zpath that never overruns
 * zpath's advertised (scaled) window, with the reader draining through epoll.
 */
static void test_realpath_bulk_both_ways_respects_scaled_windows(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(5001)};
	const size_t total = 1u << 20;
	struct epoll_event e = {0};
	struct kframe f;
	uint8_t o[40], chunk[16384];
	uint8_t *got = malloc(total);
	size_t sent = 0, rcvd = 0, fed = 0;
	int l, fd, ep, i;

	(void)state;
	assert_non_null(got);
	peer_init(50001, 5001);
	P.win = 128; /* 128 << 7 = 16 KiB: the window, not cwnd, limits the sender */
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	peer_arp();
	peer_inject(P.snd_nxt, 0, F_SYN, 64240, o, put_syn_opts(o, false), NULL, 0);
	P.snd_nxt++;
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_SYN | F_ACK);
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq + 1;
	P.z_ws = f.ws;
	P.ts = true;
	P.ts_recent = f.tsval;
	peer_send(F_ACK, NULL, 0);
	zpt_poll(E);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);
	ep = zp_epoll_create();
	e.events = EPOLLIN | EPOLLOUT;
	e.data.fd = fd;
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);

	/* zpath → peer. */
	for (i = 0; i < 100000 && P.rx_len < total; i++) {
		if (sent < total) {
			size_t n = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
			ssize_t r;

			fill(chunk, sent, n);
			r = zp_send(fd, chunk, n, 0);
			if (r > 0)
				sent += (size_t)r;
			else
				assert_int_equal(errno, EAGAIN);
		}
		zpt_poll(E);
		while (pop_frame(&f)) {
			uint32_t right = P.acked + ((uint32_t)P.win << PEER_WS);

			/* Never beyond the window we advertised. */
			assert_true((int32_t)(f.seq + f.len - right) <= 0);
			peer_take(&f);
		}
		peer_send(F_ACK, NULL, 0);
		if (i % 16 == 0)
			E->w->now_ns += MSEC;
	}
	assert_int_equal(P.rx_len, total);
	for (i = 0; i < (int)total; i += 4093)
		assert_int_equal(P.rx[i], pattern((size_t)i));
	assert_int_equal(P.dup_segs, 0);

	/* peer → zpath: the peer fills zpath's window, zpath's reader drains it. */
	for (i = 0; i < 100000 && rcvd < total; i++) {
		uint32_t right = P.z_una + P.z_wnd;
		struct epoll_event x[4];
		int n;

		while (fed < total && (int32_t)(right - P.snd_nxt) >= 1448) {
			uint8_t seg[1448];
			size_t k = total - fed < sizeof(seg) ? total - fed : sizeof(seg);

			fill(seg, fed + 12345, k);
			peer_send(F_ACK, seg, (uint32_t)k);
			fed += k;
			if (fed % (1448 * 16) == 0)
				break; /* the RX ring holds 1024 frames; let the worker run */
		}
		n = zp_epoll_wait(ep, x, 4, 0);
		if (ev_of(x, n, fd) & EPOLLIN) {
			ssize_t r;

			while ((r = zp_recv(fd, got + rcvd, total - rcvd, 0)) > 0)
				rcvd += (size_t)r;
		}
		while (pop_frame(&f)) {
			assert_int_equal(f.len, 0);
			peer_take(&f);
		}
		if (i % 8 == 0)
			advance_ms(1);
	}
	assert_int_equal(rcvd, total);
	for (i = 0; i < (int)total; i++)
		if (got[i] != pattern((size_t)i + 12345))
			fail_msg("byte %d differs", i);
	free(got);
	zp_close(fd);
	zp_close(l);
	zp_close(ep);
	zpt_tx_drain(E);
	assert_int_equal(zpt_drops_total(E), 0);
}

/* NOP NOP SACK with @p n blocks [b[2i], b[2i+1]) after the TS option: the peer's ACK options. */
static unsigned put_ts_sack(uint8_t *o, const uint32_t *b, unsigned n)
{
	unsigned k = put_ts(o), i;

	o[k++] = TCP_OPT_NOP;
	o[k++] = TCP_OPT_NOP;
	o[k++] = TCP_OPT_SACK;
	o[k++] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < 2 * n; i++) {
		uint32_t v = rte_cpu_to_be_32(b[i]);

		memcpy(o + k, &v, 4);
		k += 4;
	}
	return k;
}

/*
 * Found by interop (ip_mtu drops, stalled bulk echo with losses both ways): a retransmission
 * carries the TS option and the SACK blocks of our own receive side; the data must shrink so
 * the frame still fits the MTU (RFC 6691). Here zpath holds out-of-order data from the peer
 * (one SACK block to report) when three SACK duplicate ACKs start its loss recovery.
 */
static void test_realpath_retransmission_with_sack_blocks_fits_mtu(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(5002)};
	struct kframe f;
	uint8_t o[40], out[10 * 1448], gap[500];
	uint32_t z_first, seg = 1448, b[2];
	unsigned i, n = 0, rexmits = 0;
	int l, fd;

	(void)state;
	peer_init(50002, 5002);
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	peer_arp();
	peer_inject(P.snd_nxt, 0, F_SYN, 64240, o, put_syn_opts(o, false), NULL, 0);
	P.snd_nxt++;
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_SYN | F_ACK);
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq + 1;
	P.z_ws = f.ws;
	P.ts = true;
	P.ts_recent = f.tsval;
	peer_send(F_ACK, NULL, 0);
	zpt_poll(E);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);

	/* Ten full segments leave at once (initial window); the first one is "lost". */
	fill(out, 0, sizeof(out));
	assert_int_equal(zp_send(fd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	zpt_poll(E);
	z_first = P.rcv_nxt;
	while (pop_frame(&f)) {
		assert_int_equal(f.len, seg);
		n++;
	}
	assert_int_equal(n, 10);

	/* The peer's data with a 100-byte hole: zpath queues it out of order (a block to
	 * report) and ACKs at once. */
	fill(gap, 0, sizeof(gap));
	peer_inject(P.snd_nxt + 100, z_first, F_ACK, P.win, o, put_ts(o), gap, sizeof(gap));
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.len, 0);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_int_equal(f.nsack, 1);
	assert_int_equal(f.sack[0][0], P.snd_nxt + 100);
	assert_int_equal(f.sack[0][1], P.snd_nxt + 100 + sizeof(gap));
	assert_false(pop_frame(&f));
	/* Three duplicate ACKs SACKing segments 2.., 2..3, 2..4: loss recovery resends the
	 * first segment, with the TS option and our SACK block in its header. */
	b[0] = z_first + seg;
	for (i = 1; i <= 3; i++) {
		b[1] = z_first + (1 + i) * seg;
		peer_inject(P.snd_nxt, z_first, F_ACK, P.win, o, put_ts_sack(o, b, 1), NULL, 0);
	}
	zpt_poll(E);
	while (pop_frame(&f)) /* pop_frame() asserts IP total length <= MTU */
		if (f.len > 0 && f.seq == z_first)
			rexmits++;
	assert_int_equal(E->w->drops[DP_DROP_IP_MTU], 0);
	assert_int_equal(rexmits, 1);
	zp_close(fd);
	zp_close(l);
	zpt_tx_drain(E);
}

/*
 * ARP and TCP timers together: the peer does not answer ARP at first, so the resolution gives
 * up (arp_retries requests, arp_retry_ms apart) and drops the SYN and its first retransmission
 * (counted arp_unresolved); the next SYN retransmission starts a new resolution, the peer
 * answers it, the SYN waiting for it goes out and the connection completes.
 */
static void test_realpath_connect_survives_failed_arp_resolution(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct kframe f;
	uint8_t o[40], frame[64];
	unsigned arp_req = 0, syns = 0, ms;
	int fd, err;
	socklen_t el = sizeof(err);
	size_t fl;

	(void)state;
	peer_init(80, 0);
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	sin.sin_addr.s_addr = P.ip;
	sin.sin_port = rte_cpu_to_be_16(P.port);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	/* 4 s of silence: ARP requests only, never a SYN on the wire. */
	for (ms = 0; ms < 4000; ms++) {
		zpt_advance(E, MSEC);
		while (pop_frame(&f)) {
			assert_int_equal(f.type, RTE_ETHER_TYPE_ARP);
			arp_req++;
		}
	}
	/* The first resolution gave up at 3 s with the SYN and its 1 s retransmission; the 3 s
	 * retransmission started a second one. */
	assert_true(arp_req > E->stack.tun.arp_retries);
	assert_int_equal(E->w->drops[DP_DROP_ARP_UNRESOLVED], 2);
	assert_int_equal(zpt_tcp_state_of(fd), ZP_TCP_SYN_SENT);
	/* The peer answers the next request; the following SYN retransmission goes out. */
	for (ms = 0; ms < 10000 && syns == 0; ms++) {
		zpt_advance(E, MSEC);
		while (pop_frame(&f)) {
			if (f.type == RTE_ETHER_TYPE_ARP) {
				fl = zpt_build_arp(frame, &E->stack.ifaces[0].mac, RTE_ARP_OP_REPLY,
						   &P.mac, P.ip, &E->stack.ifaces[0].mac, P.zip);
				zpt_inject(E, 0, frame, fl);
				continue;
			}
			assert_int_equal(f.flags, F_SYN);
			syns++;
			P.zport = f.sport;
			P.rcv_nxt = f.seq + 1;
			P.ts_recent = f.tsval;
		}
	}
	assert_int_equal(syns, 1);
	peer_inject(P.snd_nxt, P.rcv_nxt, F_SYN | F_ACK, 65160, o, put_syn_opts(o, true), NULL, 0);
	P.snd_nxt++;
	zpt_poll(E);
	assert_false(pop_frame(&f)); /* the ACK waits one pass for the application */
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(zpt_tcp_state_of(fd), ZP_TCP_ESTABLISHED);
	assert_int_equal(zp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el), 0);
	assert_int_equal(err, 0);
	zp_close(fd);
	zpt_tx_drain(E);
}

/* ---- connect() among many connections (zpt_tcp harness: segments at the engine's seam) ---- */

static struct zpt_tcp *TT;

static int setup_tcp(void **state)
{
	(void)state;
	TT = zpt_tcp_new();
	return 0;
}

static int teardown_tcp(void **state)
{
	(void)state;
	zpt_tcp_free(TT);
	TT = NULL;
	return 0;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

/*
 * Found by interop (zpath <-> zpath over memif, 770 connections/s, a third of the client's
 * CPU in port_in_use()): choosing an ephemeral port walked every connection block of the
 * worker for each candidate port, so with the tens of thousands of TIME_WAIT blocks a busy
 * server or client holds, every connect() cost milliseconds. It must not depend on how many
 * connections the worker holds.
 */
static void test_connect_port_choice_does_not_walk_every_connection(void **state)
{
	const unsigned n_tw = 20000, n_conn = 2000;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(80)};
	struct zpt_seg sg;
	uint64_t t0, cpu;
	unsigned i;
	int l, fd;
	static int fds[2000];

	(void)state;
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 64), 0);
	TT->lport = 80;
	/* n_tw connections to our listener, each closed by us first: TIME_WAIT. */
	for (i = 0; i < n_tw; i++) {
		TT->pport = (uint16_t)(10000 + i);
		zpt_tcp_inject(TT, 1000, 0, TCP_FLAG_SYN, NULL, 0);
		assert_true(zpt_tcp_pop(TT, &sg));
		zpt_tcp_inject(TT, 1001, sg.seq + 1, TCP_FLAG_ACK, NULL, 0);
		fd = zp_accept(l, NULL, NULL);
		assert_true(fd >= 0);
		assert_int_equal(zp_close(fd), 0);
		zpt_tcp_inject(TT, 1001, sg.seq + 2, TCP_FLAG_FIN | TCP_FLAG_ACK, NULL, 0);
		zpt_tcp_drain(TT);
	}
	assert_int_equal(zpt_tcp_conns(TT), n_tw + 1);
	/* Now connect() n_conn times (the SYNs are simply not answered). */
	sin.sin_addr.s_addr = TT->peer;
	t0 = thread_cpu_ns();
	for (i = 0; i < n_conn; i++) {
		fds[i] = zp_socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fds[i] >= 0);
		sin.sin_port = rte_cpu_to_be_16((uint16_t)(7000 + i % 4));
		assert_int_equal(zp_connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)), -1);
		assert_int_equal(errno, EINPROGRESS);
		zpt_tcp_drain(TT);
	}
	cpu = thread_cpu_ns() - t0;
	print_message("%u connect() with %u TIME_WAIT blocks: %.1f ms CPU\n", n_conn, n_tw,
		      (double)cpu / 1e6);
	assert_true(cpu < 60 * MSEC); /* ~3 ms when O(1); ~300 ms when it walks the list */
	for (i = 0; i < n_conn; i++)
		assert_int_equal(zp_close(fds[i]), 0);
	zp_close(l);
}

/* ---- windows between two zpath stacks (found zpath <-> zpath over memif, 100 connections
 * echoing 4 MiB each: both stalled with full receive queues and an ACK storm) ------------- */

/*
 * The peer's window is anchored at the ACK that carried it (RFC 9293: SND.WL2 + SND.WND). A
 * retransmitted segment (an older SEG.SEQ, so it may not update the window) that acknowledges
 * new data must not slide the right edge along with SND.UNA: here the peer closed its window
 * on that very segment, and nothing more may be sent (Linux tcp_may_update_window takes the
 * window of any ACK that advances SND.UNA).
 */
static void test_window_edge_does_not_slide_with_an_old_segment_acking_new_data(void **state)
{
	static uint8_t out[8000], in[100];
	struct zpt_seg sg;
	uint32_t una, sent = 0;
	int fd;

	(void)state;
	fd = zpt_tcp_client(TT);
	una = TT->our_iss + 1;
	/* Segment A [1001, 1101) is lost; B [1101, 1201) arrives with a window of 8 segments
	 * (the peer sent no MSS option: 536 bytes). */
	memset(in, 'b', sizeof(in));
	zpt_tcp_inject_full(TT, TT->peer_nxt + 100, una, TCP_FLAG_ACK, 8 * 536, NULL, 0, in, 100);
	zpt_tcp_drain(TT); /* the duplicate ACK for the hole */
	assert_int_equal(zp_send(fd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	while (zpt_tcp_pop(TT, &sg))
		sent += sg.len;
	assert_int_equal(sent, 8 * 536);
	/* A is retransmitted, acknowledges all of it and closes the window. */
	zpt_tcp_inject_full(TT, TT->peer_nxt, una + 8 * 536, TCP_FLAG_ACK, 0, NULL, 0, in, 100);
	while (zpt_tcp_pop(TT, &sg)) {
		assert_int_equal(sg.len, 0); /* only the ACK of A and B */
		assert_int_equal(sg.ack, TT->peer_nxt + 200);
	}
	zp_close(fd);
}

/*
 * After a zero-window probe SND.NXT lies one byte past the peer's window; an ACK we send then
 * must still carry a sequence number the peer accepts (Linux tcp_acceptable_seq: SND.NXT if
 * inside the window, else its right edge), or a zero-window peer drops it with the
 * acknowledgement it carries.
 */
static void test_pure_ack_sequence_stays_inside_the_peers_window(void **state)
{
	uint8_t in[100];
	struct zpt_seg sg;
	uint32_t una;
	int fd;

	(void)state;
	TT->peer_win = 0;
	fd = zpt_tcp_client(TT);
	una = TT->our_iss + 1;
	assert_int_equal(zp_send(fd, "abc", 3, 0), 3);
	zpt_tcp_advance(TT, 2 * SEC);
	assert_true(zpt_tcp_pop(TT, &sg)); /* the probe: one byte past the window */
	assert_int_equal(sg.len, 1);
	assert_int_equal(sg.seq, una);
	zpt_tcp_drain(TT);
	/* The peer sends data, its window still closed: our ACK must sit at its right edge. */
	memset(in, 'x', sizeof(in));
	zpt_tcp_peer_send(TT, una, in, sizeof(in));
	assert_true(zpt_tcp_pop(TT, &sg));
	assert_int_equal(sg.len, 0);
	assert_int_equal(sg.ack, TT->peer_nxt);
	assert_int_equal(sg.seq, una); /* not una + 1 */
	zp_close(fd);
}

/*
 * RFC 9293 §3.10.7.4: with a zero receive window no data is acceptable, "but special
 * allowance should be made to accept valid ACKs": a zero-window probe at RCV.NXT still
 * acknowledges our data (Linux accepts SEG.SEQ = RCV.NXT + RCV.WND); its byte is dropped and
 * answered with an ACK of the closed window.
 */
static void test_zero_window_still_takes_the_ack_of_a_probe(void **state)
{
	uint8_t in[1024];
	struct zp_tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct tcp_conn *c;
	struct zpt_seg sg;
	uint32_t una;
	int fd;

	(void)state;
	fd = zpt_tcp_client(TT);
	una = TT->our_iss + 1;
	c = TAILQ_FIRST(&tcp__engine(TT->w)->conns);
	c->rcvbuf = 1024; /* the peer fills our window with 1024 bytes nobody reads */
	c->rcv_adv = c->rcv_nxt + 1024;
	memset(in, 'y', sizeof(in));
	zpt_tcp_peer_send(TT, una, in, sizeof(in));
	assert_true(zpt_tcp_pop(TT, &sg));
	assert_int_equal(sg.win, 0);
	assert_int_equal(zp_send(fd, "hello", 5, 0), 5);
	assert_true(zpt_tcp_pop(TT, &sg));
	assert_int_equal(sg.len, 5);
	/* The peer probes our closed window and acknowledges "hello" on the probe. */
	zpt_tcp_inject(TT, TT->peer_nxt, una + 5, TCP_FLAG_ACK, "z", 1);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &tl), 0);
	assert_int_equal(ti.unacked, 0);
	assert_int_equal(ti.rcv_queue, 1024); /* the probe byte was not taken */
	assert_true(zpt_tcp_pop(TT, &sg));
	assert_int_equal(sg.ack, TT->peer_nxt);
	assert_int_equal(sg.win, 0);
	zp_close(fd);
}

/*
 * Two stacks that each find the other's pure ACKs unacceptable answer each other forever (an
 * ACK war, ~1 M segments/s each way over memif). As Linux (tcp_oow_rate_limited) does, an
 * unacceptable segment without data is answered only within a small per-connection budget;
 * one with data is always answered.
 */
static void test_unacceptable_pure_acks_are_answered_within_a_budget(void **state)
{
	unsigned i, acks;
	int fd;

	(void)state;
	fd = zpt_tcp_client(TT);
	zpt_tcp_drain(TT);
	for (i = 0; i < 1000; i++) /* far beyond our window */
		zpt_tcp_inject(TT, TT->peer_nxt + 10000000u, TT->our_iss + 1, TCP_FLAG_ACK, NULL,
			       0);
	acks = zpt_tcp_drain(TT);
	assert_true(acks >= 1 && acks <= 10);
	zpt_tcp_inject(TT, TT->peer_nxt + 10000000u, TT->our_iss + 1, TCP_FLAG_ACK, "d", 1);
	assert_int_equal(zpt_tcp_drain(TT), 1);
	zp_close(fd);
}

/*
 * A pure ACK whose SEG.SEQ is the right edge of our window (what Linux sends after probing
 * us: tcp_acceptable_seq) is acceptable, as Linux's tcp_sequence() takes it: dropping it
 * would drop the acknowledgement it carries.
 */
static void test_ack_at_the_right_edge_of_our_window_is_taken(void **state)
{
	struct zp_tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct zpt_seg sg;
	uint32_t una;
	int fd;

	(void)state;
	fd = zpt_tcp_client(TT);
	una = TT->our_iss + 1;
	assert_int_equal(zp_send(fd, "hello", 5, 0), 5);
	assert_true(zpt_tcp_pop(TT, &sg));
	assert_int_equal(sg.len, 5);
	/* No window scaling here: the field is the window. */
	zpt_tcp_inject(TT, TT->peer_nxt + sg.win, una + 5, TCP_FLAG_ACK, NULL, 0);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &tl), 0);
	assert_int_equal(ti.unacked, 0);
	zp_close(fd);
}

/*
 * A retransmission is not held back by Nagle or sender SWS avoidance (BSD tcp_output sends
 * whenever SND.NXT < SND.MAX): after a timeout into a window now smaller than one segment,
 * the first bytes go out again; holding them would wait for a window that only opens once
 * those very bytes are acknowledged.
 */
static void test_retransmission_into_a_small_window_is_not_held_back(void **state)
{
	static uint8_t out[4 * 536];
	struct zpt_seg sg;
	uint32_t una, got = 0;
	unsigned n = 0;
	int fd;

	(void)state;
	fd = zpt_tcp_client(TT);
	una = TT->our_iss + 1;
	assert_int_equal(zp_send(fd, out, sizeof(out), 0), (ssize_t)sizeof(out));
	while (zpt_tcp_pop(TT, &sg))
		n++;
	assert_int_equal(n, 4);
	/* Nothing is acknowledged and the peer's window is now 300 bytes. */
	zpt_tcp_inject_full(TT, TT->peer_nxt, una, TCP_FLAG_ACK, 300, NULL, 0, NULL, 0);
	zpt_tcp_drain(TT);
	zpt_tcp_advance(TT, 3 * SEC);
	while (zpt_tcp_pop(TT, &sg))
		if (sg.seq == una && sg.len > 0)
			got = sg.len;
	assert_int_equal(got, 300);
	zp_close(fd);
}

/*
 * Found zpath <-> zpath over memif with 400 echo connections: the receive queues of readers
 * that fell behind took every mbuf of the server's pool, so it could no longer receive the
 * ACKs that would have let them catch up (nor send): both sides stalled for good. Payload is
 * no longer queued while the pool is low (counted rcv_pool_low; the peer resends it), and
 * the acknowledgement such a segment carries still counts.
 */
static void test_low_mbuf_pool_drops_payload_but_takes_the_ack(void **state)
{
	static struct rte_mbuf *held[4096];
	struct rte_mempool *mp = TT->w->pool;
	struct zp_tcp_info ti;
	socklen_t tl = sizeof(ti);
	struct zpt_seg sg;
	unsigned n = 0, i;
	uint32_t una;
	uint8_t in[100], buf[200];
	int fd;

	(void)state;
	fd = zpt_tcp_client(TT);
	una = TT->our_iss + 1;
	assert_int_equal(zp_send(fd, "hello", 5, 0), 5);
	zpt_tcp_drain(TT);
	/* Something else holds all but a sixth of the pool. */
	while (rte_mempool_avail_count(mp) > mp->size / 6)
		held[n++] = rte_pktmbuf_alloc(mp);
	/* The engine looks at the pool once every 32 segments: pass enough pure ACKs. */
	for (i = 0; i < 32; i++)
		zpt_tcp_inject(TT, TT->peer_nxt, una, TCP_FLAG_ACK, NULL, 0);
	memset(in, 'p', sizeof(in));
	zpt_tcp_inject(TT, TT->peer_nxt, una + 5, TCP_FLAG_ACK | TCP_FLAG_PSH, in, sizeof(in));
	assert_int_equal(zpt_tcp_drop(TT, "rcv_pool_low"), 1);
	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &tl), 0);
	assert_int_equal(ti.unacked, 0); /* the ACK of "hello" counted */
	assert_int_equal(ti.rcv_queue, 0);
	assert_true(zpt_tcp_pop(TT, &sg)); /* a duplicate ACK asks for the bytes again */
	assert_int_equal(sg.ack, TT->peer_nxt);
	zpt_tcp_drain(TT);
	for (i = 0; i < n; i++)
		rte_pktmbuf_free(held[i]);
	for (i = 0; i < 32; i++)
		zpt_tcp_inject(TT, TT->peer_nxt, una + 5, TCP_FLAG_ACK, NULL, 0);
	zpt_tcp_peer_send(TT, una + 5, in, sizeof(in)); /* the peer resends */
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(in));
	zpt_tcp_drain(TT);
	zp_close(fd);
}

/*
 * TX backpressure (helper perf): with the port's TX ring full, TCP holds its data segments
 * back (counted tx_blocked) instead of building segments that dp_tx_enqueue() would drop
 * (TX_FULL) and the connection would have to retransmit, and puts its tail loss probe off
 * (tlp_deferred); once the ring drains, the data goes out in order on the next loop passes,
 * with no loss, no duplicate and no retransmission.
 */
static void test_realpath_full_tx_ring_holds_data_back_then_sends_it(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(5002)};
	const size_t warm = 64u << 10, total = warm + (96u << 10);
	struct tcp_engine *te = tcp__engine(E->w);
	struct tcp_conn *c;
	struct rte_mbuf *m;
	struct kframe f;
	uint8_t o[40], chunk[16384];
	size_t sent = 0;
	unsigned nfill = 0, i;
	int l, fd;

	(void)state;
	peer_init(50002, 5002);
	P.win = 1024; /* 128 KiB: neither the window nor the socket buffer stops the burst */
	l = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	peer_arp();
	peer_inject(P.snd_nxt, 0, F_SYN, 64240, o, put_syn_opts(o, false), NULL, 0);
	P.snd_nxt++;
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_SYN | F_ACK);
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq + 1;
	P.z_ws = f.ws;
	P.ts = true;
	P.ts_recent = f.tsval;
	peer_send(F_ACK, NULL, 0);
	zpt_poll(E);
	fd = zp_accept(l, NULL, NULL);
	assert_true(fd >= 0);

	/* Some traffic first, then a congestion window well beyond one TX burst (as after a
	 * longer slow start; the scripted peer ACKs once per pump, which grows cwnd slowly). */
	for (i = 0; i < 100000 && P.rx_len < warm; i++) {
		if (sent < warm) {
			size_t n = warm - sent < sizeof(chunk) ? warm - sent : sizeof(chunk);
			ssize_t r;

			fill(chunk, sent, n);
			r = zp_send(fd, chunk, n, 0);
			if (r > 0)
				sent += (size_t)r;
		}
		peer_pump();
		if (i % 16 == 0)
			E->w->now_ns += MSEC;
	}
	assert_int_equal(P.rx_len, warm);
	peer_pump();
	TAILQ_FOREACH(c, &te->conns, link)
		if (c->state == TCPS_ESTABLISHED)
			c->cwnd = 200u * 1448u;

	/* The NIC stops taking frames: its TX ring is full. */
	while (rte_ring_free_count(E->tx[0]) > 0) {
		assert_int_equal(rte_ring_enqueue(E->tx[0], zpt_mbuf(E, "x", 1)), 0);
		nfill++;
	}
	while (sent < total) {
		size_t n = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
		ssize_t r;

		fill(chunk, sent, n);
		r = zp_send(fd, chunk, n, 0);
		if (r <= 0)
			break;
		sent += (size_t)r;
	}
	assert_true(sent - warm > 32u * 1448u); /* more than the worker's TX buffer holds */
	for (i = 0; i < 4; i++)
		zpt_poll(E);
	assert_int_equal(E->w->drops[DP_DROP_TX_FULL], 0);
	assert_int_equal(E->w->tx[0].n, DP_TX_BURST); /* full, and kept */
	assert_true(te->stats[TCP_STAT_TX_BLOCKED] > 0);

	/* No ACK comes while our own frames wait on this host: when the tail loss probe is due
	 * it is put off, not sent into the full buffer to be dropped (and counted a
	 * retransmission) as it was (zpath-bench bulk over vhost with virtio-user's 256-entry
	 * ring: tlp_sent = drop.tx_full). The clock goes to the probe's deadline, not beyond. */
	TAILQ_FOREACH(c, &te->conns, link)
		if (c->state == TCPS_ESTABLISHED)
			break;
	assert_non_null(c);
	assert_true(dp_timer_armed(&c->t_rack) && c->sack.rack.timer_pto);
	while (E->w->now_ns < c->t_rack.expire_ns) {
		E->w->now_ns = RTE_MIN(E->w->now_ns + MSEC, c->t_rack.expire_ns);
		zpt_poll(E);
	}
	assert_int_equal(E->w->drops[DP_DROP_TX_FULL], 0);
	assert_int_equal(te->stats[TCP_STAT_TLP_SENT], 0);
	assert_int_equal(te->stats[TCP_STAT_TLP_DEFERRED], 1);

	/* The ring drains: everything goes out, in order, nothing twice. */
	for (i = 0; i < nfill; i++) {
		m = zpt_tx_pop(E, 0);
		assert_non_null(m);
		assert_int_equal(rte_pktmbuf_pkt_len(m), 1);
		rte_pktmbuf_free(m);
	}
	for (i = 0; i < 100000 && P.rx_len < sent; i++) {
		if (sent < total) {
			size_t n = total - sent < sizeof(chunk) ? total - sent : sizeof(chunk);
			ssize_t r;

			fill(chunk, sent, n);
			r = zp_send(fd, chunk, n, 0);
			if (r > 0)
				sent += (size_t)r;
		}
		peer_pump();
	}
	assert_int_equal(P.rx_len, total);
	for (i = 0; i < total; i += 997)
		assert_int_equal(P.rx[i], pattern((size_t)i));
	assert_int_equal(P.dup_segs, 0);
	assert_int_equal(te->stats[TCP_STAT_RETRANS], 0);
	assert_int_equal(te->stats[TCP_STAT_RTO_EXPIRED], 0);
	zp_close(fd);
	zp_close(l);
	zpt_tx_drain(E);
	assert_int_equal(zpt_drops_total(E), 0);
}

/*
 * ACK batching (helper perf): in-order full segments that arrive in one RX burst are
 * acknowledged once, at the end of the loop pass, instead of every second segment; after 16
 * unacknowledged segments the every-second-segment rule applies again.
 */
static unsigned burst_acks(unsigned nseg, uint32_t *last_ack)
{
	static uint8_t seg[1448];
	struct kframe f;
	unsigned i, acks = 0;

	memset(seg, 'b', sizeof(seg));
	for (i = 0; i < nseg; i++)
		peer_send(F_ACK, seg, sizeof(seg)); /* all on the RX ring: one burst */
	zpt_poll(E);
	while (pop_frame(&f)) {
		peer_take(&f);
		assert_int_equal(f.len, 0);
		if (f.flags & F_ACK) {
			acks++;
			*last_ack = f.ack;
		}
	}
	return acks;
}

static void test_realpath_one_ack_per_rx_burst_of_in_order_data(void **state)
{
	uint8_t buf[65536];
	struct kframe f;
	uint32_t ack = 0;
	int l, fd;

	(void)state;
	fd = peer_connect(5003, 0, &l);
	assert_true(P.z_wnd >= 24u * 1448u);

	/* 8 segments in one burst: one ACK, for all of them (not 4). */
	assert_int_equal(burst_acks(8, &ack), 1);
	assert_int_equal(ack, P.snd_nxt);
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), 8 * 1448);
	zpt_poll(E);
	while (pop_frame(&f)) /* a window update, maybe */
		peer_take(&f);

	/* 24 in one burst: the 17th is acknowledged at once, the rest at the burst's end. */
	assert_int_equal(burst_acks(24, &ack), 2);
	assert_int_equal(ack, P.snd_nxt);
	assert_int_equal(tcp__engine(E->w)->stats[TCP_STAT_DELAYED_ACKS], 0);
	zp_close(fd);
	zp_close(l);
	zpt_tx_drain(E);
	assert_int_equal(zpt_drops_total(E), 0);
}

/*
 * Found by zpath-bench crr over memif (helper perf): connect() chose a random port each time,
 * so now and then a new connection took the 4-tuple of one closed an instant before, which
 * the server still held in TIME_WAIT; in the same timestamp tick and with an ISN not past the
 * old sequence numbers, the server drops that SYN (RFC 6191) and the connection waits 1 s for
 * its SYN retransmission. Ports towards one destination now go round the range (RFC 6056
 * Algorithm 3): no port comes back before all the others were used.
 */
static void test_connect_does_not_reuse_a_port_before_the_range_went_round(void **state)
{
	static uint8_t seen[65536];
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = RTE_BE16(7)};
	struct zpt_seg sg;
	unsigned i;
	int fd;

	(void)state;
	memset(seen, 0, sizeof(seen));
	sin.sin_addr.s_addr = TT->peer;
	for (i = 0; i < 3000; i++) {
		fd = zp_socket(AF_INET, SOCK_STREAM, 0);
		assert_true(fd >= 0);
		assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
		assert_true(zpt_tcp_pop(TT, &sg));
		assert_int_equal(sg.flags, TCP_FLAG_SYN);
		assert_true(sg.sport >= TCP_EPHEMERAL_LO && sg.sport <= TCP_EPHEMERAL_HI);
		if (seen[sg.sport])
			fail_msg("connect %u reused port %u", i, sg.sport);
		seen[sg.sport] = 1;
		assert_int_equal(zp_close(fd), 0); /* SYN_SENT: the block goes at once */
		zpt_tcp_drain(TT);
	}
	assert_int_equal(zpt_tcp_conns(TT), 0);
}

/*
 * A connect-request-response-close exchange (zpath-bench crr, helper perf): the ACK of the
 * SYN,ACK rides on the request the application sends on its next turn, and the ACK of the
 * peer's FIN on our FIN when the application closes at EOF: three segments from zpath (SYN,
 * request, FIN) instead of five (SYN, ACK, request, ACK, FIN).
 */
static void test_realpath_crr_acks_ride_on_the_request_and_the_fin(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct epoll_event ev[4], e = {0};
	struct kframe f;
	uint8_t o[40], buf[256], req[64], resp[100];
	int fd, ep, n;

	(void)state;
	peer_init(81, 0);
	peer_arp();
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	ep = zp_epoll_create();
	assert_true(fd >= 0 && ep >= 0);
	e.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	e.data.fd = fd;
	sin.sin_addr.s_addr = P.ip;
	sin.sin_port = rte_cpu_to_be_16(P.port);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_int_equal(zp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e), 0);
	assert_int_equal(ep_wait(ep, ev, 4), 0);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_SYN);
	assert_false(pop_frame(&f));
	P.zport = f.sport;
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq;
	P.z_ws = f.ws;
	P.ts_recent = f.tsval;

	/* SYN,ACK: connected; nothing on the wire before the application's turn. */
	peer_inject(P.snd_nxt, P.rcv_nxt, F_SYN | F_ACK, 65160, o, put_syn_opts(o, true), NULL, 0);
	P.snd_nxt++;
	P.ts = true;
	n = ep_wait(ep, ev, 4);
	assert_int_equal(ev_of(ev, n, fd), EPOLLOUT);
	assert_false(pop_frame(&f));
	/* The request carries the ACK; no pure ACK before or after it. */
	fill(req, 3, sizeof(req));
	assert_int_equal(zp_send(fd, req, sizeof(req), 0), (ssize_t)sizeof(req));
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags & (F_ACK | F_SYN | F_FIN), F_ACK);
	assert_int_equal(f.len, sizeof(req));
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));
	zpt_poll(E);
	assert_false(pop_frame(&f));

	/* Response and FIN: EOF; the close's FIN carries the ACK of both. */
	fill(resp, 5, sizeof(resp));
	peer_send(F_ACK | F_PSH | F_FIN, resp, sizeof(resp));
	n = ep_wait(ep, ev, 4);
	assert_true(ev_of(ev, n, fd) & EPOLLIN);
	assert_false(pop_frame(&f));
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(resp));
	assert_memory_equal(buf, resp, sizeof(resp));
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), 0);
	assert_int_equal(zp_close(fd), 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags & (F_ACK | F_SYN | F_FIN | F_RST), F_FIN | F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));
	assert_int_equal(P.segs, 2); /* after the SYN: the request and the FIN, nothing else */
	peer_send(F_ACK, NULL, 0);
	zpt_poll(E);
	assert_false(pop_frame(&f));
	assert_int_equal(conn_state(), -1);
	assert_int_equal(tcp__engine(E->w)->stats[TCP_STAT_DELAYED_ACKS], 0);
	assert_int_equal(zp_close(ep), 0);
	assert_int_equal(zpt_drops_total(E), 0);
}

/*
 * A peer that is answered late: when the application does not send after connect() nor close
 * at EOF, the ACK leaves at the end of the following loop pass, not with the delayed-ACK timer.
 */
static void test_realpath_ack_after_app_turn_leaves_one_pass_later(void **state)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct kframe f;
	uint8_t o[40];
	int fd;

	(void)state;
	peer_init(82, 0);
	peer_arp();
	fd = zp_socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	sin.sin_addr.s_addr = P.ip;
	sin.sin_port = rte_cpu_to_be_16(P.port);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	assert_int_equal(f.flags, F_SYN);
	P.zport = f.sport;
	P.rcv_nxt = f.seq + 1;
	P.z_una = f.seq;
	P.z_ws = f.ws;
	P.ts_recent = f.tsval;
	peer_inject(P.snd_nxt, P.rcv_nxt, F_SYN | F_ACK, 65160, o, put_syn_opts(o, true), NULL, 0);
	P.snd_nxt++;
	P.ts = true;
	zpt_poll(E);
	assert_false(pop_frame(&f));
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));

	peer_send(F_ACK | F_FIN, NULL, 0);
	zpt_poll(E);
	assert_false(pop_frame(&f));
	assert_int_equal(conn_state(), ZP_TCP_CLOSE_WAIT);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));
	assert_int_equal(tcp__engine(E->w)->stats[TCP_STAT_DELAYED_ACKS], 0);
	zp_close(fd);
	zpt_tx_drain(E);
}

/* An abortive close right after a send: the data still leaves first, then the RST. */
static void test_realpath_send_then_linger0_close_sends_data_then_rst(void **state)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	uint8_t resp[64];
	struct kframe f;
	int l, fd;

	(void)state;
	fd = accept_with_request(5005, &l);
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	fill(resp, 2, sizeof(resp));
	assert_int_equal(zp_send(fd, resp, sizeof(resp), 0), (ssize_t)sizeof(resp));
	assert_int_equal(zp_close(fd), 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.len, sizeof(resp));
	assert_int_equal(f.flags & (F_FIN | F_RST), 0);
	assert_true(pop_frame(&f));
	assert_true(f.flags & F_RST);
	assert_false(pop_frame(&f));
	assert_int_equal(P.rx_len, sizeof(resp));
	assert_memory_equal(P.rx, resp, sizeof(resp));
	zp_close(l);
	zpt_tx_drain(E);
}

/*
 * The server's side of crr (helper perf): the application answers and closes in one turn;
 * its output is built at the end of the next loop pass, so the response and the FIN leave as
 * one segment (before: a data segment, then a FIN).
 */
static void test_realpath_send_then_close_in_one_turn_is_one_segment(void **state)
{
	uint8_t resp[64];
	struct kframe f;
	int l, fd;

	(void)state;
	fd = accept_with_request(5004, &l); /* the handshake's ACK carries the request */

	fill(resp, 2, sizeof(resp));
	assert_int_equal(zp_send(fd, resp, sizeof(resp), 0), (ssize_t)sizeof(resp));
	assert_int_equal(zp_close(fd), 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags & (F_ACK | F_FIN | F_SYN | F_RST), F_ACK | F_FIN);
	assert_int_equal(f.len, sizeof(resp));
	assert_int_equal(f.ack, P.snd_nxt);
	assert_false(pop_frame(&f));
	assert_int_equal(P.rx_len, sizeof(resp));
	assert_memory_equal(P.rx, resp, sizeof(resp));
	assert_true(P.got_fin);
	/* The peer acknowledges and closes: TIME_WAIT stays with zpath, as in crr. */
	peer_send(F_ACK | F_FIN, NULL, 0);
	zpt_poll(E);
	assert_true(pop_frame(&f));
	peer_take(&f);
	assert_int_equal(f.flags, F_ACK);
	assert_int_equal(P.segs, 2);
	zp_close(l);
	zpt_tx_drain(E);
	assert_int_equal(zpt_drops_total(E), 0);
}

/*
 * Found by zpath-bench bulk over vhost-user: virtio and vhost offer the RX TCP checksum but
 * not the IPv4 one, so the port ran without RX checksum offload and net_vhost summed every
 * received segment in software (half the receiver's CPU). With the TCP offload on, a segment
 * from a virtio peer on the same host arrives with a partial checksum field and
 * RTE_MBUF_F_RX_L4_CKSUM_NONE ("not in the packet, but the data is verified"): taken only
 * from a port whose L4 offload is on; anywhere else software decides (and drops it).
 */
static void test_realpath_partial_cksum_is_taken_only_from_a_port_with_l4_offload(void **state)
{
	struct tcp_engine *e = tcp__engine(E->w);
	uint8_t o[40], seg[1448], buf[4096];
	struct kframe f;
	int l, fd;

	(void)state;
	fd = peer_connect(5005, 0, &l);
	fill(seg, 0, sizeof(seg));

	/* The ring port has no RX offload: the partial checksum is wrong to software. */
	assert_false(E->stack.ifaces[0].rx_l4_cksum);
	P_virtio = true;
	P_rx_flags = RTE_MBUF_F_RX_L4_CKSUM_NONE;
	peer_inject(P.snd_nxt, P.rcv_nxt, F_ACK, P.win, o, put_ts(o), seg, sizeof(seg));
	zpt_poll(E);
	assert_int_equal(e->drops[TCP_DROP_CSUM], 1);
	assert_false(pop_frame(&f));
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, EAGAIN);

	/* With the L4 offload on, the device's word is taken: the data is delivered. */
	E->stack.ifaces[0].rx_l4_cksum = true;
	peer_send(F_ACK, seg, sizeof(seg));
	zpt_poll(E);
	assert_int_equal(e->drops[TCP_DROP_CSUM], 1);
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), (ssize_t)sizeof(seg));
	assert_memory_equal(buf, seg, sizeof(seg));

	/* ... but a device that did not verify (UNKNOWN) or found it bad leaves it to software
	 * or drops it, offload or not. */
	P_rx_flags = RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN;
	peer_inject(P.snd_nxt, P.rcv_nxt, F_ACK, P.win, o, put_ts(o), seg, sizeof(seg));
	zpt_poll(E);
	assert_int_equal(e->drops[TCP_DROP_CSUM], 2);
	P_rx_flags = RTE_MBUF_F_RX_L4_CKSUM_BAD;
	peer_inject(P.snd_nxt, P.rcv_nxt, F_ACK, P.win, o, put_ts(o), seg, sizeof(seg));
	zpt_poll(E);
	assert_int_equal(e->drops[TCP_DROP_CSUM], 3);
	assert_int_equal(zp_recv(fd, buf, sizeof(buf), 0), -1);

	P_virtio = false;
	zp_close(fd);
	zp_close(l);
	zpt_tx_drain(E);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_realpath_passive_open_data_both_ways_close_time_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_partial_cksum_is_taken_only_from_a_port_with_l4_offload, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_active_open_waits_for_arp_then_passive_close, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_bulk_both_ways_respects_scaled_windows, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_retransmission_with_sack_blocks_fits_mtu, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_connect_survives_failed_arp_resolution, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_connect_port_choice_does_not_walk_every_connection, setup_tcp,
			teardown_tcp),
		cmocka_unit_test_setup_teardown(
			test_window_edge_does_not_slide_with_an_old_segment_acking_new_data,
			setup_tcp, teardown_tcp),
		cmocka_unit_test_setup_teardown(
			test_pure_ack_sequence_stays_inside_the_peers_window, setup_tcp,
			teardown_tcp),
		cmocka_unit_test_setup_teardown(test_zero_window_still_takes_the_ack_of_a_probe,
						setup_tcp, teardown_tcp),
		cmocka_unit_test_setup_teardown(
			test_unacceptable_pure_acks_are_answered_within_a_budget, setup_tcp,
			teardown_tcp),
		cmocka_unit_test_setup_teardown(test_ack_at_the_right_edge_of_our_window_is_taken,
						setup_tcp, teardown_tcp),
		cmocka_unit_test_setup_teardown(
			test_retransmission_into_a_small_window_is_not_held_back, setup_tcp,
			teardown_tcp),
		cmocka_unit_test_setup_teardown(
			test_connect_does_not_reuse_a_port_before_the_range_went_round, setup_tcp,
			teardown_tcp),
		cmocka_unit_test_setup_teardown(test_realpath_one_ack_per_rx_burst_of_in_order_data,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_realpath_full_tx_ring_holds_data_back_then_sends_it,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_low_mbuf_pool_drops_payload_but_takes_the_ack,
						setup_tcp, teardown_tcp),
		cmocka_unit_test_setup_teardown(
			test_realpath_crr_acks_ride_on_the_request_and_the_fin, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_ack_after_app_turn_leaves_one_pass_later, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_realpath_send_then_close_in_one_turn_is_one_segment, setup, teardown),		cmocka_unit_test_setup_teardown(
			test_realpath_send_then_linger0_close_sends_data_then_rst, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
