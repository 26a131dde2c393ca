// bpf_xdp_get_xfrm_state in a namespace without security associations: each lookup's opts->error,
// or its untouched value when the size is too small to hold it (xfrm_test.go).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "../../kfuncs/include/xdpsim_kfuncs.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

static __always_inline void lookup(struct xdp_md *ctx, __u32 i, __s32 netns, __u32 size)
{
	struct bpf_xfrm_state_opts opts = { .error = 12345, .netns_id = netns, .spi = 0x1000, .proto = 50, .family = 2 };
	__s64 *slot = bpf_map_lookup_elem(&results, &i);
	struct xfrm_state *x;

	opts.daddr.a4 = 0x0100000a;
	x = bpf_xdp_get_xfrm_state(ctx, &opts, size);
	if (x) {
		bpf_xdp_xfrm_state_release(x);
		opts.error = 1;
	}
	if (slot)
		*slot = opts.error;
}

SEC("xdp")
int xfrm_probe(struct xdp_md *ctx)
{
	lookup(ctx, 0, -1, sizeof(struct bpf_xfrm_state_opts));
	lookup(ctx, 1, -1, 32);
	lookup(ctx, 2, -2, sizeof(struct bpf_xfrm_state_opts));
	lookup(ctx, 3, 7, sizeof(struct bpf_xfrm_state_opts));
	lookup(ctx, 4, -1, 2);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
