/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SACK (RFC 2018) and loss recovery (RFC 6675, RFC 6582 fallback, RFC 2883 D-SACK) with
 * crafted segments on the virtual clock: negotiation, the blocks we report for holes, one
 * and several losses recovered without a timeout, D-SACK counting and undo.
 */
#include <inttypes.h>

#include "test_common.h"
#include "tcp/tcp_sack.h"

#define MSS 1000u
#define USEC 1000ull

static uint32_t snd_base(void)
{
	return T->our_iss + 1;
}

static struct zp_tcp_info info(int fd)
{
	struct zp_tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(zp_getsockopt(fd, IPPROTO_TCP, ZP_TCP_INFO, &ti, &len), 0);
	return ti;
}

struct raw_opts {
	bool sack_perm;
	unsigned nsack;
	uint32_t sack[4][2];
	unsigned optlen;
};

/* Options of the next captured segment (before zpt_tcp_pop consumes it). */
static struct raw_opts peek_opts(void)
{
	struct raw_opts r;
	struct rte_mbuf *m;
	const struct tcp_wire_hdr *h;
	const uint8_t *o;
	unsigned hlen, i, b;

	memset(&r, 0, sizeof(r));
	assert_true(zpt_tcp_pending(T) > 0);
	m = T->out[T->out_head % ZPT_TCP_MAX_OUT];
	h = rte_pktmbuf_mtod(m, const struct tcp_wire_hdr *);
	hlen = (unsigned)(h->doff >> 4) * 4;
	r.optlen = hlen - TCP_HDR_LEN;
	o = (const uint8_t *)(h + 1);
	for (i = 0; i < r.optlen;) {
		if (o[i] == 0)
			break;
		if (o[i] == 1) {
			i++;
			continue;
		}
		if (o[i] == 4)
			r.sack_perm = true;
		if (o[i] == 5) {
			r.nsack = (o[i + 1] - 2u) / 8;
			for (b = 0; b < r.nsack; b++) {
				uint32_t v[2];

				memcpy(v, o + i + 2 + 8 * b, 8);
				r.sack[b][0] = rte_be_to_cpu_32(v[0]);
				r.sack[b][1] = rte_be_to_cpu_32(v[1]);
			}
		}
		i += o[i + 1];
	}
	return r;
}

/* The SYN,ACK comes this long after the SYN (0: at once). */
static uint64_t syn_rtt;

/* Client; the peer's SYN,ACK has MSS 1000, SACK-permitted when @p sack, timestamps when
 * @p ts (and then the peer keeps sending them). */
static int client_ts(bool sack, bool ts)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	uint8_t opts[20] = {2, 4, MSS >> 8, MSS & 0xff, 1, 1, 4, 2};
	unsigned optlen = sack ? 8 : 4;
	struct zpt_seg s;
	struct raw_opts r;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0), sb = 256 * 1024;

	assert_true(fd >= 0);
	/* A fixed send buffer: the tests queue more than the autotuned first limit (2 x IW). */
	assert_int_equal(zp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sb, sizeof(sb)), 0);
	sin.sin_addr.s_addr = T->peer;
	sin.sin_port = rte_cpu_to_be_16(T->pport);
	assert_int_equal(zp_connect(fd, (struct sockaddr *)&sin, sizeof(sin)), -1);
	r = peek_opts();
	assert_true(r.sack_perm); /* we always offer SACK */
	assert_true(r.optlen <= 40);
	assert_true(zpt_tcp_pop(T, &s));
	T->our_iss = s.seq;
	T->lport = s.sport;
	T->peer_nxt = ZPT_PEER_ISS;
	if (ts) {
		uint8_t t[12] = {1, 1, 8, 10, 0, 0, 0, 1};
		uint32_t ecr = rte_cpu_to_be_32(s.tsval);

		memcpy(t + 8, &ecr, 4);
		memcpy(opts + optlen, t, sizeof(t));
		optlen += sizeof(t);
		T->peer_ts = true;
		T->peer_tsval = 1;
	}
	if (syn_rtt != 0)
		zpt_tcp_advance(T, syn_rtt);
	zpt_tcp_inject_full(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, T->peer_win, opts,
			    optlen, NULL, 0);
	T->peer_nxt++;
	expect_seg(F_ACK);
	return fd;
}

static int client(bool sack)
{
	return client_ts(sack, false);
}

/* [stack] tcp_recovery = rfc6675: DupThresh instead of RACK-TLP (the tests of RFC 6675's own
 * rules run with it; the default, RACK, has its tests in the RACK section). */
static void rfc6675_mode(void)
{
	T->env->stack.tun.tcp_rack_off = true;
}

/* A connection whose SRTT starts at 10 ms (the handshake's RTT): probe timeouts (2*SRTT) do
 * not fire inside the 10 ms round trips of the RACK tests. */
static int client_10ms(bool ts)
{
	int fd;

	syn_rtt = 10 * MSEC;
	fd = client_ts(true, ts);
	syn_rtt = 0;
	return fd;
}

static struct tcp_conn *conn0(void)
{
	return TAILQ_FIRST(&tcp__engine(T->w)->conns);
}

/* The peer ACKs @p ack with SACK blocks (start, end offsets from snd_base, in bytes). */
static void sack_ack(uint32_t ack, unsigned n, const uint32_t (*blk)[2])
{
	uint8_t o[40] = {1, 1, 5, (uint8_t)(2 + 8 * n)};
	unsigned i;

	for (i = 0; i < n; i++) {
		uint32_t l = rte_cpu_to_be_32(snd_base() + blk[i][0]);
		uint32_t r = rte_cpu_to_be_32(snd_base() + blk[i][1]);

		memcpy(o + 4 + 8 * i, &l, 4);
		memcpy(o + 8 + 8 * i, &r, 4);
	}
	zpt_tcp_inject_full(T, T->peer_nxt, ack, F_ACK, T->peer_win, o, n ? 4 + 8 * n : 0, NULL, 0);
}

/* Send 40 segments' worth; the first flight (10 segments) goes out. */
static void first_flight(int fd)
{
	static uint8_t data[40 * MSS];
	struct zpt_seg s;
	unsigned n = 0;

	assert_int_equal(zp_send(fd, data, sizeof(data), 0), (ssize_t)sizeof(data));
	while (zpt_tcp_pop(T, &s)) {
		assert_int_equal(s.seq, snd_base() + n * MSS);
		assert_int_equal(s.len, MSS);
		n++;
	}
	assert_int_equal(n, 10);
}

