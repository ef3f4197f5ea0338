// SPDX-License-Identifier: GPL-2.0
/* CubeVS: the sandbox data path, three small stateless tc programs (doc/datapath.md).
 *
 *   from_cube   tc ingress of each sandbox TAP (guest -> node)
 *   to_cube     tc egress of each sandbox TAP (node -> guest)
 *   from_world  tc ingress of the uplink (world -> node)
 *
 * Every guest has the same address (169.254.68.6) behind its own TAP; the node knows a sandbox by
 * its host-side address. These programs translate between the two, answer the guest's ARP for its
 * gateway, and serve the port-mapping fast path. Everything else - routing, conntrack, NAT to the
 * world, egress policy - is the kernel's: the programs hand packets to the host stack.
 *
 * Packets are read into stack copies with bpf_skb_load_bytes and written back with the store and
 * checksum helpers, so no packet pointer outlives a helper that may move the data.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stdbool.h>
#include <stddef.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "cubevs.h"

#define AF_INET 2
#define IP_MF 0x2000
#define IP_OFFSET 0x1fff
#define IP_OFF ETH_HLEN
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_SRC_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))
#define ARP_OFF ETH_HLEN

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cube_config);
} cube_config SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CUBEVS_MAX_TAPS);
  __type(key, __u32);
  __type(value, struct tap_meta);
} tap_meta SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CUBEVS_MAX_PORTS);
  __type(key, struct guest_port_key);
  __type(value, __u32);
} guest_port SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, CUBEVS_MAX_PORTS);
  __type(key, __u32);
  __type(value, struct port_target);
} host_port SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
  __uint(max_entries, CUBEVS_MAX_TAPS);
  __type(key, __u32);
  __type(value, struct tap_counters);
} tap_stats SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct unknown_counters);
} unknown_stats SEC(".maps");

/* ARP for Ethernet and IPv4, the only kind a guest sends. */
struct arp_eth_ipv4 {
  __be16 htype;
  __be16 ptype;
  __u8 hlen;
  __u8 plen;
  __be16 op;
  __u8 sha[ETH_ALEN];
  __be32 spa;
  __u8 tha[ETH_ALEN];
  __be32 tpa;
} __attribute__((packed));

/* The ICMP header (linux/icmp.h would pull in libc's headers). */
struct icmp_head {
  __u8 type;
  __u8 code;
  __be16 checksum;
  __be32 rest;
};
#define ICMP_DEST_UNREACH 3
#define ICMP_TIME_EXCEEDED 11

/* What one parse of an IPv4 packet found. */
struct ipv4_view {
  struct iphdr ip;
  __u32 l4_off;
  bool has_l4; /* unfragmented, or the first fragment: the L4 header (and checksum) is here */
};

static __always_inline struct cube_config* config(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&cube_config, &zero);
}

static __always_inline struct tap_counters* counters(__u32 ifindex) {
  struct tap_counters* c = bpf_map_lookup_elem(&tap_stats, &ifindex);
  if (c) return c;
  struct tap_counters zero = {};
  bpf_map_update_elem(&tap_stats, &ifindex, &zero, BPF_NOEXIST);
  return bpf_map_lookup_elem(&tap_stats, &ifindex);
}

#define COUNT(ifindex, field)                    \
  do {                                           \
    struct tap_counters* c_ = counters(ifindex); \
    if (c_) c_->field++;                         \
  } while (0)

static __always_inline int load_ipv4(struct __sk_buff* skb, struct ipv4_view* v) {
  if (bpf_skb_load_bytes(skb, IP_OFF, &v->ip, sizeof(v->ip)) < 0) return -1;
  if (v->ip.version != 4 || v->ip.ihl < 5) return -1;
  v->l4_off = IP_OFF + v->ip.ihl * 4;
  v->has_l4 = (bpf_ntohs(v->ip.frag_off) & IP_OFFSET) == 0;
  return 0;
}

static __always_inline __u32 l4_csum_off(const struct ipv4_view* v) {
  if (v->ip.protocol == IPPROTO_TCP) return v->l4_off + offsetof(struct tcphdr, check);
  if (v->ip.protocol == IPPROTO_UDP) return v->l4_off + offsetof(struct udphdr, check);
  return 0;
}

