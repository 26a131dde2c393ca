// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* calls: bpf-to-bpf calls, static and global.
 *  - static __noinline parse_l2 (ctx and a stack pointer as arguments) finds the L3 offset past
 *    up to two VLAN tags;
 *  - global is_martian (scalar argument, verified on its own) tells bogon sources;
 *  - global classify (ctx argument) parses IPv4 and returns a class; it calls the static
 *    flow_hash (scalars only) and the global account (map update), four frames deep;
 *  - martian sources are dropped, the rest passes; classes and hash buckets are counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { CL_NOT_IP, CL_MARTIAN, CL_TCP, CL_UDP, CL_ICMP, CL_OTHER, CL_BAD, CL_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CL_MAX);
	__type(key, __u32);
	__type(value, __u64);
} classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} hash_buckets SEC(".maps");

static __noinline int parse_l2(struct xdp_md *ctx, __u32 *l3_off)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__be16 proto;
	__u32 off = sizeof(*eth);
	int i;

	if ((void *)(eth + 1) > data_end)
		return -1;
	proto = eth->h_proto;
	for (i = 0; i < 2; i++) {
		__be16 *tag;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		tag = data + off;
		if ((void *)(tag + 2) > data_end)
			return -1;
		proto = tag[1];
		off += 4;
	}
	*l3_off = off;
	return bpf_ntohs(proto);
}

__noinline int is_martian(__u32 saddr)
{
	__u32 a = bpf_ntohl(saddr);

	return (a >> 24) == 0 || (a >> 24) == 127 || (a >> 16) == 0xa9fe || (a >> 28) >= 0xe;
}

static __noinline __u32 flow_hash(__u32 saddr, __u32 daddr, __u32 proto)
{
	__u32 h = saddr * 0x9e3779b1;

	h ^= daddr + 0x7f4a7c15 + (h << 6) + (h >> 2);
	h ^= proto + 0x7f4a7c15 + (h << 6) + (h >> 2);
	return h;
}

__noinline int account(__u32 class, __u32 hash)
{
	__u64 *v;

	v = bpf_map_lookup_elem(&classes, &class);
	if (v)
		__sync_fetch_and_add(v, 1);
	hash &= 15;
	v = bpf_map_lookup_elem(&hash_buckets, &hash);
	if (v)
		__sync_fetch_and_add(v, 1);
	return 0;
}

__noinline int classify(struct xdp_md *ctx, __u32 l3_off)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *iph;
	__u32 class;

	if (l3_off > 22)
		return CL_BAD;
	iph = data + l3_off;
	if ((void *)(iph + 1) > data_end)
		return CL_BAD;
	if (is_martian(iph->saddr))
		return CL_MARTIAN;
	switch (iph->protocol) {
	case IPPROTO_TCP:
		class = CL_TCP;
		break;
	case IPPROTO_UDP:
		class = CL_UDP;
		break;
	case IPPROTO_ICMP:
		class = CL_ICMP;
		break;
	default:
		class = CL_OTHER;
	}
	account(class, flow_hash(iph->saddr, iph->daddr, iph->protocol));
	return class;
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
	__u32 l3_off = 0;
	int proto, class;

	proto = parse_l2(ctx, &l3_off);
	if (proto < 0)
		return XDP_DROP;
	if (proto != ETH_P_IP) {
		account(CL_NOT_IP, proto);
		return XDP_PASS;
	}
	class = classify(ctx, l3_off);
	if (class == CL_MARTIAN || class == CL_BAD) {
		account(class, 0);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
