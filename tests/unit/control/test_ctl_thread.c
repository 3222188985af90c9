/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread for real (control/ctl_thread.c, ctl_job.c, ctl_monitor.c,
 * ctl_sockopt.c) on the test harness's stack: the test talks to the control socket and the
 * monitoring socket like zpathctl does, and plays the worker itself with zpt_poll(), so it
 * sees that requests needing a worker wait for it, that a silent worker is reported after
 * the timeout, that sockopt changes reach dp_sockopt_defaults_get() through RCU, that
 * connection events travel hook -> ring -> subscriber, and every TERM the server can send
 * from here (planned, EINVAL, EPIPE, ENOMEM, EWOULDBLOCK). EACCES needs another uid: see
 * tests/integration/test_zpathctl_monitor.sh.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl.h"
#include "ctl_priv.h"
#include "zpt.h"
#include "zpath/zpath_socket.h"
#include "zpath/zpath_nmi.h"

#define INSTANCE "zctl-unit"

static struct zpt_env *env;
static char dir[64], sock_path[128], nmi_path[128];

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int start(bool debug)
{
	char err[256];
	int rc;

	env = zpt_env_new(1);
	snprintf(dir, sizeof(dir), "/tmp/zctl-unit.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/%s.sock", dir, INSTANCE);
	snprintf(nmi_path, sizeof(nmi_path), "%s/%s.nmi.sock", dir, INSTANCE);
	setenv("ZPATH_RUN_DIR", dir, 1);
	if (debug)
		setenv("ZPATH_CTL_DEBUG", "1", 1);
	else
		unsetenv("ZPATH_CTL_DEBUG");
	rc = ctl_start(&env->stack, INSTANCE, err, sizeof(err));
	if (rc != 0)
		fail_msg("ctl_start: %d %s", rc, err);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	return start(true);
}

static int setup_nodebug(void **state)
{
	(void)state;
	return start(false);
}

