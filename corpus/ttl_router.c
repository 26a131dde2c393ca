// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* ttl_router: the forwarding fast path of a one-port router.
 *  - IPv4: TTL <= 1 is dropped; TTL is decremented and the header checksum fixed incrementally
 *    (bpf_csum_diff over the TTL/protocol word); IPv6: hop limit <= 1 dropped, else decremented;
 *  - bpf_check_mtu against the receiving device: a frame too big for it is dropped;
 *  - MACs are rewritten to router_mac -> next_hop_mac and the frame goes back out with XDP_TX.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u8 router_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const volatile __u8 next_hop_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x01 };

enum { RT_FORWARDED_V4, RT_FORWARDED_V6, RT_TTL_EXCEEDED, RT_MTU_EXCEEDED, RT_MTU_ERROR, RT_BAD_HEADER,
       RT_NOT_IP, RT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, RT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rt_stats SEC(".maps");

static __always_inline int count(__u32 idx, int action)
{
	__u64 *v = bpf_map_lookup_elem(&rt_stats, &idx);

	if (v)
		*v += 1;
	return action;
}

static __always_inline __u16 csum_fold(__u64 csum)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

static __always_inline void ipv4_decrease_ttl(struct iphdr *iph)
{
	__u32 from = 0, to = 0;

	/* Only the TTL changes in the (TTL, protocol) word; the rest of from/to stays 0. */
	*(__u16 *)&from = *(__u16 *)&iph->ttl;
	iph->ttl--;
	*(__u16 *)&to = *(__u16 *)&iph->ttl;
	iph->check = csum_fold(bpf_csum_diff(&from, sizeof(from), &to, sizeof(to), ~iph->check & 0xffff));
}

SEC("xdp")
int xdp_ttl_router(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u32 mtu_len = 0, idx;
	int ret, i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			return count(RT_BAD_HEADER, XDP_DROP);
		if (iph->ttl <= 1)
			return count(RT_TTL_EXCEEDED, XDP_DROP);
		ipv4_decrease_ttl(iph);
		idx = RT_FORWARDED_V4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return count(RT_BAD_HEADER, XDP_DROP);
		if (ip6->hop_limit <= 1)
			return count(RT_TTL_EXCEEDED, XDP_DROP);
		ip6->hop_limit--;
		idx = RT_FORWARDED_V6;
	} else {
		return count(RT_NOT_IP, XDP_PASS);
	}

	ret = bpf_check_mtu(ctx, 0, &mtu_len, 0, 0);
	if (ret < 0)
		return count(RT_MTU_ERROR, XDP_ABORTED);
	if (ret != BPF_MTU_CHK_RET_SUCCESS)
		return count(RT_MTU_EXCEEDED, XDP_DROP);

	for (i = 0; i < ETH_ALEN; i++) {
		eth->h_source[i] = router_mac[i];
		eth->h_dest[i] = next_hop_mac[i];
	}
	return count(idx, XDP_TX);
}

char _license[] SEC("license") = "GPL";
