/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's JSON protocol (control/ctl_proto.c): what every request turns into,
 * the exact reason a malformed one is refused, the round trip zpathctl -> server, and the
 * shape of replies. Pure functions: no EAL, no socket.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ctl_priv.h"
#include "zpath/zpath_socket.h"

static char err[512];

static int parse(const char *line, struct ctl_req *req)
{
	return ctl_req_parse(line, strlen(line), req, err, sizeof(err));
}

/* @p line must be refused with -EINVAL and a message containing @p needle. */
static void expect_invalid(const char *line, const char *needle)
{
	struct ctl_req req;
	int rc = parse(line, &req);

	if (rc != -EINVAL || strstr(err, needle) == NULL)
		fail_msg("'%s': rc %d, message '%s', expected -EINVAL with '%s'", line, rc, err,
			 needle);
}

static void test_ctl_req_status_has_no_arguments(void **state)
{
	struct ctl_req req;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"status\"}", &req), 0);
	assert_int_equal(req.cmd, CTL_CMD_STATUS);
	assert_int_equal(parse("  {\"cmd\" : \"stats\"}  \r", &req), 0);
	assert_int_equal(req.cmd, CTL_CMD_STATS);
	expect_invalid("{\"cmd\":\"status\",\"verbose\":1}", "status: unknown or malformed "
							     "argument 'verbose'");
}

static void test_ctl_req_not_a_request_is_refused_with_the_reason(void **state)
{
	(void)state;
	expect_invalid("", "not JSON");
	expect_invalid("status", "not JSON");
	expect_invalid("{\"cmd\":\"status\"", "not JSON");
	expect_invalid("{\"cmd\":\"status\"} x", "trailing data");
	expect_invalid("[\"status\"]", "a request is a JSON object");
	expect_invalid("{}", "missing \"cmd\"");
	expect_invalid("{\"cmd\":7}", "missing \"cmd\"");
	expect_invalid("{\"cmd\":\"reboot\"}", "unknown command 'reboot'");
}

static void test_ctl_req_too_long_line_is_e2big(void **state)
{
	struct ctl_req req;
	size_t n = CTL_LINE_MAX + 1;
	char *line = malloc(n + 1);

	(void)state;
	memset(line, ' ', n);
	line[n] = '\0';
	assert_int_equal(ctl_req_parse(line, n, &req, err, sizeof(err)), -E2BIG);
	free(line);
}

static void test_ctl_req_netstat_filters(void **state)
{
	struct ctl_req req;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"netstat\"}", &req), 0);
	assert_int_equal(req.state, -1);
	assert_int_equal(req.port, -1);
	assert_int_equal(
		parse("{\"cmd\":\"netstat\",\"state\":\"established\",\"port\":443}", &req), 0);
	assert_int_equal(req.state, ZP_TCP_ESTABLISHED);
	assert_int_equal(req.port, 443);
	assert_int_equal(parse("{\"cmd\":\"netstat\",\"state\":\"syn-recv\"}", &req), 0);
	assert_int_equal(req.state, ZP_TCP_SYN_RECEIVED);
	assert_int_equal(parse("{\"cmd\":\"netstat\",\"state\":\"all\"}", &req), 0);
	assert_int_equal(req.state, -1);
	expect_invalid("{\"cmd\":\"netstat\",\"state\":\"OPEN\"}", "unknown TCP state 'OPEN'");
	expect_invalid("{\"cmd\":\"netstat\",\"port\":65536}", "'port' out of range 0..65535");
	expect_invalid("{\"cmd\":\"netstat\",\"port\":\"80\"}", "'port' must be an integer");
}

