/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port bring-up: one rte_ethdev per configured interface, whatever the driver (PCI NIC,
 * net_tap, net_memif, net_virtio_user / net_vhost, net_af_packet). Every worker gets its own
 * RX and TX queue on every port; RSS spreads flows over the RX queues when the device has it
 * and we can program and verify it, otherwise the workers steer in software (steer.c).
 *
 * Runs on the main thread inside zp_init() / zp_fini() only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include "dp_fault.h"
#include "dp_guard.h"
#include "dp_port.h"

/* Largest redirection table we program (RTE_ETH_RSS_RETA_SIZE_512). */
#define PORT_RETA_MAX 512
/* How long a memif client keeps trying to reach its server at start, and how often. */
#define PORT_START_WAIT_MS  5000u
#define PORT_START_PAUSE_MS 50u

static int port_err(char *err, size_t errlen, int rc, const char *fmt, ...)
	__rte_format_printf(4, 5);

static int port_err(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

uint16_t dp_port_mbuf_size(uint16_t mtu)
{
	/* Frame = MTU + Ethernet header + one VLAN tag + CRC (some PMDs keep it). */
	unsigned frame = (unsigned)mtu + RTE_ETHER_HDR_LEN + 4 + RTE_ETHER_CRC_LEN;

	return (uint16_t)(RTE_PKTMBUF_HEADROOM +
			  RTE_MAX(frame, (unsigned)RTE_MBUF_DEFAULT_DATAROOM));
}

/*
 * Largest MTU the device takes: max_mtu, but also no frame beyond max_rx_pktlen, with the L2
 * overhead the ethdev layer assumes (rte_eth_dev_configure checks MTU + overhead against it).
 */
static uint16_t port_max_mtu(const struct rte_eth_dev_info *info)
{
	uint32_t overhead = RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN;

	if (info->max_mtu != UINT16_MAX && info->max_rx_pktlen > info->max_mtu)
		overhead = info->max_rx_pktlen - info->max_mtu;
	if (info->max_rx_pktlen <= overhead)
		return 0;
	return (uint16_t)RTE_MIN((uint32_t)info->max_mtu, info->max_rx_pktlen - overhead);
}

/* "net_tap0, 0000:01:00.0" or "none", for a device-not-found message. */
static void list_ports(char *buf, size_t len)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t off = 0;
	uint16_t pid;

	buf[0] = '\0';
	RTE_ETH_FOREACH_DEV(pid)
	{
		if (rte_eth_dev_get_name_by_port(pid, name) != 0)
			continue;
		if (off < len)
			off += (size_t)snprintf(buf + off, len - off, "%s%s", off ? ", " : "",
						name);
	}
	if (off == 0)
		snprintf(buf, len, "none");
}

