// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_meta: a dispatcher component that changes packet data (priority 10): it reserves 8 bytes
 * of metadata with bpf_xdp_adjust_meta and writes a tag (a magic word and the frame's length)
 * for the programs after it. Linux 6.13 and later refuse it in libxdp 1.3.1's dispatcher (its
 * stubs do not change packet data); libxdp 1.5.5 and later take it.
 */
#include "disp.h"

#define META_MAGIC 0x6d657461

COUNTERS(meta_stats, 2);

struct {
	__uint(priority, 10);
} XDP_RUN_CONFIG(xdp_meta);

SEC("xdp")
int xdp_meta(struct xdp_md *ctx)
{
	__u32 *meta;
	void *data;

	if (bpf_xdp_adjust_meta(ctx, -8)) {
		bump(&meta_stats, 1);
		return XDP_PASS;
	}
	meta = (void *)(long)ctx->data_meta;
	data = (void *)(long)ctx->data;
	if ((void *)(meta + 2) > data)
		return XDP_ABORTED;
	meta[0] = META_MAGIC;
	meta[1] = ctx->data_end - ctx->data;
	bump(&meta_stats, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
