// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* disp_vlanpop: a dispatcher component that changes packet data (priority 20): it pops an 802.1Q
 * tag with bpf_xdp_adjust_head, after moving the MACs up, and checks the tag disp_meta left in
 * the metadata: the slots of a dispatcher share one xdp_buff. Tagged frames whose metadata says
 * another length than the frame had are dropped.
 */
#include "disp.h"

#define META_MAGIC 0x6d657461

enum { POP_POPPED, POP_UNTAGGED, POP_META_SEEN, POP_META_MISSING, POP_META_WRONG, POP_MAX };

COUNTERS(pop_stats, POP_MAX);

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct {
	__uint(priority, 20);
} XDP_RUN_CONFIG(xdp_vlanpop);

SEC("xdp")
int xdp_vlanpop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 *meta = (void *)(long)ctx->data_meta;
	struct ethhdr *eth = data;
	struct vlan_hdr *vh = (void *)(eth + 1);
	__u32 len = data_end - data;
	__u8 macs[2 * ETH_ALEN];

	if ((void *)(meta + 2) <= data && meta[0] == META_MAGIC) {
		bump(&pop_stats, POP_META_SEEN);
		if (meta[1] != len)
			bump(&pop_stats, POP_META_WRONG);
	} else {
		bump(&pop_stats, POP_META_MISSING);
	}
	if ((void *)(vh + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_8021Q)) {
		bump(&pop_stats, POP_UNTAGGED);
		return XDP_PASS;
	}
	__builtin_memcpy(macs, eth, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, (int)sizeof(*vh)))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(macs) > data_end)
		return XDP_ABORTED;
	__builtin_memcpy(data, macs, sizeof(macs));
	bump(&pop_stats, POP_POPPED);
	/* The metadata moved with the data: it still describes the frame before the pop. */
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 2) <= data && meta[1] != len)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