int dp_port_open(struct dp_iface *ifc, struct dp_port *p, const char *device, const char *devargs,
		 uint16_t nb_workers, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	char name[RTE_ETH_NAME_MAX_LEN], avail[256];
	uint16_t pid, max_mtu;
	int rc;

	memset(p, 0, sizeof(*p));
	if (devargs != NULL) {
		size_t n = strcspn(devargs, ",");

		if (n >= sizeof(name))
			return port_err(err, errlen, -EINVAL, "vdev \"%s\": name too long",
					devargs);
		memcpy(name, devargs, n);
		name[n] = '\0';
		if (rte_eth_dev_get_port_by_name(name, &pid) == 0)
			return port_err(err, errlen, -EEXIST,
					"vdev \"%s\": an ethdev named %s already exists (given to "
					"the EAL with --vdev too? then use device = %s)",
					devargs, name, name);
		rc = rte_dev_probe(devargs);
		if (rc < 0)
			return port_err(err, errlen, rc,
					"vdev \"%s\": cannot create the device: %s", devargs,
					rte_strerror(-rc));
		p->hotplugged = true;
	} else {
		snprintf(name, sizeof(name), "%s", device);
	}

	if (rte_eth_dev_get_port_by_name(name, &pid) != 0) {
		list_ports(avail, sizeof(avail));
		rc = port_err(err, errlen, -ENODEV,
			      "device \"%s\" not found; ethdev ports: %s (give a vdev to the EAL "
			      "with --vdev, allow a PCI device with -a, or use vdev = ...)",
			      name, avail);
		goto fail;
	}
	ifc->port_id = pid;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);

	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0) {
		rc = port_err(err, errlen, rc, "%s: cannot get device info: %s", name,
			      rte_strerror(-rc));
		goto fail;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);
	if (info.max_tx_queues < nb_workers) {
		rc = port_err(err, errlen, -EINVAL,
			      "%s (%s): the device has %u TX queue(s) but %u workers need one each "
			      "(lower [stack] workers, or give the device more queues, e.g. "
			      "qpairs= for net_af_packet, queues= for net_virtio_user)",
			      name, info.driver_name, info.max_tx_queues, nb_workers);
		goto fail;
	}
	if (info.max_rx_queues == 0) {
		rc = port_err(err, errlen, -EINVAL, "%s (%s): the device has no RX queue", name,
			      info.driver_name);
		goto fail;
	}
	max_mtu = port_max_mtu(&info);
	if (ifc->mtu < info.min_mtu || ifc->mtu > max_mtu) {
		rc = port_err(err, errlen, -EINVAL,
			      "%s (%s): MTU %u is outside what the device takes (%u..%u)", name,
			      info.driver_name, ifc->mtu, info.min_mtu, max_mtu);
		goto fail;
	}
	ifc->nb_queues = nb_workers;
	ifc->nb_rx_queues = RTE_MIN(nb_workers, info.max_rx_queues);

	p->nb_rxd = DP_PORT_NB_RXD;
	p->nb_txd = DP_PORT_NB_TXD;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(pid, &p->nb_rxd, &p->nb_txd);
	if (rc != 0) {
		rc = port_err(err, errlen, rc, "%s: cannot adjust descriptor counts: %s", name,
			      rte_strerror(-rc));
		goto fail;
	}
	return 0;

fail:
	if (p->hotplugged) {
		/* Undo the hot-plug: through the ethdev when it appeared, else by vdev name. */
		if (rte_eth_dev_get_port_by_name(name, &pid) == 0 &&
		    rte_eth_dev_info_get(pid, &info) == 0 && info.device != NULL)
			rte_dev_remove(info.device);
		else
			rte_eal_hotplug_remove("vdev", name);
		p->hotplugged = false;
	}
	return rc;
}

/* Program RETA entry i = queue i % nb_rx_queues and check the key the device hashes with.
 * Returns 0 when software can predict the queue of every IPv4/TCP flow (dp_flow_worker). */
static int rss_program(struct dp_iface *ifc, struct dp_port *p, const struct rte_eth_dev_info *info)
{
	struct rte_eth_rss_reta_entry64 reta[PORT_RETA_MAX / RTE_ETH_RETA_GROUP_SIZE];
	struct rte_eth_rss_conf rss = {0};
	uint8_t key[64];
	unsigned i;
	int rc;

	if (info->reta_size == 0) {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (no redirection table): software steering");
		return -ENOTSUP;
	}
	if (info->reta_size > PORT_RETA_MAX) {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (redirection table of %u entries not supported): software steering",
			 info->reta_size);
		return -ENOTSUP;
	}
	memset(reta, 0, sizeof(reta));
	for (i = 0; i < info->reta_size; i++) {
		reta[i / RTE_ETH_RETA_GROUP_SIZE].mask |= 1ULL << (i % RTE_ETH_RETA_GROUP_SIZE);
		reta[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] =
			(uint16_t)(i % ifc->nb_rx_queues);
	}
	rc = rte_eth_dev_rss_reta_update(ifc->port_id, reta, info->reta_size);
	if (rc != 0) {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (redirection table update: %s): software steering",
			 rte_strerror(-rc));
		return rc;
	}
	rss.rss_key = key;
	rss.rss_key_len = info->hash_key_size;
	rc = rte_eth_dev_rss_hash_conf_get(ifc->port_id, &rss);
	if (rc != 0) {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (cannot read the hash key back: %s): software steering",
			 rte_strerror(-rc));
		return rc;
	}
	if (rss.rss_key_len < 16 || rss.rss_key_len > DP_RSS_KEY_LEN ||
	    memcmp(key, dp_rss_key, rss.rss_key_len) != 0 ||
	    !(rss.rss_hf & RTE_ETH_RSS_NONFRAG_IPV4_TCP)) {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (device does not hash IPv4/TCP with our key): software steering");
		return -ENOTSUP;
	}
	ifc->reta_size = info->reta_size;
	snprintf(p->rss_note, sizeof(p->rss_note), "on (Toeplitz, %u-entry table, %u queues)",
		 info->reta_size, ifc->nb_rx_queues);
	return 0;
}

