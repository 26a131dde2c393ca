// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_count_big: xdp_count again (priority 20), a larger program than disp_count_small's, so
 * libxdp puts it after that one. It counts IPv4 by protocol, TTL and length, and drops UDP to
 * the discard port (9); its chain goes on after XDP_PASS, and after XDP_REDIRECT, which it never
 * returns: that gives it a run configuration of its own among the programs of priority 20, so
 * that the slot order can be read back from libxdp's dispatcher configuration.
 */
#include "disp.h"

enum { BIG_TCP, BIG_UDP, BIG_ICMP, BIG_OTHER, BIG_TTL_LOW, BIG_TTL_64, BIG_TTL_HIGH,
       BIG_SHORT, BIG_LONG, BIG_DISCARD, BIG_MAX };

COUNTERS(count_big, BIG_MAX);

struct {
	__uint(priority, 20);
	__uint(XDP_REDIRECT, 1);
} XDP_RUN_CONFIG(xdp_count);

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	struct iphdr *ip = ipv4(ctx);

	if (!ip)
		return XDP_PASS;
	switch (ip->protocol) {
	case IPPROTO_TCP:
		bump(&count_big, BIG_TCP);
		break;
	case IPPROTO_UDP: {
		struct udphdr *udp = (void *)(ip + 1);

		bump(&count_big, BIG_UDP);
		if ((void *)(udp + 1) <= data_end && udp->dest == bpf_htons(9)) {
			bump(&count_big, BIG_DISCARD);
			return XDP_DROP;
		}
		break;
	}
	case IPPROTO_ICMP:
		bump(&count_big, BIG_ICMP);
		break;
	default:
		bump(&count_big, BIG_OTHER);
	}
	if (ip->ttl < 32)
		bump(&count_big, BIG_TTL_LOW);
	else if (ip->ttl == 64)
		bump(&count_big, BIG_TTL_64);
	else
		bump(&count_big, BIG_TTL_HIGH);
	bump(&count_big, bpf_ntohs(ip->tot_len) < 128 ? BIG_SHORT : BIG_LONG);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
