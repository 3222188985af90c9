/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Per-worker drop reasons and statistics, each from one X-macro list so that the enum, the
 * name shown by telemetry / zpathctl and the help text never drift apart.
 *
 * Every packet the dataplane frees without delivering it increments exactly one drop reason.
 * Counters are written only by the owning worker and read without locks by telemetry.
 */
#ifndef ZPATH_DP_COUNTERS_H
#define ZPATH_DP_COUNTERS_H

/* X(ENUM_SUFFIX, "name", "help") */
#define DP_DROP_LIST(X)                                                                            \
	X(ETH_RUNT, "eth_runt", "frame shorter than an Ethernet header")                           \
	X(ETH_DST, "eth_dst", "destination MAC is neither ours nor broadcast")               \
	X(ETH_TYPE, "eth_type", "EtherType is neither IPv4 nor ARP (VLAN tags included)")          \
	X(ARP_SHORT, "arp_short", "ARP packet shorter than an Ethernet/IPv4 ARP body")             \
	X(ARP_FORMAT, "arp_format", "ARP hardware/protocol type or address lengths unsupported")   \
	X(ARP_OP, "arp_op", "ARP opcode is neither request nor reply")                             \
	X(ARP_NOT_FOR_US, "arp_not_for_us", "ARP request for an address that is not ours")         \
	X(ARP_BAD_SENDER, "arp_bad_sender", "ARP sender address is broadcast, multicast or zero")  \
	X(ARP_CONFLICT, "arp_conflict", "ARP sender claims one of our IPv4 addresses")             \
	X(ARP_QUEUE_FULL, "arp_queue_full", "packet awaiting ARP resolution: pending queue full")   \
	X(ARP_UNRESOLVED, "arp_unresolved", "ARP resolution timed out; queued packet dropped")     \
	X(IP_SHORT, "ip_short", "packet shorter than an IPv4 header")                              \
	X(IP_VERSION, "ip_version", "IP version is not 4")                                         \
	X(IP_HDRLEN, "ip_hdrlen", "IPv4 header length below 20 bytes or beyond the packet")        \
	X(IP_OPTIONS, "ip_options", "IPv4 header carries options (not supported)")                 \
	X(IP_TOTLEN, "ip_totlen", "IPv4 total length below the header or beyond the frame")        \
	X(IP_CSUM, "ip_csum", "IPv4 header checksum is wrong")                                     \
	X(IP_FRAGMENT, "ip_fragment", "IPv4 fragment (no reassembly yet)")                          \
	X(IP_BAD_SRC, "ip_bad_src", "IPv4 source is broadcast, multicast, loopback or ours")       \
	X(IP_NOT_FOR_US, "ip_not_for_us", "IPv4 destination is not one of our addresses")         \
	X(IP_PROTO, "ip_proto", "IPv4 protocol has no handler")                                    \
	X(IP_MTU, "ip_mtu", "IPv4 packet larger than the interface MTU")                           \
	X(ICMP_SHORT, "icmp_short", "ICMP message shorter than its header")                        \
	X(ICMP_CSUM, "icmp_csum", "ICMP checksum is wrong")                                        \
	X(ICMP_TYPE, "icmp_type", "ICMP type not handled (only echo request is answered)")         \
	X(NO_ROUTE, "no_route", "no route to the destination")                                     \
	X(NOMEM, "nomem", "mbuf allocation failed")                                                \
	X(TX_FULL, "tx_full", "port TX ring and the worker's TX buffer both full")                \
	X(STEER_FULL, "steer_full", "software-steering ring to the owning worker full")            \
	X(MSG_FULL, "msg_full", "control message ring of the worker full")                        \
	X(PORT_FAULT, "port_fault", "port burst abandoned: its rings were unmapped (memif peer gone)")

