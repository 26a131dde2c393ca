// SPDX-License-Identifier: GPL-2.0
/* dispatch: programs for the dispatcher's tests, each attached on its own through it.
 *  - set_target chooses a redirect target (ifindex 5) and passes: a later slot's XDP_REDIRECT
 *    goes there;
 *  - redirect_only returns XDP_REDIRECT without choosing a target;
 *  - read_far reads byte 200 of the frame without a bounds check, which the verifier (the
 *    kernel's, the simulator's) refuses; loaded without it, it faults on a shorter frame;
 *  - count_all counts the frames it sees and passes them;
 *  - count_everything_seen and unique_long_program have names longer than the 15 characters the
 *    kernel keeps: libxdp expands the second from the object's BTF, not the first, which shares
 *    its first 15 characters with count_everything_helper.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp")
int set_target(struct xdp_md *ctx)
{
	bpf_redirect(5, 0);
	return XDP_PASS;
}

SEC("xdp")
int redirect_only(struct xdp_md *ctx)
{
	return XDP_REDIRECT;
}

SEC("xdp")
int read_far(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;

	return data[200] == 0xff ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int count_all(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&seen, &k);

	if (v)
		*v += 1;
	return XDP_PASS;
}

static __attribute__((noinline)) int count_everything_helper(struct xdp_md *ctx)
{
	return ctx->rx_queue_index ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int count_everything_seen(struct xdp_md *ctx)
{
	return count_everything_helper(ctx);
}

SEC("xdp")
int unique_long_program(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
