// SPDX-License-Identifier: GPL-2.0
/* lb: an L4 load balancer in the style of production XDP balancers, large enough (several
 * thousand instructions) to prove the loader on a realistic object.
 *
 * A frame to a virtual IP (VIP, IPv4 or IPv6, TCP or UDP, by address, port and protocol, or by
 * address alone for VIPs flagged VIP_ANY_PORT) is sent to one backend of that VIP, encapsulated
 * toward it and bounced out (XDP_TX):
 *  - the backend is chosen by a consistent-hash ring: ch_rings[vip * RING_SIZE + hash % RING_SIZE]
 *    gives a position in the VIP's backend array, which vip_backends (array_of_maps) holds;
 *  - established flows stick to their backend through an LRU connection table; QUIC short-header
 *    packets carry a server ID in their connection ID that names the backend directly;
 *  - the encapsulation is IPIP (IPv4 in IPv4, IPv6 in IPv6) or, for VIPs flagged VIP_GUE, GUE-style
 *    UDP (to port gue_port) with a source port taken from the flow hash; the outer IPv4 header
 *    checksum is computed, the inner TTL (hop limit) is decremented with an incremental checksum
 *    fix-up when decrement_ttl is set;
 *  - a frame that would outgrow max_frame once encapsulated is answered with ICMP "fragmentation
 *    needed" (IPv4 with DF) or ICMPv6 "packet too big", quoting the start of the packet;
 *  - sources in the src_filter LPM trie are dropped; ICMP echo requests to a VIP are answered
 *    (XDP_TX); IPIP/IP6IP6 frames to one of our decap addresses are decapsulated and passed;
 *  - frames may carry one 802.1Q tag, which replies keep and encapsulation drops;
 *  - per-CPU counters, per-VIP counters and per-backend counters are kept, and every new
 *    connection is reported on the events ring buffer.
 * Everything else passes to the stack.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* linux/icmp.h pulls in libc headers; the echo header is all we need. */
struct icmp_echo {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_ECHO 8

struct icmp_too_big {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 unused;
	__be16 mtu;
};

struct vlan_tag {
	__be16 tci;
	__be16 proto;
};

#define MAX_VIPS 4
#define RING_SIZE 64
#define MAX_BACKENDS 8
#define MAX_SERVER_IDS 256
#define QUIC_PORT 443

/* vip_meta.flags */
#define VIP_GUE 1
#define VIP_ANY_PORT 2
#define VIP_QUIC 4
#define VIP_NO_LRU 8

/* backend.flags */
#define BE_V6 1
#define BE_DRAINED 2

enum stat {
	ST_RX,
	ST_RX_BYTES,
	ST_NOT_VIP,
	ST_FILTERED,
	ST_NEW_CONN,
	ST_LRU_HIT,
	ST_QUIC_ROUTED,
	ST_IPIP,
	ST_GUE,
	ST_NO_BACKEND,
	ST_DECAP,
	ST_ICMP_REPLY,
	ST_TTL_EXCEEDED,
	ST_MALFORMED,
	ST_FRAGMENT,
	ST_TOO_BIG,
	ST_VLAN,
	ST_MAX,
};

union addr {
	__be32 v4;
	__be32 v6[4];
};

struct vip_key {
	union addr addr;
	__be16 port;
	__u8 proto;
	__u8 family; /* 4 or 6 */
};

struct vip_meta {
	__u32 id;
	__u32 flags;
};

struct backend {
	union addr addr;
	__u32 flags;
	__u32 weight;
};

struct flow_key {
	union addr src;
	union addr dst;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct conn {
	__u32 vip_id;
	__u32 pos;
	__u64 packets;
	__u64 bytes;
};

struct lb_config {
	__be32 src_v4;
	__be32 src_v6[4];
	__u8 gw_mac[ETH_ALEN];
	__u8 lb_mac[ETH_ALEN];
};

struct lpm_v4 {
	__u32 prefixlen;
	__be32 addr;
};

struct lpm_v6 {
	__u32 prefixlen;
	__be32 addr[4];
};

struct event {
	struct flow_key flow;
	__u32 vip_id;
	__u32 pos;
	__u32 hash;
	__u32 kind; /* 1 new connection, 2 QUIC routed */
};

/* What the balancing steps hand each other (BPF functions take at most five arguments). */
struct lb_args {
	__u32 l3_off; /* 14, or 18 behind an 802.1Q tag */
	__u32 payload_off;
	__u32 bytes;
	__u32 hash;
	__u8 inner_proto;
	__u8 gue;
	__u8 family;
	__u8 pad;
};

struct vip_counters {
	__u64 packets;
	__u64 bytes;
};

/* Knobs set by the loader. */
const volatile __u8 decrement_ttl = 1;
const volatile __u16 gue_port = 6080;
const volatile __u32 hash_seed = 0x5eed;
/* The largest frame the next hop takes, Ethernet header included (not counting a VLAN tag). */
const volatile __u32 max_frame = 1514;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct vip_key);
	__type(value, struct vip_meta);
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS * RING_SIZE);
	__type(key, __u32);
	__type(value, __u32);
} ch_rings SEC(".maps");

