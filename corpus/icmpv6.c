// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* icmpv6: ICMPv6 checks and an echo responder.
 *  - every ICMPv6 type is counted;
 *  - neighbour discovery (types 133-137) must arrive with hop limit 255 and code 0 (RFC 4861),
 *    otherwise it is dropped;
 *  - an echo request to a unicast address becomes an echo reply in place (addresses and MACs
 *    swapped, hop limit 64, type 129); the checksum is fixed with RFC 1624 arithmetic; XDP_TX.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ICMPV6_ECHO_REQUEST_	128
#define ICMPV6_ECHO_REPLY_	129
#define ND_ROUTER_SOLICIT_	133
#define ND_REDIRECT_		137

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} icmp6_types SEC(".maps");

enum { I6_ECHO_ANSWERED, I6_ND_BAD_HOPLIMIT, I6_ND_BAD_CODE, I6_ECHO_MULTICAST, I6_TRUNCATED, I6_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, I6_MAX);
	__type(key, __u32);
	__type(value, __u64);
} icmp6_stats SEC(".maps");

static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m') */
static __always_inline __u16 csum_replace2(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

SEC("xdp")
int xdp_icmpv6(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct icmp6hdr *icmp6 = (void *)(ip6 + 1);
	struct in6_addr tmp;
	__u8 mac[ETH_ALEN];
	__u16 old, new;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_ICMPV6)
		return XDP_PASS;
	if ((void *)(icmp6 + 1) > data_end) {
		bump(&icmp6_stats, I6_TRUNCATED);
		return XDP_DROP;
	}

	bump(&icmp6_types, icmp6->icmp6_type);

	if (icmp6->icmp6_type >= ND_ROUTER_SOLICIT_ && icmp6->icmp6_type <= ND_REDIRECT_) {
		if (ip6->hop_limit != 255) {
			bump(&icmp6_stats, I6_ND_BAD_HOPLIMIT);
			return XDP_DROP;
		}
		if (icmp6->icmp6_code != 0) {
			bump(&icmp6_stats, I6_ND_BAD_CODE);
			return XDP_DROP;
		}
		return XDP_PASS;
	}

	if (icmp6->icmp6_type != ICMPV6_ECHO_REQUEST_ || icmp6->icmp6_code != 0)
		return XDP_PASS;
	if (ip6->daddr.in6_u.u6_addr8[0] == 0xff) {
		bump(&icmp6_stats, I6_ECHO_MULTICAST);
		return XDP_PASS;
	}

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	tmp = ip6->saddr;
	ip6->saddr = ip6->daddr;
	ip6->daddr = tmp;
	ip6->hop_limit = 64;

	old = *(__u16 *)icmp6;
	icmp6->icmp6_type = ICMPV6_ECHO_REPLY_;
	new = *(__u16 *)icmp6;
	icmp6->icmp6_cksum = csum_replace2(icmp6->icmp6_cksum, old, new);

	bump(&icmp6_stats, I6_ECHO_ANSWERED);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
