// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* planted_bug: a parser for a small telemetry protocol on UDP port 7777, with a bug planted for the
 * fuzzing tests (sim/xdptest) to find.
 *  - Ethernet with at most one 802.1Q tag, IPv4 (options skipped, later fragments passed), UDP to
 *    port 7777 whose length fits the packet;
 *  - the telemetry header: version 1 (else dropped), a type below 4 (else dropped), a sequence
 *    number and a 4-byte tag; records are counted per type in an ARRAY, per source in a HASH;
 *  - THE PLANTED BUG: a tag starting with the three bytes "xdp" returns XDP_ABORTED. Nothing else
 *    does, so a fuzzer that reports an aborted packet has found exactly this.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define TLM_PORT 7777

struct tlm_hdr {
	__u8 version;
	__u8 type;
	__be16 len;
	__be32 seq;
	__u8 tag[4];
};

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

enum { TLM_RECORDS, TLM_BAD_VERSION, TLM_BAD_TYPE, TLM_SHORT, TLM_STATS_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TLM_STATS_MAX + 4);
	__type(key, __u32);
	__type(value, __u64);
} tlm_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __be32);
	__type(value, __u32);
} tlm_sources SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tlm_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_planted_bug(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph;
	struct udphdr *udp;
	struct tlm_hdr *tlm;
	__u16 proto;
	void *l3;
	__u32 *seen, one = 1;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	proto = eth->h_proto;
	l3 = eth + 1;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return XDP_DROP;
		proto = vh->proto;
		l3 = vh + 1;
	}
	if (proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	iph = l3;
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	if (iph->version != 4 || iph->ihl < 5)
		return XDP_DROP;
	if (iph->frag_off & bpf_htons(0x1fff))
		return XDP_PASS; /* a later fragment carries no UDP header */
	if (iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	udp = l3 + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;
	if (udp->dest != bpf_htons(TLM_PORT))
		return XDP_PASS;
	if (bpf_ntohs(udp->len) < sizeof(*udp) + sizeof(*tlm) || (void *)udp + bpf_ntohs(udp->len) > data_end) {
		bump(TLM_SHORT);
		return XDP_DROP;
	}
	tlm = (void *)(udp + 1);
	if ((void *)(tlm + 1) > data_end)
		return XDP_DROP;
	if (tlm->version != 1) {
		bump(TLM_BAD_VERSION);
		return XDP_DROP;
	}
	if (tlm->type >= 4) {
		bump(TLM_BAD_TYPE);
		return XDP_DROP;
	}
	bump(TLM_RECORDS);
	bump(TLM_STATS_MAX + tlm->type);
	seen = bpf_map_lookup_elem(&tlm_sources, &iph->saddr);
	if (seen)
		__sync_fetch_and_add(seen, 1);
	else
		bpf_map_update_elem(&tlm_sources, &iph->saddr, &one, BPF_NOEXIST);
	/* The planted bug. */
	if (tlm->tag[0] == 'x' && tlm->tag[1] == 'd' && tlm->tag[2] == 'p')
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
