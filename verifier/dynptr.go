package verifier

// Dynptrs on the stack (struct bpf_dynptr, 16 bytes): made by bpf_dynptr_from_mem and
// bpf_ringbuf_reserve_dynptr, read by the dynptr helpers, released by submit/discard.

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
		var ref uint32
		if a.dyn == dynptrRingbuf {
			ref = e.acquireReference(idx)
		}
		e.markStackWrite(f.frameno, 3<<uint(spi-1))
		for k, s := range []int{spi, spi - 1} {
			st := &f.stack[s]
			st.spilled.setNotInit()
			st.spilled.refID = ref
			st.dynKind = a.dyn
			st.dynptrFirst = k == 0
			for i := range st.slot {
				st.slot[i] = stackDynptr
			}
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
	meta.dynKind = first.dynKind
	e.markStackRead(f.frameno, 3<<uint(spi-1))
	return nil
}

func (e *env) releaseDynptr(r *reg) error {
	spi, err := e.dynptrSpi(1, r)
	if err != nil {
		return err
	}
	f := e.stackFrame(r)
	ref := f.stack[spi].spilled.refID
	if ref != 0 && !e.releaseReference(ref) {
		return errReject
	}
	e.markStackWrite(f.frameno, 3<<uint(spi-1))
	for _, s := range []int{spi, spi - 1} {
		st := &f.stack[s]
		st.spilled.setNotInit()
		st.dynKind, st.dynptrFirst = dynptrNone, false
		for i := range st.slot {
			st.slot[i] = stackInvalid
		}
	}
	return nil
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
	e.markStackWrite(f.frameno, 3<<uint(first-1))
	for _, k := range []int{first, first - 1} {
		st := &f.stack[k]
		st.spilled.setNotInit()
		st.dynKind, st.dynptrFirst = dynptrNone, false
		for i := range st.slot {
			st.slot[i] = stackInvalid
		}
	}
	return nil
}
