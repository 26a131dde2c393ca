// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_redirect: steering at tc ingress.
 *  - by UDP destination port: 53 to device 2's egress (bpf_redirect), 123 into device 2's
 *    ingress (BPF_F_INGRESS), 4789 to the peer of device 3 (bpf_redirect_peer), 5353 through the
 *    neighbour table of device 2 (bpf_redirect_neigh without a nexthop), 161 with an IPv4
 *    nexthop; 7 with a flag bpf_redirect refuses (TC_ACT_SHOT);
 *  - ICMP echo requests are cloned to loopback's egress and into its ingress with
 *    bpf_clone_redirect, and the clones' results counted, then passed;
 *  - TCP SYNs to port 22 are dropped, everything else passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ICMP_ECHO 8

struct icmp {
	__u8 type;
	__u8 code;
	__be16 checksum;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s64);	/* a helper's return value */
	__type(value, __u64);
} tc_redirect_results SEC(".maps");

static __always_inline long count(long ret)
{
	__s64 k = ret;
	__u64 one = 1, *n = bpf_map_lookup_elem(&tc_redirect_results, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tc_redirect_results, &k, &one, BPF_NOEXIST);
	return ret;
}

SEC("tc")
int tc_redirect(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__be16 *ports;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5)
		return TC_ACT_OK;
	ports = (void *)(iph + 1);
	if (iph->protocol == IPPROTO_ICMP) {
		struct icmp *ic = (void *)(iph + 1);

		if ((void *)(ic + 1) > data_end || ic->type != ICMP_ECHO)
			return TC_ACT_OK;
		count(bpf_clone_redirect(skb, 1, 0) + 100);
		count(bpf_clone_redirect(skb, 1, BPF_F_INGRESS) + 200);
		count(bpf_clone_redirect(skb, 42, 0) + 300);
		return TC_ACT_OK;
	}
	if ((void *)(ports + 2) > data_end)
		return TC_ACT_OK;
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(iph + 1);

		if ((void *)(th + 1) <= data_end && th->syn && !th->ack && th->dest == bpf_htons(22))
			return TC_ACT_SHOT;
		return TC_ACT_OK;
	}
	if (iph->protocol != IPPROTO_UDP)
		return TC_ACT_OK;
	switch (bpf_ntohs(ports[1])) {
	case 53:
		return count(bpf_redirect(2, 0));
	case 123:
		return count(bpf_redirect(2, BPF_F_INGRESS));
	case 4789:
		return count(bpf_redirect_peer(3, 0));
	case 5353:
		return count(bpf_redirect_neigh(2, 0, 0, 0));
	case 161: {
		struct bpf_redir_neigh nh = { .nh_family = 2, .ipv4_nh = bpf_htonl(0x0a000001) };

		return count(bpf_redirect_neigh(2, &nh, sizeof(nh), 0));
	}
	case 7:
		return count(bpf_redirect(2, 4));
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
