package assembly

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
)

// Disassemble renders a program in the assembly that [Assemble] reads, one instruction per line,
// with jump and call targets as signed offsets (+3, -2). Assemble gives the same words back. An
// instruction that has no text form (see the package documentation on validity) makes it fail
// with an [*InstructionError].
func Disassemble(insns []vm.Instruction) (string, error) {
	var b strings.Builder
	for i := 0; i < len(insns); {
		text, n, err := Format(insns, i)
		if err != nil {
			return "", err
		}
		b.WriteString(text)
		b.WriteByte('\n')
		i += n
	}
	return b.String(), nil
}

// Format renders the instruction at index i of a program in the assembly that [Assemble] reads
// and reports how many words it took: 2 for a lddw, which needs the word after it, else 1.
func Format(insns []vm.Instruction, i int) (text string, words int, err error) {
	if i < 0 || i >= len(insns) {
		return "", 0, &InstructionError{Index: i, Reason: fmt.Sprintf("index out of range [0, %d)", len(insns))}
	}
	f := formatter{insns: insns, i: i, ins: insns[i]}
	text, err = f.format()
	if err != nil {
		return "", 0, err
	}
	if f.ins.Op == vm.OpLdImm64 {
		return text, 2, nil
	}
	return text, 1, nil
}

type formatter struct {
	insns []vm.Instruction
	i     int
	ins   vm.Instruction
}

func (f *formatter) bad(format string, args ...any) error {
	return &InstructionError{Index: f.i, Insn: f.ins, Reason: fmt.Sprintf(format, args...)}
}

func (f *formatter) reserved() error { return f.bad("uses reserved fields") }

func (f *formatter) unknown() error { return f.bad("unknown opcode 0x%02x", f.ins.Op) }

func reg(r uint8) string { return "%r" + strconv.Itoa(int(r)) }

// imm renders a 32-bit immediate: small values in decimal, large ones as their 32 bits in hex,
// which is how constants such as 0x87654321 are usually written. Both read back the same.
func imm(v int32) string {
	if v > -65536 && v < 65536 {
		return strconv.Itoa(int(v))
	}
	return fmt.Sprintf("0x%x", uint32(v))
}

func mem(r uint8, off int16) string {
	if off == 0 {
		return "[" + reg(r) + "]"
	}
	return fmt.Sprintf("[%s%+d]", reg(r), off)
}

func (f *formatter) format() (string, error) {
	switch f.ins.Class() {
	case vm.ClassALU, vm.ClassALU64:
		return f.alu()
	case vm.ClassJMP, vm.ClassJMP32:
		return f.jmp()
	case vm.ClassLD:
		return f.ld()
	case vm.ClassLDX:
		return f.ldx()
	case vm.ClassST:
		return f.st()
	default:
		return f.stx()
	}
}

func (f *formatter) alu() (string, error) {
	ins := f.ins
	op := ins.Op & 0xf0
	x := ins.Op&vm.SrcX != 0
	is64 := ins.Class() == vm.ClassALU64
	suffix := "32"
	if is64 {
		suffix = ""
	}
	var name string
	switch op {
	case vm.AluEnd:
		if ins.Src() != 0 || ins.Off != 0 {
			return "", f.reserved()
		}
		if ins.Imm != 16 && ins.Imm != 32 && ins.Imm != 64 {
			return "", f.bad("byte swap width %d is not 16, 32 or 64", ins.Imm)
		}
		switch {
		case is64 && x:
			return "", f.unknown()
		case is64:
			name = "bswap"
		case x:
			name = "be"
		default:
			name = "le"
		}
		return fmt.Sprintf("%s%d %s", name, ins.Imm, reg(ins.Dst())), nil
	case vm.AluNeg:
		if x || ins.Src() != 0 || ins.Off != 0 || ins.Imm != 0 {
			return "", f.reserved()
		}
		return "neg" + suffix + " " + reg(ins.Dst()), nil
	case vm.AluMov:
		if x && ins.Off != 0 {
			if ins.Imm != 0 || !(ins.Off == 8 || ins.Off == 16 || (is64 && ins.Off == 32)) {
				return "", f.reserved()
			}
			bits := 64
			if !is64 {
				bits = 32
			}
			return fmt.Sprintf("movsx%d%d %s, %s", ins.Off, bits, reg(ins.Dst()), reg(ins.Src())), nil
		}
		name = "mov"
	case vm.AluDiv, vm.AluMod:
		name = aluNames[op>>4]
		if ins.Off == 1 {
			name = "s" + name
		} else if ins.Off != 0 {
			return "", f.reserved()
		}
	default:
		name = aluNames[op>>4]
		if name == "" {
			return "", f.unknown()
		}
	}
	if op != vm.AluDiv && op != vm.AluMod && ins.Off != 0 {
		return "", f.reserved()
	}
	if x {
		if ins.Imm != 0 {
			return "", f.reserved()
		}
		return fmt.Sprintf("%s%s %s, %s", name, suffix, reg(ins.Dst()), reg(ins.Src())), nil
	}
	if ins.Src() != 0 {
		return "", f.reserved()
	}
	return fmt.Sprintf("%s%s %s, %s", name, suffix, reg(ins.Dst()), imm(ins.Imm)), nil
}

