/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target: arbitrary TCP segments, wrapped in a valid Ethernet + IPv4 header, towards
 * a listening zpath socket or a connection established through it.
 *
 * Input layout:
 *   byte 0      control bits (below)
 *   then        [L][L bytes] ...   one TCP segment (header + options + payload) per record;
 *                                  L = 0 means "advance the clock 200 ms" instead
 * Control bits:
 *   0x01 EST     the segments go to an established connection (handshake done first, with
 *                MSS, SACK-permitted, timestamps and window scale); else to the listener
 *   0x02 REL     sequence and acknowledgment numbers are offsets from the values the
 *                connection expects (so mutations stay near the window)
 *   0x04 RAWSUM  keep the fuzzed TCP checksum (else it is made correct)
 *   0x08 READ    the application drains the socket after every segment
 *   0x10 SEND    the application queues 3000 bytes before the segments
 *   0x20 SHUT    the application shuts down writing (FIN) before the segments
 *   0x40 ACCEPT  accept and drain connections the segments opened through the listener
 * Ports are forced to peer 40000 → local 80 on the established connection (to local 80 on
 * the listener, keeping the fuzzed source port).
 *
 * Each input runs on a fresh socket layer and TCP engine (dp_sock_worker_init/fini) and a
 * clock reset to the same instant, so an input behaves the same alone as in a run. After the
 * segments the clock advances 120 s in 1 s steps (retransmissions, delayed ACKs, FIN_WAIT_2
 * and TIME_WAIT), everything is torn down and every mbuf must be back in the pool and no timer
 * may remain armed: otherwise abort(), which libFuzzer reports with the input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_tcp.h>

#include <zpath/zpath_socket.h>

#include "fuzz_env.h"

#define MS	 1000000ULL
#define F_EST	 0x01
#define F_REL	 0x02
#define F_RAWSUM 0x04
#define F_READ	 0x08
#define F_SEND	 0x10
#define F_SHUT	 0x20
#define F_ACCEPT 0x40

#define LOCAL_PORT  80
#define PEER_PORT   40000
#define PEER_ISS    1000u
#define MAX_RECORDS 32

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct fz_env env;

/* What the harness knows of the connection under test. */
struct track {
	bool syn_ack_seen;
	uint32_t stack_nxt; /**< highest sequence number the stack has sent, + 1 */
	uint32_t peer_nxt;  /**< next sequence number of ours (the peer's) */
};

static void harness_bug(const char *what)
{
	fprintf(stderr, "fuzz_tcp_segment: harness: %s\n", what);
	abort();
}

static bool seq_after(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

/* Free what the stack sent, noting the highest sequence number sent to the peer port. */
static void drain(struct track *t)
{
	struct rte_mbuf *m;

	dp_tx_flush(env.w);
	while ((m = fz_tx_pop(&env)) != NULL) {
		const size_t hl = sizeof(struct rte_ether_hdr) + sizeof(struct rte_ipv4_hdr);
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								  sizeof(struct rte_ether_hdr));
		struct rte_tcp_hdr *th = rte_pktmbuf_mtod_offset(m, struct rte_tcp_hdr *, hl);

		if (t != NULL && m->data_len >= hl + sizeof(*th) &&
		    ip->next_proto_id == IPPROTO_TCP &&
		    th->dst_port == rte_cpu_to_be_16(PEER_PORT)) {
			uint32_t seq = rte_be_to_cpu_32(th->sent_seq);
			uint32_t len = rte_be_to_cpu_16(ip->total_length) -
				       (uint32_t)((ip->version_ihl & 0xf) * 4) -
				       (uint32_t)((th->data_off >> 4) * 4);
			uint32_t end = seq + len + ((th->tcp_flags & RTE_TCP_SYN_FLAG) ? 1 : 0) +
				       ((th->tcp_flags & RTE_TCP_FIN_FLAG) ? 1 : 0);

			if ((th->tcp_flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) ==
				    (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG) &&
			    !t->syn_ack_seen) {
				t->syn_ack_seen = true;
				t->stack_nxt = end;
			} else if (t->syn_ack_seen && seq_after(end, t->stack_nxt)) {
				t->stack_nxt = end;
			}
		}
		rte_pktmbuf_free(m);
	}
}

static void step(struct track *t, uint64_t ns)
{
	fz_poll(&env, ns);
	drain(t);
}

/* Inject one TCP segment peer → stack. */
static void send_segment(struct track *t, const uint8_t *seg, size_t len, uint8_t ctl)
{
	static uint8_t frame[2048];
	uint8_t tcp[1480];
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)tcp;
	struct rte_ipv4_hdr *ip;
	size_t n;

	if (len > sizeof(tcp))
		len = sizeof(tcp);
	memcpy(tcp, seg, len);
	if (len >= 4) {
		if (ctl & F_EST)
			th->src_port = rte_cpu_to_be_16(PEER_PORT);
		th->dst_port = rte_cpu_to_be_16(LOCAL_PORT);
	}
	if (len >= 12 && (ctl & F_REL)) {
		th->sent_seq = rte_cpu_to_be_32(t->peer_nxt + rte_be_to_cpu_32(th->sent_seq));
		th->recv_ack = rte_cpu_to_be_32(t->stack_nxt + rte_be_to_cpu_32(th->recv_ack));
	}
	n = fz_build_ipv4(&env, frame, sizeof(frame), IPPROTO_TCP, tcp, len);
	ip = (struct rte_ipv4_hdr *)(frame + sizeof(struct rte_ether_hdr));
	if (len >= sizeof(*th) && !(ctl & F_RAWSUM)) {
		struct rte_tcp_hdr *fth = (struct rte_tcp_hdr *)(ip + 1);

		fth->cksum = 0;
		fth->cksum = rte_ipv4_udptcp_cksum(ip, fth);
	}
	fz_inject(&env, frame, n);
	step(t, 0);
}

