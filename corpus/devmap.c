// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* devmap: an L2/L3 switch that forwards through device maps.
 *  - broadcast and multicast frames are flooded: bpf_redirect_map with BPF_F_BROADCAST |
 *    BPF_F_EXCLUDE_INGRESS (XDP_REDIRECT even when the map is empty);
 *  - IPv4: the port is the last octet of the destination modulo 16, looked up in a DEVMAP with
 *    XDP_PASS as the fallback action;
 *  - IPv6: the port key is the last byte of the destination, looked up in a DEVMAP_HASH with
 *    XDP_DROP as fallback for the drop range 2001:db8:dead::/48 and XDP_PASS otherwise;
 *  - ARP goes to arp_ifindex with bpf_redirect;
 *  - the action returned is counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 arp_ifindex = 1;

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} ports_by_key SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);	/* one per XDP action */
	__type(key, __u32);
	__type(value, __u64);
} actions SEC(".maps");

static __always_inline int count(int action)
{
	__u32 k = action & 7;
	__u64 *v = bpf_map_lookup_elem(&actions, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	return action;
}

SEC("xdp")
int xdp_devmap(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u32 key;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_dest[0] & 1)
		return count(bpf_redirect_map(&ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS));

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return count(XDP_DROP);
		key = (bpf_ntohl(iph->daddr) & 0xff) % 16;
		return count(bpf_redirect_map(&ports, key, XDP_PASS));
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__u8 *d;

		if ((void *)(ip6 + 1) > data_end)
			return count(XDP_DROP);
		d = ip6->daddr.in6_u.u6_addr8;
		key = d[15];
		if (d[0] == 0x20 && d[1] == 0x01 && d[2] == 0x0d && d[3] == 0xb8 && d[4] == 0xde && d[5] == 0xad)
			return count(bpf_redirect_map(&ports_by_key, key, XDP_DROP));
		return count(bpf_redirect_map(&ports_by_key, key, XDP_PASS));
	}
	if (eth->h_proto == bpf_htons(ETH_P_ARP))
		return count(bpf_redirect(arp_ifindex, 0));
	return count(XDP_PASS);
}

char _license[] SEC("license") = "GPL";
