/* stack: the 512-byte frame at R10: bounds, alignment, reads of slots never written (allowed to
 * root), spills and fills of pointers and scalars (whole and partial), and variable offsets.
 */
#include "vc.h"

VALS_MAP;
#define IMMS VALS_IMMS

/* accept: root may read a stack slot never written */
SEC("xdp")
__naked void read_uninit(void)
{
	asm volatile ("r0 = *(u64 *)(r10 - 8); r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a read below the 512-byte frame */
SEC("xdp")
__naked void read_below_frame(void)
{
	asm volatile ("r0 = *(u64 *)(r10 - 520); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: a store to the frame's last byte, fp-512 */
SEC("xdp")
__naked void store_fp_512(void)
{
	asm volatile ("r1 = 0; *(u8 *)(r10 - 512) = r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a store to fp-513 */
SEC("xdp")
__naked void store_fp_513(void)
{
	asm volatile ("r1 = 0; *(u8 *)(r10 - 513) = r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a store at fp+0, above the frame */
SEC("xdp")
__naked void store_fp_0(void)
{
	asm volatile ("r1 = 0; *(u8 *)(r10 + 0) = r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a store through a pointer moved 600 bytes down */
SEC("xdp")
__naked void store_fp_minus_600(void)
{
	asm volatile ("r1 = r10; r1 += -600; r2 = 0; *(u8 *)(r1 + 0) = r2; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: a 4-byte store at fp-4 is aligned */
SEC("xdp")
__naked void aligned_u32(void)
{
	asm volatile ("r1 = 0; *(u32 *)(r10 - 4) = r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: an 8-byte store at fp-4 is misaligned */
SEC("xdp")
__naked void misaligned_u64(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 4) = r1; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: a spilled packet pointer filled back keeps its range */
SEC("xdp")
__naked void spill_pkt_ptr(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 1; if r4 > r3 goto l_out_%=;"
		      "*(u64 *)(r10 - 8) = r2; r2 = *(u64 *)(r10 - 8); r0 = *(u8 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* reject: one byte of the spilled pointer overwritten: the fill is a scalar */
SEC("xdp")
__naked void spill_pkt_ptr_clobbered(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 1; if r4 > r3 goto l_out_%=;"
		      "*(u64 *)(r10 - 8) = r2; r5 = 0; *(u8 *)(r10 - 3) = r5; r2 = *(u64 *)(r10 - 8); r0 = *(u8 *)(r2 + 0);" OUT ::: __clobber_all);
}

/* accept: a bounded scalar spilled and filled keeps its bounds */
SEC("xdp")
__naked void spill_scalar_bounds(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; *(u64 *)(r10 - 16) = r6; r6 = *(u64 *)(r10 - 16);" USE OUT :: IMMS : __clobber_all);
}

/* reject: half of a bounded scalar spilled (4 bytes), 8 filled: the bounds are lost */
SEC("xdp")
__naked void spill_scalar_half(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; *(u32 *)(r10 - 16) = r6; r6 = *(u64 *)(r10 - 16);" USE OUT :: IMMS : __clobber_all);
}

/* accept: a 4-byte spill of a bounded scalar filled as 4 bytes keeps its bounds */
SEC("xdp")
__naked void spill_scalar_u32(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; *(u32 *)(r10 - 16) = r6; r6 = *(u32 *)(r10 - 16);" USE OUT :: IMMS : __clobber_all);
}

/* reject: a spilled pointer filled back as 4 bytes */
SEC("xdp")
__naked void fill_ptr_narrow(void)
{
	asm volatile ("r2 = r10; *(u64 *)(r10 - 8) = r2; r0 = *(u32 *)(r10 - 8); r0 = 2; exit;" ::: __clobber_all);
}

/* accept: a store at a bounded variable offset inside the frame (root) */
SEC("xdp")
__naked void var_off_store(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r0 &= 7; r1 = r10; r1 += -16; r1 += r0; r2 = 0; *(u8 *)(r1 + 0) = r2; r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* reject: a variable offset that may reach above the frame */
SEC("xdp")
__naked void var_off_above_frame(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r0 &= 31; r1 = r10; r1 += -16; r1 += r0; r2 = 0; *(u8 *)(r1 + 0) = r2; r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: a load at a bounded variable offset over initialised bytes */
SEC("xdp")
__naked void var_off_load(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r10 - 16) = r2; *(u64 *)(r10 - 8) = r2; call %[bpf_get_prandom_u32]; r0 &= 7;"
		      "r1 = r10; r1 += -16; r1 += r0; r0 = *(u8 *)(r1 + 0); r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* reject: a variable offset unbounded below */
SEC("xdp")
__naked void var_off_unbounded(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r1 = r10; r1 += r0; r2 = 0; *(u8 *)(r1 + 0) = r2; r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: a 512-byte array on the stack in C */
SEC("xdp")
int c_big_array(struct xdp_md *ctx)
{
	volatile __u8 buf[512];

	buf[0] = 1;
	buf[511] = 2;
	return buf[0] + buf[511] == 3 ? XDP_PASS : XDP_DROP;
}
