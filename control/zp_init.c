/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The process API of zpath.h: zp_init() wires the whole process together (EAL, zpath.ini,
 * ports, worker pools and stack instances, packet capture, signals, the control thread),
 * zp_run() runs the application on every worker lcore, zp_fini() takes it all down again.
 *
 * Everything here runs on the main thread except the zp_run() trampoline and the per-worker
 * queries (zp_poll, zp_worker_id), which run on a worker. The process state is one static
 * struct: written by zp_init() before any worker starts, read-only while they run.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_pdump.h>

#include <zpath/zpath.h>

#include "config.h"
#include "ctl.h"
#include "dp_priv.h"
#include "port/dp_guard.h"
#include "port/dp_port.h"
#include "tcp/tcp.h"

#define ZP_MAX_OVERRIDES 64

enum zp_state {
	ZP_STATE_NONE,	 /**< zp_init() not called */
	ZP_STATE_FAILED, /**< zp_init() failed after the EAL came up: cannot retry */
	ZP_STATE_READY,	 /**< initialised */
	ZP_STATE_DONE,	 /**< zp_fini() ran */
};

/* What zp_init() built, in the order zp_fini() takes it down. */
static struct {
	enum zp_state state;
	bool quiet;
	struct ctl_config cfg;
	struct dp_stack stack;
	struct dp_port ports[DP_MAX_PORTS];
	bool port_open[DP_MAX_PORTS];
	unsigned lcores[DP_MAX_WORKERS];
	int sockets[DP_MAX_WORKERS];
	struct rte_mempool *pools[DP_MAX_WORKERS];
	bool worker_init[DP_MAX_WORKERS];
	bool sock_init[DP_MAX_WORKERS];
	uint32_t link_up_ms[DP_MAX_PORTS]; /**< dp_port_link_wait(): when each link came up */
	bool pdump;
	char pdump_note[128];
	bool ctl;
	bool signals;
	struct sigaction old_int, old_term;
} zp;

static bool zp_run_flag;
static char zp_err[1024];

static int zp_fail(int err, const char *fmt, ...) __rte_format_printf(2, 3);

/* Set the zp_strerror_last() text and errno; returns -1 for the caller to return. */
static int zp_fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(zp_err, sizeof(zp_err), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

const char *zp_strerror_last(void)
{
	return zp_err;
}

/* ------------------------------------------------------------------------------------------ */
/* Arguments                                                                                   */

struct zp_args {
	const char *config;
	bool config_default; /* no -c given */
	const char *instance;
	bool quiet;
	unsigned nb_overrides;
	const char *overrides[ZP_MAX_OVERRIDES];
};

/* Value of option argv[*i] ("-c FILE", "-cFILE", "--config FILE", "--config=FILE"). */
static const char *opt_value(int argc, char **argv, int *i, const char *shrt, const char *lng)
{
	const char *a = argv[*i];
	size_t ll = strlen(lng);

	if (strcmp(a, shrt) == 0 || strcmp(a, lng) == 0) {
		if (*i + 1 >= argc)
			return NULL;
		return argv[++*i];
	}
	if (strncmp(a, lng, ll) == 0 && a[ll] == '=')
		return a + ll + 1;
	return a + strlen(shrt); /* "-cFILE" */
}

static bool opt_is(const char *a, const char *shrt, const char *lng)
{
	size_t ll = strlen(lng);

	return strncmp(a, shrt, strlen(shrt)) == 0 || strcmp(a, lng) == 0 ||
	       (strncmp(a, lng, ll) == 0 && a[ll] == '=');
}

/*
 * Parse the zpath arguments in argv[1..] (argv[0] is the program name EAL left there).
 * Returns the index that becomes the program's argv[0], or -1 (zp_err set).
 */
static int parse_args(int argc, char **argv, struct zp_args *a)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;

		if (strcmp(arg, "--") == 0) {
			argv[i] = argv[0];
			return i;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
			a->quiet = true;
			continue;
		}
		if (opt_is(arg, "-c", "--config")) {
			v = opt_value(argc, argv, &i, "-c", "--config");
			if (v == NULL || *v == '\0')
				return zp_fail(EINVAL, "zpath option %s needs a file name", arg);
			a->config = v;
			a->config_default = false;
		} else if (opt_is(arg, "-i", "--instance")) {
			v = opt_value(argc, argv, &i, "-i", "--instance");
			if (v == NULL || *v == '\0')
				return zp_fail(EINVAL, "zpath option %s needs a name", arg);
			a->instance = v;
		} else if (opt_is(arg, "-s", "--set")) {
			v = opt_value(argc, argv, &i, "-s", "--set");
			if (v == NULL || *v == '\0')
				return zp_fail(EINVAL, "zpath option %s needs section.key=value",
					       arg);
			if (a->nb_overrides == ZP_MAX_OVERRIDES)
				return zp_fail(EINVAL, "more than %d -s overrides",
					       ZP_MAX_OVERRIDES);
			a->overrides[a->nb_overrides++] = v;
		} else {
			return zp_fail(
				EINVAL,
				"unknown zpath option \"%s\" (zpath options: -c FILE, -i NAME, "
				"-q, -s SECTION.KEY=VALUE; program options go after a second "
				"\"--\")",
				arg);
		}
	}
	/* Stopped at a non-option or the end: the last zpath argument becomes argv[0]. */
	argv[i - 1] = argv[0];
	return i - 1;
}

