// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* traits: the packet-traits kfuncs of the "traits: Per packet metadata KV store" RFC (Arthur Fabre,
 * 2025), which never merged into Linux: xdpsim runs them behind --feature traits (the v2 layout:
 * values of 0, 4 or 8 bytes, traits and XDP metadata exclusive) or --feature traits-v1 (2, 4 or 8
 * bytes, beside the metadata). Every result is counted in `results` by (step, return value).
 *  - IPv4: every operation and every error: bpf_xdp_trait_set with a 0-byte flag, 4, 8 and 2 bytes
 *    (v1 only), key 64 and a 3-byte value (-EINVAL), a set key with another length (-EBUSY), an
 *    overwrite; trait_is_set (1, 0, -EINVAL); trait_get (the length, into a buffer too small:
 *    -ENOSPC, unset: -ENOENT, key 64); trait_del (0, twice: -ENOENT, key 64), and the values
 *    after a delete. The flag (v2) or the 2-byte trait (v1), an 8-byte constant, the IPv4 source
 *    address and the frame length stay set and travel with XDP_PASS to the skb.
 *  - IPv4 UDP then shows bpf_xdp_adjust_head against the store: the headroom ends at the end of
 *    the traits, so a push 4 bytes past it fails, a push to it succeeds and leaves no room for a
 *    new trait (-ENOSPC) while a same-length overwrite still works; after the pull back there
 *    is room again.
 *  - IPv6: bpf_xdp_adjust_meta first (8 bytes of metadata), then a trait: v2 refuses traits
 *    from then on (-EOPNOTSUPP); v1 keeps both.
 *  - ARP: a trait first, then bpf_xdp_adjust_meta: v2 refuses the metadata (-ENOTSUPP, 524)
 *    and keeps the trait; v1 keeps both.
 *  - other EtherTypes: a trait is set and the frame dropped (traits travel only with the frame).
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdpsim_kfuncs.h>

/* The trait keys this program uses. */
enum {
	K_FLAG = 1,	/* a flag: 0 bytes (v2) */
	K_U32 = 2,	/* 4 bytes, overwritten, then deleted */
	K_U64 = 3,	/* 8 bytes: U64_VALUE */
	K_U16 = 4,	/* 2 bytes (v1) */
	K_DROP = 5,	/* set on frames that are dropped */
	K_V6 = 7,	/* IPv6, after adjust_meta */
	K_SADDR = 10,	/* the IPv4 source address */
	K_ARP = 11,	/* ARP, before adjust_meta */
	K_ROOM = 20,	/* set while there is no room, and after */
	K_LEN = 63,	/* the frame length, as a u64 */
	K_BAD = 64,	/* one past the last key */
};

#define U64_VALUE 0x0123456789abcdefULL
#define STORE_HDR 16 /* the store's header: two 64-bit bitmaps */

/* The steps, in the order they run. */
enum {
	S_SET_FLAG,		/* set(K_FLAG, 0 bytes): v2 0, v1 -EINVAL */
	S_SET_U32,		/* set(K_U32, 4 bytes): 0 */
	S_SET_U64,		/* set(K_U64, 8 bytes): 0 */
	S_SET_U16,		/* set(K_U16, 2 bytes): v2 -EINVAL, v1 0 */
	S_SET_KEY64,		/* set(64, 4 bytes): -EINVAL */
	S_SET_LEN3,		/* set(K_ROOM, 3 bytes): -EINVAL */
	S_SET_OTHER_LEN,	/* set(K_U32, 8 bytes): -EBUSY */
	S_SET_OVERWRITE,	/* set(K_U32, 4 bytes) again: 0 */
	S_IS_SET,		/* is_set(K_U32): 1 */
	S_IS_SET_UNSET,		/* is_set(K_ROOM): 0 */
	S_IS_SET_KEY64,		/* is_set(64): -EINVAL */
	S_GET_U64,		/* get(K_U64, 8 bytes): 8 */
	S_GET_U64_VALUE,	/* 1 when the value read back is U64_VALUE */
	S_GET_SMALL,		/* get(K_U64, 4 bytes): -ENOSPC */
	S_GET_FLAG,		/* get(K_FLAG, 8 bytes): v2 0 (a flag has no value), v1 -ENOENT */
	S_GET_U32,		/* get(K_U32, 8 bytes): 4 */
	S_GET_U32_VALUE,	/* 1 when the value read back is the overwritten one */
	S_GET_UNSET,		/* get(K_ROOM): -ENOENT */
	S_GET_KEY64,		/* get(64): -EINVAL */
	S_DEL_U32,		/* del(K_U32): 0 */
	S_DEL_AGAIN,		/* del(K_U32): -ENOENT */
	S_DEL_KEY64,		/* del(64): -EINVAL */
	S_IS_SET_DELETED,	/* is_set(K_U32): 0 */
	S_GET_AFTER_DEL,	/* get(K_U64) after the values moved: 8 */
	S_GET_AFTER_DEL_VALUE,	/* 1 when it still reads U64_VALUE */
	S_SET_SADDR,		/* set(K_SADDR, 4 bytes): 0 */
	S_SET_LEN,		/* set(K_LEN, 8 bytes): 0 */
	/* IPv4 UDP: adjust_head against the store */
	S_HEAD_PAST_STORE,	/* adjust_head 4 bytes into the store: -EINVAL */
	S_HEAD_TO_STORE,	/* adjust_head down to the store's end: 0 */
	S_SET_NO_ROOM,		/* set(K_ROOM, 4 bytes): -ENOSPC */
	S_SET_SAME_NO_ROOM,	/* set(K_U64, 8 bytes), an overwrite: 0 */
	S_HEAD_BACK,		/* adjust_head back: 0 */
	S_SET_ROOM,		/* set(K_ROOM, 4 bytes): 0 */
	S_DEL_ROOM,		/* del(K_ROOM): 0 */
	/* IPv6: metadata first */
	S_V6_META,		/* adjust_meta(-8): 0 */
	S_V6_SET,		/* set(K_V6, 4 bytes): v2 -EOPNOTSUPP, v1 0 */
	S_V6_IS_SET,		/* is_set(K_V6): v2 -EOPNOTSUPP, v1 1 */
	/* ARP: a trait first */
	S_ARP_SET,		/* set(K_ARP, 8 bytes): 0 */
	S_ARP_META,		/* adjust_meta(-8): v2 -ENOTSUPP (524), v1 0 */
	/* other EtherTypes */
	S_DROP_SET,		/* set(K_DROP, 4 bytes): 0 */
	S_MAX
};

