// BPF timers: the helpers' refusals and answers (results[]), and a timer whose callback counts its
// firings, notes the time and tries to cancel itself (timer_test.go).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define CLOCK_MONOTONIC 1

struct elem {
	struct bpf_timer t;
	__u64 fired;
	__u64 last_ns;
	__s64 cancel_self;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct elem);
} timers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __s64);
} results SEC(".maps");

static __always_inline void rec(__u32 i, __s64 v)
{
	__s64 *slot = bpf_map_lookup_elem(&results, &i);

	if (slot)
		*slot = v;
}

static int on_timer(void *map, __u32 *key, struct elem *e)
{
	e->fired++;
	e->last_ns = bpf_ktime_get_ns();
	e->cancel_self = bpf_timer_cancel(&e->t);
	return 0;
}

// The packet's byte 14 says what to do: 0 the refusals on element 0, 1 arm element 1 for as many
// microseconds as byte 15 says, 2 nothing.
SEC("xdp")
int timer_probe(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data;
	__u8 *data_end = (void *)(long)ctx->data_end;
	__u32 k0 = 0, k1 = 1;
	struct elem *e0 = bpf_map_lookup_elem(&timers, &k0);
	struct elem *e1 = bpf_map_lookup_elem(&timers, &k1);

	if (!e0 || !e1 || data + 16 > data_end)
		return XDP_ABORTED;
	switch (data[14]) {
	case 0:
		rec(0, bpf_timer_start(&e0->t, 0, 0));
		rec(1, bpf_timer_set_callback(&e0->t, on_timer));
		rec(2, bpf_timer_cancel(&e0->t));
		rec(3, bpf_timer_init(&e0->t, &timers, 5));
		rec(4, bpf_timer_init(&e0->t, &timers, 16));
		rec(5, bpf_timer_init(&e0->t, &timers, CLOCK_MONOTONIC));
		rec(6, bpf_timer_init(&e0->t, &timers, CLOCK_MONOTONIC));
		rec(7, bpf_timer_start(&e0->t, 1000, 0));
		rec(8, bpf_timer_set_callback(&e0->t, on_timer));
		rec(9, bpf_timer_start(&e0->t, 1000, 4));
		rec(10, bpf_timer_start(&e0->t, 1000000000, 0));
		rec(11, bpf_timer_cancel(&e0->t));
		rec(12, bpf_timer_cancel(&e0->t));
		break;
	case 1:
		bpf_timer_init(&e1->t, &timers, CLOCK_MONOTONIC);
		rec(13, bpf_timer_set_callback(&e1->t, on_timer));
		rec(14, bpf_timer_start(&e1->t, data[15] * 1000ull, 0));
		break;
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
