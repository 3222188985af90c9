/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * What the control-plane files (control/ctl_*.c) and zpathctl share.
 *
 * Pure parts (no thread, no DPDK call; unit-tested and linked into zpathctl too):
 *  - ctl_proto.c: the JSON-lines protocol of the control socket (requests, replies, names);
 *  - ctl_nmi.c: NMI record converters, the subscriber-input state machine, the output queue;
 *  - ctl_sockopt.c (the table half): socket-option defaults per local port range.
 * Control-thread parts: ctl_thread.c (loop, control socket, worker jobs, event ring),
 * ctl_monitor.c (NMI subscribers), ctl_sockopt.c (RCU publication), ctl_telemetry.c.
 */
#ifndef ZPATH_CTL_PRIV_H
#define ZPATH_CTL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp_priv.h"
#include "zpath/zpath_nmi.h"

struct json_object;

/** Control socket and NMI socket live in this directory (ZPATH_RUN_DIR overrides it). */
#define CTL_RUN_DIR	     "/run/zpath"
#define CTL_INSTANCE_DEFAULT "zpath"
#define CTL_INSTANCE_MAX     63
/** Longest request line the server accepts. */
#define CTL_LINE_MAX 65536

/* ---- output queue (ctl_nmi.c) ------------------------------------------------------------ */

/**
 * A byte queue in front of a non-blocking socket. It grows up to @c max bytes; @c reserve
 * bytes of that are kept for a final record (TERM) that must always fit.
 */
struct ctl_outq {
	uint8_t *buf;
	size_t cap, head, tail;
	size_t max, reserve;
	bool fail_alloc; /**< fault injection: the next growth fails (ENOMEM) */
};

void ctl_outq_init(struct ctl_outq *q, size_t max, size_t reserve);
void ctl_outq_fini(struct ctl_outq *q);
/** Append all of @p data or nothing. 0, -ENOSPC (over max - reserve, or max when
 *  @p use_reserve), -ENOMEM. */
int ctl_outq_push(struct ctl_outq *q, const void *data, size_t len, bool use_reserve);
/** Send what is queued. 0 (empty now), -EAGAIN (socket full), or -errno of send(). */
int ctl_outq_flush(struct ctl_outq *q, int fd);
size_t ctl_outq_pending(const struct ctl_outq *q);

/* ---- NMI subscriber input and record building (ctl_nmi.c) -------------------------------- */

/** Accumulates what a subscriber writes: at most one REQUEST record. */
struct ctl_nmi_rx {
	uint8_t buf[sizeof(struct zp_nmi_wire_request)];
	size_t have;
	bool done; /**< a REQUEST was accepted; any further byte is EPIPE */
};

void ctl_nmi_rx_init(struct ctl_nmi_rx *rx);
/**
 * Feed bytes read from a subscriber.
 * @return 1 and *out filled when a REQUEST completed, 0 when more bytes are needed,
 *   -EINVAL (not a well-formed REQUEST), -EPIPE (bytes after the REQUEST).
 */
int ctl_nmi_rx_feed(struct ctl_nmi_rx *rx, const void *data, size_t len,
		    struct zp_nmi_request *out);
/** The queue size for a REQUEST.queue_kib (0 = default), clamped to the allowed range. */
uint32_t ctl_nmi_queue_bytes(uint32_t queue_kib);
/** Map the dataplane close reason to the wire enum. */
enum zp_nmi_close_how ctl_nmi_close_how(enum dp_conn_close_how how);
/** Build a CONN_OPEN or CONN_CLOSE record from a dataplane event stamped @p time_ns. */
void ctl_nmi_from_event(const struct dp_conn_event *ev, uint64_t time_ns,
			struct zp_nmi_record *rec);
/** Build a CONN_OPEN (EXISTING) record for the LIST snapshot. */
void ctl_nmi_from_view(const struct dp_conn_view *v, uint64_t time_ns, struct zp_nmi_record *rec);

/* ---- JSON protocol (ctl_proto.c) --------------------------------------------------------- */

/* X(ENUM_SUFFIX, "wire name", debug_only, "help") */
#define CTL_CMD_LIST(X)                                                                            \
	X(STATUS, "status", false, "instance, workers, ports and link state, uptime")              \
	X(NETSTAT, "netstat", false, "connections of every worker; filters state, port")           \
	X(STATS, "stats", false, "per-worker counters and drop reasons")                           \
	X(SOCKOPT_SHOW, "sockopt-show", false, "socket-option defaults per local port range")      \
	X(SOCKOPT_SET, "sockopt-set", false, "change defaults for a port range")                   \
	X(SOCKOPT_DEL, "sockopt-del", false, "remove the rule of a port range")                    \
	X(CONN_DROP, "conn-drop", false, "abort a connection (RST) by id")                         \
	X(MONITOR, "monitor", false, "where the monitoring stream is served")                      \
	X(DEBUG_CONN_EVENTS, "debug-conn-events", true,                                            \
	  "workers emit synthetic open/close events")                                              \
	X(DEBUG_NMI_FAIL_ALLOC, "debug-nmi-fail-alloc", true, "next subscriber allocation fails")

