/* vc.h: what every program of the verifier corpus includes.
 *
 * Programs come in two kinds: C, and hand-written instructions in a naked function
 * (__naked void f(void) { asm volatile("..." :: __imm(...) : __clobber_all); }), which lets a case
 * hold instructions clang would never emit. In the assembly, helpers are named by
 * %[bpf_map_lookup_elem] (the helper's number, through __imm) and maps by %[map] (the map's
 * address, through __imm_addr, in an lddw: "r1 = %[map] ll").
 */
#ifndef VC_H
#define VC_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define __naked __attribute__((naked))
#define __clobber_all "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "memory"
#define __imm(name) [name] "i"(name)
#define __imm_const(name, expr) [name] "i"(expr)
#define __imm_addr(name) [name] "i"(&name)

#ifndef VC_LICENSE
#define VC_LICENSE "GPL"
#endif
char LICENSE[] SEC("license") = VC_LICENSE;

/* Assembly snippets (C string literals to splice into asm volatile). */

/* r0 = bpf_map_lookup_elem(&MAP, &(u32){0}): the value of key 0 or NULL; the key sits at fp-4.
 * Needs __imm(bpf_map_lookup_elem) and __imm_addr(MAP). */
#define LOOKUP0(MAP) \
	"r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4;" \
	"r1 = %[" #MAP "] ll; call %[bpf_map_lookup_elem];"

/* A 64-byte value, the usual target of the bounds cases. */
struct val64 {
	__u8 b[64];
};

/* The bounds cases: an array "vals" of one 64-byte value, and snippets around it. A case makes an
 * unknown scalar r6 (RAND32: any u32, RAND64: any u64), puts it through what it tests, and USE
 * adds it to a pointer to the value before a one-byte load, which the kernel accepts only when
 * r6 is known to lie within [0, 63]. */
#define VALS_MAP                                   \
	struct {                                       \
		__uint(type, BPF_MAP_TYPE_ARRAY);          \
		__uint(max_entries, 1);                    \
		__type(key, __u32);                        \
		__type(value, struct val64);               \
	} vals SEC(".maps")
/* r7 = a pointer to the value of key 0 (to l_out when NULL). */
#define VALPTR LOOKUP0(vals) "if r0 == 0 goto l_out_%=; r7 = r0;"
/* r6 = an unknown u32 (the helper returns an unknown 64-bit scalar: w6 = w0 keeps 32 bits). */
#define RAND32 "call %[bpf_get_prandom_u32]; w6 = w0;"
/* r6 = an unknown u64 (the value's first 8 bytes). */
#define RAND64 "r6 = *(u64 *)(r7 + 0);"
/* Load the byte at r7 + r6. */
#define USE "r7 += r6; r0 = *(u8 *)(r7 + 0);"
/* The end of every case: return XDP_PASS. */
#define OUT "l_out_%=: r0 = 2; exit;"
#define VALS_IMMS __imm(bpf_map_lookup_elem), __imm(bpf_get_prandom_u32), __imm_addr(vals)

#endif
