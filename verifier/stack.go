package verifier

import (
	"math/bits"
)

// stackFrame is the frame a stack pointer points into.
func (e *env) stackFrame(r *reg) *funcState { return e.cur.frames[r.frame] }

// checkStackBounds is check_stack_access_within_bounds (root: the whole 512 bytes may be read).
func (e *env) checkStackBounds(regno uint8, r *reg, off, size int, t int) error {
	extra := " read from"
	if t == accWrite {
		extra = " write to"
	}
	return e.checkStackBoundsMsg(regno, r, off, size, extra)
}

func (e *env) checkStackBoundsMsg(regno uint8, r *reg, off, size int, extra string) error {
	var minOff, maxOff int64
	if r.varOff.isConst() {
		minOff = int64(r.varOff.value) + int64(off)
		maxOff = minOff + int64(size)
	} else {
		if r.smax >= maxVarOff || r.smin <= -maxVarOff {
			return e.reject("invalid unbounded variable-offset%s stack R%d", extra, regno)
		}
		minOff = r.smin + int64(off)
		maxOff = r.smax + int64(off) + int64(size)
	}
	bad := minOff < -maxBPFStack || minOff > -1 || maxOff > 0 || size < 0
	if bad {
		if r.varOff.isConst() {
			return e.reject("invalid%s stack R%d off=%d size=%d", extra, regno, off, size)
		}
		return e.reject("invalid variable-offset%s stack R%d var_off=%s off=%d size=%d", extra, regno, r.varOff, off, size)
	}
	f := e.stackFrame(r)
	f.growStack(int(-minOff))
	sp := &e.subprogs[f.subprog]
	sp.stack = max(sp.stack, roundUp(int(-minOff), 8))
	return nil
}

// byteAt gives the slot and byte index of stack offset off (negative).
func byteAt(off int64) (spi int, i int) {
	slot := int(-off - 1)
	return slot / 8, slot % 8
}

func (e *env) scratchSlot(f *funcState, spi int) {
	if f == e.cur.cur() && spi < 64 {
		e.scratchStack |= 1 << spi
	}
}

// checkStackWrite stores size bytes at r+off (check_stack_write).
func (e *env) checkStackWrite(regno uint8, r *reg, off, size int, valueReg int) error {
	f := e.stackFrame(r)
	var val *reg
	if valueReg >= 0 {
		val = &e.regs()[valueReg]
	}
	if !r.varOff.isConst() {
		return e.checkStackWriteVarOff(f, r, off, size, val)
	}
	soff := int64(r.varOff.value) + int64(off)
	spi, _ := byteAt(soff)
	slot := int(-soff - 1)
	s := &f.stack[spi]
	e.scratchSlot(f, spi)
	if err := e.destroyDynptrSlot(f, spi); err != nil {
		return err
	}
	aligned := soff%8 == 0
	if aligned && size == 8 {
		// Only a write of the whole slot kills what it held (for stack liveness).
		e.markStackWrite(f.frameno, 1<<uint(spi))
	}
	switch {
	case val != nil && aligned && val.typ == scalarValue:
		e.recordStackAccess(f.frameno, spi)
		fits := bits.Len64(val.umax) <= 8*size
		if fits && val.id == 0 && !val.varOff.isConst() {
			// The spill and the register stay linked (assign_scalar_id_before_mov).
			val.id = e.newID()
		}
		e.saveRegState(f, spi, val, size)
		if !fits {
			s.spilled.id = 0
			s.spilled.addC = false
		}
	case val == nil && aligned && e.stImm:
		e.recordStackAccess(f.frameno, spi)
		tmp := constReg(uint64(e.stImmVal))
		e.saveRegState(f, spi, &tmp, size)
	case val != nil && val.typ != scalarValue:
		if size != 8 {
			return e.reject("invalid size of register spill")
		}
		if f != e.cur.cur() && val.typ == ptrToStack {
			return e.reject("cannot spill pointers to stack into stack frame of the caller")
		}
		e.recordStackAccess(f.frameno, spi)
		e.saveRegState(f, spi, val, size)
	default:
		typ := stackMisc
		s.spilled.setNotInit()
		if isSpecialSlot(s) {
			s.miscify()
		}
		if (val != nil && val.isNull()) || (val == nil && e.stImm && e.stImmVal == 0) {
			typ = stackZero
			if val != nil {
				// Zero bytes that are no spill: what they hold is the register's exact value.
				e.markPrecise(uint8(valueReg))
			}
		}
		for i := 0; i < size; i++ {
			s.slot[(slot-i)%8] = typ
		}
	}
	return nil
}

