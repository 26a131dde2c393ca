// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_chain: three tcx/ingress programs meant to run as one chain, in this order.
 *  - chain_classify tags the packet in cb[0] (1 IPv4, 2 IPv6, 3 ARP, 4 other) and returns
 *    TCX_NEXT for the programs after it;
 *  - chain_police drops runts and IPv4 fragments (TCX_DROP), sends ARP on to the stack at once
 *    (TCX_PASS, ending the chain), counts per class, and returns TCX_NEXT for the rest;
 *  - chain_final sets tc_classid from the class (tcx copies it into tc_index on TCX_PASS) and
 *    skb->priority, and passes; IPv6 with a hop limit of 1 returns TC_ACT_PIPE, which tcx ends
 *    the chain with and treats as TCX_NEXT.
 * Each program also runs alone, as BPF_PROG_TEST_RUN runs it. xdp_pass, in front of them on a
 * device, passes every frame.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* enum tcx_action_base, newer than the installed 6.1 UAPI headers. */
#define TCX_NEXT -1
#define TCX_PASS 0
#define TCX_DROP 2

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} tc_chain_counts SEC(".maps");

static __always_inline void bump(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&tc_chain_counts, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("tcx/ingress")
int chain_classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u32 class = 4;

	if ((void *)(eth + 1) <= data_end) {
		if (eth->h_proto == bpf_htons(ETH_P_IP))
			class = 1;
		else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
			class = 2;
		else if (eth->h_proto == bpf_htons(ETH_P_ARP))
			class = 3;
	}
	skb->cb[0] = class;
	bump(0);
	return TCX_NEXT;
}

SEC("tcx/ingress")
int chain_police(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 class = skb->cb[0];

	bump(1);
	if (skb->len < 60) {
		bump(8);
		return TCX_DROP;
	}
	if (class == 1) {
		struct iphdr *iph = data + ETH_HLEN;

		if ((void *)(iph + 1) <= data_end && (iph->frag_off & bpf_htons(0x3fff))) {
			bump(9);
			return TCX_DROP;
		}
	}
	bump(10 + (class & 3));
	if (class == 3)
		return TCX_PASS;
	return TCX_NEXT;
}

SEC("tcx/ingress")
int chain_final(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 class = skb->cb[0];

	bump(2);
	skb->tc_classid = 0x10 + class;
	skb->priority = class;
	if (class == 2) {
		struct ipv6hdr *ip6 = data + ETH_HLEN;

		if ((void *)(ip6 + 1) <= data_end && ip6->hop_limit == 1) {
			bump(3);
			return TC_ACT_PIPE;
		}
	}
	return TCX_PASS;
}

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
