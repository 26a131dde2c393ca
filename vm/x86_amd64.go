//go:build amd64 && linux

package vm

import "encoding/binary"

// A small x86-64 encoder: only the instructions the JIT emits, always in the same (long) forms where
// a choice exists, so that code is easy to check against a disassembler (see x86_amd64_test.go).

// xreg is an x86-64 general-purpose register, numbered as the encoding numbers them.
type xreg uint8

const (
	rax xreg = iota
	rcx
	rdx
	rbx
	rsp
	rbp
	rsi
	rdi
	r8
	r9
	r10
	r11
	r12
	r13
	r14
	r15
)

// operand is a register or a memory operand [base + index*scale + disp].
type operand struct {
	mem      bool
	r        xreg // the register, or the base of a memory operand
	index    xreg
	hasIndex bool
	scale    uint8 // 1, 2, 4 or 8
	disp     int32
}

func reg(r xreg) operand { return operand{r: r} }

func memAt(base xreg, disp int32) operand { return operand{mem: true, r: base, disp: disp} }

func memIndex(base, index xreg, scale uint8, disp int32) operand {
	return operand{mem: true, r: base, index: index, hasIndex: true, scale: scale, disp: disp}
}

// Condition codes, as the low nibble of jcc's opcode.
const (
	ccB  = 0x2 // below (unsigned <), carry
	ccAE = 0x3 // above or equal (unsigned >=), no carry
	ccE  = 0x4
	ccNE = 0x5
	ccBE = 0x6
	ccA  = 0x7
	ccL  = 0xc
	ccGE = 0xd
	ccLE = 0xe
	ccG  = 0xf
)

// label is a position in the code, bound once; jumps to it are patched when the code is done.
type label int32

type fixup struct {
	at  int // offset of the rel32 field
	end int // offset of the end of the instruction (rel32 is relative to it)
	to  label
}

type asm struct {
	b      []byte
	labels []int32 // offset of each label, -1 while unbound
	fixups []fixup
}

func (a *asm) newLabel() label {
	a.labels = append(a.labels, -1)
	return label(len(a.labels) - 1)
}

func (a *asm) bind(l label) { a.labels[l] = int32(len(a.b)) }

func (a *asm) emit(b ...byte) { a.b = append(a.b, b...) }

func (a *asm) imm32(v int32) { a.b = binary.LittleEndian.AppendUint32(a.b, uint32(v)) }

// rex emits a REX prefix if the operation needs one: a 64-bit operand size (w), an extended register
// in the reg field or the operand, or (byteRegs) a byte register among SPL, BPL, SIL and DIL.
func (a *asm) rex(w bool, regf xreg, o operand, byteRegs bool) {
	v := byte(0x40)
	if w {
		v |= 8
	}
	if regf >= 8 {
		v |= 4
	}
	if o.mem && o.hasIndex && o.index >= 8 {
		v |= 2
	}
	if o.r >= 8 {
		v |= 1
	}
	force := byteRegs && ((regf >= 4 && regf < 8) || (!o.mem && o.r >= 4 && o.r < 8))
	if v != 0x40 || force {
		a.emit(v)
	}
}

// modrm emits the ModRM byte, and the SIB byte and displacement a memory operand needs.
func (a *asm) modrm(regf xreg, o operand) {
	r := byte(regf&7) << 3
	if !o.mem {
		a.emit(0xc0 | r | byte(o.r&7))
		return
	}
	var mod byte
	switch {
	case o.disp == 0 && o.r&7 != 5:
		mod = 0
	case o.disp >= -128 && o.disp <= 127:
		mod = 1
	default:
		mod = 2
	}
	if o.hasIndex || o.r&7 == 4 {
		idx := byte(4) // no index
		if o.hasIndex {
			idx = byte(o.index & 7)
		}
		var ss byte
		switch o.scale {
		case 2:
			ss = 1
		case 4:
			ss = 2
		case 8:
			ss = 3
		}
		a.emit(mod<<6|r|4, ss<<6|idx<<3|byte(o.r&7))
	} else {
		a.emit(mod<<6 | r | byte(o.r&7))
	}
	switch mod {
	case 1:
		a.emit(byte(int8(o.disp)))
	case 2:
		a.imm32(o.disp)
	}
}

// inst emits an instruction of operand size size (1, 2, 4 or 8 bytes): prefixes, REX, the opcode
// bytes, and ModRM for the reg field regf (a register, or an opcode extension) and operand o.
// byteRegs says that regf and a register operand are byte registers.
func (a *asm) inst(size int, opcode []byte, regf xreg, o operand, byteRegs bool) {
	if size == 2 {
		a.emit(0x66)
	}
	a.rex(size == 8, regf, o, byteRegs)
	a.emit(opcode...)
	a.modrm(regf, o)
}

