// SPDX-License-Identifier: GPL-2.0
//go:build ignore
// (The constraint above keeps the Go tool from treating this BPF source as cgo.)
/* skb: a tc program that reads and writes its __sk_buff, narrow loads and tstamp included, calls
 * a bpf-to-bpf function with the context, and writes packet data directly, so that the xlated
 * program has the kernel's prologue in front, expanded loads and stores, and moved branches.
 * skb_tstamp_type reads tstamp_type, which makes tstamp a plain field for it.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

static __noinline int wire(struct __sk_buff *skb)
{
	return skb->wire_len + skb->gso_segs + skb->gso_size;
}

SEC("tc")
int skb_fields(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u64 sum = skb->len + skb->pkt_type + skb->mark + skb->queue_mapping + skb->protocol +
		    skb->vlan_present + skb->vlan_tci + skb->vlan_proto + skb->priority +
		    skb->ingress_ifindex + skb->ifindex + skb->tc_index + skb->hash + skb->tc_classid +
		    skb->napi_id + skb->hwtstamp;
	int i;

	sum += *(volatile __u8 *)&skb->mark + *((volatile __u16 *)&skb->len + 1);
	for (i = 0; i < 5; i++)
		sum += skb->cb[i];
	sum += wire(skb);
	if (skb->tstamp > 100)
		skb->tstamp = 100;
	skb->mark = sum;
	skb->priority = 3;
	skb->tc_index = 7;
	skb->tc_classid = 0x10;
	skb->queue_mapping = sum & 7;
	skb->cb[2] = sum >> 32;
	if (data + 14 <= (__u8 *)data_end)
		data[0] = sum;
	return TC_ACT_OK;
}

SEC("tc")
int skb_tstamp_type(struct __sk_buff *skb)
{
	if (skb->tstamp_type)
		skb->tstamp = skb->tstamp + 1;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
