/* ptr: what may be done with pointers and what may not: arithmetic the kernel prohibits on
 * pointers, pointers of the kinds that allow no arithmetic at all, pointer-pointer subtraction
 * and comparison, and loads through things that are not pointers ('scalar').
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} hash SEC(".maps");

/* accept: a constant added to the frame pointer makes a stack pointer */
SEC("xdp")
__naked void stack_ptr_add(void)
{
	asm volatile ("r1 = r10; r1 += -8; r2 = 0; *(u64 *)(r1 + 0) = r2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: multiplying a pointer */
SEC("xdp")
__naked void ptr_mul(void)
{
	asm volatile ("r1 = r10; r1 *= 2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: masking a pointer (bitwise and) */
SEC("xdp")
__naked void ptr_and(void)
{
	asm volatile ("r1 = r10; r1 &= -8; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: shifting a pointer */
SEC("xdp")
__naked void ptr_lsh(void)
{
	asm volatile ("r1 = r10; r1 <<= 1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: 32-bit arithmetic on a pointer */
SEC("xdp")
__naked void ptr_add32(void)
{
	asm volatile ("r1 = r10; w1 += -8; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: root may negate a pointer: the result is a scalar */
SEC("xdp")
__naked void ptr_neg(void)
{
	asm volatile ("r1 = r10; r1 = -r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: adding two pointers */
SEC("xdp")
__naked void ptr_plus_ptr(void)
{
	asm volatile ("r1 = r10; r2 = r10; r1 += r2; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: subtracting two packet pointers gives a scalar (the packet length here) */
SEC("xdp")
__naked void pkt_minus_pkt(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r3 -= r2; r0 = r3; r0 &= 3; exit;" ::: __clobber_all);
}

/* accept: root may subtract pointers of different kinds (stack minus packet): a scalar */
SEC("xdp")
__naked void stack_minus_pkt(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r1 = r10; r1 -= r2; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: subtracting two stack pointers */
SEC("xdp")
__naked void stack_minus_stack(void)
{
	asm volatile ("r1 = r10; r1 += -8; r2 = r10; r2 -= r1; r0 = r2; exit;" ::: __clobber_all);
}

/* reject: arithmetic on the packet end pointer */
SEC("xdp")
__naked void pkt_end_arith(void)
{
	asm volatile ("r3 = *(u32 *)(r1 + 4); r3 += -1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: arithmetic on a map value pointer that may be NULL */
SEC("xdp")
__naked void map_or_null_arith(void)
{
	asm volatile (LOOKUP0(hash) "r0 += 8; r0 = 2; exit;"
		      :: __imm(bpf_map_lookup_elem), __imm_addr(hash) : __clobber_all);
}

/* accept: the same arithmetic after the NULL check */
SEC("xdp")
__naked void map_checked_arith(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l0_%=; r0 += 4; r0 = *(u32 *)(r0 + 0); l0_%=: r0 = 2; exit;"
		      :: __imm(bpf_map_lookup_elem), __imm_addr(hash) : __clobber_all);
}

/* reject: arithmetic on the map pointer itself */
SEC("xdp")
__naked void map_ptr_arith(void)
{
	asm volatile ("r1 = %[hash] ll; r1 += 8; r0 = 2; exit;" :: __imm_addr(hash) : __clobber_all);
}

/* accept: a load from the context at a constant offset */
SEC("xdp")
__naked void ctx_const_off(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 12); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: the same load through a context pointer moved by 12 */
SEC("xdp")
__naked void ctx_modified(void)
{
	asm volatile ("r1 += 12; r0 = *(u32 *)(r1 + 0); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a context pointer moved by a variable */
SEC("xdp")
__naked void ctx_var_off(void)
{
	asm volatile ("r6 = r1; call %[bpf_get_prandom_u32]; r0 &= 4; r6 += r0; r0 = *(u32 *)(r6 + 0); r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: root may compare a pointer with a scalar */
SEC("xdp")
__naked void ptr_cmp_scalar(void)
{
	asm volatile ("r0 = 2; r2 = r10; if r2 > 1000 goto l0_%=; r0 = 1; l0_%=: exit;" ::: __clobber_all);
}

/* reject: a load through a scalar */
SEC("xdp")
__naked void load_scalar(void)
{
	asm volatile ("r1 = 4096; r0 = *(u8 *)(r1 + 0); exit;" ::: __clobber_all);
}

/* reject: a store through a scalar */
SEC("xdp")
__naked void store_scalar(void)
{
	asm volatile ("r1 = 4096; r2 = 0; *(u8 *)(r1 + 0) = r2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a helper's integer result is a scalar, not a pointer */
SEC("xdp")
__naked void load_helper_result(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r0 = *(u32 *)(r0 + 0); exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* reject: a load through a map value pointer before its NULL check */
SEC("xdp")
__naked void load_map_or_null(void)
{
	asm volatile (LOOKUP0(hash) "r0 = *(u64 *)(r0 + 0); r0 = 2; exit;"
		      :: __imm(bpf_map_lookup_elem), __imm_addr(hash) : __clobber_all);
}

/* accept: root may return a pointer from an XDP program (the return value is not checked); the
 * pointer is returned on a path BPF_PROG_TEST_RUN does not take (rx_queue_index is 0 there) */
SEC("xdp")
__naked void return_pointer(void)
{
	asm volatile ("r0 = 2; r2 = *(u32 *)(r1 + 16); if r2 == 0 goto l0_%=; r0 = r10; l0_%=: exit;" ::: __clobber_all);
}

/* accept: root may store a pointer into a map value */
SEC("xdp")
__naked void leak_ptr_to_map(void)
{
	asm volatile ("r6 = r1;" LOOKUP0(hash) "if r0 == 0 goto l0_%=; *(u64 *)(r0 + 0) = r6; l0_%=: r0 = 2; exit;"
		      :: __imm(bpf_map_lookup_elem), __imm_addr(hash) : __clobber_all);
}

/* accept: root may even store 4 bytes of a pointer into a map value */
SEC("xdp")
__naked void leak_ptr_partial(void)
{
	asm volatile ("r6 = r1;" LOOKUP0(hash) "if r0 == 0 goto l0_%=; *(u32 *)(r0 + 0) = r6; l0_%=: r0 = 2; exit;"
		      :: __imm(bpf_map_lookup_elem), __imm_addr(hash) : __clobber_all);
}
