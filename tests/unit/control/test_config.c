/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpath.ini: what a valid file turns into, and the exact message (file, line, section, key)
 * a user gets for every kind of mistake. No EAL needed: the parser is plain C.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "zpt.h"

/* RTE_IPV4 shifts a plain int into the sign bit from 128.0.0.0 up (UB): cast first. */
#define HOST_IP(a, b, c, d)                                                                        \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

static char err[1024];

/* defaults + text + finish, as zp_init() does it (without overrides). */
static int parse(struct ctl_config *c, const char *text)
{
	int rc;

	ctl_config_defaults(c);
	err[0] = '\0';
	rc = ctl_config_parse_string(c, "t.ini", text, err, sizeof(err));
	if (rc == 0)
		rc = ctl_config_finish(c, err, sizeof(err));
	return rc;
}

/* Parse @p text expecting failure with exactly @p msg. */
static void expect_error(const char *text, const char *msg)
{
	struct ctl_config c;

	assert_int_equal(parse(&c, text), -EINVAL);
	assert_string_equal(err, msg);
}

#define PORT0 "[port0]\ndevice = net_tap0\naddress = 10.0.0.2/24\n"

/* ------------------------------------------------------------------------------------------ */
/* Valid configurations                                                                        */

static void test_config_full_file_sets_every_value(void **state)
{
	static const char text[] = "; a comment\n"
				   "# another\n"
				   "[stack]\n"
				   "workers = 2\n"
				   "mbufs = 4095\n"
				   "mbuf_cache = 128\n"
				   "arp_timeout_ms = 60000\n"
				   "arp_retry_ms = 500\n"
				   "arp_retries = 5\n"
				   "arp_pending = 1000\n"
				   "tcp_msl_ms = 1000\n"
				   "tcp_fin_timeout_ms = 2000\n"
				   "tcp_rfc1337 = off\n"
				   "tcp_sndbuf = 1048576\n"
				   "instance = edge-1\n"
				   "\n"
				   "[port0]\n"
				   "vdev = net_tap0,iface=zp0 ; inline comment\n"
				   "address = 10.99.0.2/24\n"
				   "gateway = 10.99.0.1\n"
				   "mtu = 9000\n"
				   "[port1]\n"
				   "device = 0000:01:00.0\n"
				   "address = 192.168.7.1/16\n"
				   "[routes]\n"
				   "172.16.0.0/12 = 192.168.0.254\n";
	struct ctl_config c;

	(void)state;
	assert_int_equal(parse(&c, text), 0);
	assert_int_equal(c.workers, 2);
	assert_int_equal(c.mbufs, 4095);
	assert_int_equal(c.mbuf_cache, 128);
	assert_int_equal(c.tun.arp_timeout_ms, 60000);
	assert_int_equal(c.tun.arp_retry_ms, 500);
	assert_int_equal(c.tun.arp_retries, 5);
	assert_int_equal(c.tun.arp_pending, 1000);
	assert_int_equal(c.tun.tcp_msl_ms, 1000);
	assert_int_equal(c.tun.tcp_fin_timeout_ms, 2000);
	assert_true(c.tun.tcp_rfc1337_off);
	assert_int_equal(c.tun.tcp_sndbuf, 1048576);
	assert_string_equal(c.instance, "edge-1");

	assert_int_equal(c.nb_ports, 2);
	assert_string_equal(c.ports[0].vdev, "net_tap0,iface=zp0");
	assert_string_equal(c.ports[0].device, "");
	assert_int_equal(c.ports[0].addr, HOST_IP(10, 99, 0, 2));
	assert_int_equal(c.ports[0].prefix_len, 24);
	assert_int_equal(c.ports[0].gateway, HOST_IP(10, 99, 0, 1));
	assert_int_equal(c.ports[0].mtu, 9000);
	assert_string_equal(c.ports[1].device, "0000:01:00.0");
	assert_int_equal(c.ports[1].addr, HOST_IP(192, 168, 7, 1));
	assert_int_equal(c.ports[1].prefix_len, 16);
	assert_int_equal(c.ports[1].mtu, 1500);
	assert_int_equal(c.nb_routes, 1);
	assert_int_equal(c.routes[0].net, HOST_IP(172, 16, 0, 0));
	assert_int_equal(c.routes[0].prefix_len, 12);
	assert_int_equal(c.routes[0].gateway, HOST_IP(192, 168, 0, 254));
}

