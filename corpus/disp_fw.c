// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_fw: a dispatcher component filtering IPv4 (priority 10, chain on XDP_PASS only): mail
 * (TCP port 25) and chargen replies (UDP source port 19) are dropped, IPv4 headers with options
 * abort, the rest passes on.
 */
#include "disp.h"

enum { FW_PASSED, FW_SMTP, FW_CHARGEN, FW_OPTIONS, FW_MAX };

COUNTERS(fw_hits, FW_MAX);

struct {
	__uint(priority, 10);
} XDP_RUN_CONFIG(xdp_fw);

SEC("xdp")
int xdp_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	if (ip->ihl != 5) {
		bump(&fw_hits, FW_OPTIONS);
		return XDP_ABORTED;
	}
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);

		if ((void *)(tcp + 1) <= data_end && tcp->dest == bpf_htons(25)) {
			bump(&fw_hits, FW_SMTP);
			return XDP_DROP;
		}
	} else if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(ip + 1);

		if ((void *)(udp + 1) <= data_end && udp->source == bpf_htons(19)) {
			bump(&fw_hits, FW_CHARGEN);
			return XDP_DROP;
		}
	}
pass:
	bump(&fw_hits, FW_PASSED);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