struct backend_set {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct backend);
};

struct backend_set backends_vip0 SEC(".maps"), backends_vip1 SEC(".maps"),
	backends_vip2 SEC(".maps"), backends_vip3 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__array(values, struct backend_set);
} vip_backends SEC(".maps") = {
	.values = { &backends_vip0, &backends_vip1, &backends_vip2, &backends_vip3 },
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct conn);
} conn_table SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_SERVER_IDS);
	__type(key, __u32);
	__type(value, __u32); /* backend position + 1; 0: unknown */
} server_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, ST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_VIPS);
	__type(key, __u32);
	__type(value, struct vip_counters);
} vip_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS * MAX_BACKENDS);
	__type(key, __u32);
	__type(value, __u64);
} backend_packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__type(key, struct lpm_v4);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} src_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 128);
	__type(key, struct lpm_v6);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} src_filter6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, union addr);
	__type(value, __u32);
} decap_dst SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_config);
} config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

static __always_inline void count(__u32 which, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);

	if (v)
		*v += n;
}

static __always_inline __u16 fold(__u64 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* RFC 1624: the checksum after a 16-bit word of the covered data changed from old to new. */
static __always_inline __u16 csum_replace(__u16 check, __u16 old, __u16 new)
{
	__u32 sum = (__u16)~check;

	sum += (__u16)~old;
	sum += new;
	return ~fold(sum);
}

static __always_inline __u32 rotl(__u32 x, int k)
{
	return (x << k) | (x >> (32 - k));
}

static __always_inline __u32 mix(__u32 h, __u32 w)
{
	h ^= rotl(w * 0xcc9e2d51u, 15) * 0x1b873593u;
	return rotl(h, 13) * 5 + 0xe6546b64u;
}

/* The flow hash: murmur3's block mix over the flow's address words (as they lie in memory) and
 * the ports (sport << 16 | dport, in network order, or 0 without ports), then its fmix32. */
static __noinline __u32 flow_hash(const struct flow_key *f, int with_ports)
{
	__u32 h = hash_seed ^ f->proto;
	__u32 ports = with_ports ? ((__u32)f->sport << 16 | f->dport) : 0;

	if (f->family == 6) {
		h = mix(h, f->src.v6[0]);
		h = mix(h, f->src.v6[1]);
		h = mix(h, f->src.v6[2]);
		h = mix(h, f->src.v6[3]);
		h = mix(h, f->dst.v6[0]);
		h = mix(h, f->dst.v6[1]);
		h = mix(h, f->dst.v6[2]);
		h = mix(h, f->dst.v6[3]);
	} else {
		h = mix(h, f->src.v4);
		h = mix(h, f->dst.v4);
	}
	h = mix(h, ports);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

static __always_inline int filtered_v4(__be32 src)
{
	struct lpm_v4 k = { .prefixlen = 32, .addr = src };

	return bpf_map_lookup_elem(&src_filter, &k) != 0;
}

static __always_inline int filtered_v6(const __be32 *src)
{
	struct lpm_v6 k = { .prefixlen = 128 };

	k.addr[0] = src[0];
	k.addr[1] = src[1];
	k.addr[2] = src[2];
	k.addr[3] = src[3];
	return bpf_map_lookup_elem(&src_filter6, &k) != 0;
}

static __always_inline struct vip_meta *find_vip(struct flow_key *f)
{
	struct vip_key k = {};
	struct vip_meta *m;

	k.family = f->family;
	k.proto = f->proto;
	k.port = f->dport;
	if (f->family == 6) {
		k.addr.v6[0] = f->dst.v6[0];
		k.addr.v6[1] = f->dst.v6[1];
		k.addr.v6[2] = f->dst.v6[2];
		k.addr.v6[3] = f->dst.v6[3];
	} else {
		k.addr.v4 = f->dst.v4;
	}
	m = bpf_map_lookup_elem(&vips, &k);
	if (m)
		return m;
	k.port = 0;
	m = bpf_map_lookup_elem(&vips, &k);
	if (m && (m->flags & VIP_ANY_PORT))
		return m;
	return 0;
}

/* QUIC short header: 0b01xxxxxx, then the destination connection ID whose first two bytes are
 * the server ID. Returns the backend position + 1, or 0 when the packet does not name one. */

/* QUIC short header: 0b01xxxxxx, then the destination connection ID whose first two bytes are
 * the server ID. Returns the backend position + 1, or 0 when the packet does not name one. */
static __noinline __u32 quic_server(struct xdp_md *ctx, __u32 payload_off)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *p;
	__u32 id, *pos;

	if (payload_off > 1500)
		return 0;
	p = data + payload_off;
	if ((void *)(p + 3) > end)
		return 0;
	if ((p[0] & 0xc0) != 0x40)
		return 0;
	id = ((__u32)p[1] << 8 | p[2]) % MAX_SERVER_IDS;
	pos = bpf_map_lookup_elem(&server_ids, &id);
	if (!pos)
		return 0;
	return *pos;
}

static __always_inline void ipv4_csum(struct iphdr *ip)
{
	__u16 *w = (__u16 *)ip;
	__u64 sum = 0;

	ip->check = 0;
#pragma unroll
	for (int i = 0; i < (int)sizeof(*ip) / 2; i++)
		sum += w[i];
	ip->check = ~fold(sum);
}

/* Rewrites the Ethernet header in front of an outer header: toward the gateway, from us. */
static __always_inline void outer_eth(struct ethhdr *eth, const struct lb_config *cfg, __u16 proto)
{
	__builtin_memcpy(eth->h_dest, cfg->gw_mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, cfg->lb_mac, ETH_ALEN);
	eth->h_proto = bpf_htons(proto);
}

/* Prepends an outer IPv4 header (and a UDP header for GUE) and a new Ethernet header; the
 * 802.1Q tag, if any, is dropped. */
static __noinline int encap_v4(struct xdp_md *ctx, const struct backend *be, const struct lb_config *cfg,
			       const struct lb_args *a)
{
	int gue = a->gue, room = sizeof(struct iphdr) + (gue ? sizeof(struct udphdr) : 0);
	__u32 inner_len = a->bytes - a->l3_off;
	void *data, *end;
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *udp;

	if (a->l3_off > sizeof(struct ethhdr))
		room -= sizeof(struct vlan_tag);
	if (bpf_xdp_adjust_head(ctx, -room))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip = data + sizeof(*eth);
	if ((void *)(ip + 1) > end)
		return XDP_DROP;
	outer_eth(eth, cfg, ETH_P_IP);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0;
	ip->tot_len = bpf_htons(inner_len + sizeof(*ip) + (gue ? sizeof(*udp) : 0));
	ip->id = 0;
	ip->frag_off = bpf_htons(0x4000); /* DF */
	ip->ttl = 64;
	ip->protocol = gue ? IPPROTO_UDP : a->inner_proto;
	ip->saddr = cfg->src_v4;
	ip->daddr = be->addr.v4;
	ipv4_csum(ip);
	if (gue) {
		udp = (void *)(ip + 1);
		if ((void *)(udp + 1) > end)
			return XDP_DROP;
		udp->source = bpf_htons(0xc000 | (a->hash & 0x3fff));
		udp->dest = bpf_htons(gue_port);
		udp->len = bpf_htons(inner_len + sizeof(*udp));
		udp->check = 0;
		count(ST_GUE, 1);
	} else {
		count(ST_IPIP, 1);
	}
	return XDP_TX;
}

/* Prepends an outer IPv6 header (and a UDP header for GUE) and a new Ethernet header. */
static __noinline int encap_v6(struct xdp_md *ctx, const struct backend *be, const struct lb_config *cfg,
			       const struct lb_args *a)
{
	int gue = a->gue, room = sizeof(struct ipv6hdr) + (gue ? sizeof(struct udphdr) : 0);
	__u32 inner_len = a->bytes - a->l3_off, hash = a->hash;
	void *data, *end;
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	struct udphdr *udp;

	if (a->l3_off > sizeof(struct ethhdr))
		room -= sizeof(struct vlan_tag);
	if (bpf_xdp_adjust_head(ctx, -room))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	eth = data;
	ip6 = data + sizeof(*eth);
	if ((void *)(ip6 + 1) > end)
		return XDP_DROP;
	outer_eth(eth, cfg, ETH_P_IPV6);
	ip6->version = 6;
	ip6->priority = 0;
	/* The flow label carries the flow hash, so routers spread the tunnels. */
	ip6->flow_lbl[0] = (hash >> 16) & 0x0f;
	ip6->flow_lbl[1] = hash >> 8;
	ip6->flow_lbl[2] = hash;
	ip6->payload_len = bpf_htons(inner_len + (gue ? sizeof(*udp) : 0));
	ip6->nexthdr = gue ? IPPROTO_UDP : a->inner_proto;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, cfg->src_v6, 16);
	__builtin_memcpy(&ip6->daddr, be->addr.v6, 16);
	if (gue) {
		udp = (void *)(ip6 + 1);
		if ((void *)(udp + 1) > end)
			return XDP_DROP;
		udp->source = bpf_htons(0xc000 | (hash & 0x3fff));
		udp->dest = bpf_htons(gue_port);
		udp->len = bpf_htons(inner_len + sizeof(*udp));
		udp->check = 0;
		count(ST_GUE, 1);
	} else {
		count(ST_IPIP, 1);
	}
	return XDP_TX;
}

