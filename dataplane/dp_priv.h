/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Dataplane internals shared by dataplane/ and the layers above it (control/, smcd/, tls/).
 *
 * Ownership: a `struct dp_worker` belongs to one lcore; every dataplane function takes it
 * first and nothing below the worker loop calls rte_lcore_id(). `struct dp_stack` is built
 * by zp_init() before the workers start and is read-only afterwards (shared by all workers).
 *
 * Conventions:
 *  - IPv4 addresses are kept in network byte order (rte_be32_t) everywhere.
 *  - Internal int functions return 0 or a negative errno.
 *  - Time is `w->now_ns`, set by the loop from dp_clock_ns() or by a test (virtual clock).
 *  - A function that takes an mbuf takes ownership of it, whatever it returns.
 */
#ifndef ZPATH_DP_PRIV_H
#define ZPATH_DP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dp_counters.h"

#define DP_MAX_PORTS 8
#define DP_MAX_WORKERS 64
#define DP_MAX_ROUTES 64
#define DP_TX_BURST 32
#define DP_RX_BURST 32
#define DP_ARP_SLOTS 256
#define DP_ARP_PENDING_DEFAULT 256 /* packets queued per unresolved address (arp_pending) */
#define DP_ARP_PENDING_MAX 4096    /* largest arp_pending accepted */
#define DP_LINK_TIMEOUT_DEFAULT_MS 3000 /* [portN] link_timeout_ms: start-up wait for link */

struct dp_worker;

/* ------------------------------------------------------------------------------------------ */
/* Process-wide configuration, immutable once the workers run.                                 */

/** One direction of fault injection on a port (dataplane/port/dp_fault.h). */
struct dp_fault_dir {
	uint64_t drop, dup, reorder, corrupt; /**< probability * 2^32 (2^32 = every packet) */
	uint64_t delay_ns, jitter_ns;
};

/** Fault injection of a port; `on` = the worker loop wraps it (dataplane/port/fault.c). */
struct dp_fault_conf {
	bool on;
	uint64_t seed;
	struct dp_fault_dir rx, tx;
};

/** One configured port (an rte_ethdev) with its address and what the hardware offers. */
struct dp_iface {
	uint16_t port_id;          /**< rte_ethdev port id */
	char name[64];             /**< ethdev name (net_tap0, 0000:01:00.0, ...) */
	struct rte_ether_addr mac; /**< our MAC on this port */
	rte_be32_t addr;           /**< our IPv4 address */
	uint8_t prefix_len;        /**< on-link prefix length */
	rte_be32_t netmask;        /**< derived from prefix_len */
	uint16_t mtu;              /**< IP MTU */
	uint16_t nb_queues;        /**< RX and TX queues: one per worker */
	bool rss;                  /**< hardware spreads flows over the RX queues */
	bool tx_ip_cksum;          /**< RTE_ETH_TX_OFFLOAD_IPV4_CKSUM enabled */
	bool tx_tcp_cksum;         /**< RTE_ETH_TX_OFFLOAD_TCP_CKSUM enabled */
	bool rx_ip_cksum;          /**< RTE_ETH_RX_OFFLOAD_IPV4_CKSUM enabled: IP flags are meaningful */
	bool rx_l4_cksum;          /**< RTE_ETH_RX_OFFLOAD_TCP_CKSUM enabled: L4 flags are meaningful */
	uint16_t nb_rx_queues;     /**< RX queues: nb_queues, fewer if the device has fewer */
	uint16_t reta_size;        /**< RSS RETA size; entry i = queue i % nb_rx_queues */
	struct dp_fault_conf fault; /**< fault injection (zpath.ini fault_rx / fault_tx) */
	uint32_t link_timeout_ms;   /**< start-up wait for link up ([portN] link_timeout_ms) */
	bool guard;                 /**< bursts run under the fault guard (port/dp_guard.h) */
};

/** A static route. The on-link route of each interface is added automatically. */
struct dp_route {
	rte_be32_t net;     /**< destination network */
	rte_be32_t mask;    /**< netmask */
	uint8_t prefix_len; /**< for longest-prefix match */
	rte_be32_t gateway; /**< 0 = on-link */
	uint16_t iface;     /**< index into dp_stack.ifaces */
};

