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

/* Export of the RX hints to the skb (RFC, xdpsim only: --feature export-to-skb): writes a
 * struct xdp_skb_metadata (xdp_skb_metadata.h) at data_meta, in front of the program's own
 * metadata. 0, -EOPNOTSUPP, -EEXIST (already exported) or -ENOSPC. */
extern int bpf_xdp_metadata_export_to_skb(const struct xdp_md *ctx) __ksym;

#endif /* __XDPSIM_KFUNCS_H */
