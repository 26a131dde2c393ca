// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* fib_forward: a router that asks the kernel's FIB where each IPv4/IPv6 packet goes.
 *  - bpf_fib_lookup in routing table fib_table (BPF_FIB_LOOKUP_DIRECT|BPF_FIB_LOOKUP_TBID), or the
 *    normal policy lookup when fib_table is 0;
 *  - success: TTL/hop limit decremented, MACs taken from the lookup, bpf_redirect to the egress
 *    device; blackhole, unreachable and prohibit routes drop; anything else goes to the stack;
 *  - each lookup result code is counted.
 * The results follow the routing tables and forwarding settings of the network namespace the
 * program runs in: by default the table does not exist, so every lookup misses.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Newer than the installed UAPI headers (6.1): the table id shares the VLAN fields (6.8). */
#define FIB_LOOKUP_TBID (1U << 3)

struct fib_params {
	__u8 family;
	__u8 l4_protocol;
	__be16 sport;
	__be16 dport;
	__u16 tot_len;
	__u32 ifindex;
	union {
		__u8 tos;
		__be32 flowinfo;
	};
	union {
		__be32 ipv4_src;
		__u32 ipv6_src[4];
	};
	union {
		__be32 ipv4_dst;
		__u32 ipv6_dst[4];
	};
	__u32 tbid;
	__u8 smac[ETH_ALEN];
	__u8 dmac[ETH_ALEN];
};

_Static_assert(sizeof(struct fib_params) == sizeof(struct bpf_fib_lookup), "fib_params layout");

const volatile __u32 fib_table = 0x7864;	/* a table no ordinary host has */

#define AF_INET_	2
#define AF_INET6_	10
#define FIB_RC_SLOTS	16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FIB_RC_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
} fib_results SEC(".maps");

static __always_inline __u16 csum_fold(__u64 csum)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

SEC("xdp")
int xdp_fib_forward(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct fib_params fib = {};
	struct iphdr *iph = 0;
	struct ipv6hdr *ip6 = 0;
	__u32 flags = 0, slot;
	__u64 *v;
	long rc;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		iph = (void *)(eth + 1);
		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		if (iph->ttl <= 1)
			return XDP_PASS;
		fib.family = AF_INET_;
		fib.tos = iph->tos;
		fib.l4_protocol = iph->protocol;
		fib.tot_len = bpf_ntohs(iph->tot_len);
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		if (ip6->hop_limit <= 1)
			return XDP_PASS;
		fib.family = AF_INET6_;
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
	} else {
		return XDP_PASS;
	}
	fib.ifindex = ctx->ingress_ifindex;
	if (fib_table) {
		fib.tbid = fib_table;
		flags = BPF_FIB_LOOKUP_DIRECT | FIB_LOOKUP_TBID;
	}

	rc = bpf_fib_lookup(ctx, (struct bpf_fib_lookup *)&fib, sizeof(fib), flags);
	slot = rc < 0 ? FIB_RC_SLOTS - 1 : (rc < FIB_RC_SLOTS - 1 ? rc : FIB_RC_SLOTS - 2);
	v = bpf_map_lookup_elem(&fib_results, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);

	switch (rc) {
	case BPF_FIB_LKUP_RET_SUCCESS:
		break;
	case BPF_FIB_LKUP_RET_BLACKHOLE:
	case BPF_FIB_LKUP_RET_UNREACHABLE:
	case BPF_FIB_LKUP_RET_PROHIBIT:
		return XDP_DROP;
	default:
		return XDP_PASS;
	}

	/* the packet pointers are still valid: bpf_fib_lookup does not move the packet */
	if (iph) {
		__u32 from = 0, to = 0;

		*(__u16 *)&from = *(__u16 *)&iph->ttl;
		iph->ttl--;
		*(__u16 *)&to = *(__u16 *)&iph->ttl;
		iph->check = csum_fold(bpf_csum_diff(&from, 4, &to, 4, ~iph->check & 0xffff));
	} else if (ip6) {
		ip6->hop_limit--;
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	return bpf_redirect(fib.ifindex, 0);
}

char _license[] SEC("license") = "GPL";
