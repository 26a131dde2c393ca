/* jumps: the control-flow checks made before the walk: jumps out of the program or into the
 * middle of an lddw, instructions no path reaches, a last instruction that falls off the end,
 * opcodes that do not exist.
 */
#include "vc.h"

/* accept: a conditional jump over one instruction */
SEC("xdp")
__naked void jump_over(void)
{
	asm volatile ("r0 = 2; if r1 == 0 goto +1; r0 = 1; exit;" ::: __clobber_all);
}

/* reject: a jump past the end of the program */
SEC("xdp")
__naked void jump_past_end(void)
{
	asm volatile ("r0 = 2; goto +5; exit;" ::: __clobber_all);
}

/* reject: a jump before its start */
SEC("xdp")
__naked void jump_before_start(void)
{
	asm volatile ("r0 = 2; goto -5; exit;" ::: __clobber_all);
}

/* reject: a conditional jump into the second half of an lddw */
SEC("xdp")
__naked void jump_into_lddw(void)
{
	asm volatile ("r0 = 2; if r1 == 0 goto +1; r1 = 0x1234567890 ll; exit;" ::: __clobber_all);
}

/* reject: an instruction after exit that no jump reaches */
SEC("xdp")
__naked void unreachable(void)
{
	asm volatile ("r0 = 2; exit; r0 = 1; exit;" ::: __clobber_all);
}

/* reject: the last instruction is no exit or jump */
SEC("xdp")
__naked void falls_off_end(void)
{
	asm volatile ("r0 = 2; if r1 == 0 goto +1; exit; r0 = 1;" ::: __clobber_all);
}

/* accept: a program may end with an unconditional jump back */
SEC("xdp")
__naked void ends_with_jump(void)
{
	asm volatile ("r0 = 2; goto +1; l0_%=: exit; goto l0_%=;" ::: __clobber_all);
}

/* reject: its last instruction a conditional jump, which may fall off the end */
SEC("xdp")
__naked void ends_with_cond_jump(void)
{
	asm volatile ("r0 = 2; goto +1; l0_%=: exit; if r1 == 0 goto l0_%=;" ::: __clobber_all);
}

/* accept: goto +0 jumps to the next instruction */
SEC("xdp")
__naked void goto_zero(void)
{
	asm volatile ("r0 = 2; goto +0; exit;" ::: __clobber_all);
}

/* reject: an opcode that does not exist (0x8d) */
SEC("xdp")
__naked void bad_opcode(void)
{
	asm volatile ("r0 = 2; .8byte 0x000000000000008d; exit;" ::: __clobber_all);
}

/* reject: BPF_MOV with an immediate and a non-zero source register field */
SEC("xdp")
__naked void reserved_field(void)
{
	asm volatile ("r0 = 2; .8byte 0x00000002000010b7; exit;" ::: __clobber_all);
}

/* accept: the long jump of ISA v4 (gotol) */
SEC("xdp")
__naked void gotol(void)
{
	asm volatile ("r0 = 2; if r1 == 0 goto l0_%=; gotol l1_%=; l0_%=: r0 = 1; l1_%=: exit;" ::: __clobber_all);
}

/* reject: a jump over an instruction that nothing else reaches */
SEC("xdp")
__naked void jump_over_dead(void)
{
	asm volatile ("r0 = 2; goto +1; r0 = 1; exit;" ::: __clobber_all);
}

/* reject: no exit at all: a jump and a move */
SEC("xdp")
__naked void only_jump(void)
{
	asm volatile ("goto +0; r0 = 2;" ::: __clobber_all);
}