/* Replaces the address at `off` (the source or destination field), fixing the IPv4 header checksum
 * and the TCP/UDP pseudo-header sum. A UDP checksum of zero means "none" and stays zero; ICMP has
 * no pseudo header. */
static __always_inline int set_addr(struct __sk_buff* skb, const struct ipv4_view* v, __u32 off, __be32 old,
                                    __be32 new) {
  __u32 csum = v->has_l4 ? l4_csum_off(v) : 0;
  if (csum) {
    __u64 flags = BPF_F_PSEUDO_HDR | sizeof(new);
    if (v->ip.protocol == IPPROTO_UDP) flags |= BPF_F_MARK_MANGLED_0;
    if (bpf_l4_csum_replace(skb, csum, old, new, flags) < 0) return -1;
  }
  if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, sizeof(new)) < 0) return -1;
  return bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0);
}

/* Replaces a TCP port at `off`, fixing the TCP checksum. */
static __always_inline int set_port(struct __sk_buff* skb, const struct ipv4_view* v, __u32 off, __be16 old,
                                    __be16 new) {
  if (bpf_l4_csum_replace(skb, l4_csum_off(v), old, new, sizeof(new)) < 0) return -1;
  return bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0);
}

static __always_inline int set_macs(struct __sk_buff* skb, const __u8* dst, const __u8* src) {
  if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), dst, ETH_ALEN, 0) < 0) return -1;
  return bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), src, ETH_ALEN, 0);
}

/* ---- from_cube ------------------------------------------------------------------------------ */

/* The guest asks who has its gateway: answer in place, with the gateway MAC, back out the TAP. */
static __always_inline int answer_arp(struct __sk_buff* skb, const struct cube_config* cfg) {
  struct arp_eth_ipv4 arp;
  struct ethhdr eth;
  if (bpf_skb_load_bytes(skb, 0, &eth, sizeof(eth)) < 0 || bpf_skb_load_bytes(skb, ARP_OFF, &arp, sizeof(arp)) < 0)
    return TC_ACT_SHOT;
  if (arp.htype != bpf_htons(1) || arp.ptype != bpf_htons(ETH_P_IP) || arp.hlen != ETH_ALEN || arp.plen != 4 ||
      arp.op != bpf_htons(1) || arp.tpa != cfg->gateway_ip)
    return TC_ACT_SHOT;
  arp.op = bpf_htons(2);
  __builtin_memcpy(arp.tha, arp.sha, ETH_ALEN);
  arp.tpa = arp.spa;
  __builtin_memcpy(arp.sha, cfg->gateway_mac, ETH_ALEN);
  arp.spa = cfg->gateway_ip;
  if (bpf_skb_store_bytes(skb, ARP_OFF, &arp, sizeof(arp), 0) < 0) return TC_ACT_SHOT;
  if (set_macs(skb, eth.h_source, cfg->gateway_mac) < 0) return TC_ACT_SHOT;
  COUNT(skb->ifindex, arp_reply);
  return bpf_redirect(skb->ifindex, 0);
}

/* Traffic to the gateway itself may reach the node's services: ICMP, and TCP that a node service
 * answers or that answers it; a SYN to the node, UDP and the rest are dropped. */
static __always_inline bool gateway_allows(struct __sk_buff* skb, const struct ipv4_view* v) {
  if (v->ip.protocol == IPPROTO_ICMP) return true;
  if (v->ip.protocol != IPPROTO_TCP || !v->has_l4) return false;
  struct tcphdr tcp;
  if (bpf_skb_load_bytes(skb, v->l4_off, &tcp, sizeof(tcp)) < 0) return false;
  return !(tcp.syn && !tcp.ack);
}

/* A reply from an exposed guest port goes straight out the uplink as node_ip:host_port. Returns
 * -1 when the route cannot take it here (MTU, no route): the kernel path then handles it, and the
 * kernel's ICMP error reaches the guest through to_cube. */
