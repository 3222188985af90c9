/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registered seams to the layers above (control/). Set once before the workers start and
 * only read afterwards, so plain pointers suffice.
 */
#include <string.h>

#include "dp_priv.h"

static dp_conn_event_fn conn_event_sink;
static dp_sockopt_defaults_fn sockopt_defaults;

void dp_conn_event_register(dp_conn_event_fn fn)
{
	conn_event_sink = fn;
}

void dp_conn_event_emit(struct dp_worker *w, const struct dp_conn_event *ev)
{
	if (conn_event_sink != NULL)
		conn_event_sink(w, ev);
}

void dp_sockopt_defaults_register(dp_sockopt_defaults_fn fn)
{
	sockopt_defaults = fn;
}

void dp_sockopt_defaults_get(struct dp_worker *w, rte_be16_t lport,
			     struct dp_sockopt_defaults *out)
{
	memset(out, 0, sizeof(*out));
	if (sockopt_defaults != NULL)
		sockopt_defaults(w, lport, out);
}
