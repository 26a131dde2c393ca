// Two copies of one program, with and without frags support, that record
// the linear length (data_end - data) and bpf_xdp_get_buff_len() of the last
// packet they saw and pass it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 linear_len;
__u32 buff_len;

static __always_inline int record(struct xdp_md *ctx)
{
	linear_len = ctx->data_end - ctx->data;
	buff_len = bpf_xdp_get_buff_len(ctx);
	return XDP_PASS;
}

SEC("xdp.frags")
int xdp_with_frags(struct xdp_md *ctx)
{
	return record(ctx);
}

SEC("xdp")
int xdp_without_frags(struct xdp_md *ctx)
{
	return record(ctx);
}

char _license[] SEC("license") = "GPL";
