package vm

// The machine zeroes the stack before every run, so that a run never sees what an earlier one left
// there (the kernel leaves it uninitialised and its verifier lets privileged programs read it; the
// simulator is deterministic instead). Zeroing every frame a run reached costs more than many a
// packet program, so a program is analysed once, when it is made, for how many bytes below its frame
// pointer any of its functions may write: itself, or a helper it hands a pointer into its frame.
// Only that much of the deepest frame a run reached is zeroed before the next (every shallower
// frame wholly).
//
// The analysis follows, per function, which registers and 8-byte stack slots may hold the frame
// pointer plus a known constant, or plus at least a known constant. Whatever it cannot follow (a
// store through a frame pointer of unknown offset, a frame pointer stored outside the frame or in
// pieces, a constant that names the stack region, more work than stackMaxSteps) makes it answer the
// whole frame, StackSize, as the machine did before.
// Programs the kernel's verifier accepts never defeat it in ways it does not notice: they cannot
// forge pointers from numbers, nor write below their frame.

// stackMaxSteps bounds the analysis of one function; past it the function counts as using its
// whole frame.
const stackMaxSteps = 1 << 16

// fpVal is what the analysis knows of a register or an 8-byte stack slot: that it holds no pointer
// into the function's own frame (fpNone); that it holds either no such pointer or the frame pointer
// plus off (fpPtr, exact), or plus at least off (fpPtr, not exact); or nothing (fpAny). Since a
// value may always be no frame pointer at all, a store into a slot through a pointer merges with
// what the slot held (the store may have gone elsewhere).
type fpVal struct {
	kind  fpKind
	exact bool
	off   int32
}

type fpKind uint8

const (
	fpNone fpKind = iota
	fpPtr
	fpAny
)

var anyFP = fpVal{kind: fpAny}

func joinFP(a, b fpVal) fpVal {
	switch {
	case a == b || b.kind == fpNone:
		return a
	case a.kind == fpNone:
		return b
	case a.kind == fpAny || b.kind == fpAny:
		return anyFP
	}
	return fpVal{kind: fpPtr, off: min(a.off, b.off), exact: a.exact && b.exact && a.off == b.off}
}

// fpState is the analysis state before one instruction.
type fpState struct {
	regs [11]fpVal
	// slots holds the 8-byte aligned slots that may hold frame pointers (by offset from the frame
	// pointer); a slot not listed holds none.
	slots map[int32]fpVal
	// slotsUnknown says a callee may have written frame pointers anywhere into the frame.
	slotsUnknown bool
}

func (s *fpState) clone() *fpState {
	c := &fpState{regs: s.regs, slotsUnknown: s.slotsUnknown}
	if len(s.slots) > 0 {
		c.slots = make(map[int32]fpVal, len(s.slots))
		for k, v := range s.slots {
			c.slots[k] = v
		}
	}
	return c
}

// join merges o into s and reports whether s changed.
func (s *fpState) join(o *fpState) bool {
	changed := false
	for r := range s.regs {
		if j := joinFP(s.regs[r], o.regs[r]); j != s.regs[r] {
			s.regs[r], changed = j, true
		}
	}
	if o.slotsUnknown && !s.slotsUnknown {
		s.slotsUnknown, changed = true, true
	}
	for k, v := range o.slots {
		if j := joinFP(s.slots[k], v); j != s.slots[k] {
			s.setSlot(k, j)
			changed = true
		}
	}
	return changed
}

// slot is what an 8-byte load at off reads.
func (s *fpState) slot(off int32) fpVal {
	if s.slotsUnknown {
		return anyFP
	}
	return s.slots[off]
}

func (s *fpState) setSlot(off int32, v fpVal) {
	if s.slots == nil {
		s.slots = map[int32]fpVal{}
	}
	s.slots[off] = v
}

// mayHoldFP says a load from an unknown place in the frame may read a frame pointer.
func (s *fpState) mayHoldFP() bool {
	if s.slotsUnknown {
		return true
	}
	for _, v := range s.slots {
		if v.kind != fpNone {
			return true
		}
	}
	return false
}

// stackUse is the number of bytes below the frame pointer that any function of p may write
// (rounded up to 8), or StackSize when the analysis cannot tell.
func stackUse(p *Program) int {
	use := 0
	for start, isFunc := range p.funcStart {
		if !isFunc {
			continue
		}
		u := funcStackUse(p, start)
		if u >= StackSize {
			return StackSize
		}
		use = max(use, u)
	}
	return (use + 7) &^ 7
}

