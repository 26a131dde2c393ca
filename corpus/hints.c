// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* hints: the XDP RX-metadata kfuncs ("XDP hints"), as a program that wants them writes it.
 *  - every frame asks the device for its RX timestamp, RSS hash (and hash type) and stripped VLAN
 *    tag with bpf_xdp_metadata_rx_timestamp, _rx_hash and _rx_vlan_tag;
 *  - what they returned is counted per packet class (the L3/L4 protocol of the frame as the
 *    program sees it, after any VLAN stripping by the device): the return codes (0, -ENODATA,
 *    -EOPNOTSUPP) of each kfunc, the RSS types seen, the last VLAN tag, the first non-zero hash;
 *  - the hints are written into the XDP metadata area (bpf_xdp_adjust_meta) as struct
 *    xdp_hints_meta, for an AF_XDP consumer or the skb (TC) to read;
 *  - packets are counted per RX queue and per CPU, which RSS decides on a multi-queue device.
 * Every frame passes. The program calls device-bound kfuncs: the kernel loads it only bound to a
 * device (BPF_F_XDP_DEV_BOUND_ONLY) and cannot test-run it, so the kernel side runs it on a veth
 * pair (kernel.RunOnVeth) and the simulator on its device profiles (--device).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdpsim_kfuncs.h>

#define ENODATA 61
#define EOPNOTSUPP 95

/* The packet classes, by what follows the Ethernet header the program sees. */
enum {
	C_IPV4_TCP,
	C_IPV4_UDP,
	C_IPV4_FRAG,	/* IPv4 fragment (MF set or an offset): no ports to hash */
	C_IPV4_OTHER,	/* ICMP, tunnels, ... */
	C_IPV6_TCP,
	C_IPV6_UDP,
	C_IPV6_OTHER,	/* ICMPv6, extension headers, ... */
	C_ARP,
	C_VLAN,		/* an 802.1Q or 802.1ad tag still in the frame */
	C_OTHER,	/* other EtherTypes, 802.3 lengths, frames cut short */
	C_MAX
};

/* How each kfunc's return value is counted. */
enum { R_OK, R_NODATA, R_NOTSUPP, R_OTHER, R_MAX };
enum { K_TIMESTAMP, K_HASH, K_VLAN, K_MAX };

struct hint_class {
	__u64 packets;
	__u64 rets[K_MAX][R_MAX];	/* per kfunc, per kind of return value */
	__u64 ts_last;			/* the last timestamp read with 0 */
	__u32 rss_types;		/* every rss_type read with 0, or-ed together */
	__u32 rss_type_last;
	__u32 hash_first;		/* a sample: the first non-zero hash */
	__u32 hash_nonzero;		/* packets whose hash was read with 0 and is not 0 */
	__u16 vlan_tci_last;		/* the last tag read with 0 */
	__be16 vlan_proto_last;
	__u32 meta_failed;		/* bpf_xdp_adjust_meta refused */
};

/* What the program leaves in the metadata area, right before the packet. */
struct xdp_hints_meta {
	__u64 rx_timestamp;
	__u32 rx_hash;
	__u32 rx_hash_type;	/* enum xdp_rss_hash_type */
	__be16 vlan_proto;
	__u16 vlan_tci;
	__s16 ts_ret;		/* what each kfunc returned */
	__s16 hash_ret;
	__s16 vlan_ret;
	__u16 valid;		/* bit 0: timestamp, 1: hash, 2: VLAN tag returned 0 */
	__u32 class;
};

_Static_assert(sizeof(struct xdp_hints_meta) == 32, "struct xdp_hints_meta is 32 bytes");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, C_MAX);
	__type(key, __u32);
	__type(value, struct hint_class);
} hint_classes SEC(".maps");

