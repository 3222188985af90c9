/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control socket's protocol: one JSON object per line each way (README "Control
 * protocol"). Requests are parsed and validated here into struct ctl_req, so the server, the
 * zpathctl client (which builds its requests with ctl_req_to_json) and the unit tests share
 * one definition. Pure code: no thread, no socket, no DPDK call.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "ctl_priv.h"
#include "zpath/zpath_socket.h"

/* ---- names ------------------------------------------------------------------------------- */

#define CTL_X_NAME(e, name, dbg, help) [CTL_CMD_##e] = name,
static const char *const cmd_names[CTL_CMD_MAX] = {CTL_CMD_LIST(CTL_X_NAME)};
#undef CTL_X_NAME
#define CTL_X_DBG(e, name, dbg, help) [CTL_CMD_##e] = dbg,
static const bool cmd_debug[CTL_CMD_MAX] = {CTL_CMD_LIST(CTL_X_DBG)};
#undef CTL_X_DBG
#define CTL_X_HELP(e, name, dbg, help) [CTL_CMD_##e] = help,
static const char *const cmd_help[CTL_CMD_MAX] = {CTL_CMD_LIST(CTL_X_HELP)};
#undef CTL_X_HELP

#define CTL_X_KEY(e, key, lo, hi, help) [CTL_SO_##e] = key,
static const char *const so_keys[CTL_SO_MAX] = {CTL_SOCKOPT_LIST(CTL_X_KEY)};
#undef CTL_X_KEY
#define CTL_X_HELP(e, key, lo, hi, help) [CTL_SO_##e] = help,
static const char *const so_help[CTL_SO_MAX] = {CTL_SOCKOPT_LIST(CTL_X_HELP)};
#undef CTL_X_HELP
#define CTL_X_LO(e, key, lo, hi, help) [CTL_SO_##e] = lo,
static const int64_t so_min[CTL_SO_MAX] = {CTL_SOCKOPT_LIST(CTL_X_LO)};
#undef CTL_X_LO
#define CTL_X_HI(e, key, lo, hi, help) [CTL_SO_##e] = hi,
static const int64_t so_max[CTL_SO_MAX] = {CTL_SOCKOPT_LIST(CTL_X_HI)};
#undef CTL_X_HI

const char *ctl_cmd_name(enum ctl_cmd cmd)
{
	return (unsigned)cmd < CTL_CMD_MAX ? cmd_names[cmd] : "?";
}

bool ctl_cmd_debug_only(enum ctl_cmd cmd)
{
	return (unsigned)cmd < CTL_CMD_MAX && cmd_debug[cmd];
}

const char *ctl_cmd_help(enum ctl_cmd cmd)
{
	return (unsigned)cmd < CTL_CMD_MAX ? cmd_help[cmd] : "?";
}

const char *ctl_so_key(enum ctl_so so)
{
	return (unsigned)so < CTL_SO_MAX ? so_keys[so] : "?";
}

const char *ctl_so_help(enum ctl_so so)
{
	return (unsigned)so < CTL_SO_MAX ? so_help[so] : "?";
}

const char *ctl_tcp_state_name(uint8_t state)
{
	switch ((enum zp_tcp_state)state) {
	case ZP_TCP_CLOSED:
		return "CLOSED";
	case ZP_TCP_LISTEN:
		return "LISTEN";
	case ZP_TCP_SYN_SENT:
		return "SYN_SENT";
	case ZP_TCP_SYN_RECEIVED:
		return "SYN_RECEIVED";
	case ZP_TCP_ESTABLISHED:
		return "ESTABLISHED";
	case ZP_TCP_FIN_WAIT_1:
		return "FIN_WAIT_1";
	case ZP_TCP_FIN_WAIT_2:
		return "FIN_WAIT_2";
	case ZP_TCP_CLOSE_WAIT:
		return "CLOSE_WAIT";
	case ZP_TCP_CLOSING:
		return "CLOSING";
	case ZP_TCP_LAST_ACK:
		return "LAST_ACK";
	case ZP_TCP_TIME_WAIT:
		return "TIME_WAIT";
	}
	return "?";
}

