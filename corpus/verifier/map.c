/* map: map value pointers (NULL checks and their propagation, offsets and sizes against the
 * value size, read-only maps, global variables) and the map pointer itself (CONST_PTR_TO_MAP).
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct val64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} arr SEC(".maps");

__u64 counter;                    /* .bss */
const volatile __u32 limit = 64;  /* .rodata, frozen: read-only to programs */

#define IMMS __imm(bpf_map_lookup_elem), __imm_addr(hash), __imm_addr(arr)

/* accept: an 8-byte load at offset 56 of a 64-byte value, after the NULL check */
SEC("xdp")
__naked void load_last_u64(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r0 = *(u64 *)(r0 + 56);" OUT :: IMMS : __clobber_all);
}

/* reject: an 8-byte load at offset 60 runs 4 bytes past the value */
SEC("xdp")
__naked void load_past_value(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r0 = *(u64 *)(r0 + 60);" OUT :: IMMS : __clobber_all);
}

/* reject: a load before the value (offset -1) */
SEC("xdp")
__naked void load_before_value(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r0 = *(u8 *)(r0 - 1);" OUT :: IMMS : __clobber_all);
}

/* accept: a store into the value */
SEC("xdp")
__naked void store_value(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r1 = 7; *(u32 *)(r0 + 60) = r1;" OUT :: IMMS : __clobber_all);
}

/* accept: the access on the non-NULL side of if r0 != 0 */
SEC("xdp")
__naked void jne_null_side(void)
{
	asm volatile (LOOKUP0(hash) "if r0 != 0 goto l_use_%=; goto l_out_%=; l_use_%=: r0 = *(u8 *)(r0 + 0);" OUT :: IMMS : __clobber_all);
}

/* reject: the access on the NULL side, where r0 is the scalar 0 */
SEC("xdp")
__naked void null_side(void)
{
	asm volatile (LOOKUP0(hash) "if r0 != 0 goto l_out_%=; r0 = *(u8 *)(r0 + 0);" OUT :: IMMS : __clobber_all);
}

/* accept: the NULL check of r0 also covers its copy r6 (same id) */
SEC("xdp")
__naked void null_check_copy(void)
{
	asm volatile (LOOKUP0(hash) "r6 = r0; if r0 == 0 goto l_out_%=; r0 = *(u8 *)(r6 + 0);" OUT :: IMMS : __clobber_all);
}

/* reject: a copy taken from another lookup is not covered by this check */
SEC("xdp")
__naked void null_check_other_lookup(void)
{
	asm volatile (LOOKUP0(hash) "r6 = r0;" LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r0 = *(u8 *)(r6 + 0);" OUT :: IMMS : __clobber_all);
}

/* accept: an array lookup with a constant key inside the array needs no NULL check */
SEC("xdp")
__naked void array_const_key_no_check(void)
{
	asm volatile (LOOKUP0(arr) "r0 = *(u64 *)(r0 + 0); r0 = 2; exit;" :: IMMS : __clobber_all);
}

/* reject: with the key 2, past the array's 2 entries, the NULL check is needed */
SEC("xdp")
__naked void array_key_past_end(void)
{
	asm volatile ("r1 = 2; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4; r1 = %[arr] ll; call %[bpf_map_lookup_elem];"
		      "r0 = *(u64 *)(r0 + 0); r0 = 2; exit;" :: IMMS : __clobber_all);
}

/* reject: a hash lookup with a constant key still needs the NULL check */
SEC("xdp")
__naked void hash_const_key_no_check(void)
{
	asm volatile (LOOKUP0(hash) "r0 = *(u64 *)(r0 + 0); r0 = 2; exit;" :: IMMS : __clobber_all);
}

/* accept: a variable offset of at most 56 for an 8-byte load */
SEC("xdp")
__naked void var_off_56(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r6 = *(u8 *)(r0 + 0); r6 &= 56; r0 += r6; r0 = *(u64 *)(r0 + 0);" OUT :: IMMS : __clobber_all);
}

/* reject: a variable offset of at most 57 for an 8-byte load */
SEC("xdp")
__naked void var_off_57(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r6 = *(u8 *)(r0 + 0); if r6 > 57 goto l_out_%=; r0 += r6; r0 = *(u64 *)(r0 + 0);" OUT :: IMMS : __clobber_all);
}

/* accept: a global variable in .bss, read and written */
SEC("xdp")
int c_bss(struct xdp_md *ctx)
{
	counter++;
	return counter > limit ? XDP_DROP : XDP_PASS;
}

/* reject: a store into .rodata, which cilium/ebpf freezes read-only for programs */
SEC("xdp")
__naked void store_rodata(void)
{
	asm volatile ("r1 = %[limit] ll; r2 = 1; *(u32 *)(r1 + 0) = r2; r0 = 2; exit;" :: __imm_addr(limit) : __clobber_all);
}

/* reject: a load past an 8-byte global variable's .bss value */
SEC("xdp")
__naked void load_past_bss(void)
{
	asm volatile ("r1 = %[counter] ll; r0 = *(u64 *)(r1 + 8); r0 = 2; exit;" :: __imm_addr(counter) : __clobber_all);
}

/* accept: the map pointer passed to a helper */
SEC("xdp")
__naked void map_ptr_to_helper(void)
{
	asm volatile (LOOKUP0(hash) OUT :: IMMS : __clobber_all);
}

/* reject: a scalar passed where the map pointer goes */
SEC("xdp")
__naked void scalar_as_map(void)
{
	asm volatile ("r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4; r1 = 0; call %[bpf_map_lookup_elem];" OUT :: IMMS : __clobber_all);
}

/* reject: the stack pointer passed where the map pointer goes */
SEC("xdp")
__naked void stack_as_map(void)
{
	asm volatile ("r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4; r1 = r10; call %[bpf_map_lookup_elem];" OUT :: IMMS : __clobber_all);
}

/* accept: root may read struct bpf_map through the map pointer (its BTF): 8 bytes at offset 0 */
SEC("xdp")
__naked void load_map_ptr(void)
{
	asm volatile ("r1 = %[hash] ll; r0 = *(u64 *)(r1 + 0); r0 = 2; exit;" :: IMMS : __clobber_all);
}

/* reject: but not write it */
SEC("xdp")
__naked void store_map_ptr(void)
{
	asm volatile ("r1 = %[hash] ll; r2 = 0; *(u64 *)(r1 + 0) = r2; r0 = 2; exit;" :: IMMS : __clobber_all);
}

/* reject: nor read past struct bpf_map */
SEC("xdp")
__naked void load_past_map_struct(void)
{
	asm volatile ("r1 = %[hash] ll; r0 = *(u64 *)(r1 + 4096); r0 = 2; exit;" :: IMMS : __clobber_all);
}
