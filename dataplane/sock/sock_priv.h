/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Socket layer internals: the per-worker descriptor table, sockets and epoll sets.
 * Descriptors are per worker (zpath_socket.h); nothing here is shared between threads.
 */
#ifndef ZPATH_SOCK_PRIV_H
#define ZPATH_SOCK_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "dp_priv.h"
#include "sock_stream.h"
#include "tcp/tcp.h"

#define SOCK_FDS_INIT 256u
#define SOCK_FDS_MAX 65536u

enum sock_kind {
	SOCK_KIND_FREE = 0,
	SOCK_KIND_TCP,
	SOCK_KIND_EPOLL,
};

struct sock_epoll;

/** One (epoll set, socket) registration. */
struct sock_epitem {
	TAILQ_ENTRY(sock_epitem) ep_link;    /**< sock_epoll.items */
	TAILQ_ENTRY(sock_epitem) ready_link; /**< sock_epoll.ready */
	TAILQ_ENTRY(sock_epitem) sock_link;  /**< zsock.watchers */
	struct sock_epoll *ep;
	struct zsock *s;
	int fd;
	uint32_t events;
	epoll_data_t data;
	bool on_ready;
	bool disarmed; /**< EPOLLONESHOT fired; re-armed by EPOLL_CTL_MOD */
};

/* Options an application set explicitly: control-plane defaults never override them. */
#define SOCK_OPT_LINGER 0x01u
#define SOCK_OPT_NODELAY 0x02u
#define SOCK_OPT_KEEPALIVE 0x04u
#define SOCK_OPT_KEEPIDLE 0x08u
#define SOCK_OPT_KEEPINTVL 0x10u
#define SOCK_OPT_KEEPCNT 0x20u
#define SOCK_OPT_SNDBUF 0x40u
#define SOCK_OPT_RCVBUF 0x80u

struct zsock {
	int fd;
	struct dp_worker *w;
	const struct zp_stream_ops *ops;
	void *t;              /**< the transport behind ops */
	struct tcp_conn *tc;  /**< the TCP connection (bind/listen/connect/options) */
	uint32_t opts_set;    /**< SOCK_OPT_* set by the application */
	TAILQ_HEAD(, sock_epitem) watchers;
};

struct sock_epoll {
	int fd;
	TAILQ_HEAD(, sock_epitem) items;
	TAILQ_HEAD(, sock_epitem) ready;
};

struct sock_file {
	enum sock_kind kind;
	union {
		struct zsock *s;
		struct sock_epoll *ep;
	};
};

struct sock_worker {
	struct dp_worker *w;
	struct sock_file *files;
	unsigned nfiles;
	unsigned used;
};

static inline struct sock_worker *sock__worker(struct dp_worker *w)
{
	return (struct sock_worker *)w->sock;
}

/* sock.c */
int sock__fd_alloc(struct sock_worker *sw, enum sock_kind kind, void *p);
void sock__fd_free(struct sock_worker *sw, int fd);
struct sock_file *sock__file(struct sock_worker *sw, int fd);
void sock__upcall(void *arg);

/* sock_epoll.c */
void sock__epoll_sock_closed(struct zsock *s);
void sock__epoll_free(struct sock_epoll *ep);

#endif
