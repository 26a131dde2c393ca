/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Declarations of every kfunc xdpsim provides, for XDP programs to call. Include it after
 * <linux/bpf.h> (or vmlinux.h) and <bpf/bpf_helpers.h>.
 *
 * The RX metadata kfuncs are those of Linux 6.3+ (the VLAN tag 6.8+); the kernel lets only a
 * device-bound program call them (loaded with BPF_F_XDP_DEV_BOUND_ONLY and the device's ifindex).
 * The others belong to proposals that never merged into Linux and exist only in xdpsim, behind
 * `--feature traits` and `--feature export-to-skb`.
 */
#ifndef __XDPSIM_KFUNCS_H
#define __XDPSIM_KFUNCS_H

#include <linux/types.h>

#ifndef __ksym
#define __ksym __attribute__((section(".ksyms")))
#endif

struct xdp_md;

#ifndef __VMLINUX_H__
/* enum xdp_rss_hash_type (include/net/xdp.h): what the RSS hash covers. vmlinux.h has it already. */
enum xdp_rss_hash_type {
	XDP_RSS_L3_IPV4 = 1U << 0,
	XDP_RSS_L3_IPV6 = 1U << 1,
	XDP_RSS_L3_DYNHDR = 1U << 2,
	XDP_RSS_L4 = 1U << 3,
	XDP_RSS_L4_TCP = 1U << 4,
	XDP_RSS_L4_UDP = 1U << 5,
	XDP_RSS_L4_SCTP = 1U << 6,
	XDP_RSS_L4_IPSEC = 1U << 7,
	XDP_RSS_L4_ICMP = 1U << 8,

	XDP_RSS_TYPE_NONE = 0,
	XDP_RSS_TYPE_L2 = XDP_RSS_TYPE_NONE,
	XDP_RSS_TYPE_L3_IPV4 = XDP_RSS_L3_IPV4,
	XDP_RSS_TYPE_L3_IPV6 = XDP_RSS_L3_IPV6,
	XDP_RSS_TYPE_L3_IPV4_OPT = XDP_RSS_L3_IPV4 | XDP_RSS_L3_DYNHDR,
	XDP_RSS_TYPE_L3_IPV6_EX = XDP_RSS_L3_IPV6 | XDP_RSS_L3_DYNHDR,
	XDP_RSS_TYPE_L4_ANY = XDP_RSS_L4,
	XDP_RSS_TYPE_L4_IPV4_TCP = XDP_RSS_L3_IPV4 | XDP_RSS_L4 | XDP_RSS_L4_TCP,
	XDP_RSS_TYPE_L4_IPV4_UDP = XDP_RSS_L3_IPV4 | XDP_RSS_L4 | XDP_RSS_L4_UDP,
	XDP_RSS_TYPE_L4_IPV4_SCTP = XDP_RSS_L3_IPV4 | XDP_RSS_L4 | XDP_RSS_L4_SCTP,
	XDP_RSS_TYPE_L4_IPV4_IPSEC = XDP_RSS_L3_IPV4 | XDP_RSS_L4 | XDP_RSS_L4_IPSEC,
	XDP_RSS_TYPE_L4_IPV4_ICMP = XDP_RSS_L3_IPV4 | XDP_RSS_L4 | XDP_RSS_L4_ICMP,
	XDP_RSS_TYPE_L4_IPV6_TCP = XDP_RSS_L3_IPV6 | XDP_RSS_L4 | XDP_RSS_L4_TCP,
	XDP_RSS_TYPE_L4_IPV6_UDP = XDP_RSS_L3_IPV6 | XDP_RSS_L4 | XDP_RSS_L4_UDP,
	XDP_RSS_TYPE_L4_IPV6_SCTP = XDP_RSS_L3_IPV6 | XDP_RSS_L4 | XDP_RSS_L4_SCTP,
	XDP_RSS_TYPE_L4_IPV6_IPSEC = XDP_RSS_L3_IPV6 | XDP_RSS_L4 | XDP_RSS_L4_IPSEC,
	XDP_RSS_TYPE_L4_IPV6_ICMP = XDP_RSS_L3_IPV6 | XDP_RSS_L4 | XDP_RSS_L4_ICMP,
	XDP_RSS_TYPE_L4_IPV6_TCP_EX = XDP_RSS_TYPE_L4_IPV6_TCP | XDP_RSS_L3_DYNHDR,
	XDP_RSS_TYPE_L4_IPV6_UDP_EX = XDP_RSS_TYPE_L4_IPV6_UDP | XDP_RSS_L3_DYNHDR,
	XDP_RSS_TYPE_L4_IPV6_SCTP_EX = XDP_RSS_TYPE_L4_IPV6_SCTP | XDP_RSS_L3_DYNHDR,
};
#endif

/* XDP RX metadata (Linux). Each returns 0, -ENODATA (61: no data for this frame) or
 * -EOPNOTSUPP (95: the device does not supply this hint). */
extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash,
				    enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto,
					__u16 *vlan_tci) __ksym;

