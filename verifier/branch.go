package verifier

import (
	"math"
	"math/bits"

	"github.com/xdpsim/xdpsim/vm"
)

// Conditional jumps: decide the branch when the values allow it, otherwise explore both with
// what each side learns (check_cond_jmp_op).

func flipOpcode(op uint8) uint8 {
	switch op {
	case vm.JmpJGT:
		return vm.JmpJLT
	case vm.JmpJLT:
		return vm.JmpJGT
	case vm.JmpJGE:
		return vm.JmpJLE
	case vm.JmpJLE:
		return vm.JmpJGE
	case vm.JmpJSGT:
		return vm.JmpJSLT
	case vm.JmpJSLT:
		return vm.JmpJSGT
	case vm.JmpJSGE:
		return vm.JmpJSLE
	case vm.JmpJSLE:
		return vm.JmpJSGE
	}
	return op
}

const jsetNot = 0xf1 // the reverse of JSET, only used here

func revOpcode(op uint8) uint8 {
	switch op {
	case vm.JmpJEQ:
		return vm.JmpJNE
	case vm.JmpJNE:
		return vm.JmpJEQ
	case vm.JmpJSET:
		return jsetNot
	case jsetNot:
		return vm.JmpJSET
	case vm.JmpJGT:
		return vm.JmpJLE
	case vm.JmpJGE:
		return vm.JmpJLT
	case vm.JmpJLT:
		return vm.JmpJGE
	case vm.JmpJLE:
		return vm.JmpJGT
	case vm.JmpJSGT:
		return vm.JmpJSLE
	case vm.JmpJSGE:
		return vm.JmpJSLT
	case vm.JmpJSLT:
		return vm.JmpJSGE
	case vm.JmpJSLE:
		return vm.JmpJSGT
	}
	return op
}

func isRegConst(r *reg, is32 bool) bool {
	if is32 {
		return r.varOff.subreg().isConst()
	}
	return r.varOff.isConst()
}

func regConst(r *reg, is32 bool) uint64 {
	if is32 {
		return uint64(uint32(r.varOff.value))
	}
	return r.varOff.value
}

// regNotNull is reg_not_null.
func regNotNull(r *reg) bool {
	if r.maybeNull() {
		return false
	}
	switch r.typ {
	case ptrToSocket, ptrToTCPSock, ptrToMapValue, ptrToMapKey, ptrToSockCommon, constPtrToMap:
		return true
	case ptrToBTFID:
		return r.flags&flagTrusted != 0
	case ptrToMem:
		return r.flags&flagUntrusted == 0
	}
	return false
}

// isBranchTaken returns 1 (always), 0 (never) or -1 (unknown).
func isBranchTaken(r1, r2 *reg, op uint8, is32 bool) int {
	if r1.isPkt() || r1.typ == ptrToPacketEnd {
		if (r2.isPkt() || r2.typ == ptrToPacketEnd) && !is32 {
			return isPktPtrBranchTaken(r1, r2, op)
		}
	}
	if r1.isPointer() || r2.isPointer() {
		if !isRegConst(r2, is32) || r2.isPointer() {
			op = flipOpcode(op)
			r1, r2 = r2, r1
		}
		if r2.isPointer() || !isRegConst(r2, is32) {
			return -1
		}
		if !regNotNull(r1) {
			return -1
		}
		if regConst(r2, is32) != 0 {
			return -1
		}
		switch op {
		case vm.JmpJEQ:
			return 0
		case vm.JmpJNE:
			return 1
		}
		return -1
	}
	return isScalarBranchTaken(r1, r2, op, is32)
}

