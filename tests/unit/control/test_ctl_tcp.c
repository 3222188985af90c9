/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control plane with real TCP connections (tests/lib/zpt_tcp.h: the socket layer and the
 * TCP engine on the harness's worker, a scripted peer): the monitoring stream reports the
 * connection's open and its close with how and why it ended, netstat lists it from the worker's
 * dump with the id the stream gave, a LIST subscriber sees it as existing, and conn drop resets
 * it on its worker; stats report the TCP engine's statistics and drop reasons with their values.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl.h"
#include "ctl_priv.h"
#include "zpt_tcp.h"
#include "tcp/tcp_wire.h"
#include "zpath/zpath_nmi.h"

#define INSTANCE "zctl-tcp"

static struct zpt_tcp *t;
static char dir[64], sock_path[128], nmi_path[128];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int setup(void **state)
{
	char err[256];
	int rc;

	(void)state;
	t = zpt_tcp_new();
	snprintf(dir, sizeof(dir), "/tmp/zctl-tcp.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/%s.sock", dir, INSTANCE);
	snprintf(nmi_path, sizeof(nmi_path), "%s/%s.nmi.sock", dir, INSTANCE);
	setenv("ZPATH_RUN_DIR", dir, 1);
	rc = ctl_start(&t->env->stack, INSTANCE, err, sizeof(err));
	if (rc != 0)
		fail_msg("ctl_start: %d %s", rc, err);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ctl_stop();
	zpt_poll(t->env);
	zpt_tcp_free(t);
	unlink(sock_path); /* ctl_stop() removed them, unless the test failed early */
	unlink(nmi_path);
	rmdir(dir);
	return 0;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("connect %s: %s", path, strerror(errno));
	return fd;
}

/* Send one request line and read the reply, running the worker meanwhile. */
static struct json_object *request(int fd, const char *line)
{
	char buf[65536];
	size_t have = 0;
	uint64_t end = now_ms() + 5000;
	char *nl;

	assert_int_equal(send(fd, line, strlen(line), MSG_NOSIGNAL), (ssize_t)strlen(line));
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t n;

		nl = memchr(buf, '\n', have);
		if (nl != NULL) {
			struct json_object *o;

			*nl = '\0';
			o = json_tokener_parse(buf);
			assert_non_null(o);
			return o;
		}
		if (now_ms() > end)
			fail_msg("no reply to %s", line);
		zpt_poll(t->env);
		if (poll(&p, 1, 1) <= 0)
			continue;
		n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		assert_true(n > 0);
		have += (size_t)n;
	}
}

