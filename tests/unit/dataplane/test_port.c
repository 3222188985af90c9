/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp_port_link_wait() (dataplane/port/port.c) on real net_ring ports: a port whose link is up
 * is not waited for, a port that stays down is given up at its own link_timeout_ms and
 * counted, and a port with link_timeout_ms 0 is looked at once. Outcomes only: no timing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <rte_ethdev.h>

#include "port/dp_port.h"
#include "zpt.h"

static void test_link_wait_reports_each_port_up_or_down(void **state)
{
	struct zpt_env *env = zpt_env_new(2);
	struct dp_iface *ifc = env->stack.ifaces;
	uint32_t up_ms[2];

	(void)state;
	/* net_ring: link up while started, down once stopped. */
	assert_int_equal(rte_eth_dev_stop(ifc[1].port_id), 0);
	ifc[0].link_timeout_ms = DP_LINK_TIMEOUT_DEFAULT_MS;
	ifc[1].link_timeout_ms = 3 * DP_LINK_WAIT_TICK_MS;
	assert_int_equal(dp_port_link_wait(ifc, 2, up_ms), 1);
	assert_true(up_ms[0] != DP_LINK_DOWN && up_ms[0] != DP_LINK_UNKNOWN);
	assert_int_equal(up_ms[1], DP_LINK_DOWN);

	/* Timeout 0: one look, no wait; a port that is up is still reported up. */
	ifc[1].link_timeout_ms = 0;
	assert_int_equal(dp_port_link_wait(ifc, 2, up_ms), 1);
	assert_int_equal(up_ms[1], DP_LINK_DOWN);
	assert_int_equal(rte_eth_dev_start(ifc[1].port_id), 0);
	assert_int_equal(dp_port_link_wait(ifc, 2, up_ms), 0);
	assert_true(up_ms[0] != DP_LINK_DOWN && up_ms[0] != DP_LINK_UNKNOWN);
	assert_true(up_ms[1] != DP_LINK_DOWN && up_ms[1] != DP_LINK_UNKNOWN);
	zpt_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_wait_reports_each_port_up_or_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
