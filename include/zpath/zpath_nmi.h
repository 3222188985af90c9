/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * zpath monitoring stream (NMI): the records a zpath instance sends to subscribers of
 * /run/zpath/<instance>.nmi.sock, modelled on the z/OS Network Management Interface
 * (SYSTCPCN: connection open/close records; see spec/close-semantics.md §13a NMI-1..NMI-7).
 *
 * Wire format
 * -----------
 * The socket is an AF_UNIX stream. Every record, in either direction, starts with the 16-byte
 * struct zp_nmi_wire_hdr. All integers on the wire are big-endian (network order); the
 * structs below are packed and their sizes are fixed by _Static_assert. IPv4 addresses and
 * ports are in network order as on the wire of the IP packet. Strings are NUL-padded, not
 * always NUL-terminated when they fill the field. Reserved fields are sent as zero.
 *
 * Applications should not read the wire structs directly: zp_nmi_decode() converts a record
 * into the host-order struct zp_nmi_record and zp_nmi_encode() does the reverse.
 *
 * Compatibility: `len` covers the whole record including the header. A record of a known id
 * may grow in a later version (`version` > 1): the fields of version 1 keep their offsets and
 * readers ignore the bytes after them. Records with an unknown id must be skipped (by `len`).
 *
 * Sequence (server to subscriber)
 * -------------------------------
 *   INIT                  first record of an accepted subscription, sent at once
 *   [CONN_OPEN (EXISTING)... LIST_END]   only if the request asked for ZP_NMI_REQ_LIST
 *   CONN_OPEN / CONN_CLOSE / LOST ...    as connections open and close (ZP_NMI_REQ_EVENTS);
 *                                         silence may last indefinitely
 *   TERM                  last record; the server closes the socket right after it
 *
 * A subscriber refused at connect time (peer credentials, no memory) receives only a TERM.
 * The server only *tries* to send TERM: when the subscriber's receive buffer is full, or when
 * the process dies, the socket is closed without it. **A subscriber must treat end-of-file
 * (or ECONNRESET) without a preceding TERM as an abnormal termination.**
 *
 * What a subscriber may send
 * --------------------------
 * Nothing at all (it then gets ZP_NMI_REQ_EVENTS), or exactly one REQUEST record
 * (struct zp_nmi_wire_request) as the first bytes it writes, at any time. INIT is sent as soon
 * as the subscriber is accepted, so INIT.flags shows the default (ZP_NMI_REQ_EVENTS), and
 * events may flow before the REQUEST is processed; the REQUEST applies from then on. With
 * ZP_NMI_REQ_LIST, events arriving while the snapshot is collected are held and follow
 * LIST_END; a connection may therefore appear both in the snapshot and in an event (match
 * records by conn_id). A first record that
 * is not a well-formed REQUEST (other id, version 0, wrong length, unknown flag bits, non-zero
 * reserved bytes) ends the stream with TERM ZP_NMI_TERM_EINVAL; any byte after an accepted
 * REQUEST ends it with TERM ZP_NMI_TERM_EPIPE.
 *
 * Termination codes
 * -----------------
 * Same meanings as z/OS tmit_termcode, but with Linux errno numbers (the values are spelled
 * out below so a client on any platform can compare them; on Linux EWOULDBLOCK == EAGAIN).
 *
 * Slow subscribers: each subscriber has a bounded queue in the server (ZP_NMI_QUEUE_DEFAULT,
 * or what its REQUEST asked for, clamped). When a record does not fit because the subscriber
 * does not read, the server stops queueing for it, tries to deliver what is queued plus
 * TERM ZP_NMI_TERM_EWOULDBLOCK for ZP_NMI_TERM_GRACE_MS, then closes. Other subscribers and
 * the stack itself are never slowed down. Events that could not even reach the server's
 * queues (the workers' event ring was full) are reported by LOST records.
 */
#ifndef ZPATH_ZPATH_NMI_H
#define ZPATH_ZPATH_NMI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Four-character record ids, ASCII, big-endian (they read as text in a hex dump). */
#define ZP_NMI_ID(a, b, c, d)                                                                      \
	(((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))
#define ZP_NMI_ID_REQUEST    ZP_NMI_ID('R', 'Q', 'S', 'T') /**< subscriber -> server */
#define ZP_NMI_ID_INIT	     ZP_NMI_ID('I', 'N', 'I', 'T') /**< first record */
#define ZP_NMI_ID_CONN_OPEN  ZP_NMI_ID('C', 'O', 'P', 'N') /**< connection established */
#define ZP_NMI_ID_CONN_CLOSE ZP_NMI_ID('C', 'C', 'L', 'S') /**< connection ended */
#define ZP_NMI_ID_LIST_END   ZP_NMI_ID('L', 'E', 'N', 'D') /**< end of the LIST snapshot */
#define ZP_NMI_ID_LOST	     ZP_NMI_ID('L', 'O', 'S', 'T') /**< events lost before queueing */
#define ZP_NMI_ID_TERM	     ZP_NMI_ID('T', 'E', 'R', 'M') /**< last record */

/** Version of every record defined here. */
#define ZP_NMI_VERSION1 1
/** Largest record the server sends or accepts; a header announcing more is malformed. */
#define ZP_NMI_MAX_LEN 4096

/** TERM codes (Linux errno numbers, fixed here so clients need not share our errno.h). */
enum zp_nmi_termcode {
	ZP_NMI_TERM_PLANNED = 0,      /**< instance stopping or stream disabled */
	ZP_NMI_TERM_EWOULDBLOCK = 11, /**< subscriber not reading: its queue overflowed */
	ZP_NMI_TERM_ENOMEM = 12,      /**< server could not allocate (or 32 subscribers already) */
	ZP_NMI_TERM_EACCES = 13,      /**< peer credentials not permitted */
	ZP_NMI_TERM_EINVAL = 22,      /**< malformed request record */
	ZP_NMI_TERM_EPIPE = 32,	      /**< subscriber sent data when none was expected */
};

/** REQUEST flags. */
#define ZP_NMI_REQ_EVENTS 0x1u /**< stream CONN_OPEN/CONN_CLOSE as connections open/close */
#define ZP_NMI_REQ_LIST	  0x2u /**< first send the current connections, then LIST_END */
#define ZP_NMI_REQ_ALL	  (ZP_NMI_REQ_EVENTS | ZP_NMI_REQ_LIST)

/** CONN record flags. */
#define ZP_NMI_CONN_EXISTING 0x1u /**< part of the LIST snapshot, not a new connection */
/** LIST_END flags. */
#define ZP_NMI_LIST_INCOMPLETE 0x1u /**< a worker did not answer or the list was cut */

/** Per-subscriber queue in the server, bytes (REQUEST.queue_kib may ask for another size). */
#define ZP_NMI_QUEUE_DEFAULT (256u * 1024)
#define ZP_NMI_QUEUE_MIN     (16u * 1024)
#define ZP_NMI_QUEUE_MAX     (16u * 1024 * 1024)
/** How long the server keeps trying to deliver TERM to a subscriber that does not read. */
#define ZP_NMI_TERM_GRACE_MS 1000

/** How a connection ended (CONN_CLOSE.how). */
enum zp_nmi_close_how {
	ZP_NMI_CLOSE_NORMAL = 0,    /**< FIN both ways */
	ZP_NMI_CLOSE_RESET_IN = 1,  /**< the peer sent RST */
	ZP_NMI_CLOSE_RESET_OUT = 2, /**< we sent RST (abort, SO_LINGER 0, unread data, drop) */
	ZP_NMI_CLOSE_TIMEOUT = 3,   /**< retransmission, keepalive or FIN_WAIT_2 timeout */
	ZP_NMI_CLOSE_REFUSED = 4,   /**< active open refused */
};

/* ---- wire structs (big-endian, packed) -------------------------------------------------- */

/** Header of every record (z/OS struct tmi_header). */
struct zp_nmi_wire_hdr {
	uint32_t len;	  /**< whole record, header included */
	uint32_t id;	  /**< ZP_NMI_ID_* */
	uint32_t version; /**< ZP_NMI_VERSION1 */
	uint32_t rsvd;
} __attribute__((packed));

/** Subscriber -> server, optional, at most once (z/OS tmi_conn_request). */
struct zp_nmi_wire_request {
	struct zp_nmi_wire_hdr hdr;
	uint32_t flags;	    /**< ZP_NMI_REQ_*; other bits must be 0 */
	uint32_t queue_kib; /**< server queue for this subscriber, KiB; 0 = default */
	uint8_t rsvd[8];
} __attribute__((packed));

/** First record of an accepted subscription (z/OS tmi_init). */
struct zp_nmi_wire_init {
	struct zp_nmi_wire_hdr hdr;
	char instance[64];	/**< instance name */
	char stack_version[16]; /**< zpath version string */
	uint64_t start_ns;	/**< instance start, ns since the Unix epoch */
	uint64_t now_ns;	/**< this record, ns since the Unix epoch */
	uint32_t pid;
	uint16_t nb_workers;
	uint16_t rsvd0;
	uint32_t flags;	      /**< ZP_NMI_REQ_* in effect when INIT was sent (see below) */
	uint32_t queue_bytes; /**< this subscriber's queue in the server */
	uint8_t rsvd[8];
} __attribute__((packed));

/** Body shared by CONN_OPEN and CONN_CLOSE. */
struct zp_nmi_wire_conn {
	uint64_t conn_id; /**< (worker << 48) | sequence; zpathctl conn drop takes it */
	uint64_t time_ns; /**< event time, ns since the Unix epoch */
	uint16_t worker;
	uint8_t state;	/**< enum zp_tcp_state at the event */
	uint8_t flags;	/**< ZP_NMI_CONN_* */
	uint32_t laddr; /**< IPv4, network order */
	uint32_t raddr;
	uint16_t lport; /**< network order */
	uint16_t rport;
	char transport[8]; /**< "tcp", "smcd" */
	char tls[16];	   /**< "-" or the TLS version */
} __attribute__((packed));

struct zp_nmi_wire_conn_open {
	struct zp_nmi_wire_hdr hdr;
	struct zp_nmi_wire_conn c;
} __attribute__((packed));

struct zp_nmi_wire_conn_close {
	struct zp_nmi_wire_hdr hdr;
	struct zp_nmi_wire_conn c;
	uint64_t bytes_in;    /**< payload bytes received */
	uint64_t bytes_out;   /**< payload bytes sent */
	uint64_t duration_ns; /**< open to close */
	uint8_t how;	      /**< enum zp_nmi_close_how */
	uint8_t rsvd[3];
	int32_t app_errno; /**< errno the application saw (Linux numbering), 0 = clean EOF */
} __attribute__((packed));

struct zp_nmi_wire_list_end {
	struct zp_nmi_wire_hdr hdr;
	uint32_t count; /**< CONN_OPEN (EXISTING) records sent */
	uint32_t flags; /**< ZP_NMI_LIST_* */
	uint64_t time_ns;
} __attribute__((packed));

struct zp_nmi_wire_lost {
	struct zp_nmi_wire_hdr hdr;
	uint64_t count; /**< events lost since the previous LOST record */
	uint64_t total; /**< events lost since the instance started */
	uint64_t time_ns;
} __attribute__((packed));

/** Last record (z/OS tmi_term). */
struct zp_nmi_wire_term {
	struct zp_nmi_wire_hdr hdr;
	uint32_t termcode; /**< enum zp_nmi_termcode */
	uint64_t time_ns;  /**< ns since the Unix epoch */
	uint8_t rsvd[12];
} __attribute__((packed));

#ifdef __cplusplus
#define ZP_NMI_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define ZP_NMI_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_hdr) == 16, "NMI header is 16 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_request) == 32, "NMI REQUEST is 32 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_init) == 136, "NMI INIT is 136 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_conn) == 56, "NMI conn body is 56 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_conn_open) == 72, "NMI CONN_OPEN is 72 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_conn_close) == 104, "NMI CONN_CLOSE is 104 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_list_end) == 32, "NMI LIST_END is 32 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_lost) == 40, "NMI LOST is 40 bytes");
ZP_NMI_STATIC_ASSERT(sizeof(struct zp_nmi_wire_term) == 40, "NMI TERM is 40 bytes");

/* ---- host structs (host order) ---------------------------------------------------------- */

struct zp_nmi_request {
	uint32_t flags;	    /**< ZP_NMI_REQ_* */
	uint32_t queue_kib; /**< 0 = default */
};

struct zp_nmi_init {
	char instance[65];
	char stack_version[17];
	uint64_t start_ns;
	uint64_t now_ns;
	uint32_t pid;
	uint16_t nb_workers;
	uint32_t flags;
	uint32_t queue_bytes;
};

/** CONN_OPEN and CONN_CLOSE (the close-only fields are 0 for CONN_OPEN). */
struct zp_nmi_conn {
	uint64_t conn_id;
	uint64_t time_ns;
	uint16_t worker;
	uint8_t state;
	uint8_t flags;
	uint32_t laddr; /**< network order, as in struct in_addr */
	uint32_t raddr;
	uint16_t lport; /**< network order, as in struct sockaddr_in */
	uint16_t rport;
	char transport[9];
	char tls[17];
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t duration_ns;
	uint8_t how; /**< enum zp_nmi_close_how */
	int32_t app_errno;
};

struct zp_nmi_list_end {
	uint32_t count;
	uint32_t flags;
	uint64_t time_ns;
};

struct zp_nmi_lost {
	uint64_t count;
	uint64_t total;
	uint64_t time_ns;
};

struct zp_nmi_term {
	uint32_t termcode;
	uint64_t time_ns;
};

/** One decoded record. `id` selects the member of `u`; unknown ids leave `u` zeroed. */
struct zp_nmi_record {
	uint32_t id;
	uint32_t version;
	uint32_t len; /**< bytes the record occupies on the wire */
	union {
		struct zp_nmi_request request;
		struct zp_nmi_init init;
		struct zp_nmi_conn conn; /**< CONN_OPEN, CONN_CLOSE */
		struct zp_nmi_list_end list_end;
		struct zp_nmi_lost lost;
		struct zp_nmi_term term;
	} u;
};

/**
 * Encode @p rec (rec->id selects the layout; rec->version and rec->len are ignored: version 1
 * is written) into @p buf.
 * @return bytes written, or -1 with errno EINVAL (unknown id) or ENOSPC (@p len too small).
 */
ssize_t zp_nmi_encode(const struct zp_nmi_record *rec, void *buf, size_t len);

/**
 * Decode the record at the start of @p buf (@p len bytes available).
 * @return bytes the record occupies (> 0; skip that many to reach the next record), 0 when
 *   @p buf does not yet hold a whole record, or -1 with errno EINVAL (header length below 16
 *   or above ZP_NMI_MAX_LEN, version 0, or a known id shorter than its version 1 layout).
 *   A record with an unknown id is returned with rec->id set and rec->u zeroed: skip it.
 */
ssize_t zp_nmi_decode(const void *buf, size_t len, struct zp_nmi_record *rec);

/** Name of a TERM code ("planned", "EWOULDBLOCK", ...) or "unknown". */
const char *zp_nmi_termcode_name(uint32_t termcode);
/** Name of a record id ("INIT", "CONN_OPEN", ...) or "unknown". */
const char *zp_nmi_id_name(uint32_t id);
/** Name of a close reason ("normal", "reset_in", ...) or "unknown". */
const char *zp_nmi_close_how_name(uint8_t how);

#ifdef __cplusplus
}
#endif
#endif