func (f *formatter) jmp() (string, error) {
	ins := f.ins
	op := ins.Op & 0xf0
	x := ins.Op&vm.SrcX != 0
	is32 := ins.Class() == vm.ClassJMP32
	switch op {
	case vm.JmpJA:
		if x || ins.Regs != 0 {
			return "", f.reserved()
		}
		if is32 {
			if ins.Off != 0 {
				return "", f.reserved()
			}
			return fmt.Sprintf("ja32 %+d", ins.Imm), nil
		}
		if ins.Imm != 0 {
			return "", f.reserved()
		}
		return fmt.Sprintf("ja %+d", ins.Off), nil
	case vm.JmpJCOND:
		// may_goto (Linux's, beyond ISA v4): BPF_JMP only, nothing but the target set.
		if is32 || x || ins.Regs != 0 || ins.Imm != 0 || ins.Off == 0 {
			return "", f.unknown()
		}
		return fmt.Sprintf("may_goto %+d", ins.Off), nil
	case vm.JmpCall:
		if is32 {
			return "", f.unknown()
		}
		if x {
			if ins.Src() != 0 || ins.Off != 0 || ins.Imm != 0 {
				return "", f.reserved()
			}
			return "call " + reg(ins.Dst()), nil
		}
		if ins.Dst() != 0 {
			return "", f.reserved()
		}
		switch ins.Src() {
		case 0:
			if ins.Off != 0 {
				return "", f.reserved()
			}
			return fmt.Sprintf("call %d", ins.Imm), nil
		case vm.PseudoCall:
			if ins.Off != 0 {
				return "", f.reserved()
			}
			return fmt.Sprintf("call local %+d", ins.Imm), nil
		case vm.PseudoKfuncCall:
			if ins.Off != 0 {
				return fmt.Sprintf("call kfunc %d, %d", ins.Imm, ins.Off), nil
			}
			return fmt.Sprintf("call kfunc %d", ins.Imm), nil
		}
		return "", f.bad("unknown call source %d", ins.Src())
	case vm.JmpExit:
		if is32 || x {
			return "", f.unknown()
		}
		if ins.Regs != 0 || ins.Off != 0 || ins.Imm != 0 {
			return "", f.reserved()
		}
		return "exit", nil
	}
	name := jmpNames[op>>4]
	if name == "" {
		return "", f.unknown()
	}
	if is32 {
		name += "32"
	}
	if x {
		if ins.Imm != 0 {
			return "", f.reserved()
		}
		return fmt.Sprintf("%s %s, %s, %+d", name, reg(ins.Dst()), reg(ins.Src()), ins.Off), nil
	}
	if ins.Src() != 0 {
		return "", f.reserved()
	}
	return fmt.Sprintf("%s %s, %s, %+d", name, reg(ins.Dst()), imm(ins.Imm), ins.Off), nil
}

