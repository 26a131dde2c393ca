package assembly

import (
	"fmt"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
)

// KernelOptions adjusts [FormatKernel] and [DumpKernel] the way the kernel's struct bpf_insn_cbs
// and its allow_ptr_leaks flag adjust print_bpf_insn. A nil *KernelOptions is the zero value:
// no callbacks, pointers shown, verifier-log numbering.
type KernelOptions struct {
	// CallName names a call that the kernel's helper table does not name (its cb_call): a kfunc
	// call (src 2), a bpf-to-bpf call (src 1) or a helper id outside the table. Returning ""
	// keeps the kernel's fallback: "kernel-function" for a kfunc, the signed offset for a
	// bpf-to-bpf call ("call pc+5"), "unknown" for anything else.
	CallName func(ins vm.Instruction) string

	// Imm renders the 64-bit value of a lddw (its cb_imm). second is the lddw's second word,
	// value the combined constant (already 0 when HidePointers hides it). nil renders "0x%x".
	// [BPFToolImm] renders map references as bpftool prog dump xlated does.
	Imm func(ins, second vm.Instruction, value uint64) string

	// HidePointers prints 0 as the value of a lddw of a map (pseudo sources map_fd and
	// map_value), as the verifier does for a loader that may not see kernel pointers.
	HidePointers bool

	// PadIndex numbers the lines of DumpKernel as bpftool does (printf "% 4d: ", so "  12: ")
	// rather than as the verifier log does ("12: ").
	PadIndex bool
}

// null is what the kernel's printf prints for a missing string: the tables below leave gaps.
const null = "(null)"

// Operator strings of the kernel's disassembler, indexed by operation >> 4.
var (
	kernelALU = [16]string{
		vm.AluAdd >> 4: "+=", vm.AluSub >> 4: "-=", vm.AluMul >> 4: "*=", vm.AluDiv >> 4: "/=",
		vm.AluOr >> 4: "|=", vm.AluAnd >> 4: "&=", vm.AluLsh >> 4: "<<=", vm.AluRsh >> 4: ">>=",
		vm.AluNeg >> 4: "neg", vm.AluMod >> 4: "%=", vm.AluXor >> 4: "^=", vm.AluMov >> 4: "=",
		vm.AluArsh >> 4: "s>>=", vm.AluEnd >> 4: "endian",
	}
	kernelALUSigned = [16]string{vm.AluDiv >> 4: "s/=", vm.AluMod >> 4: "s%="}
	kernelMovsx     = [4]string{0: "(s8)", 1: "(s16)", 3: "(s32)"}
	kernelAtomic    = [16]string{
		vm.AtomicAdd >> 4: "add", vm.AtomicAnd >> 4: "and", vm.AtomicOr >> 4: "or", vm.AtomicXor >> 4: "xor",
	}
	kernelSize   = [4]string{vm.SizeW >> 3: "u32", vm.SizeH >> 3: "u16", vm.SizeB >> 3: "u8", vm.SizeDW >> 3: "u64"}
	kernelSizeSX = [4]string{vm.SizeW >> 3: "s32", vm.SizeH >> 3: "s16", vm.SizeB >> 3: "s8"}
	kernelJmp    = [16]string{
		vm.JmpJA >> 4: "jmp", vm.JmpJEQ >> 4: "==", vm.JmpJGT >> 4: ">", vm.JmpJLT >> 4: "<",
		vm.JmpJGE >> 4: ">=", vm.JmpJLE >> 4: "<=", vm.JmpJSET >> 4: "&", vm.JmpJNE >> 4: "!=",
		vm.JmpJSGT >> 4: "s>", vm.JmpJSLT >> 4: "s<", vm.JmpJSGE >> 4: "s>=", vm.JmpJSLE >> 4: "s<=",
		vm.JmpCall >> 4: "call", vm.JmpExit >> 4: "exit",
	}
)

// Kernel-internal encodings that the disassembler knows and vm does not name.
const (
	addrSpaceCast = 1     // off of a 64-bit register mov: addr_space_cast
	addrPercpu    = -1    // off of a 64-bit register mov: per-CPU address
	modeNoSpec    = 0xc0  // BPF_ST mode: speculation barrier
	jmpCond       = 0xe0  // BPF_JCOND, with src 0 may_goto
	atomicLoadAcq = 0x100 // atomic imm: load-acquire
	atomicStorRel = 0x110 // atomic imm: store-release
)

func str(s string) string {
	if s == "" {
		return null
	}
	return s
}

