// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_nat64: stateless IPv4/IPv6 translation of UDP with bpf_skb_change_proto.
 *  - IPv4 UDP from 10.0.0.0/8 becomes IPv6 from 64:ff9b::/96 (the well-known prefix, RFC 6052):
 *    bpf_skb_change_proto makes 20 bytes more room for the header, the program writes the IPv6
 *    header, and fixes the UDP checksum for the new pseudo header with bpf_csum_diff and
 *    bpf_l4_csum_replace;
 *  - IPv6 UDP to 64:ff9b::/96 goes the other way (bpf_skb_change_proto to IPv4, the IPv4 header
 *    written with its checksum);
 *  - ARP frames are marked for another host (bpf_skb_change_type to PACKET_OTHERHOST) and
 *    multicast IPv6 frames to PACKET_HOST; the helpers' results are counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define WKP0 bpf_htonl(0x0064ff9b)

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s64);
	__type(value, __u64);
} tc_nat64_results SEC(".maps");

static __always_inline long note(long base, long ret)
{
	__s64 k = base * 1000 + ret;
	__u64 one = 1, *n = bpf_map_lookup_elem(&tc_nat64_results, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tc_nat64_results, &k, &one, BPF_NOEXIST);
	return ret;
}

static __always_inline __u16 fold(__u64 csum)
{
	int i;

	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

static __always_inline int v4_to_v6(struct __sk_buff *skb, struct iphdr *iph)
{
	struct ipv6hdr ip6 = {};
	__be32 old[2] = { iph->saddr, iph->daddr };
	__be32 new[8];
	__u16 plen = bpf_ntohs(iph->tot_len) - 20;

	ip6.version = 6;
	ip6.payload_len = bpf_htons(plen);
	ip6.nexthdr = IPPROTO_UDP;
	ip6.hop_limit = iph->ttl;
	ip6.saddr.in6_u.u6_addr32[0] = WKP0;
	ip6.saddr.in6_u.u6_addr32[3] = iph->saddr;
	ip6.daddr.in6_u.u6_addr32[0] = WKP0;
	ip6.daddr.in6_u.u6_addr32[3] = iph->daddr;
	__builtin_memcpy(new, &ip6.saddr, 32);
	if (note(1, bpf_skb_change_proto(skb, bpf_htons(ETH_P_IPV6), 0)))
		return -1;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &ip6, sizeof(ip6), 0))
		return -1;
	{
		__be16 type = bpf_htons(ETH_P_IPV6);

		if (bpf_skb_store_bytes(skb, 12, &type, 2, 0))
			return -1;
	}
	note(2, bpf_l4_csum_replace(skb, ETH_HLEN + 40 + 6, 0, bpf_csum_diff(old, 8, new, 32, 0),
				    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0));
	return 0;
}

static __always_inline int v6_to_v4(struct __sk_buff *skb, struct ipv6hdr *ip6)
{
	struct iphdr iph = {};
	__be32 old[8];
	__be32 new[2];

	__builtin_memcpy(old, &ip6->saddr, 32);
	iph.version = 4;
	iph.ihl = 5;
	iph.tot_len = bpf_htons(bpf_ntohs(ip6->payload_len) + 20);
	iph.ttl = ip6->hop_limit;
	iph.protocol = IPPROTO_UDP;
	iph.saddr = ip6->saddr.in6_u.u6_addr32[3];
	iph.daddr = ip6->daddr.in6_u.u6_addr32[3];
	iph.check = fold(bpf_csum_diff(0, 0, (__be32 *)&iph, sizeof(iph), 0));
	new[0] = iph.saddr;
	new[1] = iph.daddr;
	if (note(3, bpf_skb_change_proto(skb, bpf_htons(ETH_P_IP), 0)))
		return -1;
	if (bpf_skb_store_bytes(skb, ETH_HLEN, &iph, sizeof(iph), 0))
		return -1;
	{
		__be16 type = bpf_htons(ETH_P_IP);

		if (bpf_skb_store_bytes(skb, 12, &type, 2, 0))
			return -1;
	}
	note(4, bpf_l4_csum_replace(skb, ETH_HLEN + 20 + 6, 0, bpf_csum_diff(old, 32, new, 8, 0),
				    BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0));
	return 0;
}

SEC("tc")
int tc_nat64(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl != 5 || iph->protocol != IPPROTO_UDP ||
		    (iph->frag_off & bpf_htons(0x3fff)) || (iph->saddr & bpf_htonl(0xff000000)) != bpf_htonl(0x0a000000))
			return TC_ACT_OK;
		return v4_to_v6(skb, iph) ? TC_ACT_SHOT : TC_ACT_OK;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return TC_ACT_OK;
		if (ip6->nexthdr == IPPROTO_UDP && ip6->daddr.in6_u.u6_addr32[0] == WKP0)
			return v6_to_v4(skb, ip6) ? TC_ACT_SHOT : TC_ACT_OK;
		if (ip6->daddr.in6_u.u6_addr8[0] == 0xff)
			note(5, bpf_skb_change_type(skb, 0));
		return TC_ACT_OK;
	}
	if (eth->h_proto == bpf_htons(ETH_P_ARP)) {
		note(6, bpf_skb_change_type(skb, 3));
		note(7, bpf_skb_change_type(skb, 7));
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
