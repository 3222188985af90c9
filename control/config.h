/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zpath.ini: parsing and validation (control/config.c).
 *
 * The parser only fills and checks a struct ctl_config; it touches no DPDK state, so it runs
 * (and is unit-tested) without the EAL. zp_init() turns the result into a struct dp_stack with
 * ctl_config_to_stack() and brings the ports up from the per-port device/vdev strings.
 *
 * Every error message names where the bad value came from, the section and the key:
 * @code
 *   zpath.ini:12: [port0] address: "10.0.0.300/24" is not an IPv4 address/prefix
 *   -s port0.mtu=70000: [port0] mtu: 70000 is out of range 68..9000
 * @endcode
 *
 * Usage: ctl_config_defaults(), ctl_config_parse_file() (or _string()), any number of
 * ctl_config_override(), then ctl_config_finish() for the checks that need the whole file
 * (required keys, routes on-link). All return 0 or -EINVAL (-errno of the file for I/O).
 */
#ifndef ZPATH_CTL_CONFIG_H
#define ZPATH_CTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_priv.h"

#define CTL_CFG_MAX_PORTS    DP_MAX_PORTS
#define CTL_CFG_MAX_ROUTES   (DP_MAX_ROUTES - DP_MAX_PORTS - 1) /* room for on-link + default */
#define CTL_CFG_NAME_MAX     64					/* ethdev names, as dp_iface.name */
#define CTL_CFG_DEVARGS_MAX  256
#define CTL_CFG_INSTANCE_MAX 63 /* as the control thread (ctl_priv.h) */
#define CTL_CFG_SOURCE_MAX   256

/** Where a value was set: a line of the file, or a -s argument. */
struct ctl_config_origin {
	unsigned line;	  /**< line in the file; 0 when set by -s (or never set) */
	const char *spec; /**< the -s argument (kept by pointer: it must outlive the config) */
};

/** One [portN] section. Addresses are in host byte order here. */
struct ctl_config_port {
	bool present;			 /**< the section has at least one key */
	struct ctl_config_origin origin; /**< where its first key was set */
	char device[CTL_CFG_NAME_MAX];	 /**< existing ethdev ("" = not set) */
	char vdev[CTL_CFG_DEVARGS_MAX];	 /**< devargs to hot-plug ("" = not set) */
	uint32_t addr;
	uint8_t prefix_len;
	bool has_addr;
	uint32_t gateway;			/**< 0 = none */
	uint16_t mtu;				/**< default 1500 */
	struct dp_fault_dir fault_rx, fault_tx; /**< fault injection (port/dp_fault.h) */
	uint64_t fault_seed;			/**< default 1 */
	uint32_t link_timeout_ms;		/**< start-up link wait (default 3000) */
	uint32_t seen;				/**< bit per key: duplicate detection */
	struct ctl_config_origin key_origin[12]; /**< where each key was last set */
};

/** One [routes] line "NET/LEN = GATEWAY" (host byte order). */
struct ctl_config_route {
	uint32_t net;
	uint8_t prefix_len;
	uint32_t gateway;
	struct ctl_config_origin origin;
	char key[32]; /**< the key as written, for messages */
};

/** Everything zpath.ini and the -s overrides say. */
struct ctl_config {
	char source[CTL_CFG_SOURCE_MAX];	 /**< file name used in messages */
	uint16_t workers;			 /**< [stack] workers (default 1) */
	uint32_t mbufs;				 /**< per worker (default 8191) */
	uint32_t mbuf_cache;			 /**< mempool cache per lcore (default 256) */
	struct dp_tunables tun;			 /**< ARP and TCP tunables */
	char instance[CTL_CFG_INSTANCE_MAX + 1]; /**< control-socket name (default "zpath") */
	uint32_t stack_seen;			 /**< bit per [stack] key (duplicate detection) */
	unsigned stack_line[32];		 /**< line each [stack] key was set on */
	uint16_t nb_ports; /**< set by ctl_config_finish(): ports 0..nb_ports-1 */
	struct ctl_config_port ports[CTL_CFG_MAX_PORTS];
	uint16_t nb_routes;
	struct ctl_config_route routes[CTL_CFG_MAX_ROUTES];
};

/** Fill @p c with the defaults (no ports, no routes). */
void ctl_config_defaults(struct ctl_config *c);

/**
 * Parse the INI file @p path into @p c (which holds the defaults or earlier values).
 * @return 0, -EINVAL (syntax or value error; @p err says where) or -errno if the file cannot
 *   be read.
 */
int ctl_config_parse_file(struct ctl_config *c, const char *path, char *err, size_t errlen);

/** Same as ctl_config_parse_file() for INI text in memory; @p name is used in messages. */
int ctl_config_parse_string(struct ctl_config *c, const char *name, const char *text, char *err,
			    size_t errlen);

/**
 * Apply one command-line override "section.key=value" (zp_init's -s). It replaces a value
 * from the file; a [routes] override adds or replaces a route ("routes.10.1.0.0/16=10.0.0.1").
 * @return 0 or -EINVAL.
 */
int ctl_config_override(struct ctl_config *c, const char *spec, char *err, size_t errlen);

/**
 * Whole-configuration checks once the file and overrides are in: ports numbered from port0
 * without gaps, each with device or vdev and address, gateways on-link, no two ports on one
 * device. Sets c->nb_ports. @return 0 or -EINVAL.
 */
int ctl_config_finish(struct ctl_config *c, char *err, size_t errlen);

/**
 * Fill the configuration part of @p s from a finished @p c: tunables, worker count, one
 * interface per port (address, netmask, MTU; hardware fields left zero), the on-link route
 * of each port, the default route of a port gateway and the [routes], sorted longest prefix
 * first. @return 0 or -EINVAL (two default routes, route table full).
 */
int ctl_config_to_stack(const struct ctl_config *c, struct dp_stack *s, char *err, size_t errlen);

#endif