/** What a worker does after idle_after consecutive empty passes ([stack] idle). */
enum dp_idle_policy {
	DP_IDLE_POLL = 0, /**< keep busy-polling (the default) */
	DP_IDLE_YIELD,    /**< sched_yield() on every further empty pass */
	DP_IDLE_SLEEP,    /**< sleep, 1 us doubling up to idle_sleep_max_us, never past a timer */
};
#define DP_IDLE_AFTER_DEFAULT	  8    /* empty passes before the policy acts */
#define DP_IDLE_SLEEP_MAX_DEFAULT 250  /* us */
#define DP_IDLE_SLEEP_MAX_LIMIT	  100000 /* us: largest idle_sleep_max_us accepted */

/** Tunables read from zpath.ini [stack]. */
struct dp_tunables {
	uint32_t arp_timeout_ms;     /**< ARP cache entry lifetime (default 300 000) */
	uint32_t arp_retry_ms;       /**< ARP request retry interval (default 1000) */
	uint32_t arp_retries;        /**< requests before giving up (default 3) */
	uint32_t arp_pending;        /**< packets queued per unresolved address (0 = 256) */
	uint32_t tcp_msl_ms;         /**< TCP MSL; TIME_WAIT = 2*MSL (default 30 000) */
	uint32_t tcp_fin_timeout_ms; /**< orphaned FIN_WAIT_2 lifetime (default 60 000) */
	bool tcp_rfc1337_off;        /**< true = honour RST in TIME_WAIT like Linux default */
	uint8_t tcp_cc;              /**< default congestion control (enum tcp_cc_algo; 0 cubic) */
	uint32_t tcp_sndbuf;         /**< default SO_SNDBUF: cap of send autotuning (0 = 256 KiB) */
	bool tcp_rack_off;           /**< [stack] tcp_recovery = rfc6675: DupThresh, no RACK-TLP */
	uint8_t idle;                /**< enum dp_idle_policy (default poll) */
	uint32_t idle_after;         /**< empty passes before the idle policy acts */
	uint32_t idle_sleep_max_us;  /**< idle = sleep: longest single sleep */
};

/** The whole stack as zp_init() configured it. One per process; read-only after start. */
struct dp_stack {
	uint16_t nb_ifaces;
	struct dp_iface ifaces[DP_MAX_PORTS];
	uint16_t nb_routes;
	struct dp_route routes[DP_MAX_ROUTES]; /**< sorted by prefix_len, longest first */
	uint16_t nb_workers;
	struct dp_worker *workers[DP_MAX_WORKERS];
	struct dp_tunables tun;
};

/* ------------------------------------------------------------------------------------------ */
/* Timers: a hashed wheel per worker driven by w->now_ns (so tests use a virtual clock).       */

struct dp_timer;
typedef void (*dp_timer_fn)(struct dp_worker *w, struct dp_timer *t);

/** An intrusive timer; embed it in the object it belongs to. */
struct dp_timer {
	struct dp_timer *next;
	struct dp_timer **pprev; /**< NULL when not armed */
	uint64_t expire_ns;
	dp_timer_fn fn;
};

#define DP_TIMER_TICK_NS 1000000ULL /* 1 ms */
#define DP_TIMER_SLOTS 4096         /* power of two */

struct dp_timer_wheel {
	uint64_t last_tick;             /**< ticks up to this one have been processed */
	uint32_t nb_armed;
	struct dp_timer *slot[DP_TIMER_SLOTS];
};

/** Prepare a timer; it starts disarmed. */
void dp_timer_init(struct dp_timer *t, dp_timer_fn fn);
/** Arm (or re-arm) @p t to fire at @p expire_ns (absolute, w->now_ns timebase). */
void dp_timer_arm(struct dp_worker *w, struct dp_timer *t, uint64_t expire_ns);
/** Disarm @p t; harmless if it is not armed. */
void dp_timer_cancel(struct dp_worker *w, struct dp_timer *t);
static inline bool dp_timer_armed(const struct dp_timer *t)
{
	return t->pprev != NULL;
}
/** Fire every timer whose expiry is <= w->now_ns. Returns how many fired. */
unsigned dp_timer_run(struct dp_worker *w);
/**
 * When dp_timer_run() will next fire a timer, looking no further than @p until_ns: the start of
 * the first tick whose slot holds a timer due by then, or UINT64_MAX if none fires up to
 * @p until_ns. Costs one slot visit per tick up to @p until_ns (the idle policy, not the loop).
 */
