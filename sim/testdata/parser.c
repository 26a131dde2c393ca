// SPDX-License-Identifier: GPL-2.0
/* parser: the benchmark's Ethernet/IPv4/UDP parser. It counts UDP datagrams per destination port
 * bucket and passes everything; about 40 instructions run for a UDP packet. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} udp_ports SEC(".maps");

SEC("xdp")
int xdp_parser(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct udphdr *udp;
	__u32 bucket;
	__u64 *count;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = (void *)(eth + 1);
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_DROP;
	if (iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	bucket = bpf_ntohs(udp->dest) & 0xff;
	count = bpf_map_lookup_elem(&udp_ports, &bucket);
	if (count)
		__sync_fetch_and_add(count, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
