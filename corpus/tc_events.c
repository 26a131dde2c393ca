// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_events: events about packets from a tc program.
 *  - bpf_perf_event_output with the skb as context sends a header and the first 64 bytes of each
 *    TCP SYN (BPF_F_CURRENT_CPU | 64 << 32): with nobody reading the ring the kernel answers
 *    -ENOENT; a sample longer than the packet gives -EFAULT;
 *  - UDP packets are summarized into a ring buffer (bpf_ringbuf_reserve/submit, and
 *    bpf_ringbuf_output for DNS), until it fills up;
 *  - bpf_printk reports malformed IPv4 headers; every result is counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} tc_syn_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} tc_udp_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s64);
	__type(value, __u64);
} tc_event_results SEC(".maps");

struct udp_event {
	__be32 saddr;
	__be32 daddr;
	__u32 len;
	__u32 mark;
};

static __always_inline long note(long base, long ret)
{
	__s64 k = base * 1000 + ret;
	__u64 one = 1, *n = bpf_map_lookup_elem(&tc_event_results, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tc_event_results, &k, &one, BPF_NOEXIST);
	return ret;
}

SEC("tc")
int tc_events(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (iph->ihl < 5 || iph->version != 4) {
		bpf_printk("tc_events: bad IPv4 header, ihl %d version %d", iph->ihl, iph->version);
		return TC_ACT_OK;
	}
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = (void *)iph + iph->ihl * 4;
		__u32 hdr[2] = { skb->len, iph->daddr };

		if ((void *)(th + 1) > data_end || !th->syn)
			return TC_ACT_OK;
		note(1, bpf_perf_event_output(skb, &tc_syn_events, BPF_F_CURRENT_CPU | (64ull << 32), hdr, sizeof(hdr)));
		note(2, bpf_perf_event_output(skb, &tc_syn_events, BPF_F_CURRENT_CPU | ((__u64)(skb->len + 1) << 32), hdr, sizeof(hdr)));
		return TC_ACT_OK;
	}
	if (iph->protocol == IPPROTO_UDP) {
		struct udp_event *e;
		__be16 *ports = (void *)iph + iph->ihl * 4;

		if ((void *)(ports + 2) > data_end)
			return TC_ACT_OK;
		if (ports[1] == bpf_htons(53)) {
			struct udp_event ev = { iph->saddr, iph->daddr, skb->len, skb->mark };

			note(3, bpf_ringbuf_output(&tc_udp_events, &ev, sizeof(ev), 0));
			return TC_ACT_OK;
		}
		e = bpf_ringbuf_reserve(&tc_udp_events, sizeof(*e), 0);
		if (!e) {
			note(4, 1);
			return TC_ACT_OK;
		}
		e->saddr = iph->saddr;
		e->daddr = iph->daddr;
		e->len = skb->len;
		e->mark = skb->mark;
		bpf_ringbuf_submit(e, 0);
		note(5, 0);
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