func isSpecialSlot(s *stackSlot) bool {
	switch s.slot[7] {
	case stackSpill, stackDynptr, stackIter, stackIRQFlag:
		return true
	}
	return false
}

// saveRegState spills v into slot spi (size bytes at the bottom of the slot).
func (e *env) saveRegState(f *funcState, spi int, v *reg, size int) {
	s := &f.stack[spi]
	s.spilled = *v
	s.dynptrFirst, s.dynKind = false, dynptrNone
	i := 8
	for ; i > 8-size; i-- {
		s.slot[i-1] = stackSpill
	}
	for ; i > 0; i-- {
		t := &s.slot[i-1]
		if *t == stackZero || *t == stackInvalid {
			continue
		}
		*t = stackMisc
	}
}

func (e *env) checkStackWriteVarOff(f *funcState, r *reg, off, size int, val *reg) error {
	minOff := r.smin + int64(off)
	maxOff := r.smax + int64(off) + int64(size)
	zero := (val != nil && val.isNull()) || (val == nil && e.stImm && e.stImmVal == 0)
	for o := minOff; o < maxOff; o++ {
		spi, i := byteAt(o)
		s := &f.stack[spi]
		e.scratchSlot(f, spi)
		if s.isSpilled() || s.slot[7] == stackDynptr {
			if s.slot[7] == stackDynptr {
				if err := e.destroyDynptrSlot(f, spi); err != nil {
					return err
				}
			}
			s.miscify()
			s.spilled.setNotInit()
		}
		nt := stackMisc
		if zero && s.slot[i] == stackZero {
			nt = stackZero
		}
		s.slot[i] = nt
	}
	return nil
}

// checkStackRead loads size bytes at r+off into valueReg (check_stack_read).
func (e *env) checkStackRead(regno uint8, r *reg, off, size int, valueReg int) error {
	f := e.stackFrame(r)
	if !r.varOff.isConst() {
		return e.checkStackReadVarOff(f, r, off, size, valueReg)
	}
	soff := int64(r.varOff.value) + int64(off)
	spi, _ := byteAt(soff)
	slot := int(-soff - 1)
	s := &f.stack[spi]
	e.scratchSlot(f, spi)
	e.markStackRead(f.frameno, 1<<uint(spi))
	var d *reg
	if valueReg >= 0 {
		d = &e.regs()[valueReg]
	}
	if s.isSpilled() {
		spillSize := 1
		for i := 7; i > 0 && s.slot[i-1] == stackSpill; i-- {
			spillSize++
		}
		if size != 8 || spillSize != 8 {
			if s.spilled.typ != scalarValue {
				return e.reject("invalid size of register fill")
			}
			if d == nil {
				return nil
			}
			if size <= spillSize && soff%8 == 0 {
				e.recordStackAccess(f.frameno, spi)
				if size == 4 && spillSize == 4 && s.spilled.id == 0 && !s.spilled.varOff.isConst() &&
					bits.Len64(s.spilled.umax) <= 32 {
					// The fill and the slot stay linked (assign_scalar_id_before_mov).
					s.spilled.id = e.newID()
				}
				*d = s.spilled
				if bits.Len64(s.spilled.umax) > size*8 {
					d.id, d.addC, d.off = 0, false, 0
				}
				return nil
			}
			spills, zeros := 0, 0
			for i := 0; i < size; i++ {
				switch s.slot[(slot-i)%8] {
				case stackSpill:
					spills++
				case stackMisc:
				case stackZero:
					zeros++
				case stackInvalid:
				default:
					return e.reject("invalid read from stack off %d+%d size %d", soff, i, size)
				}
			}
			switch {
			case spills == size && s.spilled.isNull():
				// A fill of the spilled zero: the history keeps it for precision.
				e.recordStackAccess(f.frameno, spi)
				d.setConst(0)
			case zeros == size:
				d.setConst(0)
			default:
				d.setUnknown()
			}
			return nil
		}
		if d != nil {
			e.recordStackAccess(f.frameno, spi)
			*d = s.spilled
		}
		return nil
	}
	zeros := 0
	for i := 0; i < size; i++ {
		switch s.slot[(slot-i)%8] {
		case stackMisc, stackInvalid:
		case stackZero:
			zeros++
		default:
			return e.reject("invalid read from stack off %d+%d size %d", soff, i, size)
		}
	}
	if d != nil {
		if zeros == size {
			d.setConst(0)
		} else {
			d.setUnknown()
		}
	}
	return nil
}

