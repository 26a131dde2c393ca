// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_last: the dispatcher component after disp_verdict (priority 90): it counts, by the same
 * pick as disp_verdict, which packets reached it, so its map shows which return values the
 * dispatcher chained on. It drops SSH (TCP port 22) and passes the rest.
 */
#include "disp.h"

COUNTERS(last_reached, 18);

struct {
	__uint(priority, 90);
} XDP_RUN_CONFIG(xdp_last);

SEC("xdp")
int xdp_last(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = ipv4(ctx);
	struct tcphdr *tcp;

	if (!ip) {
		bump(&last_reached, 16);
		return XDP_PASS;
	}
	bump(&last_reached, bpf_ntohs(ip->id) & 15);
	tcp = (void *)(ip + 1);
	if (ip->protocol == IPPROTO_TCP && (void *)(tcp + 1) <= data_end && tcp->dest == bpf_htons(22)) {
		bump(&last_reached, 17);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