static void test_ctl_tcp_state_names_round_trip(void **state)
{
	int st;

	(void)state;
	for (st = ZP_TCP_CLOSED; st <= ZP_TCP_TIME_WAIT; st++)
		assert_int_equal(ctl_tcp_state_parse(ctl_tcp_state_name((uint8_t)st)), st);
	assert_int_equal(ctl_tcp_state_parse("estab"), ZP_TCP_ESTABLISHED);
	assert_int_equal(ctl_tcp_state_parse("time-wait"), ZP_TCP_TIME_WAIT);
	assert_int_equal(ctl_tcp_state_parse("ESTABLISHEDX"), -EINVAL);
	assert_string_equal(ctl_tcp_state_name(200), "?");
}

static void test_ctl_req_conn_drop_id_forms(void **state)
{
	struct ctl_req req;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"conn-drop\",\"id\":281474976710661}", &req), 0);
	assert_int_equal(req.conn_id, (1ULL << 48) | 5);
	assert_int_equal(parse("{\"cmd\":\"conn-drop\",\"id\":\"0x0001000000000005\"}", &req), 0);
	assert_int_equal(req.conn_id, (1ULL << 48) | 5);
	assert_int_equal(parse("{\"cmd\":\"conn-drop\",\"id\":\"42\"}", &req), 0);
	assert_int_equal(req.conn_id, 42);
	expect_invalid("{\"cmd\":\"conn-drop\"}", "conn-drop needs \"id\"");
	expect_invalid("{\"cmd\":\"conn-drop\",\"id\":-1}", "connection id");
	expect_invalid("{\"cmd\":\"conn-drop\",\"id\":\"0x\"}", "connection id");
	expect_invalid("{\"cmd\":\"conn-drop\",\"id\":\"12abc\"}", "connection id");
	expect_invalid("{\"cmd\":\"conn-drop\",\"id\":1.5}", "connection id");
}

static void test_ctl_req_sockopt_set_values_and_ranges(void **state)
{
	struct ctl_req req;

	(void)state;
	assert_int_equal(parse("{\"cmd\":\"sockopt-set\",\"ports\":\"8000-8999\",\"set\":"
			       "{\"linger\":5,\"nodelay\":1,\"keepcnt\":3,\"sndbuf\":65536}}",
			       &req),
			 0);
	assert_int_equal(req.so.lo, 8000);
	assert_int_equal(req.so.hi, 8999);
	assert_int_equal(req.so.mask, (1u << CTL_SO_LINGER) | (1u << CTL_SO_NODELAY) |
					      (1u << CTL_SO_KEEPCNT) | (1u << CTL_SO_SNDBUF));
	assert_true(req.so.val.linger_on);
	assert_int_equal(req.so.val.linger_s, 5);
	assert_true(req.so.val.nodelay);
	assert_int_equal(req.so.val.keepcnt, 3);
	assert_int_equal(req.so.val.sndbuf, 65536);

	/* No ports: every port. Linger off as "off" or -1. */
	assert_int_equal(parse("{\"cmd\":\"sockopt-set\",\"set\":{\"linger\":\"off\"}}", &req), 0);
	assert_int_equal(req.so.lo, 0);
	assert_int_equal(req.so.hi, 65535);
	assert_false(req.so.val.linger_on);
	assert_int_equal(parse("{\"cmd\":\"sockopt-set\",\"set\":{\"linger\":-1}}", &req), 0);
	assert_false(req.so.val.linger_on);

	expect_invalid("{\"cmd\":\"sockopt-set\"}", "sockopt-set needs \"set\"");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"set\":{}}", "non-empty object");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"set\":{\"ttl\":1}}",
		       "unknown socket option 'ttl'");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"set\":{\"keepcnt\":128}}",
		       "keepcnt=128 out of range 1..127");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"set\":{\"nodelay\":2}}",
		       "nodelay=2 out of range 0..1");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"set\":{\"keepidle\":0}}",
		       "keepidle=0 out of range 1..32767");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"set\":{\"linger\":-2}}",
		       "'linger' out of range");
	expect_invalid("{\"cmd\":\"sockopt-set\",\"ports\":\"9-1\",\"set\":{\"nodelay\":1}}",
		       "'ports' must be");
	expect_invalid("{\"cmd\":\"sockopt-del\"}", "sockopt-del needs \"ports\"");
	expect_invalid("{\"cmd\":\"sockopt-del\",\"ports\":\"1-2\",\"set\":{\"nodelay\":1}}",
		       "sockopt-del: unknown or malformed argument 'set'");
}

