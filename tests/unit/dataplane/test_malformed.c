/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A corpus of malformed and unwanted frames. Each entry names the one drop counter it must
 * raise; the test injects it, polls, and checks that exactly that counter went up by one and
 * that nothing was sent. After the corpus the stack still answers a valid ping, and
 * zpt_env_free() checks that no mbuf leaked on any of the drop paths.
 */
#include "net_test.h"

struct frame {
	uint8_t b[2048];
	size_t len;
};

#define ETH_LEN	  sizeof(struct rte_ether_hdr)
#define IP_OFF	  ETH_LEN
#define L4_OFF	  (ETH_LEN + sizeof(struct rte_ipv4_hdr))
#define PING_DATA 56

static struct rte_ether_hdr *feth(struct frame *f)
{
	return (struct rte_ether_hdr *)f->b;
}

static struct rte_ipv4_hdr *fip(struct frame *f)
{
	return (struct rte_ipv4_hdr *)(f->b + IP_OFF);
}

static struct rte_icmp_hdr *ficmp(struct frame *f)
{
	return (struct rte_icmp_hdr *)(f->b + L4_OFF);
}

static struct rte_arp_hdr *farp(struct frame *f)
{
	return (struct rte_arp_hdr *)(f->b + ETH_LEN);
}

static void fix_ip(struct frame *f)
{
	fip(f)->hdr_checksum = 0;
	fip(f)->hdr_checksum = rte_ipv4_cksum(fip(f));
}

static void fix_icmp(struct frame *f)
{
	size_t len = rte_be_to_cpu_16(fip(f)->total_length) - sizeof(struct rte_ipv4_hdr);

	ficmp(f)->icmp_cksum = 0;
	ficmp(f)->icmp_cksum = (uint16_t)~rte_raw_cksum(ficmp(f), len);
}

/* The valid frames the corpus starts from. */
static void ping(struct zpt_env *env, struct frame *f)
{
	struct rte_ether_addr mine = our_mac(env, 0), peer = peer_mac();

	f->len = zpt_build_ping(f->b, &mine, &peer, PEER_IP, OUR_IP, 0x4242, 1, PING_DATA);
}

static void arp_req(struct zpt_env *env, struct frame *f)
{
	static const struct rte_ether_addr bcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
	struct rte_ether_addr peer = peer_mac();

	(void)env;
	f->len = zpt_build_arp(f->b, &bcast, RTE_ARP_OP_REQUEST, &peer, PEER_IP, NULL, OUR_IP);
}

/* -- Ethernet ----------------------------------------------------------------------------- */
static void eth_other_unicast(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	feth(f)->dst_addr = zpt_peer_mac(9);
}
static void eth_multicast(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	feth(f)->dst_addr = (struct rte_ether_addr){{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}};
}
static void eth_unknown_type(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	feth(f)->ether_type = rte_cpu_to_be_16(0x1234);
}
static void eth_ipv6(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	feth(f)->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
}
static void eth_8023_length(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	feth(f)->ether_type = rte_cpu_to_be_16((uint16_t)(f->len - ETH_LEN));
}
/* A valid ping behind an 802.1Q (or 802.1ad) tag: tags are not supported. */
static void eth_tagged(struct frame *f, uint16_t tpid)
{
	memmove(f->b + ETH_LEN + 4, f->b + ETH_LEN, f->len - ETH_LEN);
	feth(f)->ether_type = rte_cpu_to_be_16(tpid);
	f->b[ETH_LEN] = 0;
	f->b[ETH_LEN + 1] = 100; /* VLAN 100 */
	f->b[ETH_LEN + 2] = RTE_ETHER_TYPE_IPV4 >> 8;
	f->b[ETH_LEN + 3] = RTE_ETHER_TYPE_IPV4 & 0xff;
	f->len += 4;
}
static void eth_vlan(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	eth_tagged(f, RTE_ETHER_TYPE_VLAN);
}
static void eth_qinq(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	eth_tagged(f, RTE_ETHER_TYPE_QINQ);
}

