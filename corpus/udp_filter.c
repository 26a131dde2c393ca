// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* udp_filter: UDP sanity checks and a reflection-attack filter (IPv4 and IPv6).
 *  - a UDP length below 8 or above the IP payload is dropped; so is a zero checksum over IPv6;
 *  - datagrams from the amplification source ports in blocked_sports (chargen, SSDP, memcached, ...)
 *    are dropped;
 *  - DNS to port 53 needs a whole DNS header and must be a query (QR clear);
 *  - packets and bytes are counted per destination port in a hash map.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define N_BLOCKED 4

const volatile __u16 blocked_sports[N_BLOCKED] = { 19, 1900, 11211, 17 };

struct port_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u16);
	__type(value, struct port_stats);
} per_port SEC(".maps");

enum { UDP_SEEN, UDP_BAD_LENGTH, UDP_ZERO_CSUM_V4, UDP_ZERO_CSUM_V6, UDP_REFLECTION, UDP_DNS_QUERY,
       UDP_DNS_BAD, UDP_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, UDP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} udp_stats SEC(".maps");

struct dnshdr {
	__be16 id;
	__u8 flags1;	/* QR (0x80), opcode, AA, TC, RD */
	__u8 flags2;
	__be16 qdcount;
	__be16 ancount;
	__be16 nscount;
	__be16 arcount;
};

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&udp_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void account(__u16 port, __u64 len)
{
	struct port_stats *ps, init = { .packets = 1, .bytes = len };

	ps = bpf_map_lookup_elem(&per_port, &port);
	if (ps) {
		__sync_fetch_and_add(&ps->packets, 1);
		__sync_fetch_and_add(&ps->bytes, len);
		return;
	}
	bpf_map_update_elem(&per_port, &port, &init, BPF_NOEXIST);
}

SEC("xdp")
int xdp_udp_filter(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct udphdr *udp;
	__u32 ip_payload, ulen, i;
	int v6 = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_UDP || iph->ihl < 5)
			return XDP_PASS;
		if (iph->frag_off & bpf_htons(0x1fff))
			return XDP_PASS;
		udp = (void *)iph + iph->ihl * 4;
		ip_payload = bpf_ntohs(iph->tot_len) - iph->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		udp = (void *)(ip6 + 1);
		ip_payload = bpf_ntohs(ip6->payload_len);
		v6 = 1;
	} else {
		return XDP_PASS;
	}

	bump(UDP_SEEN);
	if ((void *)(udp + 1) > data_end) {
		bump(UDP_BAD_LENGTH);
		return XDP_DROP;
	}
	ulen = bpf_ntohs(udp->len);
	if (ulen < sizeof(*udp) || ulen > ip_payload) {
		bump(UDP_BAD_LENGTH);
		return XDP_DROP;
	}
	if (udp->check == 0) {
		bump(v6 ? UDP_ZERO_CSUM_V6 : UDP_ZERO_CSUM_V4);
		if (v6)
			return XDP_DROP;
	}

	for (i = 0; i < N_BLOCKED; i++) {
		if (blocked_sports[i] && udp->source == bpf_htons(blocked_sports[i])) {
			bump(UDP_REFLECTION);
			return XDP_DROP;
		}
	}

	account(bpf_ntohs(udp->dest), data_end - data);

	if (udp->dest == bpf_htons(53)) {
		struct dnshdr *dns = (void *)(udp + 1);

		if ((void *)(dns + 1) > data_end || (dns->flags1 & 0x80)) {
			bump(UDP_DNS_BAD);
			return XDP_DROP;
		}
		bump(UDP_DNS_QUERY);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