func (e *env) checkStackReadVarOff(f *funcState, r *reg, off, size int, valueReg int) error {
	minOff := r.smin + int64(off)
	maxOff := r.smax + int64(off) + int64(size)
	e.markStackRangeRead(f, minOff, maxOff)
	zeros := 0
	for o := minOff; o < maxOff; o++ {
		spi, i := byteAt(o)
		s := &f.stack[spi]
		e.scratchSlot(f, spi)
		switch s.slot[i] {
		case stackZero:
			zeros++
		case stackSpill:
			if s.spilled.isNull() {
				zeros++
			}
		case stackDynptr, stackIter, stackIRQFlag:
			return e.reject("invalid read from stack R%d var_off %s+%d size %d", 0, r.varOff, off, size)
		}
	}
	if valueReg >= 0 {
		d := &e.regs()[valueReg]
		if zeros == int(maxOff-minOff) {
			d.setConst(0)
		} else {
			d.setUnknown()
		}
	}
	return nil
}

// checkStackRange checks that a helper may access size bytes of stack at r+off
// (check_stack_range_initialized); a helper that writes them (uninit) makes them data.
func (e *env) checkStackRange(regno uint8, r *reg, off, size int, write bool, zeroOK bool, raw bool) error {
	// Linux 6.18 names the helper's access: a read from, or a write to, the stack.
	extra := " read from"
	if write {
		extra = " write to"
	}
	if err := e.checkStackBoundsMsg(regno, r, off, size, extra); err != nil {
		return err
	}
	f := e.stackFrame(r)
	var minOff, maxOff int64
	if r.varOff.isConst() {
		minOff = int64(r.varOff.value) + int64(off)
		maxOff = minOff + int64(size)
	} else {
		minOff = r.smin + int64(off)
		maxOff = r.smax + int64(off) + int64(size)
	}
	e.markStackRangeRead(f, minOff, maxOff)
	for o := minOff; o < maxOff; o++ {
		spi, i := byteAt(o)
		s := &f.stack[spi]
		e.scratchSlot(f, spi)
		switch s.slot[i] {
		case stackDynptr, stackIter:
			if write {
				return e.reject("potential write to dynptr at off=%d disallowed", o)
			}
		}
		if !write {
			continue
		}
		// The helper writes these bytes: whatever they held becomes data.
		if s.isSpilled() {
			s.spilled.setNotInit()
			s.fill(stackMisc)
		}
		s.slot[i] = stackMisc
	}
	return nil
}

// markStackRangeRead records a read of every slot [minOff, maxOff) touches: reading any byte of
// a slot reads the slot.
func (e *env) markStackRangeRead(f *funcState, minOff, maxOff int64) {
	var mask uint64
	for o := minOff; o < maxOff; o++ {
		spi, _ := byteAt(o)
		if spi < 64 {
			mask |= 1 << uint(spi)
		}
	}
	e.markStackRead(f.frameno, mask)
}
