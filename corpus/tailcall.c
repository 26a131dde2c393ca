// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tailcall: a protocol dispatcher built from tail calls.
 *  - the entry program parses Ethernet (and one VLAN tag), stores the L3 offset and protocol in
 *    4 bytes of XDP metadata (bpf_xdp_adjust_meta) and tail-calls the handler for the protocol
 *    through a prog array filled statically in C;
 *  - the IPv4 handler tail-calls again into the UDP handler (nested tail call);
 *  - a protocol without a handler slot makes bpf_tail_call fall through: counted and passed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { SLOT_IPV4, SLOT_IPV6, SLOT_ARP, SLOT_UDP4, SLOT_OTHER, SLOT_MAX };

struct meta {
	__u16 l3_off;
	__u8 slot;
	__u8 vlan;
};

enum { TC_ENTRY, TC_IPV4, TC_IPV6, TC_ARP, TC_UDP4, TC_MISSED, TC_NO_META, TC_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TC_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tc_stats SEC(".maps");

int xdp_handle_ipv4(struct xdp_md *ctx);
int xdp_handle_ipv6(struct xdp_md *ctx);
int xdp_handle_arp(struct xdp_md *ctx);
int xdp_handle_udp4(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOT_MAX);
	__type(key, __u32);
	__array(values, int (struct xdp_md *));
} handlers SEC(".maps") = {
	.values = {
		[SLOT_IPV4] = (void *)&xdp_handle_ipv4,
		[SLOT_IPV6] = (void *)&xdp_handle_ipv6,
		[SLOT_ARP] = (void *)&xdp_handle_arp,
		[SLOT_UDP4] = (void *)&xdp_handle_udp4,
		/* SLOT_OTHER stays empty on purpose */
	},
};

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tc_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Reads the metadata the entry program left in front of the packet. */
static __always_inline int read_meta(struct xdp_md *ctx, struct meta *out)
{
	void *data = (void *)(long)ctx->data;
	struct meta *m = (void *)(long)ctx->data_meta;

	if ((void *)(m + 1) > data) {
		bump(TC_NO_META);
		return -1;
	}
	*out = *m;
	return 0;
}

SEC("xdp")
int xdp_tailcall_entry(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct meta *m;
	__u16 proto, off = sizeof(*eth);
	__u8 slot, vlan = 0;

	bump(TC_ENTRY);
	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD)) {
		__be16 *inner = (void *)(eth + 1) + 2;

		if ((void *)(inner + 1) > data_end)
			return XDP_DROP;
		proto = *inner;
		off += 4;
		vlan = 1;
	}

	if (proto == bpf_htons(ETH_P_IP))
		slot = SLOT_IPV4;
	else if (proto == bpf_htons(ETH_P_IPV6))
		slot = SLOT_IPV6;
	else if (proto == bpf_htons(ETH_P_ARP))
		slot = SLOT_ARP;
	else
		slot = SLOT_OTHER;

	if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta)))
		return XDP_ABORTED;
	data = (void *)(long)ctx->data;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > data)
		return XDP_ABORTED;
	m->l3_off = off;
	m->slot = slot;
	m->vlan = vlan;

	bpf_tail_call(ctx, &handlers, slot);
	bump(TC_MISSED);
	return XDP_PASS;
}

SEC("xdp")
int xdp_handle_ipv4(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *iph;
	struct meta m;

	bump(TC_IPV4);
	if (read_meta(ctx, &m))
		return XDP_ABORTED;
	if (m.l3_off > 18)
		return XDP_ABORTED;
	iph = data + m.l3_off;
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (iph->ttl == 0)
		return XDP_DROP;
	if (iph->protocol == IPPROTO_UDP && !(iph->frag_off & bpf_htons(0x1fff)))
		bpf_tail_call(ctx, &handlers, SLOT_UDP4);
	return XDP_PASS;
}

SEC("xdp")
int xdp_handle_udp4(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct iphdr *iph;
	struct udphdr *udp;
	struct meta m;

	bump(TC_UDP4);
	if (read_meta(ctx, &m) || m.l3_off > 18)
		return XDP_ABORTED;
	iph = data + m.l3_off;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_DROP;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	/* port 0 is reserved: nobody sends to it legitimately */
	if (udp->dest == 0 || udp->source == 0)
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xdp_handle_ipv6(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ipv6hdr *ip6;
	struct meta m;

	bump(TC_IPV6);
	if (read_meta(ctx, &m) || m.l3_off > 18)
		return XDP_ABORTED;
	ip6 = data + m.l3_off;
	if ((void *)(ip6 + 1) > data_end)
		return XDP_DROP;
	if (ip6->version != 6)
		return XDP_DROP;
	return XDP_PASS;
}

SEC("xdp")
int xdp_handle_arp(struct xdp_md *ctx)
{
	struct meta m;

	bump(TC_ARP);
	if (read_meta(ctx, &m))
		return XDP_ABORTED;
	/* ARP inside a VLAN is not ours to answer */
	return m.vlan ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
