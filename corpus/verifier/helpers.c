/* helpers: helper calls checked against their prototypes: argument types, memory and size
 * pairs (ARG_CONST_SIZE, zero sizes), map key and value sizes, map types, helpers that do not
 * exist or are not for XDP, and what the return types allow.
 */
#include "vc.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, struct val64);
} hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} devs SEC(".maps");

/* Load N bytes of the packet at offset 0 into the stack at fp-16 (16 bytes). */
#define LOAD_BYTES(N) "r2 = 0; r3 = r10; r3 += -16; r4 = " #N "; call %[bpf_xdp_load_bytes];"
#define IMMS __imm(bpf_xdp_load_bytes), __imm(bpf_map_lookup_elem), __imm(bpf_map_update_elem), \
	__imm(bpf_csum_diff), __imm(bpf_redirect_map), __imm(bpf_get_prandom_u32), __imm_addr(hash), __imm_addr(devs)

/* accept: bpf_xdp_load_bytes into 16 bytes of stack, length 16 */
SEC("xdp")
__naked void load_bytes_16(void)
{
	asm volatile (LOAD_BYTES(16) OUT :: IMMS : __clobber_all);
}

/* reject: length 17 for the same 16 bytes: the buffer would run past the frame */
SEC("xdp")
__naked void load_bytes_17(void)
{
	asm volatile (LOAD_BYTES(17) OUT :: IMMS : __clobber_all);
}

/* reject: length 0 where the size must not be zero (ARG_CONST_SIZE) */
SEC("xdp")
__naked void load_bytes_0(void)
{
	asm volatile (LOAD_BYTES(0) OUT :: IMMS : __clobber_all);
}

/* accept: a variable length bounded to [1, 16] */
SEC("xdp")
__naked void load_bytes_var_bounded(void)
{
	asm volatile ("r6 = r1; call %[bpf_get_prandom_u32]; r0 &= 15; r0 += 1; r4 = r0; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_xdp_load_bytes];" OUT
		      :: IMMS : __clobber_all);
}

/* reject: an unbounded length (any u32) */
SEC("xdp")
__naked void load_bytes_var_unbounded(void)
{
	asm volatile ("r6 = r1; call %[bpf_get_prandom_u32]; w4 = w0; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_xdp_load_bytes];" OUT
		      :: IMMS : __clobber_all);
}

/* reject: a length that may be negative ([-1, 14]) */
SEC("xdp")
__naked void load_bytes_var_negative(void)
{
	asm volatile ("r6 = r1; call %[bpf_get_prandom_u32]; r0 &= 15; r0 += -1; r4 = r0; r1 = r6; r2 = 0; r3 = r10; r3 += -16; call %[bpf_xdp_load_bytes];" OUT
		      :: IMMS : __clobber_all);
}

/* reject: a scalar where the buffer goes */
SEC("xdp")
__naked void load_bytes_scalar_buf(void)
{
	asm volatile ("r2 = 0; r3 = 64; r4 = 4; call %[bpf_xdp_load_bytes];" OUT :: IMMS : __clobber_all);
}

/* reject: the context argument moved off the context */
SEC("xdp")
__naked void load_bytes_modified_ctx(void)
{
	asm volatile ("r1 += 4;" LOAD_BYTES(4) OUT :: IMMS : __clobber_all);
}

/* reject: a packet pointer where the context goes */
SEC("xdp")
__naked void load_bytes_pkt_as_ctx(void)
{
	asm volatile ("r1 = *(u32 *)(r1 + 0);" LOAD_BYTES(4) OUT :: IMMS : __clobber_all);
}

/* accept: bpf_csum_diff with a NULL "from" of size 0 (ARG_CONST_SIZE_OR_ZERO, maybe NULL) */
SEC("xdp")
__naked void csum_diff_null_zero(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = 0; r2 = 0; r3 = r10; r3 += -8; r4 = 8; r5 = 0; call %[bpf_csum_diff];" OUT
		      :: IMMS : __clobber_all);
}

/* reject: a NULL "from" with a non-zero size */
SEC("xdp")
__naked void csum_diff_null_four(void)
{
	asm volatile ("r1 = 0; *(u64 *)(r10 - 8) = r1; r1 = 0; r2 = 4; r3 = r10; r3 += -8; r4 = 8; r5 = 0; call %[bpf_csum_diff];" OUT
		      :: IMMS : __clobber_all);
}

/* accept: packet bytes (checked) as csum_diff's memory */
SEC("xdp")
__naked void csum_diff_packet(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l_out_%=;"
		      "r1 = 0; r3 = r2; r2 = 0; r4 = 8; r5 = 0; call %[bpf_csum_diff];" OUT :: IMMS : __clobber_all);
}

/* reject: more packet bytes than checked */
SEC("xdp")
__naked void csum_diff_packet_short(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 8; if r4 > r3 goto l_out_%=;"
		      "r1 = 0; r3 = r2; r2 = 0; r4 = 12; r5 = 0; call %[bpf_csum_diff];" OUT :: IMMS : __clobber_all);
}

/* accept: a 4-byte key on the stack for a map with 4-byte keys */
SEC("xdp")
__naked void key_on_stack(void)
{
	asm volatile (LOOKUP0(hash) OUT :: IMMS : __clobber_all);
}

