// SPDX-License-Identifier: GPL-2.0
/* globals: global variables in every kind of data section, read and written by the program.
 *  - .rodata: const volatile knobs a loader may set (the verdict for IPv4 frames, a byte stamped
 *    into the source MAC address) and a plain const table of weights;
 *  - .data: a frame counter that starts at 5;
 *  - .bss: frames per class (the low two bits of the last destination MAC byte) and the last
 *    ingress ifindex;
 *  - .data.custom: a weighted sum that starts at 1000 and a tag string;
 *  - .rodata.custom: a const volatile scale factor (3).
 * Per frame: seen += 1; per_class[c] += 1; weighted_sum += weights[c] * scale; last_ifindex is
 * set; when stamp is not 0 the first source MAC byte becomes stamp. IPv4 frames get ipv4_verdict,
 * the others XDP_PASS.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 ipv4_verdict = XDP_PASS;
const volatile __u8 stamp;
const __u32 weights[4] = { 1, 10, 100, 1000 };

__u64 seen = 5;

__u64 per_class[4];
__u32 last_ifindex;

__u64 weighted_sum SEC(".data.custom") = 1000;
char tag[8] SEC(".data.custom") = "xdpsim";

const volatile __u32 scale SEC(".rodata.custom") = 3;

SEC("xdp")
int use_globals(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u32 c;

	if ((void *)(eth + 1) > end)
		return XDP_ABORTED;
	seen++;
	c = eth->h_dest[5] & 3;
	per_class[c]++;
	weighted_sum += weights[c] * scale;
	last_ifindex = ctx->ingress_ifindex;
	if (stamp)
		eth->h_source[0] = stamp;
	if (eth->h_proto == bpf_htons(ETH_P_IP))
		return ipv4_verdict;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
