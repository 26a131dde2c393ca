// SPDX-License-Identifier: GPL-2.0
/* choose: three XDP programs in one object, told apart by function or section name.
 *  - pass_untouched and bounce_back share the plain "xdp" section, so only their function names
 *    pick them;
 *  - bounce_back swaps the Ethernet addresses and sends the frame back out (XDP_TX);
 *  - drop_jumbo is alone in "xdp.frags", so that section name picks it: it drops frames whose
 *    whole length (fragments included) exceeds 1514 bytes and passes the others.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int pass_untouched(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int bounce_back(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	unsigned char mac[ETH_ALEN];

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);
	return XDP_TX;
}

SEC("xdp.frags")
int drop_jumbo(struct xdp_md *ctx)
{
	if (bpf_xdp_get_buff_len(ctx) > 1514)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
