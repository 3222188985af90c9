/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receiver-side D-SACK (RFC 2883): the ACK answering a duplicate segment carries the
 * duplicate range as the first SACK block, followed by the usual blocks; only when SACK was
 * negotiated; once per duplicate. Checked on the option bytes of the ACK.
 */
#include "test_common.h"

#define MSS 1000u

static uint32_t snd_base(void)
{
	return T->our_iss + 1;
}

/* Client; the peer's SYN,ACK has MSS 1000, SACK-permitted when @p sack, timestamps when
 * @p ts (and the peer then keeps sending them). */
static int client(bool sack, bool ts)
{
	uint8_t opts[20] = {2, 4, MSS >> 8, MSS & 0xff, 1, 1, 4, 2};
	unsigned optlen = sack ? 8 : 4;
	struct zpt_seg s;
	int fd = zp_socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	zpt_tcp_connect_syn(T, fd, &s);
	if (ts) {
		uint8_t t[12] = {1, 1, 8, 10, 0, 0, 0, 1};
		uint32_t ecr = rte_cpu_to_be_32(s.tsval);

		memcpy(t + 8, &ecr, 4);
		memcpy(opts + optlen, t, sizeof(t));
		optlen += sizeof(t);
		T->peer_ts = true;
		T->peer_tsval = 1;
	}
	zpt_tcp_inject_full(T, T->peer_nxt, T->our_iss + 1, F_SYN | F_ACK, T->peer_win, opts,
			    optlen, NULL, 0);
	T->peer_nxt++;
	expect_seg(F_ACK);
	return fd;
}

/* The peer sends @p len bytes at offset @p off of its stream (from the first data byte). */
static void peer_data(uint32_t base, uint32_t off, uint32_t len)
{
	static uint8_t d[2048];

	zpt_tcp_inject(T, base + off, snd_base(), F_ACK, d, len);
}

/* Options of the next captured segment, copied to @p o; returns their length. The segment
 * stays captured; *ack gets its acknowledgment number. */
static unsigned opts_of_next(uint8_t *o, uint32_t *ack)
{
	const struct tcp_wire_hdr *h;
	struct rte_mbuf *m;
	unsigned n;

	assert_true(zpt_tcp_pending(T) > 0);
	m = T->out[T->out_head % ZPT_TCP_MAX_OUT];
	h = rte_pktmbuf_mtod(m, const struct tcp_wire_hdr *);
	n = (unsigned)(h->doff >> 4) * 4 - TCP_HDR_LEN;
	memcpy(o, h + 1, n);
	*ack = rte_be_to_cpu_32(h->ack);
	return n;
}

/* Expected SACK option bytes: NOP, NOP, kind 5, length, then the blocks (offsets). */
static unsigned sack_bytes(uint8_t *o, uint32_t base, unsigned n, const uint32_t (*blk)[2])
{
	unsigned i;

	o[0] = 1;
	o[1] = 1;
	o[2] = 5;
	o[3] = (uint8_t)(2 + 8 * n);
	for (i = 0; i < n; i++) {
		uint32_t l = rte_cpu_to_be_32(base + blk[i][0]);
		uint32_t r = rte_cpu_to_be_32(base + blk[i][1]);

		memcpy(o + 4 + 8 * i, &l, 4);
		memcpy(o + 8 + 8 * i, &r, 4);
	}
	return 4 + 8 * n;
}

/* The next segment is an ACK of @p ack_off whose options are exactly the SACK blocks. */
static void expect_ack_blocks(uint32_t base, uint32_t ack_off, unsigned n, const uint32_t (*blk)[2])
{
	uint8_t got[40], want[40];
	unsigned gl, wl;
	uint32_t ack;

	gl = opts_of_next(got, &ack);
	wl = n ? sack_bytes(want, base, n, blk) : 0;
	assert_int_equal(ack, base + ack_off);
	assert_int_equal(gl, wl);
	assert_memory_equal(got, want, wl);
	zpt_tcp_drain(T);
}

