/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The monitoring stream's records (include/zpath/zpath_nmi.h, control/ctl_nmi.c): the exact
 * bytes on the wire, decode of every record and of every malformed header, what a subscriber
 * may write (one REQUEST; anything else is EINVAL, anything after it EPIPE), and the bounded
 * output queue that turns a slow reader into TERM EWOULDBLOCK. Pure: no EAL.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_priv.h"
#include "zpath/zpath_nmi.h"
#include "zpath/zpath_socket.h"

/* On Linux the TERM codes are the errno values themselves. */
_Static_assert(ZP_NMI_TERM_EWOULDBLOCK == EWOULDBLOCK, "EWOULDBLOCK");
_Static_assert(ZP_NMI_TERM_ENOMEM == ENOMEM, "ENOMEM");
_Static_assert(ZP_NMI_TERM_EACCES == EACCES, "EACCES");
_Static_assert(ZP_NMI_TERM_EINVAL == EINVAL, "EINVAL");
_Static_assert(ZP_NMI_TERM_EPIPE == EPIPE, "EPIPE");

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void test_nmi_term_wire_bytes_are_big_endian(void **state)
{
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_TERM};
	uint8_t buf[64];
	static const uint8_t want[40] = {
		0,    0,    0,	  40,	'T',  'E',  'R',  'M',	0, 0, 0, 1,
		0,    0,    0,	  0,	0,    0,    0,	  11,	/* termcode EWOULDBLOCK */
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* time_ns */
		0,    0,    0,	  0,	0,    0,    0,	  0,	0, 0, 0, 0,
	};

	(void)state;
	rec.u.term.termcode = ZP_NMI_TERM_EWOULDBLOCK;
	rec.u.term.time_ns = 0x0102030405060708ULL;
	assert_int_equal(zp_nmi_encode(&rec, buf, sizeof(buf)), 40);
	assert_memory_equal(buf, want, sizeof(want));
}

static void test_nmi_ids_read_as_text(void **state)
{
	(void)state;
	assert_int_equal(ZP_NMI_ID_INIT, 0x494e4954);
	assert_string_equal(zp_nmi_id_name(ZP_NMI_ID_CONN_CLOSE), "CONN_CLOSE");
	assert_string_equal(zp_nmi_id_name(0x12345678), "unknown");
	assert_string_equal(zp_nmi_termcode_name(0), "planned");
	assert_string_equal(zp_nmi_termcode_name(11), "EWOULDBLOCK");
	assert_string_equal(zp_nmi_termcode_name(999), "unknown");
	assert_string_equal(zp_nmi_close_how_name(ZP_NMI_CLOSE_RESET_IN), "reset_in");
}

/* Encode, decode, compare: every record type keeps every field. */
static void round_trip(const struct zp_nmi_record *in, size_t wire_size)
{
	uint8_t buf[ZP_NMI_MAX_LEN];
	struct zp_nmi_record out;
	ssize_t n = zp_nmi_encode(in, buf, sizeof(buf));

	assert_int_equal(n, (ssize_t)wire_size);
	/* Every shorter prefix is "need more bytes", not an error. */
	for (size_t k = 0; k < wire_size; k++)
		assert_int_equal(zp_nmi_decode(buf, k, &out), 0);
	assert_int_equal(zp_nmi_decode(buf, (size_t)n, &out), n);
	assert_int_equal(out.id, in->id);
	assert_int_equal(out.version, ZP_NMI_VERSION1);
	assert_int_equal(out.len, wire_size);
	assert_memory_equal(&out.u, &in->u, sizeof(out.u));
}

