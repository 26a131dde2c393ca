/* divzero: division and modulo by zero. By a register that may be zero they load (at run time x
 * / 0 is 0 and x % 0 is x); by the constant 0 the verifier refuses them.
 */
#include "vc.h"

/* accept: division by a register holding 0 (the result is 0) */
SEC("xdp")
__naked void div_reg_zero(void)
{
	asm volatile ("r0 = 7; r1 = 0; r0 /= r1; r0 += 2; exit;" ::: __clobber_all);
}

/* reject: division by the constant 0 */
SEC("xdp")
__naked void div_imm_zero(void)
{
	asm volatile ("r0 = 7; r0 /= 0; exit;" ::: __clobber_all);
}

/* accept: modulo by a register holding 0 (the result is the dividend) */
SEC("xdp")
__naked void mod_reg_zero(void)
{
	asm volatile ("r0 = 2; r1 = 0; r0 %%= r1; exit;" ::: __clobber_all);
}

/* reject: modulo by the constant 0 */
SEC("xdp")
__naked void mod_imm_zero(void)
{
	asm volatile ("r0 = 2; r0 %%= 0; exit;" ::: __clobber_all);
}

/* accept: 32-bit division by a register that may be zero */
SEC("xdp")
__naked void div32_reg_unknown(void)
{
	asm volatile ("r1 = *(u32 *)(r1 + 16); w0 = 6; w0 /= w1; w0 = 2; exit;" ::: __clobber_all);
}

/* reject: 32-bit division by the constant 0 */
SEC("xdp")
__naked void div32_imm_zero(void)
{
	asm volatile ("w0 = 6; w0 /= 0; exit;" ::: __clobber_all);
}

/* accept: signed division by -1 */
SEC("xdp")
__naked void sdiv_minus_one(void)
{
	asm volatile ("r0 = -2; r0 s/= -1; exit;" ::: __clobber_all);
}

/* reject: signed modulo by the constant 0 */
SEC("xdp")
__naked void smod_imm_zero(void)
{
	asm volatile ("r0 = 2; r0 s%%= 0; exit;" ::: __clobber_all);
}

/* accept: signed modulo by a register holding 0 */
SEC("xdp")
__naked void smod_reg_zero(void)
{
	asm volatile ("r0 = 2; r1 = 0; r0 s%%= r1; exit;" ::: __clobber_all);
}

/* reject: division of a pointer */
SEC("xdp")
__naked void div_pointer(void)
{
	asm volatile ("r0 = r10; r0 /= 2; r0 = 2; exit;" ::: __clobber_all);
}
