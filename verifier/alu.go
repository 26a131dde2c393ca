package verifier

import (
	"math"
	"math/bits"

	"github.com/xdpsim/xdpsim/vm"
)

// checkALU checks and applies an ALU or ALU64 instruction (check_alu_op).
func (e *env) checkALU(ins vm.Instruction) error {
	op := ins.Op & 0xf0
	alu64 := ins.Class() == vm.ClassALU64
	x := ins.Op&vm.SrcX != 0
	dst, src := ins.Dst(), ins.Src()
	regs := e.regs()
	switch op {
	case vm.AluNeg, vm.AluEnd:
		if op == vm.AluNeg {
			if x || src != 0 || ins.Off != 0 || ins.Imm != 0 {
				return e.reject("BPF_NEG uses reserved fields")
			}
		} else if src != 0 || ins.Off != 0 || (ins.Imm != 16 && ins.Imm != 32 && ins.Imm != 64) || (alu64 && x) {
			return e.reject("BPF_END uses reserved fields")
		}
		if err := e.readReg(dst); err != nil {
			return err
		}
		if err := e.writeReg(dst); err != nil {
			return err
		}
		d := &regs[dst]
		if d.isPointer() {
			// A root loader may leak pointers: the result is a number.
			d.setUnknown()
			return nil
		}
		if op == vm.AluNeg {
			old := *d
			d.setConst(0)
			d.id = 0
			if alu64 {
				d.sub32(&old)
				d.sub64(&old)
				d.varOff = old.varOff.neg()
			} else {
				d.sub32(&old)
				d.sub64(&old)
				d.varOff = old.varOff.neg()
				d.zext32()
			}
			d.sync()
			return nil
		}
		e.bswap(d, ins, alu64)
		return nil
	case vm.AluMov:
		if x {
			if !alu64 {
				if (ins.Off != 0 && ins.Off != 8 && ins.Off != 16) || ins.Imm != 0 {
					return e.reject("BPF_MOV uses reserved fields")
				}
			} else if (ins.Off != 0 && ins.Off != 8 && ins.Off != 16 && ins.Off != 32) || ins.Imm != 0 {
				return e.reject("BPF_MOV uses reserved fields")
			}
			if err := e.readReg(src); err != nil {
				return err
			}
		} else if src != 0 || ins.Off != 0 {
			return e.reject("BPF_MOV uses reserved fields")
		}
		if err := e.writeReg(dst); err != nil {
			return err
		}
		d := &regs[dst]
		if !x {
			if alu64 {
				d.setConst(uint64(int64(ins.Imm)))
			} else {
				d.setConst(uint64(uint32(ins.Imm)))
			}
			return nil
		}
		s := &regs[src]
		if alu64 {
			switch {
			case ins.Off == 0:
				if s.typ == scalarValue && s.id == 0 && !s.varOff.isConst() {
					s.id = e.newID()
				}
				*d = *s
			case s.typ != scalarValue:
				// movsx of a pointer: a root loader gets an unknown scalar.
				d.setUnknown()
			default:
				noSext := s.umax < uint64(1)<<(ins.Off-1)
				if noSext && s.id == 0 && !s.varOff.isConst() {
					s.id = e.newID()
				}
				*d = *s
				d.coerceToSizeSX(int(ins.Off / 8))
				if !noSext {
					d.id = 0
				}
				d.addC = false
			}
			return nil
		}
		// 32-bit moves.
		if s.typ != scalarValue {
			d.setUnknown()
			d.zext32()
			d.sync()
			return nil
		}
		if ins.Off == 0 {
			narrow := bits.Len64(s.umax) <= 32
			if narrow && s.id == 0 && !s.varOff.isConst() {
				s.id = e.newID()
			}
			*d = *s
			if !narrow {
				d.id, d.addC = 0, false
			}
		} else {
			noSext := s.umax < uint64(1)<<(ins.Off-1)
			if noSext && s.id == 0 && !s.varOff.isConst() {
				s.id = e.newID()
			}
			*d = *s
			d.coerceSubregToSizeSX(int(ins.Off / 8))
			if !noSext {
				d.id = 0
			}
			d.addC = false
		}
		d.zext32()
		d.sync()
		return nil
	}
	if op > vm.AluEnd {
		return e.reject("invalid BPF_ALU opcode %x", op)
	}
	if x {
		if ins.Imm != 0 || (ins.Off != 0 && ins.Off != 1) || (ins.Off == 1 && op != vm.AluMod && op != vm.AluDiv) {
			return e.reject("BPF_ALU uses reserved fields")
		}
		if err := e.readReg(src); err != nil {
			return err
		}
	} else if src != 0 || (ins.Off != 0 && ins.Off != 1) || (ins.Off == 1 && op != vm.AluMod && op != vm.AluDiv) {
		return e.reject("BPF_ALU uses reserved fields")
	}
	if err := e.readReg(dst); err != nil {
		return err
	}
	if (op == vm.AluMod || op == vm.AluDiv) && !x && ins.Imm == 0 {
		return e.reject("div by zero")
	}
	if (op == vm.AluLsh || op == vm.AluRsh || op == vm.AluArsh) && !x {
		size := int32(32)
		if alu64 {
			size = 64
		}
		if ins.Imm < 0 || ins.Imm >= size {
			return e.reject("invalid shift %d", ins.Imm)
		}
	}
	if err := e.writeReg(dst); err != nil {
		return err
	}
	return e.adjustRegMinMax(ins)
}