int dp_port_start(struct dp_iface *ifc, struct dp_port *p, struct rte_mempool *const *pools,
		  const int *sockets, uint16_t nb_workers, char *err, size_t errlen)
{
	const uint64_t tx_want = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	const uint64_t rx_want = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_eth_rxconf rxconf;
	struct rte_eth_txconf txconf;
	uint16_t pid = ifc->port_id, q, mtu;
	bool want_rss;
	int rc;

	rc = rte_eth_dev_info_get(pid, &info);
	if (rc != 0)
		return port_err(err, errlen, rc, "%s: cannot get device info: %s", ifc->name,
				rte_strerror(-rc));

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = ifc->mtu;
	want_rss = nb_workers > 1 && ifc->nb_rx_queues == nb_workers &&
		   (info.flow_type_rss_offloads & RTE_ETH_RSS_NONFRAG_IPV4_TCP) != 0;
	if (want_rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_NONFRAG_IPV4_TCP;
		if (info.hash_key_size >= 16 && info.hash_key_size <= DP_RSS_KEY_LEN) {
			conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)dp_rss_key;
			conf.rx_adv_conf.rss_conf.rss_key_len = info.hash_key_size;
		}
	} else if (nb_workers == 1) {
		snprintf(p->rss_note, sizeof(p->rss_note), "off (one worker)");
	} else if (ifc->nb_rx_queues < nb_workers) {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (%u RX queue(s) for %u workers): software steering",
			 ifc->nb_rx_queues, nb_workers);
	} else {
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (device has no IPv4/TCP RSS): software steering");
	}
	conf.txmode.offloads = info.tx_offload_capa & tx_want;
	/* Each on its own: virtio and vhost verify TCP but not the IPv4 header, and without the
	 * TCP offload net_vhost sums every received segment in software ("Rx csum will be done
	 * in SW"), a 16-bit loop that was half the receiver's time in a vhost bulk transfer. */
	conf.rxmode.offloads = info.rx_offload_capa & rx_want;

	rc = rte_eth_dev_configure(pid, ifc->nb_rx_queues, ifc->nb_queues, &conf);
	if (rc != 0 && want_rss) {
		/* Advertised but refused: run without it (software steering is always right). */
		snprintf(p->rss_note, sizeof(p->rss_note),
			 "off (device refused the RSS configuration: %s): software steering",
			 rte_strerror(-rc));
		want_rss = false;
		memset(&conf.rx_adv_conf, 0, sizeof(conf.rx_adv_conf));
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_NONE;
		rc = rte_eth_dev_configure(pid, ifc->nb_rx_queues, ifc->nb_queues, &conf);
	}
	if (rc != 0)
		return port_err(err, errlen, rc,
				"%s: rte_eth_dev_configure (%u RX, %u TX queues%s): %s", ifc->name,
				ifc->nb_rx_queues, ifc->nb_queues, want_rss ? ", RSS" : "",
				rte_strerror(-rc));
	p->configured = true;

	if (rte_eth_dev_get_mtu(pid, &mtu) != 0 || mtu != ifc->mtu) {
		rc = rte_eth_dev_set_mtu(pid, ifc->mtu);
		if (rc != 0)
			return port_err(err, errlen, rc, "%s: cannot set MTU %u: %s", ifc->name,
					ifc->mtu, rte_strerror(-rc));
	}

	for (q = 0; q < ifc->nb_rx_queues; q++) {
		rxconf = info.default_rxconf;
		rxconf.offloads = conf.rxmode.offloads;
		rc = rte_eth_rx_queue_setup(pid, q, p->nb_rxd, (unsigned)sockets[q], &rxconf,
					    pools[q]);
		if (rc != 0)
			return port_err(err, errlen, rc,
					"%s: RX queue %u setup (%u descriptors): %s", ifc->name, q,
					p->nb_rxd, rte_strerror(-rc));
	}
	for (q = 0; q < ifc->nb_queues; q++) {
		txconf = info.default_txconf;
		txconf.offloads = conf.txmode.offloads;
		rc = rte_eth_tx_queue_setup(pid, q, p->nb_txd, (unsigned)sockets[q], &txconf);
		if (rc != 0)
			return port_err(err, errlen, rc,
					"%s: TX queue %u setup (%u descriptors): %s", ifc->name, q,
					p->nb_txd, rte_strerror(-rc));
	}

	rc = rte_eth_dev_start(pid);
	if (rc != 0 && strcmp(info.driver_name, "net_memif") == 0) {
		/* A memif client's start is its connect() to the server's socket. DPDK 22.11
		 * tries once: it fails while the server is not listening yet, or is still
		 * taking down the connection of the client before (seen in test_tcp_memif.sh,
		 * a client started right after another one ended). Keep trying for a while,
		 * as the memif protocol means a client to wait for its server. */
		struct timespec pause = {.tv_sec = 0, .tv_nsec = PORT_START_PAUSE_MS * 1000000L};
		unsigned tries;

		fprintf(stderr, "zpath: %s: net_memif did not start (%s); retrying for %u ms\n",
			ifc->name, rte_strerror(-rc), PORT_START_WAIT_MS);
		for (tries = 0; rc != 0 && tries < PORT_START_WAIT_MS / PORT_START_PAUSE_MS;
		     tries++) {
			nanosleep(&pause, NULL);
			rc = rte_eth_dev_start(pid);
		}
	}
	if (rc != 0)
		return port_err(err, errlen, rc, "%s: rte_eth_dev_start: %s", ifc->name,
				rte_strerror(-rc));
	p->started = true;

	if (strcmp(info.driver_name, "net_memif") == 0) {
		/* DPDK 22.11's memif unmaps its rings when the peer goes, with no lock against a
		 * burst in progress: its bursts run under the fault guard (dp_guard.h). */
		rc = dp_guard_install();
		if (rc != 0)
			return port_err(err, errlen, rc, "%s: cannot install the burst guard: %s",
					ifc->name, strerror(-rc));
		ifc->guard = true;
	}

	rc = rte_eth_macaddr_get(pid, &ifc->mac);
	if (rc != 0)
		return port_err(err, errlen, rc, "%s: cannot read the MAC address: %s", ifc->name,
				rte_strerror(-rc));

	ifc->tx_ip_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	ifc->tx_tcp_cksum = (conf.txmode.offloads & RTE_ETH_TX_OFFLOAD_TCP_CKSUM) != 0;
	ifc->rx_ip_cksum = (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_IPV4_CKSUM) != 0;
	ifc->rx_l4_cksum = (conf.rxmode.offloads & RTE_ETH_RX_OFFLOAD_TCP_CKSUM) != 0;
	ifc->rss = want_rss && rss_program(ifc, p, &info) == 0;
	if (!ifc->rss)
		ifc->reta_size = 0;
	return 0;
}

