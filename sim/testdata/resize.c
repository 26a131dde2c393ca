// SPDX-License-Identifier: GPL-2.0
/* resize: a hash declared with max_entries 0, to be sized by the loader (--resize sources=N).
 * Frames are counted per source MAC address; once the map is full a new source is dropped.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct mac {
	unsigned char addr[ETH_ALEN];
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 0);
	__type(key, struct mac);
	__type(value, __u64);
} sources SEC(".maps");

SEC("xdp")
int count_sources(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct mac key = {};
	__u64 one = 1, *n;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(key.addr, eth->h_source, ETH_ALEN);
	n = bpf_map_lookup_elem(&sources, &key);
	if (n) {
		*n += 1;
		return XDP_PASS;
	}
	if (bpf_map_update_elem(&sources, &key, &one, BPF_NOEXIST))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