// bswap applies a byte swap or truncation to a scalar: the kernel swaps the bytes of the tnum
// and derives the bounds from it.
func (e *env) bswap(d *reg, ins vm.Instruction, alu64 bool) {
	le := ins.Op&vm.SrcX == 0 // BPF_TO_LE (or bswap in ALU64)
	size := int(ins.Imm / 8)
	if !alu64 && le {
		// A truncation on a little-endian machine.
		d.id, d.addC, d.off = 0, false, 0
		d.coerceToSize(size)
		return
	}
	swap := func(v uint64) uint64 {
		switch size {
		case 2:
			return uint64(bits.ReverseBytes16(uint16(v)))
		case 4:
			return uint64(bits.ReverseBytes32(uint32(v)))
		}
		return bits.ReverseBytes64(v)
	}
	t := tnum{swap(d.varOff.value), swap(d.varOff.mask)}
	*d = reg{typ: scalarValue, mapIdx: -1, varOff: t}
	d.markUnbounded()
	d.sync()
}

// adjustRegMinMax is the kernel's adjust_reg_min_max_vals for binary operations.
func (e *env) adjustRegMinMax(ins vm.Instruction) error {
	regs := e.regs()
	op := ins.Op & 0xf0
	alu64 := ins.Class() == vm.ClassALU64
	d := &regs[ins.Dst()]
	var s reg
	if ins.Op&vm.SrcX != 0 {
		sr := &regs[ins.Src()]
		if sr.typ != scalarValue {
			if d.typ != scalarValue {
				if op == vm.AluSub && alu64 {
					d.setUnknown()
					return nil
				}
				if op == vm.AluSub {
					d.setUnknown()
					return nil
				}
				return e.reject("R%d pointer %s pointer prohibited", ins.Dst(), aluOpNames[op>>4])
			}
			// scalar += pointer
			e.markPrecise(ins.Dst())
			off := *d
			return e.adjustPtrMinMax(ins, sr, &off, true)
		}
		if d.typ != scalarValue {
			e.markPrecise(ins.Src())
			s = *sr
			return e.adjustPtrMinMax(ins, d, &s, false)
		}
		if d.precise {
			e.markPrecise(ins.Src())
		}
		s = *sr
	} else {
		s = constReg(uint64(int64(ins.Imm)))
		if d.typ != scalarValue {
			return e.adjustPtrMinMax(ins, d, &s, false)
		}
	}
	e.adjustScalar(ins, d, &s)
	// Linked scalars: dst = src + const keeps the link with an offset.
	if op == vm.AluAdd && alu64 && d.id != 0 && s.isConst() {
		val := int64(s.varOff.value)
		if d.addC || val > math.MaxInt32 || val < math.MinInt32 {
			d.off, d.id, d.addC = 0, 0, false
		} else {
			d.addC = true
			d.off = int32(val)
		}
	} else {
		d.id, d.addC, d.off = 0, false, 0
	}
	return nil
}

