// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* l3_policy: the programs of the l3-policy setup (l3-policy.json): a pod behind an L3 netkit
 * pair whose default policies are both NETKIT_DROP, with two programs on the peer (the pod's
 * egress), attached so that pod_count runs first (BPF_F_BEFORE):
 *  - pod_count counts the pod's packets by protocol and returns NETKIT_NEXT;
 *  - pod_allow passes DNS (UDP 53), ICMP echo requests and HTTPS (TCP 443), drops SMTP (TCP 25),
 *    and returns NETKIT_NEXT for the rest, which netkit passes: the default policy decides only
 *    for a device without programs.
 * No program is attached to the primary: what the host sends to the pod meets the primary's
 * NETKIT_DROP policy.
 */
#include "nk_common.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} l3_counts SEC(".maps");

enum {
	C_TCP = 0,
	C_UDP = 1,
	C_ICMP = 2,
	C_OTHER = 3,
	C_ALLOWED = 4,
	C_DENIED = 5,
	C_UNDECIDED = 6,
};

static __always_inline void bump(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&l3_counts, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("netkit/peer")
int pod_count(struct __sk_buff *skb)
{
	struct flow f;

	if (parse_ipv4(skb, &f) < 0)
		bump(C_OTHER);
	else if (f.proto == IPPROTO_TCP)
		bump(C_TCP);
	else if (f.proto == IPPROTO_UDP)
		bump(C_UDP);
	else if (f.proto == IPPROTO_ICMP)
		bump(C_ICMP);
	else
		bump(C_OTHER);
	return NETKIT_NEXT;
}

SEC("netkit/peer")
int pod_allow(struct __sk_buff *skb)
{
	struct flow f;

	if (parse_ipv4(skb, &f) < 0) {
		bump(C_UNDECIDED);
		return NETKIT_NEXT;
	}
	if ((f.proto == IPPROTO_UDP && f.dport == 53) || (f.proto == IPPROTO_ICMP && f.icmp_type == 8) ||
	    (f.proto == IPPROTO_TCP && f.dport == 443)) {
		bump(C_ALLOWED);
		return NETKIT_PASS;
	}
	if (f.proto == IPPROTO_TCP && f.dport == 25) {
		bump(C_DENIED);
		return NETKIT_DROP;
	}
	bump(C_UNDECIDED);
	return NETKIT_NEXT;
}

char _license[] SEC("license") = "GPL";
