// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* bad: one program per way of accessing the context that the kernel's verifier rejects. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int narrow(struct xdp_md *ctx)
{
	/* A byte of ingress_ifindex: XDP allows no narrow loads. */
	return *(volatile __u8 *)((void *)ctx + 12);
}

SEC("xdp")
int wide(struct xdp_md *ctx)
{
	/* data as a 64-bit load: xdp_md fields are 32 bits. */
	return *(volatile __u64 *)ctx != 0;
}

SEC("xdp")
int egress(struct xdp_md *ctx)
{
	/* egress_ifindex outside a devmap program. */
	return ctx->egress_ifindex;
}

SEC("xdp")
int write(struct xdp_md *ctx)
{
	ctx->rx_queue_index = 1;
	return XDP_PASS;
}

SEC("xdp")
int ldsx(struct xdp_md *ctx)
{
	long data;

	/* A sign-extending load of a packet pointer. */
	asm volatile("%[d] = *(s32 *)(%[ctx] + 0)" : [d] "=r"(data) : [ctx] "r"(ctx));
	return data != 0;
}

SEC("xdp")
int atomic(struct xdp_md *ctx)
{
	__sync_fetch_and_add(&ctx->rx_queue_index, 1);
	return XDP_PASS;
}

static __noinline int read_at(void *p)
{
	return *(volatile __u32 *)p;
}

SEC("xdp")
int modified(struct xdp_md *ctx)
{
	/* ctx + 16 as a pointer of its own. */
	return read_at((void *)ctx + 16);
}

SEC("xdp")
int mixed(struct xdp_md *ctx)
{
	volatile __u32 local = 2;
	volatile __u32 *p = (void *)ctx;

	/* One load, from ctx (data) on one path and from the stack on the other. */
	if (ctx->rx_queue_index)
		p = &local;
	return *p != 0;
}

char _license[] SEC("license") = "GPL";