// The two-operand ALU operations, by their ModRM extension (for the immediate forms); the register
// forms' opcodes follow from it.
const (
	aluAdd = 0
	aluOr  = 1
	aluAnd = 4
	aluSub = 5
	aluXor = 6
	aluCmp = 7
)

// alu emits "dst op= src" (dst a register or memory, src a register) at size 4 or 8.
func (a *asm) alu(op byte, size int, dst operand, src xreg) {
	a.inst(size, []byte{op<<3 | 1}, src, dst, false)
}

// aluLoad emits "dst op= src" (dst a register, src a register or memory) at size 4 or 8.
func (a *asm) aluLoad(op byte, size int, dst xreg, src operand) {
	a.inst(size, []byte{op<<3 | 3}, dst, src, false)
}

// aluImm emits "dst op= imm" (imm sign-extended to 64 bits at size 8).
func (a *asm) aluImm(op byte, size int, dst operand, imm int32) {
	if imm >= -128 && imm <= 127 {
		a.inst(size, []byte{0x83}, xreg(op), dst, false)
		a.emit(byte(int8(imm)))
		return
	}
	a.inst(size, []byte{0x81}, xreg(op), dst, false)
	a.imm32(imm)
}

// test emits "test dst, src".
func (a *asm) test(size int, dst operand, src xreg) { a.inst(size, []byte{0x85}, src, dst, false) }

// testImm emits "test dst, imm" (imm sign-extended at size 8).
func (a *asm) testImm(size int, dst operand, imm int32) {
	a.inst(size, []byte{0xf7}, 0, dst, false)
	a.imm32(imm)
}

// mov emits a register-to-register or register-to-memory move of size bytes.
func (a *asm) mov(size int, dst operand, src xreg) {
	if size == 1 {
		a.inst(1, []byte{0x88}, src, dst, true)
		return
	}
	a.inst(size, []byte{0x89}, src, dst, false)
}

// load emits "dst = src" for size 4 (zero-extending) or 8.
func (a *asm) load(size int, dst xreg, src operand) { a.inst(size, []byte{0x8b}, dst, src, false) }

// movzx emits a zero-extending load of 1 or 2 bytes into a 32-bit register (and so the whole 64).
func (a *asm) movzx(size int, dst xreg, src operand) {
	if size == 1 {
		a.inst(4, []byte{0x0f, 0xb6}, dst, src, !src.mem)
		return
	}
	a.inst(4, []byte{0x0f, 0xb7}, dst, src, false)
}

// movsx emits a sign-extending move of 1, 2 or 4 bytes into a register of dsize (4 or 8) bytes.
func (a *asm) movsx(size, dsize int, dst xreg, src operand) {
	switch size {
	case 1:
		a.inst(dsize, []byte{0x0f, 0xbe}, dst, src, !src.mem)
	case 2:
		a.inst(dsize, []byte{0x0f, 0xbf}, dst, src, false)
	default:
		a.inst(8, []byte{0x63}, dst, src, false)
	}
}

// storeImm emits a store of an immediate of size bytes (size 8: sign-extended from 32 bits).
func (a *asm) storeImm(size int, dst operand, imm int32) {
	switch size {
	case 1:
		a.inst(1, []byte{0xc6}, 0, dst, false)
		a.emit(byte(imm))
	case 2:
		a.inst(2, []byte{0xc7}, 0, dst, false)
		a.emit(byte(imm), byte(imm>>8))
	default:
		a.inst(size, []byte{0xc7}, 0, dst, false)
		a.imm32(imm)
	}
}

// movImm sets register r to the 64-bit value v in the shortest form.
func (a *asm) movImm(r xreg, v uint64) {
	switch {
	case v == 0:
		a.alu(aluXor, 4, reg(r), r)
	case v <= 0xffffffff:
		a.rex(false, 0, reg(r), false)
		a.emit(0xb8 + byte(r&7))
		a.imm32(int32(uint32(v)))
	case int64(v) >= -1<<31 && int64(v) < 1<<31:
		a.inst(8, []byte{0xc7}, 0, reg(r), false)
		a.imm32(int32(int64(v)))
	default:
		a.rex(true, 0, reg(r), false)
		a.emit(0xb8 + byte(r&7))
		a.b = binary.LittleEndian.AppendUint64(a.b, v)
	}
}