/* reject: the key pointer 2 bytes below the frame's top: a 4-byte key would run past it */
SEC("xdp")
__naked void key_past_frame(void)
{
	asm volatile ("r1 = 0; *(u16 *)(r10 - 2) = r1; r2 = r10; r2 += -2; r1 = %[hash] ll; call %[bpf_map_lookup_elem];" OUT
		      :: IMMS : __clobber_all);
}

/* reject: a scalar as the key */
SEC("xdp")
__naked void key_scalar(void)
{
	asm volatile ("r2 = 0; r1 = %[hash] ll; call %[bpf_map_lookup_elem];" OUT :: IMMS : __clobber_all);
}

/* accept: checked packet bytes as the key */
SEC("xdp")
__naked void key_in_packet(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r3 = *(u32 *)(r1 + 4); r4 = r2; r4 += 4; if r4 > r3 goto l_out_%=;"
		      "r1 = %[hash] ll; call %[bpf_map_lookup_elem];" OUT :: IMMS : __clobber_all);
}

/* reject: unchecked packet bytes as the key */
SEC("xdp")
__naked void key_in_packet_unchecked(void)
{
	asm volatile ("r2 = *(u32 *)(r1 + 0); r1 = %[hash] ll; call %[bpf_map_lookup_elem];" OUT :: IMMS : __clobber_all);
}

/* accept: a map value as the key of another lookup */
SEC("xdp")
__naked void key_in_map_value(void)
{
	asm volatile (LOOKUP0(hash) "if r0 == 0 goto l_out_%=; r2 = r0; r1 = %[hash] ll; call %[bpf_map_lookup_elem];" OUT
		      :: IMMS : __clobber_all);
}

/* accept: update with a 64-byte value on the stack */
SEC("xdp")
__naked void update_value_64(void)
{
	asm volatile ("r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4; r3 = r10; r3 += -72; r4 = 0; r1 = %[hash] ll; call %[bpf_map_update_elem];" OUT
		      :: IMMS : __clobber_all);
}

/* reject: the value pointer 8 bytes below the top: 64 bytes run past the frame */
SEC("xdp")
__naked void update_value_short(void)
{
	asm volatile ("r1 = 0; *(u32 *)(r10 - 4) = r1; r2 = r10; r2 += -4; r3 = r10; r3 += -8; r4 = 0; r1 = %[hash] ll; call %[bpf_map_update_elem];" OUT
		      :: IMMS : __clobber_all);
}

/* accept: bpf_redirect_map on a devmap */
SEC("xdp")
__naked void redirect_devmap(void)
{
	asm volatile ("r1 = %[devs] ll; r2 = 0; r3 = 2; call %[bpf_redirect_map]; exit;" :: IMMS : __clobber_all);
}

/* reject: bpf_redirect_map on a hash map */
SEC("xdp")
__naked void redirect_hash(void)
{
	asm volatile ("r1 = %[hash] ll; r2 = 0; r3 = 2; call %[bpf_redirect_map]; exit;" :: IMMS : __clobber_all);
}

/* reject: a helper number that does not exist */
SEC("xdp")
__naked void unknown_helper(void)
{
	asm volatile ("call 999;" OUT ::: __clobber_all);
}

/* reject: a helper that exists but not for XDP (bpf_skb_load_bytes) */
SEC("xdp")
__naked void skb_helper(void)
{
	asm volatile ("r2 = 0; r3 = r10; r3 += -8; r4 = 4; call %[bpf_skb_load_bytes];" OUT :: __imm(bpf_skb_load_bytes) : __clobber_all);
}

/* accept: bpf_get_current_pid_tgid, which one may take for a tracing helper, is among the base helpers XDP gets */
SEC("xdp")
__naked void tracing_helper(void)
{
	asm volatile ("call %[bpf_get_current_pid_tgid];" OUT :: __imm(bpf_get_current_pid_tgid) : __clobber_all);
}

/* accept: root may call bpf_probe_read_kernel from XDP */
SEC("xdp")
__naked void probe_read_kernel(void)
{
	asm volatile ("r1 = r10; r1 += -8; r2 = 8; r3 = 0; call %[bpf_probe_read_kernel];" OUT :: __imm(bpf_probe_read_kernel) : __clobber_all);
}

/* accept: the integer a helper returns may be returned (the CPU number: 0 where it is test-run) */
SEC("xdp")
__naked void return_helper_int(void)
{
	asm volatile ("call %[bpf_get_smp_processor_id]; exit;" :: __imm(bpf_get_smp_processor_id) : __clobber_all);
}

/* accept: bpf_trace_printk with a format on the stack */
SEC("xdp")
__naked void trace_printk(void)
{
	asm volatile ("r1 = 0x0a6968; *(u64 *)(r10 - 8) = r1; r1 = r10; r1 += -8; r2 = 4; call %[bpf_trace_printk];" OUT
		      :: __imm(bpf_trace_printk) : __clobber_all);
}

/* reject: bpf_trace_printk with a format size larger than the stack holds */
SEC("xdp")
__naked void trace_printk_too_long(void)
{
	asm volatile ("r1 = 0x0a6968; *(u64 *)(r10 - 8) = r1; r1 = r10; r1 += -8; r2 = 12; call %[bpf_trace_printk];" OUT
		      :: __imm(bpf_trace_printk) : __clobber_all);
}
