// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* encap: tunnel endpoints with bpf_xdp_adjust_head.
 *  - IPv4 to tunnel_net (198.51.100.0/24) is encapsulated in IPIP: 20 bytes pushed in front, an
 *    outer header from tunnel_local to tunnel_remote built (id from a .bss counter, checksum by
 *    bpf_csum_diff over the new header), sent back out with XDP_TX;
 *  - IPIP addressed to tunnel_local is decapsulated (20 bytes pulled) and passed on;
 *  - VXLAN (UDP 4789) addressed to tunnel_local with a valid VNI flag has its outer Ethernet, IPv4,
 *    UDP and VXLAN headers (50 bytes) stripped, leaving the inner frame; VNIs other than vni are
 *    dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __be32 tunnel_local = bpf_htonl(0xc0000201);	/* 192.0.2.1 */
const volatile __be32 tunnel_remote = bpf_htonl(0xc0000202);	/* 192.0.2.2 */
const volatile __be32 tunnel_net = bpf_htonl(0xc6336400);	/* 198.51.100.0/24 */
const volatile __be32 tunnel_mask = bpf_htonl(0xffffff00);
const volatile __u32 vni = 42;

__u32 next_id;

struct vxlanhdr_ {
	__be32 flags;	/* 0x08000000: VNI valid */
	__be32 vni;	/* VNI << 8 */
};

enum { EN_ENCAP, EN_DECAP_IPIP, EN_DECAP_VXLAN, EN_VXLAN_WRONG_VNI, EN_FAILED, EN_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EN_MAX);
	__type(key, __u32);
	__type(value, __u64);
} encap_stats SEC(".maps");

static __always_inline int count(__u32 idx, int action)
{
	__u64 *v = bpf_map_lookup_elem(&encap_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
	return action;
}

static __always_inline __u16 csum_fold(__u64 csum)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

static __always_inline int encap_ipip(struct xdp_md *ctx, __u16 inner_len)
{
	void *data_end, *data;
	struct ethhdr *eth, old_eth;
	struct iphdr *outer;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	old_eth = *eth;

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
		return -1;

	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	eth = data;
	outer = (void *)(eth + 1);
	if ((void *)(outer + 1) > data_end)
		return -1;

	/* the frame goes back to the sender's side: swap the MACs */
	__builtin_memcpy(eth->h_dest, old_eth.h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, old_eth.h_dest, ETH_ALEN);
	eth->h_proto = bpf_htons(ETH_P_IP);

	outer->version = 4;
	outer->ihl = 5;
	outer->tos = 0;
	outer->tot_len = bpf_htons(inner_len + sizeof(*outer));
	outer->id = bpf_htons(__sync_fetch_and_add(&next_id, 1));
	outer->frag_off = bpf_htons(0x4000);	/* DF */
	outer->ttl = 64;
	outer->protocol = IPPROTO_IPIP;
	outer->check = 0;
	outer->saddr = tunnel_local;
	outer->daddr = tunnel_remote;
	outer->check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)outer, sizeof(*outer), 0));
	return 0;
}

/* Removes len bytes after the Ethernet header, keeping the Ethernet header itself. */
static __always_inline int pull_after_eth(struct xdp_md *ctx, int len)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data, copy;

	if ((void *)(eth + 1) > data_end)
		return -1;
	copy = *eth;
	if (bpf_xdp_adjust_head(ctx, len))
		return -1;
	data_end = (void *)(long)ctx->data_end;
	data = (void *)(long)ctx->data;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return -1;
	*eth = copy;
	return 0;
}

SEC("xdp")
int xdp_encap(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u16 tot_len;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_PASS;
	tot_len = bpf_ntohs(iph->tot_len);

	if (iph->daddr == tunnel_local && iph->protocol == IPPROTO_IPIP && iph->ihl == 5) {
		struct iphdr *inner = iph + 1;

		if ((void *)(inner + 1) > data_end || inner->version != 4)
			return count(EN_FAILED, XDP_DROP);
		if (pull_after_eth(ctx, sizeof(*iph)))
			return count(EN_FAILED, XDP_ABORTED);
		return count(EN_DECAP_IPIP, XDP_PASS);
	}

	if (iph->daddr == tunnel_local && iph->protocol == IPPROTO_UDP && iph->ihl == 5) {
		struct udphdr *udp = (void *)(iph + 1);
		struct vxlanhdr_ *vx = (void *)(udp + 1);
		struct ethhdr *inner = (void *)(vx + 1);

		if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(4789))
			return XDP_PASS;
		if ((void *)(inner + 1) > data_end || vx->flags != bpf_htonl(0x08000000))
			return count(EN_FAILED, XDP_DROP);
		if (bpf_ntohl(vx->vni) >> 8 != vni)
			return count(EN_VXLAN_WRONG_VNI, XDP_DROP);
		/* the inner frame brings its own Ethernet header: drop all 50 outer bytes */
		if (bpf_xdp_adjust_head(ctx, (int)((void *)inner - data)))
			return count(EN_FAILED, XDP_ABORTED);
		return count(EN_DECAP_VXLAN, XDP_PASS);
	}

	if ((iph->daddr & tunnel_mask) == tunnel_net) {
		if (encap_ipip(ctx, tot_len))
			return count(EN_FAILED, XDP_ABORTED);
		return count(EN_ENCAP, XDP_TX);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