static struct json_object *field(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

/* Next record on subscriber @p fd (its own buffer @p b), running the worker meanwhile. */
struct rbuf {
	uint8_t data[65536];
	size_t have;
};

static void next_record(int fd, struct rbuf *b, struct zp_nmi_record *rec)
{
	uint64_t end = now_ms() + 5000;
	ssize_t used, n;

	for (;;) {
		used = zp_nmi_decode(b->data, b->have, rec);
		assert_true(used >= 0);
		if (used > 0) {
			b->have -= (size_t)used;
			memmove(b->data, b->data + used, b->have);
			return;
		}
		if (now_ms() > end)
			fail_msg("no NMI record within 5 s");
		zpt_poll(t->env);
		n = recv(fd, b->data + b->have, sizeof(b->data) - b->have, MSG_DONTWAIT);
		assert_true(n != 0);
		if (n < 0) {
			assert_int_equal(errno, EAGAIN);
			usleep(1000);
			continue;
		}
		b->have += (size_t)n;
	}
}

static void test_ctl_sees_a_real_connection_open_listed_and_dropped(void **state)
{
	static struct rbuf sb, lb;
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_REQUEST};
	uint8_t req[sizeof(struct zp_nmi_wire_request)];
	struct json_object *o, *conns, *c;
	struct zpt_seg seg;
	uint64_t id;
	char line[128];
	int sub, list, fd, lfd, ctl, rst = 0;
	unsigned listed = 0;
	bool seen = false;

	(void)state;
	sub = connect_to(nmi_path);
	next_record(sub, &sb, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_INIT); /* events are on from here */

	/* The peer opens a connection to port 80. */
	fd = zpt_tcp_server(t, 80, &lfd);
	next_record(sub, &sb, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_CONN_OPEN);
	assert_int_equal(rec.u.conn.state, ZP_TCP_ESTABLISHED);
	assert_int_equal(rec.u.conn.worker, 0);
	assert_int_equal(rec.u.conn.laddr, ZPT_IP(10, 0, 0, 1));
	assert_int_equal(rec.u.conn.raddr, ZPT_IP(10, 0, 0, 2));
	assert_int_equal(rte_be_to_cpu_16(rec.u.conn.lport), 80);
	assert_int_equal(rte_be_to_cpu_16(rec.u.conn.rport), 40000);
	assert_string_equal(rec.u.conn.transport, "tcp");
	assert_int_equal(rec.u.conn.flags, 0);
	id = rec.u.conn.conn_id;
	assert_int_equal(id >> 48, 0);

	/* netstat lists it, with the same id. */
	ctl = connect_to(sock_path);
	o = request(ctl, "{\"cmd\":\"netstat\",\"state\":\"ESTABLISHED\",\"port\":80}\n");
	conns = field(o, "connections");
	assert_int_equal(json_object_array_length(conns), 1);
	c = json_object_array_get_idx(conns, 0);
	assert_int_equal(json_object_get_uint64(field(c, "id")), id);
	assert_string_equal(json_object_get_string(field(c, "laddr")), "10.0.0.1");
	assert_int_equal(json_object_get_int(field(c, "rport")), 40000);
	json_object_put(o);
	o = request(ctl, "{\"cmd\":\"netstat\",\"port\":81}\n");
	assert_int_equal(json_object_array_length(field(o, "connections")), 0);
	json_object_put(o);

	/* A LIST subscriber sees it as an existing connection. */
	list = connect_to(nmi_path);
	rec.id = ZP_NMI_ID_REQUEST;
	rec.u.request.flags = ZP_NMI_REQ_LIST;
	assert_int_equal(zp_nmi_encode(&rec, req, sizeof(req)), (ssize_t)sizeof(req));
	assert_int_equal(send(list, req, sizeof(req), 0), (ssize_t)sizeof(req));
	next_record(list, &lb, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_INIT);
	/* The snapshot: every connection block of the worker (the listener too), then LIST_END. */
	for (;;) {
		next_record(list, &lb, &rec);
		if (rec.id == ZP_NMI_ID_LIST_END)
			break;
		assert_int_equal(rec.id, ZP_NMI_ID_CONN_OPEN);
		assert_int_equal(rec.u.conn.flags, ZP_NMI_CONN_EXISTING);
		listed++;
		if (rec.u.conn.conn_id == id) {
			assert_int_equal(rec.u.conn.state, ZP_TCP_ESTABLISHED);
			seen = true;
		}
	}
	assert_true(seen);
	assert_int_equal(rec.u.list_end.count, listed);
	assert_int_equal(rec.u.list_end.flags, 0);
	close(list);

	/* conn drop: the worker resets it; the stream says how it ended. */
	zpt_tcp_drain(t);
	snprintf(line, sizeof(line), "{\"cmd\":\"conn-drop\",\"id\":%llu}\n",
		 (unsigned long long)id);
	o = request(ctl, line);
	assert_true(json_object_get_boolean(field(o, "ok")));
	assert_string_equal(json_object_get_string(field(o, "result")), "done");
	json_object_put(o);
	while (zpt_tcp_pop(t, &seg))
		rst |= seg.flags & TCP_FLAG_RST;
	assert_true(rst);
	next_record(sub, &sb, &rec);
	assert_int_equal(rec.id, ZP_NMI_ID_CONN_CLOSE);
	assert_int_equal(rec.u.conn.conn_id, id);
	assert_int_equal(rec.u.conn.how, ZP_NMI_CLOSE_RESET_OUT);
	print_message("CONN_CLOSE after drop: how=%s app_errno=%d duration=%llu ns\n",
		      zp_nmi_close_how_name(rec.u.conn.how), rec.u.conn.app_errno,
		      (unsigned long long)rec.u.conn.duration_ns);

	o = request(ctl, "{\"cmd\":\"netstat\",\"state\":\"ESTABLISHED\"}\n");
	assert_int_equal(json_object_array_length(field(o, "connections")), 0);
	json_object_put(o);
	/* Dropping it again: not found. */
	o = request(ctl, line);
	assert_false(json_object_get_boolean(field(o, "ok")));
	assert_string_equal(json_object_get_string(field(o, "error")), "ENOENT");
	json_object_put(o);

	zp_close(fd);
	zp_close(lfd);
	zpt_tcp_drain(t);
	close(ctl);
	close(sub);
}

