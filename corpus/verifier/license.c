/* license: GPL-only helpers need a GPL-compatible license; this object's license is "MIT". */
#define VC_LICENSE "MIT"
#include "vc.h"

/* accept: a helper every program may call */
SEC("xdp")
__naked void plain_helper(void)
{
	asm volatile ("call %[bpf_get_prandom_u32];" OUT :: __imm(bpf_get_prandom_u32) : __clobber_all);
}

/* reject: bpf_trace_printk is GPL-only */
SEC("xdp")
__naked void gpl_helper(void)
{
	asm volatile ("r1 = 0x0a6968; *(u64 *)(r10 - 8) = r1; r1 = r10; r1 += -8; r2 = 4; call %[bpf_trace_printk];" OUT
		      :: __imm(bpf_trace_printk) : __clobber_all);
}
