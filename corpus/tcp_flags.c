// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tcp_flags: TCP header checks, flag statistics and MSS clamping (IPv4 and IPv6).
 *  - a data offset below 5 or a header running past the frame is dropped;
 *  - flag combinations no stack sends (SYN+FIN, SYN+RST, no flags, FIN+PSH+URG, FIN without ACK)
 *    are dropped;
 *  - every flag byte is counted in a per-CPU hash;
 *  - on SYNs the options are walked; an MSS above max_mss is lowered to max_mss and the TCP
 *    checksum is fixed incrementally with bpf_csum_diff.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

#define TCPOPT_EOL_	0
#define TCPOPT_NOP_	1
#define TCPOPT_MSS_	2
#define MAX_TCP_OPTS	10

const volatile __u16 max_mss = 1360;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u8);
	__type(value, __u64);
} flag_counts SEC(".maps");

enum { TCP_SEEN, TCP_BAD_HEADER, TCP_BAD_FLAGS, TCP_MSS_SEEN, TCP_MSS_CLAMPED, TCP_BAD_OPTIONS, TCP_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, TCP_MAX);
	__type(key, __u32);
	__type(value, __u64);
} tcp_stats SEC(".maps");

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&tcp_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

static __always_inline __u16 csum_fold(__u64 csum)
{
	int i;

#pragma unroll
	for (i = 0; i < 4; i++)
		csum = (csum & 0xffff) + (csum >> 16);
	return (__u16)~csum;
}

static __always_inline int flags_invalid(__u8 f)
{
	if ((f & (F_SYN | F_FIN)) == (F_SYN | F_FIN))
		return 1;
	if ((f & (F_SYN | F_RST)) == (F_SYN | F_RST))
		return 1;
	if ((f & 0x3f) == 0)
		return 1;
	if ((f & (F_FIN | F_PSH | F_URG)) == (F_FIN | F_PSH | F_URG))
		return 1;
	if ((f & (F_FIN | F_ACK)) == F_FIN)
		return 1;
	return 0;
}

/* Finds the MSS option of the TCP header at tcp_off (hlen bytes) and clamps it.
 * Returns -1 for a malformed option list. */
static __always_inline int clamp_mss(struct xdp_md *ctx, __u32 tcp_off, __u32 hlen)
{
	__u32 pos = sizeof(struct tcphdr), i, win;
	__u8 opt[4], old[4], new[4];
	__u16 mss, check;
	__u64 sum;

	for (i = 0; i < MAX_TCP_OPTS; i++) {
		if (pos >= hlen)
			return 0;
		if (bpf_xdp_load_bytes(ctx, tcp_off + pos, opt, 1))
			return -1;
		if (opt[0] == TCPOPT_EOL_)
			return 0;
		if (opt[0] == TCPOPT_NOP_) {
			pos++;
			continue;
		}
		if (pos + 2 > hlen || bpf_xdp_load_bytes(ctx, tcp_off + pos, opt, 2))
			return -1;
		if (opt[1] < 2 || pos + opt[1] > hlen)
			return -1;
		if (opt[0] == TCPOPT_MSS_ && opt[1] == 4)
			break;
		pos += opt[1];
	}
	if (i == MAX_TCP_OPTS)
		return 0;

	if (bpf_xdp_load_bytes(ctx, tcp_off + pos, opt, 4))
		return -1;
	bump(TCP_MSS_SEEN);
	mss = (opt[2] << 8) | opt[3];
	if (mss <= max_mss)
		return 0;

	/* Sum a 4-byte window that starts on a 16-bit boundary of the segment and holds the MSS value. */
	win = (pos & 1) ? pos + 1 : pos;
	if (bpf_xdp_load_bytes(ctx, tcp_off + win, old, 4))
		return -1;
	__builtin_memcpy(new, old, 4);
	if (win == pos) {
		new[2] = max_mss >> 8;
		new[3] = max_mss & 0xff;
	} else {
		new[1] = max_mss >> 8;
		new[2] = max_mss & 0xff;
	}
	if (bpf_xdp_load_bytes(ctx, tcp_off + 16, &check, 2))
		return -1;
	sum = bpf_csum_diff((__be32 *)old, 4, (__be32 *)new, 4, ~check & 0xffff);
	check = csum_fold(sum);
	if (bpf_xdp_store_bytes(ctx, tcp_off + win, new, 4) ||
	    bpf_xdp_store_bytes(ctx, tcp_off + 16, &check, 2))
		return -1;
	bump(TCP_MSS_CLAMPED);
	return 0;
}

SEC("xdp")
int xdp_tcp_flags(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct tcphdr *tcp;
	__u32 tcp_off, hlen;
	__u64 *cnt, one = 1;
	__u8 flags;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end || iph->protocol != IPPROTO_TCP)
			return XDP_PASS;
		if (iph->frag_off & bpf_htons(0x1fff))
			return XDP_PASS;	/* no TCP header in later fragments */
		tcp_off = sizeof(*eth) + iph->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
			return XDP_PASS;
		tcp_off = sizeof(*eth) + sizeof(*ip6);
	} else {
		return XDP_PASS;
	}

	bump(TCP_SEEN);
	if (tcp_off > 14 + 60)
		goto bad_header;
	tcp = data + tcp_off;
	if ((void *)(tcp + 1) > data_end)
		goto bad_header;
	hlen = tcp->doff * 4;
	if (hlen < sizeof(*tcp) || data + tcp_off + hlen > data_end)
		goto bad_header;

	flags = ((__u8 *)tcp)[13];
	cnt = bpf_map_lookup_elem(&flag_counts, &flags);
	if (cnt)
		*cnt += 1;
	else
		bpf_map_update_elem(&flag_counts, &flags, &one, BPF_ANY);

	if (flags_invalid(flags)) {
		bump(TCP_BAD_FLAGS);
		return XDP_DROP;
	}
	if ((flags & F_SYN) && clamp_mss(ctx, tcp_off, hlen) < 0) {
		bump(TCP_BAD_OPTIONS);
		return XDP_DROP;
	}
	return XDP_PASS;

bad_header:
	bump(TCP_BAD_HEADER);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