/* Strips an outer IP header of outer_len bytes addressed to us; the link header (with its
 * 802.1Q tag) moves forward and names the inner protocol. */
static __noinline int decap(struct xdp_md *ctx, __u32 l3_off, __u32 outer_len, __u16 inner_proto)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 l2[sizeof(struct ethhdr) + sizeof(struct vlan_tag)];
	int tagged = l3_off > sizeof(struct ethhdr);

	if (data + sizeof(l2) > end)
		return XDP_DROP;
	__builtin_memcpy(l2, data, sizeof(l2));
	if (tagged)
		*(__be16 *)&l2[16] = bpf_htons(inner_proto);
	else
		*(__be16 *)&l2[12] = bpf_htons(inner_proto);
	if (bpf_xdp_adjust_head(ctx, outer_len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + sizeof(l2) > end)
		return XDP_DROP;
	if (tagged)
		__builtin_memcpy(data, l2, sizeof(struct ethhdr) + sizeof(struct vlan_tag));
	else
		__builtin_memcpy(data, l2, sizeof(struct ethhdr));
	count(ST_DECAP, 1);
	return XDP_PASS;
}

static __always_inline void swap_macs(struct ethhdr *eth)
{
	__u8 mac[ETH_ALEN];

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
}

/* Answers an ICMP echo request to a VIP in place. */
static __noinline int icmp_echo_v4(struct xdp_md *ctx, __u32 l3_off)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip;
	struct icmp_echo *icmp;
	__be32 a;

	if (l3_off > sizeof(struct ethhdr) + sizeof(struct vlan_tag))
		return XDP_DROP;
	ip = data + l3_off;
	icmp = (void *)(ip + 1);
	if ((void *)(icmp + 1) > end)
		return XDP_DROP;
	if (icmp->type != ICMP_ECHO || icmp->code != 0)
		return XDP_PASS;
	swap_macs(data);
	a = ip->saddr;
	ip->saddr = ip->daddr;
	ip->daddr = a;
	ip->ttl = 64;
	ipv4_csum(ip);
	icmp->type = ICMP_ECHOREPLY;
	icmp->checksum = csum_replace(icmp->checksum, bpf_htons(ICMP_ECHO << 8), bpf_htons(ICMP_ECHOREPLY << 8));
	count(ST_ICMP_REPLY, 1);
	return XDP_TX;
}

