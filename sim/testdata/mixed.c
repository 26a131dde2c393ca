// SPDX-License-Identifier: GPL-2.0
/* mixed: programs of several types in one object, sharing a map.
 *  - xdp_count (SEC("xdp")) counts frames in hits[0] and passes them;
 *  - tc_count (SEC("tc")) counts in hits[1]; trace_write (a tracepoint) and kprobe_open (a kprobe)
 *    count in hits[2]: the simulator cannot run them and must say so only when asked for them;
 *  - custom_section sits in SEC("foo"), which carries no program type: typed as XDP by
 *    the loader it drops frames shorter than 60 bytes, passes the others, and counts in hits[3].
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline void hit(__u32 slot)
{
	__u64 *v = bpf_map_lookup_elem(&hits, &slot);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("xdp")
int xdp_count(struct xdp_md *ctx)
{
	hit(0);
	return XDP_PASS;
}

SEC("tc")
int tc_count(struct __sk_buff *skb)
{
	hit(1);
	return TC_ACT_OK;
}

SEC("tracepoint/syscalls/sys_enter_write")
int trace_write(void *ctx)
{
	hit(2);
	return 0;
}

SEC("kprobe/do_sys_openat2")
int kprobe_open(void *ctx)
{
	hit(2);
	return 0;
}

SEC("foo")
int custom_section(struct xdp_md *ctx)
{
	hit(3);
	if (ctx->data_end - ctx->data < 60)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
