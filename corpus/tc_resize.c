// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* tc_resize: changing the packet's length at both ends.
 *  - ICMP echo requests are padded to 128 bytes with bpf_skb_change_tail (zeroes) and their
 *    payload's first word stamped; frames over 1000 bytes are trimmed back to 1000;
 *  - IPv4 UDP to port 5555 gets a second Ethernet header in front (bpf_skb_change_head,
 *    MAC-in-MAC: the new outer header copies the inner addresses and says 0x88b5, the local
 *    experimental EtherType);
 *  - IPv6 frames are pulled into the linear part with bpf_skb_pull_data (the whole of it, and
 *    one byte more, which fails) before their last byte is read;
 *  - every helper result is counted, lengths summed.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __s64);
	__type(value, __u64);
} tc_resize_results SEC(".maps");

__u64 total_len_after;
__u64 last_bytes;

static __always_inline long note(long base, long ret)
{
	__s64 k = base * 1000 + ret;
	__u64 one = 1, *n = bpf_map_lookup_elem(&tc_resize_results, &k);

	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&tc_resize_results, &k, &one, BPF_NOEXIST);
	return ret;
}

SEC("tc")
int tc_resize(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	int ret = TC_ACT_OK;

	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (skb->len > 1000 && note(1, bpf_skb_change_tail(skb, 1000, 0)))
		return TC_ACT_SHOT;
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	eth = data;
	if ((void *)(eth + 1) > data_end)
		return TC_ACT_OK;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = (void *)(eth + 1);
		__u8 proto;

		if ((void *)(iph + 1) > data_end || iph->ihl != 5)
			goto out;
		proto = iph->protocol;
		if (proto == IPPROTO_ICMP && skb->len < 128) {
			__u32 stamp = 0x50ad0000 | skb->len;

			if (note(2, bpf_skb_change_tail(skb, 128, 0)))
				return TC_ACT_SHOT;
			note(3, bpf_skb_store_bytes(skb, ETH_HLEN + 20 + 8, &stamp, 4, 0));
		} else if (proto == IPPROTO_UDP) {
			__be16 *ports = (void *)(iph + 1);
			struct ethhdr outer;

			if ((void *)(ports + 2) > data_end || ports[1] != bpf_htons(5555))
				goto out;
			__builtin_memcpy(&outer, eth, 12);
			outer.h_proto = bpf_htons(0x88b5);
			if (note(4, bpf_skb_change_head(skb, ETH_HLEN, 0)))
				return TC_ACT_SHOT;
			note(5, bpf_skb_store_bytes(skb, 0, &outer, sizeof(outer), 0));
		}
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		__u8 last = 0;

		note(6, bpf_skb_pull_data(skb, 0));
		note(7, bpf_skb_pull_data(skb, skb->len + 1));
		if (!note(8, bpf_skb_load_bytes(skb, skb->len - 1, &last, 1)))
			last_bytes += last;
	}
out:
	total_len_after += skb->len;
	return ret;
}

char _license[] SEC("license") = "GPL";