unsigned dp_port_link_wait(const struct dp_iface *ifcs, unsigned n, uint32_t *up_ms)
{
	uint64_t t0 = dp_clock_ns();
	unsigned i, waiting, down;

	for (i = 0; i < n; i++)
		up_ms[i] = DP_LINK_DOWN;
	for (;;) {
		uint32_t elapsed = (uint32_t)((dp_clock_ns() - t0) / 1000000);

		waiting = down = 0;
		for (i = 0; i < n; i++) {
			struct rte_eth_link link;
			int rc;

			if (up_ms[i] != DP_LINK_DOWN)
				continue;
			rc = rte_eth_link_get_nowait(ifcs[i].port_id, &link);
			if (rc == -ENOTSUP) {
				up_ms[i] = DP_LINK_UNKNOWN; /* no link_update op: nothing to wait for */
				continue;
			}
			if (rc == 0 && link.link_status == RTE_ETH_LINK_UP) {
				up_ms[i] = elapsed;
				continue;
			}
			down++;
			if (elapsed < ifcs[i].link_timeout_ms)
				waiting++;
		}
		if (waiting == 0)
			return down;
		rte_delay_us_sleep(DP_LINK_WAIT_TICK_MS * 1000);
	}
}

void dp_port_stop(const struct dp_iface *ifc, struct dp_port *p)
{
	if (p->started) {
		rte_eth_dev_stop(ifc->port_id);
		p->started = false;
	}
}

