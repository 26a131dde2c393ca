// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_dup_b: xdp_dup, priority 20, the same code as disp_dup_a: equal in priority, name and
 * size, the two keep the order they are given in. For UDP to the echo port (7) it swaps the
 * MACs in place and says XDP_TX; it chains on XDP_PASS (and on XDP_ABORTED, which it never
 * returns, to tell its run configuration from the other programs of priority 20), so its XDP_TX
 * ends the chain.
 */
#include "disp.h"

COUNTERS(dup_seen, 2);

struct {
	__uint(priority, 20);
	__uint(XDP_ABORTED, 1);
} XDP_RUN_CONFIG(xdp_dup);

SEC("xdp")
int xdp_dup(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct iphdr *ip = ipv4(ctx);
	struct udphdr *udp;
	__u8 mac[ETH_ALEN];

	if (!ip || ip->protocol != IPPROTO_UDP)
		goto pass;
	udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(7))
		goto pass;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	bump(&dup_seen, 1);
	return XDP_TX;
pass:
	bump(&dup_seen, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
