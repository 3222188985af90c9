/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zpath.ini parsing and validation. inih splits the text into (section, key, value); all the
 * checking is ours, so that every message says where (file:line or the -s argument), which
 * section and key, and what is wrong with the value.
 *
 * inih (as packaged) does not report line numbers to the handler, so the text is fed through
 * our own line reader: inih asks it for exactly one line before handling that line, and the
 * reader's count is the line the handler is looking at.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "config.h"
#include "port/dp_fault.h"
#include "tcp/tcp_cc.h"

#define CFG_FILE_MAX (1u << 20)

/* A place a value came from: "zpath.ini:12" or "-s port0.mtu=9". */
struct cfg_ctx {
	struct ctl_config *c;
	const char *source; /* file name, or NULL for an override */
	const char *spec;   /* the -s argument, for an override */
	unsigned line;	    /* current line (file) */
	const char *pos;    /* reader position in the text */
	char *err;
	size_t errlen;
	unsigned err_line; /* line of the first error; 0 = none yet */
	bool failed;
};

/* ------------------------------------------------------------------------------------------ */
/* Messages                                                                                    */

static struct ctl_config_origin here(const struct cfg_ctx *x)
{
	struct ctl_config_origin o = {.line = x->spec != NULL ? 0 : x->line, .spec = x->spec};
	return o;
}

/* Record "<where>: [section] key: <fmt>" unless an earlier error is already recorded.
 * <where> is "-s <spec>", "<file>:<line>" or "<file>". */
static int __rte_format_printf(5, 6)
	fail_at(struct cfg_ctx *x, struct ctl_config_origin o, const char *section, const char *key,
		const char *fmt, ...)
{
	char loc[CTL_CFG_SOURCE_MAX + 32];
	char msg[512];
	va_list ap;

	if (x->failed)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (o.spec != NULL)
		snprintf(loc, sizeof(loc), "-s %s", o.spec);
	else if (o.line > 0)
		snprintf(loc, sizeof(loc), "%s:%u", x->source, o.line);
	else
		snprintf(loc, sizeof(loc), "%s", x->source);
	if (section == NULL)
		snprintf(x->err, x->errlen, "%s: %s", loc, msg);
	else if (key == NULL)
		snprintf(x->err, x->errlen, "%s: [%s]: %s", loc, section, msg);
	else
		snprintf(x->err, x->errlen, "%s: [%s] %s: %s", loc, section, key, msg);
	x->failed = true;
	x->err_line = o.line;
	return -EINVAL;
}

/* An error about the value being set right now. */
#define fail_here(x, section, key, ...) fail_at((x), here(x), (section), (key), __VA_ARGS__)

/* ------------------------------------------------------------------------------------------ */
/* Value parsers: 0 or -EINVAL with the reason in msg.                                         */

static int parse_uint(const char *v, uint64_t min, uint64_t max, uint64_t *out, char *msg,
		      size_t len)
{
	unsigned long long n;
	char *end;
	const char *p;

	for (p = v; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			break;
	if (*v == '\0' || *p != '\0') {
		snprintf(msg, len, "\"%s\" is not a number", v);
		return -EINVAL;
	}
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno == ERANGE || n < min || n > max) {
		snprintf(msg, len, "%s is out of range %" PRIu64 "..%" PRIu64, v, min, max);
		return -EINVAL;
	}
	*out = n;
	return 0;
}

