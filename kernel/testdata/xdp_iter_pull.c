// Open-coded numeric iterators, critical sections and bpf_xdp_pull_data, with their edge cases,
// each result recorded in results[] (iter_pull_test.go).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* <linux/bpf.h> of Linux 6.1 lacks it (6.4+ has it). */
struct bpf_iter_num {
	__u64 __opaque[1];
} __attribute__((aligned(8)));

#include "../../kfuncs/include/xdpsim_kfuncs.h"

#define INT_MAX 0x7fffffff
#define INT_MIN (-INT_MAX - 1)

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 32);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

static __always_inline void rec(__u32 i, __s64 v)
{
	__s64 *slot = bpf_map_lookup_elem(&results, &i);

	if (slot)
		*slot = v;
}

// walk runs an iterator over [start, end) and records new's answer, how many values came, their
// sum, the first and the last, and what next says once more after the end.
static __noinline int walk(__u32 at, int start, int end)
{
	struct bpf_iter_num it;
	__s64 n = 0, sum = 0, first = 0, last = 0;
	int *v;

	rec(at, bpf_iter_num_new(&it, start, end));
	while ((v = bpf_iter_num_next(&it))) {
		if (n == 0)
			first = *v;
		last = *v;
		sum += *v;
		if (++n == 16)
			break;
	}
	rec(at + 1, n);
	rec(at + 2, sum);
	rec(at + 3, first);
	rec(at + 4, last);
	rec(at + 5, bpf_iter_num_next(&it) != 0);
	bpf_iter_num_destroy(&it);
	return 0;
}

SEC("xdp")
int iter_probe(struct xdp_md *ctx)
{
	walk(0, 0, 3);
	walk(6, 5, 2);             // start > end: -EINVAL
	walk(12, -3, 0);
	walk(18, INT_MAX - 2, INT_MAX);
	walk(24, INT_MIN, INT_MIN);

	struct bpf_iter_num it;
	rec(30, bpf_iter_num_new(&it, INT_MIN, INT_MAX)); // -E2BIG
	bpf_iter_num_destroy(&it);
	rec(31, bpf_iter_num_new(&it, 0, 8 * 1024 * 1024 + 1));
	bpf_iter_num_destroy(&it);
	rec(29, bpf_iter_num_new(&it, 1, 8 * 1024 * 1024 + 1)); // exactly BPF_MAX_LOOPS values
	bpf_iter_num_destroy(&it);

	unsigned long flags;
	bpf_rcu_read_lock();
	bpf_preempt_disable();
	bpf_local_irq_save(&flags);
	bpf_local_irq_restore(&flags);
	bpf_preempt_enable();
	bpf_rcu_read_unlock();
	return XDP_PASS;
}

// irq_flags_read reads the saved interrupt flags, which the kernel's verifier forbids.
SEC("xdp")
int irq_flags_read(struct xdp_md *ctx)
{
	unsigned long flags;
	__s64 v;

	bpf_local_irq_save(&flags);
	v = *(volatile unsigned long *)&flags;
	bpf_local_irq_restore(&flags);
	rec(0, v);
	return XDP_PASS;
}

// pull_probe reads its orders from the packet's first 12 bytes (little-endian): how much to pull,
// then how much to grow the tail by, then how much to pull again; it records the answers and the
// packet's geometry after each step.
SEC("xdp.frags")
int pull_probe(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 *orders = data;

	if ((void *)(orders + 3) > end)
		return XDP_ABORTED;
	__u32 pull = orders[0], grow = orders[1], again = orders[2];

	rec(0, ctx->data_end - ctx->data);
	rec(1, bpf_xdp_get_buff_len(ctx));
	rec(2, ctx->data - ctx->data_meta);
	rec(3, bpf_xdp_pull_data(ctx, pull));
	rec(4, ctx->data_end - ctx->data);
	rec(5, bpf_xdp_get_buff_len(ctx));
	rec(6, ctx->data - ctx->data_meta);
	rec(7, bpf_xdp_adjust_tail(ctx, (int)grow));
	rec(8, bpf_xdp_get_buff_len(ctx));
	rec(9, bpf_xdp_pull_data(ctx, again));
	rec(10, ctx->data_end - ctx->data);
	rec(11, bpf_xdp_get_buff_len(ctx));
	rec(12, bpf_xdp_adjust_head(ctx, -16)); // what headroom the pulls left
	rec(13, bpf_xdp_adjust_head(ctx, 16));
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
