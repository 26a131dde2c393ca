/* branch: what a conditional jump teaches the verifier about its operands, on both sides.
 *
 * As in alu.c, an unknown r6 is used as an offset into a 64-byte map value (USE, see vc.h); here
 * a conditional jump is what bounds it. Pairs differ in the constant, the signedness, the width
 * (JMP vs JMP32) or the side of the branch the access sits on.
 */
#include "vc.h"

VALS_MAP;
#define IMMS VALS_IMMS

/* accept: if r6 > 63 goto out: the fall-through side knows r6 <= 63 */
SEC("xdp")
__naked void jgt_63(void)
{
	asm volatile (VALPTR RAND64 "if r6 > 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: if r6 > 64 goto out leaves r6 = 64 possible */
SEC("xdp")
__naked void jgt_64(void)
{
	asm volatile (VALPTR RAND64 "if r6 > 64 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: if r6 < 64 goto use: the taken side knows r6 <= 63 */
SEC("xdp")
__naked void jlt_taken_side(void)
{
	asm volatile (VALPTR RAND64 "if r6 < 64 goto l_use_%=; goto l_out_%=; l_use_%=:" USE OUT :: IMMS : __clobber_all);
}

/* reject: the access sits on the fall-through side of if r6 < 64, where r6 >= 64 */
SEC("xdp")
__naked void jlt_wrong_side(void)
{
	asm volatile (VALPTR RAND64 "if r6 < 64 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: if r6 >= 64 goto out (JGE) bounds the fall-through side */
SEC("xdp")
__naked void jge_64(void)
{
	asm volatile (VALPTR RAND64 "if r6 >= 64 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: if r6 <= 63 goto out (JLE) leaves the large values on the fall-through side */
SEC("xdp")
__naked void jle_wrong_side(void)
{
	asm volatile (VALPTR RAND64 "if r6 <= 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: a signed upper bound and a signed lower bound: 0 <= r6 <= 63 */
SEC("xdp")
__naked void jsgt_and_jslt(void)
{
	asm volatile (VALPTR RAND64 "if r6 s> 63 goto l_out_%=; if r6 s< 0 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: only the signed upper bound: r6 may be negative */
SEC("xdp")
__naked void jsgt_only(void)
{
	asm volatile (VALPTR RAND64 "if r6 s> 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: JSGE and JSLE: if r6 s>= 64 goto out; if r6 s<= -1 goto out */
SEC("xdp")
__naked void jsge_and_jsle(void)
{
	asm volatile (VALPTR RAND64 "if r6 s>= 64 goto l_out_%=; if r6 s<= -1 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: the lower bound off by one (s<= -2 lets -1 through) */
SEC("xdp")
__naked void jsle_off_by_one(void)
{
	asm volatile (VALPTR RAND64 "if r6 s>= 64 goto l_out_%=; if r6 s<= -2 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: JMP32 on a u32 (upper half known zero): if w6 > 63 bounds all of r6 */
SEC("xdp")
__naked void jmp32_on_u32(void)
{
	asm volatile (VALPTR RAND32 "if w6 > 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: JMP32 on a u64 bounds only the low half */
SEC("xdp")
__naked void jmp32_on_u64(void)
{
	asm volatile (VALPTR RAND64 "if w6 > 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: signed JMP32 on a u32: 0 <= (s32)w6 <= 63 */
SEC("xdp")
__naked void jmp32_signed_u32(void)
{
	asm volatile (VALPTR RAND32 "if w6 s> 63 goto l_out_%=; if w6 s< 0 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: signed JMP32 without the lower bound: w6 may be 0x80000000 and up */
SEC("xdp")
__naked void jmp32_signed_no_lower(void)
{
	asm volatile (VALPTR RAND32 "if w6 s> 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: register against register: if r6 > r8 with r8 = 63 */
SEC("xdp")
__naked void reg_reg_63(void)
{
	asm volatile (VALPTR RAND64 "r8 = 63; if r6 > r8 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: register against register with r8 = 64 */
SEC("xdp")
__naked void reg_reg_64(void)
{
	asm volatile (VALPTR RAND64 "r8 = 64; if r6 > r8 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: the constant on the left: if r8 < r6 goto out with r8 = 63 */
SEC("xdp")
__naked void reg_reg_swapped(void)
{
	asm volatile (VALPTR RAND64 "r8 = 63; if r8 < r6 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: two unknowns compared: if r6 > r8 bounds r6 by an unbounded r8 */
SEC("xdp")
__naked void reg_reg_both_unknown(void)
{
	asm volatile (VALPTR RAND64 "r8 = *(u64 *)(r7 + 8); if r6 > r8 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: a bounded r8 bounds r6 through if r6 > r8 */
SEC("xdp")
__naked void reg_reg_bounded_other(void)
{
	asm volatile (VALPTR RAND64 "r8 = *(u64 *)(r7 + 8); r8 &= 63; if r6 > r8 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: JEQ makes r6 the constant on the taken side */
SEC("xdp")
__naked void jeq_taken(void)
{
	asm volatile (VALPTR RAND64 "if r6 == 17 goto l_use_%=; goto l_out_%=; l_use_%=:" USE OUT :: IMMS : __clobber_all);
}

/* reject: the fall-through side of if r6 == 17 only knows r6 != 17 */
SEC("xdp")
__naked void jne_fallthrough(void)
{
	asm volatile (VALPTR RAND64 "if r6 == 17 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: the fall-through side of JSET with mask ~63 has the high bits clear */
SEC("xdp")
__naked void jset_clears_high_bits(void)
{
	asm volatile (VALPTR RAND64 "r8 = -64; if r6 & r8 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: JSET with mask ~127 leaves bit 6 unknown */
SEC("xdp")
__naked void jset_leaves_bit6(void)
{
	asm volatile (VALPTR RAND64 "r8 = -128; if r6 & r8 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* accept: bounds learnt on a copy carry to the original (same id): r8 = r6; if r8 > 63 */
SEC("xdp")
__naked void bounds_through_copy(void)
{
	asm volatile (VALPTR RAND64 "r8 = r6; if r8 > 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}

/* reject: the copy was changed (r8 += 1) before the test, so its bounds no longer carry to r6 */
SEC("xdp")
__naked void bounds_on_changed_copy(void)
{
	asm volatile (VALPTR RAND64 "r8 = r6; r8 += 1; if r8 > 63 goto l_out_%=;" USE OUT :: IMMS : __clobber_all);
}
