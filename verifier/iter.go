package verifier

import (
	"strings"

	"github.com/xdpsim/xdpsim/kfuncs"
)

// Open-coded iterators (struct bpf_iter_<kind> on the stack, 8 bytes for the number iterator):
// the new kfunc makes one and takes a reference the destroy kfunc gives back; each call of the
// next kfunc forks the path, one side where the iterator is drained and next returned NULL
// (explored first), one where it gave an element (explored later, one turn deeper). A turn
// whose state lies within an earlier turn's ranges at the next call ends the exploration of the
// loop (process_iter_next_call and is_state_visited's iterator rule).

const iterNumSize = 8

// iterKind is the kind an iterator kfunc works on ("num" for bpf_iter_num_next).
func iterKind(name string) string {
	s := strings.TrimPrefix(name, "bpf_iter_")
	if i := strings.LastIndexByte(s, '_'); i >= 0 {
		s = s[:i]
	}
	return s
}

// iterArg checks the iterator argument i of kfunc k (in regno) and returns its frame and slot:
// uninitialised stack for the new kfunc, an iterator for the others.
func (e *env) iterArg(k *kfuncs.Kfunc, i int, regno uint8, r *reg) (*funcState, int, error) {
	if r.typ != ptrToStack {
		return nil, 0, e.reject("arg#%d expected pointer to an iterator on stack", i)
	}
	if !r.varOff.isConst() {
		return nil, 0, e.reject("R%d variable offset stack access prohibited for iter", regno)
	}
	off := int64(r.off) + int64(r.varOff.value)
	if off%8 != 0 || off >= 0 {
		return nil, 0, e.reject("cannot pass in iter at an offset=%d", off)
	}
	if err := e.checkStackBoundsMsg(regno, r, int(r.off), iterNumSize, " write to"); err != nil {
		return nil, 0, err
	}
	f := e.stackFrame(r)
	spi, _ := byteAt(off)
	f.growStack(int(-off))
	s := &f.stack[spi]
	isIter := s.slot[7] == stackIter && s.spilled.refID != 0
	if k.Flags&kfuncs.KFIterNew != 0 {
		if isIter {
			return nil, 0, e.reject("expected uninitialized iter_%s as arg #%d", iterKind(k.Name), i)
		}
		return f, spi, nil
	}
	if !isIter {
		return nil, 0, e.reject("expected an initialized iter_%s as arg #%d", iterKind(k.Name), i)
	}
	e.markStackRead(f.frameno, 1<<uint(spi))
	return f, spi, nil
}

// makeIter turns the slot into a fresh iterator holding a new reference.
func (e *env) makeIter(idx int, f *funcState, spi int) {
	ref := e.acquireReference(idx)
	s := &f.stack[spi]
	s.spilled.setNotInit()
	s.spilled.refID = ref
	s.dynKind, s.dynptrFirst = dynptrNone, false
	s.iterDrained, s.iterDepth = false, 0
	s.fill(stackIter)
	e.markStackWrite(f.frameno, 1<<uint(spi))
	e.scratchSlot(f, spi)
}

// destroyIter gives the iterator's reference back and makes its slot unwritten.
func (e *env) destroyIter(f *funcState, spi int) bool {
	s := &f.stack[spi]
	if !e.releaseReference(s.spilled.refID) {
		return false
	}
	s.spilled.setNotInit()
	s.iterDrained, s.iterDepth = false, 0
	s.fill(stackInvalid)
	e.markStackWrite(f.frameno, 1<<uint(spi))
	e.scratchSlot(f, spi)
	return true
}

// forkIterNext forks the path at a call of the next kfunc (process_iter_next_call): while the
// iterator may give elements, a path where it gave one (R0 not NULL, one turn deeper, scalars
// that changed since the previous turn widened) is queued; the current path goes on with the
// iterator drained and R0 NULL.
func (e *env) forkIterNext(idx int, frameno, spi int) error {
	cur := e.cur
	s := &cur.frames[frameno].stack[spi]
	if !s.iterDrained {
		err := e.queueNextTurn(idx, func(q *vstate) {
			qs := &q.frames[frameno].stack[spi]
			qs.iterDrained = false
			qs.iterDepth++
			q.frames[q.curframe].regs[0].flags &^= flagMaybeNull
		})
		if err != nil {
			return err
		}
	}
	s.iterDrained = true
	e.regs()[0].setConst(0)
	return nil
}

// forkMayGoto explores may_goto at idx as the kernel does: the path goes on at the jump target
// (the loop's allowance spent), and the fall-through (another turn) is queued one may_goto
// deeper (see the may_goto case of isStateVisited).
func (e *env) forkMayGoto(idx int) error {
	return e.queueNextTurn(idx, func(q *vstate) { q.mayGotoDepth++ })
}

// queueNextTurn queues the next turn of a loop whose turns the instruction at idx starts (a call
// of an iterator's next kfunc, or may_goto): the path from idx+1, made a turn deeper by deeper,
// its imprecise scalars widened against the previous turn's checkpoint on this path
// (find_prev_entry, widen_imprecise_scalars) so that the turns converge.
func (e *env) queueNextTurn(idx int, deeper func(q *vstate)) error {
	cur := e.cur
	prevFrom := cur
	if cur.parent != nil && cur.parent.insnIdx == idx {
		prevFrom = cur.parent // skip the checkpoint made for this very instruction
	}
	prev := e.findPrevEntry(prevFrom, idx)
	q, err := e.pushStack(idx+1, idx)
	if err != nil {
		return err
	}
	deeper(q)
	if prev != nil {
		widenImpreciseScalars(prev, q)
	}
	return nil
}

// iterActive says whether the iterator the current call of a next kfunc is given (R1) may still
// give elements.
func (e *env) iterActive(st *vstate) bool {
	r := &st.frames[st.curframe].regs[1]
	if r.typ != ptrToStack || !r.varOff.isConst() {
		return false
	}
	f := st.frames[r.frame]
	spi, _ := byteAt(int64(r.off) + int64(r.varOff.value))
	if spi < 0 || spi >= len(f.stack) || f.stack[spi].slot[7] != stackIter {
		return false
	}
	return !f.stack[spi].iterDrained
}

// iterDepthsDiffer says whether an iterator that may still give elements in old is at another
// turn in cur (iter_active_depths_differ): then cur is a later turn, not an infinite loop.
func iterDepthsDiffer(old, cur *vstate) bool {
	for fr := old.curframe; fr >= 0; fr-- {
		fo, fc := old.frames[fr], cur.frames[fr]
		for spi := range fo.stack {
			s := &fo.stack[spi]
			if s.slot[0] != stackIter || s.iterDrained {
				continue
			}
			if spi >= len(fc.stack) || fc.stack[spi].iterDepth != s.iterDepth {
				return true
			}
		}
	}
	return false
}