static int load_config(const struct zp_args *a, struct ctl_config *c)
{
	char err[sizeof(zp_err)];
	unsigned i;
	int rc;

	ctl_config_defaults(c);
	rc = ctl_config_parse_file(c, a->config, err, sizeof(err));
	for (i = 0; rc == 0 && i < a->nb_overrides; i++)
		rc = ctl_config_override(c, a->overrides[i], err, sizeof(err));
	if (rc == 0 && a->instance != NULL) {
		/* -i NAME is the same as -s stack.instance=NAME, with its own message. */
		char spec[64 + CTL_CFG_INSTANCE_MAX];

		snprintf(spec, sizeof(spec), "stack.instance=%s", a->instance);
		rc = ctl_config_override(c, spec, err, sizeof(err));
		if (rc != 0)
			snprintf(err, sizeof(err),
				 "-i %s: not a valid instance name (1..%d "
				 "characters of A-Z a-z 0-9 . _ -, not starting with '.')",
				 a->instance, CTL_CFG_INSTANCE_MAX);
	}
	if (rc == 0)
		rc = ctl_config_finish(c, err, sizeof(err));
	if (rc == -ENOENT && a->config_default)
		return zp_fail(ENOENT, "%s (give the configuration file with -c FILE)", err);
	if (rc != 0)
		return zp_fail(-rc, "%s", err);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Bring-up and tear-down                                                                      */

static void on_signal(int sig)
{
	(void)sig;
	zp_stop();
}

static int hook_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGINT, &sa, &zp.old_int) != 0 || sigaction(SIGTERM, &sa, &zp.old_term) != 0)
		return -errno;
	zp.signals = true;
	return 0;
}

/* Undo whatever zp_init() got to, in reverse order. Safe on a partial set-up. */
static void teardown(void)
{
	struct dp_stack *s = &zp.stack;
	unsigned i;

	if (zp.ctl) {
		ctl_stop();
		zp.ctl = false;
	}
	for (i = 0; i < DP_MAX_WORKERS; i++)
		if (zp.sock_init[i]) {
			dp_sock_worker_fini(s->workers[i]);
			zp.sock_init[i] = false;
		}
	for (i = 0; i < DP_MAX_PORTS; i++)
		if (zp.port_open[i])
			dp_port_stop(&s->ifaces[i], &zp.ports[i]);
	dp_guard_uninstall(); /* no burst runs any more: the application's SIGSEGV handling back */
	for (i = 0; i < DP_MAX_WORKERS; i++) {
		if (zp.worker_init[i]) {
			dp_worker_fini(s->workers[i]);
			zp.worker_init[i] = false;
		}
		rte_free(s->workers[i]);
		s->workers[i] = NULL;
	}
	for (i = 0; i < DP_MAX_PORTS; i++)
		if (zp.port_open[i]) {
			dp_port_close(&s->ifaces[i], &zp.ports[i]);
			zp.port_open[i] = false;
		}
	for (i = 0; i < DP_MAX_WORKERS; i++) {
		rte_mempool_free(zp.pools[i]);
		zp.pools[i] = NULL;
	}
	if (zp.pdump) {
		rte_pdump_uninit();
		zp.pdump = false;
	}
	if (zp.signals) {
		sigaction(SIGINT, &zp.old_int, NULL);
		sigaction(SIGTERM, &zp.old_term, NULL);
		zp.signals = false;
	}
}

