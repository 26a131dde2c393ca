// A program that calls every kfunc of include/xdpsim_kfuncs.h, to check that the headers compile
// for BPF (header_test.go builds it when clang-19 is at hand).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <stddef.h>

#include "xdpsim_kfuncs.h"
#include "xdp_skb_metadata.h"

_Static_assert(offsetof(struct xdp_skb_metadata, rx_timestamp) == 8, "rx_timestamp at 8");
_Static_assert(offsetof(struct xdp_skb_metadata, rx_hash) == 16, "rx_hash at 16");
_Static_assert(offsetof(struct xdp_skb_metadata, rx_hash_type) == 20, "rx_hash_type at 20");
_Static_assert(offsetof(struct xdp_skb_metadata, vlan_proto) == 24, "vlan_proto at 24");
_Static_assert(offsetof(struct xdp_skb_metadata, vlan_tci) == 26, "vlan_tci at 26");
_Static_assert(offsetof(struct xdp_skb_metadata, flags) == 28, "flags at 28");

SEC("xdp")
int all_kfuncs(struct xdp_md *ctx)
{
	__u64 ts = 0, val = 0;
	__u32 hash = 0;
	enum xdp_rss_hash_type type = 0;
	__be16 proto = 0;
	__u16 tci = 0;
	int n = 0;

	n += bpf_xdp_metadata_rx_timestamp(ctx, &ts);
	n += bpf_xdp_metadata_rx_hash(ctx, &hash, &type);
	n += bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
	n += bpf_xdp_trait_set(ctx, 1, &val, sizeof(val), 0);
	n += bpf_xdp_trait_is_set(ctx, 1);
	n += bpf_xdp_trait_get(ctx, 1, &val, sizeof(val));
	n += bpf_xdp_trait_del(ctx, 1);
	n += bpf_xdp_metadata_export_to_skb(ctx);
	if (type == XDP_RSS_TYPE_L4_IPV4_TCP && proto == bpf_htons(0x8100))
		n++;
	return n + (int)ts + (int)hash + tci > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
