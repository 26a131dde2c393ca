/* alu: scalar bounds and tnums through every ALU operation.
 *
 * Each case makes an unknown scalar r6 (bpf_get_prandom_u32: any u32; or a u64 read from a map
 * value: any u64), puts it through the operation under test and adds it to a pointer into a
 * 64-byte map value before a one-byte load. The kernel accepts the load only when the bounds
 * it tracked through the operation keep r6 within [0, 63]; each pair differs in one constant.
 */
#include "vc.h"

VALS_MAP;
#define IMMS VALS_IMMS

/* accept: r6 &= 63 bounds any u32 to [0, 63] */
SEC("xdp")
__naked void and_63(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63;" USE OUT :: IMMS : __clobber_all);
}

/* reject: r6 &= 127 lets the offset reach 127, past the 64-byte value */
SEC("xdp")
__naked void and_127(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 127;" USE OUT :: IMMS : __clobber_all);
}

/* accept: a u32 shifted right by 26 is at most 63 */
SEC("xdp")
__naked void rsh_26(void)
{
	asm volatile (VALPTR RAND32 "r6 >>= 26;" USE OUT :: IMMS : __clobber_all);
}

/* reject: a u32 shifted right by 25 reaches 127 */
SEC("xdp")
__naked void rsh_25(void)
{
	asm volatile (VALPTR RAND32 "r6 >>= 25;" USE OUT :: IMMS : __clobber_all);
}

/* accept: r6 &= 7 then r6 <<= 3 is at most 56 */
SEC("xdp")
__naked void lsh_3(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 7; r6 <<= 3;" USE OUT :: IMMS : __clobber_all);
}

/* reject: r6 &= 7 then r6 <<= 4 reaches 112 */
SEC("xdp")
__naked void lsh_4(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 7; r6 <<= 4;" USE OUT :: IMMS : __clobber_all);
}

/* accept: [0, 15] * 4 is at most 60 */
SEC("xdp")
__naked void mul_4(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 15; r6 *= 4;" USE OUT :: IMMS : __clobber_all);
}

/* reject: [0, 15] * 5 reaches 75 */
SEC("xdp")
__naked void mul_5(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 15; r6 *= 5;" USE OUT :: IMMS : __clobber_all);
}

/* accept: [0, 31] + 32 is [32, 63] */
SEC("xdp")
__naked void add_32(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 31; r6 += 32;" USE OUT :: IMMS : __clobber_all);
}

/* reject: [0, 31] + 33 reaches 64 */
SEC("xdp")
__naked void add_33(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 31; r6 += 33;" USE OUT :: IMMS : __clobber_all);
}

/* accept: 63 - [0, 63] is [0, 63] (register minus register) */
SEC("xdp")
__naked void sub_from_63(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r1 = 63; r1 -= r6; r6 = r1;" USE OUT :: IMMS : __clobber_all);
}

/* reject: 64 - [0, 63] is [1, 64] */
SEC("xdp")
__naked void sub_from_64(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r1 = 64; r1 -= r6; r6 = r1;" USE OUT :: IMMS : __clobber_all);
}

/* accept: [0, 31] | 32 is [32, 63] */
SEC("xdp")
__naked void or_32(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 31; r6 |= 32;" USE OUT :: IMMS : __clobber_all);
}

/* reject: [0, 31] | 64 is [64, 95] */
SEC("xdp")
__naked void or_64(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 31; r6 |= 64;" USE OUT :: IMMS : __clobber_all);
}

/* accept: [0, 31] ^ 32 stays within [0, 63] */
SEC("xdp")
__naked void xor_32(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 31; r6 ^= 32;" USE OUT :: IMMS : __clobber_all);
}

/* reject: [0, 63] ^ 64 is [64, 127] */
SEC("xdp")
__naked void xor_64(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 ^= 64;" USE OUT :: IMMS : __clobber_all);
}

/* accept: -[0, 63] + 63 is [0, 63] */
SEC("xdp")
__naked void neg_plus_63(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 = -r6; r6 += 63;" USE OUT :: IMMS : __clobber_all);
}

/* reject: -[0, 63] alone is negative */
SEC("xdp")
__naked void neg_alone(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 = -r6;" USE OUT :: IMMS : __clobber_all);
}

/* accept: division keeps no bounds (the result of BPF_DIV is unknown), so mask after it */
SEC("xdp")
__naked void div_then_mask(void)
{
	asm volatile (VALPTR RAND32 "r6 /= 3; r6 &= 63;" USE OUT :: IMMS : __clobber_all);
}

/* reject: [0, 63] / 3 is [0, 21], but the kernel forgets the bounds of a division result */
SEC("xdp")
__naked void mask_then_div(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 /= 3;" USE OUT :: IMMS : __clobber_all);
}

/* accept: modulo keeps no bounds either; masking the result bounds it */
SEC("xdp")
__naked void mod_then_mask(void)
{
	asm volatile (VALPTR RAND32 "r6 %%= 64; r6 &= 63;" USE OUT :: IMMS : __clobber_all);
}

/* reject: any u32 % 64 is at most 63, but the kernel forgets the bounds of a modulo result */
SEC("xdp")
__naked void mod_64(void)
{
	asm volatile (VALPTR RAND32 "r6 %%= 64;" USE OUT :: IMMS : __clobber_all);
}

/* accept: 32-bit modulo (w6 %%= 64) of a 64-bit value, then masked */
SEC("xdp")
__naked void mod32_then_mask(void)
{
	asm volatile (VALPTR RAND64 "w6 %%= 64; w6 &= 63;" USE OUT :: IMMS : __clobber_all);
}