static void test_duplicate_below_rcv_nxt_is_the_first_block_once(void **state)
{
	uint32_t base;
	int fd;

	(void)state;
	fd = client(true, false);
	base = T->peer_nxt;
	peer_data(base, 0, 100);
	expect_ack_blocks(base, 100, 0, NULL);
	/* The same segment again (our ACK was lost, or the peer retransmitted too early). */
	peer_data(base, 0, 100);
	expect_ack_blocks(base, 100, 1, (const uint32_t[][2]){{0, 100}});
	assert_int_equal(zpt_tcp_stat(T, "dsack_sent"), 1);
	/* Reported once: the next ACK has no block. */
	peer_data(base, 100, 100);
	expect_ack_blocks(base, 200, 0, NULL);
	assert_int_equal(zpt_tcp_stat(T, "dsack_sent"), 1);
	assert_int_equal(zpt_tcp_drop(T, "dup"), 1);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_partial_duplicate_reports_only_the_old_bytes(void **state)
{
	uint32_t base;
	int fd;

	(void)state;
	fd = client(true, false);
	base = T->peer_nxt;
	peer_data(base, 0, 100);
	zpt_tcp_drain(T);
	/* [50, 150): 50..100 was received, 100..150 is new. */
	peer_data(base, 50, 100);
	expect_ack_blocks(base, 150, 1, (const uint32_t[][2]){{50, 100}});
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_duplicate_out_of_order_data_then_its_block(void **state)
{
	uint32_t base;
	int fd;

	(void)state;
	fd = client(true, false);
	base = T->peer_nxt;
	peer_data(base, 0, 100);
	zpt_tcp_drain(T);
	peer_data(base, 200, 100); /* hole 100..200 */
	expect_ack_blocks(base, 100, 1, (const uint32_t[][2]){{200, 300}});
	peer_data(base, 400, 100);
	expect_ack_blocks(base, 100, 2, (const uint32_t[][2]){{400, 500}, {200, 300}});
	/* [200, 300) again: D-SACK, then the block that holds it (RFC 2883 §4.1.3), then the
	 * others. */
	peer_data(base, 200, 100);
	expect_ack_blocks(base, 100, 3, (const uint32_t[][2]){{200, 300}, {200, 300}, {400, 500}});
	/* [250, 350): half of it held already: D-SACK [250, 300), the grown block [200, 350). */
	peer_data(base, 250, 100);
	expect_ack_blocks(base, 100, 3, (const uint32_t[][2]){{250, 300}, {200, 350}, {400, 500}});
	/* The hole fills with a segment reaching into held data: [50, 250) duplicates both
	 * 50..100 (below RCV.NXT) and 200..250 (held): one D-SACK block, the first range. */
	peer_data(base, 50, 200);
	expect_ack_blocks(base, 350, 2, (const uint32_t[][2]){{50, 100}, {400, 500}});
	assert_int_equal(zpt_tcp_stat(T, "dsack_sent"), 3);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_in_order_data_covering_held_bytes_dsacks_them(void **state)
{
	uint32_t base;
	int fd;

	(void)state;
	fd = client(true, false);
	base = T->peer_nxt;
	peer_data(base, 100, 100); /* held out of order */
	zpt_tcp_drain(T);
	peer_data(base, 0, 150); /* in order, 100..150 a second time */
	expect_ack_blocks(base, 200, 1, (const uint32_t[][2]){{100, 150}});
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_with_timestamps_dsack_follows_the_ts_option(void **state)
{
	uint8_t got[40], want[40];
	uint32_t base, ack;
	unsigned gl, wl;
	int fd;

	(void)state;
	fd = client(true, true);
	base = T->peer_nxt;
	peer_data(base, 0, 100);
	peer_data(base, 200, 100);
	peer_data(base, 400, 100);
	peer_data(base, 600, 100);
	zpt_tcp_drain(T);
	peer_data(base, 0, 100);
	gl = opts_of_next(got, &ack);
	/* NOP NOP TS(10), then D-SACK + two of the three blocks (40 bytes of options). */
	wl = sack_bytes(want, base, 3, (const uint32_t[][2]){{0, 100}, {600, 700}, {400, 500}});
	assert_int_equal(gl, 12 + wl);
	assert_int_equal(got[0], 1);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 8);
	assert_int_equal(got[3], 10);
	assert_memory_equal(got + 12, want, wl);
	assert_int_equal(ack, base + 100);
	zp_close(fd);
	zpt_tcp_drain(T);
}

static void test_no_dsack_without_sack_permitted(void **state)
{
	uint32_t base;
	int fd;

	(void)state;
	fd = client(false, false);
	base = T->peer_nxt;
	peer_data(base, 0, 100);
	zpt_tcp_drain(T);
	peer_data(base, 0, 100);
	expect_ack_blocks(base, 100, 0, NULL); /* a plain ACK, no option at all */
	peer_data(base, 200, 100);
	zpt_tcp_drain(T);
	peer_data(base, 200, 100);
	expect_ack_blocks(base, 100, 0, NULL);
	assert_int_equal(zpt_tcp_stat(T, "dsack_sent"), 0);
	zp_close(fd);
	zpt_tcp_drain(T);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_duplicate_below_rcv_nxt_is_the_first_block_once),
		TEST(test_partial_duplicate_reports_only_the_old_bytes),
		TEST(test_duplicate_out_of_order_data_then_its_block),
		TEST(test_in_order_data_covering_held_bytes_dsacks_them),
		TEST(test_with_timestamps_dsack_follows_the_ts_option),
		TEST(test_no_dsack_without_sack_permitted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
