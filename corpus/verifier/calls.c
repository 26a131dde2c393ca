/* calls: bpf-to-bpf calls. Static functions are verified at every call site with the caller's
 * state; global functions once, against their BTF prototype. Arguments, return values, the 8
 * frames and the 512 bytes of stack the whole call chain may use.
 */
#include "vc.h"

#define __sub static __naked __noinline __attribute__((used))

__sub void ret7(void)
{
	asm volatile ("r0 = 7; exit;" ::: __clobber_all);
}

__sub void no_r0(void)
{
	asm volatile ("r1 = 7; exit;" ::: __clobber_all);
}

__sub void deref_r1(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 0); exit;" ::: __clobber_all);
}

__sub void deref_r1_plus_8(void)
{
	asm volatile ("r0 = *(u64 *)(r1 + 8); exit;" ::: __clobber_all);
}

/* A chain of calls: chainN calls chainN+1; chain8 returns. */
__sub void chain8(void) { asm volatile ("r0 = 0; exit;" ::: __clobber_all); }
__sub void chain7(void) { asm volatile ("call chain8; exit;" ::: __clobber_all); }
__sub void chain6(void) { asm volatile ("call chain7; exit;" ::: __clobber_all); }
__sub void chain5(void) { asm volatile ("call chain6; exit;" ::: __clobber_all); }
__sub void chain4(void) { asm volatile ("call chain5; exit;" ::: __clobber_all); }
__sub void chain3(void) { asm volatile ("call chain4; exit;" ::: __clobber_all); }
__sub void chain2(void) { asm volatile ("call chain3; exit;" ::: __clobber_all); }
__sub void chain1(void) { asm volatile ("call chain2; exit;" ::: __clobber_all); }

/* Functions that use 256, 224 or 192 bytes of stack; big256 calls one that uses STACK more. */
__sub void use192(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 192) = r1; r0 = 0; exit;" ::: __clobber_all); }
__sub void use256(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 256) = r1; r0 = 0; exit;" ::: __clobber_all); }
__sub void big_then_192(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 256) = r1; call use192; exit;" ::: __clobber_all); }
__sub void big_then_256(void) { asm volatile ("r1 = 0; *(u64 *)(r10 - 256) = r1; call use256; exit;" ::: __clobber_all); }

__sub void recurse(void)
{
	asm volatile ("call recurse; exit;" ::: __clobber_all);
}

/* accept: a static function's return value */
SEC("xdp")
__naked void static_call(void)
{
	asm volatile ("call ret7; r0 &= 3; exit;" ::: __clobber_all);
}