/* -- ARP ---------------------------------------------------------------------------------- */
static void arp_short(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	f->len = ETH_LEN + sizeof(struct rte_arp_hdr) - 1;
}
static void arp_hlen(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_hlen = 8;
}
static void arp_plen(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_plen = 16;
}
static void arp_hrd(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_hardware = rte_cpu_to_be_16(6); /* IEEE 802 */
}
static void arp_pro(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV6);
}
static void arp_op_rarp(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REVREQUEST);
}
static void arp_op_zero(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_opcode = 0;
}
static void arp_sha_broadcast(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	memset(&farp(f)->arp_data.arp_sha, 0xff, RTE_ETHER_ADDR_LEN);
}
static void arp_sha_multicast(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_data.arp_sha.addr_bytes[0] = 0x01;
}
static void arp_sha_zero(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	memset(&farp(f)->arp_data.arp_sha, 0, RTE_ETHER_ADDR_LEN);
}
static void arp_sip_multicast(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_data.arp_sip = IP4(224, 0, 0, 5);
}
static void arp_sip_broadcast(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_data.arp_sip = IP4(255, 255, 255, 255);
}
static void arp_sip_loopback(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_data.arp_sip = IP4(127, 0, 0, 1);
}
static void arp_reply_sip_zero(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	farp(f)->arp_data.arp_sip = 0;
}
static void arp_sip_ours(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_data.arp_sip = OUR_IP;
	farp(f)->arp_data.arp_tip = IP4(10, 0, 0, 9);
}
static void arp_not_for_us(struct zpt_env *env, struct frame *f)
{
	arp_req(env, f);
	farp(f)->arp_data.arp_tip = IP4(10, 0, 0, 9);
}

/* -- IPv4 --------------------------------------------------------------------------------- */
static void ip_version(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->version_ihl = 0x65;
	fix_ip(f);
}
static void ip_ihl_4(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->version_ihl = 0x44;
}
static void ip_ihl_beyond(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	f->len = L4_OFF;
	fip(f)->total_length = rte_cpu_to_be_16(20);
	fip(f)->version_ihl = 0x4f; /* 60 bytes of header in 20 */
}
static void ip_totlen_small(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->total_length = rte_cpu_to_be_16(10);
	fix_ip(f);
}
static void ip_totlen_large(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->total_length = rte_cpu_to_be_16(1400);
	fix_ip(f);
}
static void ip_csum(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->hdr_checksum = (uint16_t)~fip(f)->hdr_checksum;
}
static void ip_options(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	memmove(f->b + L4_OFF + 8, f->b + L4_OFF, f->len - L4_OFF);
	/* A record-route option with room for one address, then end-of-options (RFC 791). */
	f->b[L4_OFF] = 7;
	f->b[L4_OFF + 1] = 7;
	f->b[L4_OFF + 2] = 4;
	memset(f->b + L4_OFF + 3, 0, 5);
	f->len += 8;
	fip(f)->version_ihl = 0x47;
	fip(f)->total_length = rte_cpu_to_be_16((uint16_t)(f->len - IP_OFF));
	fix_ip(f);
}
static void ip_mf(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->fragment_offset = rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG);
	fix_ip(f);
}
static void ip_offset(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->fragment_offset = rte_cpu_to_be_16(8);
	fix_ip(f);
}
static void ip_src(struct frame *f, rte_be32_t src)
{
	fip(f)->src_addr = src;
	fix_ip(f);
	fix_icmp(f);
}
static void ip_src_multicast(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_src(f, IP4(224, 0, 0, 251));
}
static void ip_src_broadcast(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_src(f, IP4(255, 255, 255, 255));
}
static void ip_src_loopback(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_src(f, IP4(127, 0, 0, 1));
}
static void ip_src_ours(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_src(f, OUR_IP);
}
static void ip_dst(struct frame *f, rte_be32_t dst)
{
	fip(f)->dst_addr = dst;
	fix_ip(f);
}
static void ip_dst_other(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_dst(f, IP4(10, 0, 0, 9));
}
static void ip_dst_broadcast(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_dst(f, IP4(255, 255, 255, 255));
}
static void ip_dst_multicast(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ip_dst(f, IP4(224, 0, 0, 1));
}
static void ip_proto(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	fip(f)->next_proto_id = PROTO_TEST;
	fix_ip(f);
}

