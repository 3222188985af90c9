/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The one seam between the socket layer and what carries the bytes (architecture.md): TCP
 * implements it, SMC-D implements it, the AT-TLS filter implements it on top of another
 * implementation. The socket layer never asks which one it holds.
 *
 * Every function runs on the worker that owns the descriptor and returns what the public
 * call should report: a count, or a negative errno from close-semantics.md.
 */
#ifndef ZPATH_SOCK_STREAM_H
#define ZPATH_SOCK_STREAM_H

#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "zpath/zpath_socket.h"

struct zp_stream_ops {
	const char *name; /**< "tcp", "smcd", "tls" */
	ssize_t (*send)(void *t, const struct iovec *iov, int iovcnt, int flags);
	ssize_t (*recv)(void *t, const struct iovec *iov, int iovcnt, int flags);
	int (*zc_recv)(void *t, struct zp_zc_view *views, int max);
	int (*shutdown)(void *t, int how);
	/** The application let go: close in the background (table L). Never fails. */
	void (*close)(void *t);
	/** Abortive close (RST where RST-3 says so). */
	void (*abort)(void *t);
	/** EPOLL* readiness per table P. */
	uint32_t (*events)(const void *t);
};

/** The TCP implementation (dataplane/tcp through dataplane/sock). */
extern const struct zp_stream_ops sock_tcp_stream_ops;

#endif