struct result_key {
	__u32 step;
	__s32 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct result_key);
	__type(value, __u64);
} results SEC(".maps");

static __always_inline int record(__u32 step, int ret)
{
	struct result_key k = { .step = step, .ret = ret };
	__u64 one = 1, *v = bpf_map_lookup_elem(&results, &k);

	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&results, &k, &one, BPF_NOEXIST);
	return ret;
}

/* The metadata IPv6 and ARP frames carry. */
struct trait_meta {
	__u32 mark;
	__u32 len;
};

static __always_inline int add_meta(struct xdp_md *ctx, __u32 mark)
{
	int ret = bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct trait_meta));
	struct trait_meta *m;

	if (ret)
		return ret;
	m = (void *)(long)ctx->data_meta;
	if ((void *)(m + 1) > (void *)(long)ctx->data)
		return -1;
	m->mark = mark;
	m->len = ctx->data_end - ctx->data;
	return 0;
}

/* Every operation on an IPv4 frame; returns the bytes the store holds afterwards. */
static __always_inline int sweep(struct xdp_md *ctx, __be32 saddr, int have_saddr)
{
	__u64 u64 = U64_VALUE, out = 0, len = ctx->data_end - ctx->data;
	__u32 u32 = 0xa1b2c3d4, out32 = 0;
	__u16 u16 = 0xbeef;
	__u8 three[3] = { 1, 2, 3 };
	int store = STORE_HDR, ret;

	record(S_SET_FLAG, bpf_xdp_trait_set(ctx, K_FLAG, &u64, 0, 0)); /* a flag takes no bytes */
	if (record(S_SET_U32, bpf_xdp_trait_set(ctx, K_U32, &u32, sizeof(u32), 0)) == 0)
		store += 4;
	if (record(S_SET_U64, bpf_xdp_trait_set(ctx, K_U64, &u64, sizeof(u64), 0)) == 0)
		store += 8;
	if (record(S_SET_U16, bpf_xdp_trait_set(ctx, K_U16, &u16, sizeof(u16), 0)) == 0)
		store += 2;
	record(S_SET_KEY64, bpf_xdp_trait_set(ctx, K_BAD, &u32, sizeof(u32), 0));
	record(S_SET_LEN3, bpf_xdp_trait_set(ctx, K_ROOM, three, sizeof(three), 0));
	record(S_SET_OTHER_LEN, bpf_xdp_trait_set(ctx, K_U32, &u64, sizeof(u64), 0));
	u32 = 0x11223344;
	record(S_SET_OVERWRITE, bpf_xdp_trait_set(ctx, K_U32, &u32, sizeof(u32), 0));

	record(S_IS_SET, bpf_xdp_trait_is_set(ctx, K_U32));
	record(S_IS_SET_UNSET, bpf_xdp_trait_is_set(ctx, K_ROOM));
	record(S_IS_SET_KEY64, bpf_xdp_trait_is_set(ctx, K_BAD));

	record(S_GET_U64, bpf_xdp_trait_get(ctx, K_U64, &out, sizeof(out)));
	record(S_GET_U64_VALUE, out == U64_VALUE);
	record(S_GET_SMALL, bpf_xdp_trait_get(ctx, K_U64, &out32, sizeof(out32)));
	record(S_GET_FLAG, bpf_xdp_trait_get(ctx, K_FLAG, &out, sizeof(out)));
	out = 0;
	record(S_GET_U32, bpf_xdp_trait_get(ctx, K_U32, &out, sizeof(out)));
	record(S_GET_U32_VALUE, out == 0x11223344);
	record(S_GET_UNSET, bpf_xdp_trait_get(ctx, K_ROOM, &out, sizeof(out)));
	record(S_GET_KEY64, bpf_xdp_trait_get(ctx, K_BAD, &out, sizeof(out)));

	if (record(S_DEL_U32, bpf_xdp_trait_del(ctx, K_U32)) == 0)
		store -= 4;
	record(S_DEL_AGAIN, bpf_xdp_trait_del(ctx, K_U32));
	record(S_DEL_KEY64, bpf_xdp_trait_del(ctx, K_BAD));
	record(S_IS_SET_DELETED, bpf_xdp_trait_is_set(ctx, K_U32));
	out = 0;
	record(S_GET_AFTER_DEL, bpf_xdp_trait_get(ctx, K_U64, &out, sizeof(out)));
	record(S_GET_AFTER_DEL_VALUE, out == U64_VALUE);

	if (have_saddr) {
		ret = record(S_SET_SADDR, bpf_xdp_trait_set(ctx, K_SADDR, &saddr, sizeof(saddr), 0));
		if (ret == 0)
			store += 4;
	}
	if (record(S_SET_LEN, bpf_xdp_trait_set(ctx, K_LEN, &len, sizeof(len), 0)) == 0)
		store += 8;
	return store;
}