static void test_nmi_every_record_round_trips(void **state)
{
	struct zp_nmi_record r;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_REQUEST;
	r.u.request.flags = ZP_NMI_REQ_ALL;
	r.u.request.queue_kib = 1024;
	round_trip(&r, sizeof(struct zp_nmi_wire_request));

	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_INIT;
	strcpy(r.u.init.instance, "zctl-unit");
	strcpy(r.u.init.stack_version, "0.1.0");
	r.u.init.start_ns = 1700000000123456789ULL;
	r.u.init.now_ns = 1700000001123456789ULL;
	r.u.init.pid = 4242;
	r.u.init.nb_workers = 3;
	r.u.init.flags = ZP_NMI_REQ_EVENTS;
	r.u.init.queue_bytes = ZP_NMI_QUEUE_DEFAULT;
	round_trip(&r, sizeof(struct zp_nmi_wire_init));

	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_CONN_OPEN;
	r.u.conn.conn_id = (2ULL << 48) | 1234;
	r.u.conn.time_ns = 99;
	r.u.conn.worker = 2;
	r.u.conn.state = ZP_TCP_ESTABLISHED;
	r.u.conn.flags = ZP_NMI_CONN_EXISTING;
	r.u.conn.laddr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	r.u.conn.raddr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
	r.u.conn.lport = rte_cpu_to_be_16(80);
	r.u.conn.rport = rte_cpu_to_be_16(51234);
	strcpy(r.u.conn.transport, "smcd");
	strcpy(r.u.conn.tls, "TLSv1.3");
	round_trip(&r, sizeof(struct zp_nmi_wire_conn_open));

	r.id = ZP_NMI_ID_CONN_CLOSE;
	r.u.conn.bytes_in = 1ULL << 40;
	r.u.conn.bytes_out = 12345;
	r.u.conn.duration_ns = 5000000000ULL;
	r.u.conn.how = ZP_NMI_CLOSE_TIMEOUT;
	r.u.conn.app_errno = ETIMEDOUT;
	round_trip(&r, sizeof(struct zp_nmi_wire_conn_close));
	r.u.conn.app_errno = -1; /* signed on the wire */
	round_trip(&r, sizeof(struct zp_nmi_wire_conn_close));

	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_LIST_END;
	r.u.list_end.count = 17;
	r.u.list_end.flags = ZP_NMI_LIST_INCOMPLETE;
	r.u.list_end.time_ns = 5;
	round_trip(&r, sizeof(struct zp_nmi_wire_list_end));

	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_LOST;
	r.u.lost.count = 3;
	r.u.lost.total = 300;
	r.u.lost.time_ns = 7;
	round_trip(&r, sizeof(struct zp_nmi_wire_lost));

	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_TERM;
	r.u.term.termcode = ZP_NMI_TERM_EACCES;
	r.u.term.time_ns = 8;
	round_trip(&r, sizeof(struct zp_nmi_wire_term));
}

static void test_nmi_strings_fill_their_field_without_overflow(void **state)
{
	struct zp_nmi_record r, out;
	uint8_t buf[256];

	(void)state;
	memset(&r, 0, sizeof(r));
	r.id = ZP_NMI_ID_INIT;
	memset(r.u.init.instance, 'x', 64); /* exactly the field: no terminator on the wire */
	strcpy(r.u.init.stack_version, "0123456789abcdefXYZ"); /* longer: cut at 16 */
	assert_int_equal(zp_nmi_encode(&r, buf, sizeof(buf)), 136);
	assert_int_equal(zp_nmi_decode(buf, 136, &out), 136);
	assert_int_equal(strlen(out.u.init.instance), 64);
	assert_string_equal(out.u.init.stack_version, "0123456789abcdef");
}

