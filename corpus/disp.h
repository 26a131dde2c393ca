// SPDX-License-Identifier: GPL-2.0
/* disp.h: what the dispatcher components (disp_*.c) share.
 *
 * XDP_RUN_CONFIG declares a program's run configuration for libxdp's dispatcher as libxdp's
 * xdp/xdp_helpers.h does: a struct named _<function> in the section ".xdp_run_config", whose
 * members "priority" and XDP_<action> carry their values in BTF (__uint encodes a value as the
 * element count of an array type). libxdp reads it when it opens the object.
 */
#ifndef DISP_H
#define DISP_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define DISP_CAT(a, b) a##b
#define XDP_RUN_CONFIG(f) DISP_CAT(_, f) SEC(".xdp_run_config")

/* An array of n counters. */
#define COUNTERS(name, n)                          \
	struct {                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY);  \
		__uint(max_entries, n);            \
		__type(key, __u32);                \
		__type(value, __u64);              \
	} name SEC(".maps")

static __always_inline void bump(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* The IPv4 header of an untagged IPv4 frame, or NULL. */
static __always_inline struct iphdr *ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		return NULL;
	return ip;
}

#endif
