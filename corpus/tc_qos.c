// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_qos: the writable __sk_buff fields and the hash, as a QoS classifier uses them.
 *  - the DSCP of IPv4 and IPv6 packets picks skb->priority, the class id (tc_classid), tc_index
 *    and a TX queue (queue_mapping; 0xffff, NO_QUEUE_MAPPING, is ignored by the kernel, which
 *    the program tries for bulk traffic and reads back);
 *  - a departure time is stamped into skb->tstamp (a base by class plus the length: the clock
 *    itself differs between the simulator's virtual time and the kernel's, so it is only checked
 *    for running) and read back;
 *  - ECN-capable packets of the bulk class are marked CE (bpf_skb_ecn_set_ce);
 *  - bpf_set_hash gives UDP a hash of the program's own, read back through skb->hash;
 *    bpf_get_hash_recalc's value (random per boot in the kernel) is only checked for being set;
 *    bpf_set_hash_invalid clears it for TCP;
 *  - mark and cb[] carry the class; what was read back is summed per class.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { Q_BULK, Q_BEST, Q_VIDEO, Q_VOICE, Q_MAX };

struct qos_seen {
	__u64 packets;
	__u64 prio;
	__u64 classid;
	__u64 tc_index;
	__u64 queue;
	__u64 tstamp_delta;
	__u64 ce_marked;
	__u64 hash_set;
	__u64 hash_recalc_nonzero;
	__u64 hash_after_invalid;
	__u64 clock_runs;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, Q_MAX);
	__type(key, __u32);
	__type(value, struct qos_seen);
} tc_qos_seen SEC(".maps");

SEC("tc")
int tc_qos(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct qos_seen *q;
	__u8 dscp = 0, proto = 0;
	__u32 class;
	__u64 now;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);

		if ((void *)(iph + 1) > data_end)
			return TC_ACT_OK;
		dscp = iph->tos >> 2;
		proto = iph->protocol;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);

		if ((void *)(ip6 + 1) > data_end)
			return TC_ACT_OK;
		dscp = (ip6->priority << 2) | (ip6->flow_lbl[0] >> 6);
		proto = ip6->nexthdr;
	} else {
		return TC_ACT_OK;
	}
	class = dscp >= 46 ? Q_VOICE : dscp >= 32 ? Q_VIDEO : dscp >= 8 ? Q_BEST : Q_BULK;
	if (proto == IPPROTO_UDP && class == Q_BULK)
		class = (skb->len & 3);
	q = bpf_map_lookup_elem(&tc_qos_seen, &class);
	if (!q)
		return TC_ACT_OK;
	q->packets++;
	skb->priority = 7 - class;
	skb->tc_classid = 0x10 + class;
	skb->tc_index = class * 3;
	skb->queue_mapping = class == Q_BULK ? 0xffff : class;
	skb->mark = 0xc0500 | class;
	skb->cb[1] = class;
	now = 1000000ull * (class + 1) + skb->len;
	q->clock_runs += bpf_ktime_get_ns() != 0;
	skb->tstamp = now + (Q_MAX - class) * 1000;
	q->prio += skb->priority;
	q->classid += skb->tc_classid;
	q->tc_index += skb->tc_index;
	q->queue += skb->queue_mapping;
	q->tstamp_delta += skb->tstamp - now;
	if (class == Q_BULK)
		q->ce_marked += bpf_skb_ecn_set_ce(skb);
	if (proto == IPPROTO_UDP) {
		bpf_set_hash(skb, 0x5eed0000 | class);
		q->hash_set += skb->hash;
	}
	q->hash_recalc_nonzero += bpf_get_hash_recalc(skb) != 0;
	if (proto == IPPROTO_TCP) {
		bpf_set_hash_invalid(skb);
		q->hash_after_invalid += skb->hash;
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