// safeToCompute reports whether the result range of op can be computed from src.
func safeToCompute(op uint8, alu64 bool, s *reg) bool {
	srcConst := false
	bitsN := uint64(32)
	if alu64 {
		bitsN = 64
		srcConst = s.varOff.isConst() && s.smin == s.smax && s.umin == s.umax
	} else {
		srcConst = s.varOff.subreg().isConst() && s.s32min == s.s32max && s.u32min == s.u32max
	}
	switch op {
	case vm.AluAdd, vm.AluSub, vm.AluNeg, vm.AluAnd, vm.AluXor, vm.AluOr, vm.AluMul:
		return true
	case vm.AluLsh, vm.AluRsh, vm.AluArsh:
		return srcConst && s.umax < bitsN
	}
	return false
}

// adjustScalar computes dst op src for two scalars (adjust_scalar_min_max_vals).
func (e *env) adjustScalar(ins vm.Instruction, d, s *reg) {
	op := ins.Op & 0xf0
	alu64 := ins.Class() == vm.ClassALU64
	if !safeToCompute(op, alu64, s) {
		d.setUnknown()
		return
	}
	precise := d.precise
	switch op {
	case vm.AluAdd:
		d.add32(s)
		d.add64(s)
		d.varOff = d.varOff.add(s.varOff)
	case vm.AluSub:
		d.sub32(s)
		d.sub64(s)
		d.varOff = d.varOff.sub(s.varOff)
	case vm.AluMul:
		d.varOff = d.varOff.mul(s.varOff)
		d.mul32(s)
		d.mul64(s)
	case vm.AluAnd:
		both := d.varOff.isConst() && s.varOff.isConst()
		both32 := d.varOff.subreg().isConst() && s.varOff.subreg().isConst()
		d.varOff = d.varOff.and(s.varOff)
		d.and32(s, both32)
		d.and64(s, both)
	case vm.AluOr:
		both := d.varOff.isConst() && s.varOff.isConst()
		both32 := d.varOff.subreg().isConst() && s.varOff.subreg().isConst()
		d.varOff = d.varOff.or(s.varOff)
		d.or32(s, both32)
		d.or64(s, both)
	case vm.AluXor:
		both := d.varOff.isConst() && s.varOff.isConst()
		both32 := d.varOff.subreg().isConst() && s.varOff.subreg().isConst()
		d.varOff = d.varOff.xor(s.varOff)
		d.xor32(both32)
		d.xor64(both)
	case vm.AluLsh:
		if alu64 {
			d.lsh64(s.umin, s.umax)
		} else {
			d.lsh32(uint64(s.u32min), uint64(s.u32max))
		}
	case vm.AluRsh:
		if alu64 {
			d.rsh64(s.umin, s.umax)
		} else {
			d.rsh32(uint64(s.u32min), uint64(s.u32max))
		}
	case vm.AluArsh:
		if alu64 {
			d.arsh64(s.umin)
		} else {
			d.arsh32(uint64(s.u32min))
		}
	}
	if !alu64 {
		d.zext32()
	}
	d.sync()
	d.precise = precise
}

// sanePtrOffset is check_reg_sane_offset.
func (e *env) sanePtrOffset(r *reg, t regType, f typeFlag) error {
	known := r.varOff.isConst()
	val := int64(r.varOff.value)
	ts := typeString(t, f)
	if known && (val >= maxVarOff || val <= -maxVarOff) {
		return e.reject("math between %s pointer and %d is not allowed", ts, val)
	}
	if r.off >= maxVarOff || r.off <= -maxVarOff {
		return e.reject("%s pointer offset %d is not allowed", ts, r.off)
	}
	if r.smin == math.MinInt64 {
		return e.reject("math between %s pointer and register with unbounded min value is not allowed", ts)
	}
	if r.smin >= maxVarOff || r.smin <= -maxVarOff {
		return e.reject("value %d makes %s pointer be out of bounds", r.smin, ts)
	}
	return nil
}

