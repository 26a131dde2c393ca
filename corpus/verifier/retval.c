/* retval: what an XDP (or TC) program may return. Linux checks no range for XDP, TC or tcx
 * programs: any scalar (and, for root, even a pointer: see ptr.c) loads; what must hold is that
 * R0 was written.
 */
#include "vc.h"

/* accept: XDP_PASS */
SEC("xdp")
__naked void pass(void)
{
	asm volatile ("r0 = 2; exit;" ::: __clobber_all);
}

/* accept: 7, which is no XDP action (the driver treats it as an error at run time) */
SEC("xdp")
__naked void seven(void)
{
	asm volatile ("r0 = 7; exit;" ::: __clobber_all);
}

/* accept: -1 */
SEC("xdp")
__naked void minus_one(void)
{
	asm volatile ("r0 = -1; exit;" ::: __clobber_all);
}

/* accept: an unknown 64-bit value */
SEC("xdp")
__naked void unknown(void)
{
	asm volatile ("r0 = *(u32 *)(r1 + 16); r0 <<= 40; exit;" ::: __clobber_all);
}

/* reject: R0 written on no path */
SEC("xdp")
__naked void unset(void)
{
	asm volatile ("r1 = 2; exit;" ::: __clobber_all);
}

/* accept: only the low 32 bits written (w0 = 2 zero-extends) */
SEC("xdp")
__naked void w0(void)
{
	asm volatile ("w0 = 2; exit;" ::: __clobber_all);
}

/* accept: a program for devmap entries returning 7 */
SEC("xdp/devmap")
__naked void devmap_seven(void)
{
	asm volatile ("r0 = 7; exit;" ::: __clobber_all);
}

/* accept: a TC program returning 7 */
SEC("tc")
__naked void tc_seven(void)
{
	asm volatile ("r0 = 7; exit;" ::: __clobber_all);
}

/* accept: a tcx program returning TCX_NEXT (-1) */
SEC("tcx/ingress")
__naked void tcx_next(void)
{
	asm volatile ("r0 = -1; exit;" ::: __clobber_all);
}

/* accept: a tcx program returning -2: tcx checks no range either */
SEC("tcx/ingress")
__naked void tcx_minus_two(void)
{
	asm volatile ("r0 = -2; exit;" ::: __clobber_all);
}

/* accept: a tcx program returning 7 */
SEC("tcx/ingress")
__naked void tcx_seven(void)
{
	asm volatile ("r0 = 7; exit;" ::: __clobber_all);
}
