// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_acl: a dispatcher component of priority 20, like disp_count_* and disp_dup_*: among equal
 * priorities libxdp orders by function name, and xdp_acl sorts first. It drops IPv4 from
 * 192.0.2.0/24 and counts what it saw.
 */
#include "disp.h"

enum { ACL_PASSED, ACL_DENIED, ACL_MAX };

COUNTERS(acl_hits, ACL_MAX);

struct {
	__uint(priority, 20);
} XDP_RUN_CONFIG(xdp_acl);

SEC("xdp")
int xdp_acl(struct xdp_md *ctx)
{
	struct iphdr *ip = ipv4(ctx);

	if (ip && (ip->saddr & bpf_htonl(0xffffff00)) == bpf_htonl(0xc0000200)) {
		bump(&acl_hits, ACL_DENIED);
		return XDP_DROP;
	}
	bump(&acl_hits, ACL_PASSED);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
