/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the files of dataplane/net share among themselves (not used outside the folder).
 */
#ifndef ZPATH_NET_PRIV_H
#define ZPATH_NET_PRIV_H

#include <stdbool.h>

#include "dp_priv.h"

/** Default TTL of the datagrams we originate (RFC 1700 / RFC 1122 3.2.1.7). */
#define NET_IP_TTL 64

/**
 * True if @p src cannot be the source of a datagram received on @p ifc (RFC 1122 3.2.1.3):
 * 0, class D/E (including 255.255.255.255), 127/8, the directed broadcast of @p ifc's
 * subnet, or one of our own addresses.
 */
bool net__src_is_martian(const struct dp_stack *s, const struct dp_iface *ifc, rte_be32_t src);

#endif
