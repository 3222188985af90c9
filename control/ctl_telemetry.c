/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * /zpath/... endpoints of DPDK telemetry (dpdk-telemetry.py shows them next to /ethdev/...).
 * Callbacks run on DPDK's telemetry thread: they read the single-writer worker counters
 * without locks, and for /zpath/conns post a dump job to the workers and poll for its answer.
 * The mutex only keeps ctl_stop() from pulling the stack away during a callback.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_telemetry.h>

#include "ctl_priv.h"
#include "tcp/tcp.h"
#include "zpath/zpath.h"

static pthread_mutex_t tele_lock = PTHREAD_MUTEX_INITIALIZER;

void ctl_telemetry_lock(void)
{
	pthread_mutex_lock(&tele_lock);
}

void ctl_telemetry_unlock(void)
{
	pthread_mutex_unlock(&tele_lock);
}

/* Optional ",N" worker parameter: -1 = all, -2 = invalid. */
static int param_worker(const char *params, const struct dp_stack *s)
{
	char *end;
	long v;

	if (params == NULL || params[0] == '\0')
		return -1;
	v = strtol(params, &end, 10);
	if (*end != '\0' || v < 0 || v >= s->nb_workers)
		return -2;
	return (int)v;
}

static int tele_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct ctl_state_view *st;
	struct timespec ts;
	uint64_t now;

	(void)cmd;
	(void)params;
	ctl_telemetry_lock();
	st = ctl_state();
	if (st->stack == NULL) {
		ctl_telemetry_unlock();
		return -ENODEV;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_string(d, "instance", st->instance);
	rte_tel_data_add_dict_string(d, "version", ZPATH_VERSION);
	rte_tel_data_add_dict_u64(d, "pid", (uint64_t)getpid());
	rte_tel_data_add_dict_u64(d, "uptime_s", (now - st->start_mono_ns) / 1000000000ULL);
	rte_tel_data_add_dict_u64(d, "workers", st->stack->nb_workers);
	rte_tel_data_add_dict_u64(d, "ports", st->stack->nb_ifaces);
	rte_tel_data_add_dict_string(d, "control_socket", st->sock_path);
	rte_tel_data_add_dict_string(d, "nmi_socket", st->nmi_path);
	ctl_telemetry_unlock();
	return 0;
}

/* The TCP engine's statistics or drop reasons (dataplane/tcp), summed like the others, as a
 * "tcp" dict inside the reply (as in zpathctl stats --json). */
static void tele_tcp(const struct dp_stack *s, int w, bool drops, struct rte_tel_data *d)
{
	unsigned k, n = drops ? tcp_drop_count() : tcp_stat_count();
	struct rte_tel_data *c = rte_tel_data_alloc();
	uint16_t i;

	if (c == NULL)
		return;
	rte_tel_data_start_dict(c);
	for (k = 0; k < n; k++) {
		uint64_t v = 0;

		for (i = 0; i < s->nb_workers; i++)
			if (w < 0 || i == w)
				v += drops ? tcp_drop_get(s->workers[i], k)
					   : tcp_stat_get(s->workers[i], k);
		rte_tel_data_add_dict_u64(c, drops ? tcp_drop_name(k) : tcp_stat_name(k), v);
	}
	if (rte_tel_data_add_dict_container(d, "tcp", c, 0) != 0)
		rte_tel_data_free(c);
}

