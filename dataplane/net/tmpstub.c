/* Placeholder until dataplane/net lands (eth/arp/ipv4/icmp); deleted by that change. */
#include "dp_priv.h"
void dp_arp_init(struct dp_worker *w) { (void)w; }
void dp_arp_fini(struct dp_worker *w) { (void)w; }
void dp_arp_timer(struct dp_worker *w) { (void)w; }
void dp_input(struct dp_worker *w, uint16_t iface, struct rte_mbuf **pkts, uint16_t n) { (void)iface; for (uint16_t i=0;i<n;i++) dp_tx_enqueue(w, 0, pkts[i]); }
