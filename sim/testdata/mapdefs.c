// SPDX-License-Identifier: GPL-2.0
/* mapdefs: maps declared both ways clang users write them.
 *  - BTF-defined maps in SEC(".maps"): a hash of byte counts keyed by EtherType (host order) and a
 *    per-CPU array of packet counts;
 *  - legacy maps in SEC("maps") as struct bpf_map_def, which libbpf's headers no longer declare:
 *    an array counting frames per size class and a hash remembering, per source MAC address,
 *    the length of the last frame seen from it.
 * Every frame passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The legacy map definition, as old samples and iproute2 declared it. */
struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") size_classes = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 4,
};

struct mac_key {
	unsigned char addr[ETH_ALEN];
};

struct bpf_map_def SEC("maps") last_len_by_mac = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(struct mac_key),
	.value_size = sizeof(__u32),
	.max_entries = 16,
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u16);
	__type(value, __u64);
} bytes_by_ethertype SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} frames SEC(".maps");

SEC("xdp")
int count_frames(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 len = end - data;
	__u32 zero = 0, class;
	__u64 *v, one = 1, bytes = len;
	struct mac_key src;
	__u16 proto;

	if ((void *)(eth + 1) > end)
		return XDP_PASS;

	/* size classes: < 128, < 512, < 1024, the rest */
	class = len < 128 ? 0 : len < 512 ? 1 : len < 1024 ? 2 : 3;
	v = bpf_map_lookup_elem(&size_classes, &class);
	if (v)
		__sync_fetch_and_add(v, 1);

	__builtin_memcpy(src.addr, eth->h_source, ETH_ALEN);
	bpf_map_update_elem(&last_len_by_mac, &src, &len, BPF_ANY);

	proto = bpf_ntohs(eth->h_proto);
	v = bpf_map_lookup_elem(&bytes_by_ethertype, &proto);
	if (v)
		__sync_fetch_and_add(v, bytes);
	else
		bpf_map_update_elem(&bytes_by_ethertype, &proto, &bytes, BPF_NOEXIST);

	v = bpf_map_lookup_elem(&frames, &zero);
	if (v)
		*v += one;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