/* -- ICMP --------------------------------------------------------------------------------- */
static void icmp_csum(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ficmp(f)->icmp_cksum ^= 0x0101;
}
static void icmp_short(struct zpt_env *env, struct frame *f)
{
	/* The IP total length leaves only 4 bytes of ICMP; the rest is trailing padding. */
	ping(env, f);
	fip(f)->total_length = rte_cpu_to_be_16(24);
	fix_ip(f);
}
static void icmp_type(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ficmp(f)->icmp_type = 42; /* extended echo request (RFC 8335), not supported */
	fix_icmp(f);
}
static void icmp_redirect(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ficmp(f)->icmp_type = 5;
	fix_icmp(f);
}
static void icmp_unreach_no_hook(struct zpt_env *env, struct frame *f)
{
	ping(env, f);
	ficmp(f)->icmp_type = 3;
	ficmp(f)->icmp_code = 1;
	fix_icmp(f);
}

struct malformed {
	const char *name;
	void (*build)(struct zpt_env *env, struct frame *f);
	enum dp_drop drop;
};

static const struct malformed corpus[] = {
	{"frame to another host's MAC", eth_other_unicast, DP_DROP_ETH_DST},
	{"frame to a multicast MAC", eth_multicast, DP_DROP_ETH_DST},
	{"unknown EtherType", eth_unknown_type, DP_DROP_ETH_TYPE},
	{"IPv6 EtherType", eth_ipv6, DP_DROP_ETH_TYPE},
	{"802.3 length instead of a type", eth_8023_length, DP_DROP_ETH_TYPE},
	{"802.1Q tagged ping", eth_vlan, DP_DROP_ETH_TYPE},
	{"802.1ad tagged ping", eth_qinq, DP_DROP_ETH_TYPE},
	{"ARP one byte short", arp_short, DP_DROP_ARP_SHORT},
	{"ARP hardware length 8", arp_hlen, DP_DROP_ARP_FORMAT},
	{"ARP protocol length 16", arp_plen, DP_DROP_ARP_FORMAT},
	{"ARP hardware type IEEE 802", arp_hrd, DP_DROP_ARP_FORMAT},
	{"ARP protocol IPv6", arp_pro, DP_DROP_ARP_FORMAT},
	{"ARP opcode RARP request", arp_op_rarp, DP_DROP_ARP_OP},
	{"ARP opcode 0", arp_op_zero, DP_DROP_ARP_OP},
	{"ARP sender MAC broadcast", arp_sha_broadcast, DP_DROP_ARP_BAD_SENDER},
	{"ARP sender MAC multicast", arp_sha_multicast, DP_DROP_ARP_BAD_SENDER},
	{"ARP sender MAC zero", arp_sha_zero, DP_DROP_ARP_BAD_SENDER},
	{"ARP sender IP multicast", arp_sip_multicast, DP_DROP_ARP_BAD_SENDER},
	{"ARP sender IP broadcast", arp_sip_broadcast, DP_DROP_ARP_BAD_SENDER},
	{"ARP sender IP loopback", arp_sip_loopback, DP_DROP_ARP_BAD_SENDER},
	{"ARP reply from IP 0", arp_reply_sip_zero, DP_DROP_ARP_BAD_SENDER},
	{"ARP sender claims our IP", arp_sip_ours, DP_DROP_ARP_CONFLICT},
	{"ARP request for another host", arp_not_for_us, DP_DROP_ARP_NOT_FOR_US},
	{"IP version 6 in an IPv4 frame", ip_version, DP_DROP_IP_VERSION},
	{"IP header length 16", ip_ihl_4, DP_DROP_IP_HDRLEN},
	{"IP header length beyond the packet", ip_ihl_beyond, DP_DROP_IP_HDRLEN},
	{"IP total length below the header", ip_totlen_small, DP_DROP_IP_TOTLEN},
	{"IP total length beyond the frame", ip_totlen_large, DP_DROP_IP_TOTLEN},
	{"IP header checksum wrong", ip_csum, DP_DROP_IP_CSUM},
	{"IP options (record route)", ip_options, DP_DROP_IP_OPTIONS},
	{"IP fragment with MF", ip_mf, DP_DROP_IP_FRAGMENT},
	{"IP fragment with an offset", ip_offset, DP_DROP_IP_FRAGMENT},
	{"IP source multicast", ip_src_multicast, DP_DROP_IP_BAD_SRC},
	{"IP source broadcast", ip_src_broadcast, DP_DROP_IP_BAD_SRC},
	{"IP source loopback", ip_src_loopback, DP_DROP_IP_BAD_SRC},
	{"IP source is our own address", ip_src_ours, DP_DROP_IP_BAD_SRC},
	{"IP destination another host", ip_dst_other, DP_DROP_IP_NOT_FOR_US},
	{"IP destination limited broadcast", ip_dst_broadcast, DP_DROP_IP_NOT_FOR_US},
	{"IP destination multicast", ip_dst_multicast, DP_DROP_IP_NOT_FOR_US},
	{"IP protocol without handler", ip_proto, DP_DROP_IP_PROTO},
	{"ICMP checksum wrong", icmp_csum, DP_DROP_ICMP_CSUM},
	{"ICMP shorter than its header", icmp_short, DP_DROP_ICMP_SHORT},
	{"ICMP unknown type", icmp_type, DP_DROP_ICMP_TYPE},
	{"ICMP redirect", icmp_redirect, DP_DROP_ICMP_TYPE},
	{"ICMP unreachable, no transport hook", icmp_unreach_no_hook, DP_DROP_ICMP_TYPE},
};

