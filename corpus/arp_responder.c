// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* arp_responder: answers ARP requests for our address from XDP and guards the ARP table.
 *  - malformed ARP (not Ethernet/IPv4, wrong address lengths, truncated) is dropped;
 *  - sender bindings are learnt in an LRU hash; a sender that claims a known IP with another MAC
 *    is reported (bpf_printk) and dropped;
 *  - a request for my_ip is turned into a reply in place and sent back with XDP_TX.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/if_arp.h> drags in libc headers, so the few constants needed are spelled out here. */
#define ARPHRD_ETHER	1
#define ARPOP_REQUEST	1
#define ARPOP_REPLY	2

struct arp_eth_ipv4 {
	__be16 ar_hrd;
	__be16 ar_pro;
	__u8 ar_hln;
	__u8 ar_pln;
	__be16 ar_op;
	__u8 ar_sha[ETH_ALEN];
	__be32 ar_sip;
	__u8 ar_tha[ETH_ALEN];
	__be32 ar_tip;
} __attribute__((packed));

struct mac {
	__u8 addr[ETH_ALEN];
};

const volatile __be32 my_ip = bpf_htonl(0x0a000001);	/* 10.0.0.1 */
const volatile __u8 my_mac[ETH_ALEN] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, struct mac);
} arp_table SEC(".maps");

enum { ARP_REQUEST, ARP_REPLY, ARP_GRATUITOUS, ARP_ANSWERED, ARP_SPOOFED, ARP_MALFORMED, ARP_OTHER_OP,
       ARP_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, ARP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} arp_stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&arp_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Returns 1 when the binding contradicts what we learnt before. */
static __always_inline int learn(__be32 ip, const __u8 *sha)
{
	struct mac *known, m;
	int i;

	if (ip == 0)	/* ARP probe: the sender has no address yet */
		return 0;
	__builtin_memcpy(m.addr, sha, ETH_ALEN);
	known = bpf_map_lookup_elem(&arp_table, &ip);
	if (!known) {
		bpf_map_update_elem(&arp_table, &ip, &m, BPF_NOEXIST);
		return 0;
	}
	for (i = 0; i < ETH_ALEN; i++)
		if (known->addr[i] != m.addr[i])
			return 1;
	return 0;
}

SEC("xdp")
int xdp_arp_responder(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct arp_eth_ipv4 *arp = (void *)(eth + 1);
	__be32 sip, tip;
	int i;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_ARP))
		return XDP_PASS;

	if ((void *)(arp + 1) > data_end || arp->ar_hrd != bpf_htons(ARPHRD_ETHER) ||
	    arp->ar_pro != bpf_htons(ETH_P_IP) || arp->ar_hln != ETH_ALEN || arp->ar_pln != 4) {
		bump(ARP_MALFORMED);
		return XDP_DROP;
	}

	sip = arp->ar_sip;
	tip = arp->ar_tip;
	if (sip == tip)
		bump(ARP_GRATUITOUS);

	if (learn(sip, arp->ar_sha)) {
		bump(ARP_SPOOFED);
		bpf_printk("arp: %pI4 claimed by another MAC", &sip);
		return XDP_DROP;
	}

	switch (bpf_ntohs(arp->ar_op)) {
	case ARPOP_REQUEST:
		bump(ARP_REQUEST);
		break;
	case ARPOP_REPLY:
		bump(ARP_REPLY);
		return XDP_PASS;
	default:
		bump(ARP_OTHER_OP);
		return XDP_DROP;
	}

	if (tip != my_ip || sip == 0)
		return XDP_PASS;

	/* Turn the request into our reply. */
	arp->ar_op = bpf_htons(ARPOP_REPLY);
	__builtin_memcpy(arp->ar_tha, arp->ar_sha, ETH_ALEN);
	arp->ar_tip = sip;
	arp->ar_sip = my_ip;
	for (i = 0; i < ETH_ALEN; i++) {
		arp->ar_sha[i] = my_mac[i];
		eth->h_dest[i] = eth->h_source[i];
		eth->h_source[i] = my_mac[i];
	}
	bump(ARP_ANSWERED);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