static void test_nmi_encode_errors(void **state)
{
	struct zp_nmi_record r = {.id = ZP_NMI_ID_TERM};
	uint8_t buf[64];

	(void)state;
	errno = 0;
	assert_int_equal(zp_nmi_encode(&r, buf, 39), -1);
	assert_int_equal(errno, ENOSPC);
	r.id = 0x41414141;
	assert_int_equal(zp_nmi_encode(&r, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
}

static void test_nmi_decode_malformed_headers(void **state)
{
	uint8_t buf[ZP_NMI_MAX_LEN + 16];
	struct zp_nmi_record r;

	(void)state;
	memset(buf, 0, sizeof(buf));
	put32(buf + 4, ZP_NMI_ID_TERM);
	put32(buf + 8, 1);

	put32(buf, 15); /* shorter than a header */
	errno = 0;
	assert_int_equal(zp_nmi_decode(buf, 16, &r), -1);
	assert_int_equal(errno, EINVAL);
	put32(buf, ZP_NMI_MAX_LEN + 1);
	assert_int_equal(zp_nmi_decode(buf, 16, &r), -1);
	put32(buf, 39); /* TERM needs 40 */
	assert_int_equal(zp_nmi_decode(buf, 40, &r), -1);
	put32(buf, 40);
	put32(buf + 8, 0); /* version 0 */
	assert_int_equal(zp_nmi_decode(buf, 40, &r), -1);
	assert_int_equal(errno, EINVAL);
	put32(buf + 8, 1);
	assert_int_equal(zp_nmi_decode(buf, 40, &r), 40);
}

static void test_nmi_unknown_record_is_skipped_by_length(void **state)
{
	uint8_t buf[64];
	struct zp_nmi_record r;

	(void)state;
	memset(buf, 0xee, sizeof(buf));
	put32(buf, 24);
	put32(buf + 4, ZP_NMI_ID('Z', 'E', 'R', 'T'));
	put32(buf + 8, 1);
	assert_int_equal(zp_nmi_decode(buf, 23, &r), 0);
	assert_int_equal(zp_nmi_decode(buf, 64, &r), 24);
	assert_int_equal(r.id, ZP_NMI_ID('Z', 'E', 'R', 'T'));
	assert_int_equal(r.len, 24);
}

/* A later version may append fields: version 1 readers take the prefix and skip the rest. */
static void test_nmi_longer_newer_record_decodes_its_v1_prefix(void **state)
{
	struct zp_nmi_record r = {.id = ZP_NMI_ID_TERM}, out;
	uint8_t buf[64];

	(void)state;
	memset(buf, 0xab, sizeof(buf));
	r.u.term.termcode = 0;
	r.u.term.time_ns = 42;
	assert_int_equal(zp_nmi_encode(&r, buf, sizeof(buf)), 40);
	put32(buf, 56);
	put32(buf + 8, 2);
	assert_int_equal(zp_nmi_decode(buf, 56, &out), 56);
	assert_int_equal(out.version, 2);
	assert_int_equal(out.u.term.time_ns, 42);
}

/* ---- what a subscriber may write --------------------------------------------------------- */

static size_t request_bytes(uint8_t *buf, uint32_t flags, uint32_t kib)
{
	struct zp_nmi_record r = {.id = ZP_NMI_ID_REQUEST};

	r.u.request.flags = flags;
	r.u.request.queue_kib = kib;
	return (size_t)zp_nmi_encode(&r, buf, 64);
}

static void test_nmi_rx_accepts_one_request_in_any_pieces(void **state)
{
	struct ctl_nmi_rx rx;
	struct zp_nmi_request req;
	uint8_t buf[64];
	size_t n = request_bytes(buf, ZP_NMI_REQ_LIST, 64), i;

	(void)state;
	ctl_nmi_rx_init(&rx);
	assert_int_equal(ctl_nmi_rx_feed(&rx, buf, n, &req), 1);
	assert_int_equal(req.flags, ZP_NMI_REQ_LIST);
	assert_int_equal(req.queue_kib, 64);

	ctl_nmi_rx_init(&rx);
	for (i = 0; i + 1 < n; i++)
		assert_int_equal(ctl_nmi_rx_feed(&rx, buf + i, 1, &req), 0);
	assert_int_equal(ctl_nmi_rx_feed(&rx, buf + i, 1, &req), 1);
	assert_int_equal(ctl_nmi_rx_feed(&rx, buf, 0, &req), 0);
}

static void test_nmi_rx_anything_after_the_request_is_epipe(void **state)
{
	struct ctl_nmi_rx rx;
	struct zp_nmi_request req;
	uint8_t buf[64];
	size_t n = request_bytes(buf, ZP_NMI_REQ_EVENTS, 0);

	(void)state;
	ctl_nmi_rx_init(&rx);
	assert_int_equal(ctl_nmi_rx_feed(&rx, buf, n, &req), 1);
	assert_int_equal(ctl_nmi_rx_feed(&rx, "x", 1, &req), -EPIPE);
	/* The request and one more byte in the same write. */
	ctl_nmi_rx_init(&rx);
	buf[n] = 0;
	assert_int_equal(ctl_nmi_rx_feed(&rx, buf, n + 1, &req), -EPIPE);
}

/* Each bad header word is refused as soon as it has arrived. */
static void test_nmi_rx_malformed_request_is_einval_at_the_first_bad_word(void **state)
{
	static const struct {
		size_t off;
		uint32_t val;
		size_t refused_after;
	} bad[] = {
		{0, 16, 4},		/* length is not the REQUEST's */
		{4, ZP_NMI_ID_TERM, 8}, /* not a REQUEST */
		{8, 0, 12},		/* version 0 */
		{8, 2, 12},		/* a version we do not know */
		{12, 1, 16},		/* header reserved */
		{16, 0x4, 20},		/* unknown flag */
		{24, 1, 28},		/* body reserved */
		{28, 0x01000000, 32},
	};
	struct ctl_nmi_rx rx;
	struct zp_nmi_request req;
	uint8_t buf[64];
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t n = request_bytes(buf, ZP_NMI_REQ_EVENTS, 0);
		int rc = 0;

		put32(buf + bad[i].off, bad[i].val);
		ctl_nmi_rx_init(&rx);
		for (k = 0; k < n && rc == 0; k++)
			rc = ctl_nmi_rx_feed(&rx, buf + k, 1, &req);
		if (rc != -EINVAL || k != bad[i].refused_after)
			fail_msg("case %zu: rc %d after %zu bytes, expected -EINVAL after %zu", i,
				 rc, k, bad[i].refused_after);
	}
	/* Plain text is refused at its fourth byte. */
	ctl_nmi_rx_init(&rx);
	assert_int_equal(ctl_nmi_rx_feed(&rx, "hello\n", 6, &req), -EINVAL);
}

static void test_nmi_queue_size_is_clamped(void **state)
{
	(void)state;
	assert_int_equal(ctl_nmi_queue_bytes(0), ZP_NMI_QUEUE_DEFAULT);
	assert_int_equal(ctl_nmi_queue_bytes(1), ZP_NMI_QUEUE_MIN);
	assert_int_equal(ctl_nmi_queue_bytes(64), 64 * 1024);
	assert_int_equal(ctl_nmi_queue_bytes(UINT32_MAX), ZP_NMI_QUEUE_MAX);
}

/* ---- output queue ------------------------------------------------------------------------ */

static void test_outq_keeps_room_for_term(void **state)
{
	struct ctl_outq q;
	uint8_t rec[100], term[40];

	(void)state;
	memset(rec, 1, sizeof(rec));
	memset(term, 2, sizeof(term));
	ctl_outq_init(&q, 340, sizeof(term));
	assert_int_equal(ctl_outq_push(&q, rec, 100, false), 0);
	assert_int_equal(ctl_outq_push(&q, rec, 100, false), 0);
	assert_int_equal(ctl_outq_push(&q, rec, 100, false), 0);
	/* 300 queued: another record would eat TERM's room */
	assert_int_equal(ctl_outq_push(&q, rec, 1, false), -ENOSPC);
	assert_int_equal(ctl_outq_push(&q, term, sizeof(term), true), 0);
	assert_int_equal(ctl_outq_pending(&q), 340);
	assert_int_equal(ctl_outq_push(&q, term, 1, true), -ENOSPC);
	ctl_outq_fini(&q);
}

static void test_outq_allocation_failure_is_enomem(void **state)
{
	struct ctl_outq q;

	(void)state;
	ctl_outq_init(&q, 4096, 40);
	q.fail_alloc = true;
	assert_int_equal(ctl_outq_push(&q, "x", 1, false), -ENOMEM);
	assert_int_equal(ctl_outq_pending(&q), 0);
	ctl_outq_fini(&q);
}

/* Over a socket whose peer does not read: partial flush, EAGAIN, then the rest once read. */
static void test_outq_flush_resumes_after_eagain(void **state)
{
	struct ctl_outq q;
	static uint8_t data[512 * 1024], got[sizeof(data)];
	size_t have = 0, i;
	int sv[2], sz = 4096;

	(void)state;
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	ctl_outq_init(&q, sizeof(data), 0);
	assert_int_equal(ctl_outq_push(&q, data, sizeof(data), false), 0);
	assert_int_equal(ctl_outq_flush(&q, sv[0]), -EAGAIN);
	assert_true(ctl_outq_pending(&q) > 0);
	while (have < sizeof(data)) {
		ssize_t n = recv(sv[1], got + have, sizeof(got) - have, MSG_DONTWAIT);

		if (n > 0)
			have += (size_t)n;
		ctl_outq_flush(&q, sv[0]);
	}
	assert_int_equal(ctl_outq_pending(&q), 0);
	assert_memory_equal(got, data, sizeof(data));
	close(sv[1]);
	assert_int_equal(ctl_outq_push(&q, "y", 1, false), 0);
	assert_int_equal(ctl_outq_flush(&q, sv[0]), -EPIPE);
	close(sv[0]);
	ctl_outq_fini(&q);
}

/* ---- records from dataplane events ------------------------------------------------------- */

static void test_nmi_from_event_carries_close_details(void **state)
{
	struct dp_conn_event ev;
	struct zp_nmi_record rec;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.type = DP_CONN_CLOSE;
	ev.view.id = (1ULL << 48) | 3;
	ev.view.worker = 1;
	ev.view.state = ZP_TCP_CLOSED;
	ev.view.lport = rte_cpu_to_be_16(80);
	memcpy(ev.view.transport, "tcpxxxxx", 8); /* full field, no terminator */
	ev.bytes_in = 10;
	ev.bytes_out = 20;
	ev.duration_ns = 30;
	ev.how = DP_CLOSE_RESET_IN;
	ev.app_errno = ECONNRESET;
	ctl_nmi_from_event(&ev, 1234, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_CONN_CLOSE);
	assert_int_equal(rec.u.conn.conn_id, ev.view.id);
	assert_int_equal(rec.u.conn.time_ns, 1234);
	assert_int_equal(rec.u.conn.lport, rte_cpu_to_be_16(80));
	assert_string_equal(rec.u.conn.transport, "tcpxxxxx");
	assert_int_equal(rec.u.conn.bytes_in, 10);
	assert_int_equal(rec.u.conn.bytes_out, 20);
	assert_int_equal(rec.u.conn.duration_ns, 30);
	assert_int_equal(rec.u.conn.how, ZP_NMI_CLOSE_RESET_IN);
	assert_int_equal(rec.u.conn.app_errno, ECONNRESET);
	assert_int_equal(rec.u.conn.flags, 0);

	ev.type = DP_CONN_OPEN;
	ctl_nmi_from_event(&ev, 1, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_CONN_OPEN);
	assert_int_equal(rec.u.conn.bytes_in, 0);
	ctl_nmi_from_view(&ev.view, 1, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_CONN_OPEN);
	assert_int_equal(rec.u.conn.flags, ZP_NMI_CONN_EXISTING);
}

static void test_nmi_close_how_maps_every_reason(void **state)
{
	(void)state;
	assert_int_equal(ctl_nmi_close_how(DP_CLOSE_NORMAL), ZP_NMI_CLOSE_NORMAL);
	assert_int_equal(ctl_nmi_close_how(DP_CLOSE_RESET_IN), ZP_NMI_CLOSE_RESET_IN);
	assert_int_equal(ctl_nmi_close_how(DP_CLOSE_RESET_OUT), ZP_NMI_CLOSE_RESET_OUT);
	assert_int_equal(ctl_nmi_close_how(DP_CLOSE_TIMEOUT), ZP_NMI_CLOSE_TIMEOUT);
	assert_int_equal(ctl_nmi_close_how(DP_CLOSE_REFUSED), ZP_NMI_CLOSE_REFUSED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nmi_term_wire_bytes_are_big_endian),
		cmocka_unit_test(test_nmi_ids_read_as_text),
		cmocka_unit_test(test_nmi_every_record_round_trips),
		cmocka_unit_test(test_nmi_strings_fill_their_field_without_overflow),
		cmocka_unit_test(test_nmi_encode_errors),
		cmocka_unit_test(test_nmi_decode_malformed_headers),
		cmocka_unit_test(test_nmi_unknown_record_is_skipped_by_length),
		cmocka_unit_test(test_nmi_longer_newer_record_decodes_its_v1_prefix),
		cmocka_unit_test(test_nmi_rx_accepts_one_request_in_any_pieces),
		cmocka_unit_test(test_nmi_rx_anything_after_the_request_is_epipe),
		cmocka_unit_test(test_nmi_rx_malformed_request_is_einval_at_the_first_bad_word),
		cmocka_unit_test(test_nmi_queue_size_is_clamped),
		cmocka_unit_test(test_outq_keeps_room_for_term),
		cmocka_unit_test(test_outq_allocation_failure_is_enomem),
		cmocka_unit_test(test_outq_flush_resumes_after_eagain),
		cmocka_unit_test(test_nmi_from_event_carries_close_details),
		cmocka_unit_test(test_nmi_close_how_maps_every_reason),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