static void test_ctl_sockopt_kv_parse_like_the_cli(void **state)
{
	struct ctl_sockopt_set set;

	(void)state;
	memset(&set, 0, sizeof(set));
	assert_int_equal(ctl_sockopt_kv_parse("linger=off", &set, err, sizeof(err)), 0);
	assert_false(set.val.linger_on);
	assert_int_equal(ctl_sockopt_kv_parse("linger=0", &set, err, sizeof(err)), 0);
	assert_true(set.val.linger_on);
	assert_int_equal(set.val.linger_s, 0);
	assert_int_equal(ctl_sockopt_kv_parse("sndbuf=64k", &set, err, sizeof(err)), 0);
	assert_int_equal(set.val.sndbuf, 65536);
	assert_int_equal(ctl_sockopt_kv_parse("rcvbuf=2M", &set, err, sizeof(err)), 0);
	assert_int_equal(set.val.rcvbuf, 2 * 1024 * 1024);
	assert_int_equal(ctl_sockopt_kv_parse("keepalive=1", &set, err, sizeof(err)), 0);
	assert_true(set.val.keepalive);
	assert_int_equal(set.mask, (1u << CTL_SO_LINGER) | (1u << CTL_SO_SNDBUF) |
					   (1u << CTL_SO_RCVBUF) | (1u << CTL_SO_KEEPALIVE));

	assert_int_equal(ctl_sockopt_kv_parse("nodelay", &set, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "expected key=value, got 'nodelay'");
	assert_int_equal(ctl_sockopt_kv_parse("=1", &set, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_sockopt_kv_parse("mss=1400", &set, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "unknown socket option 'mss'"));
	assert_int_equal(ctl_sockopt_kv_parse("keepcnt=", &set, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_sockopt_kv_parse("keepcnt=-1", &set, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_sockopt_kv_parse("keepcnt=1x", &set, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_sockopt_kv_parse("nodelay=64k", &set, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_sockopt_kv_parse("sndbuf=2g", &set, err, sizeof(err)), -EINVAL);
	assert_int_equal(ctl_sockopt_kv_parse("sndbuf=2048m", &set, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "out of range"));
}

static void test_ctl_ports_parse(void **state)
{
	uint16_t lo, hi;

	(void)state;
	assert_int_equal(ctl_ports_parse("80", &lo, &hi), 0);
	assert_int_equal(lo, 80);
	assert_int_equal(hi, 80);
	assert_int_equal(ctl_ports_parse("1000-2000", &lo, &hi), 0);
	assert_int_equal(lo, 1000);
	assert_int_equal(hi, 2000);
	assert_int_equal(ctl_ports_parse("all", &lo, &hi), 0);
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 65535);
	assert_int_equal(ctl_ports_parse("08", &lo, &hi), 0); /* decimal, not octal */
	assert_int_equal(lo, 8);
	assert_int_equal(ctl_ports_parse("2000-1000", &lo, &hi), -EINVAL);
	assert_int_equal(ctl_ports_parse("65536", &lo, &hi), -EINVAL);
	assert_int_equal(ctl_ports_parse("-5", &lo, &hi), -EINVAL);
	assert_int_equal(ctl_ports_parse("5-", &lo, &hi), -EINVAL);
	assert_int_equal(ctl_ports_parse("", &lo, &hi), -EINVAL);
	assert_int_equal(ctl_ports_parse("1 - 2", &lo, &hi), -EINVAL);
}

static void test_ctl_req_debug_commands_are_marked(void **state)
{
	struct ctl_req req;
	int c;

	(void)state;
	for (c = 0; c < CTL_CMD_MAX; c++)
		assert_int_equal(ctl_cmd_debug_only((enum ctl_cmd)c),
				 strncmp(ctl_cmd_name((enum ctl_cmd)c), "debug-", 6) == 0);
	assert_int_equal(parse("{\"cmd\":\"debug-conn-events\",\"count\":10,\"worker\":1}", &req),
			 0);
	assert_int_equal(req.count, 10);
	assert_int_equal(req.worker, 1);
	expect_invalid("{\"cmd\":\"debug-conn-events\",\"count\":0}", "'count' out of range");
}

/* What zpathctl sends is what the server parses back, for every command. */
static void test_ctl_req_to_json_round_trips(void **state)
{
	struct ctl_req in[8], out;
	unsigned i;

	(void)state;
	ctl_req_init(&in[0], CTL_CMD_STATUS);
	ctl_req_init(&in[1], CTL_CMD_NETSTAT);
	in[1].state = ZP_TCP_TIME_WAIT;
	in[1].port = 8080;
	ctl_req_init(&in[2], CTL_CMD_SOCKOPT_SET);
	in[2].so.lo = 443;
	in[2].so.hi = 443;
	assert_int_equal(ctl_sockopt_kv_parse("linger=off", &in[2].so, err, sizeof(err)), 0);
	assert_int_equal(ctl_sockopt_kv_parse("keepidle=60", &in[2].so, err, sizeof(err)), 0);
	ctl_req_init(&in[3], CTL_CMD_SOCKOPT_DEL);
	in[3].so.lo = 1;
	in[3].so.hi = 1023;
	ctl_req_init(&in[4], CTL_CMD_CONN_DROP);
	in[4].conn_id = (3ULL << 48) | 77;
	ctl_req_init(&in[5], CTL_CMD_DEBUG_CONN_EVENTS);
	in[5].count = 500;
	in[5].worker = 2;
	ctl_req_init(&in[6], CTL_CMD_MONITOR);
	ctl_req_init(&in[7], CTL_CMD_SOCKOPT_SHOW);
	for (i = 0; i < 8; i++) {
		struct json_object *o = ctl_req_to_json(&in[i]);
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

		if (parse(s, &out) != 0)
			fail_msg("%s: %s", s, err);
		assert_int_equal(out.cmd, in[i].cmd);
		assert_int_equal(out.state, in[i].state);
		assert_int_equal(out.port, in[i].port);
		assert_int_equal(out.so.lo, in[i].so.lo);
		assert_int_equal(out.so.hi, in[i].so.hi);
		assert_int_equal(out.so.mask, in[i].so.mask);
		assert_memory_equal(&out.so.val, &in[i].so.val, sizeof(out.so.val));
		assert_int_equal(out.conn_id, in[i].conn_id);
		assert_int_equal(out.count, in[i].count);
		assert_int_equal(out.worker, in[i].worker);
		json_object_put(o);
	}
}

static void test_ctl_reply_err_names_the_errno(void **state)
{
	struct json_object *o = ctl_reply_err("conn-drop", ENOENT, "connection 0x5 not found");

	(void)state;
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"ok\":false,\"cmd\":\"conn-drop\",\"errno\":2,\"error\":\"ENOENT\","
			    "\"message\":\"connection 0x5 not found\"}");
	json_object_put(o);
	o = ctl_reply_ok("status");
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"ok\":true,\"cmd\":\"status\"}");
	json_object_put(o);
}

static struct dp_conn_view view(uint8_t st, uint16_t lport, uint16_t rport)
{
	struct dp_conn_view v;

	memset(&v, 0, sizeof(v));
	v.id = (1ULL << 48) | 9;
	v.worker = 1;
	v.state = st;
	v.laddr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 1));
	v.raddr = rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 2));
	v.lport = rte_cpu_to_be_16(lport);
	v.rport = rte_cpu_to_be_16(rport);
	v.snd_queue = 10;
	v.rcv_queue = 20;
	v.rtt_us = 150;
	v.cwnd = 14600;
	memcpy(v.transport, "tcp", 3);
	memcpy(v.tls, "TLSv1.3", 7);
	return v;
}

