// A program that calls every kfunc of include/xdpsim_kfuncs.h, to check that the headers compile
// for BPF (header_test.go builds it when clang-19 is at hand).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <stddef.h>

/* <linux/bpf.h> of Linux 6.1 lacks it (6.4+ has it). */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

#include "xdpsim_kfuncs.h"
#include "xdp_skb_metadata.h"

_Static_assert(offsetof(struct xdp_skb_metadata, rx_timestamp) == 8, "rx_timestamp at 8");
_Static_assert(offsetof(struct xdp_skb_metadata, rx_hash) == 16, "rx_hash at 16");
_Static_assert(offsetof(struct xdp_skb_metadata, rx_hash_type) == 20, "rx_hash_type at 20");
_Static_assert(offsetof(struct xdp_skb_metadata, vlan_proto) == 24, "vlan_proto at 24");
_Static_assert(offsetof(struct xdp_skb_metadata, vlan_tci) == 26, "vlan_tci at 26");
_Static_assert(offsetof(struct xdp_skb_metadata, flags) == 28, "flags at 28");

SEC("xdp")
int all_kfuncs(struct xdp_md *ctx)
{
	__u64 ts = 0, val = 0;
	__u32 hash = 0;
	enum xdp_rss_hash_type type = 0;
	__be16 proto = 0;
	__u16 tci = 0;
	int n = 0;

	n += bpf_xdp_metadata_rx_timestamp(ctx, &ts);
	n += bpf_xdp_metadata_rx_hash(ctx, &hash, &type);
	n += bpf_xdp_metadata_rx_vlan_tag(ctx, &proto, &tci);
	n += bpf_xdp_trait_set(ctx, 1, &val, sizeof(val), 0);
	n += bpf_xdp_trait_is_set(ctx, 1);
	n += bpf_xdp_trait_get(ctx, 1, &val, sizeof(val));
	n += bpf_xdp_trait_del(ctx, 1);
	n += bpf_xdp_metadata_export_to_skb(ctx);
	if (type == XDP_RSS_TYPE_L4_IPV4_TCP && proto == bpf_htons(0x8100))
		n++;

	struct bpf_sock_tuple tup = {};
	struct bpf_ct_opts opts = { .netns_id = BPF_F_CURRENT_NETNS, .l4proto = 6 };
	union nf_inet_addr addr = {};
	struct nf_conn *ct = bpf_xdp_ct_lookup(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	if (ct) {
		n += bpf_ct_change_timeout(ct, 1000);
		n += bpf_ct_change_status(ct, IPS_SEEN_REPLY);
		n += ct->status & IPS_CONFIRMED;
		bpf_ct_release(ct);
	}
	struct nf_conn___init *ci = bpf_xdp_ct_alloc(ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
	if (ci) {
		bpf_ct_set_timeout(ci, 1000);
		n += bpf_ct_set_status(ci, IPS_ASSURED);
		n += bpf_ct_set_nat_info(ci, &addr, 80, NF_NAT_MANIP_DST);
		ct = bpf_ct_insert_entry(ci);
		if (ct)
			bpf_ct_release(ct);
	}
	struct bpf_dynptr dp, clone;
	char buf[8] = {};
	if (!bpf_dynptr_from_xdp(ctx, 0, &dp)) {
		char *p = bpf_dynptr_slice(&dp, 0, buf, sizeof(buf));
		if (p)
			n += p[0];
		p = bpf_dynptr_slice_rdwr(&dp, 0, buf, sizeof(buf));
		if (p)
			p[0] = 1;
		n += bpf_dynptr_adjust(&dp, 0, 8);
		n += bpf_dynptr_is_null(&dp) + bpf_dynptr_is_rdonly(&dp) + bpf_dynptr_size(&dp);
		n += bpf_dynptr_clone(&dp, &clone);
		n += bpf_dynptr_copy(&dp, 0, &clone, 4, 2);
		n += bpf_dynptr_memset(&dp, 0, 2, 0xff);
	}
	struct bpf_xfrm_state_opts xo = { .netns_id = -1 };
	struct xfrm_state *xs = bpf_xdp_get_xfrm_state(ctx, &xo, sizeof(xo));
	if (xs)
		bpf_xdp_xfrm_state_release(xs);
	n += xo.error;
	struct bpf_iter_num it;
	int *v;
	bpf_iter_num_new(&it, 0, 3);
	while ((v = bpf_iter_num_next(&it)))
		n += *v;
	bpf_iter_num_destroy(&it);
	unsigned long irq;
	bpf_rcu_read_lock();
	bpf_rcu_read_unlock();
	bpf_preempt_disable();
	bpf_preempt_enable();
	bpf_local_irq_save(&irq);
	bpf_local_irq_restore(&irq);
	n += bpf_xdp_pull_data(ctx, 64);
	/* The tc variants, never reached: an XDP program may not call them (the test only reads
	 * the object's BTF). */
	if (n == 12345) {
		ct = bpf_skb_ct_lookup((struct __sk_buff *)ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
		if (ct)
			bpf_ct_release(ct);
		ci = bpf_skb_ct_alloc((struct __sk_buff *)ctx, &tup, sizeof(tup.ipv4), &opts, sizeof(opts));
		if (ci)
			bpf_ct_release((struct nf_conn *)ci);
		n += bpf_dynptr_from_skb((struct __sk_buff *)ctx, 0, &dp);
	}
	return n + (int)ts + (int)hash + tci > 0 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
