/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * struct xdp_skb_metadata: the metadata bpf_xdp_metadata_export_to_skb() writes at data_meta.
 *
 * xdpsim models this kfunc after Stanislav Fomichev's 2022 "xdp: hints via kfuncs" RFC, which never
 * merged into Linux; it exists only in xdpsim, behind `--feature export-to-skb`. The layout is
 * xdpsim's own (the RFC's struct held a magic number and the RX timestamp only, with a layout the
 * kernel randomised), fixed so that programs and AF_XDP consumers can read it:
 *
 *     data_meta                                             data
 *     | struct xdp_skb_metadata (32) | the program's metadata | packet ...
 *
 * A field is valid only when its bit is set in flags; the others are 0.
 */
#ifndef __XDP_SKB_METADATA_H
#define __XDP_SKB_METADATA_H

#include <linux/types.h>

/* The bytes "XSKB" in memory. */
#define XDP_SKB_METADATA_MAGIC 0x424b5358

/* Bits of flags: the same values as enum netdev_xdp_rx_metadata. */
#define XDP_SKB_META_TIMESTAMP (1U << 0) /* rx_timestamp is valid */
#define XDP_SKB_META_HASH      (1U << 1) /* rx_hash and rx_hash_type are valid */
#define XDP_SKB_META_VLAN      (1U << 2) /* vlan_proto and vlan_tci are valid */

struct xdp_skb_metadata {
	__u32 magic;        /* XDP_SKB_METADATA_MAGIC */
	__u32 reserved;     /* 0 */
	__u64 rx_timestamp; /* ns, as bpf_xdp_metadata_rx_timestamp() reads it */
	__u32 rx_hash;      /* as bpf_xdp_metadata_rx_hash() reads it */
	__u32 rx_hash_type; /* enum xdp_rss_hash_type */
	__be16 vlan_proto;  /* network byte order, as bpf_xdp_metadata_rx_vlan_tag() reads it */
	__u16 vlan_tci;     /* host byte order */
	__u32 flags;        /* XDP_SKB_META_* */
};

_Static_assert(sizeof(struct xdp_skb_metadata) == 32, "struct xdp_skb_metadata is 32 bytes");

#endif /* __XDP_SKB_METADATA_H */
