// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* control_steer: the BPF_MAP_TYPE_CONTROL proposal (a 2019 RFC that never merged into Linux;
 * --feature control-map) used as it sketches: a program reads and changes the device it runs on
 * through an ordinary map whose value layout the kernel defines (struct if_xdp_attributes).
 *  - every frame is counted per RX queue (ctx->rx_queue_index, which RSS decides on a multi-queue
 *    device);
 *  - the device's attributes are looked up by ctx->ingress_ifindex: the MTU, the RX queue count
 *    and the features netlink would report are recorded (a lookup of an ifindex with no device
 *    gives NULL and is counted);
 *  - after drain_after frames the program drains RX queue drain_queue: it copies the attributes
 *    into a scratch value, points every indirection table entry that names drain_queue at queue
 *    0, and writes the value back with bpf_map_update_elem. The device uses the new table from
 *    the next frame on, so drain_queue receives nothing more;
 *  - it then asks for an MTU change, which only user space may make: the update returns -EPERM
 *    and changes nothing.
 * Every frame passes.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <xdpsim_control.h>

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

enum {
	R_PACKETS,	 /* frames seen */
	R_NO_DEVICE,	 /* lookups that found no device */
	R_MTU,		 /* the attributes of the last lookup */
	R_RX_QUEUES,
	R_XDP_FEATURES,
	R_RX_METADATA,
	R_DRAIN_RET,	 /* bpf_map_update_elem of the drained table */
	R_MTU_RET,	 /* bpf_map_update_elem of an MTU change */
	R_DRAINED,	 /* indirection table entries moved */
	R_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, R_MAX);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

const volatile __u32 drain_after = 1000;
const volatile __u32 drain_queue = 1;

static __always_inline void put(__u32 k, __s64 v)
{
	__s64 *r = bpf_map_lookup_elem(&results, &k);

	if (r)
		*r = v;
}

/* The indirection table walk, as a bpf_loop callback: a loop of 512 entries with a branch each
 * would be verified entry by entry. */
struct drain {
	struct if_xdp_attributes *s;
	__u32 queue;
	__s64 moved;
};

static long drain_entry(__u32 i, struct drain *d)
{
	if (i >= d->s->rss_indir_size || i >= sizeof(d->s->rss_indir) / sizeof(d->s->rss_indir[0]))
		return 1;
	if (d->s->rss_indir[i] == d->queue) {
		d->s->rss_indir[i] = 0;
		d->moved++;
	}
	return 0;
}

static __always_inline __s64 add(__u32 k)
{
	__s64 *r = bpf_map_lookup_elem(&results, &k);

	if (!r)
		return 0;
	return __sync_add_and_fetch(r, 1);
}

SEC("xdp")
int xdp_control_steer(struct xdp_md *ctx)
{
	__u32 ifindex = ctx->ingress_ifindex, queue = ctx->rx_queue_index, zero = 0;
	const struct if_xdp_attributes *a;
	struct if_xdp_attributes *s;
	__u64 *n;
	__s64 seen;

	n = bpf_map_lookup_elem(&queue_packets, &queue);
	if (n)
		__sync_fetch_and_add(n, 1);
	seen = add(R_PACKETS);

	a = bpf_map_lookup_elem(&devices, &ifindex);
	if (!a) {
		add(R_NO_DEVICE);
		return XDP_PASS;
	}
	put(R_MTU, a->mtu);
	put(R_RX_QUEUES, a->rx_queues);
	put(R_XDP_FEATURES, a->xdp_features);
	put(R_RX_METADATA, a->xdp_rx_metadata_features);
	if (seen != drain_after)
		return XDP_PASS;

	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return XDP_PASS;
	/* A copy loop: clang inlines no memcpy this large for BPF. */
	for (__u32 i = 0; i < sizeof(*s) / 8; i++)
		((__u64 *)s)[i] = ((const __u64 *)a)[i];
	struct drain d = {.s = s, .queue = drain_queue};

	bpf_loop(sizeof(s->rss_indir) / sizeof(s->rss_indir[0]), drain_entry, &d, 0);
	put(R_DRAINED, d.moved);
	put(R_DRAIN_RET, bpf_map_update_elem(&devices, &ifindex, s, BPF_ANY));

	s->mtu += 100;
	put(R_MTU_RET, bpf_map_update_elem(&devices, &ifindex, s, BPF_ANY));
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
