// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_meta: a tc program that consumes what an XDP program left in front of the packet.
 *  - xdp_meta_writer (XDP) classifies the frame and stores an 8-byte record in its metadata
 *    (bpf_xdp_adjust_meta): a magic, the class and the frame's length as XDP saw it;
 *  - tc_meta_reader (tc) finds the record at data_meta, checks it (the frame's length, less a
 *    VLAN tag the stack moved beside the packet), and moves the class into
 *    skb->mark and cb[0]; without metadata (as under BPF_PROG_TEST_RUN, which gives a tc program
 *    none) it classifies on its own; the two paths are counted;
 *  - what the skb looks like at tc is recorded per class: the VLAN tag beside the packet (the
 *    stack moves an in-frame tag there before tc ingress), skb->protocol, pkt_type, len,
 *    wire_len, the metadata's length and whether ingress_ifindex is the device's.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define META_MAGIC 0x7e57

struct meta {
	__u16 magic;
	__u16 class;
	__u32 xdp_len;
};

enum { M_FROM_XDP, M_NONE, M_BAD, M_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, M_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tc_meta_paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} tc_meta_classes SEC(".maps");

struct seen {
	__u64 packets;
	__u64 len;
	__u64 wire_len;
	__u64 meta_len;
	__u32 vlan_present;
	__u32 vlan_tci_sum;
	__u32 last_protocol;
	__u32 pkt_types;
	__u32 iif_is_dev;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct seen);
} tc_meta_seen SEC(".maps");

static __always_inline __u16 classify(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	switch (bpf_ntohs(eth->h_proto)) {
	case ETH_P_IP:
		return 1;
	case ETH_P_IPV6:
		return 2;
	case ETH_P_ARP:
		return 3;
	}
	return 4;
}

static __always_inline void bump(void *map, __u32 k)
{
	__u64 *v = bpf_map_lookup_elem(map, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_meta_writer(struct xdp_md *ctx)
{
	struct meta *m;
	void *data;
	__u16 class;

	class = classify((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return XDP_PASS;
	m->magic = META_MAGIC;
	m->class = class;
	m->xdp_len = (__u32)((long)ctx->data_end - (long)ctx->data);
	return XDP_PASS;
}

SEC("tc")
int tc_meta_reader(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct meta *m = (void *)(long)skb->data_meta;
	__u16 class;

	if ((void *)(m + 1) <= data) {
		/* The stack moves an in-frame VLAN tag beside the packet before tc: the frame is
		 * then 4 bytes shorter than XDP saw it. */
		__u32 tag = skb->vlan_present ? 4 : 0;

		if (m->magic != META_MAGIC || m->xdp_len != skb->len + tag) {
			bump(&tc_meta_paths, M_BAD);
			return TC_ACT_SHOT;
		}
		class = m->class;
		bump(&tc_meta_paths, M_FROM_XDP);
	} else {
		class = classify(data, data_end);
		bump(&tc_meta_paths, M_NONE);
	}
	bump(&tc_meta_classes, class & 7);
	{
		__u32 k = class & 7;
		struct seen *v = bpf_map_lookup_elem(&tc_meta_seen, &k);

		if (v) {
			v->packets++;
			v->len += skb->len;
			v->wire_len += skb->wire_len;
			v->meta_len += (long)skb->data - (long)skb->data_meta;
			v->vlan_present += skb->vlan_present;
			v->vlan_tci_sum += skb->vlan_tci;
			v->last_protocol = skb->protocol;
			v->pkt_types |= 1u << (skb->pkt_type & 7);
			v->iif_is_dev += skb->ingress_ifindex == skb->ifindex;
		}
	}
	skb->mark = 0xc1a55000 | class;
	skb->cb[0] = class;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
