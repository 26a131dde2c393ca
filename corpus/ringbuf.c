// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* ringbuf: flow events through a BPF ring buffer.
 *  - each IPv4 TCP/UDP packet reserves an event (bpf_ringbuf_reserve) and fills it; events for
 *    well-known destination ports (< 1024) are submitted, the others discarded (the space stays
 *    taken until a consumer passes it);
 *  - ICMP packets are copied in with bpf_ringbuf_output (BPF_RB_NO_WAKEUP); when that fails the
 *    packet is dropped (no audit record, no entry);
 *  - the producer position and the data waiting are read back with bpf_ringbuf_query.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct event {
	__u32 kind;	/* 1: submitted flow, 2: ICMP audit */
	__u32 len;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 ttl;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16384);
} events SEC(".maps");

enum { RB_SUBMITTED, RB_DISCARDED, RB_RESERVE_FAILED, RB_OUTPUT_OK, RB_OUTPUT_FAILED, RB_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, RB_MAX);
	__type(key, __u32);
	__type(value, __u64);
} rb_stats SEC(".maps");

/* what bpf_ringbuf_query reported after the last event */
__u64 last_prod_pos;
__u64 last_avail;
__u64 ring_size;

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&rb_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline void query(void)
{
	last_prod_pos = bpf_ringbuf_query(&events, BPF_RB_PROD_POS);
	last_avail = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	ring_size = bpf_ringbuf_query(&events, BPF_RB_RING_SIZE);
}

SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct event *e, audit = {};
	__be16 *ports;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_PASS;

	if (iph->protocol == IPPROTO_ICMP) {
		audit.kind = 2;
		audit.len = data_end - data;
		audit.saddr = iph->saddr;
		audit.daddr = iph->daddr;
		audit.proto = iph->protocol;
		audit.ttl = iph->ttl;
		if (bpf_ringbuf_output(&events, &audit, sizeof(audit), BPF_RB_NO_WAKEUP)) {
			bump(RB_OUTPUT_FAILED);
			return XDP_DROP;
		}
		bump(RB_OUTPUT_OK);
		query();
		return XDP_PASS;
	}

	if (iph->protocol != IPPROTO_TCP && iph->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if (iph->frag_off & bpf_htons(0x1fff))
		return XDP_PASS;
	ports = (void *)iph + iph->ihl * 4;
	if ((void *)(ports + 2) > data_end)
		return XDP_DROP;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		bump(RB_RESERVE_FAILED);
		return XDP_PASS;
	}
	e->kind = 1;
	e->len = data_end - data;
	e->saddr = iph->saddr;
	e->daddr = iph->daddr;
	e->sport = ports[0];
	e->dport = ports[1];
	e->proto = iph->protocol;
	e->ttl = iph->ttl;
	e->pad = 0;
	if (bpf_ntohs(ports[1]) < 1024) {
		bpf_ringbuf_submit(e, 0);
		bump(RB_SUBMITTED);
	} else {
		bpf_ringbuf_discard(e, 0);
		bump(RB_DISCARDED);
	}
	query();
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
