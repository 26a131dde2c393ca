// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* spinlock: per-source byte budgets kept consistent with bpf_spin_lock.
 *  - each IPv4/IPv6 source has an entry {lock, packets, bytes, min_len, max_len} in a hash map;
 *    the fields are updated together under the entry's spin lock;
 *  - a source whose byte count went past byte_budget is dropped from then on.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u64 byte_budget = 60000;

struct src_key {
	__u32 family;
	__u8 addr[16];
};

struct src_stats {
	struct bpf_spin_lock lock;
	__u32 min_len;
	__u64 packets;
	__u64 bytes;
	__u32 max_len;
	__u32 over_budget;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct src_key);
	__type(value, struct src_stats);
} sources SEC(".maps");

SEC("xdp")
int xdp_spinlock(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct src_key key = {};
	struct src_stats *st, init = {};
	__u32 len = data_end - data;
	int over;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		key.family = 4;
		__builtin_memcpy(key.addr, &iph->saddr, 4);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		key.family = 6;
		__builtin_memcpy(key.addr, &ip6->saddr, 16);
	} else {
		return XDP_PASS;
	}

	st = bpf_map_lookup_elem(&sources, &key);
	if (!st) {
		init.min_len = 0xffffffff;
		bpf_map_update_elem(&sources, &key, &init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&sources, &key);
		if (!st)
			return XDP_ABORTED;
	}

	bpf_spin_lock(&st->lock);
	st->packets++;
	st->bytes += len;
	if (len < st->min_len)
		st->min_len = len;
	if (len > st->max_len)
		st->max_len = len;
	over = st->bytes > byte_budget;
	if (over)
		st->over_budget++;
	bpf_spin_unlock(&st->lock);

	return over ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