void dp_port_close(const struct dp_iface *ifc, struct dp_port *p)
{
	struct rte_eth_dev_info info;

	dp_port_stop(ifc, p);
	if (p->hotplugged) {
		/* Removing the device closes the port (and deletes a tap interface). */
		if (rte_eth_dev_info_get(ifc->port_id, &info) == 0 && info.device != NULL)
			rte_dev_remove(info.device);
		p->hotplugged = false;
	} else if (p->configured) {
		rte_eth_dev_close(ifc->port_id);
	}
	p->configured = false;
}

int dp_port_describe(const struct dp_iface *ifc, const struct dp_port *p, char *buf, size_t len)
{
	char mac[RTE_ETHER_ADDR_FMT_SIZE], link_s[RTE_ETH_LINK_MAX_STR_LEN];
	struct rte_eth_link link;
	const uint8_t *a = (const uint8_t *)&ifc->addr;
	char frx[160], ftx[160];
	int n;

	rte_ether_format_addr(mac, sizeof(mac), &ifc->mac);
	if (rte_eth_link_get_nowait(ifc->port_id, &link) == 0)
		rte_eth_link_to_str(link_s, sizeof(link_s), &link);
	else
		snprintf(link_s, sizeof(link_s), "Link unknown");
	n = snprintf(buf, len,
			"%s (%s, port %u): mac %s, %u.%u.%u.%u/%u, mtu %u\n"
			"    %s\n"
			"    queues: %u RX / %u TX x %u/%u descriptors; rss %s\n"
			"    offloads: tx ipv4-cksum %s, tx tcp-cksum %s, rx ipv4-cksum %s, rx tcp-cksum %s",
			ifc->name, p->driver, ifc->port_id, mac, a[0], a[1], a[2], a[3],
			ifc->prefix_len, ifc->mtu, link_s, ifc->nb_rx_queues, ifc->nb_queues,
			p->nb_rxd, p->nb_txd, p->rss_note, ifc->tx_ip_cksum ? "on" : "off",
			ifc->tx_tcp_cksum ? "on" : "off", ifc->rx_ip_cksum ? "on" : "off",
			ifc->rx_l4_cksum ? "on" : "off");
	if (ifc->guard && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "\n    burst guard: on (a peer that leaves may unmap the rings under a "
			      "burst: counted as port_fault)");
	if (ifc->fault.on && n >= 0 && (size_t)n < len) {
		/* Loud on purpose: this port loses, delays and damages packets (fault.c). */
		dp_fault_format(&ifc->fault.rx, frx, sizeof(frx));
		dp_fault_format(&ifc->fault.tx, ftx, sizeof(ftx));
		n += snprintf(buf + n, len - (size_t)n,
			      "\n    FAULT INJECTION: rx %s; tx %s; seed %" PRIu64, frx, ftx,
			      ifc->fault.seed);
	}
	return n;
}
