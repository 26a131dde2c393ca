package vm

import (
	"encoding/binary"
	"fmt"
)

// Instruction is one 64-bit eBPF instruction word exactly as RFC 9669 encodes it: an opcode byte, the
// destination register in the low nibble and the source register in the high nibble of the second
// byte, a signed 16-bit offset and a signed 32-bit immediate. A 64-bit immediate load (lddw) takes two
// consecutive words; the second holds the upper half of the constant in Imm.
type Instruction struct {
	Op   uint8
	Regs uint8
	Off  int16
	Imm  int32
}

// InstructionSize is the size in bytes of one instruction word.
const InstructionSize = 8

// Dst is the destination register number.
func (i Instruction) Dst() uint8 { return i.Regs & 0x0f }

// Src is the source register number.
func (i Instruction) Src() uint8 { return i.Regs >> 4 }

// Class is the instruction class (the low three bits of the opcode).
func (i Instruction) Class() uint8 { return i.Op & 0x07 }

// IsWide reports whether the instruction is the first word of a two-word lddw.
func (i Instruction) IsWide() bool { return i.Op == OpLdImm64 }

// Make builds an instruction from its fields.
func Make(op, dst, src uint8, off int16, imm int32) Instruction {
	return Instruction{Op: op, Regs: dst&0x0f | src<<4, Off: off, Imm: imm}
}

// Decode splits raw little-endian bytes into instruction words.
func Decode(b []byte) ([]Instruction, error) {
	if len(b)%InstructionSize != 0 {
		return nil, fmt.Errorf("program is %d bytes, not a multiple of %d", len(b), InstructionSize)
	}
	out := make([]Instruction, len(b)/InstructionSize)
	for i := range out {
		w := b[i*InstructionSize:]
		out[i] = Instruction{
			Op:   w[0],
			Regs: w[1],
			Off:  int16(binary.LittleEndian.Uint16(w[2:])),
			Imm:  int32(binary.LittleEndian.Uint32(w[4:])),
		}
	}
	return out, nil
}

// Encode writes instructions as raw little-endian bytes.
func Encode(insns []Instruction) []byte {
	out := make([]byte, len(insns)*InstructionSize)
	for i, in := range insns {
		w := out[i*InstructionSize:]
		w[0] = in.Op
		w[1] = in.Regs
		binary.LittleEndian.PutUint16(w[2:], uint16(in.Off))
		binary.LittleEndian.PutUint32(w[4:], uint32(in.Imm))
	}
	return out
}

// Instruction classes.
const (
	ClassLD    = 0x00
	ClassLDX   = 0x01
	ClassST    = 0x02
	ClassSTX   = 0x03
	ClassALU   = 0x04
	ClassJMP   = 0x05
	ClassJMP32 = 0x06
	ClassALU64 = 0x07
)

// Source operand selector for ALU and JMP classes.
const (
	SrcK = 0x00 // the immediate
	SrcX = 0x08 // the source register
)

// ALU operations (high four bits of the opcode).
const (
	AluAdd  = 0x00
	AluSub  = 0x10
	AluMul  = 0x20
	AluDiv  = 0x30
	AluOr   = 0x40
	AluAnd  = 0x50
	AluLsh  = 0x60
	AluRsh  = 0x70
	AluNeg  = 0x80
	AluMod  = 0x90
	AluXor  = 0xa0
	AluMov  = 0xb0
	AluArsh = 0xc0
	AluEnd  = 0xd0
)

// Jump operations (high four bits of the opcode).
const (
	JmpJA   = 0x00
	JmpJEQ  = 0x10
	JmpJGT  = 0x20
	JmpJGE  = 0x30
	JmpJSET = 0x40
	JmpJNE  = 0x50
	JmpJSGT = 0x60
	JmpJSGE = 0x70
	JmpCall = 0x80
	JmpExit = 0x90
	JmpJLT  = 0xa0
	JmpJLE  = 0xb0
	JmpJSLT = 0xc0
	JmpJSLE = 0xd0
	// JmpJCOND with source 0 is may_goto: a jump taken when the function's loop allowance is
	// spent (see OpMayGoto).
	JmpJCOND = 0xe0
)

// Load and store modes and sizes.
const (
	ModeIMM    = 0x00
	ModeMEM    = 0x60
	ModeMEMSX  = 0x80
	ModeATOMIC = 0xc0

	SizeW  = 0x00
	SizeH  = 0x08
	SizeB  = 0x10
	SizeDW = 0x18
)

// Atomic operations, held in the immediate of an atomic store.
const (
	AtomicAdd     = 0x00
	AtomicOr      = 0x40
	AtomicAnd     = 0x50
	AtomicXor     = 0xa0
	AtomicFetch   = 0x01
	AtomicXchg    = 0xe0 | AtomicFetch
	AtomicCmpXchg = 0xf0 | AtomicFetch
)

// Source register values of lddw that a loader produces (the "pseudo" sources), and of call.
const (
	PseudoMapFD       = 1 // imm is a map file descriptor / index
	PseudoMapValue    = 2 // imm is a map, next imm an offset into its value
	PseudoBTFID       = 3 // imm is a kernel BTF type id
	PseudoFunc        = 4 // imm is a relative instruction offset of a function
	PseudoMapIdx      = 5 // imm is a map index in the program's map table
	PseudoMapIdxValue = 6 // as PseudoMapValue with an index

	PseudoCall      = 1 // call: bpf-to-bpf, imm is a relative offset
	PseudoKfuncCall = 2 // call: kfunc, imm is a kernel BTF id (index into the kfunc table here)
)

// Opcodes used by name in several places.
const (
	OpLdImm64 = ClassLD | ModeIMM | SizeDW // 0x18
	OpCall    = ClassJMP | JmpCall         // 0x85
	OpCallX   = ClassJMP | JmpCall | SrcX  // 0x8d
	OpExit    = ClassJMP | JmpExit         // 0x95
	// OpMayGoto jumps when the running function's loop allowance (MaxLoops, given afresh at
	// every entry of a function and at a tail call) is spent, and otherwise takes one from it
	// and falls through. Source, destination and immediate are 0.
	OpMayGoto = ClassJMP | JmpJCOND // 0xe5
	OpJA32    = ClassJMP32 | JmpJA  // 0x06
)