/* bpf_xdp_adjust_head against the traits store: the headroom now ends where the store ends. */
static __always_inline void head_room(struct xdp_md *ctx, int store)
{
	/* data starts XDP_PACKET_HEADROOM (256) bytes after data_hard_start, and may go down to
	 * the end of the store, which starts after the 40-byte struct xdp_frame. */
	int room = 256 - 40 - store;
	__u64 u64 = U64_VALUE;
	__u32 u32 = 0x5a5a5a5a;

	record(S_HEAD_PAST_STORE, bpf_xdp_adjust_head(ctx, -(room + 4)));
	if (record(S_HEAD_TO_STORE, bpf_xdp_adjust_head(ctx, -room)) != 0)
		return;
	record(S_SET_NO_ROOM, bpf_xdp_trait_set(ctx, K_ROOM, &u32, sizeof(u32), 0));
	record(S_SET_SAME_NO_ROOM, bpf_xdp_trait_set(ctx, K_U64, &u64, sizeof(u64), 0));
	record(S_HEAD_BACK, bpf_xdp_adjust_head(ctx, room));
	record(S_SET_ROOM, bpf_xdp_trait_set(ctx, K_ROOM, &u32, sizeof(u32), 0));
	record(S_DEL_ROOM, bpf_xdp_trait_del(ctx, K_ROOM));
}

SEC("xdp")
int xdp_traits(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	__u64 arp = 0xa2a2a2a2a2a2a2a2ULL;
	__u32 v6 = 0x66666666, drop = 0xd0d0d0d0;

	if ((void *)(eth + 1) > data_end)
		return XDP_ABORTED;

	switch (eth->h_proto) {
	case bpf_htons(ETH_P_IP): {
		struct iphdr *iph = (void *)(eth + 1);
		int have_ip = (void *)(iph + 1) <= data_end;
		__be32 saddr = have_ip ? iph->saddr : 0;
		int udp = have_ip && iph->protocol == IPPROTO_UDP;
		int store = sweep(ctx, saddr, have_ip);

		if (udp)
			head_room(ctx, store);
		return XDP_PASS;
	}
	case bpf_htons(ETH_P_IPV6):
		record(S_V6_META, add_meta(ctx, 0x6));
		record(S_V6_SET, bpf_xdp_trait_set(ctx, K_V6, &v6, sizeof(v6), 0));
		record(S_V6_IS_SET, bpf_xdp_trait_is_set(ctx, K_V6));
		return XDP_PASS;
	case bpf_htons(ETH_P_ARP):
		record(S_ARP_SET, bpf_xdp_trait_set(ctx, K_ARP, &arp, sizeof(arp), 0));
		record(S_ARP_META, add_meta(ctx, 0xa));
		return XDP_PASS;
	}
	record(S_DROP_SET, bpf_xdp_trait_set(ctx, K_DROP, &drop, sizeof(drop), 0));
	return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