#define CTL_X_ENUM(e, name, dbg, help) CTL_CMD_##e,
enum ctl_cmd { CTL_CMD_LIST(CTL_X_ENUM) CTL_CMD_MAX };
#undef CTL_X_ENUM

/* X(ENUM_SUFFIX, "key", min, max, "help"); linger also takes "off" (= -1 in JSON). */
#define CTL_SOCKOPT_LIST(X)                                                                        \
	X(LINGER, "linger", 0, 65535, "SO_LINGER seconds, or off")                                 \
	X(NODELAY, "nodelay", 0, 1, "TCP_NODELAY")                                                 \
	X(KEEPALIVE, "keepalive", 0, 1, "SO_KEEPALIVE")                                            \
	X(KEEPIDLE, "keepidle", 1, 32767, "TCP_KEEPIDLE seconds")                                  \
	X(KEEPINTVL, "keepintvl", 1, 32767, "TCP_KEEPINTVL seconds")                               \
	X(KEEPCNT, "keepcnt", 1, 127, "TCP_KEEPCNT probes")                                        \
	X(SNDBUF, "sndbuf", 0, 1073741824, "SO_SNDBUF bytes (0 = stack default)")                  \
	X(RCVBUF, "rcvbuf", 0, 1073741824, "SO_RCVBUF bytes (0 = stack default)")

#define CTL_X_ENUM(e, key, lo, hi, help) CTL_SO_##e,
enum ctl_so { CTL_SOCKOPT_LIST(CTL_X_ENUM) CTL_SO_MAX };
#undef CTL_X_ENUM

/** A change to the socket-option defaults of ports lo..hi (mask: bits 1 << enum ctl_so). */
struct ctl_sockopt_set {
	uint16_t lo, hi;
	uint32_t mask;
	struct dp_sockopt_defaults val;
};

/** A parsed, validated request. */
struct ctl_req {
	enum ctl_cmd cmd;
	int state;		   /**< netstat: enum zp_tcp_state, -1 = any */
	int port;		   /**< netstat: local or remote port, -1 = any */
	struct ctl_sockopt_set so; /**< sockopt-set / sockopt-del (lo, hi) */
	uint64_t conn_id;	   /**< conn-drop */
	uint32_t count;		   /**< debug-conn-events */
	int worker;		   /**< debug-conn-events: -1 = all */
};

const char *ctl_cmd_name(enum ctl_cmd cmd);
bool ctl_cmd_debug_only(enum ctl_cmd cmd);
const char *ctl_cmd_help(enum ctl_cmd cmd);
const char *ctl_so_key(enum ctl_so so);
const char *ctl_so_help(enum ctl_so so);
/** "ESTABLISHED" ... for enum zp_tcp_state values; "?" otherwise. */
const char *ctl_tcp_state_name(uint8_t state);
/** Case-insensitive state name (also "SYN-SENT" style) -> enum value, -EINVAL if unknown. */
int ctl_tcp_state_parse(const char *s);
/** "LO-HI", "P" or "all" -> range. 0 or -EINVAL. */
int ctl_ports_parse(const char *s, uint16_t *lo, uint16_t *hi);
/** Parse "key=value" into @p set. 0 or -EINVAL with a message in @p err. */
int ctl_sockopt_kv_parse(const char *kv, struct ctl_sockopt_set *set, char *err, size_t errlen);
/** Read the value of option @p so from @p d (linger: -1 = off). */
int64_t ctl_sockopt_get_field(const struct dp_sockopt_defaults *d, enum ctl_so so);

/** Request defaults: what a missing key means. */
void ctl_req_init(struct ctl_req *req, enum ctl_cmd cmd);
/**
 * Parse one request line (a JSON object, without the newline) into @p req.
 * @return 0, -EINVAL (not JSON, not an object, unknown command, bad or unknown argument;
 *   @p err says which), -E2BIG (line too long).
 */
int ctl_req_parse(const char *line, size_t len, struct ctl_req *req, char *err, size_t errlen);
/** The JSON object for @p req (what zpathctl sends). Caller puts it. */
struct json_object *ctl_req_to_json(const struct ctl_req *req);

