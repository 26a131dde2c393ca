// xdp_meta_in reads the metadata given to it: its length goes to meta_len
// and, when there are at least 4 bytes, the first 32-bit word (host order)
// goes to meta_word and is incremented in place. Packets with no metadata are
// dropped, the others pass.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__u32 meta_len = 0xffffffff;
__u32 meta_word;

SEC("xdp")
int xdp_meta_in(struct xdp_md *ctx)
{
	__u32 *meta = (void *)(long)ctx->data_meta;
	void *data = (void *)(long)ctx->data;

	meta_len = data - (void *)meta;
	if ((void *)(meta + 1) > data)
		return XDP_DROP;
	meta_word = *meta;
	*meta += 1;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
