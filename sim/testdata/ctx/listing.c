// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* listing: an object with a bit of everything that `xdpsim dump` lists: programs of two types
 * (one calling a kfunc), maps with flags and pinning, and variables in .rodata, .data and .bss.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

const volatile __u32 verdict = XDP_PASS;
__u64 packets = 7;
__u32 last_len;

SEC("xdp")
int xdp_listing(struct xdp_md *ctx)
{
	__u32 key = ctx->rx_queue_index & 3;
	__u64 *c = bpf_map_lookup_elem(&counters, &key);

	if (c)
		__sync_fetch_and_add(c, 1);
	packets++;
	last_len = ctx->data_end - ctx->data;
	return verdict;
}

extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    __u32 *rss_type) __ksym;

SEC("xdp")
int xdp_hints(struct xdp_md *ctx)
{
	__u32 type;
	__u32 hash;

	if (bpf_xdp_metadata_rx_hash(ctx, &hash, &type))
		return XDP_PASS;
	return hash & 1 ? XDP_DROP : XDP_PASS;
}

SEC("tc")
int tc_listing(struct __sk_buff *skb)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