static void test_ctl_conn_filters_match_state_and_either_port(void **state)
{
	struct dp_conn_view v = view(ZP_TCP_ESTABLISHED, 80, 40000);
	struct ctl_req req;

	(void)state;
	ctl_req_init(&req, CTL_CMD_NETSTAT);
	assert_true(ctl_conn_match(&v, &req));
	req.port = 80;
	assert_true(ctl_conn_match(&v, &req));
	req.port = 40000;
	assert_true(ctl_conn_match(&v, &req));
	req.port = 81;
	assert_false(ctl_conn_match(&v, &req));
	req.port = -1;
	req.state = ZP_TCP_TIME_WAIT;
	assert_false(ctl_conn_match(&v, &req));
	req.state = ZP_TCP_ESTABLISHED;
	assert_true(ctl_conn_match(&v, &req));
}

static void test_ctl_json_conn_fields(void **state)
{
	struct dp_conn_view v = view(ZP_TCP_CLOSE_WAIT, 443, 51000);
	struct json_object *o = ctl_json_conn(&v);

	(void)state;
	assert_string_equal(
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"id\":281474976710665,\"id_hex\":\"0x0001000000000009\",\"worker\":1,"
		"\"state\":\"CLOSE_WAIT\",\"laddr\":\"10.0.0.1\",\"lport\":443,"
		"\"raddr\":\"10.0.0.2\",\"rport\":51000,\"snd_queue\":10,"
		"\"snd_buf\":0,\"snd_mem\":0,"
		"\"rcv_queue\":20,\"rtt_us\":150,\"cwnd\":14600,\"transport\":\"tcp\","
		"\"tls\":\"TLSv1.3\"}");
	json_object_put(o);
}

