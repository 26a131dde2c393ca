// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* perf_event: packet sampling through a perf event array (bpf_perf_event_output).
 *  - TCP SYNs and ICMP packets are sampled: a small header plus the first sample_len packet bytes
 *    (the upper 32 bits of the flags), on the current CPU's ring;
 *  - UDP datagrams to port 5555 ask for one byte more than the packet has: the helper refuses
 *    with -EFAULT;
 *  - the helper's return codes are counted; -ENOENT (no perf event open for this CPU: nobody is
 *    listening) is fine, any other failure is a bug in the sampler and the packet is aborted so
 *    that it shows up in the xdp_exception tracepoint.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u32 sample_len = 64;

struct sample_hdr {
	__u16 cookie;
	__u16 pkt_len;
	__u8 proto;
	__u8 pad[3];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__type(key, __u32);
	__type(value, __u32);
} samples SEC(".maps");

/* slot i counts return value -i (0 = success) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __u64);
} output_results SEC(".maps");

SEC("xdp")
int xdp_perf_event(struct xdp_md *ctx)
{
	void *data_end = (void *)(long)ctx->data_end;
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;
	struct iphdr *iph = (void *)(eth + 1);
	struct sample_hdr hdr = { .cookie = 0xdead };
	__u64 len = data_end - data, want, flags;
	__u32 slot;
	__u64 *v;
	long ret;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return XDP_PASS;
	if ((void *)(iph + 1) > data_end || iph->ihl != 5)
		return XDP_PASS;

	want = len < sample_len ? len : sample_len;
	if (iph->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(iph + 1);

		if ((void *)(tcp + 1) > data_end)
			return XDP_PASS;
		if (!tcp->syn)
			return XDP_PASS;
	} else if (iph->protocol == IPPROTO_UDP) {
		struct udphdr *udp = (void *)(iph + 1);

		if ((void *)(udp + 1) > data_end)
			return XDP_PASS;
		if (udp->dest != bpf_htons(5555))
			return XDP_PASS;
		want = len + 1;
	} else if (iph->protocol != IPPROTO_ICMP) {
		return XDP_PASS;
	}

	hdr.pkt_len = len;
	hdr.proto = iph->protocol;
	flags = BPF_F_CURRENT_CPU | (want << 32);
	ret = bpf_perf_event_output(ctx, &samples, flags, &hdr, sizeof(hdr));

	slot = ret <= 0 && ret > -32 ? -ret : 31;
	v = bpf_map_lookup_elem(&output_results, &slot);
	if (v)
		__sync_fetch_and_add(v, 1);
	if (ret < 0 && ret != -2 /* ENOENT */)
		return XDP_ABORTED;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
