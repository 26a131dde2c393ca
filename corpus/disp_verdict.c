// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_verdict: a dispatcher component that returns every kind of value (priority 10, chaining on
 * all five XDP actions). The low four bits of an IPv4 packet's ID pick its return value: the five
 * actions, an invalid action (7), the stubs' value (31), values past the 32-bit chain-call bitmap
 * (32, 63), values that wrap around the dispatcher's 6-bit shift (66, 95) and -1. Other frames
 * pass. XDP_REDIRECT comes with a target (bpf_redirect to ifindex 1).
 */
#include "disp.h"

COUNTERS(verdict_tried, 17);

struct {
	__uint(priority, 10);
	__uint(XDP_ABORTED, 1);
	__uint(XDP_DROP, 1);
	__uint(XDP_PASS, 1);
	__uint(XDP_TX, 1);
	__uint(XDP_REDIRECT, 1);
} XDP_RUN_CONFIG(xdp_verdict);

SEC("xdp")
int xdp_verdict(struct xdp_md *ctx)
{
	struct iphdr *ip = ipv4(ctx);
	__u32 pick;

	if (!ip) {
		bump(&verdict_tried, 16);
		return XDP_PASS;
	}
	pick = bpf_ntohs(ip->id) & 15;
	bump(&verdict_tried, pick);
	switch (pick) {
	case 0: return XDP_ABORTED;
	case 1: return XDP_DROP;
	case 3: return XDP_TX;
	case 4: return bpf_redirect(1, 0);
	case 5: return 7;
	case 6: return 31;
	case 7: return 32;
	case 8: return 63;
	case 9: return 66;
	case 10: return 95;
	case 11: return -1;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
