// SPDX-License-Identifier: GPL-2.0
/* netkit_probe: programs for the tests of a simulated network's hooks (network_test.go). Each
 * probe N records what it sees of the skb in seen[N*16 ...] and returns what cfg[N*4] holds; with
 * cfg[N*4+1] = 1 it first calls bpf_redirect(cfg[N*4+2], cfg[N*4+3]), with 2 bpf_redirect_peer
 * (cfg[N*4+2], 0), with 3 bpf_redirect_neigh(cfg[N*4+2], NULL, 0, 0), and returns that helper's
 * result. setter writes mark, priority and tstamp from cfg[32..34] and returns cfg[35]. The
 * probes sit in section "tc": the simulator, as the kernel, attaches a SCHED_CLS program to any
 * tcx or netkit hook whatever its expected attach type. xdp_probe returns cfg[40], or with
 * cfg[41] set bpf_redirect(cfg[41], 0).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 48);
	__type(key, __u32);
	__type(value, __s64);
} cfg SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline __s64 get(__u32 k)
{
	__s64 *v = bpf_map_lookup_elem(&cfg, &k);

	return v ? *v : 0;
}

static __always_inline void put(__u32 k, __u64 x)
{
	bpf_map_update_elem(&seen, &k, &x, BPF_ANY);
}

static __always_inline int probe(struct __sk_buff *skb, __u32 n)
{
	__u32 b = n * 16;
	__u64 *runs;
	__u32 k = b;
	__s64 action = get(n * 4 + 1), target = get(n * 4 + 2);

	runs = bpf_map_lookup_elem(&seen, &k);
	if (runs)
		__sync_fetch_and_add(runs, 1);
	put(b + 1, skb->mark);
	put(b + 2, skb->priority);
	put(b + 3, skb->ingress_ifindex);
	put(b + 4, skb->ifindex);
	put(b + 5, skb->pkt_type);
	put(b + 6, skb->protocol);
	put(b + 7, skb->len);
	put(b + 8, skb->tstamp);
	put(b + 9, skb->data_end - skb->data);
	if (action == 1)
		return bpf_redirect(target, get(n * 4 + 3));
	if (action == 2)
		return bpf_redirect_peer(target, 0);
	if (action == 3)
		return bpf_redirect_neigh(target, NULL, 0, 0);
	return get(n * 4);
}

SEC("tc")
int probe0(struct __sk_buff *skb)
{
	return probe(skb, 0);
}

SEC("tc")
int probe1(struct __sk_buff *skb)
{
	return probe(skb, 1);
}

SEC("tc")
int probe2(struct __sk_buff *skb)
{
	return probe(skb, 2);
}

SEC("tc")
int setter(struct __sk_buff *skb)
{
	skb->mark = get(32);
	skb->priority = get(33);
	skb->tstamp = get(34);
	return get(35);
}

SEC("xdp")
int xdp_probe(struct xdp_md *ctx)
{
	__s64 to = get(41);

	if (to)
		return bpf_redirect(to, 0);
	return get(40);
}

char _license[] SEC("license") = "GPL";