static int parse_bool(const char *v, bool *out, char *msg, size_t len)
{
	static const char *const yes[] = {"1", "on", "yes", "true"};
	static const char *const no[] = {"0", "off", "no", "false"};
	unsigned i;

	for (i = 0; i < RTE_DIM(yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(msg, len, "\"%s\" is not a boolean (use on/off, yes/no, true/false or 1/0)", v);
	return -EINVAL;
}

static int parse_ip(const char *v, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static uint32_t mask_of(uint8_t plen)
{
	return plen == 0 ? 0 : ~0u << (32 - plen);
}

static void ip_str(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* "A.B.C.D/LEN" with LEN in min_len..32. what = "address/prefix" or "network/prefix". */
static int parse_prefix(const char *v, const char *what, unsigned min_len, uint32_t *ip,
			uint8_t *plen, char *msg, size_t len)
{
	char buf[64];
	const char *slash = strchr(v, '/');
	uint64_t n;
	char dummy[8];

	if (slash == NULL || (size_t)(slash - v) >= sizeof(buf))
		goto bad;
	memcpy(buf, v, (size_t)(slash - v));
	buf[slash - v] = '\0';
	if (parse_ip(buf, ip) != 0)
		goto bad;
	if (slash[1] == '\0' || strlen(slash + 1) > 3 ||
	    parse_uint(slash + 1, 0, 999, &n, dummy, sizeof(dummy)) != 0)
		goto bad;
	if (n < min_len || n > 32) {
		snprintf(msg, len, "\"%s\": prefix length %" PRIu64 " is out of range %u..32", v, n,
			 min_len);
		return -EINVAL;
	}
	*plen = (uint8_t)n;
	return 0;
bad:
	snprintf(msg, len, "\"%s\" is not an IPv4 %s", v, what);
	return -EINVAL;
}

static bool usable_unicast(uint32_t ip)
{
	return ip != 0 && (ip >> 24) != 127 && ip < 0xe0000000u;
}

/* ------------------------------------------------------------------------------------------ */
/* [stack]                                                                                     */

enum stack_key {
	SK_WORKERS,
	SK_MBUFS,
	SK_MBUF_CACHE,
	SK_ARP_TIMEOUT,
	SK_ARP_RETRY,
	SK_ARP_RETRIES,
	SK_TCP_MSL,
	SK_TCP_FIN_TIMEOUT,
	SK_TCP_RFC1337,
	SK_INSTANCE,
	SK_TCP_CC,
	SK_ARP_PENDING,
	SK_TCP_SNDBUF,
	SK_TCP_RECOVERY,
	SK_IDLE,
	SK_IDLE_AFTER,
	SK_IDLE_SLEEP_MAX,
	SK_MAX
};

struct uint_key {
	uint64_t min, max;
	size_t off;
	unsigned width; /* bytes */
};

#define UKEY(field, lo, hi)                                                                        \
	{                                                                                          \
		.min = (lo), .max = (hi), .off = offsetof(struct ctl_config, field),               \
		.width = sizeof(((struct ctl_config *)0)->field)                                   \
	}

_Static_assert(SK_MAX <= RTE_DIM(((struct ctl_config *)0)->stack_line), "stack_line");
_Static_assert(SK_MAX <= 32, "stack_seen has a bit per key");

static const char *const stack_key_names[SK_MAX] = {
	[SK_WORKERS] = "workers",	  [SK_MBUFS] = "mbufs",
	[SK_MBUF_CACHE] = "mbuf_cache",	  [SK_ARP_TIMEOUT] = "arp_timeout_ms",
	[SK_ARP_RETRY] = "arp_retry_ms",  [SK_ARP_RETRIES] = "arp_retries",
	[SK_TCP_MSL] = "tcp_msl_ms",	  [SK_TCP_FIN_TIMEOUT] = "tcp_fin_timeout_ms",
	[SK_TCP_RFC1337] = "tcp_rfc1337", [SK_INSTANCE] = "instance",
	[SK_TCP_CC] = "tcp_cc",		  [SK_ARP_PENDING] = "arp_pending",
	[SK_TCP_SNDBUF] = "tcp_sndbuf",
	[SK_TCP_RECOVERY] = "tcp_recovery",
	[SK_IDLE] = "idle",		  [SK_IDLE_AFTER] = "idle_after",
	[SK_IDLE_SLEEP_MAX] = "idle_sleep_max_us",
};

/* [stack] idle: the names of enum dp_idle_policy. */
static const char *const idle_names[] = {
	[DP_IDLE_POLL] = "poll",
	[DP_IDLE_YIELD] = "yield",
	[DP_IDLE_SLEEP] = "sleep",
};

static const struct uint_key stack_uint_keys[SK_MAX] = {
	[SK_WORKERS] = UKEY(workers, 1, DP_MAX_WORKERS),
	[SK_MBUFS] = UKEY(mbufs, 1023, 16777215),
	[SK_MBUF_CACHE] = UKEY(mbuf_cache, 0, 512),
	[SK_ARP_TIMEOUT] = UKEY(tun.arp_timeout_ms, 1000, 86400000),
	[SK_ARP_RETRY] = UKEY(tun.arp_retry_ms, 10, 60000),
	[SK_ARP_RETRIES] = UKEY(tun.arp_retries, 1, 100),
	[SK_ARP_PENDING] = UKEY(tun.arp_pending, 1, DP_ARP_PENDING_MAX),
	[SK_TCP_MSL] = UKEY(tun.tcp_msl_ms, 1, 600000),
	[SK_TCP_FIN_TIMEOUT] = UKEY(tun.tcp_fin_timeout_ms, 1, 3600000),
	[SK_TCP_SNDBUF] = UKEY(tun.tcp_sndbuf, 2048, 16777216),
	[SK_IDLE_AFTER] = UKEY(tun.idle_after, 0, 1000000000),
	[SK_IDLE_SLEEP_MAX] = UKEY(tun.idle_sleep_max_us, 1, DP_IDLE_SLEEP_MAX_LIMIT),
};

static void store_uint(struct ctl_config *c, const struct uint_key *k, uint64_t v)
{
	char *p = (char *)c + k->off;

	switch (k->width) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	default:
		*(uint32_t *)p = (uint32_t)v;
		break;
	}
}

/* Same rule as the control thread: a file name in the run directory. */
static int valid_instance(const char *v)
{
	size_t n = strlen(v), i;

	if (n == 0 || n > CTL_CFG_INSTANCE_MAX || v[0] == '.')
		return -EINVAL;
	for (i = 0; i < n; i++) {
		char ch = v[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return -EINVAL;
	}
	return 0;
}

static int stack_set(struct cfg_ctx *x, const char *key, const char *val)
{
	struct ctl_config *c = x->c;
	char msg[256];
	unsigned k;
	uint64_t n;
	bool b;

	for (k = 0; k < SK_MAX; k++)
		if (strcmp(key, stack_key_names[k]) == 0)
			break;
	if (k == SK_MAX)
		return fail_here(x, "stack", key,
				 "unknown key (known: workers, mbufs, mbuf_cache, arp_timeout_ms, "
				 "arp_retry_ms, arp_retries, arp_pending, tcp_msl_ms, "
				 "tcp_fin_timeout_ms, tcp_rfc1337, instance, tcp_cc, tcp_sndbuf, "
				 "tcp_recovery, idle, idle_after, idle_sleep_max_us)");
	if (x->spec == NULL) {
		if (c->stack_seen & (1u << k))
			return fail_here(x, "stack", key, "duplicate key (first set on line %u)",
					 c->stack_line[k]);
		c->stack_seen |= 1u << k;
		c->stack_line[k] = x->line;
	}

	switch ((enum stack_key)k) {
	case SK_WORKERS:
	case SK_MBUFS:
	case SK_MBUF_CACHE:
	case SK_ARP_TIMEOUT:
	case SK_ARP_RETRY:
	case SK_ARP_RETRIES:
	case SK_ARP_PENDING:
	case SK_TCP_MSL:
	case SK_TCP_FIN_TIMEOUT:
	case SK_TCP_SNDBUF:
	case SK_IDLE_AFTER:
	case SK_IDLE_SLEEP_MAX:
		if (parse_uint(val, stack_uint_keys[k].min, stack_uint_keys[k].max, &n, msg,
			       sizeof(msg)) != 0)
			return fail_here(x, "stack", key, "%s", msg);
		store_uint(c, &stack_uint_keys[k], n);
		return 0;
	case SK_TCP_RFC1337:
		if (parse_bool(val, &b, msg, sizeof(msg)) != 0)
			return fail_here(x, "stack", key, "%s", msg);
		c->tun.tcp_rfc1337_off = !b;
		return 0;
	case SK_INSTANCE:
		if (valid_instance(val) != 0)
			return fail_here(x, "stack", key,
					 "\"%s\" is not a valid instance name (1..%d characters of "
					 "A-Z a-z 0-9 . _ -, not starting with '.')",
					 val, CTL_CFG_INSTANCE_MAX);
		snprintf(c->instance, sizeof(c->instance), "%s", val);
		return 0;
	case SK_TCP_CC: {
		int a = tcp_cc_lookup(val);

		if (a < 0)
			return fail_here(x, "stack", key,
					 "\"%s\" is not a congestion control algorithm (known: %s)",
					 val, tcp_cc_names());
		c->tun.tcp_cc = (uint8_t)a;
		return 0;
	}
	case SK_TCP_RECOVERY:
		/* Loss detection with SACK: RACK-TLP (RFC 8985) or DupThresh (RFC 6675). */
		if (strcmp(val, "rack") == 0)
			c->tun.tcp_rack_off = false;
		else if (strcmp(val, "rfc6675") == 0)
			c->tun.tcp_rack_off = true;
		else
			return fail_here(x, "stack", key,
					 "\"%s\" is not a loss detection (known: rack, rfc6675)", val);
		return 0;
	case SK_IDLE: {
		unsigned i;

		for (i = 0; i < RTE_DIM(idle_names); i++)
			if (strcmp(val, idle_names[i]) == 0)
				break;
		if (i == RTE_DIM(idle_names))
			return fail_here(x, "stack", key,
					 "\"%s\" is not an idle policy (known: poll, yield, sleep)",
					 val);
		c->tun.idle = (uint8_t)i;
		return 0;
	}
	case SK_MAX:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* [portN]                                                                                     */

enum port_key {
	PK_DEVICE,
	PK_VDEV,
	PK_ADDRESS,
	PK_GATEWAY,
	PK_MTU,
	PK_FAULT_RX,
	PK_FAULT_TX,
	PK_FAULT_SEED,
	PK_LINK_TIMEOUT,
	PK_MAX
};
_Static_assert(PK_MAX <= RTE_DIM(((struct ctl_config_port *)0)->key_origin), "key_origin");

static const char *const port_key_names[PK_MAX] = {
	[PK_DEVICE] = "device",	  [PK_VDEV] = "vdev", [PK_ADDRESS] = "address",
	[PK_GATEWAY] = "gateway", [PK_MTU] = "mtu",   [PK_FAULT_RX] = "fault_rx",
	[PK_FAULT_TX] = "fault_tx", [PK_FAULT_SEED] = "fault_seed",
	[PK_LINK_TIMEOUT] = "link_timeout_ms",
};

static int port_set(struct cfg_ctx *x, unsigned idx, const char *section, const char *key,
		    const char *val)
{
	struct ctl_config_port *p = &x->c->ports[idx];
	char msg[256];
	unsigned k;
	uint64_t n;
	uint32_t ip;
	uint8_t plen;

	for (k = 0; k < PK_MAX; k++)
		if (strcmp(key, port_key_names[k]) == 0)
			break;
	if (k == PK_MAX)
		return fail_here(x, section, key,
				 "unknown key (known: device, vdev, address, gateway, mtu, "
				 "fault_rx, fault_tx, fault_seed, link_timeout_ms)");
	if (x->spec == NULL && (p->seen & (1u << k)))
		return fail_here(x, section, key, "duplicate key (first set on line %u)",
				 p->key_origin[k].line);
	if (!p->present) {
		p->present = true;
		p->origin = here(x);
		p->mtu = 1500;
		p->fault_seed = 1;
		p->link_timeout_ms = DP_LINK_TIMEOUT_DEFAULT_MS;
	}
	p->key_origin[k] = here(x);
	p->seen |= 1u << k;

	switch ((enum port_key)k) {
	case PK_DEVICE:
	case PK_VDEV: {
		const char *comma = strchr(val, ',');
		size_t name_len = comma != NULL ? (size_t)(comma - val) : strlen(val);
		char *dst = k == PK_DEVICE ? p->device : p->vdev;
		size_t cap = k == PK_DEVICE ? sizeof(p->device) : sizeof(p->vdev);

		if (val[0] == '\0') {
			dst[0] = '\0'; /* "vdev =": not set (lets -s switch vdev to device) */
			return 0;
		}
		if (name_len == 0)
			return fail_here(x, section, key, "\"%s\" is not a device name", val);
		if (k == PK_DEVICE && comma != NULL)
			return fail_here(x, section, key,
					 "\"%s\": device takes a bare ethdev name; put device "
					 "arguments in \"vdev\"",
					 val);
		if (strlen(val) >= cap || name_len >= CTL_CFG_NAME_MAX)
			return fail_here(x, section, key, "\"%s\" is too long", val);
		snprintf(dst, cap, "%s", val);
		return 0;
	}
	case PK_ADDRESS: {
		uint32_t host;

		if (parse_prefix(val, "address/prefix", 1, &ip, &plen, msg, sizeof(msg)) != 0)
			return fail_here(x, section, key, "%s", msg);
		host = ip & ~mask_of(plen);
		if (!usable_unicast(ip) || (plen <= 30 && (host == 0 || host == ~mask_of(plen))))
			return fail_here(x, section, key,
					 "\"%s\" is not a usable unicast host address", val);
		p->addr = ip;
		p->prefix_len = plen;
		p->has_addr = true;
		return 0;
	}
	case PK_GATEWAY:
		if (val[0] == '\0') {
			p->gateway = 0; /* "gateway =": no default route */
			return 0;
		}
		if (parse_ip(val, &ip) != 0)
			return fail_here(x, section, key, "\"%s\" is not an IPv4 address", val);
		if (!usable_unicast(ip))
			return fail_here(x, section, key, "\"%s\" is not a usable unicast address",
					 val);
		p->gateway = ip;
		return 0;
	case PK_MTU:
		if (parse_uint(val, 68, 9000, &n, msg, sizeof(msg)) != 0)
			return fail_here(x, section, key, "%s", msg);
		p->mtu = (uint16_t)n;
		return 0;
	case PK_FAULT_RX:
	case PK_FAULT_TX:
		if (dp_fault_parse(val, k == PK_FAULT_RX ? &p->fault_rx : &p->fault_tx, msg,
				   sizeof(msg)) != 0)
			return fail_here(x, section, key, "%s", msg);
		return 0;
	case PK_FAULT_SEED:
		if (parse_uint(val, 0, UINT64_MAX, &n, msg, sizeof(msg)) != 0)
			return fail_here(x, section, key, "%s", msg);
		p->fault_seed = n;
		return 0;
	case PK_LINK_TIMEOUT:
		if (parse_uint(val, 0, 600000, &n, msg, sizeof(msg)) != 0)
			return fail_here(x, section, key, "%s", msg);
		p->link_timeout_ms = (uint32_t)n;
		return 0;
	case PK_MAX:
		break;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* [routes]                                                                                    */

static int route_set(struct cfg_ctx *x, const char *key, const char *val)
{
	struct ctl_config *c = x->c;
	struct ctl_config_route *r = NULL;
	char msg[256], net_s[16];
	uint32_t net, gw;
	uint8_t plen;
	unsigned i;

	if (parse_prefix(key, "network/prefix", 0, &net, &plen, msg, sizeof(msg)) != 0)
		return fail_here(x, "routes", key, "%s", msg);
	if ((net & ~mask_of(plen)) != 0) {
		ip_str(net & mask_of(plen), net_s, sizeof(net_s));
		return fail_here(x, "routes", key, "\"%s\" has host bits set (did you mean %s/%u?)",
				 key, net_s, plen);
	}
	if (parse_ip(val, &gw) != 0)
		return fail_here(x, "routes", key, "\"%s\" is not an IPv4 address", val);
	if (!usable_unicast(gw))
		return fail_here(x, "routes", key, "\"%s\" is not a usable unicast address", val);

	for (i = 0; i < c->nb_routes; i++) {
		if (c->routes[i].net != net || c->routes[i].prefix_len != plen)
			continue;
		if (x->spec == NULL)
			return fail_here(x, "routes", key, "duplicate key (first set on line %u)",
					 c->routes[i].origin.line);
		r = &c->routes[i];
		break;
	}
	if (r == NULL) {
		if (c->nb_routes == CTL_CFG_MAX_ROUTES)
			return fail_here(x, "routes", key, "too many routes (at most %d)",
					 CTL_CFG_MAX_ROUTES);
		r = &c->routes[c->nb_routes++];
	}
	r->net = net;
	r->prefix_len = plen;
	r->gateway = gw;
	r->origin = here(x);
	snprintf(r->key, sizeof(r->key), "%s", key);
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Dispatch                                                                                    */

static int port_index(const char *section)
{
	if (strncmp(section, "port", 4) != 0 || section[4] < '0' ||
	    section[4] >= '0' + CTL_CFG_MAX_PORTS || section[5] != '\0')
		return -1;
	return section[4] - '0';
}

static int set_value(struct cfg_ctx *x, const char *section, const char *key, const char *val)
{
	int port;

	if (section[0] == '\0')
		return fail_here(x, NULL, NULL, "%s: key outside of any section", key);
	if (strcmp(section, "stack") == 0)
		return stack_set(x, key, val);
	if (strcmp(section, "routes") == 0)
		return route_set(x, key, val);
	port = port_index(section);
	if (port >= 0)
		return port_set(x, (unsigned)port, section, key, val);
	return fail_here(x, section, key,
			 "unknown section (expected [stack], [port0]..[port%d] or [routes])",
			 CTL_CFG_MAX_PORTS - 1);
}

static int cfg_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_ctx *x = user;

	if (x->failed)
		return 0;
	return set_value(x, section, name, value) == 0;
}

/* inih reads one line per call; counting calls gives the line number of what it handles. */
static char *cfg_ini_reader(char *str, int num, void *stream)
{
	struct cfg_ctx *x = stream;
	const char *nl;
	size_t len;

	if (*x->pos == '\0')
		return NULL;
	nl = strchr(x->pos, '\n');
	len = nl != NULL ? (size_t)(nl - x->pos) + 1 : strlen(x->pos);
	x->line++;
	if (len > (size_t)num - 1) {
		fail_here(x, NULL, NULL, "line too long (the limit is %d characters)", num - 2);
		return NULL;
	}
	memcpy(str, x->pos, len);
	str[len] = '\0';
	x->pos += len;
	return str;
}

void ctl_config_defaults(struct ctl_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->source, sizeof(c->source), "zpath.ini");
	c->workers = 1;
	c->mbufs = 8191;
	c->mbuf_cache = 256;
	c->tun.arp_timeout_ms = 300000;
	c->tun.arp_retry_ms = 1000;
	c->tun.arp_retries = 3;
	c->tun.arp_pending = DP_ARP_PENDING_DEFAULT;
	c->tun.tcp_msl_ms = 30000;
	c->tun.tcp_fin_timeout_ms = 60000;
	c->tun.tcp_rfc1337_off = false;
	c->tun.tcp_sndbuf = 262144;
	c->tun.idle = DP_IDLE_POLL;
	c->tun.idle_after = DP_IDLE_AFTER_DEFAULT;
	c->tun.idle_sleep_max_us = DP_IDLE_SLEEP_MAX_DEFAULT;
	snprintf(c->instance, sizeof(c->instance), "zpath");
}

int ctl_config_parse_string(struct ctl_config *c, const char *name, const char *text, char *err,
			    size_t errlen)
{
	struct cfg_ctx x = {.c = c, .source = name, .pos = text, .err = err, .errlen = errlen};
	int rc;

	snprintf(c->source, sizeof(c->source), "%s", name);
	if (errlen > 0)
		err[0] = '\0';
	rc = ini_parse_stream(cfg_ini_reader, &x, cfg_ini_handler, &x);
	/* rc > 0: line of inih's first error, which is ours or a syntax error (whichever came
	 * first); rc == -2: out of memory. */
	if (rc > 0 && (!x.failed || (unsigned)rc < x.err_line)) {
		x.failed = false;
		return fail_at(&x, (struct ctl_config_origin){.line = (unsigned)rc}, NULL, NULL,
			       "syntax error: expected \"[section]\" or \"key = value\"");
	}
	if (rc == -2 && !x.failed) {
		fail_at(&x, (struct ctl_config_origin){0}, NULL, NULL,
			"out of memory while parsing");
		return -ENOMEM;
	}
	return x.failed ? -EINVAL : 0;
}

int ctl_config_parse_file(struct ctl_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (f == NULL) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return rc;
	}
	text = malloc(CFG_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(text, 1, CFG_FILE_MAX + 1, f);
	if (ferror(f)) {
		rc = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
	} else if (n > CFG_FILE_MAX) {
		rc = -EFBIG;
		snprintf(err, errlen, "%s: file is larger than %u bytes", path, CFG_FILE_MAX);
	} else if (memchr(text, '\0', n) != NULL) {
		rc = -EINVAL;
		snprintf(err, errlen, "%s: not a text file (contains NUL bytes)", path);
	} else {
		text[n] = '\0';
		rc = ctl_config_parse_string(c, path, text, err, errlen);
	}
	fclose(f);
	free(text);
	return rc;
}

int ctl_config_override(struct ctl_config *c, const char *spec, char *err, size_t errlen)
{
	struct cfg_ctx x = {
		.c = c, .source = c->source, .spec = spec, .err = err, .errlen = errlen};
	const char *eq = strchr(spec, '=');
	const char *dot = strchr(spec, '.');
	char section[32], key[64];

	if (eq == NULL || dot == NULL || dot > eq || dot == spec || eq == dot + 1)
		return fail_here(&x, NULL, NULL, "expected section.key=value");
	if ((size_t)(dot - spec) >= sizeof(section) || (size_t)(eq - dot - 1) >= sizeof(key))
		return fail_here(&x, NULL, NULL, "section or key name too long");
	memcpy(section, spec, (size_t)(dot - spec));
	section[dot - spec] = '\0';
	memcpy(key, dot + 1, (size_t)(eq - dot - 1));
	key[eq - dot - 1] = '\0';
	return set_value(&x, section, key, eq + 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Whole-configuration checks                                                                  */

static bool on_link(const struct ctl_config_port *p, uint32_t ip)
{
	uint32_t m = mask_of(p->prefix_len);

	return (ip & m) == (p->addr & m);
}

static void devname(const struct ctl_config_port *p, char *buf, size_t len)
{
	const char *s = p->device[0] != '\0' ? p->device : p->vdev;
	size_t n = strcspn(s, ",");

	if (n >= len)
		n = len - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
}

/* "line 5" or "-s port0.gateway=10.0.0.1": where an earlier value came from. */
static void origin_str(struct ctl_config_origin o, char *buf, size_t len)
{
	if (o.spec != NULL)
		snprintf(buf, len, "-s %s", o.spec);
	else
		snprintf(buf, len, "line %u", o.line);
}

/* True if @p a was set after @p b (every -s comes after every line of the file). */
static bool set_after(const struct ctl_config_origin *a, const struct ctl_config_origin *b)
{
	if ((a->spec != NULL) != (b->spec != NULL))
		return a->spec != NULL;
	return a->line > b->line;
}

static int check_port(struct cfg_ctx *x, unsigned i)
{
	struct ctl_config *c = x->c;
	struct ctl_config_port *p = &c->ports[i];
	char section[8], ip_s[16], a_s[16], name[CTL_CFG_NAME_MAX], other[CTL_CFG_NAME_MAX];
	unsigned j, k;

	snprintf(section, sizeof(section), "port%u", i);
	if (p->device[0] == '\0' && p->vdev[0] == '\0')
		return fail_at(x, p->origin, section, NULL,
			       "missing required key \"device\" or \"vdev\"");
	if (p->device[0] != '\0' && p->vdev[0] != '\0') {
		/* Blame the one set last. */
		k = set_after(&p->key_origin[PK_DEVICE], &p->key_origin[PK_VDEV]) ? PK_DEVICE
										  : PK_VDEV;
		return fail_at(x, p->key_origin[k], section, port_key_names[k],
			       "\"device\" and \"vdev\" are mutually exclusive");
	}
	if (!p->has_addr)
		return fail_at(x, p->origin, section, NULL, "missing required key \"address\"");
	ip_str(p->addr, a_s, sizeof(a_s));
	if (p->gateway != 0 && !on_link(p, p->gateway)) {
		ip_str(p->gateway, ip_s, sizeof(ip_s));
		return fail_at(x, p->key_origin[PK_GATEWAY], section, "gateway",
			       "%s is not on-link of %s/%u", ip_s, a_s, p->prefix_len);
	}
	if (p->gateway == p->addr)
		return fail_at(x, p->key_origin[PK_GATEWAY], section, "gateway",
			       "%s is this port's own address", a_s);
	devname(p, name, sizeof(name));
	k = p->device[0] != '\0' ? PK_DEVICE : PK_VDEV;
	for (j = 0; j < i; j++) {
		const struct ctl_config_port *q = &c->ports[j];

		devname(q, other, sizeof(other));
		if (strcmp(name, other) == 0)
			return fail_at(x, p->key_origin[k], section, port_key_names[k],
				       "device %s is already used by [port%u]", name, j);
		if (q->addr == p->addr)
			return fail_at(x, p->key_origin[PK_ADDRESS], section, "address",
				       "%s is already the address of [port%u]", a_s, j);
	}
	return 0;
}

int ctl_config_finish(struct ctl_config *c, char *err, size_t errlen)
{
	struct cfg_ctx x = {.c = c, .source = c->source, .err = err, .errlen = errlen};
	struct ctl_config_origin none = {0};
	unsigned i, j, n = 0;
	int dflt_port = -1;
	char ip_s[16], org[CTL_CFG_SOURCE_MAX + 8], section[8];

	if (errlen > 0)
		err[0] = '\0';
	while (n < CTL_CFG_MAX_PORTS && c->ports[n].present)
		n++;
	for (i = n; i < CTL_CFG_MAX_PORTS; i++) {
		if (!c->ports[i].present)
			continue;
		snprintf(section, sizeof(section), "port%u", i);
		return fail_at(
			&x, c->ports[i].origin, section, NULL,
			"ports must be numbered from port0 without gaps ([port%u] is missing)", n);
	}
	if (n == 0)
		return fail_at(&x, none, NULL, NULL,
			       "no [port0] section: at least one port is required");
	for (i = 0; i < n; i++)
		if (check_port(&x, i) != 0)
			return -EINVAL;

	/* One default route: a port gateway or a 0.0.0.0/0 line in [routes]. */
	for (i = 0; i < n; i++) {
		if (c->ports[i].gateway == 0)
			continue;
		if (dflt_port >= 0) {
			snprintf(section, sizeof(section), "port%u", i);
			origin_str(c->ports[dflt_port].key_origin[PK_GATEWAY], org, sizeof(org));
			return fail_at(&x, c->ports[i].key_origin[PK_GATEWAY], section, "gateway",
				       "a default route is already set by [port%d] gateway (%s)",
				       dflt_port, org);
		}
		dflt_port = (int)i;
	}
	for (i = 0; i < c->nb_routes; i++) {
		const struct ctl_config_route *r = &c->routes[i];

		if (r->prefix_len == 0 && dflt_port >= 0) {
			origin_str(c->ports[dflt_port].key_origin[PK_GATEWAY], org, sizeof(org));
			return fail_at(&x, r->origin, "routes", r->key,
				       "a default route is already set by [port%d] gateway (%s)",
				       dflt_port, org);
		}
		for (j = 0; j < n; j++)
			if (on_link(&c->ports[j], r->gateway) && c->ports[j].addr != r->gateway)
				break;
		if (j == n) {
			ip_str(r->gateway, ip_s, sizeof(ip_s));
			return fail_at(&x, r->origin, "routes", r->key,
				       "gateway %s is not on-link of any port", ip_s);
		}
	}
	c->nb_ports = (uint16_t)n;
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* To the dataplane's view                                                                     */

static int add_route(struct dp_stack *s, uint32_t net, uint8_t plen, uint32_t gw, uint16_t iface)
{
	struct dp_route *r;

	if (s->nb_routes == DP_MAX_ROUTES)
		return -ENOSPC;
	r = &s->routes[s->nb_routes++];
	r->prefix_len = plen;
	r->mask = rte_cpu_to_be_32(mask_of(plen));
	r->net = rte_cpu_to_be_32(net & mask_of(plen));
	r->gateway = rte_cpu_to_be_32(gw);
	r->iface = iface;
	return 0;
}

static int route_cmp(const void *a, const void *b)
{
	const struct dp_route *x = a, *y = b;

	if (x->prefix_len != y->prefix_len)
		return x->prefix_len > y->prefix_len ? -1 : 1;
	/* Same length: on-link first, then by network (a stable, readable order). */
	if ((x->gateway == 0) != (y->gateway == 0))
		return x->gateway == 0 ? -1 : 1;
	return rte_be_to_cpu_32(x->net) < rte_be_to_cpu_32(y->net) ? -1 : 1;
}

int ctl_config_to_stack(const struct ctl_config *c, struct dp_stack *s, char *err, size_t errlen)
{
	unsigned i, j;
	int rc = 0;

	memset(s, 0, sizeof(*s));
	s->tun = c->tun;
	s->nb_workers = c->workers;
	s->nb_ifaces = c->nb_ports;
	for (i = 0; i < c->nb_ports && rc == 0; i++) {
		const struct ctl_config_port *p = &c->ports[i];
		struct dp_iface *ifc = &s->ifaces[i];

		devname(p, ifc->name, sizeof(ifc->name));
		ifc->addr = rte_cpu_to_be_32(p->addr);
		ifc->prefix_len = p->prefix_len;
		ifc->netmask = rte_cpu_to_be_32(mask_of(p->prefix_len));
		ifc->mtu = p->mtu != 0 ? p->mtu : 1500;
		ifc->fault.rx = p->fault_rx;
		ifc->fault.tx = p->fault_tx;
		ifc->fault.seed = p->fault_seed;
		ifc->link_timeout_ms = p->link_timeout_ms;
		ifc->fault.on = dp_fault_dir_active(&p->fault_rx) || dp_fault_dir_active(&p->fault_tx);
		rc = add_route(s, p->addr, p->prefix_len, 0, (uint16_t)i);
		if (rc == 0 && p->gateway != 0)
			rc = add_route(s, 0, 0, p->gateway, (uint16_t)i);
	}
	for (i = 0; i < c->nb_routes && rc == 0; i++) {
		const struct ctl_config_route *r = &c->routes[i];

		/* The most specific on-link prefix holds the gateway. */
		int best = -1;
		for (j = 0; j < c->nb_ports; j++)
			if (on_link(&c->ports[j], r->gateway) &&
			    (best < 0 || c->ports[j].prefix_len > c->ports[best].prefix_len))
				best = (int)j;
		if (best < 0) {
			snprintf(err, errlen, "route %s: gateway is not on-link (not finished?)",
				 r->key);
			return -EINVAL;
		}
		rc = add_route(s, r->net, r->prefix_len, r->gateway, (uint16_t)best);
	}
	if (rc != 0) {
		snprintf(err, errlen, "%s: too many routes (at most %d)", c->source, DP_MAX_ROUTES);
		return -EINVAL;
	}
	qsort(s->routes, s->nb_routes, sizeof(s->routes[0]), route_cmp);
	return 0;
}
