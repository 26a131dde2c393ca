/* lddw: the two-slot 64-bit load in its forms: a constant, a map, a map value (global
 * variables) and a function (callbacks); every later instruction index counts both slots.
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

__u64 var = 7;

/* accept: a 64-bit constant; its upper half shifted down is 1 */
SEC("xdp")
__naked void const64(void)
{
	asm volatile ("r0 = 0x100000002 ll; r0 >>= 32; exit;" ::: __clobber_all);
}

/* reject: after two lddw the R0 never written is blamed at index 4, the third instruction */
SEC("xdp")
__naked void index_after_lddw(void)
{
	asm volatile ("r1 = 0x100000002 ll; r2 = 0x300000004 ll; exit;" ::: __clobber_all);
}

/* accept: the address of a map for a helper */
SEC("xdp")
__naked void map_addr(void)
{
	asm volatile (LOOKUP0(arr) OUT :: __imm(bpf_map_lookup_elem), __imm_addr(arr) : __clobber_all);
}

/* accept: the address of a global variable (a map value), read */
SEC("xdp")
__naked void var_addr(void)
{
	asm volatile ("r1 = %[var] ll; r0 = *(u64 *)(r1 + 0); r0 &= 3; exit;" :: __imm_addr(var) : __clobber_all);
}

/* reject: the map address used as a map value */
SEC("xdp")
__naked void map_addr_deref_value(void)
{
	asm volatile ("r1 = %[arr] ll; r2 = 0; *(u64 *)(r1 + 0) = r2; r0 = 2; exit;" :: __imm_addr(arr) : __clobber_all);
}

static int cb(__u32 i, void *ctx) { return 0; }

/* accept: the address of a function, given to bpf_loop */
SEC("xdp")
int func_addr(struct xdp_md *ctx)
{
	bpf_loop(2, cb, NULL, 0);
	return XDP_PASS;
}

/* reject: a function's address is no memory */
SEC("xdp")
int func_addr_deref(struct xdp_md *ctx)
{
	volatile __u8 *p = (void *)cb;

	return *p;
}

/* reject: an lddw whose source field (7) names no kind of 64-bit load */
SEC("xdp")
__naked void unknown_src(void)
{
	asm volatile ("r0 = 2; .8byte 0x0000000000007118; .8byte 0x0000000000000000; exit;" ::: __clobber_all);
}