uint64_t dp_timer_next_ns(const struct dp_worker *w, uint64_t until_ns);

/* ------------------------------------------------------------------------------------------ */
/* ARP cache (per worker).                                                                     */

enum dp_arp_state {
	DP_ARP_FREE = 0,
	DP_ARP_INCOMPLETE, /**< request sent, packets may be pending */
	DP_ARP_REACHABLE,  /**< MAC known until expire_ns */
	DP_ARP_PROBE,      /**< lifetime over while in use: MAC still used, being re-validated */
};

struct dp_arp_entry {
	rte_be32_t ip;
	uint16_t iface;
	enum dp_arp_state state;
	struct rte_ether_addr mac;
	bool used;                 /**< REACHABLE: sent through since the peer was last heard */
	uint8_t retries;           /**< requests sent so far while INCOMPLETE or PROBE */
	uint64_t expire_ns;        /**< REACHABLE: lifetime; INCOMPLETE, PROBE: next request */
	uint16_t nb_pending;       /**< INCOMPLETE: packets waiting in pending[] */
	uint16_t pending_cap;      /**< slots allocated in pending[] (grows up to arp_pending) */
	struct rte_mbuf **pending; /**< IPv4 packets without Ethernet header (malloc, or NULL) */
};

struct dp_arp_table {
	struct dp_arp_entry e[DP_ARP_SLOTS]; /**< open addressing, linear probe on ip */
	uint32_t used;
	uint64_t next_sweep_ns;
};

/* ------------------------------------------------------------------------------------------ */
/* Echo replies counted per identifier for zp_ping_replies() (per worker, dataplane/net).      */

#define DP_PING_IDENTS 8

struct dp_ping_table {
	uint16_t ident[DP_PING_IDENTS];   /**< identifiers zp_ping_send() used */
	uint64_t replies[DP_PING_IDENTS]; /**< echo replies received per identifier */
	uint8_t nb;                       /**< slots in use */
	uint8_t next;                     /**< slot to recycle when all are in use */
};

/* ------------------------------------------------------------------------------------------ */
/* Control messages: the only way another thread asks a worker to do something.               */

typedef void (*dp_msg_fn)(struct dp_worker *w, void *arg);
struct dp_msg {
	dp_msg_fn fn;
	void *arg;
};

/* ------------------------------------------------------------------------------------------ */
/* L4 input hooks, registered before the workers start.                                        */

/**
 * Handler for an IPv4 protocol. On entry the mbuf's data starts at the L4 header,
 * m->l2_len/l3_len are set, and the IPv4 header is at dp_mbuf_ip(m). Takes ownership.
 */
typedef void (*dp_l4_input_fn)(struct dp_worker *w, struct rte_mbuf *m);
/** Register @p fn for IPv4 protocol @p proto (IPPROTO_TCP ...). Call before workers start. */
void dp_l4_register(uint8_t proto, dp_l4_input_fn fn);

/** Called once per pass of the poll loop, before the TX flush (dataplane/tcp: output held
 * back by a full TX buffer, ACKs batched over the pass's RX bursts). */
typedef void (*dp_poll_fn)(struct dp_worker *w);
/** Register the poll-loop hook (one, idempotent). Call before workers start. */
void dp_poll_register(dp_poll_fn fn);

static inline struct rte_ipv4_hdr *dp_mbuf_ip(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, -(int)m->l3_len);
}

/* ------------------------------------------------------------------------------------------ */
/* The worker.                                                                                 */

struct dp_rxq {
	uint16_t iface; /**< index into dp_stack.ifaces */
	uint16_t queue;
};

struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[DP_TX_BURST];
};

/** Random source: returns 64 random bits. Injected so tests are deterministic. */
typedef uint64_t (*dp_rand_fn)(struct dp_worker *w);