static __noinline int icmp_echo_v6(struct xdp_md *ctx, __u32 l3_off)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ipv6hdr *ip6;
	struct icmp6hdr *icmp;
	struct in6_addr a;

	if (l3_off > sizeof(struct ethhdr) + sizeof(struct vlan_tag))
		return XDP_DROP;
	ip6 = data + l3_off;
	icmp = (void *)(ip6 + 1);
	if ((void *)(icmp + 1) > end)
		return XDP_DROP;
	if (icmp->icmp6_type != ICMPV6_ECHO_REQUEST || icmp->icmp6_code != 0)
		return XDP_PASS;
	swap_macs(data);
	/* Swapping source and destination leaves the pseudo-header sum as it was. */
	__builtin_memcpy(&a, &ip6->saddr, sizeof(a));
	__builtin_memcpy(&ip6->saddr, &ip6->daddr, sizeof(a));
	__builtin_memcpy(&ip6->daddr, &a, sizeof(a));
	ip6->hop_limit = 64;
	icmp->icmp6_type = ICMPV6_ECHO_REPLY;
	icmp->icmp6_cksum = csum_replace(icmp->icmp6_cksum, bpf_htons(ICMPV6_ECHO_REQUEST << 8),
					 bpf_htons(ICMPV6_ECHO_REPLY << 8));
	count(ST_ICMP_REPLY, 1);
	return XDP_TX;
}