static void test_config_minimal_file_gets_defaults(void **state)
{
	struct ctl_config c;

	(void)state;
	assert_int_equal(parse(&c, PORT0), 0);
	assert_int_equal(c.workers, 1);
	assert_int_equal(c.mbufs, 8191);
	assert_int_equal(c.mbuf_cache, 256);
	assert_int_equal(c.tun.arp_timeout_ms, 300000);
	assert_int_equal(c.tun.arp_retry_ms, 1000);
	assert_int_equal(c.tun.arp_retries, 3);
	assert_int_equal(c.tun.arp_pending, 256);
	assert_int_equal(c.tun.tcp_msl_ms, 30000);
	assert_int_equal(c.tun.tcp_fin_timeout_ms, 60000);
	assert_false(c.tun.tcp_rfc1337_off);
	assert_string_equal(c.instance, "zpath");
	assert_int_equal(c.nb_ports, 1);
	assert_int_equal(c.ports[0].mtu, 1500);
	assert_int_equal(c.ports[0].gateway, 0);
	assert_int_equal(c.nb_routes, 0);
}

static void test_config_booleans_accept_the_usual_spellings(void **state)
{
	static const char *const on[] = {"on", "yes", "true", "1", "ON", "True"};
	static const char *const off[] = {"off", "no", "false", "0", "OFF", "No"};
	char text[256];
	struct ctl_config c;
	unsigned i;

	(void)state;
	for (i = 0; i < RTE_DIM(on); i++) {
		snprintf(text, sizeof(text), "[stack]\ntcp_rfc1337 = %s\n" PORT0, off[i]);
		assert_int_equal(parse(&c, text), 0);
		assert_true(c.tun.tcp_rfc1337_off);
		snprintf(text, sizeof(text), "[stack]\ntcp_rfc1337 = %s\n" PORT0, on[i]);
		assert_int_equal(parse(&c, text), 0);
		assert_false(c.tun.tcp_rfc1337_off);
	}
}

static void test_config_to_stack_builds_routes_longest_prefix_first(void **state)
{
	static const char text[] = "[stack]\nworkers = 3\n"
				   "[port0]\ndevice = net_tap0\naddress = 10.0.0.2/24\n"
				   "gateway = 10.0.0.1\n"
				   "[port1]\ndevice = net_tap1\naddress = 10.1.0.2/16\nmtu = 4000\n"
				   "[routes]\n"
				   "10.200.0.0/16 = 10.0.0.254\n"
				   "10.201.5.0/24 = 10.1.0.254\n";
	struct ctl_config c;
	struct dp_stack s;
	const struct dp_route *r = s.routes;

	(void)state;
	assert_int_equal(parse(&c, text), 0);
	assert_int_equal(ctl_config_to_stack(&c, &s, err, sizeof(err)), 0);
	assert_int_equal(s.nb_workers, 3);
	assert_int_equal(s.nb_ifaces, 2);
	assert_string_equal(s.ifaces[0].name, "net_tap0");
	assert_int_equal(s.ifaces[0].addr, ZPT_IP(10, 0, 0, 2));
	assert_int_equal(s.ifaces[0].netmask, ZPT_IP(255, 255, 255, 0));
	assert_int_equal(s.ifaces[0].mtu, 1500);
	assert_int_equal(s.ifaces[1].netmask, ZPT_IP(255, 255, 0, 0));
	assert_int_equal(s.ifaces[1].mtu, 4000);
	assert_int_equal(s.tun.arp_retries, 3);
	assert_int_equal(s.tun.arp_pending, 256);

	/* 2 on-link + 1 default + 2 static, longest prefix first, on-link before via. */
	assert_int_equal(s.nb_routes, 5);
	assert_int_equal(r[0].net, ZPT_IP(10, 0, 0, 0));
	assert_int_equal(r[0].prefix_len, 24);
	assert_int_equal(r[0].gateway, 0);
	assert_int_equal(r[0].iface, 0);
	assert_int_equal(r[1].net, ZPT_IP(10, 201, 5, 0));
	assert_int_equal(r[1].mask, ZPT_IP(255, 255, 255, 0));
	assert_int_equal(r[1].gateway, ZPT_IP(10, 1, 0, 254));
	assert_int_equal(r[1].iface, 1);
	assert_int_equal(r[2].net, ZPT_IP(10, 1, 0, 0));
	assert_int_equal(r[2].gateway, 0);
	assert_int_equal(r[2].iface, 1);
	assert_int_equal(r[3].net, ZPT_IP(10, 200, 0, 0));
	assert_int_equal(r[3].prefix_len, 16);
	assert_int_equal(r[3].gateway, ZPT_IP(10, 0, 0, 254));
	assert_int_equal(r[3].iface, 0);
	assert_int_equal(r[4].net, 0);
	assert_int_equal(r[4].mask, 0);
	assert_int_equal(r[4].prefix_len, 0);
	assert_int_equal(r[4].gateway, ZPT_IP(10, 0, 0, 1));
	assert_int_equal(r[4].iface, 0);
}

