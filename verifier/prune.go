package verifier

// State pruning (is_state_visited): at prune points the current state is compared with the
// states already explored there; one that is known safe and at least as general as the
// current one makes further exploration unnecessary.

func (e *env) isStateVisited(idx int) (bool, error) {
	cur := e.cur
	force := e.forceCP[idx]
	add := force
	if e.jmps-e.prevJmps >= 2 && e.processed-e.prevInsns >= 8 {
		add = true
	}
	list := e.explored[idx]
	n := 0
	for _, sl := range list {
		if sl.st.insnIdx != idx {
			continue
		}
		if sl.st.branches > 0 {
			// A state on the current path (a loop) or one whose exploration is not finished.
			if e.aux[idx].callback && e.statesEqual(sl.st, cur, idx, false) {
				sl.hits++
				e.propagatePrecision(sl.st)
				return true, nil
			}
			if e.statesMaybeLooping(sl.st, cur) && e.statesEqual(sl.st, cur, idx, true) {
				e.rejectAt(e.lastInsn, "infinite loop detected at insn %d", idx)
				e.note("cur state:%s", e.formatState(cur, true))
				e.note("old state:%s", e.formatState(sl.st, true))
				return false, errReject
			}
			if !force && e.jmps-e.prevJmps < 20 && e.processed-e.prevInsns < 100 {
				add = false
			}
			list[n] = sl
			n++
			continue
		}
		if e.statesEqual(sl.st, cur, idx, false) {
			sl.hits++
			e.propagatePrecision(sl.st)
			e.explored[idx] = append(list[:n], list[n:]...)
			return true, nil
		}
		sl.misses++
		// Evict states that rarely help.
		if sl.misses > sl.hits*3+3 {
			e.curStates--
			continue
		}
		list[n] = sl
		n++
	}
	list = list[:n]
	e.explored[idx] = list
	e.maxStatesPerInsn = max(e.maxStatesPerInsn, len(list))
	if !add {
		return false, nil
	}
	// Record the current state as a checkpoint.
	e.totalStates++
	e.curStates++
	e.peakStates = max(e.peakStates, e.curStates)
	e.prevJmps, e.prevInsns = e.jmps, e.processed
	ck := cur.copy()
	ck.insnIdx = idx
	ck.branches = 1
	ck.parent = cur.parent
	cur.parent = ck
	cur.hist = cur.hist[:0]
	e.explored[idx] = append(list, &explored{st: ck})
	return false, nil
}

// cleanState forgets the registers that are dead at idx (the kernel's clean_verifier_state
// with its register liveness), so that comparisons ignore them.
func (e *env) cleanState(st *vstate, idx int) {
	for fi, f := range st.frames {
		at := idx
		if fi < st.curframe {
			cs := st.frames[fi+1].callsite
			if st.frames[fi+1].inCallback {
				at = cs
			} else {
				at = cs + 1
			}
		}
		if at < 0 || at >= len(e.live) {
			continue
		}
		live := e.live[at]
		for r := 0; r < 10; r++ {
			if live&(1<<r) == 0 {
				f.regs[r].setNotInit()
			}
		}
	}
}

// statesMaybeLooping reports whether cur may be a later iteration of old on the same path.
func (e *env) statesMaybeLooping(old, cur *vstate) bool {
	if old.curframe != cur.curframe {
		return false
	}
	for i := 0; i <= cur.curframe; i++ {
		if old.frames[i].callsite != cur.frames[i].callsite {
			return false
		}
	}
	return true
}

// idmap pairs ids of the old state with ids of the current one (check_ids).
type idmap struct {
	old, cur []uint32
}

func (m *idmap) check(o, c uint32) bool {
	if o == 0 && c == 0 {
		return true
	}
	if o == 0 || c == 0 {
		return false
	}
	for i := range m.old {
		if m.old[i] == o {
			return m.cur[i] == c
		}
		if m.cur[i] == c {
			return false
		}
	}
	m.old = append(m.old, o)
	m.cur = append(m.cur, c)
	return true
}

// statesEqual reports whether old (a checkpoint) covers cur at insn idx; exact asks for
// identity (the loop check).
func (e *env) statesEqual(old, cur *vstate, idx int, exact bool) bool {
	if old.curframe != cur.curframe {
		return false
	}
	if old.activeLock != cur.activeLock && (old.activeLock == 0) != (cur.activeLock == 0) {
		return false
	}
	if old.activeLock != 0 && (old.lockMap != cur.lockMap || old.lockOff != cur.lockOff) {
		return false
	}
	for i := range old.frames {
		if old.frames[i].callsite != cur.frames[i].callsite {
			return false
		}
	}
	ids := &idmap{}
	if len(old.refs) != len(cur.refs) {
		return false
	}
	for i := range old.refs {
		if !ids.check(old.refs[i].id, cur.refs[i].id) {
			return false
		}
	}
	for i := range old.frames {
		if !e.funcStatesEqual(old.frames[i], cur.frames[i], ids, exact) {
			return false
		}
	}
	return true
}