/* Collect what was sent: retransmissions (below @p high) into rx[], count new segments. */
static unsigned collect(uint32_t high, uint32_t *rx, unsigned max, unsigned *new_segs)
{
	struct zpt_seg s;
	unsigned n = 0;

	*new_segs = 0;
	while (zpt_tcp_pop(T, &s)) {
		if (s.len == 0)
			continue;
		if (SEQ_LT(s.seq, high)) {
			assert_true(n < max);
			rx[n++] = s.seq - snd_base();
		} else {
			(*new_segs)++;
		}
	}
	return n;
}

/* ---- negotiation -------------------------------------------------------------------------- */

static void test_sack_permitted_negotiated_both_ways(void **state)
{
	int fd;

	(void)state;
	fd = client(true);
	assert_int_equal(info(fd).options & 2, 2);
	zp_close(fd);
}

static void test_no_sack_without_peer_permission_and_blocks_are_ignored(void **state)
{
	static const uint32_t blk[1][2] = {{MSS, 3 * MSS}};
	int fd, i;

	(void)state;
	fd = client(false);
	assert_int_equal(info(fd).options & 2, 0);
	first_flight(fd);
	/* SACK options from a peer that never agreed: ignored, NewReno on duplicate ACKs. */
	for (i = 0; i < 2; i++)
		sack_ack(snd_base(), 1, blk);
	expect_none();
	sack_ack(snd_base(), 1, blk);
	assert_int_equal(expect_seg(F_ACK).seq, snd_base());
	assert_int_equal(zpt_tcp_stat(T, "sack_recoveries"), 0);
	assert_int_equal(zpt_tcp_stat(T, "fast_retrans"), 1);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_synack_offers_sack_only_if_the_syn_did(void **state)
{
	static const uint8_t with[4] = {1, 1, 4, 2};
	int l = zp_socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = rte_cpu_to_be_16(81)};

	(void)state;
	assert_int_equal(zp_bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(zp_listen(l, 4), 0);
	T->lport = 81;
	zpt_tcp_inject_full(T, 5000, 0, F_SYN, 65535, with, 4, NULL, 0);
	assert_true(peek_opts().sack_perm);
	zpt_tcp_drain(T);
	T->pport++;
	zpt_tcp_inject_full(T, 7000, 0, F_SYN, 65535, NULL, 0, NULL, 0);
	assert_false(peek_opts().sack_perm);
	zpt_tcp_drain(T);
	zp_close(l);
}

/* ---- receiver: the blocks we report ------------------------------------------------------ */

static void expect_blocks(uint32_t base, unsigned n, const uint32_t (*want)[2])
{
	struct raw_opts r = peek_opts();
	unsigned i;

	assert_int_equal(r.nsack, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(r.sack[i][0], base + want[i][0]);
		assert_int_equal(r.sack[i][1], base + want[i][1]);
	}
	zpt_tcp_drain(T);
}

static void test_sack_blocks_describe_holes_most_recent_first(void **state)
{
	static uint8_t d[100];
	uint32_t base;
	int fd;

	(void)state;
	fd = client(true);
	base = T->peer_nxt;
	zpt_tcp_inject(T, base + 100, snd_base(), F_ACK, d, 100);
	expect_blocks(base, 1, (const uint32_t[][2]){{100, 200}});
	zpt_tcp_inject(T, base + 300, snd_base(), F_ACK, d, 100);
	expect_blocks(base, 2, (const uint32_t[][2]){{300, 400}, {100, 200}});
	zpt_tcp_inject(T, base + 500, snd_base(), F_ACK, d, 100);
	expect_blocks(base, 3, (const uint32_t[][2]){{500, 600}, {300, 400}, {100, 200}});
	/* A segment joining two blocks: the merged block comes first. */
	zpt_tcp_inject(T, base + 200, snd_base(), F_ACK, d, 100);
	expect_blocks(base, 2, (const uint32_t[][2]){{100, 400}, {500, 600}});
	/* An old block repeated is reported first again, after the D-SACK block of the
	 * repeated bytes (RFC 2883 §4.1.3 rule 2: the block containing the duplicate second). */
	zpt_tcp_inject(T, base + 500, snd_base(), F_ACK, d, 50);
	expect_blocks(base, 3, (const uint32_t[][2]){{500, 550}, {500, 600}, {100, 400}});
	/* The hole at the start fills: the cumulative ACK covers the first block. */
	zpt_tcp_inject(T, base, snd_base(), F_ACK, d, 100);
	{
		struct raw_opts r = peek_opts();
		struct zpt_seg s;

		assert_int_equal(r.nsack, 1);
		assert_int_equal(r.sack[0][0], base + 500);
		assert_true(zpt_tcp_pop(T, &s));
		assert_int_equal(s.ack, base + 400);
	}
	zpt_tcp_inject(T, base + 400, snd_base(), F_ACK, d, 100);
	assert_int_equal(peek_opts().nsack, 0); /* no hole left: no option */
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_at_most_three_blocks_with_timestamps_four_without(void **state)
{
	static uint8_t d[10];
	uint32_t base;
	int fd, i;

	(void)state;
	fd = client(true); /* no timestamps: 4 blocks fit */
	base = T->peer_nxt;
	for (i = 1; i <= 5; i++) {
		zpt_tcp_inject(T, base + 20 * (uint32_t)i, snd_base(), F_ACK, d, 10);
		if (i < 5)
			zpt_tcp_drain(T);
	}
	expect_blocks(base, 4, (const uint32_t[][2]){{100, 110}, {80, 90}, {60, 70}, {40, 50}});
	zp_close(fd);
	zpt_tcp_drain(T);
	T->pport++;
	fd = client_ts(true, true); /* timestamps: 12 + 28 bytes, 3 blocks */
	assert_int_equal(info(fd).options & 3, 3);
	base = T->peer_nxt;
	for (i = 1; i <= 5; i++) {
		zpt_tcp_inject(T, base + 20 * (uint32_t)i, snd_base(), F_ACK, d, 10);
		if (i < 5)
			zpt_tcp_drain(T);
	}
	assert_int_equal(peek_opts().optlen, 40);
	expect_blocks(base, 3, (const uint32_t[][2]){{100, 110}, {80, 90}, {60, 70}});
	zp_close(fd);
}

static void test_data_segments_shrink_to_carry_sack_blocks(void **state)
{
	static uint8_t d[10], big[4 * MSS];
	struct zpt_seg s;
	uint32_t base;
	int fd;

	(void)state;
	fd = client(true);
	base = T->peer_nxt;
	zpt_tcp_inject(T, base + 20, snd_base(), F_ACK, d, 10);
	zpt_tcp_drain(T);
	assert_int_equal(zp_send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_true(peek_opts().nsack == 1);
	assert_true(zpt_tcp_pop(T, &s));
	assert_int_equal(s.len, MSS - 12); /* 12 bytes of SACK option in the MSS */
	zpt_tcp_drain(T);
	zp_close(fd);
}

/* ---- sender: recovery -------------------------------------------------------------------- */

static void test_one_loss_is_retransmitted_once_without_rto(void **state)
{
	uint32_t rx[16], blk[1][2];
	unsigned nrx, nnew, i;
	int fd;

	(void)state;
	rfc6675_mode();
	fd = client(true);
	first_flight(fd);
	/* Segment 0 is lost; 1..9 arrive, each SACKed as it comes. */
	for (i = 2; i <= 10; i++) {
		blk[0][0] = MSS;
		blk[0][1] = i * MSS;
		sack_ack(snd_base(), 1, (const uint32_t(*)[2])blk);
		if (i == 3) {
			/* Two segments SACKed: not lost yet (DupThresh), but Limited Transmit
			 * (RFC 3042, RFC 6675 §5 (3)) sent one new segment per duplicate. */
			assert_int_equal(collect(snd_base() + 10 * MSS, rx, 16, &nnew), 0);
			assert_int_equal(nnew, 2);
		}
	}
	nrx = collect(snd_base() + 10 * MSS, rx, 16, &nnew);
	assert_int_equal(nrx, 1);
	assert_int_equal(rx[0], 0);
	assert_true(nnew > 0); /* pipe fell below cwnd: new data flows during recovery */
	assert_int_equal(zpt_tcp_stat(T, "sack_recoveries"), 1);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 1);
	/* The retransmission arrives: everything acked (the two Limited Transmit segments and
	 * what went during recovery too), recovery ends with cwnd = ssthresh. */
	sack_ack(snd_base() + (12 + nnew) * MSS, 0, NULL);
	assert_int_equal(info(fd).snd_cwnd, info(fd).snd_ssthresh);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 1);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_multiple_losses_recovered_in_one_rtt(void **state)
{
	uint32_t rx[16], blk[3][2];
	unsigned nrx, nnew, i, nb;
	int fd;

	(void)state;
	fd = client(true);
	first_flight(fd);
	/* Segments 0, 3 and 6 are lost; the others arrive in order. */
	for (i = 1; i < 10; i++) {
		if (i == 3 || i == 6)
			continue;
		nb = 0;
		/* Most recent block first, as a receiver reports them. */
		if (i >= 7) {
			blk[nb][0] = 7 * MSS;
			blk[nb++][1] = (i + 1) * MSS;
		}
		if (i >= 4) {
			blk[nb][0] = 4 * MSS;
			blk[nb++][1] = TCP_MIN(i + 1, 6u) * MSS;
		}
		blk[nb][0] = 1 * MSS;
		blk[nb++][1] = TCP_MIN(i + 1, 3u) * MSS;
		sack_ack(snd_base(), nb, (const uint32_t(*)[2])blk);
	}
	/* No time passed: all three holes went out within the round trip, once each. */
	nrx = collect(snd_base() + 10 * MSS, rx, 16, &nnew);
	assert_int_equal(nrx, 3);
	assert_int_equal(rx[0], 0);
	assert_int_equal(rx[1], 3 * MSS);
	assert_int_equal(rx[2], 6 * MSS);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	/* The retransmissions arrive: one cumulative ACK ends recovery. */
	sack_ack(snd_base() + 10 * MSS + nnew * MSS, 0, NULL);
	assert_false(TAILQ_FIRST(&tcp__engine(T->w)->conns)->in_recovery);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 3);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_partial_ack_in_sack_recovery_keeps_going(void **state)
{
	uint32_t rx[16];
	unsigned nrx, nnew;
	int fd;

	(void)state;
	fd = client(true);
	first_flight(fd);
	/* 0 and 5 lost. */
	sack_ack(snd_base(), 1, (const uint32_t[][2]){{MSS, 5 * MSS}});
	nrx = collect(snd_base() + 10 * MSS, rx, 16, &nnew);
	assert_int_equal(nrx, 1);
	assert_int_equal(rx[0], 0);
	/* Retransmitted 0 arrives; 6..9 were SACKed in the meantime: 5 is lost. */
	sack_ack(snd_base() + 5 * MSS, 1, (const uint32_t[][2]){{6 * MSS, 10 * MSS}});
	nrx = collect(snd_base() + 10 * MSS, rx, 16, &nnew);
	assert_int_equal(nrx, 1);
	assert_int_equal(rx[0], 5 * MSS);
	assert_true(TAILQ_FIRST(&tcp__engine(T->w)->conns)->in_recovery);
	assert_int_equal(zpt_tcp_stat(T, "sack_recoveries"), 1);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_dsack_is_counted_and_undoes_a_spurious_reduction(void **state)
{
	uint32_t rx[16], cwnd;
	unsigned nnew;
	int fd;

	(void)state;
	fd = client(true);
	first_flight(fd);
	cwnd = info(fd).snd_cwnd;
	/* Segment 0 is only late: three segments SACKed above it trigger a retransmission. */
	sack_ack(snd_base(), 1, (const uint32_t[][2]){{MSS, 4 * MSS}});
	assert_int_equal(collect(snd_base() + 10 * MSS, rx, 16, &nnew), 1);
	assert_true(info(fd).snd_cwnd < cwnd);
	/* The original arrives (cumulative ACK), then the retransmission is reported as a
	 * duplicate: D-SACK below the cumulative ACK (RFC 2883 §4.1.1). */
	sack_ack(snd_base() + 10 * MSS, 0, NULL);
	sack_ack(snd_base() + 10 * MSS, 1, (const uint32_t[][2]){{0, MSS}});
	assert_int_equal(zpt_tcp_stat(T, "dsacks_in"), 1);
	assert_int_equal(zpt_tcp_stat(T, "spurious_undos"), 1);
	assert_true(info(fd).snd_cwnd >= cwnd);
	/* A D-SACK inside the second block (§4.1.2) counts too, and is no new SACK. */
	zpt_tcp_drain(T);
	sack_ack(snd_base() + 10 * MSS, 2,
		 (const uint32_t[][2]){{12 * MSS, 13 * MSS}, {11 * MSS, 14 * MSS}});
	assert_int_equal(zpt_tcp_stat(T, "dsacks_in"), 2);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_pipe_and_islost_follow_rfc6675(void **state)
{
	struct tcp_conn *c;
	int fd;

	(void)state;
	rfc6675_mode();
	fd = client(true);
	first_flight(fd);
	c = TAILQ_FIRST(&tcp__engine(T->w)->conns);
	assert_int_equal(tcp__sack_pipe(c), 10 * MSS);
	/* Two segments SACKed above 0: 0 is not lost yet, pipe excludes the SACKed; Limited
	 * Transmit sent two new segments, one per duplicate ACK. */
	sack_ack(snd_base(), 1, (const uint32_t[][2]){{MSS, 2 * MSS}});
	sack_ack(snd_base(), 1, (const uint32_t[][2]){{MSS, 3 * MSS}});
	assert_false(tcp__sack_is_lost(c, snd_base()));
	assert_int_equal(c->snd_max - c->snd_una, 12 * MSS);
	assert_int_equal(tcp__sack_pipe(c), 10 * MSS);
	/* A third: more than 2 SMSS SACKed above 0, it is lost and no longer in the pipe, but
	 * its retransmission is. */
	sack_ack(snd_base(), 1, (const uint32_t[][2]){{MSS, 4 * MSS}});
	assert_true(tcp__sack_is_lost(c, snd_base()));
	assert_false(tcp__sack_is_lost(c, snd_base() + 4 * MSS));
	assert_true(c->in_recovery);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_after_rto_sacked_data_is_not_resent(void **state)
{
	struct zpt_seg s;
	int fd;

	(void)state;
	fd = client(true);
	first_flight(fd);
	zpt_tcp_advance(T, (uint64_t)info(fd).rto_us * 1000 + 10 * MSEC);
	/* The tail loss probe goes first (new data, segment 10) and restarts the RTO; then the
	 * timeout resends 0. */
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base() + 10 * MSS);
	assert_int_equal(zpt_tcp_stat(T, "tlp_sent"), 1);
	zpt_tcp_advance(T, (uint64_t)info(fd).rto_us * 1000 + 10 * MSEC);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 1);
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base());
	expect_none();
	/* The timeout retransmission of 0 arrives; the peer holds 2..9, 1 is missing. */
	sack_ack(snd_base() + MSS, 1, (const uint32_t[][2]){{2 * MSS, 10 * MSS}});
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base() + MSS);
	expect_none(); /* cwnd 2: segment 1 only, 2..9 are skipped */
	sack_ack(snd_base() + 10 * MSS, 0, NULL);
	/* Not 2..9 again; the probe's segment 10 is, as everything sent before the timeout that
	 * the peer did not report. */
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base() + 10 * MSS);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_retransmission_leaves_room_for_our_sack_blocks(void **state)
{
	static uint8_t d[10];
	struct zpt_seg s;
	int fd;

	(void)state;
	fd = client(true);
	first_flight(fd); /* full 1000-byte segments: no SACK option then */
	/* The peer's data now arrives out of order: our segments carry one SACK block. */
	zpt_tcp_inject(T, T->peer_nxt + 100, snd_base(), F_ACK, d, 10);
	zpt_tcp_drain(T);
	sack_ack(snd_base(), 1, (const uint32_t[][2]){{MSS, 5 * MSS}});
	assert_int_equal(peek_opts().nsack, 1);
	s = expect_seg(F_ACK);
	assert_int_equal(s.seq, snd_base());
	assert_int_equal(s.len, MSS - 12); /* never beyond the MTU */
	while (zpt_tcp_pop(T, &s))
		assert_true(s.len <= MSS - 12);
	zp_close(fd);
}


/* ---- RACK-TLP (RFC 8985) and undo ------------------------------------------------------------ */

/* Segment size of the RACK tests: the MSS less the TS option when timestamps are on. */
static uint32_t SEG = MSS;

/* The peer's ACK with its TS option (echoing @p tsecr) when timestamps are on, and SACK blocks
 * (offsets from snd_base). */
static void ack_ts(uint32_t ack, uint32_t tsecr, unsigned n, const uint32_t (*blk)[2])
{
	uint8_t o[40];
	unsigned len = 0, i;

	if (T->peer_ts) {
		uint32_t v = rte_cpu_to_be_32(T->peer_tsval), e = rte_cpu_to_be_32(tsecr);

		o[0] = 1;
		o[1] = 1;
		o[2] = 8;
		o[3] = 10;
		memcpy(o + 4, &v, 4);
		memcpy(o + 8, &e, 4);
		len = 12;
	}
	if (n > 0) {
		o[len] = 1;
		o[len + 1] = 1;
		o[len + 2] = 5;
		o[len + 3] = (uint8_t)(2 + 8 * n);
		for (i = 0; i < n; i++) {
			uint32_t l = rte_cpu_to_be_32(snd_base() + blk[i][0]);
			uint32_t r = rte_cpu_to_be_32(snd_base() + blk[i][1]);

			memcpy(o + len + 4 + 8 * i, &l, 4);
			memcpy(o + len + 8 + 8 * i, &r, 4);
		}
		len += 4 + 8 * n;
	}
	zpt_tcp_inject_full(T, T->peer_nxt, snd_base() + ack, F_ACK, T->peer_win, o, len, NULL, 0);
}

/* Ten segments out and acknowledged one @p rtt later (RACK's min_RTT becomes @p rtt), then
 * the next ten (segments 10..19) leave; returns the TSval they carry. */
static uint32_t warm_then_flight(int fd, uint64_t rtt)
{
	static uint8_t data[10 * MSS];
	struct zpt_seg s;
	uint32_t tsval = 0;
	unsigned n = 0;

	SEG = conn0()->snd_mss;
	assert_int_equal(zp_send(fd, data, 10 * SEG, 0), (ssize_t)(10 * SEG));
	while (zpt_tcp_pop(T, &s)) {
		tsval = s.tsval;
		n++;
	}
	assert_int_equal(n, 10);
	zpt_tcp_advance(T, rtt);
	ack_ts(10 * SEG, tsval, 0, NULL);
	assert_int_equal(zp_send(fd, data, 10 * SEG, 0), (ssize_t)(10 * SEG));
	for (n = 0; zpt_tcp_pop(T, &s); n++) {
		assert_int_equal(s.seq, snd_base() + (10 + n) * SEG);
		tsval = s.tsval;
	}
	assert_int_equal(n, 10);
	if (conn0()->sack.rack.on)
		assert_int_equal(conn0()->sack.rack.min_rtt_us, rtt / 1000);
	return tsval;
}

/* The same reordering under RACK (default) and DupThresh: segment 10 arrives after 11, then
 * segment 12 after 13..15 (three segments SACKed above it). */
static void reorder_script(void)
{
	uint32_t rx[16];
	unsigned nnew;

	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 12 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 0);
	sack_ack(snd_base() + 12 * SEG, 0, NULL); /* 10 was only late */
	sack_ack(snd_base() + 12 * SEG, 1, (const uint32_t[][2]){{13 * SEG, 16 * SEG}});
	(void)collect(snd_base() + 20 * SEG, rx, 16, &nnew);
	sack_ack(snd_base() + 20 * SEG, 0, NULL); /* 12 was late too, 16..19 follow */
	zpt_tcp_advance(T, 100 * MSEC);
	zpt_tcp_drain(T);
}

