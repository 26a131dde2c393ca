/* loops: root may loop as long as the verifier can walk every iteration (it compares states
 * across iterations to find loops that never end) within 1,000,000 processed instructions and
 * 8192 pending branches; bpf_loop and may_goto bound loops for it.
 */
#include "vc.h"

VALS_MAP;

/* accept: a loop of 16 iterations with a constant counter */
SEC("xdp")
__naked void counted_16(void)
{
	asm volatile ("r0 = 0; r1 = 0; l0_%=: r0 += r1; r1 += 1; if r1 < 16 goto l0_%=; r0 &= 3; exit;" ::: __clobber_all);
}

/* reject: the counter never changes: the same state comes round again */
SEC("xdp")
__naked void counter_stuck(void)
{
	asm volatile ("r0 = 2; r1 = 0; l0_%=: r1 += 0; if r1 < 16 goto l0_%=; exit;" ::: __clobber_all);
}

/* reject: a jump to itself */
SEC("xdp")
__naked void jump_to_self(void)
{
	asm volatile ("r0 = 2; if r1 == 0 goto l1_%=; l0_%=: goto l0_%=; l1_%=: exit;" ::: __clobber_all);
}

/* reject: an unknown count decremented to zero: each iteration leaves a branch pending, until 8193 pile up */
SEC("xdp")
__naked void unknown_count(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r1 = r0; l0_%=: if r1 == 0 goto l1_%=; r1 += -1; goto l0_%=; l1_%=: r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: an unknown count bounded to 64 first */
SEC("xdp")
__naked void unknown_count_bounded(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r1 = r0; r1 &= 63; l0_%=: if r1 == 0 goto l1_%=; r1 += -1; goto l0_%=; l1_%=: r0 = 2; exit;"
		      :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* 60 instructions that change nothing the verifier compares. */
#define PAD10 "r1 = r7; r1 = r7; r1 = r7; r1 = r7; r1 = r7; r1 = r7; r1 = r7; r1 = r7; r1 = r7; r1 = r7;"
#define PAD60 PAD10 PAD10 PAD10 PAD10 PAD10 PAD10

/* reject: 16 two-way branches in a row, 60 instructions apart, each adding its own power of two
 * to an offset the end uses (so that no path prunes another): the 65,536 paths pass the limit of
 * 1,000,000 processed instructions */
SEC("xdp")
__naked void too_many_insns(void)
{
	asm volatile (VALPTR "r6 = r7; r7 = 0;"
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l0_%=; r7 += 1; l0_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l1_%=; r7 += 2; l1_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l2_%=; r7 += 4; l2_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l3_%=; r7 += 8; l3_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l4_%=; r7 += 16; l4_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l5_%=; r7 += 32; l5_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l6_%=; r7 += 64; l6_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l7_%=; r7 += 128; l7_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l8_%=; r7 += 256; l8_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l9_%=; r7 += 512; l9_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l10_%=; r7 += 1024; l10_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l11_%=; r7 += 2048; l11_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l12_%=; r7 += 4096; l12_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l13_%=; r7 += 8192; l13_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l14_%=; r7 += 16384; l14_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l15_%=; r7 += 32768; l15_%=:" PAD60
		      "r7 &= 63; r6 += r7; r0 = *(u8 *)(r6 + 0);" OUT
		      :: VALS_IMMS : __clobber_all);
}

/* accept: 4 such branches: 16 paths */
SEC("xdp")
__naked void sixteen_paths(void)
{
	asm volatile (VALPTR "r6 = r7; r7 = 0;"
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l0_%=; r7 += 1; l0_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l1_%=; r7 += 2; l1_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l2_%=; r7 += 4; l2_%=:" PAD60
		      "call %[bpf_get_prandom_u32]; if r0 == 0 goto l3_%=; r7 += 8; l3_%=:" PAD60
		      "r7 &= 63; r6 += r7; r0 = *(u8 *)(r6 + 0);" OUT
		      :: VALS_IMMS : __clobber_all);
}

/* accept: 1,000 iterations of the same body */
SEC("xdp")
__naked void thousand_iterations(void)
{
	asm volatile ("r6 = 0;"
		      "l0_%=: r6 += 1;"
		      "r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6;"
		      "r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6; r1 = r6;"
		      "if r6 < 1000 goto l0_%=; r0 = 2; exit;" ::: __clobber_all);
}

/* reject: a loop that branches on an unknown value in every iteration piles up 8193 pending branches */
SEC("xdp")
__naked void too_many_branches(void)
{
	asm volatile ("r6 = 0;"
		      "l0_%=: r6 += 1; if r6 > 100000 goto l1_%=; call %[bpf_get_prandom_u32]; if r0 == 7 goto l1_%=; goto l0_%=;"
		      "l1_%=: r0 = 2; exit;" :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: the same loop, 1,000 iterations */
SEC("xdp")
__naked void thousand_branches(void)
{
	asm volatile ("r6 = 0;"
		      "l0_%=: r6 += 1; if r6 > 1000 goto l1_%=; call %[bpf_get_prandom_u32]; if r0 == 7 goto l1_%=; goto l0_%=;"
		      "l1_%=: r0 = 2; exit;" :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* accept: may_goto bounds a loop the verifier could not otherwise finish */
SEC("xdp")
__naked void may_goto_loop(void)
{
	asm volatile ("call %[bpf_get_prandom_u32]; r1 = r0;"
		      "l0_%=: may_goto l1_%=; if r1 == 0 goto l1_%=; r1 += -1; goto l0_%=;"
		      "l1_%=: r0 = 2; exit;" :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

static int step(__u32 i, void *ctx)
{
	*(__u64 *)ctx += i;
	return 0;
}

/* accept: bpf_loop for a loop of a million iterations */
SEC("xdp")
int million_bpf_loop(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(1000000, step, &sum, 0);
	return sum ? XDP_PASS : XDP_DROP;
}

/* accept: a C loop over the first 32 packet bytes */
SEC("xdp")
int c_bounded(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 sum = 0;

	for (int i = 0; i < 32; i++) {
		__u8 *p = data + i;

		if ((void *)(p + 1) > end)
			break;
		sum += *p;
	}
	return sum & 1 ? XDP_PASS : XDP_DROP;
}