/* Worker w runs on lcores[w]: worker 0 on the main lcore, the others on the EAL workers. */
static int assign_lcores(uint16_t nb_workers)
{
	unsigned lcore, n = 1;

	if (rte_lcore_count() < nb_workers)
		return zp_fail(
			EINVAL,
			"[stack] workers: %u workers need %u lcores but the EAL has %u (give "
			"the EAL more, e.g. -l 0-%u)",
			nb_workers, nb_workers, rte_lcore_count(), nb_workers - 1u);
	zp.lcores[0] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (n == nb_workers)
			break;
		zp.lcores[n++] = lcore;
	}
	for (n = 0; n < nb_workers; n++) {
		int sock = (int)rte_lcore_to_socket_id(zp.lcores[n]);
		zp.sockets[n] = sock < 0 ? 0 : sock;
	}
	return 0;
}

static int open_ports(void)
{
	struct dp_stack *s = &zp.stack;
	char err[768];
	unsigned i;
	int rc;

	for (i = 0; i < s->nb_ifaces; i++) {
		const struct ctl_config_port *cp = &zp.cfg.ports[i];

		rc = dp_port_open(
			&s->ifaces[i], &zp.ports[i], cp->device[0] != '\0' ? cp->device : NULL,
			cp->vdev[0] != '\0' ? cp->vdev : NULL, s->nb_workers, err, sizeof(err));
		if (rc != 0)
			return zp_fail(rc == -ENODEV ? ENODEV : -rc, "[port%u]: %s", i, err);
		zp.port_open[i] = true;
	}
	return 0;
}

/* One pool per worker on its socket, big enough for the worker's rings on every port. */
static int create_pools(void)
{
	const struct dp_stack *s = &zp.stack;
	unsigned need = 0, i;
	uint16_t mtu = 0;

	for (i = 0; i < s->nb_ifaces; i++) {
		need += zp.ports[i].nb_rxd + zp.ports[i].nb_txd;
		mtu = RTE_MAX(mtu, s->ifaces[i].mtu);
	}
	need += 2 * zp.cfg.mbuf_cache + 512;
	if (zp.cfg.mbufs < need)
		return zp_fail(
			EINVAL,
			"[stack] mbufs: %u mbufs per worker cannot fill the descriptor rings "
			"(%u port(s) need at least %u with mbuf_cache %u)",
			zp.cfg.mbufs, s->nb_ifaces, need, zp.cfg.mbuf_cache);
	for (i = 0; i < s->nb_workers; i++) {
		char name[RTE_MEMPOOL_NAMESIZE];

		snprintf(name, sizeof(name), "zp_pool_%u", i);
		zp.pools[i] = rte_pktmbuf_pool_create(name, zp.cfg.mbufs, zp.cfg.mbuf_cache, 0,
						      dp_port_mbuf_size(mtu), zp.sockets[i]);
		if (zp.pools[i] == NULL)
			return zp_fail(
				rte_errno,
				"worker %u: cannot create a pool of %u mbufs (%u bytes each) "
				"on socket %d: %s (lower [stack] mbufs, or give the EAL more "
				"memory with -m)",
				i, zp.cfg.mbufs, dp_port_mbuf_size(mtu), zp.sockets[i],
				rte_strerror(rte_errno));
	}
	return 0;
}

static int start_ports(void)
{
	struct dp_stack *s = &zp.stack;
	char err[512];
	unsigned i;
	int rc;

	for (i = 0; i < s->nb_ifaces; i++) {
		rc = dp_port_start(&s->ifaces[i], &zp.ports[i], zp.pools, zp.sockets, s->nb_workers,
				   err, sizeof(err));
		if (rc != 0)
			return zp_fail(-rc, "[port%u]: %s", i, err);
	}
	return 0;
}

static int create_workers(void)
{
	struct dp_stack *s = &zp.stack;
	unsigned i, j;
	int rc;

	for (i = 0; i < s->nb_workers; i++) {
		struct dp_worker *w = rte_zmalloc_socket("zp_worker", sizeof(*w),
							 RTE_CACHE_LINE_SIZE, zp.sockets[i]);
		if (w == NULL)
			return zp_fail(ENOMEM, "worker %u: out of memory", i);
		s->workers[i] = w;
		rc = dp_worker_init(w, s, (uint16_t)i, zp.pools[i]);
		if (rc != 0)
			return zp_fail(-rc, "worker %u: dp_worker_init: %s", i, strerror(-rc));
		zp.worker_init[i] = true;
		w->lcore = zp.lcores[i];
		for (j = 0; j < s->nb_ifaces; j++) {
			if (i >= s->ifaces[j].nb_rx_queues)
				continue;
			w->rxq[w->nb_rxq].iface = (uint16_t)j;
			w->rxq[w->nb_rxq].queue = (uint16_t)i;
			w->nb_rxq++;
		}
	}
	for (i = 0; i < s->nb_workers; i++) {
		rc = dp_sock_worker_init(s->workers[i]);
		if (rc != 0)
			return zp_fail(-rc, "worker %u: socket layer: %s", i, strerror(-rc));
		zp.sock_init[i] = true;
	}
	return 0;
}

