// SPDX-License-Identifier: GPL-2.0
/* pinned: a map pinned by name (LIBBPF_PIN_BY_NAME) beside an unpinned one. A loader pins the
 * first in bpffs; the simulator keeps it for the run and says so. Each frame adds its length to
 * shared_bytes[0] and counts itself in local_frames[0]; all frames pass.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} shared_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} local_frames SEC(".maps");

SEC("xdp")
int count_pinned(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *v;

	v = bpf_map_lookup_elem(&shared_bytes, &zero);
	if (v)
		*v += ctx->data_end - ctx->data;
	v = bpf_map_lookup_elem(&local_frames, &zero);
	if (v)
		*v += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
