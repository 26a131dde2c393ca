// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_nat44: source NAT for TCP and UDP at tc, with the kernel's checksum helpers.
 *  - outbound (source inside 10.0.0.0/8, destination outside): the source becomes 192.0.2.1 and
 *    a port handed out in arrival order from 20000; the mapping is kept both ways in LRU hashes;
 *  - inbound to 192.0.2.1 on a mapped port: translated back; on another port: TC_ACT_SHOT;
 *  - addresses and ports are written with bpf_skb_store_bytes (BPF_F_INVALIDATE_HASH for the
 *    address), the IPv4 checksum fixed with bpf_l3_csum_replace, the L4 checksum with
 *    bpf_l4_csum_replace (BPF_F_PSEUDO_HDR for the address, the port as a 2-byte field, and
 *    BPF_F_MARK_MANGLED_0 for UDP, so that a datagram without a checksum keeps none);
 *  - fragments and other protocols pass untranslated.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define INSIDE_NET  bpf_htonl(0x0a000000)
#define INSIDE_MASK bpf_htonl(0xff000000)
#define PUBLIC_IP   bpf_htonl(0xc0000201)
#define PORT_BASE   20000
#define PORT_COUNT  8192

__u32 next_port;

struct flow {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct binding {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow);
	__type(value, struct binding);
} tc_nat_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow);
	__type(value, struct binding);
} tc_nat_in SEC(".maps");

enum { N_OUT_NEW, N_OUT, N_IN, N_IN_DROP, N_UNTRANSLATED, N_HELPER_FAIL, N_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, N_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tc_nat_stats SEC(".maps");

static __always_inline void bump(__u32 i)
{
	__u64 *v = bpf_map_lookup_elem(&tc_nat_stats, &i);

	if (v)
		__sync_fetch_and_add(v, 1);
}

#define IP_OFF ETH_HLEN
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_SRC_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))

/* rewrite replaces the address at addr_off and the port at port_off, fixing both checksums. */
static __always_inline int rewrite(struct __sk_buff *skb, __u32 l4_off, __u8 proto, __u32 addr_off,
				   __be32 old_addr, __be32 new_addr, __u32 port_off, __be16 old_port, __be16 new_port)
{
	__u32 csum_off = l4_off + (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	__u64 mangled = proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (bpf_l4_csum_replace(skb, csum_off, old_addr, new_addr, BPF_F_PSEUDO_HDR | mangled | sizeof(new_addr)))
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr)))
		return -1;
	if (bpf_skb_store_bytes(skb, addr_off, &new_addr, sizeof(new_addr), BPF_F_INVALIDATE_HASH))
		return -1;
	if (bpf_l4_csum_replace(skb, csum_off, old_port, new_port, mangled | sizeof(new_port)))
		return -1;
	if (bpf_skb_store_bytes(skb, port_off, &new_port, sizeof(new_port), 0))
		return -1;
	return 0;
}

SEC("tc")
int tc_nat44(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct flow f = {};
	__u32 l4_off;
	__be16 *ports;

	if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto untranslated;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		goto untranslated;
	if (iph->frag_off & bpf_htons(0x3fff))
		goto untranslated;
	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		goto untranslated;
	l4_off = IP_OFF + iph->ihl * 4;
	if (l4_off > 74)
		goto untranslated;
	ports = (void *)eth + l4_off;
	if ((void *)(ports + 2) > data_end)
		goto untranslated;
	if (iph->protocol == IPPROTO_TCP && (void *)eth + l4_off + sizeof(struct tcphdr) > data_end)
		goto untranslated;
	if (iph->protocol == IPPROTO_UDP && (void *)eth + l4_off + sizeof(struct udphdr) > data_end)
		goto untranslated;
	f.saddr = iph->saddr;
	f.daddr = iph->daddr;
	f.sport = ports[0];
	f.dport = ports[1];
	f.proto = iph->protocol;

	if ((f.saddr & INSIDE_MASK) == INSIDE_NET && (f.daddr & INSIDE_MASK) != INSIDE_NET) {
		struct binding *b = bpf_map_lookup_elem(&tc_nat_out, &f);
		struct binding nb = {};

		if (!b) {
			struct flow back = { .saddr = f.daddr, .daddr = PUBLIC_IP, .sport = f.dport, .proto = f.proto };
			struct binding orig = { .addr = f.saddr, .port = f.sport };
			__u32 n = __sync_fetch_and_add(&next_port, 1);

			nb.addr = PUBLIC_IP;
			nb.port = bpf_htons(PORT_BASE + n % PORT_COUNT);
			back.dport = nb.port;
			bpf_map_update_elem(&tc_nat_out, &f, &nb, BPF_ANY);
			bpf_map_update_elem(&tc_nat_in, &back, &orig, BPF_ANY);
			b = &nb;
			bump(N_OUT_NEW);
		}
		nb = *b;
		if (rewrite(skb, l4_off, f.proto, IP_SRC_OFF, f.saddr, nb.addr, l4_off, f.sport, nb.port)) {
			bump(N_HELPER_FAIL);
			return TC_ACT_SHOT;
		}
		bump(N_OUT);
		skb->mark = 0x4e4154;
		return TC_ACT_OK;
	}
	if (f.daddr == PUBLIC_IP) {
		struct binding *b = bpf_map_lookup_elem(&tc_nat_in, &f);
		struct binding ob;

		if (!b) {
			bump(N_IN_DROP);
			return TC_ACT_SHOT;
		}
		ob = *b;
		if (rewrite(skb, l4_off, f.proto, IP_DST_OFF, f.daddr, ob.addr, l4_off + 2, f.dport, ob.port)) {
			bump(N_HELPER_FAIL);
			return TC_ACT_SHOT;
		}
		bump(N_IN);
		return TC_ACT_OK;
	}
untranslated:
	bump(N_UNTRANSLATED);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
