// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* xsk: hands one UDP service to AF_XDP sockets through an XSKMAP, the rest to the kernel.
 *  - UDP (IPv4 or IPv6) to xsk_port goes to the socket bound to the receiving queue
 *    (ctx->rx_queue_index); with no socket there the packet is dropped (the service has no kernel
 *    listener);
 *  - packets with a socket and without one are counted per queue.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_QUEUES 64

const volatile __u16 xsk_port = 4242;

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct queue_stats {
	__u64 to_socket;
	__u64 no_socket;
	__u64 to_kernel;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_QUEUES);
	__type(key, __u32);
	__type(value, struct queue_stats);
} per_queue SEC(".maps");

static __always_inline struct udphdr *udp_of(void *data, void *data_end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_UDP || iph->ihl < 5 ||
		    (iph->frag_off & bpf_htons(0x1fff)))
			return 0;
		return (void *)iph + iph->ihl * 4;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
			return 0;
		return (void *)(ip6 + 1);
	}
	return 0;
}

SEC("xdp")
int xdp_xsk(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 q = ctx->rx_queue_index;
	struct queue_stats *st;
	struct udphdr *udp;

	if ((void *)((struct ethhdr *)data + 1) > data_end)
		return XDP_DROP;
	st = bpf_map_lookup_elem(&per_queue, &q);
	if (!st)
		return XDP_ABORTED;

	udp = udp_of(data, data_end);
	if (!udp || (void *)(udp + 1) > data_end || udp->dest != bpf_htons(xsk_port)) {
		__sync_fetch_and_add(&st->to_kernel, 1);
		return XDP_PASS;
	}
	if (bpf_map_lookup_elem(&xsks, &q)) {
		__sync_fetch_and_add(&st->to_socket, 1);
		return bpf_redirect_map(&xsks, q, XDP_DROP);
	}
	__sync_fetch_and_add(&st->no_socket, 1);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
