// An object with one program the verifier accepts and one it rejects:
// xdp_bad reads the EtherType without checking the packet's length.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_good(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_bad(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	return data[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
