// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* synproxy: a SYN proxy in XDP, in the spirit of the kernel selftests' xdp_synproxy, over IPv4
 * and IPv6 (no VLANs, no IPv4 options, no IPv6 extension headers).
 *  - TCP of a connection conntrack knows and has confirmed passes (bpf_xdp_ct_lookup);
 *  - a SYN to a protected port is answered in place with a SYN-ACK carrying a SYN cookie
 *    (bpf_tcp_raw_gen_syncookie_ipv4/6) and an MSS option of the MSS the cookie encodes, sent back
 *    with XDP_TX; the stack never sees the SYN;
 *  - an ACK whose acknowledgment number is a good cookie (bpf_tcp_raw_check_syncookie_ipv4/6)
 *    passes, and the connection is entered into conntrack (bpf_xdp_ct_alloc, bpf_ct_set_status,
 *    bpf_ct_set_timeout, bpf_ct_insert_entry) so that the rest of it passes too;
 *  - any other TCP is dropped; what is not TCP passes.
 * The kernel's SYN cookie secret is random, so the cookies (and the checksums over them) differ
 * between runs of the kernel and the simulator, whose secret follows --seed: corpus tests compare
 * SYN-ACKs with those fields masked after checking both checksums.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "xdpsim_kfuncs.h"

#define ENOENT 2

/* The one port SYN cookies protect; 0 protects every port. */
const volatile __u16 protected_port = 0;
/* The TTL (hop limit) of the SYN-ACKs. */
const volatile __u8 synack_ttl = 64;
/* How long conntrack keeps a connection the proxy let through, in milliseconds. */
const volatile __u32 established_ms = 300000;

enum {
	SP_SYN,		  /* SYNs answered with a SYN-ACK */
	SP_COOKIE_OK,	  /* ACKs with a good cookie, passed */
	SP_COOKIE_BAD,	  /* ACKs with a bad cookie, dropped */
	SP_ESTABLISHED,	  /* packets of confirmed connections, passed */
	SP_INSERTED,	  /* connections entered into conntrack */
	SP_INSERT_FAILED, /* connections conntrack would not take */
	SP_UNPROTECTED,	  /* SYNs to other ports, dropped */
	SP_OTHER,	  /* other TCP (or broken TCP), dropped */
	SP_NOT_TCP,	  /* not TCP, passed */
	SP_MAX
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} sp_stats SEC(".maps");

static __always_inline int count(__u32 idx, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&sp_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
	return verdict;
}

#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10

/* The headers of the packet, copied to the stack where the helpers read them. */
struct hdrs {
	union {
		struct iphdr v4;
		struct ipv6hdr v6;
	} ip;
	__u8 tcp[60];
	__u32 ip_off;
	int v6;
};