static void start_pdump(void)
{
	/* dpdk-dumpcap is a secondary process: it must map the primary's memory, which only
	 * hugepage-backed memory allows, and reach it over the multi-process channel. */
	if (!rte_eal_has_hugepages()) {
		snprintf(zp.pdump_note, sizeof(zp.pdump_note),
			 "off (--no-huge: dpdk-dumpcap cannot attach without hugepages)");
		return;
	}
	if (rte_pdump_init() == 0) {
		/* The runtime directory is /var/run/dpdk/<file-prefix>. */
		const char *dir = rte_eal_get_runtime_dir();
		const char *prefix = strrchr(dir, '/') != NULL ? strrchr(dir, '/') + 1 : dir;

		zp.pdump = true;
		snprintf(zp.pdump_note, sizeof(zp.pdump_note), "on (dpdk-dumpcap --file-prefix %s)",
			 prefix);
	} else {
		/* Needs the multi-process channel: not with --in-memory or --no-shconf. */
		snprintf(zp.pdump_note, sizeof(zp.pdump_note),
			 "off (%s: needs the EAL multi-process channel, not --in-memory or "
			 "--no-shconf)",
			 rte_strerror(rte_errno));
	}
}

static const char *const idle_name[] = {
	[DP_IDLE_POLL] = "poll (busy)",
	[DP_IDLE_YIELD] = "yield",
	[DP_IDLE_SLEEP] = "sleep",
};

static void report(void)
{
	const struct dp_stack *s = &zp.stack;
	char buf[1024];
	unsigned i;

	printf("zpath %s: instance \"%s\", %u worker(s), pid %d\n", ZPATH_VERSION, zp.cfg.instance,
	       s->nb_workers, (int)getpid());
	for (i = 0; i < s->nb_ifaces; i++) {
		uint32_t up = zp.link_up_ms[i];

		dp_port_describe(&s->ifaces[i], &zp.ports[i], buf, sizeof(buf));
		printf("  port%u %s\n", i, buf);
		if (up == DP_LINK_UNKNOWN)
			printf("    link: the driver does not report it (not waited for)\n");
		else if (up == DP_LINK_DOWN)
			printf("    link: still down after %u ms (link_timeout_ms)\n",
			       s->ifaces[i].link_timeout_ms);
		else
			printf("    link: up after %u ms\n", up);
	}
	for (i = 0; i < s->nb_routes; i++) {
		const struct dp_route *r = &s->routes[i];
		const uint8_t *n = (const uint8_t *)&r->net, *g = (const uint8_t *)&r->gateway;

		if (r->gateway == 0)
			printf("  route %u.%u.%u.%u/%u dev port%u\n", n[0], n[1], n[2], n[3],
			       r->prefix_len, r->iface);
		else
			printf("  route %u.%u.%u.%u/%u via %u.%u.%u.%u dev port%u\n", n[0], n[1],
			       n[2], n[3], r->prefix_len, g[0], g[1], g[2], g[3], r->iface);
	}
	for (i = 0; i < s->nb_workers; i++) {
		const struct dp_worker *w = s->workers[i];

		printf("  worker %u: lcore %u, socket %d, %u mbufs, polls", i, w->lcore,
		       zp.sockets[i], zp.cfg.mbufs);
		for (unsigned j = 0; j < w->nb_rxq; j++)
			printf(" port%u/q%u", w->rxq[j].iface, w->rxq[j].queue);
		printf("%s\n", w->nb_rxq == 0 ? " nothing (gets flows by software steering)" : "");
	}
	if (rte_lcore_count() > s->nb_workers)
		printf("  %u lcore(s) beyond the workers stay idle\n",
		       rte_lcore_count() - s->nb_workers);
	printf("  idle policy: %s", idle_name[s->tun.idle]);
	if (s->tun.idle != DP_IDLE_POLL)
		printf(" after %u empty passes", s->tun.idle_after);
	if (s->tun.idle == DP_IDLE_SLEEP)
		printf(", naps up to %u us", s->tun.idle_sleep_max_us);
	printf("\n  packet capture: %s\n", zp.pdump_note);
	fflush(stdout);
}

