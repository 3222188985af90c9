/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fuzzers' stack: see fuzz_env.h. Mirrors tests/lib/zpt.c (which needs cmocka).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "fuzz_env.h"

#define FZ_POOL_SIZE 4095
#define FZ_RING_SIZE 1024

static void die(const char *what)
{
	fprintf(stderr, "fuzz_env: %s\n", what);
	abort();
}

static void add_route(struct dp_stack *s, rte_be32_t net, uint8_t plen, rte_be32_t gw)
{
	struct dp_route *r = &s->routes[s->nb_routes++];

	r->prefix_len = plen;
	r->mask = plen ? rte_cpu_to_be_32(~0u << (32 - plen)) : 0;
	r->net = net & r->mask;
	r->gateway = gw;
	r->iface = 0;
}

void fz_env_init(struct fz_env *env)
{
	char *argv[] = {
		"zpath-fuzz", "--no-huge",   "-m",	    "256",     "--no-pci",	 "-l",
		"0",	      "--no-shconf", "--log-level", "*:error", "--no-telemetry", NULL};
	struct dp_iface *ifc = &env->stack.ifaces[0];
	struct rte_eth_conf conf;
	int port;

	memset(env, 0, sizeof(*env));
	if (rte_eal_init((int)RTE_DIM(argv) - 1, argv) < 0)
		die(rte_strerror(rte_errno));
	env->pool_size = FZ_POOL_SIZE;
	env->pool = rte_pktmbuf_pool_create("fz_pool", FZ_POOL_SIZE, 0, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	env->rx = rte_ring_create("fz_rx", FZ_RING_SIZE, SOCKET_ID_ANY,
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	env->tx = rte_ring_create("fz_tx", FZ_RING_SIZE, SOCKET_ID_ANY,
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (env->pool == NULL || env->rx == NULL || env->tx == NULL)
		die("pool or rings");
	port = rte_eth_from_rings("net_fz0", &env->rx, 1, &env->tx, 1, SOCKET_ID_ANY);
	if (port < 0)
		die("rte_eth_from_rings");
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure((uint16_t)port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup((uint16_t)port, 0, 64, SOCKET_ID_ANY, NULL, env->pool) != 0 ||
	    rte_eth_tx_queue_setup((uint16_t)port, 0, 64, SOCKET_ID_ANY, NULL) != 0 ||
	    rte_eth_dev_start((uint16_t)port) != 0)
		die("port setup");

	env->local_mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 0x01}};
	env->peer_mac = (struct rte_ether_addr){{0x02, 0xaa, 0, 0, 0, 0x02}};
	env->stack.nb_workers = 1;
	env->stack.tun.arp_timeout_ms = 300000;
	env->stack.tun.arp_retry_ms = 1000;
	env->stack.tun.arp_retries = 3;
	env->stack.tun.tcp_msl_ms = 30000;
	env->stack.tun.tcp_fin_timeout_ms = 60000;
	ifc->port_id = (uint16_t)port;
	snprintf(ifc->name, sizeof(ifc->name), "net_fz0");
	ifc->mac = env->local_mac;
	ifc->addr = rte_cpu_to_be_32(FZ_LOCAL_IP);
	ifc->prefix_len = 24;
	ifc->netmask = rte_cpu_to_be_32(0xffffff00u);
	ifc->mtu = 1500;
	ifc->nb_queues = 1;
	env->stack.nb_ifaces = 1;
	add_route(&env->stack, ifc->addr, 24, 0);
	add_route(&env->stack, 0, 0, rte_cpu_to_be_32(RTE_IPV4(10, 0, 0, 254)));

	/* On the malloc heap, not rte_zmalloc: LeakSanitizer scans only the former, and the
	 * worker holds the pointers to the socket layer and the TCP engine. */
	if (posix_memalign((void **)&env->w, RTE_CACHE_LINE_SIZE, sizeof(*env->w)) != 0)
		die("worker");
	memset(env->w, 0, sizeof(*env->w));
	env->stack.workers[0] = env->w;
	if (dp_worker_init(env->w, &env->stack, 0, env->pool) != 0)
		die("dp_worker_init");
	env->w->virt_clock = true;
	env->w->now_ns = FZ_NOW0;
	env->w->timers.last_tick = FZ_NOW0 / DP_TIMER_TICK_NS;
	env->w->rand_state = 42;
	env->w->rxq[0].iface = 0;
	env->w->rxq[0].queue = 0;
	env->w->nb_rxq = 1;
	dp_worker_set_self(env->w);
	if (dp_sock_worker_init(env->w) != 0)
		die("dp_sock_worker_init");
	fz_arp_reset(env);
}

size_t fz_frame_max(const struct fz_env *env)
{
	return rte_pktmbuf_data_room_size(env->pool) - RTE_PKTMBUF_HEADROOM;
}

void fz_inject(struct fz_env *env, const void *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(env->pool);
	char *p;

	if (m == NULL)
		die("mbuf pool empty before inject (leak?)");
	if (len > fz_frame_max(env))
		len = fz_frame_max(env);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL)
		die("rte_pktmbuf_append");
	memcpy(p, frame, len);
	if (rte_ring_enqueue(env->rx, m) != 0)
		die("RX ring full");
}

void fz_poll(struct fz_env *env, uint64_t ns)
{
	env->w->now_ns += ns;
	dp_worker_poll(env->w);
}

struct rte_mbuf *fz_tx_pop(struct fz_env *env)
{
	struct rte_mbuf *m;

	return rte_ring_dequeue(env->tx, (void **)&m) == 0 ? m : NULL;
}

unsigned fz_tx_drain(struct fz_env *env)
{
	struct rte_mbuf *m;
	unsigned n = 0;

	dp_tx_flush(env->w);
	while ((m = fz_tx_pop(env)) != NULL) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

void fz_arp_reset(struct fz_env *env)
{
	dp_arp_fini(env->w);
	dp_arp_init(env->w);
	dp_arp_update(env->w, 0, rte_cpu_to_be_32(FZ_PEER_IP), &env->peer_mac);
}

void fz_check_no_leak(struct fz_env *env, const char *what)
{
	unsigned avail = rte_mempool_avail_count(env->pool);

	if (avail != env->pool_size) {
		fprintf(stderr, "fuzz_env: %s: %u of %u mbufs not returned to the pool\n", what,
			env->pool_size - avail, env->pool_size);
		abort();
	}
}

size_t fz_build_ipv4(const struct fz_env *env, uint8_t *buf, size_t cap, uint8_t proto,
		     const void *l4, size_t l4_len)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eh + 1);
	size_t hdr = sizeof(*eh) + sizeof(*ip);

	if (cap < hdr)
		return 0;
	if (l4_len > cap - hdr)
		l4_len = cap - hdr;
	if (l4_len > 1500 - sizeof(*ip))
		l4_len = 1500 - sizeof(*ip);
	eh->dst_addr = env->local_mac;
	eh->src_addr = env->peer_mac;
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->packet_id = rte_cpu_to_be_16(1);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = rte_cpu_to_be_32(FZ_PEER_IP);
	ip->dst_addr = rte_cpu_to_be_32(FZ_LOCAL_IP);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(buf + hdr, l4, l4_len);
	return hdr + l4_len;
}
