// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_count_small: xdp_count, priority 20, a small program: libxdp puts it before
 * disp_count_big's xdp_count (same priority and name) because it has fewer instructions. It
 * counts IPv4 protocols and drops IPIP; its chain goes on after XDP_DROP too, so the program
 * after it still sees the IPIP packets.
 */
#include "disp.h"

COUNTERS(count_small, 4);

struct {
	__uint(priority, 20);
	__uint(XDP_DROP, 1);
} XDP_RUN_CONFIG(xdp_count);

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	struct iphdr *ip = ipv4(ctx);

	if (!ip)
		return XDP_PASS;
	bump(&count_small, ip->protocol & 3);
	return ip->protocol == IPPROTO_IPIP ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