static __always_inline __u16 fold(__u64 sum)
{
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/* sum16 adds up n 16-bit words (as they lie in memory). */
static __always_inline __u64 sum16(const void *p, int n)
{
	const __u16 *w = p;
	__u64 s = 0;

#pragma unroll
	for (int i = 0; i < 20; i++)
		if (i < n)
			s += w[i];
	return s;
}

static __always_inline void fill_tuple(struct bpf_sock_tuple *t, struct hdrs *h, __u32 *size)
{
	struct tcphdr *th = (void *)h->tcp;

	if (h->v6) {
		__builtin_memcpy(t->ipv6.saddr, &h->ip.v6.saddr, 16);
		__builtin_memcpy(t->ipv6.daddr, &h->ip.v6.daddr, 16);
		t->ipv6.sport = th->source;
		t->ipv6.dport = th->dest;
		*size = sizeof(t->ipv6);
	} else {
		t->ipv4.saddr = h->ip.v4.saddr;
		t->ipv4.daddr = h->ip.v4.daddr;
		t->ipv4.sport = th->source;
		t->ipv4.dport = th->dest;
		*size = sizeof(t->ipv4);
	}
}

/* answer_syn turns the SYN into its SYN-ACK: addresses and ports swapped, the cookie as the
 * sequence number, one MSS option, checksums computed anew. */
static __always_inline int answer_syn(struct xdp_md *ctx, struct hdrs *h, __u32 tcp_len)
{
	struct tcphdr *syn = (void *)h->tcp;
	__s64 v;

	if (h->v6)
		v = bpf_tcp_raw_gen_syncookie_ipv6(&h->ip.v6, syn, tcp_len);
	else
		v = bpf_tcp_raw_gen_syncookie_ipv4(&h->ip.v4, syn, tcp_len);
	if (v < 0)
		return XDP_ABORTED;
	__u32 cookie = (__u32)v;
	__u16 mss = (__u16)(v >> 32);

	__u32 ip_len = h->v6 ? sizeof(struct ipv6hdr) : sizeof(struct iphdr);
	__u32 want = sizeof(struct ethhdr) + ip_len + 24;
	int delta = (int)want - (int)(ctx->data_end - ctx->data);
	if (delta && bpf_xdp_adjust_tail(ctx, delta))
		return XDP_ABORTED;

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	__u8 mac[ETH_ALEN];
	__builtin_memcpy(mac, eth->h_source, ETH_ALEN);
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, mac, ETH_ALEN);

	struct tcphdr *th;
	__u64 pseudo;
	if (h->v6) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) + 24 > data_end)
			return XDP_ABORTED;
		*(__be32 *)ip6 = bpf_htonl(0x60000000);
		ip6->payload_len = bpf_htons(24);
		ip6->nexthdr = IPPROTO_TCP;
		ip6->hop_limit = synack_ttl;
		__builtin_memcpy(&ip6->saddr, &h->ip.v6.daddr, 16);
		__builtin_memcpy(&ip6->daddr, &h->ip.v6.saddr, 16);
		pseudo = sum16(&ip6->saddr, 16) + bpf_htons(24) + bpf_htons(IPPROTO_TCP);
		th = (void *)(ip6 + 1);
	} else {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) + 24 > data_end)
			return XDP_ABORTED;
		ip->version = 4;
		ip->ihl = 5;
		ip->tos = 0;
		ip->tot_len = bpf_htons(sizeof(struct iphdr) + 24);
		ip->id = 0;
		ip->frag_off = bpf_htons(0x4000); /* DF */
		ip->ttl = synack_ttl;
		ip->protocol = IPPROTO_TCP;
		ip->check = 0;
		ip->saddr = h->ip.v4.daddr;
		ip->daddr = h->ip.v4.saddr;
		ip->check = fold(sum16(ip, 10));
		pseudo = sum16(&ip->saddr, 4) + bpf_htons(24) + bpf_htons(IPPROTO_TCP);
		th = (void *)(ip + 1);
	}

	__u8 *b = (void *)th;
	if ((void *)(b + 24) > data_end)
		return XDP_ABORTED;
	th->source = syn->dest;
	th->dest = syn->source;
	th->seq = bpf_htonl(cookie);
	th->ack_seq = bpf_htonl(bpf_ntohl(syn->seq) + 1);
	b[12] = 6 << 4; /* data offset: 24 bytes */
	b[13] = TH_SYN | TH_ACK;
	th->window = bpf_htons(65535);
	th->check = 0;
	th->urg_ptr = 0;
	b[20] = 2; /* TCPOPT_MSS */
	b[21] = 4;
	*(__be16 *)(b + 22) = bpf_htons(mss);
	th->check = fold(pseudo + sum16(th, 12));
	return count(SP_SYN, XDP_TX);
}