/** {"ok":true,"cmd":...}. */
struct json_object *ctl_reply_ok(const char *cmd);
/** {"ok":false,"cmd":...,"errno":N,"error":"ENOENT","message":...}; @p err is positive. */
struct json_object *ctl_reply_err(const char *cmd, int err, const char *msg);
/** True if @p v passes the netstat filters of @p req. */
bool ctl_conn_match(const struct dp_conn_view *v, const struct ctl_req *req);
/** One connection as a JSON object. */
struct json_object *ctl_json_conn(const struct dp_conn_view *v);
/** One socket-option rule as a JSON object. */
struct json_object *ctl_json_sockopt(uint16_t lo, uint16_t hi, const struct dp_sockopt_defaults *d);
/** "10.0.0.1" from a network-order address into @p buf (16 bytes). */
const char *ctl_ip_str(rte_be32_t addr, char *buf, size_t len);
/** errno name ("ENOENT") or "E?" */
const char *ctl_errno_name(int err);

/* ---- socket-option defaults table (ctl_sockopt.c) ---------------------------------------- */

#define CTL_SOCKOPT_RULES_MAX 256

struct ctl_sockopt_rule {
	uint16_t lo, hi;
	struct dp_sockopt_defaults d;
};

/** Immutable once published. r[0] is always the rule for 0-65535. */
struct ctl_sockopt_table {
	unsigned n;
	struct ctl_sockopt_rule r[];
};

/** A table holding only the built-in defaults for 0-65535. NULL on ENOMEM. */
struct ctl_sockopt_table *ctl_sockopt_table_new(void);
/**
 * New table = @p old with @p set applied: the rule for exactly set->lo..hi is changed, or
 * created as a copy of the narrowest rule enclosing it. Ranges must nest or be disjoint.
 * @return 0, -EINVAL (partial overlap; @p err names the rule), -ENOSPC, -ENOMEM.
 */
int ctl_sockopt_table_set(const struct ctl_sockopt_table *old, const struct ctl_sockopt_set *set,
			  struct ctl_sockopt_table **out, char *err, size_t errlen);
/** New table without the rule lo..hi. -ENOENT (no such rule), -EINVAL (0-65535), -ENOMEM. */
int ctl_sockopt_table_del(const struct ctl_sockopt_table *old, uint16_t lo, uint16_t hi,
			  struct ctl_sockopt_table **out);
/** The defaults for local port @p port (host order; 0 = unbound: the 0-65535 rule). */
const struct dp_sockopt_defaults *ctl_sockopt_table_lookup(const struct ctl_sockopt_table *t,
							   uint16_t port);

/* ---- control thread internals ------------------------------------------------------------ */

/** Counters of the control plane itself (written by the control thread only). */
struct ctl_counters {
	uint64_t requests;
	uint64_t request_errors;
	uint64_t clients_refused;
	uint64_t nmi_subscribers_total;
	uint64_t nmi_records;
	uint64_t nmi_term[6];	/**< by index of ctl_nmi_term_index() */
	uint64_t nmi_term_lost; /**< TERM could not be delivered before close */
};

/** Index 0..5 of a termcode in ctl_counters.nmi_term (planned, EWOULDBLOCK, ENOMEM, EACCES,
 *  EINVAL, EPIPE). */
unsigned ctl_nmi_term_index(enum zp_nmi_termcode code);

/** Per-worker counters kept by the control plane, written by that worker only. */
struct ctl_wstat {
	uint64_t events;      /**< connection events queued for the control thread */
	uint64_t events_lost; /**< connection events dropped: control ring full */
} __rte_cache_aligned;

struct ctl_sub;
struct ctl_client;

enum ctl_job_kind {
	CTL_JOB_DUMP, /**< dp_conn_dump on every worker */
	CTL_JOB_DROP, /**< dp_conn_drop on one worker */
};

/** One worker's answer to a job. */
struct ctl_job_part {
	struct dp_conn_view *views;
	unsigned n;
	bool truncated;
	int rc;
	uint32_t done; /**< set (release) by the worker when the rest is written */
};

/**
 * Work posted to workers. Reference-counted: the control side holds one reference and every
 * posted message another, so a worker that answers after the control side gave up (timeout,
 * client gone, instance stopping) still writes into live memory.
 */
struct ctl_job {
	uint32_t refs;
	uint32_t pending; /**< parts not answered yet */
	enum ctl_job_kind kind;
	bool notify; /**< ring the control thread's wake eventfd when pending hits 0 */
	uint64_t deadline_ns;
	uint64_t conn_id; /**< CTL_JOB_DROP */
	struct ctl_req req;
	struct ctl_client *client; /**< reply goes there (control thread) */
	struct ctl_sub *sub;	   /**< LIST snapshot goes there (control thread) */
	struct ctl_job *next;	   /**< control thread's list */
	uint16_t nb_parts;
	struct ctl_job_part part[];
};

