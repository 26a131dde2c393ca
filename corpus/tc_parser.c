// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_parser: a tc classifier that parses what arrives, as tc ingress programs do.
 *  - Ethernet, up to two VLAN tags in the frame (and the one the skb may carry beside it),
 *    IPv4 (options skipped by IHL), IPv6, then TCP, UDP or ICMP, all by direct packet access;
 *  - the IPv4 header is also read with bpf_skb_load_bytes_relative from the network header and
 *    compared with what direct access saw;
 *  - the __sk_buff fields tc programs read (len, pkt_type, protocol, vlan_present, ifindex,
 *    ingress_ifindex, wire_len, queue_mapping, tc_index, mark, priority, gso_segs, gso_size,
 *    hwtstamp, tstamp and tstamp_type, napi_id, hash) are folded into per-class counters, narrow
 *    loads included;
 *  - the L4 class goes to cb[0] and skb->mark, the L3 class to skb->priority and tc_classid;
 *    runts and truncated headers are dropped with TC_ACT_SHOT.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

enum { C_OTHER, C_ARP, C_IPV4, C_IPV6, C_TCP, C_UDP, C_ICMP, C_ICMP6, C_FRAG, C_BAD, C_MAX };

struct class_stats {
	__u64 packets;
	__u64 bytes;
	__u64 wire_bytes;
	__u32 pkt_types;     /* bit per pkt_type seen */
	__u32 vlan_frames;   /* frames with a tag in the skb */
	__u32 last_proto;    /* skb->protocol, network order */
	__u32 last_ifindex;
	__u32 last_iif;
	__u32 last_queue;
	__u32 narrow;        /* a byte and a half word of len */
	__u32 relative_ok;   /* load_bytes_relative agreed with direct access */
	__u64 fields;        /* mark, priority, tc_index and gso_segs folded */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, struct class_stats);
} classes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u16);
	__type(value, __u64);
} dports SEC(".maps");

static __always_inline void count(struct __sk_buff *skb, __u32 class)
{
	struct class_stats *st = bpf_map_lookup_elem(&classes, &class);
	__u8 *b = (__u8 *)&skb->len;

	if (!st)
		return;
	st->packets++;
	st->bytes += skb->len;
	st->wire_bytes += skb->wire_len;
	st->pkt_types |= 1u << (skb->pkt_type & 7);
	st->vlan_frames += skb->vlan_present;
	st->last_proto = skb->protocol;
	st->last_ifindex = skb->ifindex;
	st->last_iif = skb->ingress_ifindex;
	st->last_queue = skb->queue_mapping;
	st->narrow = (__u32)(*(volatile __u8 *)&b[1]) << 16 | *(volatile __u16 *)&skb->len;
	st->fields += skb->mark + skb->priority + skb->tc_index + skb->gso_segs + skb->gso_size +
		      skb->hwtstamp + skb->tstamp + skb->tstamp_type + skb->napi_id + skb->hash;
}

SEC("tc")
int tc_parser(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u16 proto;
	__u32 l3 = C_OTHER, l4 = C_OTHER;
	void *nh;
	__u8 ipproto = 0;
	int i;

	if ((void *)(eth + 1) > data_end) {
		count(skb, C_BAD);
		return TC_ACT_SHOT;
	}
	proto = eth->h_proto;
	nh = eth + 1;
	for (i = 0; i < 2; i++) {
		struct vlan_hdr *vh = nh;

		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		if ((void *)(vh + 1) > data_end) {
			count(skb, C_BAD);
			return TC_ACT_SHOT;
		}
		proto = vh->proto;
		nh = vh + 1;
	}
	if (proto == bpf_htons(ETH_P_ARP)) {
		l3 = C_ARP;
	} else if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = nh;
		struct iphdr copy;

		if ((void *)(iph + 1) > data_end || iph->ihl < 5) {
			count(skb, C_BAD);
			return TC_ACT_SHOT;
		}
		l3 = C_IPV4;
		ipproto = iph->protocol;
		if (nh == (void *)(eth + 1) &&
		    bpf_skb_load_bytes_relative(skb, 0, &copy, sizeof(copy), BPF_HDR_START_NET) == 0 &&
		    copy.saddr == iph->saddr && copy.daddr == iph->daddr) {
			__u32 k = C_IPV4;
			struct class_stats *st = bpf_map_lookup_elem(&classes, &k);

			if (st)
				st->relative_ok++;
		}
		if (iph->frag_off & bpf_htons(0x3fff))
			l4 = C_FRAG;
		nh = (void *)iph + iph->ihl * 4;
	} else if (proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = nh;

		if ((void *)(ip6 + 1) > data_end) {
			count(skb, C_BAD);
			return TC_ACT_SHOT;
		}
		l3 = C_IPV6;
		ipproto = ip6->nexthdr;
		nh = ip6 + 1;
	}
	if (l4 == C_OTHER && (ipproto == IPPROTO_TCP || ipproto == IPPROTO_UDP)) {
		__be16 *ports = nh;

		if ((void *)(ports + 2) > data_end) {
			count(skb, C_BAD);
			return TC_ACT_SHOT;
		}
		l4 = ipproto == IPPROTO_TCP ? C_TCP : C_UDP;
		__u16 dport = bpf_ntohs(ports[1]);
		__u64 one = 1, *n = bpf_map_lookup_elem(&dports, &dport);

		if (n)
			__sync_fetch_and_add(n, 1);
		else
			bpf_map_update_elem(&dports, &dport, &one, BPF_NOEXIST);
	} else if (l4 == C_OTHER && ipproto == IPPROTO_ICMP) {
		l4 = C_ICMP;
	} else if (l4 == C_OTHER && ipproto == IPPROTO_ICMPV6) {
		l4 = C_ICMP6;
	}
	count(skb, l3);
	if (l4 != C_OTHER)
		count(skb, l4);
	skb->cb[0] = l4;
	skb->mark = 0x100 | l4;
	skb->priority = l3;
	skb->tc_classid = 0x10 + l3;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
