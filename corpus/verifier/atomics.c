/* atomics: BPF_ATOMIC (add, and, or, xor, their fetch forms, xchg, cmpxchg) on the stack and on
 * map values; not on the packet or the context; aligned; cmpxchg compares with R0.
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct val64);
} vals SEC(".maps");

const volatile __u64 ro = 1;

#define VAL LOOKUP0(vals) "if r0 == 0 goto l_out_%=; r7 = r0;"
#define IMMS __imm(bpf_map_lookup_elem), __imm_addr(vals)

/* accept: atomic add to an initialised stack slot */
SEC("xdp")
__naked void add_stack(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = 1; lock *(u64 *)(r10 - 8) += r1; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: atomic add to a map value */
SEC("xdp")
__naked void add_map(void)
{
	asm volatile (VAL "r1 = 1; lock *(u64 *)(r7 + 8) += r1;" OUT :: IMMS : __clobber_all);
}

/* reject: atomic add to the packet */
SEC("xdp")
__naked void add_packet(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l_out_%=;"
		      "r1 = 1; lock *(u64 *)(r2 + 0) += r1;" OUT ::: __clobber_all);
}

/* reject: atomic add to the context */
SEC("xdp")
__naked void add_ctx(void)
{
	asm volatile ("r2 = 1; lock *(u32 *)(r1 + 12) += r2; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: atomic add to a misaligned map value address */
SEC("xdp")
__naked void add_misaligned(void)
{
	asm volatile (VAL "r1 = 1; lock *(u32 *)(r7 + 2) += r1;" OUT :: IMMS : __clobber_all);
}

/* reject: atomic add to read-only .rodata */
SEC("xdp")
__naked void add_rodata(void)
{
	asm volatile ("r2 = %[ro] ll; r1 = 1; lock *(u64 *)(r2 + 0) += r1; r0 = 2; exit;" :: __imm_addr(ro) : __clobber_all);
}

/* accept: fetch-and-add returns the old value in the source register */
SEC("xdp")
__naked void fetch_add(void)
{
	asm volatile (VAL "r1 = 1; r1 = atomic_fetch_add((u64 *)(r7 + 8), r1); r0 = r1; r0 &= 1; exit;" OUT :: IMMS : __clobber_all);
}

/* accept: 32-bit fetch-or, fetch-and, fetch-xor */
SEC("xdp")
__naked void fetch_bitwise32(void)
{
	asm volatile (VAL "w1 = 1; w1 = atomic_fetch_or((u32 *)(r7 + 8), w1); w1 = atomic_fetch_and((u32 *)(r7 + 8), w1);"
		      "w1 = atomic_fetch_xor((u32 *)(r7 + 8), w1);" OUT :: IMMS : __clobber_all);
}

/* accept: exchange */
SEC("xdp")
__naked void xchg(void)
{
	asm volatile (VAL "r1 = 5; r1 = xchg_64(r7 + 16, r1);" OUT :: IMMS : __clobber_all);
}

/* accept: compare-and-exchange with R0 as the expected value */
SEC("xdp")
__naked void cmpxchg(void)
{
	asm volatile (VAL "r0 = 0; r1 = 5; r0 = cmpxchg_64(r7 + 16, r0, r1);" OUT :: IMMS : __clobber_all);
}

/* reject: compare-and-exchange with R0 never written */
SEC("xdp")
__naked void cmpxchg_no_r0(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = 5; r0 = cmpxchg_64(r10 - 8, r0, r1); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: root may add a pointer atomically into a map value */
SEC("xdp")
__naked void add_pointer(void)
{
	asm volatile (VAL "r1 = r10; lock *(u64 *)(r7 + 8) += r1;" OUT :: IMMS : __clobber_all);
}

/* reject: atomic add through a scalar */
SEC("xdp")
__naked void add_scalar_addr(void)
{
	asm volatile ("r2 = 4096; r1 = 1; lock *(u64 *)(r2 + 0) += r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: atomic add to a map value past its end */
SEC("xdp")
__naked void add_past_value(void)
{
	asm volatile (VAL "r1 = 1; lock *(u64 *)(r7 + 64) += r1;" OUT :: IMMS : __clobber_all);
}

/* accept: __sync_fetch_and_add in C */
SEC("xdp")
int c_fetch_add(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &k);

	if (!v)
		return XDP_ABORTED;
	return __sync_fetch_and_add(v, 1) & 1 ? XDP_PASS : XDP_DROP;
}
