// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* ipv6_exthdr: walks the IPv6 extension header chain with bpf_xdp_load_bytes.
 *  - hop-by-hop, routing, fragment, destination options and AH headers are followed (at most 8);
 *  - hop-by-hop not first, a type 0 routing header, an unknown hop-by-hop option whose action bits
 *    say "discard", a truncated header or a chain longer than 8 are dropped;
 *  - each extension header type and the final upper-layer protocol are counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_EXT_HDRS	8
#define MAX_HBH_OPTS	8

#define NEXTHDR_HOP_	0
#define NEXTHDR_ROUTING_ 43
#define NEXTHDR_FRAGMENT_ 44
#define NEXTHDR_AUTH_	51
#define NEXTHDR_NONE_	59
#define NEXTHDR_DEST_	60

#define HBH_PAD1	0x00
#define HBH_PADN	0x01
#define HBH_ROUTER_ALERT 0x05
#define HBH_JUMBO	0xc2

struct ext_generic {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 type;	/* routing type for a routing header */
	__u8 segments_left;
};

struct ext_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off;
	__be32 identification;
};

enum { EXT_HOP, EXT_ROUTING, EXT_FRAGMENT, EXT_DEST, EXT_AUTH, EXT_NONE, EXT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EXT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} ext_seen SEC(".maps");

/* final upper-layer protocol, counted per protocol number */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} upper_proto SEC(".maps");

enum { V6_PLAIN, V6_WITH_EXT, V6_HBH_NOT_FIRST, V6_RH0, V6_BAD_OPTION, V6_TRUNCATED, V6_TOO_LONG,
       V6_NONFIRST_FRAGMENT, V6_ROUTER_ALERT, V6_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, V6_MAX);
	__type(key, __u32);
	__type(value, __u64);
} v6_stats SEC(".maps");

static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int drop(__u32 why)
{
	bump(&v6_stats, why);
	return XDP_DROP;
}

/* Walks the options of a hop-by-hop header of len bytes at off.
 * Returns 0 to go on, or the reason to drop. */
static __always_inline int check_hbh_options(struct xdp_md *ctx, __u32 off, __u32 len)
{
	__u32 pos = 2, i;
	__u8 opt[2];

	for (i = 0; i < MAX_HBH_OPTS; i++) {
		if (pos >= len)
			return 0;
		if (bpf_xdp_load_bytes(ctx, off + pos, opt, 1))
			return V6_TRUNCATED;
		if (opt[0] == HBH_PAD1) {
			pos++;
			continue;
		}
		if (bpf_xdp_load_bytes(ctx, off + pos, opt, 2))
			return V6_TRUNCATED;
		switch (opt[0]) {
		case HBH_PADN:
		case HBH_JUMBO:
			break;
		case HBH_ROUTER_ALERT:
			bump(&v6_stats, V6_ROUTER_ALERT);
			break;
		default:
			/* the two high bits say what to do with an unknown option: 00 = skip it */
			if (opt[0] & 0xc0)
				return V6_BAD_OPTION;
		}
		pos += 2 + opt[1];
	}
	return 0;
}

SEC("xdp")
int xdp_ipv6_exthdr(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	struct ext_generic ext;
	struct ext_frag fh;
	__u32 off, len, i, why;
	__u8 nh, l4[4];

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IPV6))
		return XDP_PASS;
	if ((void *)(ip6 + 1) > data_end)
		return drop(V6_TRUNCATED);

	nh = ip6->nexthdr;
	off = sizeof(*eth) + sizeof(*ip6);
	bump(&v6_stats, (nh == NEXTHDR_HOP_ || nh == NEXTHDR_ROUTING_ || nh == NEXTHDR_FRAGMENT_ ||
			 nh == NEXTHDR_DEST_ || nh == NEXTHDR_AUTH_) ? V6_WITH_EXT : V6_PLAIN);

	for (i = 0; i < MAX_EXT_HDRS; i++) {
		switch (nh) {
		case NEXTHDR_HOP_:
			if (i != 0)
				return drop(V6_HBH_NOT_FIRST);
			if (bpf_xdp_load_bytes(ctx, off, &ext, 2))
				return drop(V6_TRUNCATED);
			len = (ext.hdrlen + 1) * 8;
			why = check_hbh_options(ctx, off, len);
			if (why)
				return drop(why);
			bump(&ext_seen, EXT_HOP);
			break;
		case NEXTHDR_DEST_:
			if (bpf_xdp_load_bytes(ctx, off, &ext, 2))
				return drop(V6_TRUNCATED);
			len = (ext.hdrlen + 1) * 8;
			bump(&ext_seen, EXT_DEST);
			break;
		case NEXTHDR_ROUTING_:
			if (bpf_xdp_load_bytes(ctx, off, &ext, sizeof(ext)))
				return drop(V6_TRUNCATED);
			if (ext.type == 0)
				return drop(V6_RH0);
			len = (ext.hdrlen + 1) * 8;
			bump(&ext_seen, EXT_ROUTING);
			break;
		case NEXTHDR_FRAGMENT_:
			if (bpf_xdp_load_bytes(ctx, off, &fh, sizeof(fh)))
				return drop(V6_TRUNCATED);
			bump(&ext_seen, EXT_FRAGMENT);
			if (bpf_ntohs(fh.frag_off) & 0xfff8) {
				/* a later fragment carries no upper-layer header */
				bump(&v6_stats, V6_NONFIRST_FRAGMENT);
				return XDP_PASS;
			}
			ext.nexthdr = fh.nexthdr;
			len = sizeof(fh);
			break;
		case NEXTHDR_AUTH_:
			if (bpf_xdp_load_bytes(ctx, off, &ext, 2))
				return drop(V6_TRUNCATED);
			len = (ext.hdrlen + 2) * 4;
			bump(&ext_seen, EXT_AUTH);
			break;
		case NEXTHDR_NONE_:
			bump(&ext_seen, EXT_NONE);
			bump(&upper_proto, nh);
			return XDP_PASS;
		default:
			goto upper;
		}
		/* the whole header must be inside the packet */
		if (bpf_xdp_load_bytes(ctx, off + len - 1, l4, 1))
			return drop(V6_TRUNCATED);
		nh = ext.nexthdr;
		off += len;
	}
	return drop(V6_TOO_LONG);

upper:
	bump(&upper_proto, nh);
	if (nh == IPPROTO_TCP || nh == IPPROTO_UDP || nh == IPPROTO_ICMPV6) {
		/* ports or type/code must be there */
		if (bpf_xdp_load_bytes(ctx, off, l4, sizeof(l4)))
			return drop(V6_TRUNCATED);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
