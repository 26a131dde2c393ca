// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* ipv4_options: validates IPv4 headers and walks their options.
 *  - bad version, IHL < 5, total length shorter than the header or longer than the frame: drop;
 *  - the header is copied out with bpf_xdp_load_bytes and its checksum verified with bpf_csum_diff;
 *  - options are walked (EOL, NOP, TLV); a malformed option list is dropped, so are the source-route
 *    options LSRR and SSRR; every option type seen is counted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define IPOPT_END_	0
#define IPOPT_NOOP_	1
#define IPOPT_RR_	7
#define IPOPT_TS_	68
#define IPOPT_LSRR_	131
#define IPOPT_SSRR_	137
#define IPOPT_RA_	148
#define MAX_OPT_WALK	12	/* option entries examined; the rest is not inspected */

/* one counter per option type */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} opt_seen SEC(".maps");

enum { V4_OK, V4_WITH_OPTIONS, V4_BAD_HEADER, V4_BAD_CSUM, V4_BAD_OPTION, V4_SOURCE_ROUTE, V4_NOT_IP,
       V4_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, V4_MAX);
	__type(key, __u32);
	__type(value, __u64);
} v4_stats SEC(".maps");

static __always_inline void bump(void *map, __u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(map, &idx);

	if (v)
		*v += 1;
}

static __always_inline __u16 fold(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

SEC("xdp")
int xdp_ipv4_options(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	__u32 ihl, hlen, optlen, off, sum, i;
	__u8 hdr[60];
	__u8 *opts;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP)) {
		bump(&v4_stats, V4_NOT_IP);
		return XDP_PASS;
	}
	if ((void *)(iph + 1) > data_end)
		goto bad_header;
	ihl = iph->ihl;
	hlen = ihl * 4;
	if (iph->version != 4 || ihl < 5 || bpf_ntohs(iph->tot_len) < hlen ||
	    (void *)iph + bpf_ntohs(iph->tot_len) > data_end)
		goto bad_header;

	/* Copy the header out and sum it with csum_diff: a correct header sums to 0xffff. */
	if (bpf_xdp_load_bytes(ctx, sizeof(*eth), hdr, hlen & 0x3c))
		goto bad_header;
	sum = bpf_csum_diff(0, 0, (__be32 *)hdr, hlen & 0x3c, 0);
	if (fold(sum) != 0xffff) {
		bump(&v4_stats, V4_BAD_CSUM);
		return XDP_DROP;
	}

	optlen = hlen - sizeof(*iph);
	if (optlen == 0) {
		bump(&v4_stats, V4_OK);
		return XDP_PASS;
	}
	bump(&v4_stats, V4_WITH_OPTIONS);

	opts = (__u8 *)(iph + 1);
	off = 0;
	for (i = 0; i < MAX_OPT_WALK; i++) {
		__u8 *p, type, len;

		if (off >= optlen)
			break;
		p = opts + off;
		if ((void *)(p + 1) > data_end)
			goto bad_option;
		type = p[0];
		bump(&opt_seen, type);
		if (type == IPOPT_END_)
			break;
		if (type == IPOPT_NOOP_) {
			off++;
			continue;
		}
		if ((void *)(p + 2) > data_end)
			goto bad_option;
		len = p[1];
		if (len < 2 || off + len > optlen)
			goto bad_option;
		if (type == IPOPT_LSRR_ || type == IPOPT_SSRR_) {
			bump(&v4_stats, V4_SOURCE_ROUTE);
			return XDP_DROP;
		}
		off += len;
	}
	return XDP_PASS;

bad_option:
	bump(&v4_stats, V4_BAD_OPTION);
	return XDP_DROP;
bad_header:
	bump(&v4_stats, V4_BAD_HEADER);
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
