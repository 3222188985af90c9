/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control-plane thread (control/ctl_*.c), started by zp_init() and stopped by zp_fini().
 */
#ifndef ZPATH_CTL_H
#define ZPATH_CTL_H

#include "dp_priv.h"

/**
 * Start the control thread for @p stack with control socket
 * /run/zpath/<instance>.sock (and the monitoring socket beside it).
 * Registers the dataplane hooks (connection events, sockopt defaults) and telemetry.
 * @return 0 or -errno; @p err gets a human-readable reason.
 */
int ctl_start(struct dp_stack *stack, const char *instance, char *err, size_t errlen);
/** Stop the control thread: TERM (planned) to monitoring subscribers, sockets removed. */
void ctl_stop(void);

#endif
