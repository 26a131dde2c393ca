// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* export_skb: bpf_xdp_metadata_export_to_skb, after Stanislav Fomichev's 2022 "xdp: hints via
 * kfuncs" RFC, which never merged into Linux (xdpsim: --feature export-to-skb). The kfunc writes the
 * device's RX hints as a struct xdp_skb_metadata at data_meta, for the kernel to fill the skb's
 * hardware timestamp, hash and VLAN tag from when it builds the skb of an XDP_PASS frame.
 *  - every frame reads the three hints (bpf_xdp_metadata_rx_timestamp, _rx_hash, _rx_vlan_tag);
 *  - IPv4 frames first put 8 bytes of their own metadata in front of the packet
 *    (bpf_xdp_adjust_meta): the export goes in front of it, and the skb keeps those 8 bytes;
 *  - then the export, and a second export (-EEXIST); bpf_xdp_adjust_meta afterwards fails
 *    (-EACCES): the struct must stay at data_meta;
 *  - the program reads the struct back and checks that it says what the hint kfuncs said.
 * Every result is counted in `results` by (step, return value); every frame passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdpsim_kfuncs.h>
#include <xdp_skb_metadata.h>

enum {
	S_TIMESTAMP,	/* bpf_xdp_metadata_rx_timestamp */
	S_HASH,		/* bpf_xdp_metadata_rx_hash */
	S_VLAN,		/* bpf_xdp_metadata_rx_vlan_tag */
	S_OWN_META,	/* IPv4: adjust_meta(-8) for the program's own metadata: 0 */
	S_EXPORT,	/* bpf_xdp_metadata_export_to_skb: 0 */
	S_EXPORT_AGAIN,	/* a second export: -EEXIST */
	S_META_AFTER,	/* adjust_meta(-4) after the export: -EACCES */
	S_READ_BACK,	/* 1 when the struct at data_meta holds what the hints returned */
	S_OWN_INTACT,	/* IPv4: 1 when the program's own metadata still follows the struct */
	S_MAX
};

struct result_key {
	__u32 step;
	__s32 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct result_key);
	__type(value, __u64);
} results SEC(".maps");

static __always_inline int record(__u32 step, int ret)
{
	struct result_key k = { .step = step, .ret = ret };
	__u64 one = 1, *v = bpf_map_lookup_elem(&results, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&results, &k, &one, BPF_NOEXIST);
	return ret;
}

struct own_meta {
	__u32 mark;
	__u32 len;
};

#define OWN_MARK 0x4f574e21 /* "!NWO" */

SEC("xdp")
int xdp_export_skb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 ts = 0;
	__u32 hash = 0;
	enum xdp_rss_hash_type rss_type = 0;
	__be16 vlan_proto = 0;
	__u16 vlan_tci = 0;
	int ts_ret, hash_ret, vlan_ret, own = 0;
	__u32 len = data_end - data, flags;
	struct xdp_skb_metadata *sm;
	struct own_meta *om;

	ts_ret = record(S_TIMESTAMP, bpf_xdp_metadata_rx_timestamp(ctx, &ts));
	hash_ret = record(S_HASH, bpf_xdp_metadata_rx_hash(ctx, &hash, &rss_type));
	vlan_ret = record(S_VLAN, bpf_xdp_metadata_rx_vlan_tag(ctx, &vlan_proto, &vlan_tci));

	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IP)) {
		if (record(S_OWN_META, bpf_xdp_adjust_meta(ctx, -(int)sizeof(*om))) == 0) {
			om = (void *)(long)ctx->data_meta;
			if ((void *)(om + 1) > (void *)(long)ctx->data)
				return XDP_ABORTED;
			om->mark = OWN_MARK;
			om->len = len;
			own = 1;
		}
	}

	if (record(S_EXPORT, bpf_xdp_metadata_export_to_skb(ctx)) != 0)
		return XDP_PASS;
	record(S_EXPORT_AGAIN, bpf_xdp_metadata_export_to_skb(ctx));
	record(S_META_AFTER, bpf_xdp_adjust_meta(ctx, -4));

	/* Read the export back, as an AF_XDP consumer or a TC program would. */
	sm = (void *)(long)ctx->data_meta;
	if ((void *)(sm + 1) > (void *)(long)ctx->data)
		return XDP_ABORTED;
	flags = (ts_ret == 0 ? XDP_SKB_META_TIMESTAMP : 0) | (hash_ret == 0 ? XDP_SKB_META_HASH : 0) |
		(vlan_ret == 0 ? XDP_SKB_META_VLAN : 0);
	record(S_READ_BACK, sm->magic == XDP_SKB_METADATA_MAGIC && sm->flags == flags &&
				    sm->rx_timestamp == (ts_ret == 0 ? ts : 0) &&
				    sm->rx_hash == (hash_ret == 0 ? hash : 0) &&
				    sm->rx_hash_type == (hash_ret == 0 ? rss_type : 0) &&
				    sm->vlan_proto == (vlan_ret == 0 ? vlan_proto : 0) &&
				    sm->vlan_tci == (vlan_ret == 0 ? vlan_tci : 0));
	if (own) {
		om = (void *)(sm + 1);
		if ((void *)(om + 1) > (void *)(long)ctx->data)
			return XDP_ABORTED;
		record(S_OWN_INTACT, om->mark == OWN_MARK && om->len == len);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
