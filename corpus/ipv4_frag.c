// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* ipv4_frag: sanity checks on IPv4 fragments and reassembly bookkeeping.
 *  - DF together with MF or an offset, a non-last fragment whose length is not a multiple of 8,
 *    and a fragment ending past 65535 bytes ("ping of death") are dropped;
 *  - TCP fragments at offset 8 (RFC 1858 overlap) and tiny first fragments are dropped;
 *  - every datagram in flight is tracked in a hash map (fragments, bytes, first/last seen); the entry
 *    is deleted once all bytes have been seen, and completed datagrams are counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IP_MF_		0x2000
#define IP_DF_		0x4000
#define IP_OFFMASK_	0x1fff

const volatile __u32 min_first_tcp_payload = 20;

struct frag_key {
	__be32 saddr;
	__be32 daddr;
	__be16 id;
	__u8 proto;
	__u8 pad;
};

struct frag_state {
	__u32 frags;
	__u32 bytes;
	__u32 total;	/* known once the last fragment arrived */
	__u8 first_seen;
	__u8 last_seen;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 2048);
	__type(key, struct frag_key);
	__type(value, struct frag_state);
} inflight SEC(".maps");

enum { FR_NOT_FRAGMENT, FR_FRAGMENT, FR_COMPLETED, FR_DF_CONFLICT, FR_BAD_LENGTH, FR_OVERSIZE,
       FR_TCP_OVERLAP, FR_TINY, FR_BAD_HEADER, FR_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} frag_stats SEC(".maps");

static __always_inline int verdict(__u32 idx, int action)
{
	__u64 *v = bpf_map_lookup_elem(&frag_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
	return action;
}

SEC("xdp")
int xdp_ipv4_frag(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct frag_key key = {};
	struct frag_state *st, fresh = {};
	__u32 hlen, payload, offset, end;
	__u16 frag;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end)
		return verdict(FR_BAD_HEADER, XDP_DROP);
	hlen = iph->ihl * 4;
	if (hlen < sizeof(*iph) || bpf_ntohs(iph->tot_len) < hlen)
		return verdict(FR_BAD_HEADER, XDP_DROP);

	frag = bpf_ntohs(iph->frag_off);
	offset = (frag & IP_OFFMASK_) * 8;
	if (!(frag & IP_MF_) && offset == 0)
		return verdict(FR_NOT_FRAGMENT, XDP_PASS);

	if (frag & IP_DF_)
		return verdict(FR_DF_CONFLICT, XDP_DROP);
	payload = bpf_ntohs(iph->tot_len) - hlen;
	if ((frag & IP_MF_) && (payload & 7))
		return verdict(FR_BAD_LENGTH, XDP_DROP);
	end = offset + payload;
	if (end + hlen > 65535)
		return verdict(FR_OVERSIZE, XDP_DROP);
	if (iph->protocol == IPPROTO_TCP) {
		if (offset == 8)
			return verdict(FR_TCP_OVERLAP, XDP_DROP);
		if (offset == 0 && payload < min_first_tcp_payload)
			return verdict(FR_TINY, XDP_DROP);
	}

	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.id = iph->id;
	key.proto = iph->protocol;
	st = bpf_map_lookup_elem(&inflight, &key);
	if (!st) {
		bpf_map_update_elem(&inflight, &key, &fresh, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&inflight, &key);
		if (!st)
			return verdict(FR_FRAGMENT, XDP_PASS);
	}
	st->frags++;
	st->bytes += payload;
	if (offset == 0)
		st->first_seen = 1;
	if (!(frag & IP_MF_)) {
		st->last_seen = 1;
		st->total = end;
	}
	if (st->first_seen && st->last_seen && st->bytes == st->total) {
		bpf_map_delete_elem(&inflight, &key);
		verdict(FR_COMPLETED, 0);
	}
	return verdict(FR_FRAGMENT, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