static int teardown(void **state)
{
	(void)state;
	ctl_stop();
	/* Jobs the worker still holds run now and free themselves. */
	zpt_poll(env);
	zpt_env_free(env);
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

static void send_str(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

/* Read one reply line, running the worker meanwhile if @p poll_worker; NULL on timeout. */
static struct json_object *reply(int fd, bool poll_worker, unsigned timeout_ms)
{
	static char buf[1 << 20];
	static size_t have;
	uint64_t end = now_ms() + timeout_ms;
	char *nl;

	for (;;) {
		nl = memchr(buf, '\n', have);
		if (nl != NULL) {
			struct json_object *o;

			*nl = '\0';
			o = json_tokener_parse(buf);
			assert_non_null(o);
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
			return o;
		}
		if (now_ms() > end)
			return NULL;
		if (poll_worker)
			zpt_poll(env);
		{
			struct pollfd p = {.fd = fd, .events = POLLIN};
			ssize_t n;

			if (poll(&p, 1, poll_worker ? 1 : 10) <= 0)
				continue;
			n = recv(fd, buf + have, sizeof(buf) - have, 0);
			assert_true(n > 0);
			have += (size_t)n;
		}
	}
}

static struct json_object *request(int fd, const char *line, bool poll_worker)
{
	struct json_object *o;

	send_str(fd, line);
	o = reply(fd, poll_worker, 5000);
	if (o == NULL)
		fail_msg("no reply to %s", line);
	return o;
}

static struct json_object *field(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	json_object_object_get_ex(o, k, &v);
	return v;
}

static bool ok(struct json_object *o)
{
	return json_object_get_boolean(field(o, "ok"));
}

/* Next NMI record from @p fd, polling the worker meanwhile; false at EOF. */
static bool next_record(int fd, struct zp_nmi_record *rec)
{
	static uint8_t buf[1 << 20];
	static size_t have;
	static int last_fd = -1;
	uint64_t end = now_ms() + 5000;
	ssize_t used, n;

	if (fd != last_fd) {
		have = 0;
		last_fd = fd;
	}
	for (;;) {
		used = zp_nmi_decode(buf, have, rec);
		assert_true(used >= 0);
		if (used > 0) {
			have -= (size_t)used;
			memmove(buf, buf + used, have);
			return true;
		}
		if (now_ms() > end)
			fail_msg("no NMI record within 5 s");
		zpt_poll(env);
		n = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (n == 0)
			return false;
		if (n < 0) {
			assert_true(errno == EAGAIN || errno == ECONNRESET);
			if (errno == ECONNRESET)
				return false;
			usleep(1000);
			continue;
		}
		have += (size_t)n;
	}
}

static void expect_term(int fd, uint32_t code)
{
	struct zp_nmi_record rec;

	do {
		if (!next_record(fd, &rec))
			fail_msg("EOF without TERM, expected TERM %s", zp_nmi_termcode_name(code));
	} while (rec.id != ZP_NMI_ID_TERM);
	assert_int_equal(rec.u.term.termcode, code);
	assert_true(rec.u.term.time_ns > 0);
	assert_false(next_record(fd, &rec)); /* then the server closes */
}

/* ---- control socket ---------------------------------------------------------------------- */

static void test_ctl_status_needs_no_worker(void **state)
{
	struct json_object *o;
	struct stat st;
	int fd;

	(void)state;
	assert_int_equal(stat(sock_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(stat(nmi_path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);

	fd = connect_to(sock_path);
	o = request(fd, "{\"cmd\":\"status\"}\n", false);
	assert_true(ok(o));
	assert_string_equal(json_object_get_string(field(o, "instance")), INSTANCE);
	assert_int_equal(json_object_array_length(field(o, "workers")), 1);
	assert_int_equal(json_object_array_length(field(o, "ports")), 1);
	json_object_put(o);
	close(fd);
}

static void test_ctl_bad_request_gets_an_error_and_the_session_goes_on(void **state)
{
	struct json_object *o;
	int fd;

	(void)state;
	fd = connect_to(sock_path);
	send_str(fd, "hello\n{\"cmd\":\"nope\"}\n{\"cmd\":\"stats\"}\n");
	o = reply(fd, false, 5000);
	assert_false(ok(o));
	assert_string_equal(json_object_get_string(field(o, "error")), "EINVAL");
	json_object_put(o);
	o = reply(fd, false, 5000);
	assert_false(ok(o));
	assert_string_equal(json_object_get_string(field(o, "message")), "unknown command 'nope'");
	json_object_put(o);
	o = reply(fd, false, 5000);
	assert_true(ok(o));
	assert_non_null(field(field(field(o, "total"), "drops"), "ip_csum"));
	json_object_put(o);
	close(fd);
}

static void test_ctl_line_without_newline_over_64k_is_e2big(void **state)
{
	static char big[CTL_LINE_MAX + 4096];
	struct json_object *o;
	char c;
	int fd;

	(void)state;
	memset(big, 'a', sizeof(big));
	fd = connect_to(sock_path);
	assert_int_equal(send(fd, big, sizeof(big), MSG_NOSIGNAL), (ssize_t)sizeof(big));
	o = reply(fd, false, 5000);
	assert_non_null(o);
	assert_string_equal(json_object_get_string(field(o, "error")), "E2BIG");
	json_object_put(o);
	assert_int_equal(recv(fd, &c, 1, 0), 0); /* then closed */
	close(fd);
}

/* Requests behind one that waits for a worker are kept, however many, and answered in order. */
static void test_ctl_pipelined_requests_wait_behind_a_job(void **state)
{
	static char lines[4000 * 32];
	struct json_object *o;
	size_t n = 0;
	int fd, i;

	(void)state;
	n += (size_t)snprintf(lines + n, sizeof(lines) - n, "{\"cmd\":\"netstat\"}\n");
	for (i = 0; i < 4000; i++)
		n += (size_t)snprintf(lines + n, sizeof(lines) - n, "{\"cmd\":\"status\"}   \n");
	assert_true(n > CTL_LINE_MAX); /* over the line limit in total, every line complete */
	fd = connect_to(sock_path);
	assert_int_equal(send(fd, lines, n, MSG_NOSIGNAL), (ssize_t)n);
	o = reply(fd, true, 5000);
	assert_string_equal(json_object_get_string(field(o, "cmd")), "netstat");
	json_object_put(o);
	for (i = 0; i < 4000; i++) {
		o = reply(fd, false, 5000);
		assert_non_null(o);
		assert_true(ok(o));
		assert_string_equal(json_object_get_string(field(o, "cmd")), "status");
		json_object_put(o);
	}
	close(fd);
}

static void test_ctl_netstat_waits_for_the_worker(void **state)
{
	struct json_object *o;
	int fd;

	(void)state;
	fd = connect_to(sock_path);
	send_str(fd, "{\"cmd\":\"netstat\",\"state\":\"ESTABLISHED\"}\n{\"cmd\":\"monitor\"}\n");
	/* The dump runs on the worker: nothing comes back until it polls. The monitor request
	 * behind it waits its turn. */
	assert_null(reply(fd, false, 200));
	o = reply(fd, true, 5000);
	assert_non_null(o);
	assert_true(ok(o));
	assert_string_equal(json_object_get_string(field(o, "cmd")), "netstat");
	assert_int_equal(json_object_array_length(field(o, "connections")), 0);
	assert_int_equal(json_object_array_length(field(o, "unanswered_workers")), 0);
	json_object_put(o);
	o = reply(fd, false, 5000);
	assert_string_equal(json_object_get_string(field(o, "socket")), nmi_path);
	json_object_put(o);
	close(fd);
}

static void test_ctl_netstat_reports_a_silent_worker_after_the_timeout(void **state)
{
	struct json_object *o, *missing;
	uint64_t t0 = now_ms();
	int fd;

	(void)state;
	fd = connect_to(sock_path);
	send_str(fd, "{\"cmd\":\"netstat\"}\n");
	o = reply(fd, false, 5000);
	assert_non_null(o);
	assert_true(now_ms() - t0 >= CTL_JOB_TIMEOUT_NS / 1000000 - 50);
	assert_true(ok(o));
	missing = field(o, "unanswered_workers");
	assert_int_equal(json_object_array_length(missing), 1);
	assert_int_equal(json_object_get_int(json_object_array_get_idx(missing, 0)), 0);
	json_object_put(o);
	close(fd);
	/* The worker runs the late message; the job it holds is freed then (ASan checks). */
	zpt_poll(env);
}

static void test_ctl_conn_drop_of_an_unknown_connection_is_enoent(void **state)
{
	struct json_object *o;
	int fd;

	(void)state;
	fd = connect_to(sock_path);
	o = request(fd, "{\"cmd\":\"conn-drop\",\"id\":\"0x0000000000000001\"}\n", true);
	assert_false(ok(o));
	assert_string_equal(json_object_get_string(field(o, "error")), "ENOENT");
	assert_string_equal(json_object_get_string(field(o, "message")),
			    "connection 0x0000000000000001 not found");
	json_object_put(o);
	/* Worker 5 does not exist: answered at once. */
	o = request(fd, "{\"cmd\":\"conn-drop\",\"id\":\"0x0005000000000001\"}\n", false);
	assert_false(ok(o));
	assert_string_equal(json_object_get_string(field(o, "error")), "ENOENT");
	json_object_put(o);
	close(fd);
}

static void test_ctl_sockopt_set_reaches_the_worker_through_rcu(void **state)
{
	struct dp_sockopt_defaults d;
	struct json_object *o;
	int fd;

	(void)state;
	fd = connect_to(sock_path);
	dp_sockopt_defaults_get(env->w, rte_cpu_to_be_16(8080), &d);
	assert_false(d.keepalive);

	o = request(fd,
		    "{\"cmd\":\"sockopt-set\",\"ports\":\"8000-8999\",\"set\":"
		    "{\"keepalive\":1,\"keepidle\":60}}\n",
		    false);
	assert_true(ok(o));
	assert_int_equal(json_object_array_length(field(o, "rules")), 2);
	json_object_put(o);
	dp_sockopt_defaults_get(env->w, rte_cpu_to_be_16(8080), &d);
	assert_true(d.keepalive);
	assert_int_equal(d.keepidle_s, 60);
	dp_sockopt_defaults_get(env->w, rte_cpu_to_be_16(80), &d);
	assert_false(d.keepalive);

	/* Overlap is refused with the reason; the published table is unchanged. */
	o = request(fd,
		    "{\"cmd\":\"sockopt-set\",\"ports\":\"8500-9500\",\"set\":"
		    "{\"nodelay\":1}}\n",
		    false);
	assert_false(ok(o));
	assert_non_null(strstr(json_object_get_string(field(o, "message")), "partly overlap"));
	json_object_put(o);

	o = request(fd, "{\"cmd\":\"sockopt-del\",\"ports\":\"8000-8999\"}\n", false);
	assert_true(ok(o));
	json_object_put(o);
	dp_sockopt_defaults_get(env->w, rte_cpu_to_be_16(8080), &d);
	assert_false(d.keepalive);
	o = request(fd, "{\"cmd\":\"sockopt-del\",\"ports\":\"8000-8999\"}\n", false);
	assert_false(ok(o));
	assert_string_equal(json_object_get_string(field(o, "error")), "ENOENT");
	json_object_put(o);
	close(fd);
}

static void test_ctl_debug_commands_are_refused_unless_enabled(void **state)
{
	struct json_object *o;
	int fd;

	(void)state;
	fd = connect_to(sock_path);
	o = request(fd, "{\"cmd\":\"debug-conn-events\",\"count\":1}\n", false);
	assert_false(ok(o));
	assert_string_equal(json_object_get_string(field(o, "error")), "EPERM");
	json_object_put(o);
	close(fd);
}

/* ---- monitoring stream ------------------------------------------------------------------- */

static void test_ctl_monitor_streams_events_then_term_planned_on_stop(void **state)
{
	struct zp_nmi_record rec;
	struct json_object *o;
	int fd, sub, opens = 0, closes = 0;

	(void)state;
	sub = connect_to(nmi_path);
	assert_true(next_record(sub, &rec));
	assert_int_equal(rec.id, ZP_NMI_ID_INIT);
	assert_string_equal(rec.u.init.instance, INSTANCE);
	assert_int_equal(rec.u.init.nb_workers, 1);
	assert_int_equal(rec.u.init.flags, ZP_NMI_REQ_EVENTS);
	assert_int_equal(rec.u.init.pid, getpid());

	fd = connect_to(sock_path);
	o = request(fd, "{\"cmd\":\"debug-conn-events\",\"count\":6}\n", false);
	assert_true(ok(o));
	json_object_put(o);
	while (opens + closes < 6) {
		assert_true(next_record(sub, &rec));
		if (rec.id == ZP_NMI_ID_CONN_OPEN) {
			opens++;
			assert_string_equal(rec.u.conn.transport, "synth");
			assert_int_equal(rec.u.conn.state, ZP_TCP_ESTABLISHED);
		} else {
			assert_int_equal(rec.id, ZP_NMI_ID_CONN_CLOSE);
			closes++;
			assert_int_equal(rec.u.conn.how, ZP_NMI_CLOSE_NORMAL);
			assert_true(rec.u.conn.bytes_out > 0);
		}
	}
	assert_int_equal(opens, 3);
	close(fd);

	ctl_stop();
	expect_term(sub, ZP_NMI_TERM_PLANNED);
	close(sub);
	assert_int_equal(access(sock_path, F_OK), -1);
	assert_int_equal(access(nmi_path, F_OK), -1);
}

static void test_ctl_monitor_list_request_sends_the_snapshot_end(void **state)
{
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_REQUEST};
	uint8_t w[sizeof(struct zp_nmi_wire_request)];
	int sub;

	(void)state;
	sub = connect_to(nmi_path);
	rec.u.request.flags = ZP_NMI_REQ_LIST;
	assert_int_equal(zp_nmi_encode(&rec, w, sizeof(w)), (ssize_t)sizeof(w));
	assert_int_equal(send(sub, w, sizeof(w), 0), (ssize_t)sizeof(w));
	assert_true(next_record(sub, &rec));
	assert_int_equal(rec.id, ZP_NMI_ID_INIT);
	assert_true(next_record(sub, &rec)); /* the worker answers the dump while we poll */
	assert_int_equal(rec.id, ZP_NMI_ID_LIST_END);
	assert_int_equal(rec.u.list_end.count, 0);
	assert_int_equal(rec.u.list_end.flags, 0);
	close(sub);
}

static void test_ctl_monitor_malformed_request_is_term_einval(void **state)
{
	int sub;

	(void)state;
	sub = connect_to(nmi_path);
	send_str(sub, "GET / HTTP/1.0\r\n\r\n");
	expect_term(sub, ZP_NMI_TERM_EINVAL);
	close(sub);
}

static void test_ctl_monitor_data_after_the_request_is_term_epipe(void **state)
{
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_REQUEST};
	uint8_t w[sizeof(struct zp_nmi_wire_request) + 1] = {0};
	int sub;

	(void)state;
	sub = connect_to(nmi_path);
	rec.u.request.flags = ZP_NMI_REQ_EVENTS;
	assert_int_equal(zp_nmi_encode(&rec, w, sizeof(w)), (ssize_t)sizeof(w) - 1);
	assert_int_equal(send(sub, w, sizeof(w) - 1, 0), (ssize_t)sizeof(w) - 1);
	usleep(50000);
	assert_int_equal(send(sub, w, 1, 0), 1);
	expect_term(sub, ZP_NMI_TERM_EPIPE);
	close(sub);
}

static void test_ctl_monitor_allocation_failure_is_term_enomem(void **state)
{
	struct zp_nmi_record rec;
	struct json_object *o;
	int fd, sub;

	(void)state;
	fd = connect_to(sock_path);
	o = request(fd, "{\"cmd\":\"debug-nmi-fail-alloc\"}\n", false);
	assert_true(ok(o));
	json_object_put(o);
	close(fd);
	sub = connect_to(nmi_path);
	assert_true(next_record(sub, &rec));
	assert_int_equal(rec.id, ZP_NMI_ID_TERM); /* no INIT: nothing could be queued */
	assert_int_equal(rec.u.term.termcode, ZP_NMI_TERM_ENOMEM);
	assert_false(next_record(sub, &rec));
	close(sub);
	/* Only that one: the next subscriber is served. */
	sub = connect_to(nmi_path);
	assert_true(next_record(sub, &rec));
	assert_int_equal(rec.id, ZP_NMI_ID_INIT);
	close(sub);
}

/* A subscriber that does not read is cut off with EWOULDBLOCK; another one gets everything. */
static void test_ctl_monitor_slow_subscriber_is_cut_off_alone(void **state)
{
	struct zp_nmi_record rec = {.id = ZP_NMI_ID_REQUEST};
	uint8_t w[sizeof(struct zp_nmi_wire_request)];
	struct json_object *o;
	int fd, slow, fast, sz = 4096;
	unsigned got = 0, lost = 0, i;
	bool term = false;

	(void)state;
	slow = connect_to(nmi_path);
	assert_int_equal(setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)), 0);
	rec.u.request.flags = ZP_NMI_REQ_EVENTS;
	rec.u.request.queue_kib = 16; /* the smallest queue: cut off sooner */
	assert_int_equal(zp_nmi_encode(&rec, w, sizeof(w)), (ssize_t)sizeof(w));
	assert_int_equal(send(slow, w, sizeof(w), 0), (ssize_t)sizeof(w));
	fast = connect_to(nmi_path);
	assert_true(next_record(fast, &rec));
	assert_int_equal(rec.id, ZP_NMI_ID_INIT);
	usleep(50000); /* let the server take slow's request before the events start */

	fd = connect_to(sock_path);
	o = request(fd, "{\"cmd\":\"debug-conn-events\",\"count\":20000}\n", false);
	assert_true(ok(o));
	json_object_put(o);
	close(fd);
	/* The fast subscriber reads everything that reached the control thread. */
	while (got + lost < 20000) {
		assert_true(next_record(fast, &rec));
		if (rec.id == ZP_NMI_ID_CONN_OPEN || rec.id == ZP_NMI_ID_CONN_CLOSE)
			got++;
		else if (rec.id == ZP_NMI_ID_LOST)
			lost = (unsigned)rec.u.lost.total;
	}
	print_message("fast subscriber: %u records, %u lost before the ring\n", got, lost);
	assert_true(got > 2000);
	/* The slow one now reads: records, then TERM EWOULDBLOCK (within the grace period). */
	for (i = 0; !term; i++) {
		assert_true(next_record(slow, &rec));
		term = rec.id == ZP_NMI_ID_TERM;
	}
	assert_int_equal(rec.u.term.termcode, ZP_NMI_TERM_EWOULDBLOCK);
	assert_true(i < got);
	assert_false(next_record(slow, &rec));
	close(slow);
	close(fast);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ctl_status_needs_no_worker, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ctl_bad_request_gets_an_error_and_the_session_goes_on, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_ctl_line_without_newline_over_64k_is_e2big,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_pipelined_requests_wait_behind_a_job,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_netstat_waits_for_the_worker, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_ctl_netstat_reports_a_silent_worker_after_the_timeout, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_ctl_conn_drop_of_an_unknown_connection_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_sockopt_set_reaches_the_worker_through_rcu,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_debug_commands_are_refused_unless_enabled,
						setup_nodebug, teardown),
		cmocka_unit_test_setup_teardown(
			test_ctl_monitor_streams_events_then_term_planned_on_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ctl_monitor_list_request_sends_the_snapshot_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_monitor_malformed_request_is_term_einval,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_ctl_monitor_data_after_the_request_is_term_epipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_monitor_allocation_failure_is_term_enomem,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_monitor_slow_subscriber_is_cut_off_alone,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