static uint64_t tcp_counter(struct json_object *o, const char *section, const char *name)
{
	struct json_object *v = field(field(field(o, "tcp"), section), name);

	if (v == NULL)
		fail_msg("no tcp.%s.%s", section, name);
	return json_object_get_uint64(v);
}

static void test_ctl_stats_report_the_tcp_engine_counters(void **state)
{
	struct json_object *o, *w0, *total, *help;
	struct zpt_seg seg;
	int fd, lfd, ctl;

	(void)state;
	/* One passive open, then a SYN to a port nothing listens on: RST, drop no_conn. */
	fd = zpt_tcp_server(t, 80, &lfd);
	t->lport = 81;
	zpt_tcp_inject(t, 5000, 0, TCP_FLAG_SYN, NULL, 0);
	assert_true(zpt_tcp_pop(t, &seg));
	assert_true(seg.flags & TCP_FLAG_RST);
	t->lport = 80;
	assert_int_equal(zpt_tcp_stat(t, "passive_opens"), 1);
	assert_int_equal(zpt_tcp_drop(t, "no_conn"), 1);

	ctl = connect_to(sock_path);
	o = request(ctl, "{\"cmd\":\"stats\"}\n");
	assert_true(json_object_get_boolean(field(o, "ok")));
	w0 = json_object_array_get_idx(field(o, "workers"), 0);
	total = field(o, "total");
	/* Per worker and in the total, next to the dataplane's counters, by the engine's names. */
	assert_int_equal(tcp_counter(w0, "stats", "passive_opens"), 1);
	assert_int_equal(tcp_counter(total, "stats", "passive_opens"), 1);
	assert_int_equal(tcp_counter(w0, "stats", "conn_established"), 1);
	assert_int_equal(tcp_counter(w0, "drops", "no_conn"), 1);
	assert_int_equal(tcp_counter(total, "drops", "no_conn"), 1);
	assert_int_equal(tcp_counter(w0, "stats", "rst_out"), zpt_tcp_stat(t, "rst_out"));
	assert_int_equal(tcp_counter(total, "stats", "segs_in"), zpt_tcp_stat(t, "segs_in"));
	assert_int_equal(tcp_counter(total, "stats", "segs_out"), zpt_tcp_stat(t, "segs_out"));
	assert_true(zpt_tcp_stat(t, "segs_in") >= 3);
	/* Every counter of the engine, each with its help text. */
	assert_int_equal(json_object_object_length(field(field(total, "tcp"), "stats")),
			 tcp_stat_count());
	assert_int_equal(json_object_object_length(field(field(total, "tcp"), "drops")),
			 tcp_drop_count());
	help = field(field(o, "help"), "tcp");
	assert_string_equal(json_object_get_string(field(field(help, "drops"), "no_conn")),
			    tcp_drop_help(3));
	assert_string_equal(tcp_drop_name(3), "no_conn");
	assert_non_null(field(field(help, "stats"), "passive_opens"));
	/* The dataplane's own sections are unchanged. */
	assert_non_null(field(field(total, "stats"), "rx_packets"));
	assert_non_null(field(field(total, "drops"), "ip_csum"));
	json_object_put(o);

	zp_close(fd);
	zp_close(lfd);
	zpt_tcp_drain(t);
	close(ctl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_ctl_sees_a_real_connection_open_listed_and_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_stats_report_the_tcp_engine_counters,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
