// Programs that move the packet's boundaries, one helper each, so the
// outcome can be predicted byte for byte.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

// xdp_push_head grows the packet by 16 bytes at the front, fills them with
// 0xa0, 0xa1, ... 0xaf and then trims 4 bytes again: 12 new bytes
// (0xa4..0xaf) end up in front of the original packet.
SEC("xdp")
int xdp_push_head(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, -16))
		return XDP_ABORTED;
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if ((void *)(data + 16) > data_end)
		return XDP_ABORTED;
	for (int i = 0; i < 16; i++)
		data[i] = 0xa0 + i;
	if (bpf_xdp_adjust_head(ctx, 4))
		return XDP_ABORTED;
	return XDP_PASS;
}

// xdp_pop_head removes the 14-byte Ethernet header.
SEC("xdp")
int xdp_pop_head(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_head(ctx, 14))
		return XDP_ABORTED;
	return XDP_PASS;
}

// xdp_add_meta reserves 8 bytes of metadata and writes the packet's first
// four bytes there twice, the second copy with every byte inverted.
SEC("xdp")
int xdp_add_meta(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_meta(ctx, -8))
		return XDP_ABORTED;
	unsigned char *meta = (void *)(long)ctx->data_meta;
	unsigned char *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	if ((void *)(meta + 8) > (void *)data)
		return XDP_ABORTED;
	if ((void *)(data + 4) > data_end)
		return XDP_ABORTED;
	for (int i = 0; i < 4; i++) {
		meta[i] = data[i];
		meta[4 + i] = ~data[i];
	}
	return XDP_PASS;
}

// xdp_grow_tail appends 4 bytes and writes 0xde 0xad 0xbe 0xef there.
SEC("xdp")
int xdp_grow_tail(struct xdp_md *ctx)
{
	static const unsigned char tail[4] = {0xde, 0xad, 0xbe, 0xef};

	if (bpf_xdp_adjust_tail(ctx, 4))
		return XDP_ABORTED;
	__u32 len = bpf_xdp_get_buff_len(ctx);
	if (len < 4 || bpf_xdp_store_bytes(ctx, len - 4, (void *)tail, 4))
		return XDP_ABORTED;
	return XDP_PASS;
}

// xdp_cut_tail removes the last 10 bytes.
SEC("xdp")
int xdp_cut_tail(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_tail(ctx, -10))
		return XDP_ABORTED;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