int ctl_tcp_state_parse(const char *s)
{
	char norm[32];
	size_t i;
	int st;

	for (i = 0; s[i] != '\0' && i < sizeof(norm) - 1; i++)
		norm[i] = s[i] == '-' ? '_' : (char)toupper((unsigned char)s[i]);
	if (s[i] != '\0')
		return -EINVAL;
	norm[i] = '\0';
	for (st = ZP_TCP_CLOSED; st <= ZP_TCP_TIME_WAIT; st++)
		if (strcmp(norm, ctl_tcp_state_name((uint8_t)st)) == 0)
			return st;
	/* ss(8) spellings */
	if (strcmp(norm, "ESTAB") == 0)
		return ZP_TCP_ESTABLISHED;
	if (strcmp(norm, "SYN_RECV") == 0)
		return ZP_TCP_SYN_RECEIVED;
	return -EINVAL;
}

const char *ctl_errno_name(int err)
{
	const char *n = strerrorname_np(err);

	return n != NULL ? n : "E?";
}

const char *ctl_ip_str(rte_be32_t addr, char *buf, size_t len)
{
	struct in_addr a = {.s_addr = addr};

	if (inet_ntop(AF_INET, &a, buf, (socklen_t)len) == NULL)
		snprintf(buf, len, "?");
	return buf;
}

