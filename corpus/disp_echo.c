// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_echo: a dispatcher component answering ICMP echo requests in place (priority 30): MACs
 * and addresses swapped, type 0, checksum fixed up; XDP_TX. It rewrites bytes where they are
 * and moves no pointer, so libxdp 1.3.1 can attach it on any kernel.
 */
#include "disp.h"

#define ICMP_ECHOREPLY 0
#define ICMP_ECHO 8

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be32 rest;
};

enum { ECHO_REPLIED, ECHO_OTHER, ECHO_MAX };

COUNTERS(echo_stats, ECHO_MAX);

struct {
	__uint(priority, 30);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(xdp_echo);

SEC("xdp")
int xdp_echo(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = ipv4(ctx);
	struct icmphdr *icmp;
	__u8 mac[ETH_ALEN];
	__u32 addr, sum;

	if (!ip || ip->protocol != IPPROTO_ICMP)
		goto other;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > data_end || icmp->type != ICMP_ECHO)
		goto other;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	addr = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = addr;
	icmp->type = ICMP_ECHOREPLY;
	/* The type went from 8 to 0: add 0x0800 back to the one's complement sum. */
	sum = (__u32)icmp->checksum + bpf_htons(0x0800);
	icmp->checksum = (__u16)(sum + (sum >> 16));
	bump(&echo_stats, ECHO_REPLIED);
	return XDP_TX;
other:
	bump(&echo_stats, ECHO_OTHER);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
