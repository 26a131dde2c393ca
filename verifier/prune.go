package verifier

import "github.com/xdpsim/xdpsim/vm"

// State pruning (is_state_visited): at prune points the current state is compared with the
// states already explored there; one that is known safe and at least as general as the
// current one makes further exploration unnecessary.

// The ways to compare a state with a checkpoint (enum exact_level).
type cmpMode uint8

const (
	// cmpNotExact: what the checkpoint did not need (imprecise scalars, dead values) may differ.
	cmpNotExact cmpMode = iota
	// cmpRangeWithin: every value of the current state must lie within the checkpoint's, precise
	// or not (for checkpoints whose marks may not be final yet).
	cmpRangeWithin
	// cmpExact: identical states (the infinite loop check).
	cmpExact
)

// exploredAt is the bucket of the checkpoint lists that holds the states at insn idx whose
// innermost frame was called from st's (explored_state): the kernel hashes the instruction with
// that frame's call site (-1 for the main frame) modulo the program's length. States at one
// instruction called from different sites thus sit in different lists and never meet, while
// states of other instructions may share a list (and count towards max_states_per_insn).
func (e *env) exploredAt(st *vstate, idx int) int {
	return int(uint32(idx^st.frames[st.curframe].callsite) % uint32(len(e.insns)))
}

func (e *env) isStateVisited(idx int) (bool, error) {
	cur := e.cur
	// A long jump history forces a checkpoint, so that it is not carried on forever (the
	// kernel's limit of 40 entries).
	force := e.forceCP[idx] || cur.histCnt > 40
	add := force
	if e.jmps-e.prevJmps >= 2 && e.processed-e.prevInsns >= 8 {
		add = true
	}
	e.cleanLiveStates(idx, cur)
	b := e.exploredAt(cur, idx)
	list := e.explored[b]
	// The newest checkpoints first, as the kernel keeps them.
	statesCnt := 0
	for i := len(list) - 1; i >= 0; i-- {
		sl := list[i]
		statesCnt++
		if sl.st.insnIdx != idx {
			continue
		}
		if sl.st.branches > 0 {
			// A state on the current path (a loop) or one whose exploration is not finished.
			loopCheck := true
			if e.iterNext[idx] {
				// Another turn of an iterator loop: covered when the state is within the
				// earlier one's ranges and the iterator may still give elements.
				if e.statesEqual(sl.st, cur, idx, cmpRangeWithin) && e.iterActive(cur) {
					e.hit(b, sl)
					return true, nil
				}
				loopCheck = false
			} else if e.insns[idx].Op == vm.OpMayGoto {
				// Another turn of a may_goto loop: covered when the state is within the
				// earlier turn's ranges (the kernel then stops exploring turns).
				if sl.st.mayGotoDepth != cur.mayGotoDepth && e.statesEqual(sl.st, cur, idx, cmpRangeWithin) {
					e.hit(b, sl)
					return true, nil
				}
			} else if e.forceCP[idx] { // the call calls a callback
				if e.statesEqual(sl.st, cur, idx, cmpRangeWithin) {
					e.hit(b, sl)
					return true, nil
				}
				loopCheck = false
			}
			if loopCheck && e.statesMaybeLooping(sl.st, cur) && e.statesEqual(sl.st, cur, idx, cmpExact) &&
				!iterDepthsDiffer(sl.st, cur) && sl.st.mayGotoDepth == cur.mayGotoDepth {
				e.rejectAt(e.lastInsn, "infinite loop detected at insn %d", idx)
				e.note("cur state:%s", e.formatState(cur, true))
				e.note("old state:%s", e.formatState(sl.st, true))
				return false, errReject
			}
			if !force && e.jmps-e.prevJmps < 20 && e.processed-e.prevInsns < 100 {
				add = false
			}
		} else if e.statesEqual(sl.st, cur, idx, cmpNotExact) {
			e.hit(b, sl)
			return true, nil
		}
		// A miss. When no new state is going to be added, misses are not counted: several
		// iterations of a loop would otherwise evict the states of its first ones.
		if add {
			sl.misses++
		}
		// Evict states that rarely help (a callback's checkpoints that are still being
		// explored get more chances).
		n := 3
		if force && sl.st.branches > 0 {
			n = 64
		}
		if sl.misses > sl.hits*n+n {
			list[i] = nil
			e.curStates--
		}
	}
	e.explored[b] = compactExplored(list)
	list = e.explored[b]
	e.maxStatesPerInsn = max(e.maxStatesPerInsn, statesCnt)
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
	cur.hist, cur.histCnt = cur.hist[:0], 0
	e.explored[b] = append(list, &explored{st: ck})
	return false, nil
}

