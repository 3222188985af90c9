/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zpath sockets: a POSIX-shaped, non-blocking TCP socket API on a worker's stack instance.
 *
 * Every call acts on the stack of the calling worker (see zp_run()); descriptors are
 * per-worker and never shared between workers. Calls return -1 and set errno exactly as
 * ../shared/spec/close-semantics.md says; zp_close() only ever fails with EBADF.
 *
 * Addresses are `struct sockaddr_in` (AF_INET); option levels and names are the Linux ones
 * (SOL_SOCKET, IPPROTO_TCP, SO_LINGER, TCP_NODELAY, ...), so existing code ports by renaming.
 * Sockets are always non-blocking: a call that would wait fails with EAGAIN, and
 * zp_epoll_wait() is where the worker polls the network.
 *
 * Deviation from POSIX, by design (contract D-9): no call ever raises SIGPIPE; zp_send()
 * behaves as if MSG_NOSIGNAL were always given.
 */
#ifndef ZPATH_ZPATH_SOCKET_H
#define ZPATH_ZPATH_SOCKET_H

#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Create a TCP socket. @p domain AF_INET, @p type SOCK_STREAM (SOCK_NONBLOCK and SOCK_CLOEXEC
 * are accepted and ignored: every zpath socket is non-blocking), @p protocol 0 or IPPROTO_TCP.
 * The control plane's socket-option defaults for new sockets are applied here.
 * @return descriptor >= 0, or -1: EAFNOSUPPORT, EPROTONOSUPPORT/ESOCKTNOSUPPORT, EMFILE,
 *   ENOMEM, EPERM (not called on a worker).
 */
int zp_socket(int domain, int type, int protocol);

/** bind(2). EADDRINUSE per close-semantics §9 (REU-1..5), EADDRNOTAVAIL (not our address),
 *  EINVAL (already bound, bad length), EAFNOSUPPORT, EBADF. */
int zp_bind(int fd, const struct sockaddr *addr, socklen_t len);
/** listen(2). The listener is per worker (REU-6). EINVAL, EADDRINUSE, EBADF, EOPNOTSUPP. */
int zp_listen(int fd, int backlog);
/** accept4(2)-like; @p addr may be NULL. EAGAIN, EINVAL (not listening), ECONNABORTED
 *  (listener shut down, SD-4), EMFILE, EBADF. */
int zp_accept(int fd, struct sockaddr *addr, socklen_t *len);
/** connect(2), always non-blocking: EINPROGRESS, then EALREADY until done; the result is
 *  read with SO_ERROR; EISCONN, ECONNREFUSED, ETIMEDOUT, ENETUNREACH, EADDRNOTAVAIL (4-tuple
 *  in use, REU-4), EINVAL (after a failed connect, D-12), EBADF. */
int zp_connect(int fd, const struct sockaddr *addr, socklen_t len);

/** send(2). Flags: MSG_DONTWAIT (no-op), MSG_NOSIGNAL (implied), MSG_MORE (cork).
 *  EAGAIN, EPIPE, ECONNRESET (first send after a RST, ERR-7), ENOTCONN, EBADF. */
ssize_t zp_send(int fd, const void *buf, size_t len, int flags);
/** recv(2). Flags: MSG_PEEK, MSG_DONTWAIT (no-op). 0 = end of stream.
 *  EAGAIN, ECONNRESET (once, after queued data: F-1), ETIMEDOUT, ENOTCONN, EBADF. */
ssize_t zp_recv(int fd, void *buf, size_t len, int flags);
ssize_t zp_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t zp_readv(int fd, const struct iovec *iov, int iovcnt);

/** shutdown(2): SHUT_RD, SHUT_WR, SHUT_RDWR. EINVAL, ENOTCONN, EBADF (close-semantics §8). */
int zp_shutdown(int fd, int how);
/** close(2): returns 0 at once and closes in the background (table L); never blocks; the
 *  only error is EBADF. Unread data → RST (RST-1); SO_LINGER {1,0} → RST. */
int zp_close(int fd);

int zp_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
/** ENOTCONN when not connected. */
int zp_getpeername(int fd, struct sockaddr *addr, socklen_t *len);

