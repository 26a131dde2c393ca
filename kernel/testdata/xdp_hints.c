// xdp_hints asks the driver for every RX-metadata hint and records, for each
// packet in arrival order, what the kfuncs returned; it needs a device-bound
// load. The verdict depends on the EtherType: IPv4 passes, IPv6 is dropped,
// ARP is sent back, anything else aborts.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

// From the kernel's include/net/xdp.h (not in the UAPI headers); the kfunc's
// BTF names the enum, so it is declared under the same name.
enum xdp_rss_hash_type {
	XDP_RSS_TYPE_NONE = 0,
	XDP_RSS_TYPE_L4_ANY = 8,
};

extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, __u16 *vlan_tci) __ksym;

struct seen {
	__s32 ts_ret;
	__s32 hash_ret;
	__s32 vlan_ret;
	__u32 rss_type;
	__u64 ts;
	__u32 ingress_ifindex;
	__u32 rx_queue;
	__u32 len;
	__u32 hash_nonzero;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

__u32 packets;

SEC("xdp")
int xdp_hints(struct xdp_md *ctx)
{
	__u32 i = packets++;
	struct seen *s = bpf_map_lookup_elem(&seen, &i);
	if (s) {
		__u64 ts = 0;
		__u32 hash = 0;
		enum xdp_rss_hash_type rss = 0;
		__be16 proto = 0;
		__u16 tci = 0;

		s->ts_ret = bpf_xdp_metadata_rx_timestamp(ctx, &ts);
		s->ts = ts;
		s->hash_ret = bpf_xdp_metadata_rx_hash(ctx, &hash, &rss);
		s->rss_type = rss;
		s->hash_nonzero = hash != 0;
		s->vlan_ret = bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
		s->ingress_ifindex = ctx->ingress_ifindex;
		s->rx_queue = ctx->rx_queue_index;
		s->len = ctx->data_end - ctx->data;
	}

	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;
	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP):
		return XDP_PASS;
	case bpf_htons(ETH_P_IPV6):
		return XDP_DROP;
	case bpf_htons(ETH_P_ARP):
		return XDP_TX;
	}
	return XDP_ABORTED;
}

char _license[] SEC("license") = "GPL";
