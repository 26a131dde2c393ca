package assembly

import "github.com/xdpsim/xdpsim/vm"

// Modes of the legacy packet loads, which vm does not name because its machine does not run them.
const (
	modeABS = 0x20 // BPF_ABS: r0 = *(size *)skb[imm]
	modeIND = 0x40 // BPF_IND: r0 = *(size *)skb[src + imm]
)

// aluNames are the mnemonics of the ALU operations, indexed by the operation's high nibble.
var aluNames = [16]string{
	vm.AluAdd >> 4:  "add",
	vm.AluSub >> 4:  "sub",
	vm.AluMul >> 4:  "mul",
	vm.AluDiv >> 4:  "div",
	vm.AluOr >> 4:   "or",
	vm.AluAnd >> 4:  "and",
	vm.AluLsh >> 4:  "lsh",
	vm.AluRsh >> 4:  "rsh",
	vm.AluNeg >> 4:  "neg",
	vm.AluMod >> 4:  "mod",
	vm.AluXor >> 4:  "xor",
	vm.AluMov >> 4:  "mov",
	vm.AluArsh >> 4: "arsh",
}

// jmpNames are the mnemonics of the conditional jumps, indexed by the operation's high nibble.
var jmpNames = [16]string{
	vm.JmpJEQ >> 4:  "jeq",
	vm.JmpJGT >> 4:  "jgt",
	vm.JmpJGE >> 4:  "jge",
	vm.JmpJSET >> 4: "jset",
	vm.JmpJNE >> 4:  "jne",
	vm.JmpJSGT >> 4: "jsgt",
	vm.JmpJSGE >> 4: "jsge",
	vm.JmpJLT >> 4:  "jlt",
	vm.JmpJLE >> 4:  "jle",
	vm.JmpJSLT >> 4: "jslt",
	vm.JmpJSLE >> 4: "jsle",
}

// sizeNames are the mnemonic suffixes of the access sizes, indexed by size >> 3.
var sizeNames = [4]string{
	vm.SizeW >> 3:  "w",
	vm.SizeH >> 3:  "h",
	vm.SizeB >> 3:  "b",
	vm.SizeDW >> 3: "dw",
}

// atomicNames are the mnemonics of the atomic read-modify-write operations, by immediate without
// the fetch flag.
var atomicNames = map[int32]string{
	vm.AtomicAdd: "add",
	vm.AtomicOr:  "or",
	vm.AtomicAnd: "and",
	vm.AtomicXor: "xor",
}

// pseudoNames are the keywords of the lddw pseudo sources, indexed by source register.
var pseudoNames = [7]string{
	vm.PseudoMapFD:       "map_fd",
	vm.PseudoMapValue:    "map_value",
	vm.PseudoBTFID:       "btf_id",
	vm.PseudoFunc:        "func",
	vm.PseudoMapIdx:      "map_idx",
	vm.PseudoMapIdxValue: "map_idx_value",
}

// pseudoHasSecond reports whether the second word of a lddw with this pseudo source carries a
// value of its own (an offset into a map value), so that the disassembler always prints it.
func pseudoHasSecond(src uint8) bool {
	return src == vm.PseudoMapValue || src == vm.PseudoMapIdxValue
}
