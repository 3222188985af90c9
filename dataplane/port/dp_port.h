/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Port bring-up (dataplane/port/port.c) and the RSS key shared with software steering
 * (steer.c). zp_init() is the only user: it opens every configured port, sizes the worker
 * mbuf pools from what the ports need, then starts the ports. All of it runs on the main
 * thread before the workers start. See dataplane/port/README.md.
 */
#ifndef ZPATH_DP_PORT_H
#define ZPATH_DP_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include "dp_priv.h"

/** Length of dp_rss_key: the largest Toeplitz key a NIC commonly takes (i40e, ice). */
#define DP_RSS_KEY_LEN 52
/** Descriptors asked for per RX and per TX queue (the driver may adjust them). */
#define DP_PORT_NB_RXD 1024
#define DP_PORT_NB_TXD 1024

/**
 * The Toeplitz key programmed into every RSS port; its first 40 bytes are the well-known
 * Microsoft RSS verification key. dp_flow_worker() hashes with it.
 */
extern const uint8_t dp_rss_key[DP_RSS_KEY_LEN];

/** What zp_init() keeps about a port between dp_port_open() and dp_port_close(). */
struct dp_port {
	bool hotplugged; /**< created from devargs by dp_port_open(); removed at close */
	bool configured; /**< rte_eth_dev_configure() done: close it at the end */
	bool started;
	uint16_t nb_rxd;   /**< descriptors per RX queue after adjustment */
	uint16_t nb_txd;   /**< descriptors per TX queue after adjustment */
	char driver[32];   /**< PMD name, for the report */
	char rss_note[96]; /**< why RSS is on or off, for the report */
};

/**
 * Find (or create, with @p devargs) the ethdev for @p ifc and check that it can carry the
 * configuration: one TX queue per worker, the MTU. Fills ifc->port_id, name, nb_queues,
 * nb_rx_queues and p->nb_rxd/nb_txd. Exactly one of @p device and @p devargs is non-NULL.
 * @return 0, -ENODEV (no such device; @p err lists the available ones), -EINVAL (the device
 *   cannot do what is configured) or another -errno from DPDK.
 */
int dp_port_open(struct dp_iface *ifc, struct dp_port *p, const char *device, const char *devargs,
		 uint16_t nb_workers, char *err, size_t errlen);

/**
 * Configure and start an opened port: RSS when the device has IPv4/TCP RSS and there is a
 * queue per worker, checksum offloads it has, the MTU, one RX queue per worker fed from
 * pools[w] and allocated on sockets[w], one TX queue per worker. Then program the RSS
 * redirection table (entry i = queue i % nb_rx_queues) and verify the key; when either
 * fails the port falls back to software steering (ifc->rss false). Fills ifc->mac, rss,
 * reta_size and the offload flags.
 * @return 0 or -errno (@p err says which step failed).
 */
int dp_port_start(struct dp_iface *ifc, struct dp_port *p, struct rte_mempool *const *pools,
		  const int *sockets, uint16_t nb_workers, char *err, size_t errlen);

#define DP_LINK_WAIT_TICK_MS 10		/* how often dp_port_link_wait() looks */
#define DP_LINK_DOWN UINT32_MAX		/* up_ms[]: no link within the port's timeout */
#define DP_LINK_UNKNOWN (UINT32_MAX - 1) /* up_ms[]: the PMD cannot say (not waited for) */

/**
 * Wait for link on @p n ports, sleeping DP_LINK_WAIT_TICK_MS between looks with
 * rte_eth_link_get_nowait(), each port for at most its own ifcs[i].link_timeout_ms (0: look
 * once). Returns when every port is up, or past its timeout, or cannot report link state.
 * @param up_ms  per port: milliseconds from the call until link was seen up, DP_LINK_DOWN or
 *   DP_LINK_UNKNOWN.
 * @return the number of ports whose link is down (DP_LINK_DOWN).
 */
unsigned dp_port_link_wait(const struct dp_iface *ifcs, unsigned n, uint32_t *up_ms);

/** Stop a started port (its queues stop using the pools). Harmless if not started. */
void dp_port_stop(const struct dp_iface *ifc, struct dp_port *p);
/** Close the port; a hot-plugged device is removed again. Call after dp_port_stop(). */
void dp_port_close(const struct dp_iface *ifc, struct dp_port *p);

/** One line describing a started port for the start-up report. Returns snprintf's count. */
int dp_port_describe(const struct dp_iface *ifc, const struct dp_port *p, char *buf, size_t len);

/** mbuf data room (headroom included) that holds a whole frame of @p mtu in one segment. */
uint16_t dp_port_mbuf_size(uint16_t mtu);

#endif