// lea emits "dst = address of src".
func (a *asm) lea(dst xreg, src operand) { a.inst(8, []byte{0x8d}, dst, src, false) }

// leaRIP emits "dst = address of l".
func (a *asm) leaRIP(dst xreg, l label) {
	a.rex(true, dst, operand{}, false)
	a.emit(0x8d, byte(dst&7)<<3|5)
	a.fixups = append(a.fixups, fixup{at: len(a.b), end: len(a.b) + 4, to: l})
	a.imm32(0)
}

// imul emits "dst *= src".
func (a *asm) imul(size int, dst xreg, src operand) {
	a.inst(size, []byte{0x0f, 0xaf}, dst, src, false)
}

// imulImm emits "dst = src * imm".
func (a *asm) imulImm(size int, dst xreg, src operand, imm int32) {
	a.inst(size, []byte{0x69}, dst, src, false)
	a.imm32(imm)
}

// Shift operations, by their ModRM extension.
const (
	shl = 4
	shr = 5
	sar = 7
)

// shiftImm emits "dst op= n".
func (a *asm) shiftImm(op byte, size int, dst operand, n uint8) {
	a.inst(size, []byte{0xc1}, xreg(op), dst, false)
	a.emit(n)
}

// shiftCL emits "dst op= cl".
func (a *asm) shiftCL(op byte, size int, dst operand) {
	a.inst(size, []byte{0xd3}, xreg(op), dst, false)
}

// Unary group-3 operations, by their ModRM extension.
const (
	opNeg  = 3
	opDiv  = 6
	opIdiv = 7
)

func (a *asm) unary(op byte, size int, dst operand) { a.inst(size, []byte{0xf7}, xreg(op), dst, false) }

// signExtendRAX emits cqo (size 8: rdx = sign of rax) or cdq (size 4: edx = sign of eax).
func (a *asm) signExtendRAX(size int) {
	if size == 8 {
		a.emit(0x48)
	}
	a.emit(0x99)
}

// bswap reverses the bytes of a 4- or 8-byte register.
func (a *asm) bswap(size int, r xreg) {
	a.rex(size == 8, 0, reg(r), false)
	a.emit(0x0f, 0xc8+byte(r&7))
}

// rol16 rotates the low 16 bits of r by n.
func (a *asm) rol16(r xreg, n uint8) {
	a.inst(2, []byte{0xc1}, 0, reg(r), false)
	a.emit(n)
}

// xadd emits "tmp = dst; dst += src; src = tmp".
func (a *asm) xadd(size int, dst operand, src xreg) {
	a.inst(size, []byte{0x0f, 0xc1}, src, dst, false)
}

// lock emits the LOCK prefix of the read-modify-write instruction that follows.
func (a *asm) lock() { a.emit(0xf0) }

// xchg emits "tmp = dst; dst = src; src = tmp", atomic without a LOCK prefix.
func (a *asm) xchg(size int, dst operand, src xreg) {
	a.inst(size, []byte{0x87}, src, dst, false)
}

// cmpxchg emits "if rax == dst { dst = src } else { rax = dst }".
func (a *asm) cmpxchg(size int, dst operand, src xreg) {
	a.inst(size, []byte{0x0f, 0xb1}, src, dst, false)
}

// bt copies bit number bit (below 32) of the 32 bits at dst into the carry flag.
func (a *asm) bt(dst operand, bit xreg) { a.inst(4, []byte{0x0f, 0xa3}, bit, dst, false) }

// jcc emits a conditional jump to l.
func (a *asm) jcc(cc byte, l label) {
	a.emit(0x0f, 0x80|cc)
	a.fixups = append(a.fixups, fixup{at: len(a.b), end: len(a.b) + 4, to: l})
	a.imm32(0)
}

// jmp emits a jump to l.
func (a *asm) jmp(l label) {
	a.emit(0xe9)
	a.fixups = append(a.fixups, fixup{at: len(a.b), end: len(a.b) + 4, to: l})
	a.imm32(0)
}

// jmpReg emits a jump to the address in r.
func (a *asm) jmpReg(r xreg) { a.inst(4, []byte{0xff}, 4, reg(r), false) }

func (a *asm) ret() { a.emit(0xc3) }

// link patches every jump with the offset of its label; every label must be bound.
func (a *asm) link() {
	for _, f := range a.fixups {
		binary.LittleEndian.PutUint32(a.b[f.at:], uint32(a.labels[f.to]-int32(f.end)))
	}
}