static void drain_socket(int fd)
{
	static uint8_t buf[65536];
	int i;

	for (i = 0; i < 64; i++)
		if (zp_recv(fd, buf, sizeof(buf), 0) <= 0)
			break;
}

/* Build a SYN with the usual options and complete the handshake; returns the accepted fd. */
static int handshake(struct track *t, int lfd)
{
	uint8_t seg[40];
	struct rte_tcp_hdr *th = (struct rte_tcp_hdr *)seg;
	static const uint8_t opts[20] = {
		2, 4,  0x05, 0xb4,			   /* MSS 1460 */
		4, 2,					   /* SACK permitted */
		8, 10, 0,    0,	   0x30, 0x39, 0, 0, 0, 0, /* timestamps 12345, 0 */
		1, 3,  3,    7,				   /* NOP, window scale 7 */
	};
	int fd;

	memset(seg, 0, sizeof(seg));
	th->src_port = rte_cpu_to_be_16(PEER_PORT);
	th->sent_seq = rte_cpu_to_be_32(PEER_ISS);
	th->data_off = (uint8_t)((sizeof(seg) / 4) << 4);
	th->tcp_flags = RTE_TCP_SYN_FLAG;
	th->rx_win = rte_cpu_to_be_16(65535);
	memcpy(seg + sizeof(*th), opts, sizeof(opts));
	send_segment(t, seg, sizeof(seg), F_EST);
	if (!t->syn_ack_seen)
		harness_bug("no SYN-ACK to a SYN for the listener");

	memset(seg, 0, sizeof(seg));
	th->src_port = rte_cpu_to_be_16(PEER_PORT);
	th->sent_seq = rte_cpu_to_be_32(PEER_ISS + 1);
	th->recv_ack = rte_cpu_to_be_32(t->stack_nxt);
	th->data_off = (uint8_t)((32 / 4) << 4); /* with a timestamp option */
	th->tcp_flags = RTE_TCP_ACK_FLAG;
	th->rx_win = rte_cpu_to_be_16(1024); /* × 2^7 */
	memcpy(seg + sizeof(*th), (const uint8_t[]){1, 1, 8, 10, 0, 0, 0x30, 0x3a, 0, 0, 0, 0}, 12);
	send_segment(t, seg, 32, F_EST);
	t->peer_nxt = PEER_ISS + 1;
	fd = zp_accept(lfd, NULL, NULL);
	if (fd < 0)
		harness_bug("handshake did not produce a connection to accept");
	return fd;
}

/* End of an input: check nothing is left, then a fresh engine and descriptor table and the
 * same clock for the next input. */
static void stack_reset(void)
{
	dp_sock_worker_fini(env.w);
	drain(NULL);
	if (env.w->timers.nb_armed != 0) {
		fprintf(stderr,
			"fuzz_tcp_segment: %u timers still armed after the engine was "
			"destroyed\n",
			env.w->timers.nb_armed);
		abort();
	}
	fz_arp_reset(&env);
	fz_check_no_leak(&env, "after tearing down the TCP engine");
	env.w->now_ns = FZ_NOW0;
	env.w->timers.last_tick = FZ_NOW0 / DP_TIMER_TICK_NS;
	env.w->rand_state = 42;
	if (dp_sock_worker_init(env.w) != 0)
		harness_bug("dp_sock_worker_init");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fz_env_init(&env);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[3000];
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = rte_cpu_to_be_16(LOCAL_PORT),
				.sin_addr.s_addr = rte_cpu_to_be_32(FZ_LOCAL_IP)};
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	struct track t = {0};
	int one = 1, lfd, afd = -1, fds[MAX_RECORDS];
	unsigned nfds = 0, records = 0, i;
	uint8_t ctl;
	size_t off = 1;

	if (size < 1)
		return 0;
	ctl = data[0];

	lfd = zp_socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || zp_setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    zp_bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || zp_listen(lfd, 16) < 0)
		harness_bug("listener");

	if (ctl & F_EST) {
		afd = handshake(&t, lfd);
		if (ctl & F_SEND) {
			memset(payload, 'z', sizeof(payload));
			zp_send(afd, payload, sizeof(payload), 0);
			step(&t, 0);
		}
		if (ctl & F_SHUT) {
			zp_shutdown(afd, SHUT_WR);
			step(&t, 0);
		}
	}

	while (off < size && records < MAX_RECORDS) {
		size_t len = data[off++];

		records++;
		if (len == 0) {
			step(&t, 200 * MS);
		} else {
			if (len > size - off)
				len = size - off;
			send_segment(&t, data + off, len, ctl);
			off += len;
		}
		if ((ctl & F_READ) && afd >= 0)
			drain_socket(afd);
		if (ctl & F_ACCEPT) {
			int fd;

			while (nfds < MAX_RECORDS && (fd = zp_accept(lfd, NULL, NULL)) >= 0) {
				drain_socket(fd);
				fds[nfds++] = fd;
			}
		}
	}

	/* Let the timers run: retransmissions, delayed ACK, FIN_WAIT_2, TIME_WAIT. */
	for (i = 0; i < 120; i++) {
		step(&t, 1000 * MS);
		if ((ctl & F_READ) && afd >= 0)
			drain_socket(afd);
	}

	/* Tear down through the API (the same calls an application makes), then the engine. */
	for (i = 0; i < nfds; i++) {
		zp_setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		zp_close(fds[i]);
	}
	if (afd >= 0) {
		zp_setsockopt(afd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		zp_close(afd);
	}
	zp_close(lfd);
	step(&t, 0);
	stack_reset();
	return 0;
}
