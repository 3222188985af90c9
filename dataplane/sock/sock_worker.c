/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder until the socket layer and TCP engine land (they hook in here). */
#include <errno.h>

#include "dp_priv.h"

int dp_sock_worker_init(struct dp_worker *w)
{
	(void)w;
	return 0;
}

void dp_sock_worker_fini(struct dp_worker *w)
{
	(void)w;
}

unsigned dp_conn_dump(struct dp_worker *w, struct dp_conn_view *out, unsigned max)
{
	(void)w;
	(void)out;
	(void)max;
	return 0;
}

int dp_conn_drop(struct dp_worker *w, uint64_t id)
{
	(void)w;
	(void)id;
	return -ENOENT;
}