func isPktPtrBranchTaken(dst, src *reg, op uint8) int {
	var pkt *reg
	switch {
	case src.typ == ptrToPacketEnd:
		pkt = dst
	case dst.typ == ptrToPacketEnd:
		pkt = src
		op = flipOpcode(op)
	default:
		return -1
	}
	if pkt.rng >= 0 {
		return -1
	}
	switch op {
	case vm.JmpJLE, vm.JmpJGT:
		if pkt.rng == beyondPktEnd {
			return b2i(op == vm.JmpJGT)
		}
	case vm.JmpJLT, vm.JmpJGE:
		if pkt.rng == beyondPktEnd || pkt.rng == atPktEnd {
			return b2i(op == vm.JmpJGE)
		}
	}
	return -1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

type bnd struct {
	umin, umax uint64
	smin, smax int64
}

func bounds(r *reg, is32 bool) bnd {
	if is32 {
		return bnd{uint64(r.u32min), uint64(r.u32max), int64(r.s32min), int64(r.s32max)}
	}
	return bnd{r.umin, r.umax, r.smin, r.smax}
}

func isScalarBranchTaken(r1, r2 *reg, op uint8, is32 bool) int {
	t1, t2 := r1.varOff, r2.varOff
	if is32 {
		t1, t2 = t1.subreg(), t2.subreg()
	}
	a, b := bounds(r1, is32), bounds(r2, is32)
	switch op {
	case vm.JmpJEQ, vm.JmpJNE:
		eq := op == vm.JmpJEQ
		if t1.isConst() && t2.isConst() {
			return b2i((t1.value == t2.value) == eq)
		}
		if a.umin > b.umax || a.umax < b.umin || a.smin > b.smax || a.smax < b.smin {
			return b2i(!eq)
		}
		if !is32 {
			if r1.u32min > r2.u32max || r1.u32max < r2.u32min || r1.s32min > r2.s32max || r1.s32max < r2.s32min {
				return b2i(!eq)
			}
		}
	case vm.JmpJSET:
		if !isRegConst(r2, is32) {
			r1, r2 = r2, r1
			t1, t2 = t2, t1
		}
		if !isRegConst(r2, is32) {
			return -1
		}
		if (^t1.mask&t1.value)&t2.value != 0 {
			return 1
		}
		if (t1.mask|t1.value)&t2.value == 0 {
			return 0
		}
	case vm.JmpJGT:
		if a.umin > b.umax {
			return 1
		} else if a.umax <= b.umin {
			return 0
		}
	case vm.JmpJSGT:
		if a.smin > b.smax {
			return 1
		} else if a.smax <= b.smin {
			return 0
		}
	case vm.JmpJLT:
		if a.umax < b.umin {
			return 1
		} else if a.umin >= b.umax {
			return 0
		}
	case vm.JmpJSLT:
		if a.smax < b.smin {
			return 1
		} else if a.smin >= b.smax {
			return 0
		}
	case vm.JmpJGE:
		if a.umin >= b.umax {
			return 1
		} else if a.umax < b.umin {
			return 0
		}
	case vm.JmpJSGE:
		if a.smin >= b.smax {
			return 1
		} else if a.smax < b.smin {
			return 0
		}
	case vm.JmpJLE:
		if a.umax <= b.umin {
			return 1
		} else if a.umin > b.umax {
			return 0
		}
	case vm.JmpJSLE:
		if a.smax <= b.smin {
			return 1
		} else if a.smin > b.smax {
			return 0
		}
	}
	return -1
}

// refineCondOp narrows r1 and r2 given that "r1 op r2" holds (regs_refine_cond_op).
func refineCondOp(r1, r2 *reg, op uint8, is32 bool) {
	switch op {
	case vm.JmpJGE, vm.JmpJGT, vm.JmpJSGE, vm.JmpJSGT:
		op = flipOpcode(op)
		r1, r2 = r2, r1
	}
	switch op {
	case vm.JmpJEQ:
		if is32 {
			r1.u32min = max(r1.u32min, r2.u32min)
			r1.u32max = min(r1.u32max, r2.u32max)
			r1.s32min = max(r1.s32min, r2.s32min)
			r1.s32max = min(r1.s32max, r2.s32max)
			r2.u32min, r2.u32max, r2.s32min, r2.s32max = r1.u32min, r1.u32max, r1.s32min, r1.s32max
			t := r1.varOff.subreg().intersect(r2.varOff.subreg())
			r1.varOff = r1.varOff.withSubreg(t)
			r2.varOff = r2.varOff.withSubreg(t)
		} else {
			r1.umin = max(r1.umin, r2.umin)
			r1.umax = min(r1.umax, r2.umax)
			r1.smin = max(r1.smin, r2.smin)
			r1.smax = min(r1.smax, r2.smax)
			r2.umin, r2.umax, r2.smin, r2.smax = r1.umin, r1.umax, r1.smin, r1.smax
			r1.varOff = r1.varOff.intersect(r2.varOff)
			r2.varOff = r1.varOff
		}
	case vm.JmpJNE:
		if !isRegConst(r2, is32) {
			r1, r2 = r2, r1
		}
		if !isRegConst(r2, is32) {
			break
		}
		val := regConst(r2, is32)
		if is32 {
			if r1.u32min == uint32(val) {
				r1.u32min++
			}
			if r1.u32max == uint32(val) {
				r1.u32max--
			}
			if r1.s32min == int32(val) {
				r1.s32min++
			}
			if r1.s32max == int32(val) {
				r1.s32max--
			}
		} else {
			if r1.umin == val {
				r1.umin++
			}
			if r1.umax == val {
				r1.umax--
			}
			if r1.smin == int64(val) {
				r1.smin++
			}
			if r1.smax == int64(val) {
				r1.smax--
			}
		}
	case vm.JmpJSET:
		if !isRegConst(r2, is32) {
			r1, r2 = r2, r1
		}
		if !isRegConst(r2, is32) {
			break
		}
		val := regConst(r2, is32)
		if val == 0 || bits.OnesCount64(val) != 1 {
			break
		}
		if is32 {
			r1.varOff = r1.varOff.withSubreg(r1.varOff.subreg().or(tnumConst(val)))
		} else {
			r1.varOff = r1.varOff.or(tnumConst(val))
		}
	case jsetNot:
		if !isRegConst(r2, is32) {
			r1, r2 = r2, r1
		}
		if !isRegConst(r2, is32) {
			break
		}
		val := regConst(r2, is32)
		r1.markUnbounded()
		if is32 {
			r1.varOff = r1.varOff.withSubreg(r1.varOff.subreg().and(tnumConst(^val)))
		} else {
			r1.varOff = r1.varOff.and(tnumConst(^val))
		}
	case vm.JmpJLE:
		if is32 {
			r1.u32max = min(r1.u32max, r2.u32max)
			r2.u32min = max(r1.u32min, r2.u32min)
		} else {
			r1.umax = min(r1.umax, r2.umax)
			r2.umin = max(r1.umin, r2.umin)
		}
	case vm.JmpJLT:
		if is32 {
			r1.u32max = min(r1.u32max, r2.u32max-1)
			r2.u32min = max(r1.u32min+1, r2.u32min)
		} else {
			r1.umax = min(r1.umax, r2.umax-1)
			r2.umin = max(r1.umin+1, r2.umin)
		}
	case vm.JmpJSLE:
		if is32 {
			r1.s32max = min(r1.s32max, r2.s32max)
			r2.s32min = max(r1.s32min, r2.s32min)
		} else {
			r1.smax = min(r1.smax, r2.smax)
			r2.smin = max(r1.smin, r2.smin)
		}
	case vm.JmpJSLT:
		if is32 {
			r1.s32max = min(r1.s32max, r2.s32max-1)
			r2.s32min = max(r1.s32min+1, r2.s32min)
		} else {
			r1.smax = min(r1.smax, r2.smax-1)
			r2.smin = max(r1.smin+1, r2.smin)
		}
	}
}

// checkCondJmp checks a conditional jump; taken reports that only the jump is followed.
func (e *env) checkCondJmp(idx int, ins vm.Instruction) (taken bool, err error) {
	op := ins.Op & 0xf0
	is32 := ins.Class() == vm.ClassJMP32
	if op > vm.JmpJSLE {
		return false, e.reject("invalid BPF_JMP/JMP32 opcode %x", op)
	}
	if err := e.readReg(ins.Dst()); err != nil {
		return false, err
	}
	regs := e.regs()
	x := ins.Op&vm.SrcX != 0
	var src reg
	if x {
		if ins.Imm != 0 {
			return false, e.reject("BPF_JMP/JMP32 uses reserved fields")
		}
		if err := e.readReg(ins.Src()); err != nil {
			return false, err
		}
		src = regs[ins.Src()]
	} else {
		if ins.Src() != 0 {
			return false, e.reject("BPF_JMP/JMP32 uses reserved fields")
		}
		src = constReg(uint64(int64(ins.Imm)))
	}
	dst := &regs[ins.Dst()]
	pred := isBranchTaken(dst, &src, op, is32)
	if pred >= 0 {
		if dst.typ == scalarValue {
			e.markPrecise(ins.Dst())
		}
		if x && src.typ == scalarValue {
			e.markPrecise(ins.Src())
		}
	}
	if pred == 1 {
		return true, nil
	}
	if pred == 0 {
		return false, nil
	}
	target := idx + int(ins.Off) + 1
	other, err := e.pushStack(target, idx)
	if err != nil {
		return false, err
	}
	oregs := &other.cur().regs
	odst := &oregs[ins.Dst()]
	if dst.typ == scalarValue && src.typ == scalarValue {
		var osrc *reg
		fsrc := src
		if x {
			osrc = &oregs[ins.Src()]
		} else {
			c := src
			osrc = &c
		}
		// the fall-through (false) side
		refineCondOp(dst, &fsrc, revOpcode(op), is32)
		dst.sync()
		fsrc.sync()
		// the jump (true) side
		refineCondOp(odst, osrc, op, is32)
		odst.sync()
		osrc.sync()
		if x && ins.Src() != ins.Dst() {
			regs[ins.Src()] = fsrc
		}
		if !dst.boundsSane() || (x && !fsrc.boundsSane()) {
			// the fall-through cannot happen
			e.markDeadFallthrough = true
		}
		if !odst.boundsSane() || (x && !osrc.boundsSane()) {
			e.dropLastPushed()
		}
		if x && src.id != 0 {
			e.syncLinked(e.cur, &regs[ins.Src()])
			e.syncLinked(other, &oregs[ins.Src()])
		}
		if dst.id != 0 {
			e.syncLinked(e.cur, dst)
			e.syncLinked(other, odst)
		}
	}
	// "if (p == q)" of two pointers of which exactly one may be NULL: where they are equal, it
	// is not NULL either (check_cond_jmp_op; BTF pointers are left out, as the kernel does).
	if !is32 && x && (op == vm.JmpJEQ || op == vm.JmpJNE) {
		if s := &regs[ins.Src()]; s.isPointer() && dst.isPointer() && s.maybeNull() != dst.maybeNull() &&
			s.typ != ptrToBTFID && dst.typ != ptrToBTFID {
			eq := regs
			if op == vm.JmpJEQ {
				eq = oregs
			}
			n := ins.Dst()
			if s.maybeNull() {
				n = ins.Src()
			}
			e.markNotNull(&eq[n])
		}
	}
	if !is32 && !x && ins.Imm == 0 && (op == vm.JmpJEQ || op == vm.JmpJNE) && dst.maybeNull() {
		id := dst.id
		e.markPtrOrNull(e.cur, id, op == vm.JmpJNE)
		e.markPtrOrNull(other, id, op == vm.JmpJEQ)
	} else if !e.matchPktPointers(ins, dst, &regs[ins.Src()], e.cur, other) {
		// pointer comparisons are allowed to a root loader
	}
	if e.markDeadFallthrough {
		e.markDeadFallthrough = false
		// follow the jump only: take the pushed state now
		if len(e.stack) > 0 && e.stack[len(e.stack)-1].st == other {
			e.stack = e.stack[:len(e.stack)-1]
			if other.parent != nil {
				other.parent.branches--
			}
			e.cur = other
			return true, nil
		}
		return false, nil
	}
	return false, nil
}

// dropLastPushed discards the branch just queued (it cannot happen).
func (e *env) dropLastPushed() {
	if len(e.stack) == 0 {
		return
	}
	p := e.stack[len(e.stack)-1]
	e.stack = e.stack[:len(e.stack)-1]
	if p.st.parent != nil {
		p.st.parent.branches--
	}
}

// syncLinked gives every scalar linked to r (same id) the bounds r has now (sync_linked_regs).
func (e *env) syncLinked(st *vstate, known *reg) {
	id := known.id
	for _, f := range st.frames {
		visit := func(r *reg) {
			if r == known || r.typ != scalarValue || r.id != id {
				return
			}
			if !r.addC && !known.addC {
				saved := r.precise
				*r = *known
				r.precise = saved
				return
			}
			// r = known - known.off + r.off
			delta := int64(r.off)
			if known.addC {
				delta -= int64(known.off)
			}
			nr := *known
			nr.id, nr.addC, nr.off = id, r.addC, r.off
			c := constReg(uint64(delta))
			nr.add32(&c)
			nr.add64(&c)
			nr.varOff = nr.varOff.add(c.varOff)
			nr.sync()
			*r = nr
		}
		for i := range f.regs {
			visit(&f.regs[i])
		}
		for i := range f.stack {
			if f.stack[i].isSpilled() {
				visit(&f.stack[i].spilled)
			}
		}
	}
}

// markPtrOrNull resolves the NULL check of every pointer with id in st.
func (e *env) markPtrOrNull(st *vstate, id uint32, isNull bool) {
	if id == 0 {
		return
	}
	var refToDrop uint32
	st.forEachReg(func(r *reg) {
		if !r.maybeNull() || r.id != id {
			return
		}
		if isNull {
			if r.refID != 0 && r.refID == id {
				refToDrop = id
			}
			v := r.varOff
			*r = reg{typ: scalarValue, mapIdx: -1}
			r.markKnown(v.value)
			return
		}
		e.markNotNull(r)
		if !(r.typ == ptrToMapValue && r.mapIdx >= 0 && e.p.Maps[r.mapIdx].SpinLock >= 0) {
			r.id = 0
		}
	})
	if refToDrop != 0 {
		st.releaseRef(refToDrop)
	}
}

// markNotNull makes a pointer that may be NULL one that is not (mark_ptr_not_null_reg): a map
// lookup's result becomes what the map holds.
func (e *env) markNotNull(r *reg) {
	if r.typ == ptrToMapValue && r.mapIdx >= 0 {
		m := &e.p.Maps[r.mapIdx]
		switch {
		case m.Inner != nil:
			r.typ = constPtrToMap
			r.mapIdx = e.innerMapIdx(r.mapIdx)
		case isXSKMap(m):
			r.typ = ptrToXDPSock
		}
	}
	r.flags &^= flagMaybeNull
}

// matchPktPointers learns packet ranges from a comparison of packet pointers
// (try_match_pkt_pointers); this is the fall-through state, other the jump's.
func (e *env) matchPktPointers(ins vm.Instruction, dst, src *reg, this, other *vstate) bool {
	if ins.Op&vm.SrcX == 0 || ins.Class() == vm.ClassJMP32 {
		return false
	}
	dn, sn := ins.Dst(), ins.Src()
	pktEnd := func(d, s *reg) bool {
		return (d.typ == ptrToPacket && s.typ == ptrToPacketEnd) || (d.typ == ptrToPacketMeta && isInitPkt(s))
	}
	endPkt := func(d, s *reg) bool {
		return (d.typ == ptrToPacketEnd && s.typ == ptrToPacket) || (isInitPkt(d) && s.typ == ptrToPacketMeta)
	}
	switch ins.Op & 0xf0 {
	case vm.JmpJGT:
		if pktEnd(dst, src) {
			findGoodPktPointers(this, dst, false)
			markPktEnd(other, dn, true)
		} else if endPkt(dst, src) {
			findGoodPktPointers(other, src, true)
			markPktEnd(this, sn, false)
		} else {
			return false
		}
	case vm.JmpJLT:
		if pktEnd(dst, src) {
			findGoodPktPointers(other, dst, true)
			markPktEnd(this, dn, false)
		} else if endPkt(dst, src) {
			findGoodPktPointers(this, src, false)
			markPktEnd(other, sn, true)
		} else {
			return false
		}
	case vm.JmpJGE:
		if pktEnd(dst, src) {
			findGoodPktPointers(this, dst, true)
			markPktEnd(other, dn, false)
		} else if endPkt(dst, src) {
			findGoodPktPointers(other, src, false)
			markPktEnd(this, sn, true)
		} else {
			return false
		}
	case vm.JmpJLE:
		if pktEnd(dst, src) {
			findGoodPktPointers(other, dst, false)
			markPktEnd(this, dn, true)
		} else if endPkt(dst, src) {
			findGoodPktPointers(this, src, true)
			markPktEnd(other, sn, false)
		} else {
			return false
		}
	default:
		return false
	}
	return true
}

func isInitPkt(r *reg) bool {
	return r.typ == ptrToPacket && r.off == 0 && r.varOff.isConst() && r.varOff.value == 0
}

func findGoodPktPointers(st *vstate, dst *reg, rightOpen bool) {
	if dst.off < 0 || (dst.off == 0 && rightOpen) {
		return
	}
	if dst.umax > maxPacketOff || dst.umax+uint64(dst.off) > maxPacketOff {
		return
	}
	nr := int64(dst.off)
	if rightOpen {
		nr++
	}
	t, id := dst.typ, dst.id
	st.forEachReg(func(r *reg) {
		if r.typ == t && r.id == id {
			r.rng = max(r.rng, nr)
		}
	})
}

func markPktEnd(st *vstate, regno uint8, open bool) {
	r := &st.cur().regs[regno]
	if r.typ != ptrToPacket {
		return
	}
	if open {
		r.rng = beyondPktEnd
	} else {
		r.rng = atPktEnd
	}
}

var _ = math.MaxInt64