/* reject: 32-bit division leaves w6 an unknown u32 */
SEC("xdp")
__naked void div32_unbounded(void)
{
	asm volatile (VALPTR RAND64 "w6 /= 0x4000000;" USE OUT :: IMMS : __clobber_all);
}

/* accept: w6 = w6 zero-extends a u64 to its low 32 bits, and >> 26 leaves at most 63 */
SEC("xdp")
__naked void mov32_zext(void)
{
	asm volatile (VALPTR RAND64 "w6 = w6; r6 >>= 26;" USE OUT :: IMMS : __clobber_all);
}

/* reject: without the 32-bit move, a u64 >> 26 is far above 63 */
SEC("xdp")
__naked void mov64_no_zext(void)
{
	asm volatile (VALPTR RAND64 "r6 >>= 26;" USE OUT :: IMMS : __clobber_all);
}

/* accept: 32-bit add: ([0, 31] + 32) in w6, zero-extended */
SEC("xdp")
__naked void add32_32(void)
{
	asm volatile (VALPTR RAND64 "w6 &= 31; w6 += 32;" USE OUT :: IMMS : __clobber_all);
}

/* reject: 32-bit add of 0xffffffff wraps [0, 31] to 0xffffffff or [0, 30] */
SEC("xdp")
__naked void add32_wraps(void)
{
	asm volatile (VALPTR RAND64 "w6 &= 31; w6 += -1;" USE OUT :: IMMS : __clobber_all);
}

/* accept: 32-bit shifts: w6 <<= 26 then w6 >>= 26 keeps 6 bits */
SEC("xdp")
__naked void shift32_keep6(void)
{
	asm volatile (VALPTR RAND64 "w6 <<= 26; w6 >>= 26;" USE OUT :: IMMS : __clobber_all);
}

/* reject: w6 <<= 25 then w6 >>= 25 keeps 7 bits */
SEC("xdp")
__naked void shift32_keep7(void)
{
	asm volatile (VALPTR RAND64 "w6 <<= 25; w6 >>= 25;" USE OUT :: IMMS : __clobber_all);
}

/* accept: arithmetic right shift of a byte moved to the top: (x << 56) s>> 58 is [-32, 31], + 32 */
SEC("xdp")
__naked void arsh_58(void)
{
	asm volatile (VALPTR RAND32 "r6 <<= 56; r6 s>>= 58; r6 += 32;" USE OUT :: IMMS : __clobber_all);
}

/* reject: (x << 56) s>> 57 is [-64, 63], + 32 is [-32, 95] */
SEC("xdp")
__naked void arsh_57(void)
{
	asm volatile (VALPTR RAND32 "r6 <<= 56; r6 s>>= 57; r6 += 32;" USE OUT :: IMMS : __clobber_all);
}

/* accept: sign-extending move of a byte whose bit 7 is clear: (s8)[0, 63] is [0, 63] */
SEC("xdp")
__naked void movsx8_positive(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 = (s8)r6;" USE OUT :: IMMS : __clobber_all);
}

/* reject: (s8)[0, 255] is [-128, 127] */
SEC("xdp")
__naked void movsx8_negative(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 255; r6 = (s8)r6;" USE OUT :: IMMS : __clobber_all);
}

/* accept: sign-extending 32-bit move (s16) of [0, 63] stays [0, 63] */
SEC("xdp")
__naked void movsx16_w(void)
{
	asm volatile (VALPTR RAND32 "w6 &= 63; w6 = (s16)w6;" USE OUT :: IMMS : __clobber_all);
}

/* reject: sign-extending load of a byte (ldsx) is [-128, 127] */
SEC("xdp")
__naked void ldsx8(void)
{
	asm volatile (VALPTR "r6 = *(s8 *)(r7 + 0);" USE OUT :: IMMS : __clobber_all);
}

/* accept: a zero-extending byte load and 63 */
SEC("xdp")
__naked void ldx8_masked(void)
{
	asm volatile (VALPTR "r6 = *(u8 *)(r7 + 0); r6 &= 63;" USE OUT :: IMMS : __clobber_all);
}

/* accept: be16 of a value in [0, 0x3f00] (low byte zero) is at most 0x3f on this little-endian host */
SEC("xdp")
__naked void be16_swapped_low(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 0x3f00; r6 = be16 r6;" USE OUT :: IMMS : __clobber_all);
}

/* reject: be16 of [0, 63] moves the bits up: [0, 0x3f00] */
SEC("xdp")
__naked void be16_swapped_high(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 = be16 r6;" USE OUT :: IMMS : __clobber_all);
}

/* accept: le16 on a little-endian host truncates to 16 bits; >> 10 then leaves [0, 63] */
SEC("xdp")
__naked void le16_truncates(void)
{
	asm volatile (VALPTR RAND64 "r6 = le16 r6; r6 >>= 10;" USE OUT :: IMMS : __clobber_all);
}

/* reject: bswap64 of [0, 63] puts the bits at the top */
SEC("xdp")
__naked void bswap64_high(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 = bswap64 r6;" USE OUT :: IMMS : __clobber_all);
}

/* accept: signed division (s/=, ISA v4) then a mask */
SEC("xdp")
__naked void sdiv_then_mask(void)
{
	asm volatile (VALPTR RAND64 "r6 s/= -7; r6 &= 63;" USE OUT :: IMMS : __clobber_all);
}

/* reject: signed modulo (s%%=) of [0, 63] by 64 is unknown to the kernel */
SEC("xdp")
__naked void smod_unbounded(void)
{
	asm volatile (VALPTR RAND32 "r6 &= 63; r6 s%%= 64;" USE OUT :: IMMS : __clobber_all);
}
