// xdp_verdict decides on the EtherType alone: IPv4 passes, IPv6 is dropped,
// ARP is sent back out (XDP_TX) and anything else aborts.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_verdict(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return XDP_PASS;
	case bpf_htons(ETH_P_IPV6):
		return XDP_DROP;
	case bpf_htons(ETH_P_ARP):
		return XDP_TX;
	}
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
