// SPDX-License-Identifier: GPL-2.0
/* tailcalls: a program array and maps of maps, all filled statically with .values in C.
 *  - counts_by_family (array_of_maps) holds an inner array per address family: slot 0 IPv4,
 *    slot 1 IPv6; slot 2 (everything else) is left empty;
 *  - by_ifindex (hash_of_maps) holds an inner hash for ingress ifindex 1 and 3: frames arriving
 *    elsewhere are dropped; the inner hash counts frames per family;
 *  - jump (prog_array) sends IPv4 to to_ipv4 (which drops) and IPv6 to to_ipv6 (which swaps the
 *    MAC addresses and returns XDP_TX); slot 2 is empty, so other frames fall through to
 *    XDP_PASS in dispatch.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct family_counts {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
};

struct family_counts ipv4_counts SEC(".maps"), ipv6_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, struct family_counts);
} counts_by_family SEC(".maps") = {
	.values = { [0] = &ipv4_counts, [1] = &ipv6_counts },
};

struct per_family {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
};

struct per_family loopback_rules SEC(".maps"), third_rules SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct per_family);
} by_ifindex SEC(".maps") = {
	.values = { [1] = &loopback_rules, [3] = &third_rules },
};

SEC("xdp")
int to_ipv4(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp")
int to_ipv6(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char mac[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__array(values, int(void *));
} jump SEC(".maps") = {
	.values = { [0] = (void *)&to_ipv4, [1] = (void *)&to_ipv6 },
};

SEC("xdp")
int dispatch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 family, zero = 0, one = 1, ifindex = ctx->ingress_ifindex;
	void *inner;
	__u64 *count;
	__u32 *n;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		family = 0;
	else if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		family = 1;
	else
		family = 2;

	inner = bpf_map_lookup_elem(&counts_by_family, &family);
	if (inner) {
		count = bpf_map_lookup_elem(inner, &zero);
		if (count)
			*count += 1;
		count = bpf_map_lookup_elem(inner, &one);
		if (count)
			*count += end - data;
	}

	inner = bpf_map_lookup_elem(&by_ifindex, &ifindex);
	if (!inner)
		return XDP_DROP;
	n = bpf_map_lookup_elem(inner, &family);
	if (n)
		*n += 1;
	else
		bpf_map_update_elem(inner, &family, &one, BPF_NOEXIST);

	bpf_tail_call(ctx, &jump, family);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
