/* SPDX-License-Identifier: BSD-3-Clause */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "zpt.h"

#define ZPT_POOL_SIZE 4095
#define ZPT_RING_SIZE 1024

static int eal_done;

void zpt_eal_init(void)
{
	char *argv[] = {"zpath-test", "--no-huge", "-m",          "256",   "--no-pci", "-l",
			"0",          "--no-shconf", "--log-level", "*:warning", "--no-telemetry", NULL};
	int argc = (int)RTE_DIM(argv) - 1;

	if (eal_done)
		return;
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, "zpt: rte_eal_init failed: %s\n", rte_strerror(rte_errno));
		fail();
	}
	eal_done = 1;
}

struct rte_ether_addr zpt_peer_mac(uint8_t n)
{
	struct rte_ether_addr m = {{0x02, 0xaa, 0, 0, 0, n}};
	return m;
}

static void add_route(struct dp_stack *s, rte_be32_t net, uint8_t plen, rte_be32_t gw,
		      uint16_t iface)
{
	struct dp_route *r = &s->routes[s->nb_routes++];

	r->prefix_len = plen;
	r->mask = plen ? rte_cpu_to_be_32(~0u << (32 - plen)) : 0;
	r->net = net & r->mask;
	r->gateway = gw;
	r->iface = iface;
}

struct zpt_env *zpt_env_new(unsigned nb_ifaces)
{
	static unsigned seq;
	struct zpt_env *env;
	struct rte_eth_conf conf;
	char name[64];
	unsigned i;

	zpt_eal_init();
	env = calloc(1, sizeof(*env));
	assert_non_null(env);
	snprintf(name, sizeof(name), "zpt_pool_%u", seq);
	env->pool_size = ZPT_POOL_SIZE;
	env->pool = rte_pktmbuf_pool_create(name, ZPT_POOL_SIZE, 0, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(env->pool);

	env->stack.nb_workers = 1;
	env->stack.tun.arp_timeout_ms = 300000;
	env->stack.tun.arp_retry_ms = 1000;
	env->stack.tun.arp_retries = 3;
	env->stack.tun.tcp_msl_ms = 30000;
	env->stack.tun.tcp_fin_timeout_ms = 60000;

	for (i = 0; i < nb_ifaces; i++) {
		struct dp_iface *ifc = &env->stack.ifaces[i];
		int port;

		snprintf(name, sizeof(name), "zpt_rx_%u_%u", seq, i);
		env->rx[i] = rte_ring_create(name, ZPT_RING_SIZE, SOCKET_ID_ANY,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "zpt_tx_%u_%u", seq, i);
		env->tx[i] = rte_ring_create(name, ZPT_RING_SIZE, SOCKET_ID_ANY,
					     RING_F_SP_ENQ | RING_F_SC_DEQ);
		assert_non_null(env->rx[i]);
		assert_non_null(env->tx[i]);
		snprintf(name, sizeof(name), "net_zpt%u_%u", seq, i);
		port = rte_eth_from_rings(name, &env->rx[i], 1, &env->tx[i], 1, SOCKET_ID_ANY);
		assert_true(port >= 0);
		memset(&conf, 0, sizeof(conf));
		assert_int_equal(rte_eth_dev_configure((uint16_t)port, 1, 1, &conf), 0);
		assert_int_equal(rte_eth_rx_queue_setup((uint16_t)port, 0, 64, SOCKET_ID_ANY, NULL,
							env->pool),
				 0);
		assert_int_equal(rte_eth_tx_queue_setup((uint16_t)port, 0, 64, SOCKET_ID_ANY, NULL),
				 0);
		assert_int_equal(rte_eth_dev_start((uint16_t)port), 0);

		ifc->port_id = (uint16_t)port;
		snprintf(ifc->name, sizeof(ifc->name), "%s", name);
		ifc->mac = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, (uint8_t)(i + 1)}};
		ifc->addr = ZPT_IP(10, 0, i, 1);
		ifc->prefix_len = 24;
		ifc->netmask = rte_cpu_to_be_32(0xffffff00u);
		ifc->mtu = 1500;
		ifc->nb_queues = 1;
		add_route(&env->stack, ifc->addr, 24, 0, (uint16_t)i);
	}
	env->stack.nb_ifaces = (uint16_t)nb_ifaces;
	/* Default route via 10.0.0.254 on iface 0. */
	if (nb_ifaces > 0)
		add_route(&env->stack, 0, 0, ZPT_IP(10, 0, 0, 254), 0);

	env->w = rte_zmalloc("zpt_worker", sizeof(*env->w), RTE_CACHE_LINE_SIZE);
	assert_non_null(env->w);
	env->stack.workers[0] = env->w;
	assert_int_equal(dp_worker_init(env->w, &env->stack, 0, env->pool), 0);
	env->w->virt_clock = true;
	env->w->now_ns = ZPT_NOW0;
	env->w->timers.last_tick = ZPT_NOW0 / DP_TIMER_TICK_NS;
	env->w->rand_state = 42;
	for (i = 0; i < nb_ifaces; i++) {
		env->w->rxq[i].iface = (uint16_t)i;
		env->w->rxq[i].queue = 0;
	}
	env->w->nb_rxq = (uint16_t)nb_ifaces;
	dp_worker_set_self(env->w);
	seq++;
	return env;
}

unsigned zpt_tx_drain(struct zpt_env *env)
{
	unsigned i, n = 0;
	struct rte_mbuf *m;

	for (i = 0; i < env->stack.nb_ifaces; i++)
		while ((m = zpt_tx_pop(env, (uint16_t)i)) != NULL) {
			rte_pktmbuf_free(m);
			n++;
		}
	return n;
}

