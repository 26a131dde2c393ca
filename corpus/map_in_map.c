// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* map_in_map: per-protocol and per-zone accounting through maps of maps, all wired statically in C.
 *  - an ARRAY_OF_MAPS picks an inner array by L4 protocol (TCP, UDP, ICMP; slot 3 is left empty,
 *    so other protocols find no inner map);
 *  - a HASH_OF_MAPS picks an inner hash by zone (1: inside 10.0.0.0/8, 2: elsewhere) where packets
 *    are counted per source address;
 *  - a source that sent more than max_per_source packets is dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u64 max_per_source = 50;

enum { ST_PACKETS, ST_BYTES, ST_MAX };

struct proto_counters {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
};

struct proto_counters tcp_counters SEC(".maps"), udp_counters SEC(".maps"), icmp_counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct proto_counters);
} by_proto SEC(".maps") = {
	.values = { [0] = &tcp_counters, [1] = &udp_counters, [2] = &icmp_counters },
};

struct source_counters {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __be32);
	__type(value, __u64);
};

struct source_counters inside_sources SEC(".maps"), outside_sources SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct source_counters);
} by_zone SEC(".maps") = {
	.values = { [1] = &inside_sources, [2] = &outside_sources },
};

__u64 no_inner_map;	/* .bss */

SEC("xdp")
int xdp_map_in_map(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 slot, zone, k;
	__u64 *v, one = 1;
	void *inner;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;

	switch (iph->protocol) {
	case IPPROTO_TCP:
		slot = 0;
		break;
	case IPPROTO_UDP:
		slot = 1;
		break;
	case IPPROTO_ICMP:
		slot = 2;
		break;
	default:
		slot = 3;
	}
	inner = bpf_map_lookup_elem(&by_proto, &slot);
	if (inner) {
		k = ST_PACKETS;
		v = bpf_map_lookup_elem(inner, &k);
		if (v)
			__sync_fetch_and_add(v, 1);
		k = ST_BYTES;
		v = bpf_map_lookup_elem(inner, &k);
		if (v)
			__sync_fetch_and_add(v, data_end - data);
	} else {
		__sync_fetch_and_add(&no_inner_map, 1);
	}

	zone = (bpf_ntohl(iph->saddr) >> 24) == 10 ? 1 : 2;
	inner = bpf_map_lookup_elem(&by_zone, &zone);
	if (!inner)
		return XDP_ABORTED;
	v = bpf_map_lookup_elem(inner, &iph->saddr);
	if (!v) {
		bpf_map_update_elem(inner, &iph->saddr, &one, BPF_NOEXIST);
		return XDP_PASS;
	}
	if (__sync_fetch_and_add(v, 1) + 1 > max_per_source)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
