// SPDX-License-Identifier: GPL-2.0
/* devmap_prog: a redirect whose devmap entries carry programs (SEC("xdp/devmap")).
 *  - xdp_redirect sends every frame to the devmap slot named by the frame's last byte (fallback PASS);
 *  - tag_egress writes the egress ifindex into byte 0 of the frame, records it and passes;
 *  - drop_all drops; bad_action returns XDP_TX, which a devmap program may not.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} ports SEC(".maps");

__u32 last_egress;
__u32 last_ingress;

SEC("xdp")
int xdp_redirect(struct xdp_md *ctx)
{
	/* The kernel's verifier refuses arithmetic on data_end ("R2 pointer arithmetic on pkt_end
	 * prohibited"), so the last byte is read through the helper. */
	__u32 len = bpf_xdp_get_buff_len(ctx);
	__u8 last;

	if (len < 1 || bpf_xdp_load_bytes(ctx, len - 1, &last, 1))
		return XDP_DROP;
	return bpf_redirect_map(&ports, last & 3, XDP_PASS);
}

SEC("xdp/devmap")
int tag_egress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *first = data;

	if ((void *)(first + 1) > data_end)
		return XDP_DROP;
	*first = ctx->egress_ifindex;
	last_egress = ctx->egress_ifindex;
	last_ingress = ctx->ingress_ifindex;
	return XDP_PASS;
}

SEC("xdp/devmap")
int drop_all(struct xdp_md *ctx)
{
	return XDP_DROP;
}

SEC("xdp/devmap")
int bad_action(struct xdp_md *ctx)
{
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
