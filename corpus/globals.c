// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* globals: configuration and state in global variables (.rodata, .data, .bss).
 *  - const volatile knobs in .rodata: the largest frame accepted, whether IPv6 is dropped, the
 *    frame budget, and a table of "interesting" UDP ports;
 *  - .data: a frame budget that starts at 3000 and counts down; a banner string;
 *  - .bss: counters per EtherType class and the last IPv4 source seen;
 *  - frames over max_frame are dropped, IPv6 is dropped when drop_ipv6 is set, and once the budget
 *    is spent only ARP passes.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* .rodata */
const volatile __u32 max_frame = 1518;
const volatile __u8 drop_ipv6 = 0;
const volatile __u16 interesting_ports[4] = { 53, 123, 443, 4242 };

/* .data */
__s64 frame_budget = 3000;
char banner[16] = "xdpsim globals";

/* .bss */
__u64 class_counts[4];	/* IPv4, IPv6, ARP, other */
__u64 interesting;
__u64 oversized;
__be32 last_saddr;
__u8 budget_spent;

SEC("xdp")
int xdp_globals(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	__u32 class;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (data_end - data > max_frame) {
		oversized++;
		return XDP_DROP;
	}

	switch (bpf_ntohs(eth->h_proto)) {
	case ETH_P_IP:
		class = 0;
		break;
	case ETH_P_IPV6:
		class = 1;
		break;
	case ETH_P_ARP:
		class = 2;
		break;
	default:
		class = 3;
	}
	__sync_fetch_and_add(&class_counts[class], 1);

	if (__sync_fetch_and_sub(&frame_budget, 1) <= 0) {
		if (!budget_spent) {
			budget_spent = 1;
			bpf_printk("%s: frame budget spent", banner);
		}
		return class == 2 ? XDP_PASS : XDP_DROP;
	}

	if (class == 1 && drop_ipv6)
		return XDP_DROP;
	if (class == 0) {
		struct iphdr *iph = (void *)(eth + 1);
		struct udphdr *udp = (void *)(iph + 1);

		if ((void *)(iph + 1) > data_end)
			return XDP_DROP;
		last_saddr = iph->saddr;
		if (iph->ihl == 5 && iph->protocol == IPPROTO_UDP && (void *)(udp + 1) <= data_end) {
			for (i = 0; i < 4; i++) {
				if (udp->dest == bpf_htons(interesting_ports[i])) {
					interesting++;
					break;
				}
			}
		}
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
