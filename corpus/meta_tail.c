// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* meta_tail: bpf_xdp_adjust_tail and bpf_xdp_adjust_meta.
 *  - IPv4 frames longer than their IP total length (Ethernet padding, trailers) are trimmed to it
 *    with a negative bpf_xdp_adjust_tail;
 *  - UDP datagrams to trailer_port grow by 4 bytes (positive adjust_tail, zero-filled by the
 *    kernel) and get the trailer "XDPT" written with bpf_xdp_store_bytes;
 *  - every IPv4/IPv6 frame then gets 8 bytes of metadata for the stack: a mark, the L3 protocol
 *    and the original frame length (bpf_xdp_adjust_meta, checked against data).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 trailer_port = 7777;

struct rx_meta {
	__u32 mark;
	__u16 l3_proto;
	__u16 orig_len;
};

enum { MT_TRIMMED, MT_TRIM_FAILED, MT_GROWN, MT_GROW_FAILED, MT_META, MT_META_FAILED, MT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} mt_stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&mt_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_meta_tail(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct rx_meta *meta;
	__u32 orig_len = data_end - data, mark = 0;
	__be16 proto;
	int grow = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;

	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		__u32 want;

		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			return XDP_PASS;
		want = sizeof(*eth) + bpf_ntohs(iph->tot_len);
		mark = 0x40000 | iph->protocol;
		if (iph->protocol == IPPROTO_UDP && !(iph->frag_off & bpf_htons(0x1fff))) {
			struct udphdr *udp = (void *)iph + iph->ihl * 4;

			if ((void *)(udp + 1) <= data_end && udp->dest == bpf_htons(trailer_port))
				grow = 1;
		}
		if (want >= sizeof(*eth) + sizeof(*iph) && want < orig_len) {
			if (bpf_xdp_adjust_tail(ctx, (int)want - (int)orig_len))
				bump(MT_TRIM_FAILED);
			else
				bump(MT_TRIMMED);
		}
		if (grow) {
			if (bpf_xdp_adjust_tail(ctx, 4)) {
				bump(MT_GROW_FAILED);
			} else {
				const char trailer[4] = { 'X', 'D', 'P', 'T' };
				__u32 new_len = bpf_xdp_get_buff_len(ctx);

				if (bpf_xdp_store_bytes(ctx, new_len - 4, (void *)trailer, 4))
					return XDP_ABORTED;
				bump(MT_GROWN);
			}
		}
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_PASS;
		mark = 0x60000 | ip6->nexthdr;
	} else {
		return XDP_PASS;
	}

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		bump(MT_META_FAILED);
		return XDP_PASS;
	}
	data = (void *)(long)ctx->data;
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > data)
		return XDP_ABORTED;
	meta->mark = mark;
	meta->l3_proto = bpf_ntohs(proto);
	meta->orig_len = orig_len;
	bump(MT_META);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