/* Packet traits (RFC, xdpsim only: --feature traits). Keys 0..63; values of 0, 4 or 8 bytes
 * (2, 4 or 8 with --feature traits-v1). -EOPNOTSUPP when the frame does not support traits. */
extern int bpf_xdp_trait_set(const struct xdp_md *xdp, __u64 key, const void *val, __u64 val__sz,
			     __u64 flags) __ksym;
extern int bpf_xdp_trait_is_set(const struct xdp_md *xdp, __u64 key) __ksym;
extern int bpf_xdp_trait_get(const struct xdp_md *xdp, __u64 key, void *val, __u64 val__sz) __ksym;
extern int bpf_xdp_trait_del(const struct xdp_md *xdp, __u64 key) __ksym;

/* Connection tracking (Linux: net/netfilter/nf_conntrack_bpf.c, nf_nat_bpf.c), for XDP (bpf_xdp_*)
 * and tc (bpf_skb_*) programs, over xdpsim's simulated conntrack table (--conntrack-in, --conntrack).
 * Lookups and allocations return NULL with opts->error set: -EINVAL (NULL tuple, opts__sz not 16 or
 * 12, reserved bytes set, netns_id below -1), -EPROTO (l4proto neither TCP nor UDP),
 * -EAFNOSUPPORT (tuple__sz neither 12 nor 36), -ENONET (another namespace), -ENOENT (no entry).
 * Every reference they return must reach bpf_ct_release (or, allocated, bpf_ct_insert_entry). */
#ifndef __VMLINUX_H__
struct bpf_ct_opts {
	__s32 netns_id;
	__s32 error;
	__u8 l4proto;
	__u8 dir;
	__u16 ct_zone_id;
	__u8 ct_zone_dir;
	__u8 reserved[3];
};

/* The fields of struct nf_conn a program may read (and mark, which it may write), relocated by
 * CO-RE against the kernel's BTF. */
struct nf_conn {
	__u32 timeout;
	unsigned long status;
	__u32 mark;
} __attribute__((preserve_access_index));

struct nf_conn___init {
	struct nf_conn ct;
} __attribute__((preserve_access_index));

union nf_inet_addr {
	__u32 all[4];
	__be32 ip;
	__be32 ip6[4];
};

enum nf_nat_manip_type {
	NF_NAT_MANIP_SRC,
	NF_NAT_MANIP_DST,
};

/* enum ip_conntrack_status, the bits a program tests and sets most. */
#define IPS_EXPECTED (1 << 0)
#define IPS_SEEN_REPLY (1 << 1)
#define IPS_ASSURED (1 << 2)
#define IPS_CONFIRMED (1 << 3)
#define IPS_SRC_NAT (1 << 4)
#define IPS_DST_NAT (1 << 5)
#define IPS_DYING (1 << 9)
#define IPS_FIXED_TIMEOUT (1 << 10)
#endif
#ifndef BPF_F_CURRENT_NETNS
#define BPF_F_CURRENT_NETNS (-1)
#endif
#define NF_BPF_CT_OPTS_SZ 16

struct bpf_sock_tuple;
struct __sk_buff;