/* The quote of the offending packet in a "too big" reply: its IP header and 8 bytes more. */
#define QUOTE4 (sizeof(struct iphdr) + 8)
#define QUOTE6 (sizeof(struct ipv6hdr) + 8)

/* Replaces the frame by an ICMP "fragmentation needed" to its source, quoting its start. */
static __noinline int icmp_too_big_v4(struct xdp_md *ctx, __u32 l3_off, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 l2[sizeof(struct ethhdr) + sizeof(struct vlan_tag)];
	__u8 quote[QUOTE4];
	struct iphdr *ip, *orig;
	struct icmp_too_big *icmp;
	__u16 *w;
	__u64 sum = 0;
	int tagged = l3_off > sizeof(struct ethhdr), len, want;

	if (data + sizeof(l2) + QUOTE4 > end)
		return XDP_DROP;
	__builtin_memcpy(l2, data, sizeof(l2));
	if (tagged)
		__builtin_memcpy(quote, data + sizeof(l2), QUOTE4);
	else
		__builtin_memcpy(quote, data + sizeof(struct ethhdr), QUOTE4);
	orig = (void *)quote;
	len = ctx->data_end - ctx->data;
	want = (tagged ? sizeof(l2) : sizeof(struct ethhdr)) + sizeof(*ip) + sizeof(*icmp) + QUOTE4;
	if (bpf_xdp_adjust_tail(ctx, want - len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (tagged) {
		if (data + sizeof(l2) > end)
			return XDP_DROP;
		__builtin_memcpy(data, l2, sizeof(l2));
		ip = data + sizeof(l2);
	} else {
		if (data + sizeof(struct ethhdr) > end)
			return XDP_DROP;
		__builtin_memcpy(data, l2, sizeof(struct ethhdr));
		ip = data + sizeof(struct ethhdr);
	}
	if ((void *)(ip + 1) + sizeof(*icmp) + QUOTE4 > end)
		return XDP_DROP;
	swap_macs(data);
	ip->version = 4;
	ip->ihl = 5;
	ip->tos = 0xc0; /* internetwork control */
	ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*icmp) + QUOTE4);
	ip->id = 0;
	ip->frag_off = 0;
	ip->ttl = 64;
	ip->protocol = IPPROTO_ICMP;
	ip->saddr = orig->daddr;
	ip->daddr = orig->saddr;
	ipv4_csum(ip);
	icmp = (void *)(ip + 1);
	icmp->type = ICMP_DEST_UNREACH;
	icmp->code = ICMP_FRAG_NEEDED;
	icmp->checksum = 0;
	icmp->unused = 0;
	icmp->mtu = bpf_htons(mtu);
	__builtin_memcpy(icmp + 1, quote, QUOTE4);
	w = (__u16 *)icmp;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*icmp) + QUOTE4) / 2; i++)
		sum += w[i];
	icmp->checksum = ~fold(sum);
	count(ST_TOO_BIG, 1);
	return XDP_TX;
}

