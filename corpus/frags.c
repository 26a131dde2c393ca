// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* frags: a multi-buffer (xdp.frags) program for jumbo frames.
 *  - bpf_xdp_get_buff_len gives the whole length, linear part plus fragments;
 *  - IPv4 UDP datagrams to check_port end in a 4-byte trailer: the big-endian sum of all UDP
 *    payload bytes before it. The payload is summed 8 bytes at a time with bpf_xdp_load_bytes
 *    inside bpf_loop (reads that cross from the linear part into fragments), and the trailer read
 *    from the very end; a wrong sum drops the frame;
 *  - a verified frame gets "OK" stamped into the last two payload bytes before the trailer
 *    (bpf_xdp_store_bytes, usually inside a fragment);
 *  - UDP to grow_port grows by 4 bytes (into the last fragment's tailroom when there is one);
 *  - frames longer than max_len are cut down to max_len with a negative bpf_xdp_adjust_tail.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 check_port = 9000;
const volatile __u16 grow_port = 9001;
const volatile __u32 max_len = 8000;

enum { FG_FRAMES, FG_MULTI_BUFFER, FG_CHECKED_OK, FG_CHECKED_BAD, FG_GROWN, FG_GROW_FAILED, FG_TRIMMED,
       FG_TRIM_FAILED, FG_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FG_MAX);
	__type(key, __u32);
	__type(value, __u64);
} frag_stats SEC(".maps");

/* .bss: the largest frame seen and the last sum computed */
__u32 largest;
__u32 last_sum;

static __always_inline void bump(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&frag_stats, &idx);

	if (v)
		__sync_fetch_and_add(v, 1);
}

struct sum_ctx {
	struct xdp_md *ctx;
	__u32 off;	/* first payload byte */
	__u32 len;	/* payload bytes to sum */
	__u32 sum;
	int err;
};

static long sum_chunk(__u32 i, struct sum_ctx *s)
{
	__u32 pos = i * 8, n, k;
	__u8 buf[8];

	if (pos >= s->len)
		return 1;
	n = s->len - pos;
	if (n >= 8) {
		if (bpf_xdp_load_bytes(s->ctx, s->off + pos, buf, 8)) {
			s->err = 1;
			return 1;
		}
		for (k = 0; k < 8; k++)
			s->sum += buf[k];
		return 0;
	}
	/* the tail, byte by byte */
	for (k = 0; k < 7; k++) {
		if (k >= n)
			break;
		if (bpf_xdp_load_bytes(s->ctx, s->off + pos + k, buf, 1)) {
			s->err = 1;
			return 1;
		}
		s->sum += buf[0];
	}
	return 1;
}

SEC("xdp.frags")
int xdp_frags(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	__u32 len = bpf_xdp_get_buff_len(ctx);
	struct ethhdr eth;
	struct iphdr iph;
	struct udphdr udp;
	struct sum_ctx s = {};
	__u32 l4_off, trailer;
	__u16 ulen;

	bump(FG_FRAMES);
	if (len > data_end - data)
		bump(FG_MULTI_BUFFER);
	if (len > largest)
		largest = len;

	if (bpf_xdp_load_bytes(ctx, 0, &eth, sizeof(eth)))
		return XDP_DROP;
	if (eth.h_proto != bpf_htons(ETH_P_IP))
		goto trim;
	if (bpf_xdp_load_bytes(ctx, sizeof(eth), &iph, sizeof(iph)) || iph.ihl < 5)
		return XDP_DROP;
	if (iph.protocol != IPPROTO_UDP || (iph.frag_off & bpf_htons(0x1fff)))
		goto trim;
	l4_off = sizeof(eth) + iph.ihl * 4;
	if (bpf_xdp_load_bytes(ctx, l4_off, &udp, sizeof(udp)))
		return XDP_DROP;
	ulen = bpf_ntohs(udp.len);

	if (udp.dest == bpf_htons(check_port)) {
		if (ulen < sizeof(udp) + 4 || l4_off + ulen > len) {
			bump(FG_CHECKED_BAD);
			return XDP_DROP;
		}
		s.ctx = ctx;
		s.off = l4_off + sizeof(udp);
		s.len = ulen - sizeof(udp) - 4;
		bpf_loop((s.len + 7) / 8, sum_chunk, &s, 0);
		if (bpf_xdp_load_bytes(ctx, l4_off + ulen - 4, &trailer, 4) || s.err ||
		    bpf_ntohl(trailer) != s.sum) {
			bump(FG_CHECKED_BAD);
			return XDP_DROP;
		}
		last_sum = s.sum;
		bump(FG_CHECKED_OK);
		if (s.len >= 2) {
			const char ok[2] = { 'O', 'K' };

			if (bpf_xdp_store_bytes(ctx, l4_off + ulen - 6, (void *)ok, 2))
				return XDP_ABORTED;
		}
	} else if (udp.dest == bpf_htons(grow_port)) {
		if (bpf_xdp_adjust_tail(ctx, 4)) {
			bump(FG_GROW_FAILED);
		} else {
			const char tag[4] = { 'G', 'R', 'E', 'W' };

			len = bpf_xdp_get_buff_len(ctx);
			if (bpf_xdp_store_bytes(ctx, len - 4, (void *)tag, 4))
				return XDP_ABORTED;
			bump(FG_GROWN);
		}
	}

trim:
	len = bpf_xdp_get_buff_len(ctx);
	if (len > max_len) {
		if (bpf_xdp_adjust_tail(ctx, (int)max_len - (int)len))
			bump(FG_TRIM_FAILED);
		else
			bump(FG_TRIMMED);
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
