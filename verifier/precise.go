package verifier

import "github.com/xdpsim/xdpsim/vm"

// Precision tracking (the kernel's mark_chain_precision and backtracking). A scalar is
// "precise" when the safety of some path depended on its exact range: it decided a branch,
// moved a pointer, sized a memory access. Only precise scalars must match when a state is
// compared with a checkpoint; others may differ. When a use needs precision, the verifier walks
// back through the instructions that produced the value, up through the checkpoints the path
// descends from, and marks the registers and stack slots it came from precise there.

// histEntry is one processed instruction of a state's path since its checkpoint.
type histEntry struct {
	idx   int32
	frame int8
	// a fill or spill of stack slot spi of frame stackFrame (-1: none)
	stackFrame int8
	spi        int16
}

// btState is the set of registers and stack slots whose precision is being traced, per frame.
type btState struct {
	regs  [maxCallFrames]uint16
	stack [maxCallFrames]uint64
	frame int
}

func (b *btState) empty() bool {
	for i := range b.regs {
		if b.regs[i] != 0 || b.stack[i] != 0 {
			return false
		}
	}
	return true
}

// recordStackAccess notes that the instruction being processed spilled or filled slot spi of
// frame f, for backtracking.
func (e *env) recordStackAccess(f int, spi int) {
	h := e.cur.hist
	if len(h) == 0 || spi >= 64 {
		return
	}
	if last := h[len(h)-1]; last.stackFrame < 0 && !e.jmpPoint[last.idx] {
		e.cur.histCnt++ // the kernel's history gains an entry for the access
	}
	h[len(h)-1].stackFrame = int8(f)
	h[len(h)-1].spi = int16(spi)
}

// markPrecise marks scalar register regno of the current frame precise, with everything it
// came from.
func (e *env) markPrecise(regno uint8) {
	r := &e.regs()[regno]
	if r.typ != scalarValue {
		return
	}
	var bt btState
	bt.frame = e.cur.curframe
	bt.regs[bt.frame] = 1 << regno
	e.backtrack(e.cur, &bt, true)
}

// markSlotPrecise marks the scalar spilled in slot spi of frame f precise.
func (e *env) markSlotPrecise(f, spi int) {
	if spi >= 64 {
		return
	}
	var bt btState
	bt.frame = e.cur.curframe
	bt.stack[f] = 1 << spi
	e.backtrack(e.cur, &bt, true)
}

// backtrack walks st's history back to its checkpoint and continues in the checkpoints above,
// marking what bt holds precise in each checkpoint (not in st itself, the current state:
// only checkpoints are compared). skipFirst skips the instruction being processed (its reads
// come before its effects). When the history cannot be followed, or the set is not empty at
// the first state, every scalar of the path becomes precise (the kernel's fallback).
func (e *env) backtrack(st *vstate, bt *btState, skipFirst bool) {
	start := st
	for st != nil {
		if st != start {
			e.markSet(st, bt)
		}
		if bt.empty() {
			return
		}
		last := len(st.hist) - 1
		if skipFirst {
			last--
			skipFirst = false
		}
		for i := last; i >= 0; i-- {
			subseq := int32(e.idx)
			if st != e.cur {
				subseq = int32(st.insnIdx)
			}
			if i+1 < len(st.hist) {
				subseq = st.hist[i+1].idx
			}
			if !e.backtrackInsn(st.hist[i], subseq, bt) {
				e.markAllPrecise(start)
				return
			}
			if bt.empty() {
				return
			}
		}
		st = st.parent
	}
	e.markAllPrecise(start)
}

// markSet marks what bt holds precise in the checkpoint st, and drops from bt what needs no
// more tracing: pointers, and values already precise there (their history was traced when they
// became so).
func (e *env) markSet(st *vstate, bt *btState) {
	for fi := 0; fi < maxCallFrames; fi++ {
		if bt.regs[fi] == 0 && bt.stack[fi] == 0 {
			continue
		}
		if fi >= len(st.frames) {
			continue
		}
		f := st.frames[fi]
		for r := 0; r < 10; r++ {
			if bt.regs[fi]&(1<<r) == 0 {
				continue
			}
			rg := &f.regs[r]
			if rg.typ != scalarValue || rg.precise {
				bt.regs[fi] &^= 1 << r
				continue
			}
			rg.precise = true
		}
		for spi := 0; spi < 64 && spi < len(f.stack); spi++ {
			if bt.stack[fi]&(1<<spi) == 0 {
				continue
			}
			s := &f.stack[spi]
			if !s.isSpilled() || s.spilled.typ != scalarValue || s.spilled.precise {
				bt.stack[fi] &^= 1 << spi
				continue
			}
			s.spilled.precise = true
		}
	}
}

// markAllPrecise is the fallback when the history cannot be followed: every scalar of the
// checkpoints above st becomes precise.
func (e *env) markAllPrecise(st *vstate) {
	for st = st.parent; st != nil; st = st.parent {
		st.forEachReg(func(r *reg) {
			if r.typ == scalarValue {
				r.precise = true
			}
		})
	}
}

