/* callbacks: bpf_loop and bpf_for_each_map_elem call a static function of the program, which
 * the verifier checks with the arguments the helper passes and whose return value must lie in
 * [0, 1]; the callback's context is the caller's stack.
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

static int ret0(__u32 i, void *ctx) { return 0; }
static int ret1(__u32 i, void *ctx) { return 1; }
static int ret2(__u32 i, void *ctx) { return 2; }
static int ret_bit0(__u32 i, void *ctx) { return i & 1; }
static int ret_bits01(__u32 i, void *ctx) { return i & 3; }

static int add_i(__u32 i, void *ctx)
{
	*(__u64 *)ctx += i;
	return 0;
}

static int add_i_past(__u32 i, void *ctx)
{
	((__u64 *)ctx)[1] += i;
	return 0;
}

static int deref_ctx(__u32 i, void *ctx)
{
	return *(__u8 *)ctx & 1;
}

/* accept: a bpf_loop callback returning 0 */
SEC("xdp")
int loop_ret0(struct xdp_md *ctx)
{
	bpf_loop(4, ret0, NULL, 0);
	return XDP_PASS;
}

/* accept: returning 1 (stop the loop) */
SEC("xdp")
int loop_ret1(struct xdp_md *ctx)
{
	bpf_loop(4, ret1, NULL, 0);
	return XDP_PASS;
}

/* reject: returning 2 */
SEC("xdp")
int loop_ret2(struct xdp_md *ctx)
{
	bpf_loop(4, ret2, NULL, 0);
	return XDP_PASS;
}

/* accept: returning i & 1, in [0, 1] */
SEC("xdp")
int loop_ret_bit0(struct xdp_md *ctx)
{
	bpf_loop(4, ret_bit0, NULL, 0);
	return XDP_PASS;
}

/* reject: returning i & 3, in [0, 3] */
SEC("xdp")
int loop_ret_bits01(struct xdp_md *ctx)
{
	bpf_loop(4, ret_bits01, NULL, 0);
	return XDP_PASS;
}

/* accept: the callback adds to a u64 on the caller's stack */
SEC("xdp")
int loop_stack_ctx(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(8, add_i, &sum, 0);
	return sum == 28 ? XDP_PASS : XDP_DROP;
}

/* reject: the callback writes 8 bytes past the u64 it was given, above the caller's frame */
SEC("xdp")
int loop_stack_ctx_past(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(8, add_i_past, &sum, 0);
	return sum == 28 ? XDP_PASS : XDP_DROP;
}

/* reject: the callback reads through a NULL context */
SEC("xdp")
int loop_null_ctx(struct xdp_md *ctx)
{
	bpf_loop(8, deref_ctx, NULL, 0);
	return XDP_PASS;
}

/* reject: a scalar where the callback goes */
SEC("xdp")
__naked void loop_scalar_callback(void)
{
	asm volatile ("r1 = 4; r2 = 0; r3 = 0; r4 = 0; call %[bpf_loop];" OUT :: __imm(bpf_loop) : __clobber_all);
}

static long elem_ret0(void *map, __u32 *key, __u64 *val, void *ctx)
{
	*val += 1;
	return 0;
}

static long elem_ret5(void *map, __u32 *key, __u64 *val, void *ctx)
{
	return 5;
}

static long elem_past_value(void *map, __u32 *key, __u64 *val, void *ctx)
{
	val[1] = *key;
	return 0;
}

static long elem_write_key(void *map, __u32 *key, __u64 *val, void *ctx)
{
	*key = 0;
	return 0;
}

/* accept: bpf_for_each_map_elem with a callback that updates each value and returns 0 */
SEC("xdp")
int each_ret0(struct xdp_md *ctx)
{
	bpf_for_each_map_elem(&arr, elem_ret0, NULL, 0);
	return XDP_PASS;
}

/* reject: its callback returns 5 */
SEC("xdp")
int each_ret5(struct xdp_md *ctx)
{
	bpf_for_each_map_elem(&arr, elem_ret5, NULL, 0);
	return XDP_PASS;
}

/* reject: its callback writes past the 8-byte value */
SEC("xdp")
int each_past_value(struct xdp_md *ctx)
{
	bpf_for_each_map_elem(&arr, elem_past_value, NULL, 0);
	return XDP_PASS;
}

/* reject: its callback writes the key, which is read-only */
SEC("xdp")
int each_write_key(struct xdp_md *ctx)
{
	bpf_for_each_map_elem(&arr, elem_write_key, NULL, 0);
	return XDP_PASS;
}