// funcStackUse analyses the function that starts at start.
func funcStackUse(p *Program, start int) int {
	lowest := int32(0)
	// wrote notes a write from off up; false means below the frame, which the analysis gives up on.
	wrote := func(off int64) bool {
		if off < -StackSize {
			return false
		}
		lowest = min(lowest, int32(off))
		return true
	}
	states := map[int]*fpState{}
	entry := &fpState{}
	entry.regs[10] = fpVal{kind: fpPtr, exact: true}
	states[start] = entry
	work := []int{start}
	flow := func(pc int, s *fpState) {
		if pc < 0 || pc >= len(p.code) {
			return
		}
		if old, ok := states[pc]; ok {
			if old.join(s) {
				work = append(work, pc)
			}
			return
		}
		states[pc] = s
		work = append(work, pc)
	}
	for steps := 0; len(work) > 0; steps++ {
		if steps > stackMaxSteps {
			return StackSize
		}
		pc := work[len(work)-1]
		work = work[:len(work)-1]
		s := states[pc].clone()
		in := p.code[pc]
		dst, src := in.dst&0xf, in.src&0xf
		cls := in.code & 0x07
		next := pc + 1
		switch cls {
		case ClassALU64:
			op := in.code & 0xf0
			x := in.code&SrcX != 0
			d := s.regs[dst]
			switch {
			case op == AluMov && x && in.off == 0:
				s.regs[dst] = s.regs[src]
			case op == AluMov:
				s.regs[dst] = fpVal{} // an immediate, or a sign-extended (truncated) register
			case (op == AluAdd || op == AluSub) && !x:
				if d.kind == fpPtr {
					delta := in.imm
					if op == AluSub {
						delta = -delta
					}
					if o := int64(d.off) + delta; o >= -StackSize && o <= StackSize {
						s.regs[dst] = fpVal{kind: fpPtr, off: int32(o), exact: d.exact}
					} else {
						s.regs[dst] = anyFP
					}
				}
			default:
				if d.kind != fpNone || (x && s.regs[src].kind != fpNone) {
					s.regs[dst] = anyFP
				} else {
					s.regs[dst] = fpVal{}
				}
			}
		case ClassALU:
			s.regs[dst] = fpVal{} // 32-bit results lose the region: never a pointer
		case ClassLD:
			// lddw: a map, a function or a number. A number that names the stack region is a
			// forged frame pointer the analysis cannot follow.
			if in.src == 0 && uint64(in.imm)>>regionShift == RegionStack {
				return StackSize
			}
			s.regs[dst] = fpVal{}
			next = pc + 2
		case ClassLDX:
			b := s.regs[src]
			o := int64(b.off) + int64(in.off)
			dw := in.code&0xe0 == ModeMEM && in.code&0x18 == SizeDW
			v := fpVal{}
			switch {
			case b.kind == fpPtr && b.exact && dw && o%8 == 0:
				v = s.slot(int32(o))
			case b.kind != fpNone && dw && s.mayHoldFP():
				v = anyFP // a load from somewhere in the frame may read a slot
			}
			s.regs[dst] = v
		case ClassST, ClassSTX:
			b := s.regs[dst]
			var val fpVal
			if cls == ClassSTX && in.code&0xe0 == ModeMEM {
				val = s.regs[src]
			}
			o := int64(b.off) + int64(in.off)
			switch b.kind {
			case fpAny:
				return StackSize
			case fpPtr:
				if !wrote(o) {
					return StackSize
				}
			}
			if val.kind != fpNone {
				// A frame pointer stored: tracked in the slot it lands in, if that is known.
				if b.kind != fpPtr || !b.exact || in.code&0x18 != SizeDW || o%8 != 0 {
					return StackSize
				}
				s.setSlot(int32(o), joinFP(s.slots[int32(o)], val))
			}
			if in.code&0xe0 == ModeATOMIC {
				switch {
				case in.imm == AtomicCmpXchg:
					s.regs[0] = fpVal{}
				case in.imm&AtomicFetch != 0:
					s.regs[src] = fpVal{}
				}
			}
		case ClassJMP, ClassJMP32:
			op := in.code & 0xf0
			switch {
			case in.code == OpExit:
				continue
			case in.code == OpCall && in.src == PseudoCall, in.code == OpCallX:
				// A callee may write into this frame through its arguments, keep pointers into it
				// in it, and return one. callx may name a helper too, which writes from the
				// pointer up.
				passes := false
				for r := 1; r <= 5; r++ {
					switch v := s.regs[r]; v.kind {
					case fpAny:
						return StackSize
					case fpPtr:
						passes = true
						if !wrote(int64(v.off)) {
							return StackSize
						}
					}
				}
				for r := 0; r <= 5; r++ {
					s.regs[r] = fpVal{}
				}
				if passes {
					s.regs[0] = anyFP
					s.slotsUnknown = true
				}
			case in.code == OpCall:
				// A helper or kfunc writes, if at all, from a pointer argument upwards.
				for r := 1; r <= 5; r++ {
					switch v := s.regs[r]; v.kind {
					case fpAny:
						return StackSize
					case fpPtr:
						if !wrote(int64(v.off)) {
							return StackSize
						}
					}
				}
				for r := 0; r <= 5; r++ {
					s.regs[r] = fpVal{}
				}
			case op == JmpJA:
				next = int(in.off)
			default:
				flow(int(in.off), s.clone())
			}
		}
		flow(next, s)
	}
	return int(-lowest)
}

// StackUse is how many bytes below its frame pointer any function of the program may write, as the
// machine's analysis finds it (StackSize when it cannot tell): what a run of it leaves for the next
// to zero in the deepest frame it reached.
func (p *Program) StackUse() int { return p.stackUse }