/* admit enters the connection of a good cookie's ACK into conntrack. */
static __always_inline void admit(struct xdp_md *ctx, struct bpf_sock_tuple *tup, __u32 size)
{
	struct bpf_ct_opts opts = { .netns_id = BPF_F_CURRENT_NETNS, .l4proto = IPPROTO_TCP };
	struct nf_conn___init *ci = bpf_xdp_ct_alloc(ctx, tup, size, &opts, sizeof(opts));

	if (!ci) {
		count(SP_INSERT_FAILED, 0);
		return;
	}
	bpf_ct_set_timeout(ci, established_ms);
	bpf_ct_set_status(ci, IPS_SEEN_REPLY | IPS_ASSURED);
	struct nf_conn *ct = bpf_ct_insert_entry(ci);
	if (!ct) {
		count(SP_INSERT_FAILED, 0);
		return;
	}
	count(SP_INSERTED, 0);
	bpf_ct_release(ct);
}

SEC("xdp")
int xdp_synproxy(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct hdrs h = {};

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > data_end)
			return XDP_DROP;
		if (ip->protocol != IPPROTO_TCP)
			return count(SP_NOT_TCP, XDP_PASS);
		/* No options, no fragments: TCP does not need them and they would hide the header. */
		if (ip->version != 4 || ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
			return count(SP_OTHER, XDP_DROP);
		__builtin_memcpy(&h.ip.v4, ip, sizeof(*ip));
		h.ip_off = sizeof(*eth) + sizeof(*ip);
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > data_end)
			return XDP_DROP;
		if (ip6->nexthdr != IPPROTO_TCP)
			return count(SP_NOT_TCP, XDP_PASS);
		__builtin_memcpy(&h.ip.v6, ip6, sizeof(*ip6));
		h.ip_off = sizeof(*eth) + sizeof(*ip6);
		h.v6 = 1;
	} else {
		return count(SP_NOT_TCP, XDP_PASS);
	}

	/* The TCP header, options included, onto the stack. */
	if (bpf_xdp_load_bytes(ctx, h.ip_off, h.tcp, 20))
		return count(SP_OTHER, XDP_DROP);
	__u32 doff = h.tcp[12] >> 4;
	if (doff < 5)
		return count(SP_OTHER, XDP_DROP);
	__u32 rest = (doff - 5) * 4;
	/* Hide what clang knows of rest, so that it keeps the bounds check the verifier needs. */
	asm volatile("" : "+r"(rest));
	if (rest) {
		if (rest > 40)
			return count(SP_OTHER, XDP_DROP);
		if (bpf_xdp_load_bytes(ctx, h.ip_off + 20, h.tcp + 20, rest))
			return count(SP_OTHER, XDP_DROP);
	}

	struct bpf_sock_tuple tup = {};
	__u32 tup_size;
	fill_tuple(&tup, &h, &tup_size);
	struct bpf_ct_opts opts = { .netns_id = BPF_F_CURRENT_NETNS, .l4proto = IPPROTO_TCP };
	struct nf_conn *ct = bpf_xdp_ct_lookup(ctx, &tup, tup_size, &opts, sizeof(opts));
	if (ct) {
		unsigned long status = ct->status;

		bpf_ct_release(ct);
		if (status & IPS_CONFIRMED)
			return count(SP_ESTABLISHED, XDP_PASS);
	} else if (opts.error != -ENOENT) {
		return XDP_ABORTED;
	}

	struct tcphdr *th = (void *)h.tcp;
	__u8 flags = h.tcp[13] & (TH_SYN | TH_ACK | TH_RST | TH_FIN);
	if (flags == TH_SYN) {
		if (protected_port && th->dest != bpf_htons(protected_port))
			return count(SP_UNPROTECTED, XDP_DROP);
		return answer_syn(ctx, &h, doff * 4);
	}
	if (flags == TH_ACK) {
		long ok = h.v6 ? bpf_tcp_raw_check_syncookie_ipv6(&h.ip.v6, th)
			       : bpf_tcp_raw_check_syncookie_ipv4(&h.ip.v4, th);
		if (ok)
			return count(SP_COOKIE_BAD, XDP_DROP);
		admit(ctx, &tup, tup_size);
		return count(SP_COOKIE_OK, XDP_PASS);
	}
	return count(SP_OTHER, XDP_DROP);
}

char LICENSE[] SEC("license") = "GPL";
