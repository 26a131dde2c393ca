// xdp_entry tail-calls slot 0 of a program array filled statically in C;
// the target marks the packet's first byte with 0xee and drops it. If the
// tail call fails, the entry program passes the packet untouched.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int xdp_target(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct xdp_md *));
} jump SEC(".maps") = {
	.values = { [0] = (void *)&xdp_target },
};

SEC("xdp")
int xdp_target(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if ((void *)(data + 1) > data_end)
		return XDP_ABORTED;
	data[0] = 0xee;
	return XDP_DROP;
}

SEC("xdp")
int xdp_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jump, 0);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