/* ---- small parsers ----------------------------------------------------------------------- */

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (s == NULL || *s == '\0' || *s == '-' || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		v = strtoull(s + 2, &end, 16);
	else
		v = strtoull(s, &end, 10);
	if (end == s || (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && end == s + 2))
		return -EINVAL;
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

int ctl_ports_parse(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[32];
	const char *dash;
	uint64_t a, b;

	if (strcasecmp(s, "all") == 0) {
		*lo = 0;
		*hi = 65535;
		return 0;
	}
	dash = strchr(s, '-');
	if (dash == NULL) {
		if (parse_u64(s, &a) < 0 || a > 65535)
			return -EINVAL;
		*lo = *hi = (uint16_t)a;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (parse_u64(buf, &a) < 0 || parse_u64(dash + 1, &b) < 0 || a > 65535 || b > 65535 ||
	    a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int64_t ctl_sockopt_get_field(const struct dp_sockopt_defaults *d, enum ctl_so so)
{
	switch (so) {
	case CTL_SO_LINGER:
		return d->linger_on ? (int64_t)d->linger_s : -1;
	case CTL_SO_NODELAY:
		return d->nodelay;
	case CTL_SO_KEEPALIVE:
		return d->keepalive;
	case CTL_SO_KEEPIDLE:
		return d->keepidle_s;
	case CTL_SO_KEEPINTVL:
		return d->keepintvl_s;
	case CTL_SO_KEEPCNT:
		return d->keepcnt;
	case CTL_SO_SNDBUF:
		return d->sndbuf;
	case CTL_SO_RCVBUF:
		return d->rcvbuf;
	case CTL_SO_MAX:
		break;
	}
	return 0;
}

static void sockopt_put_field(struct dp_sockopt_defaults *d, enum ctl_so so, int64_t v)
{
	switch (so) {
	case CTL_SO_LINGER:
		d->linger_on = v >= 0;
		d->linger_s = v >= 0 ? (uint32_t)v : 0;
		break;
	case CTL_SO_NODELAY:
		d->nodelay = v != 0;
		break;
	case CTL_SO_KEEPALIVE:
		d->keepalive = v != 0;
		break;
	case CTL_SO_KEEPIDLE:
		d->keepidle_s = (uint32_t)v;
		break;
	case CTL_SO_KEEPINTVL:
		d->keepintvl_s = (uint32_t)v;
		break;
	case CTL_SO_KEEPCNT:
		d->keepcnt = (uint32_t)v;
		break;
	case CTL_SO_SNDBUF:
		d->sndbuf = (uint32_t)v;
		break;
	case CTL_SO_RCVBUF:
		d->rcvbuf = (uint32_t)v;
		break;
	case CTL_SO_MAX:
		break;
	}
}

static int sockopt_find(const char *key, size_t len)
{
	int so;

	for (so = 0; so < CTL_SO_MAX; so++)
		if (strlen(so_keys[so]) == len && strncmp(so_keys[so], key, len) == 0)
			return so;
	return -EINVAL;
}

/* Validate and store one value; linger -1 means off. */
static int sockopt_set_value(struct ctl_sockopt_set *set, enum ctl_so so, int64_t v, char *err,
			     size_t errlen)
{
	if (!(so == CTL_SO_LINGER && v == -1) && (v < so_min[so] || v > so_max[so])) {
		snprintf(err, errlen, "%s=%" PRId64 " out of range %" PRId64 "..%" PRId64 "%s",
			 so_keys[so], v, so_min[so], so_max[so],
			 so == CTL_SO_LINGER ? " (or off)" : "");
		return -EINVAL;
	}
	sockopt_put_field(&set->val, so, v);
	set->mask |= 1u << so;
	return 0;
}

int ctl_sockopt_kv_parse(const char *kv, struct ctl_sockopt_set *set, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	const char *val;
	uint64_t v, mult = 1;
	char num[32];
	size_t n;
	int so;

	if (eq == NULL || eq == kv) {
		snprintf(err, errlen, "expected key=value, got '%s'", kv);
		return -EINVAL;
	}
	so = sockopt_find(kv, (size_t)(eq - kv));
	if (so < 0) {
		snprintf(err, errlen,
			 "unknown socket option '%.*s' (linger nodelay keepalive "
			 "keepidle keepintvl keepcnt sndbuf rcvbuf)",
			 (int)(eq - kv), kv);
		return -EINVAL;
	}
	val = eq + 1;
	if (so == CTL_SO_LINGER && strcasecmp(val, "off") == 0)
		return sockopt_set_value(set, (enum ctl_so)so, -1, err, errlen);
	n = strlen(val);
	if (n > 0 && n < sizeof(num) && (so == CTL_SO_SNDBUF || so == CTL_SO_RCVBUF)) {
		switch (tolower((unsigned char)val[n - 1])) {
		case 'k':
			mult = 1024;
			break;
		case 'm':
			mult = 1024 * 1024;
			break;
		default:
			break;
		}
	}
	if (n == 0 || n >= sizeof(num)) {
		snprintf(err, errlen, "%s: bad value '%s'", so_keys[so], val);
		return -EINVAL;
	}
	memcpy(num, val, n + 1);
	if (mult != 1)
		num[n - 1] = '\0';
	if (parse_u64(num, &v) < 0 || v > (uint64_t)INT64_MAX / mult) {
		snprintf(err, errlen, "%s: bad value '%s'", so_keys[so], val);
		return -EINVAL;
	}
	return sockopt_set_value(set, (enum ctl_so)so, (int64_t)(v * mult), err, errlen);
}

/* ---- requests ---------------------------------------------------------------------------- */

void ctl_req_init(struct ctl_req *req, enum ctl_cmd cmd)
{
	memset(req, 0, sizeof(*req));
	req->cmd = cmd;
	req->state = -1;
	req->port = -1;
	req->so.lo = 0;
	req->so.hi = 65535;
	req->count = 1;
	req->worker = -1;
}

static int req_int(struct json_object *v, const char *key, int64_t lo, int64_t hi, int64_t *out,
		   char *err, size_t errlen)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "'%s' must be an integer", key);
		return -EINVAL;
	}
	errno = 0;
	x = json_object_get_int64(v);
	if (errno != 0 || x < lo || x > hi) {
		snprintf(err, errlen, "'%s' out of range %" PRId64 "..%" PRId64, key, lo, hi);
		return -EINVAL;
	}
	*out = x;
	return 0;
}

static int req_conn_id(struct json_object *v, uint64_t *out, char *err, size_t errlen)
{
	if (json_object_is_type(v, json_type_int)) {
		errno = 0;
		*out = json_object_get_uint64(v);
		if (errno == 0 && json_object_get_int64(v) >= 0)
			return 0;
	} else if (json_object_is_type(v, json_type_string)) {
		if (parse_u64(json_object_get_string(v), out) == 0)
			return 0;
	}
	snprintf(err, errlen, "'id' must be a connection id (decimal or 0x hex)");
	return -EINVAL;
}

static int req_sockopt_obj(struct json_object *set, struct ctl_sockopt_set *so_set, char *err,
			   size_t errlen)
{
	if (!json_object_is_type(set, json_type_object) || json_object_object_length(set) == 0) {
		snprintf(err, errlen, "'set' must be a non-empty object of socket options");
		return -EINVAL;
	}
	json_object_object_foreach(set, key, val)
	{
		int so = sockopt_find(key, strlen(key));
		int64_t v;
		int rc;

		if (so < 0) {
			snprintf(err, errlen, "unknown socket option '%s'", key);
			return -EINVAL;
		}
		if (so == CTL_SO_LINGER && json_object_is_type(val, json_type_string) &&
		    strcasecmp(json_object_get_string(val), "off") == 0) {
			v = -1;
		} else {
			rc = req_int(val, key, so == CTL_SO_LINGER ? -1 : 0, INT64_MAX, &v, err,
				     errlen);
			if (rc < 0)
				return rc;
		}
		rc = sockopt_set_value(so_set, (enum ctl_so)so, v, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* One argument of @p req; -EINVAL for what this command does not take. */
static int req_arg(struct ctl_req *req, const char *key, struct json_object *v, char *err,
		   size_t errlen)
{
	int64_t x = 0;
	int rc;

	switch (req->cmd) {
	case CTL_CMD_NETSTAT:
		if (strcmp(key, "state") == 0) {
			if (!json_object_is_type(v, json_type_string))
				break;
			if (strcasecmp(json_object_get_string(v), "all") == 0) {
				req->state = -1;
				return 0;
			}
			req->state = ctl_tcp_state_parse(json_object_get_string(v));
			if (req->state >= 0)
				return 0;
			snprintf(err, errlen, "unknown TCP state '%s'", json_object_get_string(v));
			return -EINVAL;
		}
		if (strcmp(key, "port") == 0) {
			rc = req_int(v, key, 0, 65535, &x, err, errlen);
			if (rc == 0)
				req->port = (int)x;
			return rc;
		}
		break;
	case CTL_CMD_SOCKOPT_SET:
	case CTL_CMD_SOCKOPT_DEL:
		if (strcmp(key, "ports") == 0) {
			if (json_object_is_type(v, json_type_string) &&
			    ctl_ports_parse(json_object_get_string(v), &req->so.lo, &req->so.hi) ==
				    0)
				return 0;
			snprintf(err, errlen,
				 "'ports' must be \"LO-HI\" with 0 <= LO <= HI <= 65535");
			return -EINVAL;
		}
		if (strcmp(key, "set") == 0 && req->cmd == CTL_CMD_SOCKOPT_SET)
			return req_sockopt_obj(v, &req->so, err, errlen);
		break;
	case CTL_CMD_CONN_DROP:
		if (strcmp(key, "id") == 0)
			return req_conn_id(v, &req->conn_id, err, errlen);
		break;
	case CTL_CMD_DEBUG_CONN_EVENTS:
		if (strcmp(key, "count") == 0) {
			rc = req_int(v, key, 1, 10000000, &x, err, errlen);
			req->count = (uint32_t)x;
			return rc;
		}
		if (strcmp(key, "worker") == 0) {
			rc = req_int(v, key, 0, DP_MAX_WORKERS - 1, &x, err, errlen);
			req->worker = (int)x;
			return rc;
		}
		break;
	case CTL_CMD_STATUS:
	case CTL_CMD_STATS:
	case CTL_CMD_SOCKOPT_SHOW:
	case CTL_CMD_MONITOR:
	case CTL_CMD_DEBUG_NMI_FAIL_ALLOC:
	case CTL_CMD_MAX:
		break;
	}
	snprintf(err, errlen, "%s: unknown or malformed argument '%s'", ctl_cmd_name(req->cmd),
		 key);
	return -EINVAL;
}

int ctl_req_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj, *cmd;
	const char *name;
	size_t end;
	int c, rc = 0;

	err[0] = '\0';
	if (len > CTL_LINE_MAX) {
		snprintf(err, errlen, "request longer than %d bytes", CTL_LINE_MAX);
		return -E2BIG;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	obj = json_tokener_parse_ex(tok, line, (int)len);
	end = json_tokener_get_parse_end(tok);
	if (obj == NULL) {
		snprintf(err, errlen, "not JSON: %s",
			 json_tokener_error_desc(json_tokener_get_error(tok)));
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	for (; end < len; end++) {
		if (!isspace((unsigned char)line[end])) {
			snprintf(err, errlen, "trailing data after the JSON object");
			rc = -EINVAL;
			goto out;
		}
	}
	if (!json_object_is_type(obj, json_type_object)) {
		snprintf(err, errlen, "a request is a JSON object");
		rc = -EINVAL;
		goto out;
	}
	if (!json_object_object_get_ex(obj, "cmd", &cmd) ||
	    !json_object_is_type(cmd, json_type_string)) {
		snprintf(err, errlen, "missing \"cmd\"");
		rc = -EINVAL;
		goto out;
	}
	name = json_object_get_string(cmd);
	for (c = 0; c < CTL_CMD_MAX; c++)
		if (strcmp(name, cmd_names[c]) == 0)
			break;
	if (c == CTL_CMD_MAX) {
		snprintf(err, errlen, "unknown command '%s'", name);
		rc = -EINVAL;
		goto out;
	}
	ctl_req_init(req, (enum ctl_cmd)c);
	{
		bool has_id = false, has_ports = false, has_set = false;

		json_object_object_foreach(obj, key, val)
		{
			if (strcmp(key, "cmd") == 0)
				continue;
			has_id |= strcmp(key, "id") == 0;
			has_ports |= strcmp(key, "ports") == 0;
			has_set |= strcmp(key, "set") == 0;
			rc = req_arg(req, key, val, err, errlen);
			if (rc < 0)
				goto out;
		}
		if (req->cmd == CTL_CMD_CONN_DROP && !has_id) {
			snprintf(err, errlen, "conn-drop needs \"id\"");
			rc = -EINVAL;
		} else if (req->cmd == CTL_CMD_SOCKOPT_SET && !has_set) {
			snprintf(err, errlen, "sockopt-set needs \"set\"");
			rc = -EINVAL;
		} else if (req->cmd == CTL_CMD_SOCKOPT_DEL && !has_ports) {
			snprintf(err, errlen, "sockopt-del needs \"ports\"");
			rc = -EINVAL;
		}
	}
out:
	json_object_put(obj);
	return rc;
}

struct json_object *ctl_req_to_json(const struct ctl_req *req)
{
	struct json_object *o = json_object_new_object();
	char buf[32];
	int so;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "cmd", json_object_new_string(ctl_cmd_name(req->cmd)));
	switch (req->cmd) {
	case CTL_CMD_NETSTAT:
		if (req->state >= 0)
			json_object_object_add(
				o, "state",
				json_object_new_string(ctl_tcp_state_name((uint8_t)req->state)));
		if (req->port >= 0)
			json_object_object_add(o, "port", json_object_new_int(req->port));
		break;
	case CTL_CMD_SOCKOPT_SET:
	case CTL_CMD_SOCKOPT_DEL:
		snprintf(buf, sizeof(buf), "%u-%u", req->so.lo, req->so.hi);
		json_object_object_add(o, "ports", json_object_new_string(buf));
		if (req->cmd == CTL_CMD_SOCKOPT_SET) {
			struct json_object *set = json_object_new_object();

			for (so = 0; so < CTL_SO_MAX; so++)
				if (req->so.mask & (1u << so))
					json_object_object_add(
						set, so_keys[so],
						json_object_new_int64(ctl_sockopt_get_field(
							&req->so.val, (enum ctl_so)so)));
			json_object_object_add(o, "set", set);
		}
		break;
	case CTL_CMD_CONN_DROP:
		json_object_object_add(o, "id", json_object_new_uint64(req->conn_id));
		break;
	case CTL_CMD_DEBUG_CONN_EVENTS:
		json_object_object_add(o, "count", json_object_new_int64(req->count));
		if (req->worker >= 0)
			json_object_object_add(o, "worker", json_object_new_int(req->worker));
		break;
	case CTL_CMD_STATUS:
	case CTL_CMD_STATS:
	case CTL_CMD_SOCKOPT_SHOW:
	case CTL_CMD_MONITOR:
	case CTL_CMD_DEBUG_NMI_FAIL_ALLOC:
	case CTL_CMD_MAX:
		break;
	}
	return o;
}

/* ---- replies ----------------------------------------------------------------------------- */

struct json_object *ctl_reply_ok(const char *cmd)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	return o;
}

struct json_object *ctl_reply_err(const char *cmd, int err, const char *msg)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "errno", json_object_new_int(err));
	json_object_object_add(o, "error", json_object_new_string(ctl_errno_name(err)));
	json_object_object_add(o, "message",
			       json_object_new_string(msg != NULL ? msg : strerror(err)));
	return o;
}

bool ctl_conn_match(const struct dp_conn_view *v, const struct ctl_req *req)
{
	if (req->state >= 0 && v->state != req->state)
		return false;
	if (req->port >= 0 && rte_be_to_cpu_16(v->lport) != req->port &&
	    rte_be_to_cpu_16(v->rport) != req->port)
		return false;
	return true;
}

struct json_object *ctl_json_conn(const struct dp_conn_view *v)
{
	struct json_object *o = json_object_new_object();
	char ip[INET_ADDRSTRLEN], hex[24];
	char transport[sizeof(v->transport) + 1], tls[sizeof(v->tls) + 1];

	if (o == NULL)
		return NULL;
	snprintf(hex, sizeof(hex), "0x%016" PRIx64, v->id);
	snprintf(transport, sizeof(transport), "%.*s", (int)sizeof(v->transport), v->transport);
	snprintf(tls, sizeof(tls), "%.*s", (int)sizeof(v->tls), v->tls);
	json_object_object_add(o, "id", json_object_new_uint64(v->id));
	json_object_object_add(o, "id_hex", json_object_new_string(hex));
	json_object_object_add(o, "worker", json_object_new_int(v->worker));
	json_object_object_add(o, "state", json_object_new_string(ctl_tcp_state_name(v->state)));
	json_object_object_add(o, "laddr",
			       json_object_new_string(ctl_ip_str(v->laddr, ip, sizeof(ip))));
	json_object_object_add(o, "lport", json_object_new_int(rte_be_to_cpu_16(v->lport)));
	json_object_object_add(o, "raddr",
			       json_object_new_string(ctl_ip_str(v->raddr, ip, sizeof(ip))));
	json_object_object_add(o, "rport", json_object_new_int(rte_be_to_cpu_16(v->rport)));
	json_object_object_add(o, "snd_queue", json_object_new_int64(v->snd_queue));
	json_object_object_add(o, "snd_buf", json_object_new_int64(v->snd_buf));
	json_object_object_add(o, "snd_mem", json_object_new_int64(v->snd_mem));
	json_object_object_add(o, "rcv_queue", json_object_new_int64(v->rcv_queue));
	json_object_object_add(o, "rtt_us", json_object_new_int64(v->rtt_us));
	json_object_object_add(o, "cwnd", json_object_new_int64(v->cwnd));
	json_object_object_add(o, "transport",
			       json_object_new_string(transport[0] ? transport : "tcp"));
	json_object_object_add(o, "tls", json_object_new_string(tls[0] ? tls : "-"));
	return o;
}

struct json_object *ctl_json_sockopt(uint16_t lo, uint16_t hi, const struct dp_sockopt_defaults *d)
{
	struct json_object *o = json_object_new_object();
	char buf[16];
	int so;

	if (o == NULL)
		return NULL;
	snprintf(buf, sizeof(buf), "%u-%u", lo, hi);
	json_object_object_add(o, "ports", json_object_new_string(buf));
	json_object_object_add(o, "lo", json_object_new_int(lo));
	json_object_object_add(o, "hi", json_object_new_int(hi));
	for (so = 0; so < CTL_SO_MAX; so++)
		json_object_object_add(
			o, so_keys[so],
			json_object_new_int64(ctl_sockopt_get_field(d, (enum ctl_so)so)));
	return o;
}