static void test_config_file_is_read_and_named_in_messages(void **state)
{
	char path[] = "/tmp/zpath-test-config-XXXXXX";
	char expect[256];
	struct ctl_config c;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(PORT0 "mtu = 20\n", f);
	fclose(f);
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_file(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(expect, sizeof(expect), "%s:4: [port0] mtu: 20 is out of range 68..9000", path);
	assert_string_equal(err, expect);
	unlink(path);

	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_file(&c, path, err, sizeof(err)), -ENOENT);
	snprintf(expect, sizeof(expect), "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, expect);
}

/* ------------------------------------------------------------------------------------------ */
/* Errors: one per class, with the exact message and line                                      */

static void test_config_bad_address_names_file_line_section_key(void **state)
{
	(void)state;
	expect_error("[stack]\nworkers = 1\n\n[port0]\ndevice = net_tap0\n"
		     "address = 10.0.0.300/24\n",
		     "t.ini:6: [port0] address: \"10.0.0.300/24\" is not an IPv4 address/prefix");
	expect_error("[port0]\ndevice = net_tap0\naddress = 10.0.0.1\n",
		     "t.ini:3: [port0] address: \"10.0.0.1\" is not an IPv4 address/prefix");
	expect_error("[port0]\ndevice = net_tap0\naddress = 10.0.0.1/\n",
		     "t.ini:3: [port0] address: \"10.0.0.1/\" is not an IPv4 address/prefix");
	expect_error("[port0]\ndevice = net_tap0\naddress = 10.0.0.0/24\n",
		     "t.ini:3: [port0] address: \"10.0.0.0/24\" is not a usable unicast host "
		     "address");
	expect_error("[port0]\ndevice = net_tap0\naddress = 224.0.0.1/24\n",
		     "t.ini:3: [port0] address: \"224.0.0.1/24\" is not a usable unicast host "
		     "address");
}

static void test_config_prefix_over_32_is_rejected(void **state)
{
	(void)state;
	expect_error("[port0]\ndevice = net_tap0\naddress = 10.0.0.1/33\n",
		     "t.ini:3: [port0] address: \"10.0.0.1/33\": prefix length 33 is out of range "
		     "1..32");
	expect_error(PORT0 "[routes]\n10.1.0.0/40 = 10.0.0.1\n",
		     "t.ini:5: [routes] 10.1.0.0/40: \"10.1.0.0/40\": prefix length 40 is out of "
		     "range 0..32");
}

static void test_config_bad_mtu_is_rejected(void **state)
{
	(void)state;
	expect_error(PORT0 "mtu = 9001\n", "t.ini:4: [port0] mtu: 9001 is out of range 68..9000");
	expect_error(PORT0 "mtu = 67\n", "t.ini:4: [port0] mtu: 67 is out of range 68..9000");
	expect_error(PORT0 "mtu = 1500b\n", "t.ini:4: [port0] mtu: \"1500b\" is not a number");
}

static void test_config_unknown_key_is_rejected(void **state)
{
	(void)state;
	expect_error("[stack]\nworker = 2\n" PORT0,
		     "t.ini:2: [stack] worker: unknown key (known: workers, mbufs, mbuf_cache, "
		     "arp_timeout_ms, arp_retry_ms, arp_retries, arp_pending, tcp_msl_ms, "
		     "tcp_fin_timeout_ms, tcp_rfc1337, instance, tcp_cc, tcp_sndbuf, tcp_recovery, "
		     "idle, idle_after, idle_sleep_max_us)");
	expect_error(PORT0 "speed = 10G\n",
		     "t.ini:4: [port0] speed: unknown key (known: device, vdev, address, gateway, "
		     "mtu, fault_rx, fault_tx, fault_seed, link_timeout_ms)");
}

static void test_config_unknown_section_is_rejected(void **state)
{
	(void)state;
	expect_error(PORT0 "\n[stak]\nworkers = 2\n",
		     "t.ini:6: [stak] workers: unknown section (expected [stack], [port0]..[port7] "
		     "or [routes])");
	expect_error(PORT0 "[port8]\ndevice = x\n",
		     "t.ini:5: [port8] device: unknown section (expected [stack], [port0]..[port7] "
		     "or [routes])");
	expect_error("workers = 2\n" PORT0, "t.ini:1: workers: key outside of any section");
}

static void test_config_duplicate_key_is_rejected(void **state)
{
	(void)state;
	expect_error(PORT0 "address = 10.0.0.3/24\n",
		     "t.ini:4: [port0] address: duplicate key (first set on line 3)");
	expect_error("[stack]\nworkers = 1\n\nworkers = 2\n" PORT0,
		     "t.ini:4: [stack] workers: duplicate key (first set on line 2)");
	expect_error(PORT0 "[routes]\n10.1.0.0/16 = 10.0.0.1\n10.1.0.0/16 = 10.0.0.9\n",
		     "t.ini:6: [routes] 10.1.0.0/16: duplicate key (first set on line 5)");
}

static void test_config_missing_required_keys_are_named(void **state)
{
	(void)state;
	expect_error("[stack]\nworkers = 1\n[port0]\ndevice = net_tap0\nmtu = 1500\n",
		     "t.ini:4: [port0]: missing required key \"address\"");
	expect_error("[port0]\naddress = 10.0.0.2/24\n",
		     "t.ini:2: [port0]: missing required key \"device\" or \"vdev\"");
	expect_error(PORT0 "vdev = net_tap1\n",
		     "t.ini:4: [port0] vdev: \"device\" and \"vdev\" are mutually exclusive");
	expect_error("[stack]\nworkers = 1\n", "t.ini: no [port0] section: at least one port is "
					       "required");
	expect_error(PORT0 "[port2]\ndevice = net_tap2\naddress = 10.2.0.2/24\n",
		     "t.ini:5: [port2]: ports must be numbered from port0 without gaps ([port1] "
		     "is missing)");
}

static void test_config_gateways_must_be_on_link(void **state)
{
	(void)state;
	expect_error(PORT0 "\n[routes]\n10.1.0.0/16 = 10.0.0.1\n10.2.0.0/16 = 10.5.0.1\n",
		     "t.ini:7: [routes] 10.2.0.0/16: gateway 10.5.0.1 is not on-link of any port");
	expect_error(PORT0 "gateway = 10.0.1.1\n",
		     "t.ini:4: [port0] gateway: 10.0.1.1 is not on-link of 10.0.0.2/24");
	expect_error(PORT0 "gateway = 10.0.0.2\n",
		     "t.ini:4: [port0] gateway: 10.0.0.2 is this port's own address");
	expect_error(PORT0 "gateway = 10.0.0.1\n[routes]\n0.0.0.0/0 = 10.0.0.9\n",
		     "t.ini:6: [routes] 0.0.0.0/0: a default route is already set by [port0] "
		     "gateway (line 4)");
	expect_error(PORT0 "[routes]\n10.1.2.0/16 = 10.0.0.1\n",
		     "t.ini:5: [routes] 10.1.2.0/16: \"10.1.2.0/16\" has host bits set (did you "
		     "mean 10.1.0.0/16?)");
}

static void test_config_tcp_recovery_chooses_rack_or_rfc6675(void **state)
{
	struct ctl_config c;

	(void)state;
	assert_int_equal(parse(&c, "[stack]\n" PORT0), 0);
	assert_false(c.tun.tcp_rack_off); /* RACK-TLP by default */
	assert_int_equal(parse(&c, "[stack]\ntcp_recovery = rfc6675\n" PORT0), 0);
	assert_true(c.tun.tcp_rack_off);
	assert_int_equal(ctl_config_override(&c, "stack.tcp_recovery=rack", err, sizeof(err)), 0);
	assert_false(c.tun.tcp_rack_off);
	expect_error("[stack]\ntcp_recovery = fack\n" PORT0,
		     "t.ini:2: [stack] tcp_recovery: \"fack\" is not a loss detection (known: rack, "
		     "rfc6675)");
}

static void test_config_bad_bool_is_rejected(void **state)
{
	(void)state;
	expect_error("[stack]\ntcp_rfc1337 = maybe\n" PORT0,
		     "t.ini:2: [stack] tcp_rfc1337: \"maybe\" is not a boolean (use on/off, "
		     "yes/no, true/false or 1/0)");
}

static void test_config_bad_number_is_rejected(void **state)
{
	(void)state;
	expect_error("[stack]\nworkers = two\n" PORT0,
		     "t.ini:2: [stack] workers: \"two\" is not a number");
	expect_error("[stack]\nworkers = -1\n" PORT0,
		     "t.ini:2: [stack] workers: \"-1\" is not a number");
	expect_error("[stack]\nworkers = 0\n" PORT0,
		     "t.ini:2: [stack] workers: 0 is out of range 1..64");
	expect_error("[stack]\nmbufs = 99999999999999999999999\n" PORT0,
		     "t.ini:2: [stack] mbufs: 99999999999999999999999 is out of range "
		     "1023..16777215");
	expect_error("[stack]\narp_pending = 0\n" PORT0,
		     "t.ini:2: [stack] arp_pending: 0 is out of range 1..4096");
	expect_error("[stack]\narp_pending = 4097\n" PORT0,
		     "t.ini:2: [stack] arp_pending: 4097 is out of range 1..4096");
	expect_error("[stack]\ninstance = a/b\n" PORT0,
		     "t.ini:2: [stack] instance: \"a/b\" is not a valid instance name (1..63 "
		     "characters of A-Z a-z 0-9 . _ -, not starting with '.')");
}

static void test_config_syntax_errors_give_their_line(void **state)
{
	char text[512];

	(void)state;
	expect_error(PORT0 "[port1\n",
		     "t.ini:4: syntax error: expected \"[section]\" or \"key = value\"");
	expect_error(PORT0 "just words\n",
		     "t.ini:4: syntax error: expected \"[section]\" or \"key = value\"");
	/* The first error wins, whether it is a syntax error or a bad value. */
	expect_error(PORT0 "oops\nmtu = 1\n",
		     "t.ini:4: syntax error: expected \"[section]\" or \"key = value\"");
	expect_error(PORT0 "mtu = 1\noops\n", "t.ini:4: [port0] mtu: 1 is out of range 68..9000");
	snprintf(text, sizeof(text), PORT0 "vdev = net_tap0,iface=%0250d\n", 0);
	expect_error(text, "t.ini:4: line too long (the limit is 198 characters)");
}

static void test_config_overrides_replace_file_values(void **state)
{
	struct ctl_config c;

	(void)state;
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "t.ini", "[stack]\nworkers = 2\n" PORT0, err,
						 sizeof(err)),
			 0);
	assert_int_equal(ctl_config_override(&c, "stack.workers=4", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "port0.mtu=9000", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "port0.address=10.0.0.7/24", err, sizeof(err)), 0);
	assert_int_equal(
		ctl_config_override(&c, "port1.vdev=net_memif0,role=server", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "port1.address=10.5.0.1/24", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "routes.10.9.0.0/16=10.5.0.254", err, sizeof(err)),
			 0);
	assert_int_equal(ctl_config_override(&c, "routes.10.9.0.0/16=10.5.0.253", err, sizeof(err)),
			 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), 0);
	assert_int_equal(c.workers, 4);
	assert_int_equal(c.ports[0].mtu, 9000);
	assert_int_equal(c.ports[0].addr, HOST_IP(10, 0, 0, 7));
	assert_int_equal(c.nb_ports, 2);
	assert_string_equal(c.ports[1].vdev, "net_memif0,role=server");
	assert_int_equal(c.nb_routes, 1);
	assert_int_equal(c.routes[0].gateway, HOST_IP(10, 5, 0, 253));
}