struct dp_worker {
	/* Read-mostly, first cache line. */
	uint16_t id;                  /**< 0 .. nb_workers-1; also its TX queue on every port */
	unsigned lcore;               /**< lcore it runs on (informational) */
	const struct dp_stack *stack; /**< process configuration */
	struct rte_mempool *pool;     /**< this worker's mbuf pool */
	struct rte_ring *steer_ring;  /**< mbufs steered here by other workers (MP/SC) */
	struct rte_ring *msg_ring;    /**< struct dp_msg elements (MP/SC) */
	dp_rand_fn rand;
	uint64_t rand_state;
	bool virt_clock;              /**< tests: the loop leaves now_ns alone */
	bool in_poll;                 /**< inside dp_worker_poll(): its end-of-pass hook will run */
	uint16_t nb_rxq;
	struct dp_rxq rxq[DP_MAX_PORTS];

	/* Hot, written every loop. */
	uint64_t now_ns __rte_cache_aligned;
	uint64_t loops;
	uint32_t idle_passes;         /**< consecutive empty passes (the idle policy) */
	bool idle_slack_set;          /**< idle = sleep: this thread's timer slack is lowered */
	struct dp_txbuf tx[DP_MAX_PORTS];
	struct dp_timer_wheel timers;
	struct dp_arp_table arp;
	uint16_t ip_id;               /**< next IPv4 identification (dataplane/net) */
	struct dp_ping_table ping;    /**< zp_ping_send() bookkeeping (dataplane/net) */

	/* Upper layers hang their per-worker state here (dataplane/tcp, sock, smcd, tls). */
	void *tcp;
	void *sock;
	void *ext[4];
	void *fault;                  /**< fault-injection state (dataplane/port/fault.c) */

	/* Single-writer counters, read by telemetry without locks. */
	uint64_t drops[DP_DROP_MAX] __rte_cache_aligned;
	uint64_t stats[DP_STAT_MAX];
} __rte_cache_aligned;

static inline void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop why)
{
	w->drops[why]++;
	rte_pktmbuf_free(m);
}

static inline void dp_stat_add(struct dp_worker *w, enum dp_stat s, uint64_t n)
{
	w->stats[s] += n;
}

/** Monotonic nanoseconds from the TSC. */
uint64_t dp_clock_ns(void);

/**
 * Initialise @p w for worker @p id: pools, rings, timers, ARP. @p pool may be shared only in
 * tests. Returns 0 or -errno.
 */
int dp_worker_init(struct dp_worker *w, const struct dp_stack *stack, uint16_t id,
		   struct rte_mempool *pool);
/** Free what dp_worker_init() created (rings; pending ARP packets). */
void dp_worker_fini(struct dp_worker *w);

/**
 * One pass of the poll loop (l3fwd's shape): RX burst on every queue, input, steered
 * packets, timers, control messages, TX flush. Returns the number of packets received.
 */
unsigned dp_worker_poll(struct dp_worker *w);

/**
 * The idle policy's sleep (idle = sleep), a pure function: how many microseconds a worker may
 * sleep after its @p empty -th consecutive empty pass, at @p now_ns, when it must be awake
 * again by @p deadline_ns (the next timer). 0 before idle_after empty passes, and when less
 * than 1 us is left; otherwise 1 us doubling with every further empty pass, capped at
 * idle_sleep_max_us and at the deadline.
 */
uint32_t dp_idle_sleep_us(const struct dp_tunables *t, uint32_t empty, uint64_t now_ns,
			  uint64_t deadline_ns);

/** Post a message to @p w from any thread. Returns 0 or -ENOBUFS (ring full). */
int dp_worker_post(struct dp_worker *w, dp_msg_fn fn, void *arg);

/** The worker the calling thread runs (set by zp_run()); NULL on other threads. */
struct dp_worker *dp_worker_self(void);
void dp_worker_set_self(struct dp_worker *w);

/* ------------------------------------------------------------------------------------------ */
/* L2/L3 (dataplane/net).                                                                      */

/** Process received frames from interface @p iface. Takes ownership of all. */
void dp_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf **pkts, uint16_t n);
/** Ethernet input of one frame (already classified as ours to handle). */
void dp_eth_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m);
void dp_arp_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m);
void dp_ipv4_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m);
void dp_icmp_input(struct dp_worker *w, struct rte_mbuf *m);