/* /zpath/stats and /zpath/drops: totals, or one worker with ",N"; the TCP engine's under "tcp". */
static int tele_counters(const char *cmd, const char *params, struct rte_tel_data *d)
{
	bool drops = strcmp(cmd, "/zpath/drops") == 0;
	const struct dp_stack *s;
	int w, k, n = drops ? DP_DROP_MAX : DP_STAT_MAX;
	uint16_t i;

	ctl_telemetry_lock();
	s = ctl_state()->stack;
	if (s == NULL) {
		ctl_telemetry_unlock();
		return -ENODEV;
	}
	w = param_worker(params, s);
	if (w == -2) {
		ctl_telemetry_unlock();
		return -EINVAL;
	}
	rte_tel_data_start_dict(d);
	for (k = 0; k < n; k++) {
		uint64_t v = 0;

		for (i = 0; i < s->nb_workers; i++) {
			const struct dp_worker *wk = s->workers[i];

			if (w >= 0 && i != w)
				continue;
			v += __atomic_load_n(drops ? &wk->drops[k] : &wk->stats[k],
					     __ATOMIC_RELAXED);
		}
		rte_tel_data_add_dict_u64(
			d, drops ? dp_drop_name((enum dp_drop)k) : dp_stat_name((enum dp_stat)k),
			v);
	}
	if (drops) {
		uint64_t lost = 0;

		for (i = 0; i < s->nb_workers; i++)
			if (w < 0 || i == w)
				lost += __atomic_load_n(&ctl_wstats()[i].events_lost,
							__ATOMIC_RELAXED);
		rte_tel_data_add_dict_u64(d, "ctl_conn_events_lost", lost);
	}
	tele_tcp(s, w, drops, d);
	ctl_telemetry_unlock();
	return 0;
}