// hit records that checkpoint sl (in list b) covers the current state, whose precision needs
// then reach its own history too.
func (e *env) hit(b int, sl *explored) {
	sl.hits++
	e.explored[b] = compactExplored(e.explored[b])
	e.propagatePrecision(sl.st)
}

// compactExplored drops the evicted (nil) entries of a list.
func compactExplored(list []*explored) []*explored {
	n := 0
	for _, sl := range list {
		if sl != nil {
			list[n] = sl
			n++
		}
	}
	for i := n; i < len(list); i++ {
		list[i] = nil
	}
	return list[:n]
}

// cleanLiveStates forgets what is dead in the checkpoints at idx whose paths are all explored
// (clean_live_states): only then are the stack liveness marks of their future complete.
func (e *env) cleanLiveStates(idx int, cur *vstate) {
	for _, sl := range e.explored[e.exploredAt(cur, idx)] {
		st := sl.st
		if st.branches > 0 || st.insnIdx != idx || st.cleaned || !sameCallsites(st, cur) {
			continue
		}
		e.cleanState(st)
	}
}

func sameCallsites(a, b *vstate) bool {
	if a.curframe != b.curframe {
		return false
	}
	for i := a.curframe; i >= 0; i-- {
		if a.frames[i].callsite != b.frames[i].callsite {
			return false
		}
	}
	return true
}

