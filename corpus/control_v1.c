// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* control_v1: a control-map client built against the first, shorter layout of struct
 * if_xdp_attributes (the BPF_MAP_TYPE_CONTROL proposal, a 2019 RFC that never merged into Linux;
 * --feature control-map). It declares the struct as an old header had it, without the members
 * the layout gained at its end later (xdp_features and the rest), so its map's value is 1136 bytes
 * where the kernel's is larger: the proposal's forward compatibility says a lookup copies only the
 * bytes the client knows, and an update changes only those.
 *  - every frame is counted per RX queue and the device's MTU and key size are recorded;
 *  - on frame rekey_after the program replaces the device's RSS key with new_key (what a program
 *    may change from the data path), so that later frames hash, and spread over the RX queues,
 *    with the new key.
 * Every frame passes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define BPF_MAP_TYPE_CONTROL 0x58430001
#define XDP_ATTR 1

/* The first layout of the struct, as a client of that time had it. */
struct if_xdp_attributes {
	__u32 ifindex;
	__u32 peer_ifindex;
	__u32 mtu;
	__u32 min_mtu;
	__u32 max_mtu;
	__u32 rx_queues;
	__u32 tx_queues;
	__u32 max_queues;
	__u32 rx_ring_size;
	__u32 tx_ring_size;
	__u32 max_ring_size;
	__u32 offloads;
	__u32 rss_hash_fields;
	__u32 rss_key_size;
	__u32 rss_indir_size;
	__u8 rss_key[52];
	__u16 rss_indir[512];
};

struct {
	__uint(type, BPF_MAP_TYPE_CONTROL);
	__uint(map_extra, XDP_ATTR);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct if_xdp_attributes);
} devices SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} queue_packets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct if_xdp_attributes);
} scratch SEC(".maps");

enum { R_PACKETS, R_MTU, R_KEY_SIZE, R_REKEY_RET, R_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, R_MAX);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

const volatile __u32 rekey_after = 500;
const volatile __u8 new_key[40] = {
	0x3c, 0x1a, 0x94, 0x27, 0x5e, 0xd3, 0x0b, 0x81, 0x6f, 0xa2, 0x49, 0xc7, 0x12, 0xe8, 0x75, 0x3d,
	0x9b, 0x04, 0xce, 0x66, 0x2f, 0xb1, 0x58, 0x0d, 0xe3, 0x97, 0x4a, 0x1c, 0x86, 0x7e, 0x30, 0xd5,
	0x61, 0xac, 0x0f, 0x92, 0x3b, 0xf4, 0x25, 0x8e,
};

static __always_inline __s64 *slot(__u32 k) { return bpf_map_lookup_elem(&results, &k); }

SEC("xdp")
int xdp_control_v1(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex, queue = ctx->rx_queue_index, zero = 0;
	const struct if_xdp_attributes *a;
	struct if_xdp_attributes *s;
	__s64 *r, seen = 0;
	__u64 *n;

	n = bpf_map_lookup_elem(&queue_packets, &queue);
	if (n)
		__sync_fetch_and_add(n, 1);
	r = slot(R_PACKETS);
	if (r)
		seen = __sync_add_and_fetch(r, 1);

	a = bpf_map_lookup_elem(&devices, &ifindex);
	if (!a)
		return XDP_PASS;
	r = slot(R_MTU);
	if (r)
		*r = a->mtu;
	r = slot(R_KEY_SIZE);
	if (r)
		*r = a->rss_key_size;
	if (seen != rekey_after)
		return XDP_PASS;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return XDP_PASS;
	/* A copy loop: clang inlines no memcpy this large for BPF. */
	for (__u32 i = 0; i < sizeof(*s) / 8; i++)
		((__u64 *)s)[i] = ((const __u64 *)a)[i];
	for (__u32 i = 0; i < sizeof(new_key); i++)
		s->rss_key[i] = new_key[i];
	r = slot(R_REKEY_RET);
	if (r)
		*r = bpf_map_update_elem(&devices, &ifindex, s, BPF_ANY);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