static void test_rack_reordering_within_reo_wnd_is_not_retransmitted(void **state)
{
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	assert_true(conn0()->sack.rack.on);
	reorder_script();
	/* 10 arriving after 11 is reordering (RFC 8985 §6.2 step 3): from then on, three
	 * SACKed segments above a hole are not a loss until min_RTT/4 has passed. */
	assert_true(conn0()->sack.rack.reord_seen);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 0);
	assert_int_equal(zpt_tcp_stat(T, "sack_recoveries"), 0);
	assert_int_equal(info(fd).snd_ssthresh, UINT32_MAX); /* cwnd never reduced */
	zp_close(fd);
}

static void test_rfc6675_mode_retransmits_the_same_reordering(void **state)
{
	int fd;

	(void)state;
	rfc6675_mode();
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	assert_false(conn0()->sack.rack.on);
	reorder_script();
	/* DupThresh: three SACKed segments make 12 lost, spuriously. */
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 1);
	assert_int_equal(zpt_tcp_stat(T, "sack_recoveries"), 1);
	zp_close(fd);
}

static void test_rack_marks_loss_after_rtt_plus_reo_wnd(void **state)
{
	uint32_t rx[16], reo;
	unsigned nnew;
	struct tcp_conn *c;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	zpt_tcp_advance(T, 10 * MSEC);
	/* One segment SACKed above 10: DupThresh would wait for two more, RACK waits for
	 * RACK.rtt + reo_wnd after 10 was sent, i.e. reo_wnd from now. */
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 12 * SEG}});
	reo = tcp__rack_reo_wnd_us(c);
	assert_true(reo > 0);
	assert_true(reo <= c->sack.rack.min_rtt_us / 4);
	assert_true(dp_timer_armed(&c->t_rack) && !c->sack.rack.timer_pto);
	zpt_tcp_advance(T, (uint64_t)reo * 1000 - 100 * USEC);
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 0);
	zpt_tcp_advance(T, 2 * MSEC); /* the reordering timer fires (1 ms ticks) */
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 1);
	assert_int_equal(rx[0], 10 * SEG);
	assert_int_equal(zpt_tcp_stat(T, "rack_reo_timeouts"), 1);
	assert_int_equal(zpt_tcp_stat(T, "rack_lost"), 1);
	assert_int_equal(zpt_tcp_stat(T, "sack_recoveries"), 1);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_rack_reo_wnd_is_at_least_a_timer_tick(void **state)
{
	uint32_t rx[16];
	unsigned nnew;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 100 * USEC); /* a path of microseconds */
	assert_int_equal(tcp__rack_reo_wnd_us(conn0()), TCP_RACK_REO_MIN_US); /* not 25 us */
	zpt_tcp_advance(T, 100 * USEC);
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 12 * SEG}});
	zpt_tcp_advance(T, 300 * USEC);
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 13 * SEG}});
	/* 10 comes 0.5 ms late: still inside the window, nothing was resent. */
	zpt_tcp_advance(T, 200 * USEC);
	sack_ack(snd_base() + 13 * SEG, 0, NULL);
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 0);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_rack_records_merge_without_spurious_losses(void **state)
{
	static uint8_t data[30 * MSS];
	uint32_t rx[16];
	unsigned nnew, i;
	struct tcp_conn *c;
	struct zpt_seg s;
	int fd, one = 1;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 20 * SEG, 0, NULL);
	c->cwnd = 100 * SEG; /* as round trips of slow start would (set up, not tested) */
	assert_int_equal(zp_send(fd, data, 30 * SEG, 0), (ssize_t)(30 * SEG));
	zpt_tcp_drain(T);
	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 50 * SEG, 0, NULL);
	/* 40 segments leave 100 us apart: more send times than records, neighbours merge. */
	for (i = 0; i < 40; i++) {
		assert_int_equal(zp_send(fd, data, SEG, 0), (ssize_t)SEG);
		assert_true(zpt_tcp_pop(T, &s));
		assert_int_equal(s.seq, snd_base() + (50 + i) * SEG);
		zpt_tcp_advance(T, 100 * USEC);
	}
	assert_int_equal(c->sack.rack.nseg, TCP_RACK_SEGS);
	/* 50..88 arrive one RTT after they left, acknowledged as they come; 89 is late. */
	zpt_tcp_advance(T, 10 * MSEC - 40 * 100 * USEC);
	for (i = 0; i < 39; i++) {
		sack_ack(snd_base() + (50 + i + 1) * SEG, 0, NULL);
		zpt_tcp_advance(T, 100 * USEC);
	}
	/* Nothing was taken for lost on the way, whatever the merging did. */
	assert_int_equal(collect(snd_base() + 90 * SEG, rx, 16, &nnew), 0);
	assert_int_equal(zpt_tcp_stat(T, "retrans_segs"), 0);
	assert_int_equal(zpt_tcp_stat(T, "rack_lost"), 0);
	/* 89 never comes: the probe (one segment in flight: 2*SRTT + 200 ms, a tick before the
	 * RTO) resends it instead of an RTO. */
	zpt_tcp_advance(T, 250 * MSEC);
	assert_int_equal(collect(snd_base() + 90 * SEG, rx, 16, &nnew), 1);
	assert_int_equal(rx[0], 89 * SEG);
	assert_int_equal(zpt_tcp_stat(T, "tlp_sent"), 1);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_rack_detects_a_lost_retransmission_without_rto(void **state)
{
	uint32_t rx[16];
	unsigned nnew;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	zpt_tcp_advance(T, 10 * MSEC);
	/* 10 and 15 lost. */
	sack_ack(snd_base() + 10 * SEG, 2,
		 (const uint32_t[][2]){{16 * SEG, 20 * SEG}, {11 * SEG, 15 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 2);
	assert_int_equal(rx[0], 10 * SEG);
	assert_int_equal(rx[1], 15 * SEG);
	/* The retransmission of 15 arrives, the one of 10 is lost again: 10 was sent before a
	 * delivered segment, an RTT ago: lost again (RFC 6675 would wait for the RTO). */
	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 10 * SEG, 2,
		 (const uint32_t[][2]){{11 * SEG, 20 * SEG}, {16 * SEG, 20 * SEG}});
	zpt_tcp_advance(T, 5 * MSEC);
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 1);
	assert_int_equal(rx[0], 10 * SEG);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	sack_ack(snd_base() + 20 * SEG, 0, NULL);
	assert_false(conn0()->in_recovery);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_tlp_probes_a_lost_tail_before_the_rto(void **state)
{
	static uint8_t more[MSS];
	uint32_t rx[16];
	unsigned nnew;
	struct tcp_conn *c;
	struct zpt_seg s;
	uint64_t pto;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	zpt_tcp_advance(T, 10 * MSEC);
	/* 10..16 arrive, the tail 17..19 is lost: no ACK will ever say so. */
	sack_ack(snd_base() + 17 * SEG, 0, NULL);
	assert_true(dp_timer_armed(&c->t_rack) && c->sack.rack.timer_pto);
	pto = TCP_MAX(2ull * c->srtt_us * 1000, 10 * MSEC);
	assert_true(c->t_rack.expire_ns < c->t_rexmt.expire_ns);
	zpt_tcp_advance(T, pto + MSEC);
	/* No new data to send: the probe is the last segment again. */
	assert_true(zpt_tcp_pop(T, &s));
	assert_int_equal(s.seq, snd_base() + 19 * SEG);
	expect_none();
	assert_int_equal(zpt_tcp_stat(T, "tlp_sent"), 1);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	/* Its SACK shows 17 and 18 were sent long before a delivered segment: lost. */
	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 17 * SEG, 1, (const uint32_t[][2]){{19 * SEG, 20 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 2);
	assert_int_equal(rx[0], 17 * SEG);
	assert_int_equal(rx[1], 18 * SEG);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	sack_ack(snd_base() + 20 * SEG, 0, NULL);
	/* An ACK beyond the probe: it repaired a real loss (RFC 8985 §7.4.2). */
	assert_int_equal(zp_send(fd, more, sizeof(more), 0), (ssize_t)sizeof(more));
	zpt_tcp_drain(T);
	sack_ack(snd_base() + 21 * SEG, 0, NULL);
	assert_int_equal(zpt_tcp_stat(T, "tlp_recovered"), 1);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_tlp_probes_a_lone_segment_before_the_rto(void **state)
{
	static uint8_t one[100];
	struct tcp_conn *c;
	struct zpt_seg s;
	int fd;

	(void)state;
	fd = client_10ms(false);
	c = conn0();
	assert_int_equal(zp_send(fd, one, sizeof(one), 0), (ssize_t)sizeof(one));
	s = expect_seg(F_ACK | F_PSH);
	/* One segment from idle: PTO = 2*SRTT + 200 ms, capped just before the RTO. */
	assert_true(dp_timer_armed(&c->t_rack) && c->sack.rack.timer_pto);
	assert_true(c->t_rack.expire_ns < c->t_rexmt.expire_ns);
	zpt_tcp_advance(T, c->t_rack.expire_ns - T->w->now_ns);
	s = expect_seg(F_ACK | F_PSH);
	assert_int_equal(s.seq, snd_base());
	assert_int_equal(s.len, sizeof(one));
	assert_int_equal(zpt_tcp_stat(T, "tlp_sent"), 1);
	assert_int_equal(zpt_tcp_stat(T, "rto_expired"), 0);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_dsack_widens_the_reordering_window(void **state)
{
	uint32_t rx[16];
	unsigned nnew;
	struct tcp_conn *c;
	uint32_t w1;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	assert_int_equal(c->sack.rack.reo_wnd_mult, 1);
	w1 = (uint32_t)TCP_MIN(c->sack.rack.min_rtt_us / 4, c->srtt_us);
	assert_int_equal(tcp__rack_reo_wnd_us(c), w1);
	/* A D-SACK of segment 5, which was never retransmitted: the path duplicated it. That
	 * says nothing about our retransmissions nor about reordering (Linux: "dubious"). */
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{5 * SEG, 6 * SEG}});
	assert_int_equal(zpt_tcp_stat(T, "dsacks_in"), 1);
	assert_int_equal(zpt_tcp_stat(T, "dsacks_dubious"), 1);
	assert_int_equal(c->sack.rack.reo_wnd_mult, 1);
	assert_false(c->sack.rack.reord_seen);
	/* Three segments SACKed above 10 before any reordering was seen: 10 is retransmitted. */
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 14 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 1);
	assert_int_equal(rx[0], 10 * SEG);
	/* The original was only late; then the peer reports the retransmission as a duplicate:
	 * reo_wnd_mult grows (RFC 8985 §6.2 step 4). */
	sack_ack(snd_base() + 20 * SEG, 0, NULL);
	sack_ack(snd_base() + 20 * SEG, 1, (const uint32_t[][2]){{10 * SEG, 11 * SEG}});
	assert_int_equal(zpt_tcp_stat(T, "dsacks_dubious"), 1);
	assert_int_equal(c->sack.rack.reo_wnd_mult, 2);
	assert_true(c->sack.rack.reord_seen);
	assert_true(tcp__rack_reo_wnd_us(c) >=
		    TCP_MIN(2 * c->sack.rack.min_rtt_us / 4, c->srtt_us));
	/* The same retransmission reported again, and another duplicate of the path, in the
	 * next round trip: neither widens the window. */
	sack_ack(snd_base() + 20 * SEG, 1, (const uint32_t[][2]){{10 * SEG, 11 * SEG}});
	sack_ack(snd_base() + 20 * SEG, 1, (const uint32_t[][2]){{12 * SEG, 13 * SEG}});
	assert_int_equal(zpt_tcp_stat(T, "dsacks_dubious"), 3);
	assert_int_equal(c->sack.rack.reo_wnd_mult, 2);
	zpt_tcp_drain(T);
	zp_close(fd);
}

/* Network duplicates (D-SACKs of segments never retransmitted) must not undo a reduction for
 * a real loss: undo needs every retransmission of the episode D-SACKed. */
static void test_dsack_of_a_path_duplicate_does_not_undo(void **state)
{
	uint32_t rx[16], cwnd;
	unsigned nnew;
	struct tcp_conn *c;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	cwnd = c->cwnd;
	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 14 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 1);
	assert_true(c->in_recovery);
	assert_true(c->cwnd < cwnd);
	/* The retransmission repaired the hole; the peer then reports a duplicate of 12, which
	 * the path made. */
	sack_ack(snd_base() + 20 * SEG, 0, NULL);
	sack_ack(snd_base() + 20 * SEG, 1, (const uint32_t[][2]){{12 * SEG, 13 * SEG}});
	assert_int_equal(zpt_tcp_stat(T, "dsacks_dubious"), 1);
	assert_int_equal(zpt_tcp_stat(T, "spurious_undos"), 0);
	assert_true(c->cwnd < cwnd);
	zpt_tcp_drain(T);
	zp_close(fd);
}

