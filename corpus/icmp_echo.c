// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* icmp_echo: answers ICMP echo requests from XDP.
 *  - every ICMP type is counted; redirects (type 5) are dropped, and so are echo requests to a
 *    broadcast or multicast address (smurf);
 *  - an echo request becomes an echo reply in place: MACs and addresses swapped, TTL reset to 64,
 *    type 0; the IPv4 and ICMP checksums are updated incrementally with bpf_csum_diff; XDP_TX.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> drags in libc headers; the ICMP header is small enough to spell out. */
#define ICMP_ECHOREPLY	0
#define ICMP_REDIRECT	5
#define ICMP_ECHO	8

struct icmphdr {
	__u8 type;
	__u8 code;
	__sum16 checksum;
	__be16 id;
	__be16 sequence;
};

const volatile __u8 reply_ttl = 64;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} icmp_types SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} replies SEC(".maps");

static __always_inline __u16 csum_fold(__u64 csum)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

/* Replaces the 16-bit word at *field (part of a checksummed area whose checksum is *check). */
static __always_inline void replace_u16(__u16 *check, __u16 *field, __u16 value)
{
	__u32 from = *field, to = value;

	*check = csum_fold(bpf_csum_diff(&from, sizeof(from), &to, sizeof(to), ~*check & 0xffff));
	*field = value;
}

SEC("xdp")
int xdp_icmp_echo(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct icmphdr *icmp;
	__u8 mac[ETH_ALEN];
	__u32 key, daddr;
	__u16 word;
	__u64 *v;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_ICMP || iph->ihl < 5)
		return XDP_PASS;
	if (iph->frag_off & bpf_htons(0x3fff))
		return XDP_PASS;	/* fragmented: leave it to the stack */
	icmp = (void *)iph + iph->ihl * 4;
	if ((void *)(icmp + 1) > data_end)
		return XDP_DROP;

	key = icmp->type;
	v = bpf_map_lookup_elem(&icmp_types, &key);
	if (v)
		__sync_fetch_and_add(v, 1);

	if (icmp->type == ICMP_REDIRECT)
		return XDP_DROP;
	if (icmp->type != ICMP_ECHO || icmp->code != 0)
		return XDP_PASS;

	daddr = bpf_ntohl(iph->daddr);
	if (daddr == 0xffffffff || (daddr & 0xff) == 0xff || (daddr >> 28) == 0xe)
		return XDP_DROP;

	__builtin_memcpy(mac, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, mac, ETH_ALEN);

	/* swapping the addresses leaves both checksums as they are */
	iph->daddr = iph->saddr;
	iph->saddr = bpf_htonl(daddr);

	/* TTL shares its 16-bit word with the protocol */
	word = *(__u16 *)&iph->ttl;
	((__u8 *)&word)[0] = reply_ttl;
	replace_u16(&iph->check, (__u16 *)&iph->ttl, word);

	/* type shares its word with the code */
	word = *(__u16 *)icmp;
	((__u8 *)&word)[0] = ICMP_ECHOREPLY;
	replace_u16(&icmp->checksum, (__u16 *)icmp, word);

	key = 0;
	v = bpf_map_lookup_elem(&replies, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
