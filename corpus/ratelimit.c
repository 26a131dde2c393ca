// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* ratelimit: per-source packet limits over windows counted in packets, not time.
 *  - the global packet counter (.bss) advances a window every window_packets packets;
 *  - each IPv4 source has an LRU-hash entry {window, packets in it}: more than burst packets in
 *    one window are dropped;
 *  - bytes per source are also kept in an LRU per-CPU hash (sum the CPUs to compare).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 window_packets = 1000;
const volatile __u32 burst = 20;

__u64 seen;
__u64 limited;

struct bucket {
	__u64 window;
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __be32);
	__type(value, struct bucket);
} buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_PERCPU_HASH);
	__uint(max_entries, 8192);
	__type(key, __be32);
	__type(value, __u64);
} src_bytes SEC(".maps");

SEC("xdp")
int xdp_ratelimit(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct bucket *b, fresh = {};
	__u64 window, len = data_end - data, *bytes;
	__be32 src;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end)
		return XDP_DROP;
	src = iph->saddr;

	window = __sync_fetch_and_add(&seen, 1) / window_packets;

	bytes = bpf_map_lookup_elem(&src_bytes, &src);
	if (bytes)
		*bytes += len;
	else
		bpf_map_update_elem(&src_bytes, &src, &len, BPF_NOEXIST);

	b = bpf_map_lookup_elem(&buckets, &src);
	if (!b) {
		fresh.window = window;
		fresh.packets = 1;
		bpf_map_update_elem(&buckets, &src, &fresh, BPF_NOEXIST);
		return XDP_PASS;
	}
	if (b->window != window) {
		b->window = window;
		b->packets = 0;
	}
	if (++b->packets > burst) {
		__sync_fetch_and_add(&limited, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
