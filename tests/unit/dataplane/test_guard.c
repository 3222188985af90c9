/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port burst guard (dataplane/port/guard.c), on real net_ring ports: a fault inside a
 * guarded burst on a port whose link is down is survived and counted, again and again; a
 * fault on a port that is up, or outside any guarded burst, still reaches the handler that
 * was there before (here one that exits 42, so the outcome does not depend on ASan's own
 * SIGSEGV handling); a guarded port still moves packets both ways through the worker loop.
 * The faults are real: reads of a PROT_NONE page, which is what net_memif's unmapped rings
 * give a burst.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <rte_ethdev.h>

#include "port/dp_guard.h"
#include "zpt.h"

#define EXIT_OLD_HANDLER 42

static volatile uint8_t *g_hole; /* one PROT_NONE page */
static volatile int g_reached;

static void touch_hole(void *arg)
{
	(void)arg;
	g_reached = 1;
	(void)g_hole[100]; /* SIGSEGV */
	g_reached = 2;
}

static void no_fault(void *arg)
{
	*(int *)arg = 7;
}

static void old_handler(int sig)
{
	(void)sig;
	_exit(EXIT_OLD_HANDLER);
}

static int setup(void **state)
{
	void *p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)state;
	if (p == MAP_FAILED)
		return -1;
	g_hole = p;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	munmap((void *)g_hole, 4096);
	return 0;
}

/* Run @p fn in a child with old_handler installed before the guard; return its wait status. */
static int in_child(uint16_t port_id, void (*fn)(void *), bool guarded)
{
	int status = 0;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dp_guard_uninstall(); /* an earlier test may have installed it in the parent */
		signal(SIGSEGV, old_handler);
		if (dp_guard_install() != 0)
			_exit(3);
		if (guarded)
			_exit(dp_guard_run(port_id, fn, NULL) == -EFAULT ? 0 : 4);
		fn(NULL);
		_exit(5);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void test_fault_on_down_port_is_survived_and_counted(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	uint16_t pid = env->stack.ifaces[0].port_id;
	uint64_t f0;
	int out = 0, i;

	(void)state;
	assert_int_equal(dp_guard_install(), 0);
	assert_int_equal(dp_guard_install(), 0); /* idempotent */
	/* net_ring: link down once stopped, as memif marks it before unmapping. */
	assert_int_equal(rte_eth_dev_stop(pid), 0);
	f0 = dp_guard_faults();
	for (i = 0; i < 3; i++) { /* the signal must stay unblocked after each jump */
		g_reached = 0;
		assert_int_equal(dp_guard_run(pid, touch_hole, NULL), -EFAULT);
		assert_int_equal(g_reached, 1);
	}
	assert_int_equal(dp_guard_faults(), f0 + 3);
	/* A burst that does not fault runs to its end and is not counted. */
	assert_int_equal(dp_guard_run(pid, no_fault, &out), 0);
	assert_int_equal(out, 7);
	assert_int_equal(dp_guard_faults(), f0 + 3);
	assert_int_equal(rte_eth_dev_start(pid), 0);
	zpt_env_free(env);
}

static void test_fault_on_up_port_goes_to_the_old_handler(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	int st;

	(void)state;
	/* Link up: a fault there is a real bug, not a peer leaving. */
	st = in_child(env->stack.ifaces[0].port_id, touch_hole, true);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EXIT_OLD_HANDLER);
	zpt_env_free(env);
}

static void test_fault_outside_a_burst_goes_to_the_old_handler(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	uint16_t pid = env->stack.ifaces[0].port_id;
	int st;

	(void)state;
	assert_int_equal(rte_eth_dev_stop(pid), 0);
	st = in_child(pid, touch_hole, false); /* port down, but no burst in progress */
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EXIT_OLD_HANDLER);
	/* And the same child shape with the burst guarded survives (exit 0). */
	st = in_child(pid, touch_hole, true);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(rte_eth_dev_start(pid), 0);
	zpt_env_free(env);
}

static void test_guarded_port_moves_packets_both_ways(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	struct dp_iface *ifc = &env->stack.ifaces[0];
	struct rte_ether_addr peer = zpt_peer_mac(1);
	uint8_t frame[256];
	size_t len;
	struct rte_mbuf *m;

	(void)state;
	assert_int_equal(dp_guard_install(), 0);
	ifc->guard = true;
	len = zpt_build_ping(frame, &ifc->mac, &peer, ZPT_IP(10, 0, 0, 2), ifc->addr, 9, 1, 64);
	zpt_inject(env, 0, frame, len);
	zpt_poll(env); /* guarded RX burst, then guarded TX flush of the reply */
	assert_int_equal(env->w->stats[DP_STAT_ICMP_ECHO_IN], 1);
	m = zpt_tx_pop(env, 0);
	assert_non_null(m);
	rte_pktmbuf_free(m);
	assert_int_equal(env->w->drops[DP_DROP_PORT_FAULT], 0);
	ifc->guard = false;
	zpt_env_free(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fault_on_down_port_is_survived_and_counted),
		cmocka_unit_test(test_fault_on_up_port_goes_to_the_old_handler),
		cmocka_unit_test(test_fault_outside_a_burst_goes_to_the_old_handler),
		cmocka_unit_test(test_guarded_port_moves_packets_both_ways),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
