/* invalidate: helpers that change the packet (bpf_xdp_adjust_head, _meta, _tail) invalidate
 * every packet pointer, in registers and spilled on the stack; they must be loaded again from
 * the context. Other helpers leave them alone.
 */
#include "vc.h"

/* r6 = ctx, r2 = data, r3 = data_end, 1 byte checked (else out). */
#define PKT1 "r6 = r1; r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 1; if r4 > r3 goto l_out_%=;"
#define RELOAD "r2 = *(u32 *)(r6 + 0); r3 = *(u32 *)(r6 + 4); r4 = r2; r4 += 1; if r4 > r3 goto l_out_%=;"
#define IMMS __imm(bpf_xdp_adjust_head), __imm(bpf_xdp_adjust_meta), __imm(bpf_xdp_adjust_tail), \
	__imm(bpf_get_prandom_u32), __imm(bpf_xdp_store_bytes)

/* accept: after bpf_xdp_adjust_head the pointers are loaded and checked again */
SEC("xdp")
__naked void adjust_head_reload(void)
{
	asm volatile (PKT1 "r7 = r2; r1 = r6; r2 = 0; call %[bpf_xdp_adjust_head];" RELOAD "r0 = *(u8 *)(r2 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* reject: the pointer kept across bpf_xdp_adjust_head */
SEC("xdp")
__naked void adjust_head_stale(void)
{
	asm volatile (PKT1 "r7 = r2; r1 = r6; r2 = 0; call %[bpf_xdp_adjust_head]; r0 = *(u8 *)(r7 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* reject: the pointer kept across bpf_xdp_adjust_meta */
SEC("xdp")
__naked void adjust_meta_stale(void)
{
	asm volatile (PKT1 "r7 = r2; r1 = r6; r2 = 0; call %[bpf_xdp_adjust_meta]; r0 = *(u8 *)(r7 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* accept: after bpf_xdp_adjust_meta, reloaded */
SEC("xdp")
__naked void adjust_meta_reload(void)
{
	asm volatile (PKT1 "r1 = r6; r2 = 0; call %[bpf_xdp_adjust_meta];" RELOAD "r0 = *(u8 *)(r2 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* reject: the pointer kept across bpf_xdp_adjust_tail */
SEC("xdp")
__naked void adjust_tail_stale(void)
{
	asm volatile (PKT1 "r7 = r2; r1 = r6; r2 = 0; call %[bpf_xdp_adjust_tail]; r0 = *(u8 *)(r7 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* accept: after bpf_xdp_adjust_tail, reloaded */
SEC("xdp")
__naked void adjust_tail_reload(void)
{
	asm volatile (PKT1 "r1 = r6; r2 = 0; call %[bpf_xdp_adjust_tail];" RELOAD "r0 = *(u8 *)(r2 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* reject: a packet pointer spilled to the stack is invalidated too */
SEC("xdp")
__naked void spilled_stale(void)
{
	asm volatile (PKT1 "*(u64 *)(r10 - 8) = r2; r1 = r6; r2 = 0; call %[bpf_xdp_adjust_head]; r2 = *(u64 *)(r10 - 8); r0 = *(u8 *)(r2 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* accept: a helper that does not change the packet keeps the pointers */
SEC("xdp")
__naked void other_helper_keeps(void)
{
	asm volatile (PKT1 "r7 = r2; call %[bpf_get_prandom_u32]; r0 = *(u8 *)(r7 + 0);" OUT :: IMMS : __clobber_all);
}

/* accept: bpf_xdp_store_bytes writes the packet but keeps the pointers */
SEC("xdp")
__naked void store_bytes_keeps(void)
{
	asm volatile (PKT1 "r7 = r2; r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = r6; r2 = 0; r3 = r10; r3 += -8; r4 = 1; call %[bpf_xdp_store_bytes]; r0 = *(u8 *)(r7 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* reject: the old data_end kept: the new data compared against it proves nothing */
SEC("xdp")
__naked void stale_data_end(void)
{
	asm volatile (PKT1 "r7 = r3; r1 = r6; r2 = 0; call %[bpf_xdp_adjust_tail]; r2 = *(u32 *)(r6 + 0); r4 = r2; r4 += 1; if r4 > r7 goto l_out_%=; r0 = *(u8 *)(r2 + 0);" OUT
		      :: IMMS : __clobber_all);
}

/* accept: the usual C: pop 4 bytes, then look at the new Ethernet header */
SEC("xdp")
int c_pop(struct xdp_md *ctx)
{
	void *data, *end;

	if (bpf_xdp_adjust_head(ctx, 4))
		return XDP_DROP;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if (data + 14 > end)
		return XDP_DROP;
	return ((__u8 *)data)[12] == 0x08 ? XDP_PASS : XDP_DROP;
}
