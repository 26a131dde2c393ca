// SPDX-License-Identifier: GPL-2.0
/* calls: bpf-to-bpf calls, static and global.
 *  - fnv_step and fnv_macs are static __noinline functions: fnv_macs folds the 12 address bytes of
 *    the Ethernet header into a 32-bit FNV-1a hash, one fnv_step call per byte;
 *  - frame_len is a global __noinline function (verified on its own by the kernel) that returns
 *    the frame's length from the context;
 *  - the program keeps the hash and length of the last frame in .bss and drops frames whose hash
 *    is odd.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

__u32 last_hash;
__u32 last_len;

static __noinline __u32 fnv_step(__u32 h, __u32 byte)
{
	return (h ^ byte) * 16777619u;
}

static __noinline __u32 fnv_macs(const unsigned char *addrs)
{
	__u32 h = 2166136261u;

	for (int i = 0; i < 2 * ETH_ALEN; i++)
		h = fnv_step(h, addrs[i]);
	return h;
}

__noinline int frame_len(struct xdp_md *ctx)
{
	if (!ctx)
		return -1;
	return ctx->data_end - ctx->data;
}

SEC("xdp")
int call_functions(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	unsigned char addrs[2 * ETH_ALEN];
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	__builtin_memcpy(addrs, eth, sizeof(addrs));
	last_hash = fnv_macs(addrs);
	last_len = frame_len(ctx);
	return last_hash & 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
