// relay-floor's kernel half (tests/bench/relay_floor.cpp): every byte a relayed socket receives is
// sent on by its peer socket without leaving the kernel. `peers` maps a socket's cookie to its peer,
// so putting the pair (A's cookie → B, B's cookie → A) in the map attaches this program to both.
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

struct {
  __uint(type, BPF_MAP_TYPE_SOCKHASH);
  __uint(max_entries, 64);
  __type(key, __u64);
  __type(value, __u64);
} peers SEC(".maps");

SEC("sk_skb")
int relay(struct __sk_buff* skb) {
  __u64 key = bpf_get_socket_cookie(skb);
  return bpf_sk_redirect_hash(skb, &peers, &key, 0);  // 0: to the peer's sending side
}

char LICENSE[] SEC("license") = "GPL";
