// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_vlan: VLAN tags at tc, beside the packet and in it.
 *  - a frame with a tag in the packet (802.1Q or 802.1ad) has it popped with bpf_skb_vlan_pop;
 *    behind an outer 802.1ad tag, the inner tag then sits beside the packet (vlan_present);
 *  - an untagged IPv4 frame gets a C-tag from the VID table by protocol (bpf_skb_vlan_push),
 *    which the skb carries beside the packet; TCP to port 443 gets an S-tag pushed on top, which
 *    moves the C-tag into the packet;
 *  - vlan_present, vlan_tci and vlan_proto (narrow loads too) and skb->protocol are read back
 *    after each step and folded into per-action counters; helper errors are counted by value.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { A_POPPED, A_POPPED_INNER_BESIDE, A_PUSHED, A_PUSHED_TWICE, A_UNTOUCHED, A_ERROR, A_MAX };

struct vlan_seen {
	__u64 frames;
	__u32 present;
	__u32 last_tci;
	__u32 last_proto;     /* vlan_proto as the program reads it (network order) */
	__u32 last_skb_proto;
	__u32 tci_low_byte;   /* a narrow load of vlan_tci */
	__s32 last_error;
	__u64 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, A_MAX);
	__type(key, __u32);
	__type(value, struct vlan_seen);
} tc_vlan_actions SEC(".maps");

/* VIDs pushed by IP protocol */
const volatile __u16 vid_by_proto[4] = { 10, 20, 30, 40 };	/* TCP, UDP, ICMP, other */

static __always_inline void note(struct __sk_buff *skb, __u32 action, long err)
{
	struct vlan_seen *v = bpf_map_lookup_elem(&tc_vlan_actions, &action);

	if (!v)
		return;
	v->frames++;
	v->present += skb->vlan_present;
	v->last_tci = skb->vlan_tci;
	v->last_proto = skb->vlan_proto;
	v->last_skb_proto = skb->protocol;
	v->tci_low_byte = *(volatile __u8 *)&skb->vlan_tci;
	v->len += skb->len;
	if (err)
		v->last_error = err;
}

SEC("tc")
int tc_vlan(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	long err;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD)) {
		err = bpf_skb_vlan_pop(skb);
		if (err) {
			note(skb, A_ERROR, err);
			return TC_ACT_SHOT;
		}
		note(skb, skb->vlan_present ? A_POPPED_INNER_BESIDE : A_POPPED, 0);
		return TC_ACT_OK;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		__u32 idx = 3;
		int twice = 0;

		if ((void *)(iph + 1) > data_end)
			return TC_ACT_OK;
		if (iph->protocol == IPPROTO_TCP) {
			__be16 *ports = (void *)iph + 20;

			idx = 0;
			if (iph->ihl == 5 && (void *)(ports + 2) <= data_end && ports[1] == bpf_htons(443))
				twice = 1;
		} else if (iph->protocol == IPPROTO_UDP) {
			idx = 1;
		} else if (iph->protocol == IPPROTO_ICMP) {
			idx = 2;
		}
		err = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vid_by_proto[idx & 3] | (idx << 13));
		if (err) {
			note(skb, A_ERROR, err);
			return TC_ACT_SHOT;
		}
		if (twice) {
			err = bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021AD), 100);
			if (err) {
				note(skb, A_ERROR, err);
				return TC_ACT_SHOT;
			}
			note(skb, A_PUSHED_TWICE, 0);
			return TC_ACT_OK;
		}
		note(skb, A_PUSHED, 0);
		return TC_ACT_OK;
	}
	note(skb, A_UNTOUCHED, 0);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
