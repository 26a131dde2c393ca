// Where the kernel's sk_buff keeps a tc program's packet: tc_layout reads the sk_buff behind its
// __sk_buff (bpf_cast_to_kern_ctx) before and after one helper call chosen by cb[0], with the
// arguments cb[1] and cb[2], and leaves both readings in the map layout (key 0 before, key 1
// after), as offsets from skb->head. xdp_meta8 passes every frame with 8 bytes of metadata, so
// that on a veth the skb the stack builds from an XDP frame can be read at tc ingress too.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sk_buff {
	unsigned char *head;
	unsigned char *data;
	unsigned int len;
	unsigned int data_len;
	__u16 mac_header;
	__u16 network_header;
	__u16 transport_header;
	unsigned int tail;
	unsigned int end;
} __attribute__((preserve_access_index));

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;

struct layout {
	__u32 data;
	__u32 tail;
	__u32 end;
	__u32 mac, network, transport;
	__u32 len, data_len;
	__s32 ret;
	__u32 nr_frags;
	__u32 meta_len;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct layout);
} layout SEC(".maps");

static __always_inline void record(__u32 k, struct __sk_buff *ctx, struct sk_buff *skb, int ret)
{
	struct layout *l = bpf_map_lookup_elem(&layout, &k);
	if (!l)
		return;
	unsigned char *head = skb->head;
	__u8 nr = 0;

	l->data = skb->data - head;
	l->tail = skb->tail;
	l->end = skb->end;
	l->mac = skb->mac_header;
	l->network = skb->network_header;
	l->transport = skb->transport_header;
	l->len = skb->len;
	l->data_len = skb->data_len;
	l->ret = ret;
	bpf_probe_read_kernel(&nr, 1, head + skb->end + 2); // skb_shared_info.nr_frags
	l->nr_frags = nr;
	l->meta_len = (long)ctx->data - (long)ctx->data_meta;
}

SEC("tc")
int tc_layout(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	__u32 op = ctx->cb[0], arg = ctx->cb[1], arg2 = ctx->cb[2];
	int ret = 0;

	record(0, ctx, skb, 0);
	switch (op) {
	case 1:
		ret = bpf_skb_change_tail(ctx, arg, 0);
		break;
	case 2:
		ret = bpf_skb_change_head(ctx, arg, 0);
		break;
	case 3:
		ret = bpf_skb_adjust_room(ctx, (int)arg, arg2, 0);
		break;
	case 4:
		ret = bpf_skb_pull_data(ctx, arg);
		break;
	case 5:
		ret = bpf_skb_vlan_push(ctx, bpf_htons(0x8100), arg);
		if (!ret)
			ret = bpf_skb_vlan_push(ctx, bpf_htons(0x8100), arg2);
		break;
	case 6:
		ret = bpf_skb_change_proto(ctx, bpf_htons(arg), 0);
		break;
	}
	record(1, ctx, skb, ret);
	return 0;
}

SEC("xdp")
int xdp_meta8(struct xdp_md *ctx)
{
	if (bpf_xdp_adjust_meta(ctx, -8))
		return XDP_ABORTED;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
