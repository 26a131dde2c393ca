/* tailcall: bpf_tail_call wants the context, a program array and an index; the x86 JIT lets
 * bpf-to-bpf functions tail call as long as the frames before them use at most 256 bytes.
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} progs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} notprogs SEC(".maps");

#define IMMS __imm(bpf_tail_call), __imm_addr(progs), __imm_addr(notprogs)
#define __sub static __naked __noinline __attribute__((used))

__sub void sub_tail_call_void(void)
{
	asm volatile ("r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;" :: IMMS : __clobber_all);
}

/* A function with a tail call must return int (its BTF says so). */
static __naked __noinline __attribute__((used)) int sub_tail_call(void)
{
	asm volatile ("r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call]; r0 = 0; exit;" :: IMMS : __clobber_all);
}

/* accept: a tail call into an (empty) program array falls through */
SEC("xdp")
__naked void tail_call(void)
{
	asm volatile ("r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call];" OUT :: IMMS : __clobber_all);
}

/* reject: an array map that holds no programs */
SEC("xdp")
__naked void tail_call_array(void)
{
	asm volatile ("r2 = %[notprogs] ll; r3 = 0; call %[bpf_tail_call];" OUT :: IMMS : __clobber_all);
}

/* reject: a scalar where the context goes */
SEC("xdp")
__naked void tail_call_no_ctx(void)
{
	asm volatile ("r1 = 0; r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call];" OUT :: IMMS : __clobber_all);
}

/* accept: the index may be any scalar */
SEC("xdp")
__naked void tail_call_any_index(void)
{
	asm volatile ("r3 = *(u32 *)(r1 + 12); r2 = %[progs] ll; call %[bpf_tail_call];" OUT :: IMMS : __clobber_all);
}

/* accept: a tail call from a function whose caller uses 8 bytes of stack */
SEC("xdp")
__naked void tail_call_in_sub(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r10 - 8) = r2; call sub_tail_call;" OUT :: IMMS : __clobber_all);
}

/* reject: a tail call from a function whose caller uses 264 bytes */
SEC("xdp")
__naked void tail_call_in_sub_big_caller(void)
{
	asm volatile ("r2 = 0; *(u64 *)(r10 - 264) = r2; call sub_tail_call;" OUT :: IMMS : __clobber_all);
}

/* reject: a tail call in a function whose BTF says it returns void */
SEC("xdp")
__naked void tail_call_in_void_sub(void)
{
	asm volatile ("call sub_tail_call_void;" OUT :: IMMS : __clobber_all);
}

/* accept: packet pointers survive a tail call that falls through (bpf_tail_call is not among the helpers that change packet data) */
SEC("xdp")
__naked void tail_call_stale_pkt(void)
{
	asm volatile ("r6 = *(u32 *)(r1 + 0); r7 = *(u32 *)(r1 + 4); r4 = r6; r4 += 1; if r4 > r7 goto l_out_%=;"
		      "r2 = %[progs] ll; r3 = 0; call %[bpf_tail_call]; r0 = *(u8 *)(r6 + 0);" OUT :: IMMS : __clobber_all);
}