// adjustPtrMinMax is pointer arithmetic (adjust_ptr_min_max_vals): ptr op off into dst.
// swapped says the instruction was "scalar += pointer".
func (e *env) adjustPtrMinMax(ins vm.Instruction, ptr, off *reg, swapped bool) error {
	op := ins.Op & 0xf0
	dstNo := ins.Dst()
	d := &e.regs()[dstNo]
	known := off.varOff.isConst()
	if (known && (off.smin != off.smax || off.umin != off.umax)) || off.smin > off.smax || off.umin > off.umax {
		d.setUnknown()
		return nil
	}
	if ins.Class() != vm.ClassALU64 {
		if op == vm.AluSub {
			d.setUnknown()
			return nil
		}
		return e.reject("R%d 32-bit pointer arithmetic prohibited", dstNo)
	}
	if ptr.maybeNull() {
		return e.reject("R%d pointer arithmetic on %s prohibited, null-check it first", dstNo, ptr.typeStr())
	}
	switch ptr.typ {
	case ptrToCtx, ptrToMapValue, ptrToMapKey, ptrToStack, ptrToPacketMeta, ptrToPacket, ptrToBTFID, ptrToMem, ptrToFunc, constPtrToDynptr:
	case constPtrToMap:
		if known && off.smin == 0 && op == vm.AluAdd {
			break
		}
		fallthrough
	default:
		return e.reject("R%d pointer arithmetic on %s prohibited", dstNo, ptr.typeStr())
	}
	p := *ptr
	if err := e.sanePtrOffset(off, p.typ, p.flags); err != nil {
		return err
	}
	if err := e.sanePtrOffset(&p, p.typ, p.flags); err != nil {
		return err
	}
	res := p
	res.precise = false
	res.mark32Unbounded()
	switch op {
	case vm.AluAdd:
		if known && int64(p.off)+off.smin == int64(int32(int64(p.off)+off.smin)) {
			res.off = p.off + int32(off.smin)
			break
		}
		a, o1 := addOverflow64(p.smin, off.smin)
		b, o2 := addOverflow64(p.smax, off.smax)
		if o1 || o2 {
			res.smin, res.smax = math.MinInt64, math.MaxInt64
		} else {
			res.smin, res.smax = a, b
		}
		umin, umax := p.umin+off.umin, p.umax+off.umax
		if umin < p.umin || umax < p.umax {
			res.umin, res.umax = 0, math.MaxUint64
		} else {
			res.umin, res.umax = umin, umax
		}
		res.varOff = p.varOff.add(off.varOff)
		if p.isPkt() {
			res.id = e.newID()
			res.rng = 0
		}
	case vm.AluSub:
		if swapped {
			return e.reject("R%d tried to subtract pointer from scalar", dstNo)
		}
		if p.typ == ptrToStack {
			return e.reject("R%d subtraction from stack pointer prohibited", dstNo)
		}
		if known && int64(p.off)-off.smin == int64(int32(int64(p.off)-off.smin)) {
			res.off = p.off - int32(off.smin)
			break
		}
		a, o1 := subOverflow64(p.smin, off.smax)
		b, o2 := subOverflow64(p.smax, off.smin)
		if o1 || o2 {
			res.smin, res.smax = math.MinInt64, math.MaxInt64
		} else {
			res.smin, res.smax = a, b
		}
		if p.umin < off.umax {
			res.umin, res.umax = 0, math.MaxUint64
		} else {
			res.umin, res.umax = p.umin-off.umax, p.umax-off.umin
		}
		res.varOff = p.varOff.sub(off.varOff)
		if p.isPkt() {
			res.id = e.newID()
			if off.smin < 0 {
				res.rng = 0
			}
		}
	case vm.AluAnd, vm.AluOr, vm.AluXor:
		return e.reject("R%d bitwise operator %s on pointer prohibited", dstNo, aluOpNames[op>>4])
	default:
		return e.reject("R%d pointer arithmetic with %s operator prohibited", dstNo, aluOpNames[op>>4])
	}
	if err := e.sanePtrOffset(&res, p.typ, p.flags); err != nil {
		return err
	}
	res.sync()
	*d = res
	return nil
}