/* accept: a static function may exit without setting R0 when its caller never reads it */
SEC("xdp")
__naked void static_no_r0(void)
{
	asm volatile ("call no_r0; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: the caller returns the R0 the static function never set */
SEC("xdp")
__naked void static_no_r0_used(void)
{
	asm volatile ("call no_r0; exit;" ::: __clobber_all);
}

/* accept: R6-R9 survive a bpf-to-bpf call */
SEC("xdp")
__naked void callee_saved(void)
{
	asm volatile ("r6 = 2; call ret7; r0 = r6; exit;" ::: __clobber_all);
}

/* reject: R1-R5 do not */
SEC("xdp")
__naked void caller_saved(void)
{
	asm volatile ("r1 = 2; call ret7; r0 = r1; exit;" ::: __clobber_all);
}

/* accept: a pointer to the caller's stack, read by the callee */
SEC("xdp")
__naked void stack_arg(void)
{
	asm volatile ("r1 = 5; *(u64 *)(r10 - 8) = r1; r1 = r10; r1 += -8; call deref_r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: the callee reads 8 bytes past it, above the caller's frame */
SEC("xdp")
__naked void stack_arg_past(void)
{
	asm volatile ("r1 = 5; *(u64 *)(r10 - 8) = r1; r1 = r10; r1 += -8; call deref_r1_plus_8; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a static function checked with its caller's arguments: here R1 is a scalar */
SEC("xdp")
__naked void scalar_arg(void)
{
	asm volatile ("r1 = 5; call deref_r1; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: 8 frames: the program and chain2 ... chain8 */
SEC("xdp")
__naked void depth_8(void)
{
	asm volatile ("call chain2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: 9 frames: the program and chain1 ... chain8 */
SEC("xdp")
__naked void depth_9(void)
{
	asm volatile ("call chain1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a function that calls itself */
SEC("xdp")
__naked void recursion(void)
{
	asm volatile ("call recurse; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: 8 + 256 + 192 bytes of stack along the chain */
SEC("xdp")
__naked void stack_448(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; call big_then_192; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: 8 + 256 + 256 bytes: more than 512 for the chain */
SEC("xdp")
__naked void stack_520(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; call big_then_256; r0 = 2; exit;" ::: __clobber_all);
}

/* Global functions, verified once against their prototypes. */

__noinline int g_ifindex(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

__noinline int g_deref_checked(int *p)
{
	return p ? *p : 0;
}

__noinline int g_deref_unchecked(int *p)
{
	return *p;
}

__noinline int g_read_past(int *p)
{
	return p ? p[1] : 0;
}

__noinline int g_pkt(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 1 > end)
		return 0;
	return *(__u8 *)data;
}

/* accept: a global function taking the context */
SEC("xdp")
int global_ctx(struct xdp_md *ctx)
{
	return g_ifindex(ctx) == 12345 ? XDP_DROP : XDP_PASS;
}

/* accept: a global function that checks its pointer argument for NULL */
SEC("xdp")
int global_ptr_checked(struct xdp_md *ctx)
{
	int x = 3;

	return g_deref_checked(&x) == 3 ? XDP_PASS : XDP_DROP;
}

/* reject: a global function that does not: its argument may be NULL, whatever the caller passes */
SEC("xdp")
int global_ptr_unchecked(struct xdp_md *ctx)
{
	int x = 3;

	return g_deref_unchecked(&x) == 3 ? XDP_PASS : XDP_DROP;
}

/* reject: a global function reading past the int its prototype gives it */
SEC("xdp")
int global_ptr_past(struct xdp_md *ctx)
{
	int x[2] = {3, 4};

	return g_read_past(x) == 4 ? XDP_PASS : XDP_DROP;
}

/* accept: a global function with its own packet checks */
SEC("xdp")
int global_pkt(struct xdp_md *ctx)
{
	return g_pkt(ctx) == 0xff ? XDP_DROP : XDP_PASS;
}

/* reject: a global function given a scalar where its prototype says context */
SEC("xdp")
__naked void global_ctx_scalar(void)
{
	asm volatile ("r1 = 0; call g_ifindex; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a global function given the stack where its prototype says context */
SEC("xdp")
__naked void global_ctx_stack(void)
{
	asm volatile ("r1 = r10; call g_ifindex; r0 = 2; exit;" ::: __clobber_all);
}

/* Packet data a global function may change: its caller's packet pointers die at the call. */

static __noinline int s_adjust(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, 0);
}

__noinline int g_adjust_via_static(struct xdp_md *ctx)
{
	return s_adjust(ctx) + 1;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");

__noinline int g_tail(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jt, 0);
	return 0;
}

/* reject: a packet pointer read after a global function whose static callee adjusts the head */
SEC("xdp")
int pkt_after_global_changer(struct xdp_md *ctx)
{
	volatile __u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 14) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	g_adjust_via_static(ctx);
	return data[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* accept: the same after a global function that only reads the packet */
SEC("xdp")
int pkt_after_global_reader(struct xdp_md *ctx)
{
	volatile __u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 14) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	g_pkt(ctx);
	return data[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* reject: the same after a global function that makes a tail call */
SEC("xdp")
int pkt_after_global_tail_call(struct xdp_md *ctx)
{
	volatile __u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 14) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	g_tail(ctx);
	return data[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

/* accept: the same after a tail call of its own, which returns only when it fails */
SEC("xdp")
int pkt_after_tail_call(struct xdp_md *ctx)
{
	volatile __u8 *data = (void *)(long)ctx->data;

	if ((void *)(data + 14) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	bpf_tail_call(ctx, &jt, 0);
	return data[12] == 0x08 ? XDP_PASS : XDP_DROP;
}