/* Packets per RX queue (rx_queue_index). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} rx_queues SEC(".maps");

/* Packets per CPU. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cpu_packets SEC(".maps");

struct vlan_hdr {
	__be16 h_vlan_TCI;
	__be16 h_vlan_encapsulated_proto;
};

static __always_inline __u32 classify(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return C_OTHER;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_8021Q):
	case bpf_htons(ETH_P_8021AD):
		return C_VLAN;
	case bpf_htons(ETH_P_ARP):
		return C_ARP;
	case bpf_htons(ETH_P_IP): {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return C_OTHER;
		if (iph->frag_off & bpf_htons(0x3fff))
			return C_IPV4_FRAG;
		if (iph->protocol == IPPROTO_TCP)
			return C_IPV4_TCP;
		if (iph->protocol == IPPROTO_UDP)
			return C_IPV4_UDP;
		return C_IPV4_OTHER;
	}
	case bpf_htons(ETH_P_IPV6): {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return C_OTHER;
		if (ip6->nexthdr == IPPROTO_TCP)
			return C_IPV6_TCP;
		if (ip6->nexthdr == IPPROTO_UDP)
			return C_IPV6_UDP;
		return C_IPV6_OTHER;
	}
	}
	return C_OTHER;
}

static __always_inline __u32 ret_kind(int ret)
{
	switch (ret) {
	case 0:
		return R_OK;
	case -ENODATA:
		return R_NODATA;
	case -EOPNOTSUPP:
		return R_NOTSUPP;
	}
	return R_OTHER;
}

static __always_inline void count(__u32 map_key, void *map)
{
	__u64 *v = bpf_map_lookup_elem(map, &map_key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_hints(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 class = classify(data, data_end);
	__u64 ts = 0;
	__u32 hash = 0;
	enum xdp_rss_hash_type rss_type = 0;
	__be16 vlan_proto = 0;
	__u16 vlan_tci = 0;
	int ts_ret, hash_ret, vlan_ret;
	struct hint_class *c;
	struct xdp_hints_meta *meta;

	ts_ret = bpf_xdp_metadata_rx_timestamp(ctx, &ts);
	hash_ret = bpf_xdp_metadata_rx_hash(ctx, &hash, &rss_type);
	vlan_ret = bpf_xdp_metadata_rx_vlan_tag(ctx, &vlan_proto, &vlan_tci);

	count(ctx->rx_queue_index, &rx_queues);
	count(0, &cpu_packets);

	c = bpf_map_lookup_elem(&hint_classes, &class);
	if (c) {
		__sync_fetch_and_add(&c->packets, 1);
		__sync_fetch_and_add(&c->rets[K_TIMESTAMP][ret_kind(ts_ret)], 1);
		__sync_fetch_and_add(&c->rets[K_HASH][ret_kind(hash_ret)], 1);
		__sync_fetch_and_add(&c->rets[K_VLAN][ret_kind(vlan_ret)], 1);
		if (ts_ret == 0)
			c->ts_last = ts;
		if (hash_ret == 0) {
			__sync_fetch_and_or(&c->rss_types, rss_type);
			c->rss_type_last = rss_type;
			if (hash) {
				__sync_fetch_and_add(&c->hash_nonzero, 1);
				if (!c->hash_first)
					c->hash_first = hash;
			}
		}
		if (vlan_ret == 0) {
			c->vlan_tci_last = vlan_tci;
			c->vlan_proto_last = vlan_proto;
		}
	}

	/* Hand the hints on in the metadata area. The packet pointers are stale after this. */
	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*meta))) {
		if (c)
			__sync_fetch_and_add(&c->meta_failed, 1);
		return XDP_PASS;
	}
	meta = (void *)(long)ctx->data_meta;
	if ((void *)(meta + 1) > (void *)(long)ctx->data)
		return XDP_PASS;
	meta->rx_timestamp = ts_ret == 0 ? ts : 0;
	meta->rx_hash = hash_ret == 0 ? hash : 0;
	meta->rx_hash_type = hash_ret == 0 ? rss_type : 0;
	meta->vlan_proto = vlan_ret == 0 ? vlan_proto : 0;
	meta->vlan_tci = vlan_ret == 0 ? vlan_tci : 0;
	meta->ts_ret = ts_ret;
	meta->hash_ret = hash_ret;
	meta->vlan_ret = vlan_ret;
	meta->valid = (ts_ret == 0) | (hash_ret == 0) << 1 | (vlan_ret == 0) << 2;
	meta->class = class;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
