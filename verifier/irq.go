package verifier

import "github.com/xdpsim/xdpsim/kfuncs"

// Local-interrupt sections: bpf_local_irq_save keeps the interrupt flags in an 8-byte stack slot
// of its own (stackIRQFlag) that holds a reference of kind refIRQ; bpf_local_irq_restore takes
// the flags back, innermost section first. The program may neither read the slot nor keep a
// section open at exit or at a tail call (checkResourceLeak); a write over the slot makes it
// plain stack, and the section can then no longer be closed.

// irqFlagSpi is the slot of the flags r points to; ok is false (the kernel's words said) when r
// does not point at a whole slot, and inRange says whether the slot lies in the stack allocated.
func (e *env) irqFlagSpi(r *reg) (spi int, inRange, ok bool) {
	if !r.varOff.isConst() {
		e.reject("irq_flag has to be at a constant offset")
		return 0, false, false
	}
	off := int64(r.off) + int64(r.varOff.value)
	if off%8 != 0 || off >= 0 {
		e.reject("cannot pass in irq_flag at an offset=%d", off)
		return 0, false, false
	}
	spi, _ = byteAt(off)
	return spi, spi < len(e.stackFrame(r).stack), true
}

// badIRQFlag refuses argument regno of a local-interrupt kfunc, after what irqFlagSpi said.
func (e *env) badIRQFlag(ok bool, format string, regno uint8) error {
	if !ok {
		e.note(format, regno-1)
		return errReject
	}
	return e.reject(format, regno-1)
}

// processIRQFlag checks argument i of a local-interrupt kfunc and opens or closes the section.
func (e *env) processIRQFlag(idx int, k *kfuncs.Kfunc, i int, regno uint8, r *reg) error {
	if r.typ != ptrToStack {
		return e.reject("arg#%d doesn't point to an irq flag on stack", i)
	}
	spi, inRange, ok := e.irqFlagSpi(r)
	f := e.stackFrame(r)
	if k.Name == "bpf_local_irq_save" {
		if !ok || inRange && f.stack[spi].has(stackIRQFlag) {
			return e.badIRQFlag(ok, "expected uninitialized irq flag as arg#%d", regno)
		}
		if err := e.checkStackBoundsMsg(regno, r, int(r.off), 8, " write to"); err != nil {
			return err
		}
		f.growStack(-int(int64(r.off) + int64(r.varOff.value)))
		if err := e.destroyDynptrSlot(f, spi); err != nil {
			return err
		}
		id := e.newID()
		e.cur.refs = append(e.cur.refs, refState{id: id, insn: idx, kind: refIRQ})
		e.cur.activeIRQ = id
		s := &f.stack[spi]
		s.spilled.setNotInit()
		s.spilled.refID = id
		s.dynKind, s.dynptrFirst = dynptrNone, false
		s.fill(stackIRQFlag)
		e.markStackWrite(f.frameno, 1<<uint(spi))
		e.scratchSlot(f, spi)
		return nil
	}
	if !ok || !inRange || !f.stack[spi].all(stackIRQFlag) {
		return e.badIRQFlag(ok, "expected an initialized irq flag as arg#%d", regno)
	}
	e.markStackRead(f.frameno, 1<<uint(spi))
	s := &f.stack[spi]
	if s.spilled.refID != e.cur.activeIRQ {
		insn := 0
		for _, ref := range e.cur.refs {
			if ref.id == e.cur.activeIRQ {
				insn = ref.insn
				break
			}
		}
		return e.reject("cannot restore irq state out of order, expected id=%d acquired at insn_idx=%d", e.cur.activeIRQ, insn)
	}
	// The section closes; the one around it, if any, is the innermost again.
	var prev uint32
	for _, ref := range e.cur.refs {
		if ref.kind != refIRQ {
			continue
		}
		if ref.id == s.spilled.refID {
			break
		}
		prev = ref.id
	}
	e.cur.releaseRef(s.spilled.refID)
	e.cur.activeIRQ = prev
	s.spilled.setNotInit()
	s.fill(stackInvalid)
	e.markStackWrite(f.frameno, 1<<uint(spi))
	e.scratchSlot(f, spi)
	return nil
}