func (e *env) funcStatesEqual(old, cur *funcState, ids *idmap, exact bool) bool {
	if old.cbDepth != cur.cbDepth && exact {
		return false
	}
	for r := 0; r < 10; r++ {
		if !e.regsafe(&old.regs[r], &cur.regs[r], ids, exact) {
			return false
		}
	}
	return e.stacksafe(old, cur, ids, exact)
}

func rangeWithin(o, c *reg) bool {
	return o.umin <= c.umin && o.umax >= c.umax && o.smin <= c.smin && o.smax >= c.smax &&
		o.u32min <= c.u32min && o.u32max >= c.u32max && o.s32min <= c.s32min && o.s32max >= c.s32max
}

func regsExact(o, c *reg, ids *idmap) bool {
	a, b := *o, *c
	a.id, b.id, a.refID, b.refID, a.precise, b.precise = 0, 0, 0, 0, false, false
	return a == b && ids.check(o.id, c.id) && ids.check(o.refID, c.refID)
}

// regsafe is the kernel's regsafe: old covers cur.
func (e *env) regsafe(o, c *reg, ids *idmap, exact bool) bool {
	if o.typ == notInit {
		return !exact || c.typ == notInit
	}
	if c.typ == notInit {
		return false
	}
	if exact {
		return regsExact(o, c, ids)
	}
	if o.typ != c.typ || o.flags != c.flags {
		return false
	}
	switch o.typ {
	case scalarValue:
		if !o.precise {
			return true
		}
		if o.addC != c.addC || (o.addC && o.off != c.off) {
			return false
		}
		return rangeWithin(o, c) && o.varOff.in(c.varOff) && e.checkScalarIDs(o.id, c.id, ids)
	case ptrToMapKey, ptrToMapValue, ptrToMem:
		return o.off == c.off && o.mapIdx == c.mapIdx && o.rng == c.rng && o.btf == c.btf &&
			rangeWithin(o, c) && o.varOff.in(c.varOff) && ids.check(o.id, c.id) && ids.check(o.refID, c.refID)
	case ptrToPacket, ptrToPacketMeta:
		if o.rng > c.rng || o.off != c.off || !ids.check(o.id, c.id) {
			return false
		}
		return rangeWithin(o, c) && o.varOff.in(c.varOff)
	case ptrToStack:
		return regsExact(o, c, ids) && o.frame == c.frame
	}
	return regsExact(o, c, ids)
}

// checkScalarIDs is check_scalar_ids: links between scalars in old must exist in cur; an old
// scalar without a link matches anything.
func (e *env) checkScalarIDs(o, c uint32, ids *idmap) bool {
	if o == 0 {
		return true
	}
	if c == 0 {
		// A fresh id for cur: it must not map to another one already.
		c = 1<<31 | o
	}
	return ids.check(o, c)
}

func (e *env) stacksafe(old, cur *funcState, ids *idmap, exact bool) bool {
	for spi := range old.stack {
		os := &old.stack[spi]
		var cs *stackSlot
		if spi < len(cur.stack) {
			cs = &cur.stack[spi]
		}
		for i := 0; i < 8; i++ {
			ot := os.slot[i]
			ct := stackInvalid
			if cs != nil {
				ct = cs.slot[i]
			}
			if exact {
				if ot != ct {
					return false
				}
				continue
			}
			if ot == stackInvalid || ot == stackMisc {
				// A root loader may read anything: data covers any content.
				continue
			}
			if cs == nil {
				return false
			}
			if ot == stackZero && ct == stackZero {
				continue
			}
			if ot != ct {
				// A spilled 64-bit scalar against all-misc bytes and the reverse.
				if ot == stackSpill && os.isSpilledScalar64() && !os.spilled.precise {
					continue
				}
				return false
			}
		}
		if cs == nil {
			continue
		}
		switch {
		case os.slot[7] == stackSpill && cs.slot[7] == stackSpill:
			if !e.regsafe(&os.spilled, &cs.spilled, ids, exact) {
				return false
			}
		case os.slot[7] == stackDynptr:
			if os.dynKind != cs.dynKind || os.dynptrFirst != cs.dynptrFirst || !ids.check(os.spilled.refID, cs.spilled.refID) {
				return false
			}
		}
	}
	if exact && len(cur.stack) > len(old.stack) {
		for spi := len(old.stack); spi < len(cur.stack); spi++ {
			for _, t := range cur.stack[spi].slot {
				if t != stackInvalid {
					return false
				}
			}
		}
	}
	return true
}
