// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_flen: a frags-aware dispatcher component (SEC("xdp.frags"), priority 10): it counts frames
 * by total length (bpf_xdp_get_buff_len) and by whether part of them sits in fragments, and drops
 * frames over 8000 bytes.
 */
#include "disp.h"

enum { FLEN_1514, FLEN_3520, FLEN_9000, FLEN_MORE, FLEN_FRAGMENTED, FLEN_MAX };

COUNTERS(flen_classes, FLEN_MAX);

struct {
	__uint(priority, 10);
} XDP_RUN_CONFIG(xdp_flen);

SEC("xdp.frags")
int xdp_flen(struct xdp_md *ctx)
{
	__u64 len = bpf_xdp_get_buff_len(ctx);
	__u64 linear = ctx->data_end - ctx->data;

	if (len > linear)
		bump(&flen_classes, FLEN_FRAGMENTED);
	if (len <= 1514)
		bump(&flen_classes, FLEN_1514);
	else if (len <= 3520)
		bump(&flen_classes, FLEN_3520);
	else if (len <= 9000)
		bump(&flen_classes, FLEN_9000);
	else
		bump(&flen_classes, FLEN_MORE);
	return len > 8000 ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
