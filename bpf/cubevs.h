/* CubeVS: the maps and constants shared by the eBPF data path (bpf/cubevs.bpf.c) and cube-tap.
 *
 * One header for both sides, fixed-width types only, so that the layout the programs read is the
 * layout cube-tap writes. Addresses are IPv4 in network byte order (as they sit in the packet);
 * ports are in host byte order (as operators and the state file name them).
 *
 * A change of any struct or map size here changes CUBEVS_LAYOUT: cube-tap pins each layout under
 * its own directory (<bpf_pin_dir>/v<CUBEVS_LAYOUT>/) and rebuilds the maps of a new layout from
 * the state file, so an upgrade never reads maps written with another layout.
 */
#ifndef CUBE_BPF_CUBEVS_H
#define CUBE_BPF_CUBEVS_H

#include <linux/types.h>

#define CUBEVS_LAYOUT 1

/* Map sizes by default; cube-tap may resize them before load ([tap] bpf_max_taps, ...). */
#define CUBEVS_MAX_TAPS 8192
#define CUBEVS_MAX_PORTS 65536

#define CUBEVS_ID_LEN 64

/* Node-wide settings, one element of the `cube_config` array map, written by `cube-tap setup`. */
struct cube_config {
  __u32 guest_ip;       /* the address every guest has: 169.254.68.6 */
  __u32 gateway_ip;     /* the guest's gateway: 169.254.68.5 */
  __u32 node_gw_ip;     /* the node's gateway address on lo (CIDR index 1) */
  __u32 node_ip;        /* the uplink's address: the source of the port-mapping fast path */
  __u32 uplink_ifindex; /* where the fast path sends */
  __u8 gateway_mac[6];  /* every TAP's own MAC, and the guest's gateway */
  __u8 guest_mac[6];    /* every guest's MAC */
};

/* tap_meta: TAP ifindex -> the sandbox behind it. */
struct tap_meta {
  __u32 sandbox_ip; /* the sandbox's host-side address */
  __u32 flags;      /* reserved */
  char id[CUBEVS_ID_LEN];
};

/* guest_port: (TAP ifindex, guest port) -> host port (__u32). Replies from an exposed guest port. */
struct guest_port_key {
  __u32 ifindex;
  __u16 port;
  __u16 pad; /* zero */
};

/* host_port: host port (__u32) -> where it leads. Inbound connections to a mapped port. */
struct port_target {
  __u32 ifindex;
  __u16 port;
  __u16 pad; /* zero */
};

/* tap_stats: TAP ifindex -> counters, one copy per CPU (cube-tap sums them). */
struct tap_counters {
  __u64 rewritten;      /* packets whose guest address was rewritten on the kernel path (both ways) */
  __u64 fast_out;       /* fast path: replies from an exposed guest port sent out the uplink */
  __u64 fast_in;        /* fast path: packets to a mapped host port delivered to the TAP */
  __u64 fast_to_kernel; /* fast path: the route could not take it (MTU, no route): kernel path */
  __u64 syn_drop;       /* guest-initiated SYN from an exposed port, dropped */
  __u64 arp_reply;      /* ARP requests for the gateway answered */
  __u64 dropped;        /* other drops: foreign ARP, non-IPv4, spoofed source, to the gateway */
};

/* Adds one CPU's counters to a sum (user space reads a per-CPU value as one copy per CPU). */
static inline void tap_counters_add(struct tap_counters* sum, const struct tap_counters* c) {
  sum->rewritten += c->rewritten;
  sum->fast_out += c->fast_out;
  sum->fast_in += c->fast_in;
  sum->fast_to_kernel += c->fast_to_kernel;
  sum->syn_drop += c->syn_drop;
  sum->arp_reply += c->arp_reply;
  sum->dropped += c->dropped;
}

/* Counters of packets that arrive on a TAP the maps do not know (keyed by ifindex 0 in tap_stats
 * would hide which TAP it was: they live in their own per-CPU array, slot 0). */
struct unknown_counters {
  __u64 unknown_tap;
};

#endif