static __always_inline int fast_out(struct __sk_buff* skb, const struct cube_config* cfg, struct ipv4_view* v,
                                    struct tcphdr* tcp, __u16 hport) {
  struct bpf_fib_lookup fib = {};
  fib.family = AF_INET;
  fib.tos = v->ip.tos;
  fib.l4_protocol = IPPROTO_TCP;
  fib.sport = bpf_htons(hport);
  fib.dport = tcp->dest;
  /* A GSO packet is cut into gso_size segments later: the MTU must take one segment with its
   * headers, not the whole packet. */
  fib.tot_len = skb->gso_size ? v->l4_off - IP_OFF + tcp->doff * 4 + skb->gso_size : bpf_ntohs(v->ip.tot_len);
  fib.ipv4_src = cfg->node_ip;
  fib.ipv4_dst = v->ip.daddr;
  fib.ifindex = cfg->uplink_ifindex;
  int rc = bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
  if (rc != BPF_FIB_LKUP_RET_SUCCESS && rc != BPF_FIB_LKUP_RET_NO_NEIGH) return -1;

  if (set_addr(skb, v, IP_SRC_OFF, v->ip.saddr, cfg->node_ip) < 0 ||
      set_port(skb, v, v->l4_off + offsetof(struct tcphdr, source), tcp->source, bpf_htons(hport)) < 0)
    return TC_ACT_SHOT;
  COUNT(skb->ifindex, fast_out);
  if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
  if (set_macs(skb, fib.dmac, fib.smac) < 0) return TC_ACT_SHOT;
  return bpf_redirect(fib.ifindex, 0);
}

SEC("tc")
int from_cube(struct __sk_buff* skb) {
  struct cube_config* cfg = config();
  if (!cfg) return TC_ACT_SHOT;
  skb->queue_mapping = 0; /* the TAP's queue says nothing about the uplink's */

  if (skb->protocol == bpf_htons(ETH_P_ARP)) return answer_arp(skb, cfg);
  if (skb->protocol != bpf_htons(ETH_P_IP)) {
    COUNT(skb->ifindex, dropped);
    return TC_ACT_SHOT;
  }
  __u32 ifindex = skb->ifindex;
  struct tap_meta* meta = bpf_map_lookup_elem(&tap_meta, &ifindex);
  if (!meta) {
    __u32 zero = 0;
    struct unknown_counters* u = bpf_map_lookup_elem(&unknown_stats, &zero);
    if (u) u->unknown_tap++;
    return TC_ACT_SHOT;
  }
  __be32 sandbox_ip = meta->sandbox_ip;

  struct ipv4_view v;
  if (load_ipv4(skb, &v) < 0 || v.ip.saddr != cfg->guest_ip) {
    COUNT(ifindex, dropped); /* not IPv4 as a guest sends it, or not from the guest's address */
    return TC_ACT_SHOT;
  }

  if (v.ip.protocol == IPPROTO_TCP && v.has_l4) {
    struct tcphdr tcp;
    if (bpf_skb_load_bytes(skb, v.l4_off, &tcp, sizeof(tcp)) < 0) {
      COUNT(ifindex, dropped);
      return TC_ACT_SHOT;
    }
    struct guest_port_key key = {.ifindex = ifindex, .port = bpf_ntohs(tcp.source)};
    __u32* hport = bpf_map_lookup_elem(&guest_port, &key);
    if (hport) {
      /* A SYN from an exposed port would leave by the fast path, around egress policy. */
      if (tcp.syn && !tcp.ack) {
        COUNT(ifindex, syn_drop);
        return TC_ACT_SHOT;
      }
      int rc = fast_out(skb, cfg, &v, &tcp, (__u16)*hport);
      if (rc >= 0) return rc;
      COUNT(ifindex, fast_to_kernel);
    }
  }

  if (v.ip.daddr == cfg->gateway_ip) {
    if (!gateway_allows(skb, &v)) {
      COUNT(ifindex, dropped);
      return TC_ACT_SHOT;
    }
    if (set_addr(skb, &v, IP_DST_OFF, v.ip.daddr, cfg->node_gw_ip) < 0) return TC_ACT_SHOT;
  }
  if (set_addr(skb, &v, IP_SRC_OFF, v.ip.saddr, sandbox_ip) < 0) return TC_ACT_SHOT;
  COUNT(ifindex, rewritten);
  return TC_ACT_OK;
}

/* ---- to_cube ------------------------------------------------------------------------------- */

/* An ICMP error quotes the packet that caused it, as the kernel saw it: from the sandbox address.
 * The guest matches the quote against its own sockets, so it must read the guest address. The
 * quoted header keeps a valid checksum, so the ICMP checksum over it does not change. */