int zp_init(int argc, char **argv)
{
	struct zp_args args = {.config = "zpath.ini", .config_default = true};
	char err[512];
	int eal_n, prog, rc;
	unsigned down;

	if (zp.state != ZP_STATE_NONE)
		return zp_fail(EALREADY, "zp_init() was already called");
	zp_err[0] = '\0';
	eal_n = rte_eal_init(argc, argv);
	if (eal_n < 0) {
		int e = rte_errno;
		zp.state = e == EALREADY ? ZP_STATE_NONE : ZP_STATE_FAILED;
		return zp_fail(e, "rte_eal_init failed: %s", rte_strerror(e));
	}
	zp.state = ZP_STATE_FAILED; /* until the end: the EAL cannot be initialised twice */

	prog = parse_args(argc - eal_n, argv + eal_n, &args);
	if (prog < 0)
		goto fail;
	zp.quiet = args.quiet;
	if (load_config(&args, &zp.cfg) != 0)
		goto fail;
	rc = ctl_config_to_stack(&zp.cfg, &zp.stack, err, sizeof(err));
	if (rc != 0) {
		zp_fail(-rc, "%s", err);
		goto fail;
	}
	if (assign_lcores(zp.stack.nb_workers) != 0 || open_ports() != 0 || create_pools() != 0 ||
	    start_ports() != 0 || create_workers() != 0)
		goto fail;

	down = dp_port_link_wait(zp.stack.ifaces, zp.stack.nb_ifaces, zp.link_up_ms);
	start_pdump();
	rc = hook_signals();
	if (rc != 0) {
		zp_fail(-rc, "cannot install the SIGINT/SIGTERM handlers: %s", strerror(-rc));
		goto fail;
	}
	__atomic_store_n(&zp_run_flag, true, __ATOMIC_RELEASE);
	rc = ctl_start(&zp.stack, zp.cfg.instance, err, sizeof(err));
	if (rc != 0) {
		zp_fail(-rc, "control thread: %s", err);
		goto fail;
	}
	zp.ctl = true;
	zp.state = ZP_STATE_READY;
	if (!zp.quiet) {
		report();
		if (down > 0)
			printf("  %u port(s) still without link: packets flow once it comes up\n",
			       down);
		fflush(stdout);
	}
	return eal_n + prog;

fail:
	rc = errno;
	teardown();
	rte_eal_cleanup();
	errno = rc;
	return -1;
}

/* ------------------------------------------------------------------------------------------ */
/* Running                                                                                     */

struct zp_launch {
	struct dp_worker *w;
	zp_worker_fn fn;
	void *arg;
};

static int zp_trampoline(void *p)
{
	const struct zp_launch *l = p;

	dp_worker_set_self(l->w);
	/* One gratuitous ARP per port is enough: worker 0 sends it. */
	if (l->w->id == 0)
		dp_arp_announce(l->w);
	return l->fn(l->arg);
}

int zp_run(zp_worker_fn fn, void *arg)
{
	struct zp_launch launch[DP_MAX_WORKERS];
	const struct dp_stack *s = &zp.stack;
	int ret[DP_MAX_WORKERS] = {0};
	unsigned i;
	int rc;

	if (zp.state != ZP_STATE_READY || fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < s->nb_workers; i++)
		launch[i] = (struct zp_launch){.w = s->workers[i], .fn = fn, .arg = arg};
	for (i = 1; i < s->nb_workers; i++) {
		rc = rte_eal_remote_launch(zp_trampoline, &launch[i], zp.lcores[i]);
		if (rc != 0) {
			/* Cannot happen after a clean zp_init(); stop those already running. */
			zp_stop();
			while (--i > 0)
				rte_eal_wait_lcore(zp.lcores[i]);
			errno = -rc;
			return -1;
		}
	}
	ret[0] = zp_trampoline(&launch[0]);
	dp_worker_set_self(NULL);
	for (i = 1; i < s->nb_workers; i++)
		ret[i] = rte_eal_wait_lcore(zp.lcores[i]);
	for (i = 0; i < s->nb_workers; i++)
		if (ret[i] != 0)
			return ret[i];
	return 0;
}

void zp_stop(void)
{
	/* Async-signal-safe: one atomic store. */
	__atomic_store_n(&zp_run_flag, false, __ATOMIC_RELEASE);
}

