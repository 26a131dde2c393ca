// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* nat44: source NAT (masquerade) for TCP and UDP.
 *  - outbound (source inside inside_net, destination outside): the source becomes
 *    public_ip:port, with ports handed out in arrival order from port_base; the mapping is kept in
 *    two LRU hashes (outbound and inbound direction);
 *  - inbound to public_ip: translated back when a mapping exists, dropped otherwise;
 *  - the IPv4 header checksum and the TCP/UDP checksum (pseudo header + port) are updated
 *    incrementally with bpf_csum_diff; a zero UDP checksum stays zero;
 *  - fragments and other protocols pass untranslated.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __be32 inside_net = bpf_htonl(0x0a000000);	/* 10.0.0.0/8 */
const volatile __be32 inside_mask = bpf_htonl(0xff000000);
const volatile __be32 public_ip = bpf_htonl(0xc0000201);	/* 192.0.2.1 */
const volatile __u16 port_base = 20000;
const volatile __u16 port_count = 8192;

__u32 next_port;	/* .bss: ports handed out so far */

struct flow {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct binding {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow);
	__type(value, struct binding);
} nat_out SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct flow);
	__type(value, struct binding);
} nat_in SEC(".maps");

enum { NAT_OUT_NEW, NAT_OUT, NAT_IN, NAT_IN_NO_MAPPING, NAT_UNTRANSLATED, NAT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} nat_stats SEC(".maps");

static __always_inline int count(__u32 idx, int action)
{
	__u64 *v = bpf_map_lookup_elem(&nat_stats, &idx);

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

/* Rewrites one address (and its port) and fixes both checksums.
 * addr and port point into the packet; l4check is NULL when the L4 checksum is absent. */
static __always_inline void rewrite(struct iphdr *iph, __be32 *addr, __be16 *port, __u16 *l4check,
				    __be32 new_addr, __be16 new_port)
{
	__be32 from[2] = { *addr, *port }, to[2] = { new_addr, new_port };

	iph->check = csum_fold(bpf_csum_diff(&from[0], 4, &to[0], 4, ~iph->check & 0xffff));
	if (l4check) {
		__u16 c = csum_fold(bpf_csum_diff(from, 8, to, 8, ~*l4check & 0xffff));

		/* for UDP a computed 0 is sent as 0xffff; TCP never yields 0 here either way */
		*l4check = c ? c : 0xffff;
	}
	*addr = new_addr;
	*port = new_port;
}

SEC("xdp")
int xdp_nat44(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct binding *b, bind = {};
	struct flow key = {}, rev = {};
	__be16 *sport, *dport;
	__u16 *l4check;
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_PASS;
	if (iph->frag_off & bpf_htons(0x3fff))
		return count(NAT_UNTRANSLATED, XDP_PASS);

	l4 = (void *)iph + iph->ihl * 4;
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		l4check = &tcp->check;
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		l4check = udp->check ? &udp->check : 0;
	} else {
		return count(NAT_UNTRANSLATED, XDP_PASS);
	}
	sport = l4;
	dport = l4 + 2;

	key.saddr = iph->saddr;
	key.daddr = iph->daddr;
	key.sport = *sport;
	key.dport = *dport;
	key.proto = iph->protocol;

	if ((iph->saddr & inside_mask) == inside_net && (iph->daddr & inside_mask) != inside_net) {
		int fresh = 0;

		b = bpf_map_lookup_elem(&nat_out, &key);
		if (!b) {
			__u32 n = __sync_fetch_and_add(&next_port, 1);

			bind.addr = public_ip;
			bind.port = bpf_htons(port_base + n % port_count);
			bpf_map_update_elem(&nat_out, &key, &bind, BPF_ANY);
			/* the reply comes from the destination to our public binding */
			rev.saddr = key.daddr;
			rev.daddr = bind.addr;
			rev.sport = key.dport;
			rev.dport = bind.port;
			rev.proto = key.proto;
			bind.addr = key.saddr;
			bind.port = key.sport;
			bpf_map_update_elem(&nat_in, &rev, &bind, BPF_ANY);
			b = bpf_map_lookup_elem(&nat_out, &key);
			if (!b)
				return XDP_ABORTED;
			fresh = 1;
		}
		rewrite(iph, &iph->saddr, sport, l4check, b->addr, b->port);
		return count(fresh ? NAT_OUT_NEW : NAT_OUT, XDP_TX);
	}

	if (iph->daddr == public_ip) {
		b = bpf_map_lookup_elem(&nat_in, &key);
		if (!b)
			return count(NAT_IN_NO_MAPPING, XDP_DROP);
		rewrite(iph, &iph->daddr, dport, l4check, b->addr, b->port);
		return count(NAT_IN, XDP_TX);
	}
	return count(NAT_UNTRANSLATED, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
