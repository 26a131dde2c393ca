// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_encap: tunnels at tc with bpf_skb_adjust_room.
 *  - IPv4 UDP to port 7777 is encapsulated in IPv4+UDP (GUE-like, to 198.51.100.1 port 6080):
 *    room made behind the MAC header (BPF_ADJ_ROOM_MAC, ENCAP_L3_IPV4 | ENCAP_L4_UDP), outer
 *    headers written with bpf_skb_store_bytes, the outer IPv4 checksum from bpf_csum_diff;
 *  - IPv4 TCP to port 5201 is encapsulated in IPIP (ENCAP_L3_IPV4);
 *  - IPIP packets (protocol 4) to 192.0.2.1 are decapsulated (-20 bytes, DECAP_L3_IPV4);
 *  - IPv6 UDP to port 4242 gets 8 bytes of room after its header (BPF_ADJ_ROOM_NET) and back;
 *  - every adjust_room result is counted per action, errors by value.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* Newer than the installed 6.1 UAPI headers (include/uapi/linux/bpf.h of 6.3 on). */
#ifndef BPF_F_ADJ_ROOM_DECAP_L3_IPV4
#define BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (1ULL << 7)
#endif

#define TUNNEL_DST bpf_htonl(0xc6336401)	/* 198.51.100.1 */
#define TUNNEL_SRC bpf_htonl(0xc0000201)	/* 192.0.2.1 */

enum { E_GUE, E_IPIP, E_DECAP, E_NET6, E_ERROR, E_MAX };

struct encap_stat {
	__u64 packets;
	__u64 bytes_after;
	__s64 last_error;
	__u32 last_proto;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, E_MAX);
	__type(key, __u32);
	__type(value, struct encap_stat);
} tc_encap_stats SEC(".maps");

static __always_inline void note(struct __sk_buff *skb, __u32 what, long err)
{
	struct encap_stat *st = bpf_map_lookup_elem(&tc_encap_stats, &what);

	if (!st)
		return;
	st->packets++;
	st->bytes_after += skb->len;
	st->last_proto = skb->protocol;
	if (err)
		st->last_error = err;
}

static __always_inline __u16 fold(__u64 csum)
{
	int i;

	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

/* outer_ip writes a fresh IPv4 header at the front of the room. */
static __always_inline int outer_ip(struct __sk_buff *skb, __u16 tot_len, __u8 proto)
{
	struct iphdr ip = {
		.version = 4, .ihl = 5, .ttl = 64, .protocol = proto,
		.tot_len = bpf_htons(tot_len), .saddr = TUNNEL_SRC, .daddr = TUNNEL_DST,
	};
	ip.check = fold(bpf_csum_diff(0, 0, (__be32 *)&ip, sizeof(ip), 0));
	return bpf_skb_store_bytes(skb, ETH_HLEN, &ip, sizeof(ip), 0);
}

SEC("tc")
int tc_encap(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	long err;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		__be16 *ports = (void *)(iph + 1);
		__u16 inner_len;

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			return TC_ACT_OK;
		inner_len = bpf_ntohs(iph->tot_len);
		if (iph->protocol == IPPROTO_IPIP && iph->daddr == TUNNEL_SRC) {
			err = bpf_skb_adjust_room(skb, -(int)sizeof(struct iphdr), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_DECAP_L3_IPV4);
			note(skb, err ? E_ERROR : E_DECAP, err);
			return err ? TC_ACT_SHOT : TC_ACT_OK;
		}
		if ((void *)(ports + 2) > data_end)
			return TC_ACT_OK;
		if (iph->protocol == IPPROTO_UDP && ports[1] == bpf_htons(7777)) {
			struct udphdr uh = { .source = bpf_htons(49152), .dest = bpf_htons(6080) };
			__u32 room = sizeof(struct iphdr) + sizeof(struct udphdr);

			err = bpf_skb_adjust_room(skb, room, BPF_ADJ_ROOM_MAC,
						  BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP);
			if (err) {
				note(skb, E_ERROR, err);
				return TC_ACT_SHOT;
			}
			uh.len = bpf_htons(inner_len + sizeof(uh));
			if (outer_ip(skb, inner_len + room, IPPROTO_UDP) ||
			    bpf_skb_store_bytes(skb, ETH_HLEN + sizeof(struct iphdr), &uh, sizeof(uh), 0)) {
				note(skb, E_ERROR, -1);
				return TC_ACT_SHOT;
			}
			note(skb, E_GUE, 0);
			return TC_ACT_OK;
		}
		if (iph->protocol == IPPROTO_TCP && ports[1] == bpf_htons(5201)) {
			err = bpf_skb_adjust_room(skb, sizeof(struct iphdr), BPF_ADJ_ROOM_MAC, BPF_F_ADJ_ROOM_ENCAP_L3_IPV4);
			if (err || outer_ip(skb, inner_len + sizeof(struct iphdr), IPPROTO_IPIP)) {
				note(skb, E_ERROR, err ? err : -1);
				return TC_ACT_SHOT;
			}
			note(skb, E_IPIP, 0);
			return TC_ACT_OK;
		}
		return TC_ACT_OK;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		__be16 *ports = (void *)(ip6 + 1);

		if ((void *)(ports + 2) > data_end || ip6->nexthdr != IPPROTO_UDP || ports[1] != bpf_htons(4242))
			return TC_ACT_OK;
		err = bpf_skb_adjust_room(skb, 8, BPF_ADJ_ROOM_NET, 0);
		if (!err)
			err = bpf_skb_adjust_room(skb, -8, BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET);
		note(skb, err ? E_ERROR : E_NET6, err);
		return err ? TC_ACT_SHOT : TC_ACT_OK;
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