static void test_ctl_json_sockopt_shows_linger_off_as_minus_one(void **state)
{
	struct dp_sockopt_defaults d = {.keepalive = true, .keepidle_s = 60, .rcvbuf = 4096};
	struct json_object *o = ctl_json_sockopt(1000, 1999, &d);

	(void)state;
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"ports\":\"1000-1999\",\"lo\":1000,\"hi\":1999,\"linger\":-1,"
			    "\"nodelay\":0,\"keepalive\":1,\"keepidle\":60,\"keepintvl\":0,"
			    "\"keepcnt\":0,\"sndbuf\":0,\"rcvbuf\":4096}");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ctl_req_status_has_no_arguments),
		cmocka_unit_test(test_ctl_req_not_a_request_is_refused_with_the_reason),
		cmocka_unit_test(test_ctl_req_too_long_line_is_e2big),
		cmocka_unit_test(test_ctl_req_netstat_filters),
		cmocka_unit_test(test_ctl_tcp_state_names_round_trip),
		cmocka_unit_test(test_ctl_req_conn_drop_id_forms),
		cmocka_unit_test(test_ctl_req_sockopt_set_values_and_ranges),
		cmocka_unit_test(test_ctl_sockopt_kv_parse_like_the_cli),
		cmocka_unit_test(test_ctl_ports_parse),
		cmocka_unit_test(test_ctl_req_debug_commands_are_marked),
		cmocka_unit_test(test_ctl_req_to_json_round_trips),
		cmocka_unit_test(test_ctl_reply_err_names_the_errno),
		cmocka_unit_test(test_ctl_conn_filters_match_state_and_either_port),
		cmocka_unit_test(test_ctl_json_conn_fields),
		cmocka_unit_test(test_ctl_json_sockopt_shows_linger_off_as_minus_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
