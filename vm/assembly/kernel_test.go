package assembly

import (
	"strings"
	"testing"

	"github.com/xdpsim/xdpsim/vm"
)

// The expected strings below are written by hand from the format strings of the kernel's
// kernel/bpf/disasm.c (print_bpf_insn) and bpftool's xlated_dumper.c.
func TestFormatKernelMatchesTheKernelsDisassembler(t *testing.T) {
	lddw := func(dst, src uint8, lo, hi int32) []vm.Instruction {
		return []vm.Instruction{mk(vm.OpLdImm64, dst, src, 0, lo), mk(0, 0, 0, 0, hi)}
	}
	kfuncs := func(ins vm.Instruction) string {
		if ins.Src() == vm.PseudoKfuncCall && ins.Imm == 1234 {
			return "bpf_xdp_metadata_rx_hash"
		}
		return ""
	}
	tests := []struct {
		name string
		prog []vm.Instruction
		opts *KernelOptions
		want string
	}{
		// ALU, immediates in signed decimal.
		{"64-bit move of an immediate", one(mk(0xb7, 0, 0, 0, 1)), nil, "(b7) r0 = 1"},
		{"negative immediate", one(mk(0x07, 1, 0, 0, -8)), nil, "(07) r1 += -8"},
		{"64-bit register move", one(mk(0xbf, 1, 2, 0, 0)), nil, "(bf) r1 = r2"},
		{"32-bit register move uses w registers", one(mk(0xbc, 1, 2, 0, 0)), nil, "(bc) w1 = w2"},
		{"32-bit immediate", one(mk(0xb4, 3, 0, 0, -1)), nil, "(b4) w3 = -1"},
		{"sub", one(mk(0x1f, 1, 2, 0, 0)), nil, "(1f) r1 -= r2"},
		{"mul", one(mk(0x27, 1, 0, 0, 3)), nil, "(27) r1 *= 3"},
		{"div", one(mk(0x37, 1, 0, 0, 3)), nil, "(37) r1 /= 3"},
		{"signed div", one(mk(0x3f, 1, 2, 1, 0)), nil, "(3f) r1 s/= r2"},
		{"signed mod of an immediate", one(mk(0x97, 1, 0, 1, 3)), nil, "(97) r1 s%= 3"},
		{"32-bit signed mod", one(mk(0x9c, 1, 2, 1, 0)), nil, "(9c) w1 s%= w2"},
		{"mod", one(mk(0x9f, 1, 2, 0, 0)), nil, "(9f) r1 %= r2"},
		{"or", one(mk(0x47, 1, 0, 0, 16)), nil, "(47) r1 |= 16"},
		{"and", one(mk(0x5c, 1, 2, 0, 0)), nil, "(5c) w1 &= w2"},
		{"lsh", one(mk(0x67, 1, 0, 0, 32)), nil, "(67) r1 <<= 32"},
		{"rsh", one(mk(0x77, 1, 0, 0, 32)), nil, "(77) r1 >>= 32"},
		{"arsh", one(mk(0xc7, 1, 0, 0, 32)), nil, "(c7) r1 s>>= 32"},
		{"xor", one(mk(0xaf, 1, 1, 0, 0)), nil, "(af) r1 ^= r1"},
		{"neg", one(mk(0x87, 0, 0, 0, 0)), nil, "(87) r0 = -r0"},
		{"32-bit neg", one(mk(0x84, 5, 0, 0, 0)), nil, "(84) w5 = -w5"},
		{"movsx from 8 bits", one(mk(0xbf, 1, 2, 8, 0)), nil, "(bf) r1 = (s8)r2"},
		{"movsx from 16 bits", one(mk(0xbf, 1, 2, 16, 0)), nil, "(bf) r1 = (s16)r2"},
		{"movsx from 32 bits", one(mk(0xbf, 1, 2, 32, 0)), nil, "(bf) r1 = (s32)r2"},
		{"32-bit movsx", one(mk(0xbc, 1, 2, 8, 0)), nil, "(bc) w1 = (s8)w2"},
		{"le16", one(mk(0xd4, 0, 0, 0, 16)), nil, "(d4) r0 = le16 r0"},
		{"be32", one(mk(0xdc, 0, 0, 0, 32)), nil, "(dc) r0 = be32 r0"},
		{"be64", one(mk(0xdc, 7, 0, 0, 64)), nil, "(dc) r7 = be64 r7"},
		{"bswap64", one(mk(0xd7, 0, 0, 0, 64)), nil, "(d7) r0 = bswap64 r0"},
		{"bswap16", one(mk(0xd7, 2, 0, 0, 16)), nil, "(d7) r2 = bswap16 r2"},
		{"addr_space_cast", one(mk(0xbf, 1, 2, 1, 1)), nil, "(bf) r1 = addr_space_cast(r2, 0, 1)"},
		{"addr_space_cast splits imm", one(mk(0xbf, 1, 2, 1, 1<<16)), nil, "(bf) r1 = addr_space_cast(r2, 1, 0)"},
		{"per-CPU address", one(mk(0xbf, 0, 0, -1, 0)), nil, "(bf) r0 = &(void __percpu *)(r0)"},
		{"unknown ALU op prints a null string", one(mk(0xe7, 1, 0, 0, 2)), nil, "(e7) r1 (null) 2"},

		// Loads and stores: offsets always signed, "%+d".
		{"word load", one(mk(0x61, 1, 6, 4, 0)), nil, "(61) r1 = *(u32 *)(r6 +4)"},
		{"double-word load at a negative offset", one(mk(0x79, 1, 10, -8, 0)), nil, "(79) r1 = *(u64 *)(r10 -8)"},
		{"half-word load", one(mk(0x69, 1, 2, 0, 0)), nil, "(69) r1 = *(u16 *)(r2 +0)"},
		{"byte load", one(mk(0x71, 1, 2, 14, 0)), nil, "(71) r1 = *(u8 *)(r2 +14)"},
		{"sign-extending byte load", one(mk(0x91, 1, 2, 0, 0)), nil, "(91) r1 = *(s8 *)(r2 +0)"},
		{"sign-extending half-word load", one(mk(0x89, 1, 2, 2, 0)), nil, "(89) r1 = *(s16 *)(r2 +2)"},
		{"sign-extending word load", one(mk(0x81, 1, 10, -4, 0)), nil, "(81) r1 = *(s32 *)(r10 -4)"},
		{"sign-extending 64-bit load", one(mk(0x99, 1, 2, 0, 0)), nil, "(99) r1 = *((null) *)(r2 +0)"},
		{"store of an immediate", one(mk(0x7a, 10, 0, -8, 5)), nil, "(7a) *(u64 *)(r10 -8) = 5"},
		{"store of a negative immediate", one(mk(0x62, 1, 0, 4, -1)), nil, "(62) *(u32 *)(r1 +4) = -1"},
		{"store of a register", one(mk(0x7b, 10, 1, -8, 0)), nil, "(7b) *(u64 *)(r10 -8) = r1"},
		{"byte store of a register", one(mk(0x73, 1, 2, 0, 0)), nil, "(73) *(u8 *)(r1 +0) = r2"},
		{"nospec", one(mk(0xc2, 0, 0, 0, 0)), nil, "(c2) nospec"},
		{"bad store mode", one(mk(0x82, 0, 0, 0, 0)), nil, "BUG_st_82"},
		{"bad load mode", one(mk(0xa1, 0, 0, 0, 0)), nil, "BUG_ldx_a1"},
		{"bad store-register mode", one(mk(0x83, 0, 1, 0, 0)), nil, "BUG_83"},

		// Atomics.
		{"atomic add", one(mk(0xdb, 10, 1, -8, 0x00)), nil, "(db) lock *(u64 *)(r10 -8) += r1"},
		{"32-bit atomic or", one(mk(0xc3, 10, 1, -4, 0x40)), nil, "(c3) lock *(u32 *)(r10 -4) |= r1"},
		{"atomic and", one(mk(0xdb, 1, 2, 0, 0x50)), nil, "(db) lock *(u64 *)(r1 +0) &= r2"},
		{"atomic xor", one(mk(0xdb, 1, 2, 0, 0xa0)), nil, "(db) lock *(u64 *)(r1 +0) ^= r2"},
		{"atomic fetch add", one(mk(0xdb, 10, 1, -8, 0x01)), nil, "(db) r1 = atomic64_fetch_add((u64 *)(r10 -8), r1)"},
		{"32-bit atomic fetch xor", one(mk(0xc3, 10, 2, -4, 0xa1)), nil, "(c3) r2 = atomic_fetch_xor((u32 *)(r10 -4), r2)"},
		{"atomic fetch and", one(mk(0xdb, 10, 3, -8, 0x51)), nil, "(db) r3 = atomic64_fetch_and((u64 *)(r10 -8), r3)"},
		{"32-bit atomic fetch or", one(mk(0xc3, 10, 3, -8, 0x41)), nil, "(c3) r3 = atomic_fetch_or((u32 *)(r10 -8), r3)"},
		{"cmpxchg", one(mk(0xdb, 10, 1, -8, 0xf1)), nil, "(db) r0 = atomic64_cmpxchg((u64 *)(r10 -8), r0, r1)"},
		{"32-bit cmpxchg", one(mk(0xc3, 10, 1, -8, 0xf1)), nil, "(c3) r0 = atomic_cmpxchg((u32 *)(r10 -8), r0, r1)"},
		{"xchg", one(mk(0xdb, 10, 1, -8, 0xe1)), nil, "(db) r1 = atomic64_xchg((u64 *)(r10 -8), r1)"},
		{"32-bit xchg", one(mk(0xc3, 10, 1, -8, 0xe1)), nil, "(c3) r1 = atomic_xchg((u32 *)(r10 -8), r1)"},
		{"load-acquire", one(mk(0xdb, 0, 1, 0, 0x100)), nil, "(db) r0 = load_acquire((u64 *)(r1 +0))"},
		{"store-release", one(mk(0xd3, 1, 2, 8, 0x110)), nil, "(d3) store_release((u8 *)(r1 +8), r2)"},
		{"unknown atomic", one(mk(0xdb, 1, 2, 0, 0x10)), nil, "BUG_db"},

		// lddw: the full 64-bit value in hex, or what the callback makes of it.
		{"lddw of a constant", lddw(0, 0, 0x44332211, -0x778899ab), nil, "(18) r0 = 0x8877665544332211"},
		{"lddw of a small constant", lddw(1, 0, 1, 0), nil, "(18) r1 = 0x1"},
		{"lddw of a map pointer", lddw(1, vm.PseudoMapFD, -0x7e000000, -0x778f), nil, "(18) r1 = 0xffff887182000000"},
		{"lddw of a map pointer, hidden", lddw(1, vm.PseudoMapFD, -0x7e000000, -0x778f), &KernelOptions{HidePointers: true}, "(18) r1 = 0x0"},
		{"lddw of a map value, hidden", lddw(1, vm.PseudoMapValue, 1, 2), &KernelOptions{HidePointers: true}, "(18) r1 = 0x0"},
		{"hiding leaves BTF ids alone", lddw(1, vm.PseudoBTFID, 7, 0), &KernelOptions{HidePointers: true}, "(18) r1 = 0x7"},
		{"bpftool: map by id", lddw(1, vm.PseudoMapFD, 5, 0), &KernelOptions{Imm: BPFToolImm}, "(18) r1 = map[id:5]"},
		{"bpftool: map value", lddw(1, vm.PseudoMapValue, 5, 16), &KernelOptions{Imm: BPFToolImm}, "(18) r1 = map[id:5][0]+16"},
		{"bpftool: map index value", lddw(1, vm.PseudoMapIdxValue, 0, 8), &KernelOptions{Imm: BPFToolImm}, "(18) r1 = map[idx:0]+8"},
		{"bpftool: function", lddw(2, vm.PseudoFunc, 4, 0), &KernelOptions{Imm: BPFToolImm}, "(18) r2 = subprog[+4]"},
		{"bpftool: plain value", lddw(2, 0, -1, 0), &KernelOptions{Imm: BPFToolImm}, "(18) r2 = 0xffffffff"},
		{"lddw at the very end", one(mk(0x18, 1, 0, 0, 5)), nil, "(18) r1 = 0x5"},
		{"legacy absolute load", one(mk(0x20, 0, 0, 0, 12)), nil, "(20) r0 = *(u32 *)skb[12]"},
		{"legacy indirect load", one(mk(0x48, 0, 1, 0, 4)), nil, "(48) r0 = *(u16 *)skb[r1 + 4]"},
		{"bad load", one(mk(0x00, 0, 0, 0, 0)), nil, "BUG_ld_00"},

		// Jumps: immediates in hex (as u32), targets "pc%+d".
		{"jeq against zero", one(mk(0x15, 1, 0, 3, 0)), nil, "(15) if r1 == 0x0 goto pc+3"},
		{"jne against a negative immediate", one(mk(0x55, 1, 0, -3, -8)), nil, "(55) if r1 != 0xfffffff8 goto pc-3"},
		{"signed jump still prints hex", one(mk(0x65, 1, 0, 1, -1)), nil, "(65) if r1 s> 0xffffffff goto pc+1"},
		{"jgt of registers", one(mk(0x2d, 1, 2, 0, 0)), nil, "(2d) if r1 > r2 goto pc+0"},
		{"jge", one(mk(0x35, 1, 0, 1, 10)), nil, "(35) if r1 >= 0xa goto pc+1"},
		{"jlt", one(mk(0xa5, 1, 0, 1, 10)), nil, "(a5) if r1 < 0xa goto pc+1"},
		{"jle", one(mk(0xbd, 1, 2, 1, 0)), nil, "(bd) if r1 <= r2 goto pc+1"},
		{"jset", one(mk(0x45, 1, 0, 1, 1)), nil, "(45) if r1 & 0x1 goto pc+1"},
		{"jsge", one(mk(0x7d, 1, 2, 1, 0)), nil, "(7d) if r1 s>= r2 goto pc+1"},
		{"jslt", one(mk(0xc5, 1, 0, 1, 0)), nil, "(c5) if r1 s< 0x0 goto pc+1"},
		{"jsle", one(mk(0xdd, 1, 2, -1, 0)), nil, "(dd) if r1 s<= r2 goto pc-1"},
		{"32-bit jump of registers", one(mk(0x1e, 1, 2, -1, 0)), nil, "(1e) if w1 == w2 goto pc-1"},
		{"32-bit signed jump", one(mk(0x66, 1, 0, 0, 5)), nil, "(66) if w1 s> 0x5 goto pc+0"},
		{"goto", one(mk(0x05, 0, 0, -2, 0)), nil, "(05) goto pc-2"},
		{"goto forward", one(mk(0x05, 0, 0, 0, 0)), nil, "(05) goto pc+0"},
		{"gotol", one(mk(0x06, 0, 0, 0, 100000)), nil, "(06) gotol pc+100000"},
		{"gotox", one(mk(0x0d, 3, 0, 0, 0)), nil, "(0d) gotox r3"},
		{"may_goto", one(mk(0xe5, 0, 0, 4, 0)), nil, "(e5) may_goto pc+4"},
		{"exit", one(mk(0x95, 0, 0, 0, 0)), nil, "(95) exit"},
		{"exit in JMP32 is no exit", one(mk(0x96, 0, 0, 0, 0)), nil, "(96) if w0 exit 0x0 goto pc+0"},

		// Calls.
		{"helper call", one(mk(0x85, 0, 0, 0, 1)), nil, "(85) call bpf_map_lookup_elem#1"},
		{"XDP helper", one(mk(0x85, 0, 0, 0, 44)), nil, "(85) call bpf_xdp_adjust_head#44"},
		{"last helper", one(mk(0x85, 0, 0, 0, 211)), nil, "(85) call bpf_cgrp_storage_delete#211"},
		{"unknown helper", one(mk(0x85, 0, 0, 0, 212)), nil, "(85) call unknown#212"},
		{"negative helper", one(mk(0x85, 0, 0, 0, -1)), nil, "(85) call unknown#-1"},
		{"the table wins over the callback", one(mk(0x85, 0, 0, 0, 1)), &KernelOptions{CallName: func(vm.Instruction) string { return "x" }}, "(85) call bpf_map_lookup_elem#1"},
		{"the callback names unknown helpers", one(mk(0x85, 0, 0, 0, 999)), &KernelOptions{CallName: func(vm.Instruction) string { return "sim_helper" }}, "(85) call sim_helper#999"},
		{"bpf-to-bpf call", one(mk(0x85, 0, 1, 0, 5)), nil, "(85) call pc+5"},
		{"bpf-to-bpf call backwards", one(mk(0x85, 0, 1, 0, -7)), nil, "(85) call pc-7"},
		{"kfunc call", one(mk(0x85, 0, 2, 0, 1234)), nil, "(85) call kernel-function#1234"},
		{"kfunc named by the callback", one(mk(0x85, 0, 2, 0, 1234)), &KernelOptions{CallName: kfuncs}, "(85) call bpf_xdp_metadata_rx_hash#1234"},
		{"callx is a call of helper 0 to the kernel", one(mk(0x8d, 2, 0, 0, 0)), nil, "(8d) call bpf_unspec#0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatKernel(tt.prog, 0, tt.opts); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestDumpKernelNumbersSlotsAndSkipsTheSecondWordOfLddw(t *testing.T) {
	prog, err := Assemble(`
		lddw %r1, map_fd 3
		mov %r2, %r10
		add %r2, -8
		call 1
		jeq %r0, 0, +1
		ldxw %r0, [%r0]
		exit
	`)
	if err != nil {
		t.Fatal(err)
	}
	want := "" +
		"0: (18) r1 = map[id:3]\n" +
		"2: (bf) r2 = r10\n" +
		"3: (07) r2 += -8\n" +
		"4: (85) call bpf_map_lookup_elem#1\n" +
		"5: (15) if r0 == 0x0 goto pc+1\n" +
		"6: (61) r0 = *(u32 *)(r0 +0)\n" +
		"7: (95) exit\n"
	if got := DumpKernel(prog, &KernelOptions{Imm: BPFToolImm}); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	padded := DumpKernel(prog, &KernelOptions{PadIndex: true})
	if !strings.HasPrefix(padded, "   0: (18) r1 = 0x3\n   2: (bf) r2 = r10\n") {
		t.Errorf("bpftool numbering:\n%s", padded)
	}
	if got := FormatKernel(prog, 8, nil); got != "" {
		t.Errorf("index out of range gives %q", got)
	}
	if got := DumpKernel(nil, nil); got != "" {
		t.Errorf("empty program gives %q", got)
	}
}
