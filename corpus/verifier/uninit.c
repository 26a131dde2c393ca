/* uninit: registers read before they are written. At entry only R1 (the context) and R10 (the
 * frame pointer) are readable; a call leaves R1-R5 unreadable; R0 must be set before exit.
 */
#include "vc.h"

/* accept: R0 set before exit */
SEC("xdp")
__naked void r0_set(void)
{
	asm volatile ("r0 = 2; exit;" ::: __clobber_all);
}

/* reject: exit with R0 never written */
SEC("xdp")
__naked void r0_unset(void)
{
	asm volatile ("r1 = 2; exit;" ::: __clobber_all);
}

/* accept: R1 (the context) is readable at entry */
SEC("xdp")
__naked void read_r1(void)
{
	asm volatile ("r0 = r1; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: R2 is not readable at entry */
SEC("xdp")
__naked void read_r2(void)
{
	asm volatile ("r0 = r2; exit;" ::: __clobber_all);
}

/* reject: R9 is not readable at entry either, even as a store's source */
SEC("xdp")
__naked void store_r9(void)
{
	asm volatile ("*(u64 *)(r10 - 8) = r9; r0 = 2; exit;" ::: __clobber_all);
}

/* accept: R6 survives a helper call */
SEC("xdp")
__naked void callee_saved_kept(void)
{
	asm volatile ("r6 = 2; call %[bpf_get_prandom_u32]; r0 = r6; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* reject: R1 is scratched by a helper call */
SEC("xdp")
__naked void caller_saved_lost(void)
{
	asm volatile ("r1 = 2; call %[bpf_get_prandom_u32]; r0 = r1; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: R0 set on both paths of a branch */
SEC("xdp")
__naked void r0_both_paths(void)
{
	asm volatile ("r0 = 1; r2 = *(u32 *)(r1 + 12); if r2 == 1 goto l0_%=; r0 = 2; l0_%=: exit;"
		      ::: __clobber_all);
}

/* reject: R0 set on one path only */
SEC("xdp")
__naked void r0_one_path(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 12); if r2 == 1 goto l0_%=; r0 = 2; l0_%=: exit;"
		      ::: __clobber_all);
}

/* accept: R10 may be read and copied */
SEC("xdp")
__naked void read_r10(void)
{
	asm volatile ("r1 = r10; r1 += -8; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: R10 may not be written */
SEC("xdp")
__naked void write_r10(void)
{
	asm volatile ("r10 = 0; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: nor changed in place */
SEC("xdp")
__naked void add_r10(void)
{
	asm volatile ("r10 += -8; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: an unreadable register as a conditional jump's operand */
SEC("xdp")
__naked void jump_on_r3(void)
{
	asm volatile ("r0 = 2; if r3 > 5 goto l0_%=; l0_%=: exit;" ::: __clobber_all);
}

/* reject: an unreadable register as the address of a load */
SEC("xdp")
__naked void load_through_r4(void)
{
	asm volatile ("r0 = *(u32 *)(r4 + 0); exit;" ::: __clobber_all);
}
