// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_csum: the checksum helpers of tc programs, checked against each other.
 *  - IPv4: the TTL is decremented and the header checksum fixed with bpf_l3_csum_replace on the
 *    TTL/protocol word (a 2-byte field); the result is verified by summing the header with
 *    bpf_csum_diff, and the ID field is then rewritten by a bpf_csum_diff difference
 *    (bpf_l3_csum_replace with field size 0);
 *  - TCP and UDP over IPv4: the destination port is changed and the L4 checksum fixed by a
 *    bpf_csum_diff difference through bpf_l4_csum_replace (field size 0);
 *  - IPv6 UDP: the hop limit is decremented (no checksum to fix) and the source address's last
 *    word changed with bpf_l4_csum_replace (BPF_F_PSEUDO_HDR | BPF_F_IPV6);
 *  - bpf_csum_update (which needs CHECKSUM_COMPLETE) and bpf_csum_level are called and their
 *    results counted; a header whose checksum does not verify is dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#ifndef BPF_F_IPV6
#define BPF_F_IPV6 (1ULL << 7)	/* 6.16 on */
#endif

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s64);
	__type(value, __u64);
} tc_csum_results SEC(".maps");

static __always_inline long note(long base, long ret)
{
	__s64 k = base * 1000 + ret;
	__u64 one = 1, *n = bpf_map_lookup_elem(&tc_csum_results, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tc_csum_results, &k, &one, BPF_NOEXIST);
	return ret;
}

static __always_inline __u16 fold(__u64 csum)
{
	int i;

	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)csum;
}

#define IP_OFF ETH_HLEN

SEC("tc")
int tc_csum(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	note(1, bpf_csum_update(skb, 0x1234));
	note(2, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		struct iphdr hdr;
		__be16 old, new;
		__be16 id;
		__u8 proto;
		__u32 l4;

		if ((void *)(iph + 1) > data_end || iph->ihl != 5 || iph->ttl <= 1)
			return TC_ACT_OK;
		old = *(__be16 *)&iph->ttl;
		new = old - bpf_htons(0x0100);
		proto = iph->protocol;
		id = iph->id;
		if (note(3, bpf_l3_csum_replace(skb, IP_OFF + offsetof(struct iphdr, check), old, new, 2)))
			return TC_ACT_SHOT;
		if (bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, ttl), &new, 2, 0))
			return TC_ACT_SHOT;
		/* Verify: the header sums to 0xffff. */
		if (bpf_skb_load_bytes(skb, IP_OFF, &hdr, sizeof(hdr)))
			return TC_ACT_SHOT;
		if (fold(bpf_csum_diff(0, 0, (__be32 *)&hdr, sizeof(hdr), 0)) != 0xffff) {
			note(4, 1);
			return TC_ACT_SHOT;
		}
		/* The ID field, rewritten by a difference. */
		{
			__be32 from = id, to = id ^ bpf_htons(0x5a5a);
			__s64 diff = bpf_csum_diff(&from, 4, &to, 4, 0);
			__be16 nid = to;

			if (note(5, bpf_l3_csum_replace(skb, IP_OFF + offsetof(struct iphdr, check), 0, diff, 0)))
				return TC_ACT_SHOT;
			if (bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct iphdr, id), &nid, 2, 0))
				return TC_ACT_SHOT;
		}
		l4 = IP_OFF + sizeof(struct iphdr);
		if (proto == IPPROTO_TCP || proto == IPPROTO_UDP) {
			__u32 csum_off = l4 + (proto == IPPROTO_TCP ? 16 : 6);
			__be32 from = 0, to = 0;
			__be16 dport;

			if (bpf_skb_load_bytes(skb, l4 + 2, &dport, 2))
				return TC_ACT_OK;
			from = dport;
			to = dport ^ bpf_htons(0x0100);
			dport = to;
			if (note(6, bpf_l4_csum_replace(skb, csum_off, 0, bpf_csum_diff(&from, 4, &to, 4, 0),
							proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0)))
				return TC_ACT_SHOT;
			if (bpf_skb_store_bytes(skb, l4 + 2, &dport, 2, 0))
				return TC_ACT_SHOT;
		}
		note(7, bpf_csum_level(skb, BPF_CSUM_LEVEL_INC));
		note(8, bpf_csum_level(skb, BPF_CSUM_LEVEL_QUERY));
		note(9, bpf_csum_level(skb, BPF_CSUM_LEVEL_RESET));
		return TC_ACT_OK;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__be32 old, new;

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP || ip6->hop_limit <= 1)
			return TC_ACT_OK;
		ip6->hop_limit--;
		old = ip6->saddr.in6_u.u6_addr32[3];
		new = old ^ bpf_htonl(0xff);
		if (note(10, bpf_l4_csum_replace(skb, IP_OFF + sizeof(*ip6) + 6, old, new,
						 BPF_F_PSEUDO_HDR | BPF_F_IPV6 | BPF_F_MARK_MANGLED_0 | 4)))
			return TC_ACT_SHOT;
		if (bpf_skb_store_bytes(skb, IP_OFF + offsetof(struct ipv6hdr, saddr) + 12, &new, 4, 0))
			return TC_ACT_SHOT;
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
