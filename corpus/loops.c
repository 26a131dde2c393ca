// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* loops: bpf_loop, bpf_for_each_map_elem and a bounded loop.
 *  - bpf_loop scans the UDP payload (IPv4) byte by byte through bpf_xdp_load_bytes, summing the
 *    bytes and looking for the 4-byte marker "EVIL": a payload holding it is dropped;
 *  - a bounded for loop counts the set bits of the source address into 33 buckets;
 *  - every 64th packet, bpf_for_each_map_elem walks the payload-sum buckets (array) and the
 *    per-port hash, recording the busiest bucket and how many ports were seen more than twice.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MARKER 0x4c495645	/* "EVIL" read as a big-endian word */
#define MAX_SCAN 2048
#define SUM_BUCKETS 16

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, SUM_BUCKETS);
	__type(key, __u32);
	__type(value, __u64);
} sum_buckets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 33);
	__type(key, __u32);
	__type(value, __u64);
} popcount SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} dports SEC(".maps");

/* .bss results */
__u64 packets;
__u64 markers_found;
__u64 bytes_scanned;
__u32 busiest_bucket;
__u64 busiest_count;
__u32 ports_seen_often;
__u32 walks;

struct scan_ctx {
	struct xdp_md *ctx;
	__u32 off;
	__u32 len;
	__u32 window;
	__u32 sum;
	int found;
};

static long scan_byte(__u32 i, struct scan_ctx *s)
{
	__u8 b;

	if (i >= s->len)
		return 1;
	if (bpf_xdp_load_bytes(s->ctx, s->off + i, &b, 1))
		return 1;
	s->sum += b;
	s->window = (s->window << 8) | b;
	if (i >= 3 && s->window == MARKER) {
		s->found = 1;
		return 1;
	}
	return 0;
}

struct walk_ctx {
	__u32 best_key;
	__u64 best;
	__u32 often;
};

static long visit_bucket(void *map, __u32 *key, __u64 *value, struct walk_ctx *w)
{
	if (*value > w->best) {
		w->best = *value;
		w->best_key = *key;
	}
	return 0;
}

static long visit_port(void *map, __u16 *key, __u64 *value, struct walk_ctx *w)
{
	if (*value > 2)
		w->often++;
	return 0;
}

SEC("xdp")
int xdp_loops(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct scan_ctx s = {};
	struct walk_ctx w = {};
	struct udphdr *udp;
	__u32 addr, bits = 0, i, k;
	__u64 *v, one = 1, n;

	n = __sync_fetch_and_add(&packets, 1) + 1;
	if (n % 64 == 0) {
		bpf_for_each_map_elem(&sum_buckets, visit_bucket, &w, 0);
		bpf_for_each_map_elem(&dports, visit_port, &w, 0);
		busiest_bucket = w.best_key;
		busiest_count = w.best;
		ports_seen_often = w.often;
		walks++;
	}

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl < 5)
		return XDP_DROP;

	addr = iph->saddr;
	for (i = 0; i < 32; i++)
		bits += (addr >> i) & 1;
	v = bpf_map_lookup_elem(&popcount, &bits);
	if (v)
		__sync_fetch_and_add(v, 1);

	if (iph->protocol != IPPROTO_UDP || (iph->frag_off & bpf_htons(0x1fff)))
		return XDP_PASS;
	udp = (void *)iph + iph->ihl * 4;
	if ((void *)(udp + 1) > data_end)
		return XDP_DROP;

	k = bpf_ntohs(udp->dest);
	v = bpf_map_lookup_elem(&dports, &k);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&dports, &k, &one, BPF_NOEXIST);

	s.ctx = ctx;
	s.off = (void *)(udp + 1) - data;
	s.len = data_end - (void *)(udp + 1);
	if (s.len > MAX_SCAN)
		s.len = MAX_SCAN;
	bpf_loop(s.len, scan_byte, &s, 0);
	__sync_fetch_and_add(&bytes_scanned, s.len);

	k = s.sum % SUM_BUCKETS;
	v = bpf_map_lookup_elem(&sum_buckets, &k);
	if (v)
		__sync_fetch_and_add(v, 1);

	if (s.found) {
		__sync_fetch_and_add(&markers_found, 1);
		bpf_printk("loops: marker in UDP payload to port %u", bpf_ntohs(udp->dest));
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