// backtrackInsn moves the set from after the instruction to before it; false asks for the
// fallback.
func (e *env) backtrackInsn(h histEntry, subseq int32, bt *btState) bool {
	ins := e.insns[h.idx]
	fr := int(h.frame)
	if fr != bt.frame {
		// Crossing a call boundary.
		switch {
		case ins.Op == vm.OpExit && fr == bt.frame+1:
			// Going back into the callee from the caller's instruction after the call: r0 is
			// what the callee returned. After a callback, the caller's r1-r5 are the
			// arguments of the helper that calls it, not anything the callback set.
			if subseq >= 0 && e.aux[subseq].callback {
				bt.regs[bt.frame] &^= 0x3f
				bt.frame = fr
				return true
			}
			if bt.regs[bt.frame]&0x3e != 0 {
				return false
			}
			r0 := bt.regs[bt.frame] & 1
			bt.regs[bt.frame] &^= 1
			bt.frame = fr
			bt.regs[fr] |= r0
			return true
		case ins.Op == vm.OpCall && ins.Src() == 0 && fr == bt.frame-1:
			// Back from a callback's first instruction to the helper that calls it: the
			// callback's arguments are not the caller's registers.
			if bt.regs[bt.frame]&^0x3e != 0 || bt.stack[bt.frame] != 0 {
				return false
			}
			bt.regs[bt.frame] = 0
			bt.frame = fr
			return true
		case ins.Op == vm.OpCall && ins.Src() == vm.PseudoCall && fr == bt.frame-1:
			// Back from the callee's first instruction to the call: its arguments are the
			// caller's r1..r5.
			if bt.regs[bt.frame]&^0x3e != 0 || bt.stack[bt.frame] != 0 {
				return false
			}
			args := bt.regs[bt.frame]
			bt.regs[bt.frame] = 0
			bt.frame = fr
			bt.regs[fr] |= args
			return true
		}
		return false
	}
	regs := &bt.regs[fr]
	dst, src := ins.Dst(), ins.Src()
	isSet := func(r uint8) bool { return *regs&(1<<r) != 0 }
	switch ins.Class() {
	case vm.ClassALU, vm.ClassALU64:
		if !isSet(dst) {
			return true
		}
		op := ins.Op & 0xf0
		x := ins.Op&vm.SrcX != 0
		switch {
		case op == vm.AluMov:
			*regs &^= 1 << dst
			if x {
				*regs |= 1 << src
			}
		case op == vm.AluNeg || op == vm.AluEnd:
		case x:
			*regs |= 1 << src
		}
	case vm.ClassLDX:
		if !isSet(dst) {
			return true
		}
		*regs &^= 1 << dst
		if h.stackFrame >= 0 {
			bt.stack[h.stackFrame] |= 1 << uint(h.spi)
		}
	case vm.ClassST, vm.ClassSTX:
		if ins.Class() == vm.ClassSTX && ins.Op&0xe0 == vm.ModeATOMIC {
			// fetching atomics load into src (or r0); the loaded value is unknown memory
			if ins.Imm == vm.AtomicCmpXchg {
				*regs &^= 1
			} else if ins.Imm&vm.AtomicFetch != 0 {
				*regs &^= 1 << src
			}
			return true
		}
		if h.stackFrame < 0 {
			return true
		}
		sf := int(h.stackFrame)
		if bt.stack[sf]&(1<<uint(h.spi)) == 0 {
			return true
		}
		bt.stack[sf] &^= 1 << uint(h.spi)
		if ins.Class() == vm.ClassSTX {
			*regs |= 1 << src
		}
	case vm.ClassLD:
		if !isSet(dst) {
			return true
		}
		*regs &^= 1 << dst
		if ins.Op != vm.OpLdImm64 {
			// BPF_LD_[ABS|IND]: the kernel does not trace through them either.
			return false
		}
	case vm.ClassJMP, vm.ClassJMP32:
		switch ins.Op & 0xf0 {
		case vm.JmpCall:
			if ins.Src() == vm.PseudoCall && e.subprogs[e.subprogAt(int(h.idx)+int(ins.Imm)+1)].global {
				*regs &^= 1
				return *regs&0x3e == 0
			}
			if ins.Src() == vm.PseudoCall {
				// a static call whose callee was not followed: should not happen
				return false
			}
			*regs &^= 1
			if *regs&0x3e != 0 {
				return false
			}
		case vm.JmpExit, vm.JmpJA:
		default:
			if ins.Op&vm.SrcX != 0 {
				if !isSet(dst) && !isSet(src) {
					return true
				}
				*regs |= 1<<dst | 1<<src
			}
		}
	}
	return true
}

// propagatePrecision: a state pruned against old needs the values old needed precise to be
// precise in its own history too.
func (e *env) propagatePrecision(old *vstate) {
	var bt btState
	bt.frame = e.cur.curframe
	for fi, f := range old.frames {
		if fi >= len(e.cur.frames) {
			break
		}
		for r := 0; r < 10; r++ {
			if f.regs[r].typ == scalarValue && f.regs[r].precise {
				bt.regs[fi] |= 1 << r
			}
		}
		for spi := 0; spi < 64 && spi < len(f.stack); spi++ {
			s := &f.stack[spi]
			if s.isSpilled() && s.spilled.typ == scalarValue && s.spilled.precise {
				bt.stack[fi] |= 1 << spi
			}
		}
	}
	if bt.empty() {
		return
	}
	e.backtrack(e.cur, &bt, false)
}