static __always_inline int fix_icmp_quote(struct __sk_buff* skb, const struct ipv4_view* v, __be32 sandbox_ip,
                                          __be32 guest_ip) {
  struct icmp_head icmp;
  struct iphdr inner;
  if (!v->has_l4 || bpf_skb_load_bytes(skb, v->l4_off, &icmp, sizeof(icmp)) < 0) return 0;
  if (icmp.type != ICMP_DEST_UNREACH && icmp.type != ICMP_TIME_EXCEEDED) return 0;
  __u32 inner_off = v->l4_off + sizeof(icmp);
  if (bpf_skb_load_bytes(skb, inner_off, &inner, sizeof(inner)) < 0 || inner.saddr != sandbox_ip) return 0;
  if (bpf_l3_csum_replace(skb, inner_off + offsetof(struct iphdr, check), sandbox_ip, guest_ip, 4) < 0) return -1;
  return bpf_skb_store_bytes(skb, inner_off + offsetof(struct iphdr, saddr), &guest_ip, 4, 0);
}

SEC("tc")
int to_cube(struct __sk_buff* skb) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  struct cube_config* cfg = config();
  __u32 ifindex = skb->ifindex;
  struct tap_meta* meta = bpf_map_lookup_elem(&tap_meta, &ifindex);
  if (!cfg || !meta) return TC_ACT_OK;
  __be32 sandbox_ip = meta->sandbox_ip;

  struct ipv4_view v;
  if (load_ipv4(skb, &v) < 0) return TC_ACT_SHOT;
  if (v.ip.daddr == cfg->guest_ip) return TC_ACT_OK; /* from_world has already aimed it at the guest */
  if (v.ip.daddr != sandbox_ip) {
    COUNT(ifindex, dropped);
    return TC_ACT_SHOT;
  }
  if (set_addr(skb, &v, IP_DST_OFF, v.ip.daddr, cfg->guest_ip) < 0) return TC_ACT_SHOT;
  /* Node services answer from the gateway the guest talked to. */
  if (v.ip.saddr == cfg->node_gw_ip && set_addr(skb, &v, IP_SRC_OFF, v.ip.saddr, cfg->gateway_ip) < 0)
    return TC_ACT_SHOT;
  if (v.ip.protocol == IPPROTO_ICMP && fix_icmp_quote(skb, &v, sandbox_ip, cfg->guest_ip) < 0) return TC_ACT_SHOT;
  if (set_macs(skb, cfg->guest_mac, cfg->gateway_mac) < 0) return TC_ACT_SHOT;
  COUNT(ifindex, rewritten);
  return TC_ACT_OK;
}

/* ---- from_world ---------------------------------------------------------------------------- */

SEC("tc")
int from_world(struct __sk_buff* skb) {
  if (skb->protocol != bpf_htons(ETH_P_IP)) return TC_ACT_OK;
  struct cube_config* cfg = config();
  if (!cfg) return TC_ACT_OK;
  struct ipv4_view v;
  if (load_ipv4(skb, &v) < 0 || v.ip.protocol != IPPROTO_TCP || !v.has_l4 || v.ip.daddr != cfg->node_ip)
    return TC_ACT_OK;
  struct tcphdr tcp;
  if (bpf_skb_load_bytes(skb, v.l4_off, &tcp, sizeof(tcp)) < 0) return TC_ACT_OK;
  __u32 hport = bpf_ntohs(tcp.dest);
  struct port_target* t = bpf_map_lookup_elem(&host_port, &hport);
  if (!t) return TC_ACT_OK;
  __u32 ifindex = t->ifindex;
  __be16 gport = bpf_htons(t->port);
  if (!bpf_map_lookup_elem(&tap_meta, &ifindex)) return TC_ACT_OK; /* a mapping whose TAP is gone */

  if (set_addr(skb, &v, IP_DST_OFF, v.ip.daddr, cfg->guest_ip) < 0 ||
      set_port(skb, &v, v.l4_off + offsetof(struct tcphdr, dest), tcp.dest, gport) < 0 ||
      set_macs(skb, cfg->guest_mac, cfg->gateway_mac) < 0)
    return TC_ACT_SHOT;
  COUNT(ifindex, fast_in);
  return bpf_redirect(ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