static int tele_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_stack *s;
	char key[16];
	uint16_t i;

	(void)cmd;
	(void)params;
	ctl_telemetry_lock();
	s = ctl_state()->stack;
	if (s == NULL) {
		ctl_telemetry_unlock();
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (i = 0; i < s->nb_workers; i++) {
		const struct dp_worker *w = s->workers[i];
		struct rte_tel_data *c = rte_tel_data_alloc();

		if (c == NULL)
			break;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "lcore", w->lcore);
		rte_tel_data_add_dict_u64(c, "rx_queues", w->nb_rxq);
		rte_tel_data_add_dict_u64(c, "loops", __atomic_load_n(&w->loops, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(
			c, "rx_packets",
			__atomic_load_n(&w->stats[DP_STAT_RX_PACKETS], __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(
			c, "tx_packets",
			__atomic_load_n(&w->stats[DP_STAT_TX_PACKETS], __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(
			c, "conn_events",
			__atomic_load_n(&ctl_wstats()[i].events, __ATOMIC_RELAXED));
		rte_tel_data_add_dict_u64(
			c, "conn_events_lost",
			__atomic_load_n(&ctl_wstats()[i].events_lost, __ATOMIC_RELAXED));
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	ctl_telemetry_unlock();
	return 0;
}

static int tele_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_stack *s;
	char key[16], buf[64];
	uint16_t i;

	(void)cmd;
	(void)params;
	ctl_telemetry_lock();
	s = ctl_state()->stack;
	if (s == NULL) {
		ctl_telemetry_unlock();
		return -ENODEV;
	}
	rte_tel_data_start_dict(d);
	for (i = 0; i < s->nb_ifaces; i++) {
		const struct dp_iface *ifc = &s->ifaces[i];
		struct rte_tel_data *c = rte_tel_data_alloc();
		struct rte_eth_link link;

		if (c == NULL)
			break;
		memset(&link, 0, sizeof(link));
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "name", ifc->name);
		rte_tel_data_add_dict_u64(c, "port_id", ifc->port_id);
		rte_ether_format_addr(buf, sizeof(buf), &ifc->mac);
		rte_tel_data_add_dict_string(c, "mac", buf);
		rte_tel_data_add_dict_string(c, "addr", ctl_ip_str(ifc->addr, buf, sizeof(buf)));
		rte_tel_data_add_dict_u64(c, "prefix_len", ifc->prefix_len);
		rte_tel_data_add_dict_u64(c, "mtu", ifc->mtu);
		if (rte_eth_link_get_nowait(ifc->port_id, &link) == 0) {
			rte_tel_data_add_dict_string(c, "link", link.link_status ? "up" : "down");
			rte_tel_data_add_dict_u64(
				c, "speed_mbps",
				link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : link.link_speed);
		}
		snprintf(key, sizeof(key), "%u", i);
		rte_tel_data_add_dict_container(d, key, c, 0);
	}
	ctl_telemetry_unlock();
	return 0;
}

/* Connections, keyed by id; at most RTE_TEL_MAX_DICT_ENTRIES - 1, plus "total". */
static int tele_conns(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct dp_stack *s;
	struct ctl_job *job;
	uint64_t deadline, total = 0;
	unsigned shown = 0, j;
	char key[24], buf[48], ip[INET_ADDRSTRLEN];
	uint16_t i;
	int w;

	(void)cmd;
	ctl_telemetry_lock();
	s = ctl_state()->stack;
	if (s == NULL) {
		ctl_telemetry_unlock();
		return -ENODEV;
	}
	w = param_worker(params, s);
	if (w == -2) {
		ctl_telemetry_unlock();
		return -EINVAL;
	}
	job = ctl_job_new(CTL_JOB_DUMP, s->nb_workers, false);
	if (job == NULL) {
		ctl_telemetry_unlock();
		return -ENOMEM;
	}
	ctl_job_post_dump(job, s);
	deadline = ctl_mono_ns() + CTL_JOB_TIMEOUT_NS;
	while (!ctl_job_done(job) && ctl_mono_ns() < deadline) {
		struct timespec ms = {.tv_nsec = 1000000};

		nanosleep(&ms, NULL);
	}
	rte_tel_data_start_dict(d);
	for (i = 0; i < job->nb_parts; i++) {
		const struct ctl_job_part *p = &job->part[i];

		if ((w >= 0 && i != w) || !__atomic_load_n(&p->done, __ATOMIC_ACQUIRE))
			continue;
		total += p->n;
		for (j = 0; j < p->n && shown < RTE_TEL_MAX_DICT_ENTRIES - 1; j++, shown++) {
			const struct dp_conn_view *v = &p->views[j];
			struct rte_tel_data *c = rte_tel_data_alloc();

			if (c == NULL)
				break;
			rte_tel_data_start_dict(c);
			rte_tel_data_add_dict_u64(c, "worker", v->worker);
			rte_tel_data_add_dict_string(c, "state", ctl_tcp_state_name(v->state));
			snprintf(buf, sizeof(buf), "%s:%u", ctl_ip_str(v->laddr, ip, sizeof(ip)),
				 rte_be_to_cpu_16(v->lport));
			rte_tel_data_add_dict_string(c, "local", buf);
			snprintf(buf, sizeof(buf), "%s:%u", ctl_ip_str(v->raddr, ip, sizeof(ip)),
				 rte_be_to_cpu_16(v->rport));
			rte_tel_data_add_dict_string(c, "remote", buf);
			rte_tel_data_add_dict_u64(c, "snd_queue", v->snd_queue);
			rte_tel_data_add_dict_u64(c, "rcv_queue", v->rcv_queue);
			rte_tel_data_add_dict_u64(c, "rtt_us", v->rtt_us);
			snprintf(key, sizeof(key), "0x%016" PRIx64, v->id);
			rte_tel_data_add_dict_container(d, key, c, 0);
		}
	}
	rte_tel_data_add_dict_u64(d, "total", total);
	ctl_job_put(job);
	ctl_telemetry_unlock();
	return 0;
}

int ctl_telemetry_register(void)
{
	static bool done;
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} eps[] = {
		{"/zpath/info", tele_info, "zpath instance, version, uptime. No parameters"},
		{"/zpath/stats", tele_counters,
		 "zpath per-worker statistics summed, TCP's under \"tcp\"; "
		 "parameter: worker id for one worker"},
		{"/zpath/drops", tele_counters,
		 "zpath drop reasons summed, TCP's under \"tcp\"; "
		 "parameter: worker id for one worker"},
		{"/zpath/workers", tele_workers,
		 "zpath workers: lcore, loops, packets. No parameters"},
		{"/zpath/ports", tele_ports, "zpath ports: address, MTU, link. No parameters"},
		{"/zpath/conns", tele_conns,
		 "zpath connections (first 255); parameter: worker id for one worker"},
	};
	unsigned i;
	int rc;

	if (done)
		return 0;
	for (i = 0; i < RTE_DIM(eps); i++) {
		rc = rte_telemetry_register_cmd(eps[i].cmd, eps[i].fn, eps[i].help);
		if (rc < 0)
			return rc;
	}
	done = true;
	return 0;
}
