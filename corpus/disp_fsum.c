// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_fsum: a frags-aware dispatcher component (SEC("xdp.frags"), priority 20): it reads the
 * frame's last byte with bpf_xdp_load_bytes wherever it sits (in a fragment for jumbo frames),
 * counts it by parity and, for frames over 3000 bytes, inverts it with bpf_xdp_store_bytes.
 */
#include "disp.h"

COUNTERS(fsum_last, 3);

struct {
	__uint(priority, 20);
} XDP_RUN_CONFIG(xdp_fsum);

SEC("xdp.frags")
int xdp_fsum(struct xdp_md *ctx)
{
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__u8 b;

	if (len == 0 || bpf_xdp_load_bytes(ctx, len - 1, &b, 1)) {
		bump(&fsum_last, 2);
		return XDP_PASS;
	}
	bump(&fsum_last, b & 1);
	if (len > 3000) {
		b = ~b;
		if (bpf_xdp_store_bytes(ctx, len - 1, &b, 1))
			return XDP_ABORTED;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
