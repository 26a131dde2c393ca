// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* callback: ctx reaches code through the stack: spilled across a helper call, and stored in a
 * struct on the caller's stack that bpf_loop hands to its callback (bpf_loop's callback_ctx has
 * to point to the stack, so the callback reads ctx out of the caller's frame).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct loop_ctx {
	struct xdp_md *ctx;
	__u32 sum;
};

static int add_queue(__u32 index, void *data)
{
	struct loop_ctx *lc = data;

	lc->sum += lc->ctx->rx_queue_index + index;
	return 0;
}

SEC("xdp")
int xdp_callback(struct xdp_md *ctx)
{
	struct loop_ctx lc = { .ctx = ctx };
	struct xdp_md *volatile saved = ctx;

	bpf_loop(4, add_queue, &lc, 0);
	if (lc.sum == 6)
		return XDP_TX;
	return saved->ingress_ifindex ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