void zpt_env_free(struct zpt_env *env)
{
	unsigned i;
	struct rte_mbuf *m;

	dp_tx_flush(env->w);
	zpt_tx_drain(env);
	dp_worker_fini(env->w);
	for (i = 0; i < env->stack.nb_ifaces; i++) {
		while (rte_ring_dequeue(env->rx[i], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_eth_dev_stop(env->stack.ifaces[i].port_id);
		rte_eth_dev_close(env->stack.ifaces[i].port_id);
		rte_ring_free(env->rx[i]);
		rte_ring_free(env->tx[i]);
	}
	/* Every mbuf must be back: a leak is a test failure. */
	assert_int_equal(rte_mempool_avail_count(env->pool), env->pool_size);
	rte_mempool_free(env->pool);
	dp_worker_set_self(NULL);
	rte_free(env->w);
	free(env);
}

struct rte_mbuf *zpt_mbuf(struct zpt_env *env, const void *data, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(env->pool);
	char *p;

	assert_non_null(m);
	p = rte_pktmbuf_append(m, (uint16_t)len);
	assert_non_null(p);
	memcpy(p, data, len);
	return m;
}

void zpt_inject(struct zpt_env *env, uint16_t iface, const void *frame, size_t len)
{
	struct rte_mbuf *m = zpt_mbuf(env, frame, len);

	assert_int_equal(rte_ring_enqueue(env->rx[iface], m), 0);
}

void zpt_poll(struct zpt_env *env)
{
	dp_worker_poll(env->w);
}

void zpt_advance(struct zpt_env *env, uint64_t ns)
{
	env->w->now_ns += ns;
	dp_worker_poll(env->w);
}

struct rte_mbuf *zpt_tx_pop(struct zpt_env *env, uint16_t iface)
{
	struct rte_mbuf *m;

	if (rte_ring_dequeue(env->tx[iface], (void **)&m) != 0)
		return NULL;
	return m;
}

unsigned zpt_tx_count(struct zpt_env *env, uint16_t iface)
{
	return rte_ring_count(env->tx[iface]);
}

uint64_t zpt_drops_total(const struct zpt_env *env)
{
	uint64_t t = 0;
	unsigned i;

	for (i = 0; i < DP_DROP_MAX; i++)
		t += env->w->drops[i];
	return t;
}

size_t zpt_build_eth(uint8_t *buf, const struct rte_ether_addr *dst,
		     const struct rte_ether_addr *src, uint16_t ether_type)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)buf;

	eh->dst_addr = *dst;
	eh->src_addr = *src;
	eh->ether_type = rte_cpu_to_be_16(ether_type);
	return sizeof(*eh);
}

size_t zpt_build_arp(uint8_t *buf, const struct rte_ether_addr *eth_dst, uint16_t op,
		     const struct rte_ether_addr *sha, rte_be32_t sip,
		     const struct rte_ether_addr *tha, rte_be32_t tip)
{
	size_t off = zpt_build_eth(buf, eth_dst, sha, RTE_ETHER_TYPE_ARP);
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(buf + off);

	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	a->arp_data.arp_sha = *sha;
	a->arp_data.arp_sip = sip;
	if (tha != NULL)
		a->arp_data.arp_tha = *tha;
	else
		memset(&a->arp_data.arp_tha, 0, sizeof(a->arp_data.arp_tha));
	a->arp_data.arp_tip = tip;
	return off + sizeof(*a);
}

size_t zpt_build_ipv4(uint8_t *buf, const struct rte_ether_addr *eth_dst,
		      const struct rte_ether_addr *eth_src, rte_be32_t src, rte_be32_t dst,
		      uint8_t proto, const void *l4, size_t l4_len)
{
	size_t off = zpt_build_eth(buf, eth_dst, eth_src, RTE_ETHER_TYPE_IPV4);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(buf + off);

	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ip) + l4_len));
	ip->packet_id = rte_cpu_to_be_16(1);
	ip->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 64;
	ip->next_proto_id = proto;
	ip->src_addr = src;
	ip->dst_addr = dst;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	memcpy(buf + off + sizeof(*ip), l4, l4_len);
	return off + sizeof(*ip) + l4_len;
}

size_t zpt_build_ping(uint8_t *buf, const struct rte_ether_addr *eth_dst,
		      const struct rte_ether_addr *eth_src, rte_be32_t src, rte_be32_t dst,
		      uint16_t ident, uint16_t seq, size_t payload_len)
{
	uint8_t l4[2048];
	struct rte_icmp_hdr *ic = (struct rte_icmp_hdr *)l4;
	size_t i;

	assert_true(payload_len + sizeof(*ic) <= sizeof(l4));
	memset(ic, 0, sizeof(*ic));
	ic->icmp_type = RTE_IP_ICMP_ECHO_REQUEST;
	ic->icmp_ident = rte_cpu_to_be_16(ident);
	ic->icmp_seq_nb = rte_cpu_to_be_16(seq);
	for (i = 0; i < payload_len; i++)
		l4[sizeof(*ic) + i] = (uint8_t)i;
	ic->icmp_cksum = (uint16_t)~rte_raw_cksum(l4, sizeof(*ic) + payload_len);
	return zpt_build_ipv4(buf, eth_dst, eth_src, src, dst, IPPROTO_ICMP, l4,
			      sizeof(*ic) + payload_len);
}