/**
 * Handler for ICMP errors (destination unreachable, time exceeded) about a datagram we sent.
 * @p inner is the quoted IPv4 header, @p inner_l4 the quoted transport header and
 * @p inner_len the number of quoted bytes from @p inner_l4 on (at least 8, RFC 792).
 * Runs on the worker; the pointers are valid only during the call.
 */
typedef void (*dp_icmp_error_fn)(struct dp_worker *w, uint8_t type, uint8_t code,
				 const struct rte_ipv4_hdr *inner, const void *inner_l4,
				 size_t inner_len);
/** Register the ICMP error hook (dataplane/tcp). Call before workers start. */
void dp_icmp_error_register(dp_icmp_error_fn fn);

/**
 * Send an L4 payload over IPv4. On entry @p m's data starts at the L4 header and has
 * headroom for IPv4 + Ethernet. A TCP/UDP checksum field must be zero: this function
 * completes it (hardware offload when the egress port has it, software otherwise).
 * @p src 0 = the egress interface's address. Takes ownership of @p m.
 * @return 0 (sent or queued for ARP) or -EHOSTUNREACH (no route; counted NO_ROUTE).
 *   Also -EMSGSIZE (larger than the egress MTU; counted IP_MTU) and -ENOBUFS (no headroom;
 *   counted NOMEM).
 */
int dp_ipv4_output(struct dp_worker *w, struct rte_mbuf *m, rte_be32_t src, rte_be32_t dst,
		   uint8_t proto);

/** Route lookup: sets *iface and *nexthop. Returns 0 or -EHOSTUNREACH. */
int dp_route_lookup(const struct dp_stack *s, rte_be32_t dst, uint16_t *iface,
		    rte_be32_t *nexthop);
/** True if @p addr is one of our interface addresses. */
bool dp_addr_is_local(const struct dp_stack *s, rte_be32_t addr);

/** Prepend an Ethernet header and queue @p m for TX on @p iface. Takes ownership. */
void dp_eth_output(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m,
		   const struct rte_ether_addr *dst, uint16_t ether_type);

/** Resolve @p nexthop on @p iface and send the IPv4 packet @p m (no L2 header yet). */
void dp_arp_output(struct dp_worker *w, uint16_t iface, rte_be32_t nexthop,
		   struct rte_mbuf *m);
/** Send a gratuitous ARP for each interface (at start). */
void dp_arp_announce(struct dp_worker *w);
/** Expire entries (re-validating those in use), retry/abandon incomplete resolutions and
 *  re-validations; called from the loop. */
void dp_arp_timer(struct dp_worker *w);
/** Look up an entry whose MAC is in use: REACHABLE within its lifetime, or being
 *  re-validated (PROBE). For tests and zpathctl. NULL if none. */
const struct dp_arp_entry *dp_arp_lookup(const struct dp_worker *w, rte_be32_t ip);
/** Learn / refresh a mapping (also used when another worker shares what it learnt). */
void dp_arp_update(struct dp_worker *w, uint16_t iface, rte_be32_t ip,
		   const struct rte_ether_addr *mac);
void dp_arp_init(struct dp_worker *w);
void dp_arp_fini(struct dp_worker *w);

/** Queue @p m on the TX buffer of @p iface (queue = worker id). When the buffer is full it is
 *  flushed first; if the port still takes nothing, @p m is dropped and counted TX_FULL. */
void dp_tx_enqueue(struct dp_worker *w, uint16_t iface, struct rte_mbuf *m);
/** Hand every TX buffer to its port; what a port refuses stays queued for the next flush. */
void dp_tx_flush(struct dp_worker *w);
/** dp_tx_flush() for one interface. */
void dp_tx_flush_iface(struct dp_worker *w, uint16_t iface);

/* ------------------------------------------------------------------------------------------ */
/* Software steering (ports without RSS): which worker owns a flow.                            */

/**
 * The worker that owns the IPv4 flow in @p m (data at the Ethernet header). TCP/UDP use the
 * 4-tuple hash; everything else belongs to worker 0. Must agree with dp_flow_worker().
 */
uint16_t dp_steer_worker(const struct dp_stack *s, const struct rte_mbuf *m);
/** Owner of a flow given its tuple in network order (as seen on receive). */
uint16_t dp_flow_worker(const struct dp_stack *s, rte_be32_t saddr, rte_be32_t daddr,
			rte_be16_t sport, rte_be16_t dport);