bool zp_running(void)
{
	return __atomic_load_n(&zp_run_flag, __ATOMIC_ACQUIRE);
}

int zp_poll(void)
{
	struct dp_worker *w = dp_worker_self();

	if (w == NULL) {
		errno = EPERM;
		return -1;
	}
	return (int)dp_worker_poll(w);
}

int zp_worker_id(void)
{
	struct dp_worker *w = dp_worker_self();

	return w == NULL ? -1 : w->id;
}

unsigned zp_worker_count(void)
{
	return zp.state == ZP_STATE_READY ? zp.stack.nb_workers : 0;
}

/*
 * The TCP engine's counter names as zp_counters() shows them: "tcp." + the engine's name, so
 * "tcp.nomem" never clashes with the dataplane's "nomem". Built once, kept for the life of the
 * process (the names handed out must stay valid). NULL if the allocation failed.
 */
#define ZP_TCP_PREFIX	"tcp."
#define ZP_TCP_NAME_MAX 48

static pthread_once_t zp_tcp_names_once = PTHREAD_ONCE_INIT;
static char (*zp_tcp_names)[ZP_TCP_NAME_MAX]; /* the statistics, then the drop reasons */

static void zp_tcp_names_build(void)
{
	unsigned ns = tcp_stat_count(), nd = tcp_drop_count(), i;
	char(*names)[ZP_TCP_NAME_MAX] = calloc(ns + nd, sizeof(*names));

	if (names == NULL)
		return;
	for (i = 0; i < ns; i++)
		snprintf(names[i], sizeof(names[i]), ZP_TCP_PREFIX "%s", tcp_stat_name(i));
	for (i = 0; i < nd; i++)
		snprintf(names[ns + i], sizeof(names[ns + i]), ZP_TCP_PREFIX "%s",
			 tcp_drop_name(i));
	zp_tcp_names = names;
}

/* Append counter @name = @value at position *n, if it is below @max; *n counts it anyway. */
static void zp_counter_put(struct zp_counter *out, unsigned max, unsigned *n, const char *name,
			   bool drop, uint64_t value)
{
	if (*n < max)
		out[*n] = (struct zp_counter){.name = name, .drop = drop, .value = value};
	(*n)++;
}

int zp_counters(struct zp_counter *out, unsigned max)
{
	const struct dp_stack *s = &zp.stack;
	unsigned n = 0, i, k, ns = tcp_stat_count(), nd = tcp_drop_count();

	if (zp.state != ZP_STATE_READY) {
		errno = EINVAL;
		return -1;
	}
	pthread_once(&zp_tcp_names_once, zp_tcp_names_build);
	if (zp_tcp_names == NULL) {
		errno = ENOMEM;
		return -1;
	}
	/* Statistics: the dataplane's, then the TCP engine's. */
	for (k = 0; k < DP_STAT_MAX; k++) {
		uint64_t v = 0;

		for (i = 0; i < s->nb_workers && n < max; i++)
			v += __atomic_load_n(&s->workers[i]->stats[k], __ATOMIC_RELAXED);
		zp_counter_put(out, max, &n, dp_stat_name(k), false, v);
	}
	for (k = 0; k < ns; k++) {
		uint64_t v = 0;

		for (i = 0; i < s->nb_workers && n < max; i++)
			v += tcp_stat_get(s->workers[i], k);
		zp_counter_put(out, max, &n, zp_tcp_names[k], false, v);
	}
	/* Drop reasons: the dataplane's, then the TCP engine's. */
	for (k = 0; k < DP_DROP_MAX; k++) {
		uint64_t v = 0;

		for (i = 0; i < s->nb_workers && n < max; i++)
			v += __atomic_load_n(&s->workers[i]->drops[k], __ATOMIC_RELAXED);
		zp_counter_put(out, max, &n, dp_drop_name(k), true, v);
	}
	for (k = 0; k < nd; k++) {
		uint64_t v = 0;

		for (i = 0; i < s->nb_workers && n < max; i++)
			v += tcp_drop_get(s->workers[i], k);
		zp_counter_put(out, max, &n, zp_tcp_names[ns + k], true, v);
	}
	return (int)n;
}

int zp_fini(void)
{
	int rc;

	if (zp.state != ZP_STATE_READY) {
		errno = EINVAL;
		return -1;
	}
	zp_stop();
	teardown();
	zp.state = ZP_STATE_DONE;
	rc = rte_eal_cleanup();
	if (rc != 0) {
		errno = -rc;
		return -1;
	}
	return 0;
}
