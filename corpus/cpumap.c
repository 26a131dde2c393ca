// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* cpumap: receive-side steering of flows to CPUs through a CPUMAP.
 *  - a flow hash over addresses, protocol and ports (IPv4 and IPv6) picks one of nr_cpus CPUs;
 *    non-IP traffic goes to CPU 0;
 *  - bpf_redirect_map(&cpus, cpu, XDP_PASS): where the CPU has no entry the packet passes;
 *  - packets are counted per chosen CPU.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_CPUS 8

const volatile __u32 nr_cpus = 4;

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_CPUS);
	__type(key, __u32);
	__type(value, __u64);
} steered SEC(".maps");

static __always_inline __u32 rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

/* a small avalanche mix (murmur3 finaliser style) */
static __always_inline __u32 mix(__u32 h, __u32 v)
{
	v *= 0xcc9e2d51;
	v = rol32(v, 15);
	v *= 0x1b873593;
	h ^= v;
	h = rol32(h, 13);
	return h * 5 + 0xe6546b64;
}

static __always_inline __u32 ports_of(void *l4, void *data_end, __u8 proto)
{
	__u32 *p = l4;

	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return 0;
	if ((void *)(p + 1) > data_end)
		return 0;
	return *p;
}

SEC("xdp")
int xdp_cpumap(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u32 h = 0x9747b28c, cpu = 0, i;
	__u64 *v;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->ihl < 5)
			return XDP_DROP;
		h = mix(h, iph->saddr);
		h = mix(h, iph->daddr);
		h = mix(h, iph->protocol);
		if (!(iph->frag_off & bpf_htons(0x3fff)))
			h = mix(h, ports_of((void *)iph + iph->ihl * 4, data_end, iph->protocol));
		cpu = h % (nr_cpus ? nr_cpus : 1);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		for (i = 0; i < 4; i++) {
			h = mix(h, ip6->saddr.in6_u.u6_addr32[i]);
			h = mix(h, ip6->daddr.in6_u.u6_addr32[i]);
		}
		h = mix(h, ip6->nexthdr);
		h = mix(h, ports_of(ip6 + 1, data_end, ip6->nexthdr));
		cpu = h % (nr_cpus ? nr_cpus : 1);
	}
	cpu &= MAX_CPUS - 1;

	v = bpf_map_lookup_elem(&steered, &cpu);
	if (v)
		__sync_fetch_and_add(v, 1);
	return bpf_redirect_map(&cpus, cpu, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
