// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_fib: a router at tc ingress with bpf_fib_lookup and bpf_check_mtu for skbs.
 *  - IPv4 is looked up without tot_len, so the kernel checks the whole skb against the egress
 *    device (is_skb_forwardable) and reports that device's MTU; IPv6 is looked up with its
 *    length in tot_len, which the lookup itself checks;
 *  - bpf_check_mtu then checks the packet against the egress device, and against loopback with a
 *    length difference; results and the MTUs it reports are counted;
 *  - on success the TTL or hop limit is decremented (the IPv4 checksum with bpf_l3_csum_replace),
 *    the MACs written and the packet redirected out of the egress device; otherwise it passes.
 * What the lookups answer follows the host's routes, devices and neighbours.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <stddef.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s64);
	__type(value, __u64);
} tc_fib_results SEC(".maps");

static __always_inline long note(long base, long ret)
{
	__s64 k = base * 1000 + ret;
	__u64 one = 1, *n = bpf_map_lookup_elem(&tc_fib_results, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tc_fib_results, &k, &one, BPF_NOEXIST);
	return ret;
}

SEC("tc")
int tc_fib(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib = {};
	__u32 mtu = 0;
	long rc;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	fib.ifindex = skb->ingress_ifindex ? skb->ingress_ifindex : skb->ifindex;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ttl <= 1)
			return TC_ACT_OK;
		fib.family = AF_INET;
		fib.tos = iph->tos;
		fib.l4_protocol = iph->protocol;
		fib.ipv4_src = iph->saddr;
		fib.ipv4_dst = iph->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->hop_limit <= 1)
			return TC_ACT_OK;
		fib.family = AF_INET6;
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, 16);
	} else {
		return TC_ACT_OK;
	}
	rc = note(fib.family, bpf_fib_lookup(skb, &fib, sizeof(fib), 0));
	note(20 + fib.family, fib.mtu_result);
	note(30, bpf_check_mtu(skb, 0, &mtu, 100, 0));
	note(31, mtu);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return TC_ACT_OK;
	mtu = 0;
	note(32, bpf_check_mtu(skb, fib.ifindex, &mtu, 0, 0));
	note(33, mtu);
	if (fib.family == AF_INET) {
		struct iphdr *iph;
		__be16 old, new;

		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
		iph = data + ETH_HLEN;
		if ((void *)(iph + 1) > data_end)
			return TC_ACT_SHOT;
		old = *(__be16 *)&iph->ttl;
		new = old - bpf_htons(0x0100);
		bpf_l3_csum_replace(skb, ETH_HLEN + offsetof(struct iphdr, check), old, new, 2);
		bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct iphdr, ttl), &new, 2, 0);
	} else {
		__u8 hl;

		if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, hop_limit), &hl, 1))
			return TC_ACT_SHOT;
		hl--;
		bpf_skb_store_bytes(skb, ETH_HLEN + offsetof(struct ipv6hdr, hop_limit), &hl, 1, 0);
	}
	bpf_skb_store_bytes(skb, 0, fib.dmac, ETH_ALEN, 0);
	bpf_skb_store_bytes(skb, ETH_ALEN, fib.smac, ETH_ALEN, 0);
	return note(40, bpf_redirect(fib.ifindex, 0));
}

char _license[] SEC("license") = "GPL";