static int setup(void **state)
{
	struct zpt_env *env = zpt_env_new(1);
	struct rte_ether_addr peer = peer_mac();

	dp_arp_update(env->w, 0, PEER_IP, &peer);
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	zpt_env_free(*state);
	return 0;
}

static void inject_and_expect(struct zpt_env *env, const struct frame *f, enum dp_drop why,
			      const char *what)
{
	struct counters before;

	counters_take(env, &before);
	zpt_inject(env, 0, f->b, f->len);
	zpt_poll(env);
	assert_dropped_once(env, &before, why, what);
	if (zpt_tx_count(env, 0) != 0)
		fail_msg("%s: the stack sent %u frame(s)", what, zpt_tx_count(env, 0));
}

static void assert_ping_answered(struct zpt_env *env)
{
	struct frame f;
	struct rte_mbuf *m;

	ping(env, &f);
	zpt_inject(env, 0, f.b, f.len);
	zpt_poll(env);
	m = pop_only(env, 0);
	assert_int_equal(((struct rte_icmp_hdr *)frame_l4(m))->icmp_type, RTE_IP_ICMP_ECHO_REPLY);
	rte_pktmbuf_free(m);
}

static void test_malformed_corpus_each_raises_exactly_its_counter_and_sends_nothing(void **state)
{
	struct zpt_env *env = *state;
	struct frame f;
	unsigned i;

	/* The unmodified frames really are accepted, so each entry tests its one defect. */
	assert_ping_answered(env);

	for (i = 0; i < RTE_DIM(corpus); i++) {
		memset(&f, 0, sizeof(f));
		corpus[i].build(env, &f);
		inject_and_expect(env, &f, corpus[i].drop, corpus[i].name);
	}
	assert_ping_answered(env);
}

static void test_malformed_truncated_ping_at_every_length_is_dropped(void **state)
{
	struct zpt_env *env = *state;
	struct frame full, f;
	size_t len;

	ping(env, &full);
	for (len = 0; len < full.len; len++) {
		char what[64];
		enum dp_drop why;

		if (len < ETH_LEN)
			why = DP_DROP_ETH_RUNT;
		else if (len < L4_OFF)
			why = DP_DROP_IP_SHORT;
		else
			why = DP_DROP_IP_TOTLEN;
		f = full;
		f.len = len;
		snprintf(what, sizeof(what), "ping cut to %zu of %zu bytes", len, full.len);
		inject_and_expect(env, &f, why, what);
	}
	assert_ping_answered(env);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_malformed_corpus_each_raises_exactly_its_counter_and_sends_nothing,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_malformed_truncated_ping_at_every_length_is_dropped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