/* ------------------------------------------------------------------------------------------ */
/* Seams to the layers above. Upper layers register functions; dataplane never includes them.   */

/** Per-worker setup of the socket layer and TCP engine (dataplane/sock). zp_init() calls these
 *  for every worker after dp_worker_init(); tests call them after zpt_env_new(). */
int dp_sock_worker_init(struct dp_worker *w);
void dp_sock_worker_fini(struct dp_worker *w);

/** One connection as the control plane shows it (zpathctl netstat, telemetry, NMI). */
struct dp_conn_view {
	uint64_t id;         /**< unique in the process: (worker << 48) | sequence */
	uint16_t worker;
	uint8_t state;       /**< enum zp_tcp_state */
	rte_be32_t laddr, raddr;
	rte_be16_t lport, rport;
	uint32_t snd_queue;  /**< bytes queued, not acked */
	uint32_t snd_buf;    /**< send-buffer limit now (autotuned up to SO_SNDBUF) */
	uint32_t snd_mem;    /**< bytes of send buffer allocated */
	uint32_t rcv_queue;  /**< bytes received, not read */
	uint32_t rtt_us;
	uint32_t cwnd;       /**< bytes */
	char transport[8];   /**< "tcp" or "smcd" */
	char tls[16];        /**< "-" or the TLS version in use */
};

/** Fill up to @p max views of the calling worker's connections; returns the count written.
 *  Runs on the worker (the control thread posts a message to call it). (dataplane/sock) */
unsigned dp_conn_dump(struct dp_worker *w, struct dp_conn_view *out, unsigned max);
/** Abort connection @p id (RST) if it lives on @p w. 0 or -ENOENT. (dataplane/sock) */
int dp_conn_drop(struct dp_worker *w, uint64_t id);

enum dp_conn_event_type {
	DP_CONN_OPEN,  /**< reached ESTABLISHED */
	DP_CONN_CLOSE, /**< connection deleted */
};

/** How a connection ended (for CONN_CLOSE). */
enum dp_conn_close_how {
	DP_CLOSE_NORMAL,   /**< FIN both ways */
	DP_CLOSE_RESET_IN, /**< peer sent RST */
	DP_CLOSE_RESET_OUT,/**< we sent RST (abort, linger 0, unread data) */
	DP_CLOSE_TIMEOUT,  /**< retransmission, keepalive or FIN_WAIT_2 timeout */
	DP_CLOSE_REFUSED,  /**< connect refused */
};

struct dp_conn_event {
	enum dp_conn_event_type type;
	struct dp_conn_view view;
	uint64_t bytes_in, bytes_out;
	uint64_t duration_ns;
	enum dp_conn_close_how how;
	int app_errno;   /**< errno delivered to the application (0 = clean EOF) */
};

/** Called on the worker for every connection open/close; must not block (enqueue only). */
typedef void (*dp_conn_event_fn)(struct dp_worker *w, const struct dp_conn_event *ev);
/** Register the connection event sink (control/). Call before workers start. */
void dp_conn_event_register(dp_conn_event_fn fn);
/** Deliver @p ev to the registered sink, if any. (Called by dataplane/sock and tcp.) */
void dp_conn_event_emit(struct dp_worker *w, const struct dp_conn_event *ev);

/** Socket-option defaults for new sockets, owned by the control plane (zpathctl sockopt). */
struct dp_sockopt_defaults {
	bool linger_on;
	uint32_t linger_s;
	bool nodelay;
	bool keepalive;
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	uint32_t sndbuf, rcvbuf; /**< bytes; 0 = stack default */
};

/** Fill @p out with the defaults for local port @p lport (0 = not bound yet). Must be
 *  lock-free: the control plane serves it from an RCU snapshot. */
typedef void (*dp_sockopt_defaults_fn)(struct dp_worker *w, rte_be16_t lport,
				       struct dp_sockopt_defaults *out);
void dp_sockopt_defaults_register(dp_sockopt_defaults_fn fn);
/** The registered defaults, or the built-in ones (all off / 0) when none is registered. */
void dp_sockopt_defaults_get(struct dp_worker *w, rte_be16_t lport,
			     struct dp_sockopt_defaults *out);

#endif