/* X(ENUM_SUFFIX, "name", "help") */
#define DP_STAT_LIST(X)                                                                            \
	X(RX_PACKETS, "rx_packets", "packets received from ports")                                 \
	X(RX_BYTES, "rx_bytes", "bytes received from ports")                                       \
	X(TX_PACKETS, "tx_packets", "packets handed to ports")                                     \
	X(TX_BYTES, "tx_bytes", "bytes queued to ports")                                           \
	X(STEERED_OUT, "steered_out", "packets steered to another worker")                         \
	X(STEERED_IN, "steered_in", "packets received from another worker's steering")             \
	X(ARP_REQ_IN, "arp_requests_in", "ARP requests for our address answered")                  \
	X(ARP_REPLY_IN, "arp_replies_in", "ARP replies received")                                  \
	X(ARP_REQ_OUT, "arp_requests_out", "ARP requests sent (resolution and retries)")           \
	X(ARP_GRATUITOUS_OUT, "arp_gratuitous_out", "gratuitous ARPs sent")                        \
	X(ARP_EXPIRED, "arp_expired", "ARP cache entries expired")                                 \
	X(ARP_REVALIDATE, "arp_revalidations", "ARP entries in use re-validated at expiry")        \
	X(ARP_PROBE_OUT, "arp_probes_out", "ARP re-validation requests sent")                      \
	X(ARP_REVALIDATE_FAIL, "arp_revalidations_failed", "re-validation unanswered: entry gone") \
	X(IP_IN, "ip_in", "IPv4 packets accepted for local delivery")                              \
	X(IP_OUT, "ip_out", "IPv4 packets sent")                                                   \
	X(ICMP_ECHO_IN, "icmp_echo_in", "ICMP echo requests answered")                             \
	X(ICMP_ECHO_REPLY_IN, "icmp_echo_reply_in", "ICMP echo replies received")                  \
	X(ICMP_OTHER_IN, "icmp_other_in", "other ICMP messages passed to their handler")           \
	X(MSG_RUN, "msgs_run", "control messages run by this worker")                              \
	X(TIMERS_FIRED, "timers_fired", "timers fired")                                            \
	X(IDLE_YIELDS, "idle_yields", "idle policy: sched_yield() calls after empty passes")       \
	X(IDLE_SLEEPS, "idle_sleeps", "idle policy: sleeps after empty passes")                    \
	X(IDLE_SLEEP_US, "idle_sleep_us", "idle policy: microseconds of sleep asked for")          \
	X(FAULT_RX_DROP, "fault_rx_drop", "fault injection: received packets dropped")             \
	X(FAULT_RX_DUP, "fault_rx_dup", "fault injection: received packets duplicated")            \
	X(FAULT_RX_REORDER, "fault_rx_reorder", "fault injection: received packets reordered")     \
	X(FAULT_RX_DELAY, "fault_rx_delay", "fault injection: received packets delayed")           \
	X(FAULT_RX_CORRUPT, "fault_rx_corrupt", "fault injection: received packets corrupted")     \
	X(FAULT_TX_DROP, "fault_tx_drop", "fault injection: sent packets dropped")                 \
	X(FAULT_TX_DUP, "fault_tx_dup", "fault injection: sent packets duplicated")                \
	X(FAULT_TX_REORDER, "fault_tx_reorder", "fault injection: sent packets reordered")         \
	X(FAULT_TX_DELAY, "fault_tx_delay", "fault injection: sent packets delayed")               \
	X(FAULT_TX_CORRUPT, "fault_tx_corrupt", "fault injection: sent packets corrupted")         \
	X(FAULT_QUEUE_FULL, "fault_queue_full", "fault injection: delay queue full, packet lost")

#define DP_X_ENUM(e, name, help) DP_DROP_##e,
enum dp_drop { DP_DROP_LIST(DP_X_ENUM) DP_DROP_MAX };
#undef DP_X_ENUM
#define DP_X_ENUM(e, name, help) DP_STAT_##e,
enum dp_stat { DP_STAT_LIST(DP_X_ENUM) DP_STAT_MAX };
#undef DP_X_ENUM

/** Name of a drop reason ("ip_csum"), for telemetry and zpathctl. */
const char *dp_drop_name(enum dp_drop d);
/** One-line description of a drop reason. */
const char *dp_drop_help(enum dp_drop d);
/** Name of a statistic. */
const char *dp_stat_name(enum dp_stat s);
/** One-line description of a statistic. */
const char *dp_stat_help(enum dp_stat s);

#endif