/* Replaces the frame by an ICMPv6 "packet too big" to its source, quoting its start. */
static __noinline int icmp_too_big_v6(struct xdp_md *ctx, __u32 l3_off, __u32 mtu)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 l2[sizeof(struct ethhdr) + sizeof(struct vlan_tag)];
	__u8 quote[QUOTE6];
	struct ipv6hdr *ip6, *orig;
	struct icmp6hdr *icmp;
	__u16 *w;
	__u64 sum = 0;
	int tagged = l3_off > sizeof(struct ethhdr), len, want;

	if (data + sizeof(l2) + QUOTE6 > end)
		return XDP_DROP;
	__builtin_memcpy(l2, data, sizeof(l2));
	if (tagged)
		__builtin_memcpy(quote, data + sizeof(l2), QUOTE6);
	else
		__builtin_memcpy(quote, data + sizeof(struct ethhdr), QUOTE6);
	orig = (void *)quote;
	len = ctx->data_end - ctx->data;
	want = (tagged ? sizeof(l2) : sizeof(struct ethhdr)) + sizeof(*ip6) + sizeof(*icmp) + QUOTE6;
	if (bpf_xdp_adjust_tail(ctx, want - len))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (tagged) {
		if (data + sizeof(l2) > end)
			return XDP_DROP;
		__builtin_memcpy(data, l2, sizeof(l2));
		ip6 = data + sizeof(l2);
	} else {
		if (data + sizeof(struct ethhdr) > end)
			return XDP_DROP;
		__builtin_memcpy(data, l2, sizeof(struct ethhdr));
		ip6 = data + sizeof(struct ethhdr);
	}
	if ((void *)(ip6 + 1) + sizeof(*icmp) + QUOTE6 > end)
		return XDP_DROP;
	swap_macs(data);
	ip6->version = 6;
	ip6->priority = 0;
	ip6->flow_lbl[0] = 0;
	ip6->flow_lbl[1] = 0;
	ip6->flow_lbl[2] = 0;
	ip6->payload_len = bpf_htons(sizeof(*icmp) + QUOTE6);
	ip6->nexthdr = IPPROTO_ICMPV6;
	ip6->hop_limit = 64;
	__builtin_memcpy(&ip6->saddr, &orig->daddr, 16);
	__builtin_memcpy(&ip6->daddr, &orig->saddr, 16);
	icmp = (void *)(ip6 + 1);
	icmp->icmp6_type = ICMPV6_PKT_TOOBIG;
	icmp->icmp6_code = 0;
	icmp->icmp6_cksum = 0;
	icmp->icmp6_mtu = bpf_htonl(mtu);
	__builtin_memcpy(icmp + 1, quote, QUOTE6);
	/* The pseudo header: both addresses, the upper-layer length and the next header. */
	w = (__u16 *)&ip6->saddr;
#pragma unroll
	for (int i = 0; i < 16; i++)
		sum += w[i];
	sum += bpf_htons(sizeof(*icmp) + QUOTE6);
	sum += bpf_htons(IPPROTO_ICMPV6);
	w = (__u16 *)icmp;
#pragma unroll
	for (int i = 0; i < (int)(sizeof(*icmp) + QUOTE6) / 2; i++)
		sum += w[i];
	icmp->icmp6_cksum = ~fold(sum);
	count(ST_TOO_BIG, 1);
	return XDP_TX;
}

/* Chooses the backend position of a flow to a VIP: QUIC server ID, connection table, or ring. */
static __noinline int pick_backend(struct xdp_md *ctx, struct flow_key *flow, const struct vip_meta *vip,
				   struct lb_args *a)
{
	struct conn *c, nc = {};
	struct event ev = {};
	__u32 hash, slot, *pos, server;
	int with_ports = !(vip->flags & VIP_ANY_PORT);

	hash = flow_hash(flow, with_ports);
	a->hash = hash;
	if ((vip->flags & VIP_QUIC) && flow->proto == IPPROTO_UDP) {
		server = quic_server(ctx, a->payload_off);
		if (server > 0 && server <= MAX_BACKENDS) {
			count(ST_QUIC_ROUTED, 1);
			return server - 1;
		}
	}
	if (!(vip->flags & VIP_NO_LRU)) {
		c = bpf_map_lookup_elem(&conn_table, flow);
		if (c && c->vip_id == vip->id) {
			c->packets++;
			c->bytes += a->bytes;
			count(ST_LRU_HIT, 1);
			return c->pos;
		}
	}
	if (vip->id >= MAX_VIPS)
		return -1;
	slot = vip->id * RING_SIZE + hash % RING_SIZE;
	pos = bpf_map_lookup_elem(&ch_rings, &slot);
	if (!pos)
		return -1;
	if (!(vip->flags & VIP_NO_LRU)) {
		nc.vip_id = vip->id;
		nc.pos = *pos;
		nc.packets = 1;
		nc.bytes = a->bytes;
		bpf_map_update_elem(&conn_table, flow, &nc, BPF_ANY);
	}
	__builtin_memcpy(&ev.flow, flow, sizeof(ev.flow));
	ev.vip_id = vip->id;
	ev.pos = *pos;
	ev.hash = hash;
	ev.kind = 1;
	bpf_ringbuf_output(&events, &ev, sizeof(ev), 0);
	count(ST_NEW_CONN, 1);
	return *pos;
}

