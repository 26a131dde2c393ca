// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* vlan: 802.1Q and 802.1ad (QinQ) handling at the edge of a trunk.
 *  - up to two tags are parsed; a third tag, a truncated tag or the reserved VID 4095 drops the frame;
 *  - frames on a blocked VID are dropped;
 *  - a single C-tag with VID strip_vid is popped, and so is an S-tag with VID strip_svid
 *    (leaving the inner C-tag in place);
 *  - untagged frames sent to trunk_mac get a C-tag with VID push_vid;
 *  - every (outer, inner) VID pair is counted in a hash map.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define VLAN_VID_MASK 0x0fff
#define MAX_TAGS 2

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

struct vid_key {
	__u16 outer;
	__u16 inner;
};

struct vid_stats {
	__u64 packets;
	__u64 bytes;
};

const volatile __u16 strip_vid = 100;
const volatile __u16 strip_svid = 200;
const volatile __u16 push_vid = 300;
const volatile __u16 blocked_vids[4] = { 13, 666, 999, 0 };
const volatile __u8 trunk_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0xfe };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct vid_key);
	__type(value, struct vid_stats);
} vid_stats SEC(".maps");

enum { ST_UNTAGGED, ST_SINGLE, ST_DOUBLE, ST_TOO_MANY, ST_TRUNCATED, ST_RESERVED, ST_BLOCKED,
       ST_POPPED, ST_PUSHED, ST_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int is_vlan_proto(__u16 proto)
{
	return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int vid_blocked(__u16 vid)
{
	int i;

	for (i = 0; i < 4; i++)
		if (blocked_vids[i] && blocked_vids[i] == vid)
			return 1;
	return 0;
}

static __always_inline int is_trunk_mac(const __u8 *mac)
{
	int i;

	for (i = 0; i < ETH_ALEN; i++)
		if (mac[i] != trunk_mac[i])
			return 0;
	return 1;
}

static __always_inline void account(__u16 outer, __u16 inner, __u64 len)
{
	struct vid_key key = { .outer = outer, .inner = inner };
	struct vid_stats *st, zero = {};

	st = bpf_map_lookup_elem(&vid_stats, &key);
	if (!st) {
		bpf_map_update_elem(&vid_stats, &key, &zero, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&vid_stats, &key);
		if (!st)
			return;
	}
	__sync_fetch_and_add(&st->packets, 1);
	__sync_fetch_and_add(&st->bytes, len);
}

/* Remove the first tag: move the MAC addresses 4 bytes up and advance the head. */
static __always_inline int pop_outer_tag(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);
	__u8 macs[2 * ETH_ALEN];
	__be16 inner;

	if ((void *)(vh + 1) > data_end)
		return -1;
	__builtin_memcpy(macs, eth, sizeof(macs));
	inner = vh->h_vlan_encapsulated_proto;

	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*vh)))
		return -1;

	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, macs, sizeof(macs));
	eth->h_proto = inner;
	return 0;
}

static __always_inline int push_tag(struct xdp_md *ctx, __u16 vid)
{
	void *data_end, *data;
	struct ethhdr *eth;
	struct vlan_hdr *vh;
	__u8 macs[2 * ETH_ALEN];
	__be16 proto;

	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(macs, eth, sizeof(macs));
	proto = eth->h_proto;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct vlan_hdr)))
		return -1;

	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	vh = (void *)(eth + 1);
	if ((void *)(vh + 1) > data_end)
		return -1;
	__builtin_memcpy(eth, macs, sizeof(macs));
	eth->h_proto = bpf_htons(ETH_P_8021Q);
	vh->h_vlan_TCI = bpf_htons(vid & VLAN_VID_MASK);
	vh->h_vlan_encapsulated_proto = proto;
	return 0;
}

SEC("xdp")
int xdp_vlan(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u16 vids[MAX_TAGS] = {};
	__u16 outer_proto;
	__be16 proto;
	void *cursor;
	int tags = 0, i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	outer_proto = bpf_ntohs(proto);
	cursor = eth + 1;

#pragma unroll
	for (i = 0; i < MAX_TAGS; i++) {
		struct vlan_hdr *vh = cursor;

		if (!is_vlan_proto(proto))
			break;
		if ((void *)(vh + 1) > data_end) {
			bump(ST_TRUNCATED);
			return XDP_DROP;
		}
		vids[i] = bpf_ntohs(vh->h_vlan_TCI) & VLAN_VID_MASK;
		proto = vh->h_vlan_encapsulated_proto;
		cursor = vh + 1;
		tags++;
	}
	if (is_vlan_proto(proto)) {
		bump(ST_TOO_MANY);
		return XDP_DROP;
	}

	for (i = 0; i < tags; i++) {
		if (vids[i] == VLAN_VID_MASK) {
			bump(ST_RESERVED);
			return XDP_DROP;
		}
		if (vid_blocked(vids[i])) {
			bump(ST_BLOCKED);
			return XDP_DROP;
		}
	}

	account(vids[0], vids[1], data_end - data);

	if (tags == 0) {
		bump(ST_UNTAGGED);
		if (is_trunk_mac(eth->h_dest)) {
			if (push_tag(ctx, push_vid))
				return XDP_ABORTED;
			bump(ST_PUSHED);
		}
		return XDP_PASS;
	}

	bump(tags == 1 ? ST_SINGLE : ST_DOUBLE);
	if ((tags == 1 && outer_proto == ETH_P_8021Q && vids[0] == strip_vid) ||
	    (outer_proto == ETH_P_8021AD && vids[0] == strip_svid)) {
		if (pop_outer_tag(ctx))
			return XDP_ABORTED;
		bump(ST_POPPED);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