func (f *formatter) ld() (string, error) {
	ins := f.ins
	size := ins.Op & 0x18
	switch mode := ins.Op & 0xe0; {
	case ins.Op == vm.OpLdImm64:
		if ins.Off != 0 || int(ins.Src()) >= len(pseudoNames) {
			return "", f.reserved()
		}
		if f.i+1 >= len(f.insns) {
			return "", f.bad("lddw without its second word")
		}
		next := f.insns[f.i+1]
		if next.Op != 0 || next.Regs != 0 || next.Off != 0 {
			return "", f.bad("second word of lddw uses reserved fields")
		}
		src := ins.Src()
		if src == 0 {
			v := uint64(uint32(ins.Imm)) | uint64(uint32(next.Imm))<<32
			return fmt.Sprintf("lddw %s, 0x%x", reg(ins.Dst()), v), nil
		}
		value := strconv.Itoa(int(ins.Imm))
		if src == vm.PseudoFunc {
			value = fmt.Sprintf("%+d", ins.Imm)
		}
		text := fmt.Sprintf("lddw %s, %s %s", reg(ins.Dst()), pseudoNames[src], value)
		if pseudoHasSecond(src) || next.Imm != 0 {
			text += ", " + strconv.Itoa(int(next.Imm))
		}
		return text, nil
	case (mode == modeABS || mode == modeIND) && size != vm.SizeDW:
		if ins.Dst() != 0 || ins.Off != 0 {
			return "", f.reserved()
		}
		if mode == modeABS {
			if ins.Src() != 0 {
				return "", f.reserved()
			}
			return fmt.Sprintf("ldabs%s %s", sizeNames[size>>3], imm(ins.Imm)), nil
		}
		return fmt.Sprintf("ldind%s %s, %s", sizeNames[size>>3], reg(ins.Src()), imm(ins.Imm)), nil
	}
	return "", f.unknown()
}

func (f *formatter) ldx() (string, error) {
	ins := f.ins
	size := ins.Op & 0x18
	var name string
	switch ins.Op & 0xe0 {
	case vm.ModeMEM:
		name = "ldx" + sizeNames[size>>3]
	case vm.ModeMEMSX:
		if size == vm.SizeDW {
			return "", f.unknown()
		}
		name = "ldxs" + sizeNames[size>>3]
	default:
		return "", f.unknown()
	}
	if ins.Imm != 0 {
		return "", f.reserved()
	}
	return fmt.Sprintf("%s %s, %s", name, reg(ins.Dst()), mem(ins.Src(), ins.Off)), nil
}

func (f *formatter) st() (string, error) {
	ins := f.ins
	if ins.Op&0xe0 != vm.ModeMEM {
		return "", f.unknown()
	}
	if ins.Src() != 0 {
		return "", f.reserved()
	}
	return fmt.Sprintf("st%s %s, %s", sizeNames[(ins.Op&0x18)>>3], mem(ins.Dst(), ins.Off), imm(ins.Imm)), nil
}

func (f *formatter) stx() (string, error) {
	ins := f.ins
	size := ins.Op & 0x18
	switch ins.Op & 0xe0 {
	case vm.ModeMEM:
		if ins.Imm != 0 {
			return "", f.reserved()
		}
		return fmt.Sprintf("stx%s %s, %s", sizeNames[size>>3], mem(ins.Dst(), ins.Off), reg(ins.Src())), nil
	case vm.ModeATOMIC:
	default:
		return "", f.unknown()
	}
	if size != vm.SizeW && size != vm.SizeDW {
		return "", f.bad("atomic operation on %s-sized memory", sizeNames[size>>3])
	}
	suffix := ""
	if size == vm.SizeW {
		suffix = "32"
	}
	var op string
	switch ins.Imm {
	case vm.AtomicXchg:
		op = "xchg"
	case vm.AtomicCmpXchg:
		op = "cmpxchg"
	default:
		name, ok := atomicNames[ins.Imm&^vm.AtomicFetch]
		if !ok {
			return "", f.bad("unknown atomic operation 0x%x", ins.Imm)
		}
		op = name
		if ins.Imm&vm.AtomicFetch != 0 {
			op = "fetch " + name
		}
	}
	return fmt.Sprintf("lock %s%s %s, %s", op, suffix, mem(ins.Dst(), ins.Off), reg(ins.Src())), nil
}