// FormatKernel renders the instruction at index i as the kernel's print_bpf_insn does (the
// verifier log and bpftool prog dump xlated), without the "N: " prefix and the newline:
// "(b7) r0 = 1", "(85) call bpf_map_lookup_elem#1", "(15) if r1 == 0x0 goto pc+3". A lddw reads
// the word after it (0 when the program ends first). It renders every word, valid or not, as the
// kernel would, including its "BUG_..." lines. An index out of range gives "".
func FormatKernel(insns []vm.Instruction, i int, opts *KernelOptions) string {
	if i < 0 || i >= len(insns) {
		return ""
	}
	if opts == nil {
		opts = &KernelOptions{}
	}
	ins := insns[i]
	code, dst, src, off, imm := ins.Op, ins.Dst(), ins.Src(), ins.Off, ins.Imm
	class := ins.Class()
	op := code & 0xf0
	size := (code & 0x18) >> 3
	x := code&vm.SrcX != 0

	switch class {
	case vm.ClassALU, vm.ClassALU64:
		r := 'r'
		if class == vm.ClassALU {
			r = 'w'
		}
		switch {
		case op == vm.AluEnd && class == vm.ClassALU64:
			return fmt.Sprintf("(%02x) r%d = bswap%d r%d", code, dst, imm, dst)
		case op == vm.AluEnd:
			endian := "le"
			if x {
				endian = "be"
			}
			return fmt.Sprintf("(%02x) r%d = %s%d r%d", code, dst, endian, imm, dst)
		case op == vm.AluNeg:
			return fmt.Sprintf("(%02x) %c%d = -%c%d", code, r, dst, r, dst)
		case code == vm.ClassALU64|vm.AluMov|vm.SrcX && off == addrSpaceCast:
			return fmt.Sprintf("(%02x) r%d = addr_space_cast(r%d, %d, %d)", code, dst, src, uint32(imm)>>16, uint16(imm))
		case code == vm.ClassALU64|vm.AluMov|vm.SrcX && off == addrPercpu:
			return fmt.Sprintf("(%02x) r%d = &(void __percpu *)(r%d)", code, dst, src)
		}
		opStr := str(kernelALU[op>>4])
		if (op == vm.AluDiv || op == vm.AluMod) && off == 1 {
			opStr = kernelALUSigned[op>>4]
		}
		if x {
			movsx := ""
			if op == vm.AluMov && (off == 8 || off == 16 || off == 32) {
				movsx = str(kernelMovsx[(off>>3)-1])
			}
			return fmt.Sprintf("(%02x) %c%d %s %s%c%d", code, r, dst, opStr, movsx, r, src)
		}
		return fmt.Sprintf("(%02x) %c%d %s %d", code, r, dst, opStr, imm)

	case vm.ClassSTX:
		sz := kernelSize[size]
		mode := code & 0xe0
		switch {
		case mode == vm.ModeMEM:
			return fmt.Sprintf("(%02x) *(%s *)(r%d %+d) = r%d", code, sz, dst, off, src)
		case mode != vm.ModeATOMIC:
		case imm == vm.AtomicAdd || imm == vm.AtomicAnd || imm == vm.AtomicOr || imm == vm.AtomicXor:
			return fmt.Sprintf("(%02x) lock *(%s *)(r%d %+d) %s r%d", code, sz, dst, off, kernelALU[imm>>4], src)
		case imm == vm.AtomicAdd|vm.AtomicFetch || imm == vm.AtomicAnd|vm.AtomicFetch ||
			imm == vm.AtomicOr|vm.AtomicFetch || imm == vm.AtomicXor|vm.AtomicFetch:
			return fmt.Sprintf("(%02x) r%d = atomic%s_fetch_%s((%s *)(r%d %+d), r%d)",
				code, src, width64(size), kernelAtomic[imm>>4], sz, dst, off, src)
		case imm == vm.AtomicCmpXchg:
			return fmt.Sprintf("(%02x) r0 = atomic%s_cmpxchg((%s *)(r%d %+d), r0, r%d)", code, width64(size), sz, dst, off, src)
		case imm == vm.AtomicXchg:
			return fmt.Sprintf("(%02x) r%d = atomic%s_xchg((%s *)(r%d %+d), r%d)", code, src, width64(size), sz, dst, off, src)
		case imm == atomicLoadAcq:
			return fmt.Sprintf("(%02x) r%d = load_acquire((%s *)(r%d %+d))", code, dst, sz, src, off)
		case imm == atomicStorRel:
			return fmt.Sprintf("(%02x) store_release((%s *)(r%d %+d), r%d)", code, sz, dst, off, src)
		}
		return fmt.Sprintf("BUG_%02x", code)

	case vm.ClassST:
		switch code & 0xe0 {
		case vm.ModeMEM:
			return fmt.Sprintf("(%02x) *(%s *)(r%d %+d) = %d", code, kernelSize[size], dst, off, imm)
		case modeNoSpec:
			return fmt.Sprintf("(%02x) nospec", code)
		}
		return fmt.Sprintf("BUG_st_%02x", code)

	case vm.ClassLDX:
		switch code & 0xe0 {
		case vm.ModeMEM:
			return fmt.Sprintf("(%02x) r%d = *(%s *)(r%d %+d)", code, dst, kernelSize[size], src, off)
		case vm.ModeMEMSX:
			return fmt.Sprintf("(%02x) r%d = *(%s *)(r%d %+d)", code, dst, str(kernelSizeSX[size]), src, off)
		}
		return fmt.Sprintf("BUG_ldx_%02x", code)

	case vm.ClassLD:
		switch code & 0xe0 {
		case modeABS:
			return fmt.Sprintf("(%02x) r0 = *(%s *)skb[%d]", code, kernelSize[size], imm)
		case modeIND:
			return fmt.Sprintf("(%02x) r0 = *(%s *)skb[r%d + %d]", code, kernelSize[size], src, imm)
		case vm.ModeIMM:
			if code&0x18 != vm.SizeDW {
				break
			}
			var second vm.Instruction
			if i+1 < len(insns) {
				second = insns[i+1]
			}
			value := uint64(uint32(imm)) | uint64(uint32(second.Imm))<<32
			if opts.HidePointers && (src == vm.PseudoMapFD || src == vm.PseudoMapValue) {
				value = 0
			}
			text := fmt.Sprintf("0x%x", value)
			if opts.Imm != nil {
				text = opts.Imm(ins, second, value)
			}
			return fmt.Sprintf("(%02x) r%d = %s", code, dst, text)
		}
		return fmt.Sprintf("BUG_ld_%02x", code)
	}

	// BPF_JMP and BPF_JMP32.
	r := 'r'
	if class == vm.ClassJMP32 {
		r = 'w'
	}
	switch {
	case op == vm.JmpCall:
		name := kernelCallName(ins, opts)
		if src == vm.PseudoCall {
			return fmt.Sprintf("(%02x) call pc%s", code, name)
		}
		return fmt.Sprintf("(%02x) call %s#%d", code, name, imm)
	case code == vm.ClassJMP|vm.JmpJA:
		return fmt.Sprintf("(%02x) goto pc%+d", code, off)
	case code == vm.ClassJMP|vm.JmpJA|vm.SrcX:
		// Indirect jump through a register, added to the kernel together with jump tables.
		return fmt.Sprintf("(%02x) gotox r%d", code, dst)
	case code == vm.ClassJMP|jmpCond && src == 0:
		return fmt.Sprintf("(%02x) may_goto pc%+d", code, off)
	case code == vm.OpJA32:
		return fmt.Sprintf("(%02x) gotol pc%+d", code, imm)
	case code == vm.OpExit:
		return fmt.Sprintf("(%02x) exit", code)
	case x:
		return fmt.Sprintf("(%02x) if %c%d %s %c%d goto pc%+d", code, r, dst, str(kernelJmp[op>>4]), r, src, off)
	}
	return fmt.Sprintf("(%02x) if %c%d %s 0x%x goto pc%+d", code, r, dst, str(kernelJmp[op>>4]), uint32(imm), off)
}

