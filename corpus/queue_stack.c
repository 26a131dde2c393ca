// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* queue_stack: BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK.
 *  - each TCP SYN (IPv4) pushes a record into a FIFO queue, replacing the oldest one when full
 *    (BPF_EXIST); each FIN or RST pops the oldest record and counts whether it was the same flow;
 *  - each UDP datagram peeks at a LIFO stack of recent lengths: the same length as the previous
 *    datagram is counted as a repeat and dropped when it is also from the same source; then its
 *    length is pushed (a full stack is emptied by popping, newest first);
 *  - a UDP datagram to the discard port (9) pops two entries.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct syn_rec {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

struct len_rec {
	__be32 saddr;
	__u32 len;
};

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 64);
	__type(value, struct syn_rec);
} syn_queue SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK);
	__uint(max_entries, 16);
	__type(value, struct len_rec);
} recent_lengths SEC(".maps");

enum { QS_SYN_PUSHED, QS_CLOSE_POPPED, QS_CLOSE_SAME_FLOW, QS_CLOSE_EMPTY, QS_REPEAT_LEN, QS_REPEAT_DROPPED,
       QS_STACK_FULL, QS_STACK_POPS, QS_DISCARD, QS_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, QS_MAX);
	__type(key, __u32);
	__type(value, __u64);
} qs_stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&qs_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline int on_tcp(struct iphdr *iph, struct tcphdr *tcp)
{
	struct syn_rec rec = {}, old;

	if (tcp->syn && !tcp->ack) {
		rec.saddr = iph->saddr;
		rec.daddr = iph->daddr;
		rec.sport = tcp->source;
		rec.dport = tcp->dest;
		if (bpf_map_push_elem(&syn_queue, &rec, BPF_EXIST) == 0)
			bump(QS_SYN_PUSHED);
	} else if (tcp->fin || tcp->rst) {
		if (bpf_map_pop_elem(&syn_queue, &old)) {
			bump(QS_CLOSE_EMPTY);
		} else {
			bump(QS_CLOSE_POPPED);
			if (old.sport == tcp->source || old.sport == tcp->dest)
				bump(QS_CLOSE_SAME_FLOW);
		}
	}
	return XDP_PASS;
}

static __always_inline int on_udp(struct iphdr *iph, struct udphdr *udp, __u32 len)
{
	struct len_rec top, rec = { .saddr = iph->saddr, .len = len };
	int i;

	if (udp->dest == bpf_htons(9)) {
		bump(QS_DISCARD);
		for (i = 0; i < 2; i++)
			if (bpf_map_pop_elem(&recent_lengths, &top) == 0)
				bump(QS_STACK_POPS);
		return XDP_DROP;
	}

	if (bpf_map_peek_elem(&recent_lengths, &top) == 0 && top.len == len) {
		bump(QS_REPEAT_LEN);
		if (top.saddr == iph->saddr) {
			bump(QS_REPEAT_DROPPED);
			return XDP_DROP;
		}
	}
	if (bpf_map_push_elem(&recent_lengths, &rec, BPF_ANY)) {
		bump(QS_STACK_FULL);
		for (i = 0; i < 16; i++) {
			if (bpf_map_pop_elem(&recent_lengths, &top))
				break;
			bump(QS_STACK_POPS);
		}
		bpf_map_push_elem(&recent_lengths, &rec, BPF_ANY);
	}
	return XDP_PASS;
}

SEC("xdp")
int xdp_queue_stack(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	void *l4;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5 || (iph->frag_off & bpf_htons(0x1fff)))
		return XDP_PASS;
	l4 = (void *)iph + iph->ihl * 4;

	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;

		if ((void *)(tcp + 1) > data_end)
			return XDP_DROP;
		return on_tcp(iph, tcp);
	}
	if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;

		if ((void *)(udp + 1) > data_end)
			return XDP_DROP;
		return on_udp(iph, udp, data_end - data);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
