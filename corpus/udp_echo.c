// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* udp_echo: an RFC 862 echo service on UDP port 7 (IPv4 and IPv6) that touches the packet only
 * through bpf_xdp_load_bytes and bpf_xdp_store_bytes, never through direct packet pointers.
 *  - headers are copied to the stack; for a datagram to port 7 the MACs, addresses and ports
 *    are swapped and written back (the UDP checksum does not change under these swaps) and the
 *    frame goes back out with XDP_TX;
 *  - echoing to port 7 itself would loop between two echo servers: such datagrams are dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define ECHO_PORT 7

__u64 echoed;
__u64 loops_refused;

SEC("xdp")
int xdp_udp_echo(struct xdp_md *ctx)
{
	struct ethhdr eth;
	struct udphdr udp;
	__u8 mac[ETH_ALEN];
	__u32 l4_off, addr_off, addr_len;
	__u8 addrs[32], swapped[32];
	__be16 port;
	int i;

	if (bpf_xdp_load_bytes(ctx, 0, &eth, sizeof(eth)))
		return XDP_DROP;

	if (eth.h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;

		if (bpf_xdp_load_bytes(ctx, sizeof(eth), &iph, sizeof(iph)))
			return XDP_DROP;
		if (iph.protocol != IPPROTO_UDP || iph.ihl < 5 || (iph.frag_off & bpf_htons(0x1fff)))
			return XDP_PASS;
		l4_off = sizeof(eth) + iph.ihl * 4;
		addr_off = sizeof(eth) + 12;
		addr_len = 4;
	} else if (eth.h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_xdp_load_bytes(ctx, sizeof(eth), &ip6, sizeof(ip6)))
			return XDP_DROP;
		if (ip6.nexthdr != IPPROTO_UDP)
			return XDP_PASS;
		l4_off = sizeof(eth) + sizeof(ip6);
		addr_off = sizeof(eth) + 8;
		addr_len = 16;
	} else {
		return XDP_PASS;
	}

	if (bpf_xdp_load_bytes(ctx, l4_off, &udp, sizeof(udp)))
		return XDP_DROP;
	if (udp.dest != bpf_htons(ECHO_PORT))
		return XDP_PASS;
	if (udp.source == bpf_htons(ECHO_PORT)) {
		loops_refused++;
		return XDP_DROP;
	}

	/* MACs */
	__builtin_memcpy(mac, eth.h_dest, ETH_ALEN);
	__builtin_memcpy(eth.h_dest, eth.h_source, ETH_ALEN);
	__builtin_memcpy(eth.h_source, mac, ETH_ALEN);
	if (bpf_xdp_store_bytes(ctx, 0, &eth, 2 * ETH_ALEN))
		return XDP_ABORTED;

	/* addresses: source and destination are adjacent in both IP versions */
	if (addr_len == 4) {
		if (bpf_xdp_load_bytes(ctx, addr_off, addrs, 8))
			return XDP_DROP;
		for (i = 0; i < 4; i++) {
			swapped[i] = addrs[4 + i];
			swapped[4 + i] = addrs[i];
		}
		if (bpf_xdp_store_bytes(ctx, addr_off, swapped, 8))
			return XDP_ABORTED;
	} else {
		if (bpf_xdp_load_bytes(ctx, addr_off, addrs, 32))
			return XDP_DROP;
		for (i = 0; i < 16; i++) {
			swapped[i] = addrs[16 + i];
			swapped[16 + i] = addrs[i];
		}
		if (bpf_xdp_store_bytes(ctx, addr_off, swapped, 32))
			return XDP_ABORTED;
	}

	/* ports */
	port = udp.source;
	udp.source = udp.dest;
	udp.dest = port;
	if (bpf_xdp_store_bytes(ctx, l4_off, &udp, 4))
		return XDP_ABORTED;

	echoed++;
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