/* A D-SACK undo that arrives while the recovery still runs ends it: the recovery's exit must
 * not then set cwnd to the restored ssthresh (before any reduction: none at all, so cwnd
 * became about 4 GB and only the send buffer bounded what was in flight). */
static void test_dsack_undo_during_recovery_ends_it(void **state)
{
	uint32_t rx[16], cwnd;
	unsigned nnew;
	struct tcp_conn *c;
	int fd;

	(void)state;
	fd = client_10ms(false);
	(void)warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	cwnd = c->cwnd;
	assert_int_equal(c->ssthresh, UINT32_MAX); /* never reduced */
	zpt_tcp_advance(T, 10 * MSEC);
	sack_ack(snd_base() + 10 * SEG, 1, (const uint32_t[][2]){{11 * SEG, 14 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 1);
	assert_true(c->in_recovery);
	/* The original 10 arrived (cumulative ACK 15, 16..17 held: 15 is still missing) and
	 * the retransmission is reported as a duplicate: the reduction is undone. */
	sack_ack(snd_base() + 15 * SEG, 2,
		 (const uint32_t[][2]){{10 * SEG, 11 * SEG}, {16 * SEG, 18 * SEG}});
	assert_int_equal(zpt_tcp_stat(T, "spurious_undos"), 1);
	assert_false(c->in_recovery);
	/* Back to where it was, plus slow start's segment for the ACK's progress. */
	assert_true(c->cwnd >= cwnd && c->cwnd <= cwnd + SEG);
	(void)collect(snd_base() + 20 * SEG, rx, 16, &nnew);
	/* Everything arrives: cwnd grows from where it was, by slow start. */
	sack_ack(snd_base() + 20 * SEG, 0, NULL);
	assert_true(c->cwnd >= cwnd && c->cwnd <= cwnd + 2 * SEG);
	assert_false(c->in_recovery);
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_eifel_timestamp_echo_undoes_a_spurious_recovery(void **state)
{
	uint32_t rx[16], cwnd, tsval;
	unsigned nnew;
	struct tcp_conn *c;
	int fd;

	(void)state;
	fd = client_10ms(true);
	tsval = warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	cwnd = c->cwnd;
	zpt_tcp_advance(T, 10 * MSEC);
	/* Three segments SACKed above 10 before any reordering was seen: 10 is lost. */
	ack_ts(10 * SEG, tsval, 1, (const uint32_t[][2]){{11 * SEG, 14 * SEG}});
	assert_int_equal(collect(snd_base() + 20 * SEG, rx, 16, &nnew), 1);
	assert_int_equal(rx[0], 10 * SEG);
	assert_true(c->in_recovery);
	assert_true(c->cwnd < cwnd);
	/* The original 10 arrives 8 ms later: the peer's ACK echoes its TSval, older than the
	 * retransmission's (RFC 7323 §4.3), so the retransmission was spurious. */
	zpt_tcp_advance(T, 8 * MSEC);
	ack_ts(14 * SEG, tsval, 0, NULL);
	assert_int_equal(zpt_tcp_stat(T, "spurious_undos_ts"), 1);
	assert_false(c->in_recovery);
	assert_true(c->cwnd >= cwnd);
	/* Reordering, and the window widens as a D-SACK would widen it, and at least to how
	 * late the original came next to RACK's segment (18 ms after sending instead of 10;
	 * the echo counts in ms). */
	assert_true(c->sack.rack.reord_seen);
	assert_int_equal(c->sack.rack.reo_wnd_mult, 2);
	assert_true(c->sack.rack.reo_extent_us >= 7000 && c->sack.rack.reo_extent_us <= 9000);
	assert_int_equal(tcp__rack_reo_wnd_us(c),
			 TCP_MIN(TCP_MAX(c->sack.rack.reo_extent_us,
					 2 * c->sack.rack.min_rtt_us / 4),
				 c->srtt_us));
	zpt_tcp_drain(T);
	zp_close(fd);
}

static void test_eifel_does_not_undo_a_real_loss(void **state)
{
	uint32_t rx[16], cwnd, tsval;
	unsigned nnew;
	struct tcp_conn *c;
	struct zpt_seg s;
	int fd;

	(void)state;
	fd = client_10ms(true);
	tsval = warm_then_flight(fd, 10 * MSEC);
	c = conn0();
	cwnd = c->cwnd;
	zpt_tcp_advance(T, 10 * MSEC);
	ack_ts(10 * SEG, tsval, 1, (const uint32_t[][2]){{11 * SEG, 14 * SEG}});
	assert_true(zpt_tcp_pop(T, &s));
	assert_int_equal(s.seq, snd_base() + 10 * SEG);
	(void)collect(snd_base() + 20 * SEG, rx, 16, &nnew);
	/* The retransmission filled the hole: the echo is its TSval. */
	zpt_tcp_advance(T, 10 * MSEC);
	ack_ts(14 * SEG, s.tsval, 0, NULL);
	assert_int_equal(zpt_tcp_stat(T, "spurious_undos_ts"), 0);
	assert_true(c->cwnd < cwnd);
	zpt_tcp_drain(T);
	zp_close(fd);
}

/* ---- a lossy path end to end -------------------------------------------------------------- */

/* A scripted receiver: keeps what arrives, answers every segment with a cumulative ACK and
 * (when SACK was agreed) up to 4 blocks, the one holding the new segment first. The path
 * drops data segments and ACKs with probability 1/loss_inv (a fixed LCG: reproducible), and
 * ACKs come back one RTT later. */
struct rcv_model {
	bool sack;
	uint32_t rcv_nxt; /* offset from snd_base */
	uint32_t r[64][2];
	unsigned nr;
	uint64_t lcg;
	unsigned loss_inv;
	struct {
		uint64_t at;
		uint32_t ack;
		unsigned nb;
		uint32_t blk[4][2];
	} q[4096];
	unsigned qh, qt;
	uint64_t lost;
};

static bool lose(struct rcv_model *m)
{
	m->lcg = m->lcg * 6364136223846793005ULL + 1442695040888963407ULL;
	return (m->lcg >> 33) % m->loss_inv == 0;
}

static void model_add(struct rcv_model *m, uint32_t l, uint32_t r, uint32_t blk0[2])
{
	unsigned i, j;

	/* merge [l, r) into the sorted ranges above rcv_nxt */
	for (i = 0; i < m->nr && m->r[i][1] < l; i++)
		;
	j = i;
	while (j < m->nr && m->r[j][0] <= r) {
		l = TCP_MIN(l, m->r[j][0]);
		r = TCP_MAX(r, m->r[j][1]);
		j++;
	}
	memmove(&m->r[i + 1], &m->r[j], (m->nr - j) * sizeof(m->r[0]));
	m->nr = m->nr - (j - i) + 1;
	assert_true(m->nr < 64);
	m->r[i][0] = l;
	m->r[i][1] = r;
	blk0[0] = l;
	blk0[1] = r;
	while (m->nr > 0 && m->r[0][0] <= m->rcv_nxt) {
		m->rcv_nxt = TCP_MAX(m->rcv_nxt, m->r[0][1]);
		memmove(&m->r[0], &m->r[1], (m->nr - 1) * sizeof(m->r[0]));
		m->nr--;
	}
}

static void model_segment(struct rcv_model *m, const struct zpt_seg *s, uint64_t now, uint64_t rtt)
{
	uint32_t off = s->seq - snd_base(), blk0[2], i;

	if (s->len == 0)
		return;
	if (lose(m)) {
		m->lost++;
		return;
	}
	for (i = 0; i < s->len; i++)
		assert_int_equal(s->data[i], (uint8_t)((off + i) * 7));
	model_add(m, off, off + s->len, blk0);
	if (lose(m))
		return; /* the ACK is lost */
	assert_true(m->qt - m->qh < 4096);
	{
		unsigned k = m->qt++ % 4096, nb = 0;

		m->q[k].at = now + rtt;
		m->q[k].ack = m->rcv_nxt;
		if (m->sack && blk0[0] > m->rcv_nxt) {
			m->q[k].blk[nb][0] = blk0[0];
			m->q[k].blk[nb++][1] = blk0[1];
		}
		for (i = 0; m->sack && i < m->nr && nb < 4; i++)
			if (m->r[i][0] != blk0[0]) {
				m->q[k].blk[nb][0] = m->r[i][0];
				m->q[k].blk[nb++][1] = m->r[i][1];
			}
		m->q[k].nb = nb;
	}
}

static void lossy_transfer(bool sack, const char *cc, unsigned loss_inv)
{
	static struct rcv_model m;
	static uint8_t data[64 * 1024];
	const uint32_t total = 2u * 1024 * 1024;
	const uint64_t rtt = 20 * MSEC;
	uint32_t queued = 0;
	uint64_t start;
	struct zpt_seg s;
	int fd, i;

	memset(&m, 0, sizeof(m));
	m.sack = sack;
	m.lcg = 12345;
	m.loss_inv = loss_inv;
	fd = client(sack);
	assert_int_equal(zp_setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, strlen(cc)), 0);
	start = T->w->now_ns;
	while (m.rcv_nxt < total) {
		assert_true(T->w->now_ns - start < 600 * SEC); /* no stall */
		while (queued < total) {
			ssize_t n;

			for (i = 0; i < (int)sizeof(data); i++)
				data[i] = (uint8_t)((queued + (uint32_t)i) * 7);
			n = zp_send(fd, data, TCP_MIN(sizeof(data), (size_t)(total - queued)), 0);
			if (n <= 0)
				break;
			queued += (uint32_t)n;
		}
		while (zpt_tcp_pop(T, &s))
			model_segment(&m, &s, T->w->now_ns, rtt);
		while (m.qh != m.qt && m.q[m.qh % 4096].at <= T->w->now_ns) {
			unsigned k = m.qh++ % 4096;

			sack_ack(snd_base() + m.q[k].ack, m.q[k].nb,
				 (const uint32_t(*)[2])m.q[k].blk);
		}
		zpt_tcp_advance(T, MSEC);
	}
	print_message("%s %s 1/%u loss: %.1f s, %" PRIu64 " lost, %" PRIu64 " retransmitted, "
		      "%" PRIu64 " RTOs, %" PRIu64 " fast, %" PRIu64 " sack recoveries\n",
		      sack ? "sack" : "nosack", cc, loss_inv, (double)(T->w->now_ns - start) / 1e9,
		      m.lost, zpt_tcp_stat(T, "retrans_segs"), zpt_tcp_stat(T, "rto_expired"),
		      zpt_tcp_stat(T, "fast_retrans"), zpt_tcp_stat(T, "sack_recoveries"));
	/* Every retransmission was needed at most about twice over (lost retransmissions). */
	assert_true(zpt_tcp_stat(T, "retrans_segs") <= 3 * m.lost + 10);
	/* With SACK, timeouts are for lost retransmissions and lost tails only. */
	if (sack)
		assert_true(zpt_tcp_stat(T, "rto_expired") <= m.lost / 10 + 2);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_lossy_transfer_sack_cubic(void **state)
{
	(void)state;
	lossy_transfer(true, "cubic", 50);
	if (zpt_tcp_stat(T, "sack_recoveries") == 0)
		fail_msg("SACK recovery never ran");
}

static void test_lossy_transfer_sack_newreno(void **state)
{
	(void)state;
	lossy_transfer(true, "newreno", 20);
}

static void test_lossy_transfer_nosack_cubic(void **state)
{
	(void)state;
	lossy_transfer(false, "cubic", 50);
}

static void test_lossy_transfer_nosack_newreno(void **state)
{
	(void)state;
	lossy_transfer(false, "newreno", 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_sack_permitted_negotiated_both_ways),
		TEST(test_no_sack_without_peer_permission_and_blocks_are_ignored),
		TEST(test_synack_offers_sack_only_if_the_syn_did),
		TEST(test_sack_blocks_describe_holes_most_recent_first),
		TEST(test_at_most_three_blocks_with_timestamps_four_without),
		TEST(test_data_segments_shrink_to_carry_sack_blocks),
		TEST(test_one_loss_is_retransmitted_once_without_rto),
		TEST(test_multiple_losses_recovered_in_one_rtt),
		TEST(test_partial_ack_in_sack_recovery_keeps_going),
		TEST(test_dsack_is_counted_and_undoes_a_spurious_reduction),
		TEST(test_pipe_and_islost_follow_rfc6675),
		TEST(test_after_rto_sacked_data_is_not_resent),
		TEST(test_retransmission_leaves_room_for_our_sack_blocks),
		TEST(test_rack_reordering_within_reo_wnd_is_not_retransmitted),
		TEST(test_rfc6675_mode_retransmits_the_same_reordering),
		TEST(test_rack_marks_loss_after_rtt_plus_reo_wnd),
		TEST(test_rack_reo_wnd_is_at_least_a_timer_tick),
		TEST(test_rack_records_merge_without_spurious_losses),
		TEST(test_rack_detects_a_lost_retransmission_without_rto),
		TEST(test_tlp_probes_a_lost_tail_before_the_rto),
		TEST(test_tlp_probes_a_lone_segment_before_the_rto),
		TEST(test_dsack_widens_the_reordering_window),
		TEST(test_dsack_of_a_path_duplicate_does_not_undo),
		TEST(test_dsack_undo_during_recovery_ends_it),
		TEST(test_eifel_timestamp_echo_undoes_a_spurious_recovery),
		TEST(test_eifel_does_not_undo_a_real_loss),
		TEST(test_lossy_transfer_sack_cubic),
		TEST(test_lossy_transfer_sack_newreno),
		TEST(test_lossy_transfer_nosack_cubic),
		TEST(test_lossy_transfer_nosack_newreno),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
