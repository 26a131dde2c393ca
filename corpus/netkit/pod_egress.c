// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* pod_egress: the programs of the pod-egress setup (pod-egress.json): two pods behind netkit
 * pairs in L3 mode, a NIC to the outside.
 *  - pod_egress (netkit/peer, attached through each primary) runs when a pod transmits: traffic
 *    to another pod (10.1.0.0/16) goes on to the host's stack (NETKIT_PASS), SSH anywhere is
 *    denied (NETKIT_DROP), everything else leaves straight through the NIC with
 *    bpf_redirect_neigh (NETKIT_REDIRECT), which fills the Ethernet header from the host's
 *    route and neighbour table;
 *  - pod_ingress (netkit/primary) runs when the host transmits to a pod: it records the skb
 *    fields the pod's side sees (mark, priority, ingress_ifindex, pkt_type), admits HTTP and
 *    ICMP and drops the rest;
 *  - host_mark (tcx/ingress on the NIC) marks packets for the pods with 0x77, to show what netkit's
 *    scrubbing leaves of the mark and of the priority the host's forwarding set.
 */
#include "nk_common.h"

const volatile __u32 phys_ifindex = 2;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} nk_stats SEC(".maps");

/* What the pod side saw, per device the packet went to (skb->ifindex: the peer). */
struct seen {
	__u32 mark;
	__u32 priority;
	__u32 ingress_ifindex;
	__u32 pkt_type;
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct seen);
} nk_seen SEC(".maps");

enum {
	ST_TO_POD = 0,
	ST_DENIED = 1,
	ST_TO_NIC = 2,
	ST_NOT_IP = 3,
	ST_IN_HTTP = 4,
	ST_IN_ICMP = 5,
	ST_IN_DROP = 6,
	ST_MARKED = 7,
};

static __always_inline void bump(__u32 k)
{
	__u64 *v = bpf_map_lookup_elem(&nk_stats, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int to_pods(__u32 daddr)
{
	return (bpf_ntohl(daddr) & 0xffff0000) == 0x0a010000;
}

SEC("netkit/peer")
int pod_egress(struct __sk_buff *skb)
{
	struct flow f;

	if (parse_ipv4(skb, &f) < 0) {
		bump(ST_NOT_IP);
		return NETKIT_PASS;
	}
	if (to_pods(f.daddr)) {
		bump(ST_TO_POD);
		return NETKIT_PASS;
	}
	if (f.proto == IPPROTO_TCP && f.dport == 22) {
		bump(ST_DENIED);
		return NETKIT_DROP;
	}
	bump(ST_TO_NIC);
	return bpf_redirect_neigh(phys_ifindex, NULL, 0, 0);
}

SEC("netkit/primary")
int pod_ingress(struct __sk_buff *skb)
{
	__u32 key = skb->ifindex;
	struct seen *s = bpf_map_lookup_elem(&nk_seen, &key);
	struct flow f;

	if (!s) {
		struct seen init = {};

		bpf_map_update_elem(&nk_seen, &key, &init, BPF_NOEXIST);
		s = bpf_map_lookup_elem(&nk_seen, &key);
		if (!s)
			return NETKIT_DROP;
	}
	s->mark = skb->mark;
	s->priority = skb->priority;
	s->ingress_ifindex = skb->ingress_ifindex;
	s->pkt_type = skb->pkt_type;
	s->packets++;
	if (parse_ipv4(skb, &f) < 0) {
		bump(ST_IN_DROP);
		return NETKIT_DROP;
	}
	if (f.proto == IPPROTO_TCP && f.dport == 80) {
		bump(ST_IN_HTTP);
		return NETKIT_PASS;
	}
	if (f.proto == IPPROTO_ICMP) {
		bump(ST_IN_ICMP);
		return NETKIT_PASS;
	}
	bump(ST_IN_DROP);
	return NETKIT_DROP;
}

SEC("tcx/ingress")
int host_mark(struct __sk_buff *skb)
{
	struct flow f;

	if (parse_ipv4(skb, &f) == 0 && to_pods(f.daddr)) {
		skb->mark = 0x77;
		bump(ST_MARKED);
	}
	return TCX_PASS;
}

char _license[] SEC("license") = "GPL";
