// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* devmap: a program for devmap entries reads egress_ifindex (the txq's device) next to the
 * ingress fields, and one sign-extending load of ingress_ifindex gets its extra movsx.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp/devmap")
int xdp_egress(struct xdp_md *ctx)
{
	long in;

	if (ctx->egress_ifindex == ctx->ingress_ifindex)
		return XDP_DROP;
	asm volatile("%[in] = *(s32 *)(%[ctx] + 12)" : [in] "=r"(in) : [ctx] "r"(ctx));
	if (in < 0)
		return XDP_ABORTED;
	return ctx->rx_queue_index ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
