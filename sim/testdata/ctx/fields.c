// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* fields: every xdp_md field an XDP program may read, with jumps, a loop, a 64-bit constant,
 * a static and a global bpf-to-bpf call across the loads the verifier expands, so that the
 * xlated program has to move every branch and call.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int queue_of(struct xdp_md *ctx)
{
	return ctx->rx_queue_index;
}

__noinline int ifindex_of(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

SEC("xdp")
int xdp_fields(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	void *meta = (void *)(long)ctx->data_meta;
	__u64 sum = 0x1122334455667788ULL;
	int i;

	if (meta > data)
		return XDP_ABORTED;
	if (data + 14 > data_end)
		return XDP_DROP;
#pragma nounroll
	for (i = 0; i < 4; i++) {
		asm volatile("" ::: "memory");
		sum += ctx->rx_queue_index;
	}
	if (ctx->ingress_ifindex == 1)
		return XDP_PASS;
	if (sum == 0x1122334455667790ULL)
		return XDP_REDIRECT;
	if (ifindex_of(ctx) + queue_of(ctx) == 7)
		return XDP_TX;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