/**
 * setsockopt(2)/getsockopt(2). SOL_SOCKET: SO_LINGER, SO_REUSEADDR, SO_REUSEPORT,
 * SO_KEEPALIVE, SO_RCVBUF, SO_SNDBUF, SO_ERROR (get only; reads and clears, ERR-8).
 * IPPROTO_TCP: TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT,
 * TCP_USER_TIMEOUT, TCP_CONGESTION, ZP_TCP_INFO (get only, struct zp_tcp_info).
 * ENOPROTOOPT, EINVAL (bad length or value, e.g. l_linger < 0), EBADF.
 * Buffers: the send buffer is autotuned (2 x cwnd) up to SO_SNDBUF unless the application
 * sets SO_SNDBUF, which then is the limit (not doubled as Linux does); the offered window is
 * autotuned up to SO_RCVBUF. getsockopt returns the cap (the value set, or the default);
 * the current limits are in ZP_TCP_INFO (snd_buf, rcv_wnd).
 */
int zp_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int zp_getsockopt(int fd, int level, int name, void *val, socklen_t *len);

/** Option name (level IPPROTO_TCP) for zp_getsockopt() filling struct zp_tcp_info. */
#define ZP_TCP_INFO 0x5a01

/** TCP states, RFC 9293 order (the values zp_tcp_info.state takes). */
enum zp_tcp_state {
	ZP_TCP_CLOSED = 0,
	ZP_TCP_LISTEN,
	ZP_TCP_SYN_SENT,
	ZP_TCP_SYN_RECEIVED,
	ZP_TCP_ESTABLISHED,
	ZP_TCP_FIN_WAIT_1,
	ZP_TCP_FIN_WAIT_2,
	ZP_TCP_CLOSE_WAIT,
	ZP_TCP_CLOSING,
	ZP_TCP_LAST_ACK,
	ZP_TCP_TIME_WAIT,
};

/** TCP_INFO-shaped connection state. Times in microseconds. */
struct zp_tcp_info {
	uint8_t state;          /**< enum zp_tcp_state */
	uint8_t snd_wscale;
	uint8_t rcv_wscale;
	uint8_t options;        /**< bit 0 timestamps, bit 1 SACK, bit 2 window scale */
	uint32_t rto_us;
	uint32_t rtt_us;        /**< smoothed RTT */
	uint32_t rttvar_us;
	uint32_t snd_mss;
	uint32_t rcv_mss;
	uint32_t snd_cwnd;      /**< bytes */
	uint32_t snd_ssthresh;  /**< bytes */
	uint32_t snd_wnd;       /**< peer's advertised window, bytes */
	uint32_t rcv_wnd;       /**< our advertised window, bytes */
	uint32_t unacked;       /**< bytes in flight */
	uint32_t retransmits;   /**< consecutive retransmissions of the oldest segment */
	uint64_t total_retrans; /**< segments retransmitted over the life of the connection */
	uint64_t bytes_sent;
	uint64_t bytes_acked;
	uint64_t bytes_received;
	uint32_t snd_queue;     /**< bytes queued, not yet acked */
	uint32_t rcv_queue;     /**< bytes received, not yet read */
	char congestion[16];    /**< congestion control name */
	uint32_t snd_buf;       /**< send-buffer limit now (autotuned up to SO_SNDBUF), bytes */
	uint32_t snd_mem;       /**< bytes of send buffer allocated */
};

/* ---- epoll ------------------------------------------------------------------------------ */

/** epoll_create1(2): a per-worker event set. EMFILE, ENOMEM, EPERM (off a worker). */
int zp_epoll_create(void);
/** epoll_ctl(2): EPOLL_CTL_ADD/MOD/DEL; events EPOLLIN, EPOLLOUT, EPOLLRDHUP, EPOLLET,
 *  EPOLLONESHOT; EPOLLERR/EPOLLHUP are always reported (POLL-2). EEXIST, ENOENT, EBADF,
 *  EINVAL. */
int zp_epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev);
/**
 * epoll_wait(2) that drives the poll loop: RX, input, timers, TX flush, then ready events,
 * repeated until an event is ready, @p timeout_ms passes (0 = one pass, -1 = until an event
 * or zp_stop()). Returns the number of events, 0 on timeout or after zp_stop().
 */
int zp_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);
/** Close an epoll descriptor with zp_close(). */

/* ---- zero-copy receive -------------------------------------------------------------------- */

/** A view of received bytes inside a packet buffer; valid until zp_zc_release(). */
struct zp_zc_view {
	const void *data;
	uint32_t len;
	void *token; /**< opaque: the buffer holding the bytes */
};

/**
 * Take up to @p max views of in-order received data without copying. The bytes count as read
 * (the receive window reopens when they are released). Same errno/EOF rules as zp_recv().
 * @return number of views (>0), 0 at end of stream, or -1.
 */
int zp_zc_recv(int fd, struct zp_zc_view *views, int max);
/** Give views back to the stack. */
void zp_zc_release(struct zp_zc_view *views, int n);

#ifdef __cplusplus
}
#endif
#endif