static __always_inline int parse_ports(void *l4, void *end, struct flow_key *flow, __u32 *payload_off,
				       __u32 l4_off)
{
	if (flow->proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > end)
			return -1;
		flow->sport = tcp->source;
		flow->dport = tcp->dest;
		*payload_off = l4_off + tcp->doff * 4;
		return 0;
	}
	if (flow->proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > end)
			return -1;
		flow->sport = udp->source;
		flow->dport = udp->dest;
		*payload_off = l4_off + sizeof(*udp);
		return 0;
	}
	return 1;
}

static __always_inline int balance(struct xdp_md *ctx, struct flow_key *flow, struct vip_meta *vip,
				   struct lb_args *a, int df)
{
	struct vip_counters *vc;
	struct backend *be;
	struct lb_config *cfg;
	void *backends;
	__u32 zero = 0, vip_id, pos, bidx, room, mtu;
	__u64 *bp;
	int p;

	vip_id = vip->id;
	vc = bpf_map_lookup_elem(&vip_stats, &vip_id);
	if (vc) {
		vc->packets++;
		vc->bytes += a->bytes;
	}
	p = pick_backend(ctx, flow, vip, a);
	if (p < 0 || p >= MAX_BACKENDS) {
		count(ST_NO_BACKEND, 1);
		return XDP_DROP;
	}
	pos = p;
	backends = bpf_map_lookup_elem(&vip_backends, &vip_id);
	if (!backends) {
		count(ST_NO_BACKEND, 1);
		return XDP_DROP;
	}
	be = bpf_map_lookup_elem(backends, &pos);
	if (!be || (be->flags & BE_DRAINED) || (!be->addr.v4 && !(be->flags & BE_V6))) {
		count(ST_NO_BACKEND, 1);
		return XDP_DROP;
	}
	a->gue = !!(vip->flags & VIP_GUE);
	room = (be->flags & BE_V6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr)) +
	       (a->gue ? sizeof(struct udphdr) : 0);
	if (a->bytes - a->l3_off + sizeof(struct ethhdr) + room > max_frame && (df || flow->family == 6)) {
		mtu = max_frame - sizeof(struct ethhdr) - room;
		if (flow->family == 6)
			return icmp_too_big_v6(ctx, a->l3_off, mtu);
		return icmp_too_big_v4(ctx, a->l3_off, mtu);
	}
	bidx = vip_id * MAX_BACKENDS + pos;
	bp = bpf_map_lookup_elem(&backend_packets, &bidx);
	if (bp)
		__sync_fetch_and_add(bp, 1);
	cfg = bpf_map_lookup_elem(&config, &zero);
	if (!cfg)
		return XDP_ABORTED;
	if (be->flags & BE_V6)
		return encap_v6(ctx, be, cfg, a);
	return encap_v4(ctx, be, cfg, a);
}

static __always_inline int handle_v4(struct xdp_md *ctx, void *data, void *end, __u32 l3_off)
{
	struct iphdr *ip = data + l3_off;
	struct flow_key flow = {};
	struct lb_args args = { .l3_off = l3_off };
	struct vip_meta *vip;
	union addr dst = {};
	__u32 l4_off;
	__u16 old;
	int r;

	if ((void *)(ip + 1) > end) {
		count(ST_MALFORMED, 1);
		return XDP_DROP;
	}
	if (ip->ihl != 5 || ip->version != 4) {
		count(ST_MALFORMED, 1);
		return XDP_PASS;
	}
	if (ip->frag_off & bpf_htons(0x3fff)) {
		count(ST_FRAGMENT, 1);
		return XDP_PASS;
	}
	if (ip->protocol == IPPROTO_IPIP || ip->protocol == IPPROTO_IPV6) {
		dst.v4 = ip->daddr;
		if (bpf_map_lookup_elem(&decap_dst, &dst))
			return decap(ctx, l3_off, sizeof(*ip), ip->protocol == IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6);
		return XDP_PASS;
	}
	flow.family = 4;
	flow.proto = ip->protocol;
	flow.src.v4 = ip->saddr;
	flow.dst.v4 = ip->daddr;
	if (filtered_v4(ip->saddr)) {
		count(ST_FILTERED, 1);
		return XDP_DROP;
	}
	if (ip->protocol == IPPROTO_ICMP) {
		if (!find_vip(&flow))
			return XDP_PASS;
		return icmp_echo_v4(ctx, l3_off);
	}
	l4_off = l3_off + sizeof(*ip);
	r = parse_ports((void *)(ip + 1), end, &flow, &args.payload_off, l4_off);
	if (r < 0) {
		count(ST_MALFORMED, 1);
		return XDP_DROP;
	}
	if (r > 0) {
		count(ST_NOT_VIP, 1);
		return XDP_PASS;
	}
	vip = find_vip(&flow);
	if (!vip) {
		count(ST_NOT_VIP, 1);
		return XDP_PASS;
	}
	args.bytes = ctx->data_end - ctx->data;
	args.inner_proto = IPPROTO_IPIP;
	args.family = 4;
	if (decrement_ttl) {
		if (ip->ttl <= 1) {
			count(ST_TTL_EXCEEDED, 1);
			return XDP_DROP;
		}
		old = *(__u16 *)&ip->ttl;
		ip->ttl--;
		ip->check = csum_replace(ip->check, old, *(__u16 *)&ip->ttl);
	}
	return balance(ctx, &flow, vip, &args, ip->frag_off & bpf_htons(0x4000));
}

