/* SPDX-License-Identifier: GPL-2.0 */
/* Shared by the netkit setups: the netkit and tcx return values (enum netkit_action and enum
 * tcx_action_base are newer than the installed 6.1 UAPI headers) and a small IPv4 parser. */
#ifndef NK_COMMON_H
#define NK_COMMON_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* The first bytes of an ICMP header (linux/icmp.h pulls in libc headers). */
struct icmp_head {
	__u8 type;
	__u8 code;
	__u16 checksum;
};

#define NETKIT_NEXT -1
#define NETKIT_PASS 0
#define NETKIT_DROP 2
#define NETKIT_REDIRECT 7

#define TCX_NEXT -1
#define TCX_PASS 0
#define TCX_DROP 2

/* flow is what the programs look at: the IPv4 header, and the L4 ports or ICMP type. */
struct flow {
	__u32 saddr, daddr; /* network order */
	__u8 proto, icmp_type;
	__u16 sport, dport; /* host order */
};

/* parse_ipv4 reads the flow of an IPv4 packet whose Ethernet header starts at data; it returns 0,
 * or -1 for anything else (not IPv4, cut short). */
static __always_inline int parse_ipv4(struct __sk_buff *skb, struct flow *f)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *iph = data + ETH_HLEN;

	if ((void *)(iph + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || iph->ihl != 5)
		return -1;
	f->saddr = iph->saddr;
	f->daddr = iph->daddr;
	f->proto = iph->protocol;
	f->sport = f->dport = 0;
	f->icmp_type = 0;
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *th = (void *)(iph + 1);

		if ((void *)(th + 1) > data_end)
			return -1;
		f->sport = bpf_ntohs(th->source);
		f->dport = bpf_ntohs(th->dest);
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *uh = (void *)(iph + 1);

		if ((void *)(uh + 1) > data_end)
			return -1;
		f->sport = bpf_ntohs(uh->source);
		f->dport = bpf_ntohs(uh->dest);
	} else if (iph->protocol == IPPROTO_ICMP) {
		struct icmp_head *ih = (void *)(iph + 1);

		if ((void *)(ih + 1) > data_end)
			return -1;
		f->icmp_type = ih->type;
	}
	return 0;
}

#endif
