/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * TCP wire formats (RFC 9293 §3.1, RFC 7323 §2-3): packed, network byte order, kept apart
 * from the host structures in tcp_priv.h. Converters live in tcp_options.c / tcp_input.c.
 */
#ifndef ZPATH_TCP_WIRE_H
#define ZPATH_TCP_WIRE_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_common.h>

/** The fixed TCP header (RFC 9293 §3.1, Figure 1). */
struct tcp_wire_hdr {
	rte_be16_t sport;
	rte_be16_t dport;
	rte_be32_t seq;
	rte_be32_t ack;
	uint8_t doff;  /**< data offset in 32-bit words, high nibble */
	uint8_t flags; /**< CWR ECE URG ACK PSH RST SYN FIN */
	rte_be16_t win;
	rte_be16_t cksum;
	rte_be16_t urp;
} __rte_packed;
_Static_assert(sizeof(struct tcp_wire_hdr) == 20, "TCP header is 20 bytes");

#define TCP_HDR_LEN 20u
#define TCP_HDR_MAX 60u

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20

/* Option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018). */
#define TCP_OPT_EOL 0
#define TCP_OPT_NOP 1
#define TCP_OPT_MSS 2
#define TCP_OPT_WSCALE 3
#define TCP_OPT_SACK_PERM 4
#define TCP_OPT_SACK 5
#define TCP_OPT_TS 8

#define TCP_OPTLEN_MSS 4
#define TCP_OPTLEN_WSCALE 3
#define TCP_OPTLEN_TS 10

/** MSS option (RFC 9293 §3.7.1). */
struct tcp_wire_opt_mss {
	uint8_t kind;
	uint8_t len;
	rte_be16_t mss;
} __rte_packed;
_Static_assert(sizeof(struct tcp_wire_opt_mss) == 4, "MSS option is 4 bytes");

/** Timestamps option preceded by two NOPs, the layout RFC 7323 Appendix A recommends. */
struct tcp_wire_opt_ts_aligned {
	uint8_t nop1;
	uint8_t nop2;
	uint8_t kind;
	uint8_t len;
	rte_be32_t tsval;
	rte_be32_t tsecr;
} __rte_packed;
_Static_assert(sizeof(struct tcp_wire_opt_ts_aligned) == 12, "aligned TS option is 12 bytes");

/** Window scale option preceded by one NOP (RFC 7323 §2.2). */
struct tcp_wire_opt_ws_aligned {
	uint8_t nop;
	uint8_t kind;
	uint8_t len;
	uint8_t shift;
} __rte_packed;
_Static_assert(sizeof(struct tcp_wire_opt_ws_aligned) == 4, "aligned WS option is 4 bytes");

/** Pseudo header for the checksum (RFC 9293 §3.1). */
struct tcp_wire_pseudo {
	rte_be32_t src;
	rte_be32_t dst;
	uint8_t zero;
	uint8_t proto;
	rte_be16_t len;
} __rte_packed;
_Static_assert(sizeof(struct tcp_wire_pseudo) == 12, "pseudo header is 12 bytes");

#endif