static __always_inline int handle_v6(struct xdp_md *ctx, void *data, void *end, __u32 l3_off)
{
	struct ipv6hdr *ip6 = data + l3_off;
	struct flow_key flow = {};
	struct lb_args args = { .l3_off = l3_off };
	struct vip_meta *vip;
	union addr dst = {};
	__u32 l4_off;
	int r;

	if ((void *)(ip6 + 1) > end) {
		count(ST_MALFORMED, 1);
		return XDP_DROP;
	}
	if (ip6->nexthdr == IPPROTO_IPIP || ip6->nexthdr == IPPROTO_IPV6) {
		__builtin_memcpy(dst.v6, &ip6->daddr, 16);
		if (bpf_map_lookup_elem(&decap_dst, &dst))
			return decap(ctx, l3_off, sizeof(*ip6), ip6->nexthdr == IPPROTO_IPIP ? ETH_P_IP : ETH_P_IPV6);
		return XDP_PASS;
	}
	if (ip6->nexthdr == IPPROTO_FRAGMENT) {
		count(ST_FRAGMENT, 1);
		return XDP_PASS;
	}
	flow.family = 6;
	flow.proto = ip6->nexthdr;
	__builtin_memcpy(flow.src.v6, &ip6->saddr, 16);
	__builtin_memcpy(flow.dst.v6, &ip6->daddr, 16);
	if (filtered_v6(flow.src.v6)) {
		count(ST_FILTERED, 1);
		return XDP_DROP;
	}
	if (ip6->nexthdr == IPPROTO_ICMPV6) {
		if (!find_vip(&flow))
			return XDP_PASS;
		return icmp_echo_v6(ctx, l3_off);
	}
	l4_off = l3_off + sizeof(*ip6);
	r = parse_ports((void *)(ip6 + 1), end, &flow, &args.payload_off, l4_off);
	if (r < 0) {
		count(ST_MALFORMED, 1);
		return XDP_DROP;
	}
	if (r > 0) {
		count(ST_NOT_VIP, 1);
		return XDP_PASS;
	}
	vip = find_vip(&flow);
	if (!vip) {
		count(ST_NOT_VIP, 1);
		return XDP_PASS;
	}
	args.bytes = ctx->data_end - ctx->data;
	args.inner_proto = IPPROTO_IPV6;
	args.family = 6;
	if (decrement_ttl) {
		if (ip6->hop_limit <= 1) {
			count(ST_TTL_EXCEEDED, 1);
			return XDP_DROP;
		}
		ip6->hop_limit--;
	}
	return balance(ctx, &flow, vip, &args, 1);
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct vlan_tag *tag = (void *)(eth + 1);

	count(ST_RX, 1);
	count(ST_RX_BYTES, ctx->data_end - ctx->data);
	if ((void *)(eth + 1) > end) {
		count(ST_MALFORMED, 1);
		return XDP_DROP;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return handle_v4(ctx, data, end, sizeof(*eth));
	if (eth->h_proto == bpf_htons(ETH_P_IPV6))
		return handle_v6(ctx, data, end, sizeof(*eth));
	if (eth->h_proto != bpf_htons(ETH_P_8021Q))
		return XDP_PASS;
	if ((void *)(tag + 1) > end) {
		count(ST_MALFORMED, 1);
		return XDP_DROP;
	}
	count(ST_VLAN, 1);
	if (tag->proto == bpf_htons(ETH_P_IP))
		return handle_v4(ctx, data, end, sizeof(*eth) + sizeof(*tag));
	if (tag->proto == bpf_htons(ETH_P_IPV6))
		return handle_v6(ctx, data, end, sizeof(*eth) + sizeof(*tag));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