// width64 is the "64" that the kernel puts in the names of 64-bit atomics.
func width64(size uint8) string {
	if size == vm.SizeDW>>3 {
		return "64"
	}
	return ""
}

// kernelCallName is the kernel's __func_get_name: the helper table first (for src 0 only), then
// the callback, then a fallback by kind of call.
func kernelCallName(ins vm.Instruction, opts *KernelOptions) string {
	if ins.Src() == 0 {
		if name := HelperName(ins.Imm); name != "" {
			return name
		}
	}
	if opts.CallName != nil {
		if name := opts.CallName(ins); name != "" {
			return name
		}
	}
	switch ins.Src() {
	case vm.PseudoCall:
		return fmt.Sprintf("%+d", ins.Imm)
	case vm.PseudoKfuncCall:
		return "kernel-function"
	}
	return "unknown"
}

// DumpKernel renders a whole program as the verifier log or bpftool prog dump xlated list it:
// one line per instruction, "N: " and then [FormatKernel]'s text, with N the slot index. The
// second word of a lddw gets no line of its own, so the numbering skips it.
func DumpKernel(insns []vm.Instruction, opts *KernelOptions) string {
	prefix := "%d: %s\n"
	if opts != nil && opts.PadIndex {
		prefix = "% 4d: %s\n"
	}
	var b strings.Builder
	for i := 0; i < len(insns); i++ {
		fmt.Fprintf(&b, prefix, i, FormatKernel(insns, i, opts))
		if insns[i].Op == vm.OpLdImm64 {
			i++
		}
	}
	return b.String()
}

// BPFToolImm renders the value of a lddw as bpftool prog dump xlated does (its print_imm): a map
// reference as map[id:N], a map value address as map[id:N][0]+OFF (or map[idx:N]+OFF for a map
// index), a function address as subprog[+N], anything else in hex. Use it as
// [KernelOptions].Imm.
func BPFToolImm(ins, second vm.Instruction, value uint64) string {
	switch ins.Src() {
	case vm.PseudoMapFD:
		return fmt.Sprintf("map[id:%d]", uint32(ins.Imm))
	case vm.PseudoMapValue:
		return fmt.Sprintf("map[id:%d][0]+%d", uint32(ins.Imm), uint32(second.Imm))
	case vm.PseudoMapIdxValue:
		return fmt.Sprintf("map[idx:%d]+%d", uint32(ins.Imm), uint32(second.Imm))
	case vm.PseudoFunc:
		return fmt.Sprintf("subprog[%+d]", ins.Imm)
	}
	return fmt.Sprintf("0x%x", value)
}
