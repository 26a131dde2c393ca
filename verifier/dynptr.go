package verifier

// Dynptrs on the stack (struct bpf_dynptr, 16 bytes): made by bpf_dynptr_from_mem,
// bpf_ringbuf_reserve_dynptr, bpf_dynptr_from_xdp/_skb and bpf_dynptr_clone, read by the dynptr
// helpers and kfuncs, released by submit/discard. A clone is a dynptr of its source's kind that
// shares its source's reference: releasing one of them kills them all, and their slices.

const dynptrSize = 16

// dynptrSpi gives the first (higher) slot of the dynptr a stack pointer points to.
func (e *env) dynptrSpi(regno uint8, r *reg) (int, error) {
	if !r.varOff.isConst() {
		return 0, e.reject("R%d dynptr has to be at a constant offset", regno)
	}
	off := int64(r.off) + int64(r.varOff.value)
	if off%8 != 0 {
		return 0, e.reject("cannot pass in dynptr at an offset=%d", off)
	}
	spi, _ := byteAt(off)
	if spi < 1 {
		return 0, e.reject("cannot pass in dynptr at an offset=%d", off)
	}
	return spi, nil
}

func (e *env) processDynptrArg(idx int, regno uint8, r *reg, a argSpec, meta *callMeta) error {
	if r.typ == constPtrToDynptr {
		if a.uninit {
			return e.reject("CONST_PTR_TO_DYNPTR cannot be passed as uninit dynptr")
		}
		// the dynptr of a callback's or a global function's argument: a local one
		meta.dynKind, meta.dynRefID, meta.dynID = dynptrLocal, 0, 0
		return nil
	}
	spi, err := e.dynptrSpi(regno, r)
	if err != nil {
		return err
	}
	if err := e.checkStackBoundsMsg(regno, r, int(r.off), dynptrSize, " write to"); err != nil {
		return err
	}
	f := e.stackFrame(r)
	if a.uninit {
		for _, s := range []int{spi, spi - 1} {
			if f.stack[s].slot[7] == stackDynptr {
				if err := e.destroyDynptrSlot(f, s); err != nil {
					return err
				}
			}
		}
		// Each dynptr gets an id of its own (numbered before the reference it acquires).
		id := e.newID()
		var ref uint32
		switch {
		case a.clone:
			// the source's kind and reference (set by the argument before)
			ref = meta.dynRefID
		case a.dyn == dynptrRingbuf:
			ref = e.acquireReference(idx)
		}
		e.markStackWrite(f.frameno, 3<<uint(spi-1))
		for k, s := range []int{spi, spi - 1} {
			st := &f.stack[s]
			st.spilled.setNotInit()
			st.spilled.id, st.spilled.refID = id, ref
			st.dynKind = a.dyn
			st.dynptrFirst = k == 0
			st.fill(stackDynptr)
			e.scratchSlot(f, s)
		}
		return nil
	}
	first := &f.stack[spi]
	if first.slot[7] != stackDynptr || !first.dynptrFirst {
		return e.reject("Expected an initialized dynptr as arg #%d", regno-1)
	}
	if a.dyn != dynptrNone && first.dynKind != a.dyn {
		return e.reject("Expected a dynptr of type %s as arg #%d", dynptrKindNames[a.dyn], regno-1)
	}
	meta.dynRefID = first.spilled.refID
	meta.dynID = first.spilled.id
	meta.dynKind = first.dynKind
	e.markStackRead(f.frameno, 3<<uint(spi-1))
	return nil
}

// releaseDynptr releases the reference of the dynptr r points to (bpf_ringbuf_submit_dynptr,
// _discard_dynptr): the slices taken from it and from its clones die with the reference, and
// so do the clones on the dynptr's stack (unmark_stack_slots_dynptr).
func (e *env) releaseDynptr(r *reg) error {
	spi, err := e.dynptrSpi(1, r)
	if err != nil {
		return err
	}
	f := e.stackFrame(r)
	ref := f.stack[spi].spilled.refID
	if ref == 0 {
		e.invalidateDynptr(f, spi)
		return nil
	}
	if !e.releaseReference(ref) {
		return errReject
	}
	for s := 1; s < len(f.stack); s++ {
		if st := &f.stack[s]; st.slot[0] == stackDynptr && st.dynptrFirst && st.spilled.refID == ref {
			e.invalidateDynptr(f, s)
		}
	}
	return nil
}

// invalidateDynptr makes the two slots of the dynptr whose first slot is first invalid stack.
func (e *env) invalidateDynptr(f *funcState, first int) {
	e.markStackWrite(f.frameno, 3<<uint(first-1))
	for _, k := range []int{first, first - 1} {
		st := &f.stack[k]
		st.spilled.setNotInit()
		st.dynKind, st.dynptrFirst = dynptrNone, false
		st.fill(stackInvalid)
	}
}

// destroyDynptrSlot invalidates the dynptr a stack write overwrites (destroy_if_dynptr_stack_slot).
func (e *env) destroyDynptrSlot(f *funcState, spi int) error {
	s := &f.stack[spi]
	if s.slot[0] != stackDynptr {
		return nil
	}
	first := spi
	if !s.dynptrFirst {
		first = spi + 1
	}
	if first >= len(f.stack) {
		return nil
	}
	if f.stack[first].spilled.refID != 0 {
		return e.reject("cannot overwrite referenced dynptr")
	}
	// The slices of bpf_dynptr_data die with it (plain PTR_TO_MEM, NULL-checked or not; the
	// read-only and packet slices of bpf_dynptr_slice live on, measured).
	if id := f.stack[first].spilled.id; id != 0 {
		e.cur.forEachReg(func(r *reg) {
			if r.typ == ptrToMem && r.flags&^flagMaybeNull == 0 && r.dynptrID == id {
				r.setUnknown()
			}
		})
	}
	e.invalidateDynptr(f, first)
	return nil
}

// checkReleaseDynptrArg is the check of a dynptr passed to a release helper before it is read
// as a dynptr: it must be on the stack and hold a reference.
func (e *env) checkReleaseDynptrArg(regno uint8, r *reg) error {
	if r.typ != ptrToStack {
		return e.reject("cannot release unowned const bpf_dynptr")
	}
	spi, err := e.dynptrSpi(regno, r)
	if err != nil {
		return err
	}
	if f := e.stackFrame(r); spi >= len(f.stack) || f.stack[spi].spilled.refID == 0 {
		return e.reject("arg %d is an unacquired reference", regno)
	}
	return nil
}