/** Dump (max views per worker) and drop limits and timeouts. */
#define CTL_DUMP_MAX	   262144
#define CTL_JOB_TIMEOUT_NS (2ULL * 1000000000)

/** A job over @p nb_parts parts, one control reference. NULL on ENOMEM. */
struct ctl_job *ctl_job_new(enum ctl_job_kind kind, uint16_t nb_parts, bool notify);
void ctl_job_put(struct ctl_job *job);
/** Post a dump to every worker of @p stack (parts it cannot post are answered -ENOBUFS). */
void ctl_job_post_dump(struct ctl_job *job, const struct dp_stack *stack);
/** Post a drop of job->conn_id to worker @p wid. 0 or -ENOBUFS. */
int ctl_job_post_drop(struct ctl_job *job, const struct dp_stack *stack, uint16_t wid);
static inline bool ctl_job_done(const struct ctl_job *job)
{
	return __atomic_load_n(&job->pending, __ATOMIC_ACQUIRE) == 0;
}

/** The control thread's wake eventfd (-1 when stopped); ctl_wake() rings it from any thread. */
extern int ctl_wake_fd;
void ctl_wake(void);
/** Post debug-conn-events to worker @p worker (-1 = all). Workers posted to, or -errno. */
int ctl_synth_post(const struct dp_stack *stack, int worker, uint32_t count);

/* Monitoring stream (ctl_monitor.c), control thread only. */
int ctl_mon_accept(int lfd);
void ctl_mon_event(struct ctl_sub *s, uint32_t events);
/** Queue an encoded record to every subscriber that wants events; then flush. */
void ctl_mon_broadcast(const void *rec, size_t len);
void ctl_mon_flush_all(void);
/** A LIST job finished (or timed out): send the snapshot and LIST_END to its subscriber. */
void ctl_mon_list_done(struct ctl_job *job);
/** Close subscribers whose TERM grace ran out; returns ms until the next deadline or -1. */
int ctl_mon_timers(uint64_t now_ns);
/** TERM(planned) to everyone. */
void ctl_mon_stop_all(void);
unsigned ctl_mon_count(void);
/** Subscribers that want events (workers enqueue events only when > 0). */
unsigned ctl_mon_event_subscribers(void);
void ctl_mon_fail_next_alloc(void);

/* Control-thread services used by ctl_monitor.c / ctl_telemetry.c. */
struct ctl_state_view {
	const struct dp_stack *stack;
	const char *instance;
	const char *sock_path;
	const char *nmi_path;
	uint64_t start_realtime_ns;
	uint64_t start_mono_ns;
	bool debug;
};
/** The running instance (stack NULL when stopped). */
const struct ctl_state_view *ctl_state(void);
struct ctl_counters *ctl_counters(void);
const struct ctl_wstat *ctl_wstats(void);
/** epoll registration of a control-thread fd with its owner (first member: struct ctl_ep). */
struct ctl_ep {
	int kind; /**< enum in ctl_thread.c */
	int fd;
};
enum ctl_ep_kind {
	CTL_EP_LISTEN,
	CTL_EP_NMI_LISTEN,
	CTL_EP_WAKE,
	CTL_EP_CLIENT,
	CTL_EP_SUB,
};
int ctl_ep_add(struct ctl_ep *ep, uint32_t events);
int ctl_ep_mod(struct ctl_ep *ep, uint32_t events);
void ctl_ep_del(struct ctl_ep *ep);
/** Keep @p job on the control thread's list (it calls back when the job completes). */
void ctl_job_track(struct ctl_job *job);
/** Tell workers whether to enqueue connection events (any subscriber wants them). */
void ctl_events_enable(bool on);
/** Monotonic / realtime now, ns. */
uint64_t ctl_mono_ns(void);
uint64_t ctl_real_ns(void);
/** Peer credentials allowed? (root, or our uid or gid). 0, -EACCES, or -errno. */
int ctl_peer_check(int fd);

/* Socket-option defaults served to workers (ctl_sockopt.c). */
int ctl_sockopt_start(const struct dp_stack *stack);
void ctl_sockopt_stop(void);
const struct ctl_sockopt_table *ctl_sockopt_current(void);
/** Publish @p t (takes ownership); the old table is freed once no worker can read it. */
void ctl_sockopt_publish(struct ctl_sockopt_table *t);
/** Free retired tables that no worker can still read; true if some remain. */
bool ctl_sockopt_reclaim(void);

/* Telemetry (ctl_telemetry.c). */
int ctl_telemetry_register(void);
void ctl_telemetry_lock(void);
void ctl_telemetry_unlock(void);

#endif
