/* SPDX-License-Identifier: BSD-3-Clause */
/* Placeholder: every flow belongs to worker 0 until software steering lands. */
#include "dp_priv.h"

uint16_t dp_steer_worker(const struct dp_stack *s, const struct rte_mbuf *m)
{
	(void)s;
	(void)m;
	return 0;
}
