// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* eth_stats: classify each frame by its Ethernet header and count frames and bytes per class.
 * Frames with a multicast or all-zero source MAC are invalid on the wire and are dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum eth_class {
	CLASS_IPV4,
	CLASS_IPV6,
	CLASS_ARP,
	CLASS_VLAN,
	CLASS_QINQ,
	CLASS_8023,	/* length field instead of an EtherType */
	CLASS_OTHER,
	CLASS_BAD_SRC,
	CLASS_BROADCAST,	/* counted in addition to the class above */
	CLASS_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CLASS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} frames SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CLASS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

static __always_inline int mac_is_zero(const __u8 *mac)
{
	return (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]) == 0;
}

static __always_inline int mac_is_broadcast(const __u8 *mac)
{
	return (mac[0] & mac[1] & mac[2] & mac[3] & mac[4] & mac[5]) == 0xff;
}

static __always_inline void count(__u32 class, __u64 len)
{
	__u64 *v;

	v = bpf_map_lookup_elem(&frames, &class);
	if (v)
		__sync_fetch_and_add(v, 1);
	v = bpf_map_lookup_elem(&bytes, &class);
	if (v)
		*v += len;
}

SEC("xdp")
int xdp_eth_stats(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u64 len = data_end - data;
	__u16 proto;
	__u32 class;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;

	proto = bpf_ntohs(eth->h_proto);
	if ((eth->h_source[0] & 1) || mac_is_zero(eth->h_source))
		class = CLASS_BAD_SRC;
	else if (proto < ETH_P_802_3_MIN)
		class = CLASS_8023;
	else if (proto == ETH_P_IP)
		class = CLASS_IPV4;
	else if (proto == ETH_P_IPV6)
		class = CLASS_IPV6;
	else if (proto == ETH_P_ARP)
		class = CLASS_ARP;
	else if (proto == ETH_P_8021Q)
		class = CLASS_VLAN;
	else if (proto == ETH_P_8021AD)
		class = CLASS_QINQ;
	else
		class = CLASS_OTHER;

	count(class, len);
	if (mac_is_broadcast(eth->h_dest))
		count(CLASS_BROADCAST, len);

	return class == CLASS_BAD_SRC ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
