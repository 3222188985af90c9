/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Route lookup over the static table in struct dp_stack and address classification.
 *
 * The table is small (DP_MAX_ROUTES) and immutable once the workers run, so a linear scan
 * that keeps the longest matching prefix is both simple and fast enough; it does not rely on
 * the table being sorted.
 */
#include <errno.h>

#include "dp_priv.h"
#include "net_priv.h"

int dp_route_lookup(const struct dp_stack *s, rte_be32_t dst, uint16_t *iface, rte_be32_t *nexthop)
{
	const struct dp_route *best = NULL;
	uint16_t i;

	for (i = 0; i < s->nb_routes; i++) {
		const struct dp_route *r = &s->routes[i];

		if ((dst & r->mask) != r->net || r->iface >= s->nb_ifaces)
			continue;
		if (best == NULL || r->prefix_len > best->prefix_len)
			best = r;
	}
	if (best == NULL)
		return -EHOSTUNREACH;
	*iface = best->iface;
	*nexthop = best->gateway != 0 ? best->gateway : dst;
	return 0;
}

bool dp_addr_is_local(const struct dp_stack *s, rte_be32_t addr)
{
	uint16_t i;

	for (i = 0; i < s->nb_ifaces; i++)
		if (s->ifaces[i].addr == addr && addr != 0)
			return true;
	return false;
}

bool net__src_is_martian(const struct dp_stack *s, const struct dp_iface *ifc, rte_be32_t src)
{
	uint32_t a = rte_be_to_cpu_32(src);

	/*
	 * RFC 1122 3.2.1.3: a source is never "this host" (0), limited or directed broadcast,
	 * multicast (class D) or loopback (127/8). Class E (240/4, which holds the limited
	 * broadcast) is reserved. Our own addresses cannot come from the wire either.
	 */
	if (a == 0 || (a >> 28) == 0xe || (a >> 28) == 0xf || (a >> 24) == 127)
		return true;
	if (ifc->prefix_len < 31 && ifc->netmask != 0 &&
	    (src & ifc->netmask) == (ifc->addr & ifc->netmask) &&
	    (src | ifc->netmask) == UINT32_MAX)
		return true;
	return dp_addr_is_local(s, src);
}
