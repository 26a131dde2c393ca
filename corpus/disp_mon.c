// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_mon: a dispatcher component that watches everything first (priority 1). It counts frames
 * per EtherType class and says XDP_DROP for EtherTypes it does not know; its run configuration
 * lets the chain go on after XDP_DROP as after XDP_PASS, so that its verdict is only advice and
 * the programs after it decide.
 */
#include "disp.h"

enum { MON_IPV4, MON_IPV6, MON_ARP, MON_VLAN, MON_OTHER, MON_RUNT, MON_MAX };

COUNTERS(mon_frames, MON_MAX);

struct {
	__uint(priority, 1);
	__uint(XDP_PASS, 1);
	__uint(XDP_DROP, 1);
} XDP_RUN_CONFIG(xdp_mon);

SEC("xdp")
int xdp_mon(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end) {
		bump(&mon_frames, MON_RUNT);
		return XDP_DROP;
	}
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		bump(&mon_frames, MON_IPV4);
		return XDP_PASS;
	case bpf_htons(ETH_P_IPV6):
		bump(&mon_frames, MON_IPV6);
		return XDP_PASS;
	case bpf_htons(ETH_P_ARP):
		bump(&mon_frames, MON_ARP);
		return XDP_PASS;
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		bump(&mon_frames, MON_VLAN);
		return XDP_PASS;
	}
	bump(&mon_frames, MON_OTHER);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