// cleanState forgets the registers and stack slots of st that no path reads again (the kernel's
// clean_verifier_state: register liveness from compute_live_registers, stack liveness from
// liveness.c), so that comparisons ignore them.
func (e *env) cleanState(st *vstate) {
	st.cleaned = true
	for f := 0; f <= st.curframe; f++ {
		e.lv.query[f] = e.instance(e.chainOf(st, f))
	}
	for fi, f := range st.frames {
		at := st.insnIdx
		if fi < st.curframe {
			cs := st.frames[fi+1].callsite
			if st.frames[fi+1].inCallback {
				at = cs
			} else {
				at = cs + 1
			}
		}
		if at >= 0 && at < len(e.live) {
			live := e.live[at]
			for r := 0; r < 10; r++ {
				if live&(1<<r) == 0 {
					f.regs[r].setNotInit()
				}
			}
		}
		for spi := range f.stack {
			if spi < 64 && e.slotAlive(st, fi, spi) {
				continue
			}
			s := &f.stack[spi]
			s.spilled.setNotInit()
			s.dynKind, s.dynptrFirst = dynptrNone, false
			s.slot = [8]slotType{}
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

// statesEqual reports whether old (a checkpoint) covers cur at insn idx, in the comparison
// mode m.
func (e *env) statesEqual(old, cur *vstate, idx int, m cmpMode) bool {
	if old.curframe != cur.curframe {
		return false
	}
	if old.activeLock != cur.activeLock && (old.activeLock == 0) != (cur.activeLock == 0) {
		return false
	}
	if old.activeLock != 0 && (old.lockMap != cur.lockMap || old.lockOff != cur.lockOff) {
		return false
	}
	if old.activeRCU != cur.activeRCU || old.activePreempt != cur.activePreempt {
		return false
	}
	if (old.activeIRQ == 0) != (cur.activeIRQ == 0) {
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
	if !ids.check(old.activeIRQ, cur.activeIRQ) {
		return false
	}
	for i := range old.refs {
		if !ids.check(old.refs[i].id, cur.refs[i].id) || old.refs[i].kind != cur.refs[i].kind {
			return false
		}
	}
	for i := range old.frames {
		if !e.funcStatesEqual(old.frames[i], cur.frames[i], ids, m) {
			return false
		}
	}
	return true
}

func (e *env) funcStatesEqual(old, cur *funcState, ids *idmap, m cmpMode) bool {
	if old.cbDepth != cur.cbDepth && m == cmpExact {
		return false
	}
	for r := 0; r < 10; r++ {
		if !e.regsafe(&old.regs[r], &cur.regs[r], ids, m) {
			return false
		}
	}
	return e.stacksafe(old, cur, ids, m)
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
func (e *env) regsafe(o, c *reg, ids *idmap, m cmpMode) bool {
	if m == cmpExact {
		return regsExact(o, c, ids)
	}
	if o.typ == notInit {
		return m == cmpNotExact || c.typ == notInit
	}
	if c.typ == notInit {
		return false
	}
	if o.typ != c.typ || o.flags != c.flags {
		return false
	}
	switch o.typ {
	case scalarValue:
		if !o.precise && m == cmpNotExact {
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

// stacksafe compares the stack of a frame (the kernel's stacksafe): the slots the checkpoint
// holds, byte by byte; what the current state holds beyond them the checkpoint never needed.
func (e *env) stacksafe(old, cur *funcState, ids *idmap, m cmpMode) bool {
	for spi := range old.stack {
		os := &old.stack[spi]
		var cs *stackSlot
		if spi < len(cur.stack) {
			cs = &cur.stack[spi]
		}
		// Bytes in the kernel's order: slot[0] (the highest address) first.
		for k := 0; k < 8; k++ {
			ot := os.slot[k]
			if m != cmpNotExact && (cs == nil || cs.slot[k] != ot) {
				return false
			}
			if ot == stackInvalid || ot == stackMisc { // a root loader may read any byte
				continue
			}
			if cs == nil {
				return false
			}
			ct := cs.slot[k]
			// A 64-bit scalar spill against data bytes and the reverse: data reads as an
			// unknown scalar, so compare as registers.
			if or, cr := scalarForStack(os, k), scalarForStack(cs, k); or != nil && cr != nil {
				if !e.regsafe(or, cr, ids, m) {
					return false
				}
				break
			}
			if ot != ct {
				return false
			}
			if k != 7 {
				continue
			}
			switch os.slot[7] {
			case stackSpill:
				if !e.regsafe(&os.spilled, &cs.spilled, ids, m) {
					return false
				}
			case stackIRQFlag:
				if !ids.check(os.spilled.refID, cs.spilled.refID) {
					return false
				}
			case stackIter:
				// The depth is not compared (stacksafe ignores iter.depth).
				if os.iterDrained != cs.iterDrained || !ids.check(os.spilled.refID, cs.spilled.refID) {
					return false
				}
			case stackDynptr:
				if os.dynKind != cs.dynKind || os.dynptrFirst != cs.dynptrFirst ||
					(os.spilled.refID != 0) != (cs.spilled.refID != 0) ||
					(os.spilled.refID != 0 && !ids.check(os.spilled.refID, cs.spilled.refID)) {
					return false
				}
			}
		}
	}
	return true
}

// unboundScalar is what data bytes read as.
var unboundScalar = unknownReg()

// scalarForStack is scalar_reg_for_stack: the spilled scalar when byte k is part of one, an
// unknown scalar when bytes k..7 are all data (or, for a root loader, uninitialised), else nil.
func scalarForStack(s *stackSlot, k int) *reg {
	if s.slot[k] == stackSpill && s.spilled.typ == scalarValue {
		return &s.spilled
	}
	for i := k; i < 8; i++ {
		if s.slot[i] != stackMisc && s.slot[i] != stackInvalid {
			return nil
		}
	}
	return &unboundScalar
}