extern struct nf_conn *bpf_xdp_ct_lookup(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *bpf_tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern struct nf_conn___init *bpf_xdp_ct_alloc(struct xdp_md *xdp_ctx, struct bpf_sock_tuple *bpf_tuple,
					       __u32 tuple__sz, struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern struct nf_conn *bpf_skb_ct_lookup(struct __sk_buff *skb_ctx, struct bpf_sock_tuple *bpf_tuple,
					 __u32 tuple__sz, struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern struct nf_conn___init *bpf_skb_ct_alloc(struct __sk_buff *skb_ctx, struct bpf_sock_tuple *bpf_tuple,
					       __u32 tuple__sz, struct bpf_ct_opts *opts, __u32 opts__sz) __ksym;
extern struct nf_conn *bpf_ct_insert_entry(struct nf_conn___init *nfct_i) __ksym;
extern void bpf_ct_release(struct nf_conn *nfct) __ksym;
extern void bpf_ct_set_timeout(struct nf_conn___init *nfct, __u32 timeout) __ksym;
extern int bpf_ct_change_timeout(struct nf_conn *nfct, __u32 timeout) __ksym;
extern int bpf_ct_set_status(const struct nf_conn___init *nfct, __u32 status) __ksym;
extern int bpf_ct_change_status(struct nf_conn *nfct, __u32 status) __ksym;
extern int bpf_ct_set_nat_info(struct nf_conn___init *nfct, union nf_inet_addr *addr, int port,
			       enum nf_nat_manip_type manip) __ksym;

/* Dynamic pointers (Linux: kernel/bpf/helpers.c, net/core/filter.c). bpf_dynptr_from_xdp names the
 * whole packet, fragments included (bpf_dynptr_from_skb, for tc programs, the whole skb);
 * bpf_dynptr_slice gives a pointer into it when the bytes lie in one piece and a copy in
 * buffer__opt otherwise. Linux 6.18 refuses bpf_dynptr_slice_rdwr to XDP and tc programs. The helpers bpf_dynptr_read, _write, _data and
 * bpf_dynptr_from_mem come with <bpf/bpf_helpers.h>. */
struct bpf_dynptr;

extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern int bpf_dynptr_from_skb(struct __sk_buff *s, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
			      __u32 buffer__szk) __ksym;
extern void *bpf_dynptr_slice_rdwr(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt,
				   __u32 buffer__szk) __ksym;
extern int bpf_dynptr_adjust(const struct bpf_dynptr *p, __u32 start, __u32 end) __ksym;
extern _Bool bpf_dynptr_is_null(const struct bpf_dynptr *p) __ksym;
extern _Bool bpf_dynptr_is_rdonly(const struct bpf_dynptr *p) __ksym;
extern __u32 bpf_dynptr_size(const struct bpf_dynptr *p) __ksym;
extern int bpf_dynptr_clone(const struct bpf_dynptr *p, struct bpf_dynptr *clone__uninit) __ksym;
extern int bpf_dynptr_copy(struct bpf_dynptr *dst_ptr, __u32 dst_off, struct bpf_dynptr *src_ptr,
			   __u32 src_off, __u32 size) __ksym;
extern int bpf_dynptr_memset(struct bpf_dynptr *p, __u32 offset, __u32 size, __u8 val) __ksym;

/* Open-coded numeric iterators (Linux: kernel/bpf/bpf_iter.c), behind libbpf's bpf_for() and
 * bpf_repeat(): bpf_iter_num_new(&it, start, end) gives start, start+1, ..., end-1 through
 * bpf_iter_num_next (NULL after the last); -EINVAL when start > end, -E2BIG for more than 8M.
 * <linux/bpf.h> of Linux 6.4+ and vmlinux.h define struct bpf_iter_num; with older headers define it
 * before including this one: struct bpf_iter_num { __u64 __opaque[1]; } __attribute__((aligned(8))); */
struct bpf_iter_num;
extern int bpf_iter_num_new(struct bpf_iter_num *it, int start, int end) __ksym;
extern int *bpf_iter_num_next(struct bpf_iter_num *it) __ksym;
extern void bpf_iter_num_destroy(struct bpf_iter_num *it) __ksym;

/* Critical sections (Linux: kernel/bpf/helpers.c): the verifier pairs them; at run time the
 * simulator has nothing to do for them. */
extern void bpf_rcu_read_lock(void) __ksym;
extern void bpf_rcu_read_unlock(void) __ksym;
extern void bpf_preempt_disable(void) __ksym;
extern void bpf_preempt_enable(void) __ksym;
extern void bpf_local_irq_save(unsigned long *flags__irq_flag) __ksym;
extern void bpf_local_irq_restore(unsigned long *flags__irq_flag) __ksym;

/* Linux 6.18: makes the packet's first len bytes linear (net/core/filter.c). 0 or -EINVAL. */
extern int bpf_xdp_pull_data(struct xdp_md *x, __u32 len) __ksym;

/* IPsec security associations (Linux: net/xfrm/xfrm_state_bpf.c). xdpsim's simulated host has
 * none: a lookup returns NULL with opts->error -ENOENT (-EINVAL when opts__sz is not 36 or
 * netns_id is below -1, -ENONET for another namespace). */
#ifndef __VMLINUX_H__
struct bpf_xfrm_state_opts {
	__s32 error;
	__s32 netns_id;
	__u32 mark;
	union {
		__be32 a4;
		__be32 a6[4];
	} daddr;
	__be32 spi;
	__u8 proto;
	__u16 family;
};

/* Opaque here; a full definition (not a forward declaration) so that loaders that check the
 * kfunc's prototype against the kernel's BTF find a struct where the kernel has one. */
struct xfrm_state {
} __attribute__((preserve_access_index));
#endif

extern struct xfrm_state *bpf_xdp_get_xfrm_state(struct xdp_md *ctx, struct bpf_xfrm_state_opts *opts,
						 __u32 opts__sz) __ksym;
extern void bpf_xdp_xfrm_state_release(struct xfrm_state *x) __ksym;

/* Export of the RX hints to the skb (RFC, xdpsim only: --feature export-to-skb): writes a
 * struct xdp_skb_metadata (xdp_skb_metadata.h) at data_meta, in front of the program's own
 * metadata. 0, -EOPNOTSUPP, -EEXIST (already exported) or -ENOSPC. */
extern int bpf_xdp_metadata_export_to_skb(const struct xdp_md *ctx) __ksym;

#endif /* __XDPSIM_KFUNCS_H */