static void test_config_override_errors_name_the_argument(void **state)
{
	struct ctl_config c;

	(void)state;
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "t.ini", PORT0, err, sizeof(err)), 0);

	assert_int_equal(ctl_config_override(&c, "port0.mtu=70000", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-s port0.mtu=70000: [port0] mtu: 70000 is out of range 68..9000");
	assert_int_equal(ctl_config_override(&c, "port0mtu=1500", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-s port0mtu=1500: expected section.key=value");
	assert_int_equal(ctl_config_override(&c, "stack.mtu=1500", err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "-s stack.mtu=1500: [stack] mtu: unknown key (known: workers, "
			    "mbufs, mbuf_cache, arp_timeout_ms, arp_retry_ms, arp_retries, "
			    "arp_pending, tcp_msl_ms, tcp_fin_timeout_ms, tcp_rfc1337, instance, "
			    "tcp_cc, tcp_sndbuf, tcp_recovery, idle, idle_after, idle_sleep_max_us)");
	assert_int_equal(ctl_config_override(&c, "nic.mtu=1500", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-s nic.mtu=1500: [nic] mtu: unknown section (expected [stack], "
				 "[port0]..[port7] or [routes])");

	/* A port that only -s created is reported against the -s that created it. */
	assert_int_equal(ctl_config_override(&c, "port1.device=net_tap1", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err,
			    "-s port1.device=net_tap1: [port1]: missing required key \"address\"");

	/* A -s gateway that is off-link is blamed on the -s, not on the file. */
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "t.ini", PORT0 "gateway = 10.0.0.1\n", err,
						 sizeof(err)),
			 0);
	assert_int_equal(ctl_config_override(&c, "port0.gateway=10.9.9.9", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-s port0.gateway=10.9.9.9: [port0] gateway: 10.9.9.9 is not "
				 "on-link of 10.0.0.2/24");
}

static void test_config_empty_value_unsets_device_vdev_gateway(void **state)
{
	struct ctl_config c;

	(void)state;
	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "t.ini",
						 "[port0]\nvdev = net_tap0,iface=zp0\n"
						 "address = 10.0.0.2/24\ngateway = 10.0.0.1\n",
						 err, sizeof(err)),
			 0);
	/* Without unsetting vdev, adding a device conflicts; the -s is what gets blamed. */
	assert_int_equal(ctl_config_override(&c, "port0.device=net_memif0", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-s port0.device=net_memif0: [port0] device: \"device\" and "
				 "\"vdev\" are mutually exclusive");
	assert_int_equal(ctl_config_override(&c, "port0.vdev=", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "port0.gateway=", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_finish(&c, err, sizeof(err)), 0);
	assert_string_equal(c.ports[0].device, "net_memif0");
	assert_string_equal(c.ports[0].vdev, "");
	assert_int_equal(c.ports[0].gateway, 0);
}

static void test_config_idle_policy_keys_are_parsed_with_defaults(void **state)
{
	struct ctl_config c;

	(void)state;
	assert_int_equal(parse(&c, PORT0), 0);
	assert_int_equal(c.tun.idle, DP_IDLE_POLL);
	assert_int_equal(c.tun.idle_after, DP_IDLE_AFTER_DEFAULT);
	assert_int_equal(c.tun.idle_sleep_max_us, DP_IDLE_SLEEP_MAX_DEFAULT);

	assert_int_equal(parse(&c, "[stack]\nidle = sleep\nidle_after = 0\n"
				   "idle_sleep_max_us = 100000\n" PORT0),
			 0);
	assert_int_equal(c.tun.idle, DP_IDLE_SLEEP);
	assert_int_equal(c.tun.idle_after, 0);
	assert_int_equal(c.tun.idle_sleep_max_us, 100000);

	/* -s stack.idle=... replaces the file's value, as every other key. */
	assert_int_equal(ctl_config_override(&c, "stack.idle=yield", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "stack.idle_after=16", err, sizeof(err)), 0);
	assert_int_equal(c.tun.idle, DP_IDLE_YIELD);
	assert_int_equal(c.tun.idle_after, 16);
	assert_int_equal(ctl_config_override(&c, "stack.idle=poll", err, sizeof(err)), 0);
	assert_int_equal(c.tun.idle, DP_IDLE_POLL);
}

static void test_config_bad_idle_values_are_rejected(void **state)
{
	struct ctl_config c;

	(void)state;
	expect_error("[stack]\nidle = spin\n" PORT0,
		     "t.ini:2: [stack] idle: \"spin\" is not an idle policy (known: poll, yield, "
		     "sleep)");
	expect_error("[stack]\nidle = Yield\n" PORT0,
		     "t.ini:2: [stack] idle: \"Yield\" is not an idle policy (known: poll, yield, "
		     "sleep)");
	expect_error("[stack]\nidle = \n" PORT0,
		     "t.ini:2: [stack] idle: \"\" is not an idle policy (known: poll, yield, "
		     "sleep)");
	expect_error("[stack]\nworkers = 1\nidle_after = -1\n" PORT0,
		     "t.ini:3: [stack] idle_after: \"-1\" is not a number");
	expect_error("[stack]\nidle_after = 1000000001\n" PORT0,
		     "t.ini:2: [stack] idle_after: 1000000001 is out of range 0..1000000000");
	expect_error("[stack]\nidle_sleep_max_us = 0\n" PORT0,
		     "t.ini:2: [stack] idle_sleep_max_us: 0 is out of range 1..100000");
	expect_error("[stack]\nidle_sleep_max_us = 100001\n" PORT0,
		     "t.ini:2: [stack] idle_sleep_max_us: 100001 is out of range 1..100000");
	expect_error("[stack]\nidle = yield\nidle = sleep\n" PORT0,
		     "t.ini:3: [stack] idle: duplicate key (first set on line 2)");

	ctl_config_defaults(&c);
	assert_int_equal(ctl_config_parse_string(&c, "t.ini", PORT0, err, sizeof(err)), 0);
	assert_int_equal(ctl_config_override(&c, "stack.idle=nap", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-s stack.idle=nap: [stack] idle: \"nap\" is not an idle policy "
				 "(known: poll, yield, sleep)");
	assert_int_equal(c.tun.idle, DP_IDLE_POLL);
}

static void test_config_link_timeout_is_per_port_with_a_default(void **state)
{
	struct ctl_config c;
	struct dp_stack st;

	(void)state;
	assert_int_equal(parse(&c, PORT0 "link_timeout_ms = 0\n[port1]\ndevice = net_tap1\n"
					  "address = 10.1.0.2/24\n"),
			 0);
	assert_int_equal(c.ports[0].link_timeout_ms, 0);
	assert_int_equal(c.ports[1].link_timeout_ms, DP_LINK_TIMEOUT_DEFAULT_MS);
	assert_int_equal(ctl_config_override(&c, "port1.link_timeout_ms=250", err, sizeof(err)), 0);
	assert_int_equal(ctl_config_to_stack(&c, &st, err, sizeof(err)), 0);
	assert_int_equal(st.ifaces[0].link_timeout_ms, 0);
	assert_int_equal(st.ifaces[1].link_timeout_ms, 250);

	expect_error(PORT0 "link_timeout_ms = 600001\n",
		     "t.ini:4: [port0] link_timeout_ms: 600001 is out of range 0..600000");
	expect_error(PORT0 "link_timeout_ms = 3s\n",
		     "t.ini:4: [port0] link_timeout_ms: \"3s\" is not a number");
	expect_error(PORT0 "link_timeout_ms = 10\nlink_timeout_ms = 20\n",
		     "t.ini:5: [port0] link_timeout_ms: duplicate key (first set on line 4)");
}

static void test_config_two_ports_cannot_share_device_or_address(void **state)
{
	(void)state;
	expect_error(PORT0 "[port1]\nvdev = net_tap0,iface=x\naddress = 10.1.0.2/24\n",
		     "t.ini:5: [port1] vdev: device net_tap0 is already used by [port0]");
	expect_error(PORT0 "[port1]\ndevice = net_tap1\naddress = 10.0.0.2/16\n",
		     "t.ini:6: [port1] address: 10.0.0.2 is already the address of [port0]");
	expect_error(PORT0 "gateway = 10.0.0.1\n[port1]\ndevice = net_tap1\n"
			   "address = 10.1.0.2/24\ngateway = 10.1.0.1\n",
		     "t.ini:8: [port1] gateway: a default route is already set by [port0] gateway "
		     "(line 4)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_full_file_sets_every_value),
		cmocka_unit_test(test_config_minimal_file_gets_defaults),
		cmocka_unit_test(test_config_booleans_accept_the_usual_spellings),
		cmocka_unit_test(test_config_to_stack_builds_routes_longest_prefix_first),
		cmocka_unit_test(test_config_file_is_read_and_named_in_messages),
		cmocka_unit_test(test_config_bad_address_names_file_line_section_key),
		cmocka_unit_test(test_config_prefix_over_32_is_rejected),
		cmocka_unit_test(test_config_bad_mtu_is_rejected),
		cmocka_unit_test(test_config_unknown_key_is_rejected),
		cmocka_unit_test(test_config_unknown_section_is_rejected),
		cmocka_unit_test(test_config_duplicate_key_is_rejected),
		cmocka_unit_test(test_config_missing_required_keys_are_named),
		cmocka_unit_test(test_config_gateways_must_be_on_link),
		cmocka_unit_test(test_config_bad_bool_is_rejected),
		cmocka_unit_test(test_config_bad_number_is_rejected),
		cmocka_unit_test(test_config_syntax_errors_give_their_line),
		cmocka_unit_test(test_config_overrides_replace_file_values),
		cmocka_unit_test(test_config_override_errors_name_the_argument),
		cmocka_unit_test(test_config_tcp_recovery_chooses_rack_or_rfc6675),
		cmocka_unit_test(test_config_empty_value_unsets_device_vdev_gateway),
		cmocka_unit_test(test_config_two_ports_cannot_share_device_or_address),
		cmocka_unit_test(test_config_idle_policy_keys_are_parsed_with_defaults),
		cmocka_unit_test(test_config_bad_idle_values_are_rejected),
		cmocka_unit_test(test_config_link_timeout_is_per_port_with_a_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
