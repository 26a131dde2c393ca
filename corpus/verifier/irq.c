/* irq: local-interrupt sections. bpf_local_irq_save keeps the interrupt flags in an 8-byte stack
 * slot of its own (neither read nor written by the program) and bpf_local_irq_restore gives them
 * back; sections nest and close in reverse order, and none may be open at exit or at a tail
 * call.
 */
#include "vc.h"
#include "xdpsim_kfuncs.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} jt SEC(".maps");

VALS_MAP;

/* accept: interrupts saved, then restored */
SEC("xdp")
int save_restore(struct xdp_md *ctx)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	bpf_local_irq_restore(&f);
	return XDP_PASS;
}

/* reject: interrupts saved and never restored */
SEC("xdp")
int save_exit(struct xdp_md *ctx)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	return XDP_PASS;
}

/* reject: restored without a save */
SEC("xdp")
int restore_unsaved(struct xdp_md *ctx)
{
	unsigned long f = 0;

	bpf_local_irq_restore(&f);
	return XDP_PASS;
}

/* reject: saved twice into the same slot */
SEC("xdp")
__naked void save_twice(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -8; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -8; call %[bpf_local_irq_restore];" OUT
		      :: __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* accept: two sections nested, closed in reverse order */
SEC("xdp")
__naked void nested(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -16; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -16; call %[bpf_local_irq_restore];"
		      "r1 = r10; r1 += -8; call %[bpf_local_irq_restore];" OUT
		      :: __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* reject: the same closed in the order they were opened */
SEC("xdp")
__naked void nested_out_of_order(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -16; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -8; call %[bpf_local_irq_restore];"
		      "r1 = r10; r1 += -16; call %[bpf_local_irq_restore];" OUT
		      :: __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* reject: the saved flags read */
SEC("xdp")
__naked void flag_read(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_local_irq_save];"
		      "r6 = *(u64 *)(r10 - 8);"
		      "r1 = r10; r1 += -8; call %[bpf_local_irq_restore];" OUT
		      :: __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* reject: the saved flags overwritten */
SEC("xdp")
__naked void flag_written(void)
{
	asm volatile ("r1 = r10; r1 += -8; call %[bpf_local_irq_save];"
		      "r6 = 0; *(u64 *)(r10 - 8) = r6;"
		      "r1 = r10; r1 += -8; call %[bpf_local_irq_restore];" OUT
		      :: __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* reject: the flags at an offset that is not a slot's */
SEC("xdp")
__naked void flag_unaligned(void)
{
	asm volatile ("r1 = r10; r1 += -12; call %[bpf_local_irq_save];"
		      "r1 = r10; r1 += -12; call %[bpf_local_irq_restore];" OUT
		      :: __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* reject: the flags in a map value */
SEC("xdp")
__naked void flag_in_map(void)
{
	asm volatile (VALPTR
		      "r1 = r7; call %[bpf_local_irq_save];"
		      "r1 = r7; call %[bpf_local_irq_restore];" OUT
		      :: VALS_IMMS, __imm(bpf_local_irq_save), __imm(bpf_local_irq_restore) : __clobber_all);
}

/* reject: a tail call with interrupts saved */
SEC("xdp")
int tail_call_inside(struct xdp_md *ctx)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	bpf_tail_call(ctx, &jt, 0);
	bpf_local_irq_restore(&f);
	return XDP_PASS;
}

__noinline int g_id(int x)
{
	return x + 1;
}

/* accept: a global function called with interrupts saved */
SEC("xdp")
int global_call_inside(struct xdp_md *ctx)
{
	unsigned long f;
	int r;

	bpf_local_irq_save(&f);
	r = g_id(ctx->rx_queue_index);
	bpf_local_irq_restore(&f);
	return r ? XDP_PASS : XDP_DROP;
}

static __noinline int s_restore(unsigned long *f)
{
	bpf_local_irq_restore(f);
	return 0;
}

/* accept: saved, then restored by a static function given the flags */
SEC("xdp")
int static_restores(struct xdp_md *ctx)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	return s_restore(&f) ? XDP_DROP : XDP_PASS;
}

/* reject: restored on one path only */
SEC("xdp")
int restore_one_path(struct xdp_md *ctx)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	if (ctx->rx_queue_index)
		bpf_local_irq_restore(&f);
	return XDP_PASS;
}

static __noinline int s_save(unsigned long *f)
{
	bpf_local_irq_save(f);
	return 0;
}

/* accept: saved by a static function given the flags, restored by its caller */
SEC("xdp")
int static_saves(struct xdp_md *ctx)
{
	unsigned long f;
	int r;

	r = s_save(&f);
	bpf_local_irq_restore(&f);
	return r ? XDP_DROP : XDP_PASS;
}

static int cb_save(__u32 i, void *ctx)
{
	unsigned long f;

	bpf_local_irq_save(&f);
	return 0;
}

/* reject: a bpf_loop callback that saves and returns with the section open */
SEC("xdp")
int callback_leaves_open(struct xdp_md *ctx)
{
	bpf_loop(1, cb_save, 0, 0);
	return XDP_PASS;
}
