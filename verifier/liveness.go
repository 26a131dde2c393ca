package verifier

import "github.com/xdpsim/xdpsim/vm"

// Stack liveness as Linux 6.18 computes it (kernel/bpf/liveness.c): which stack slots may still
// be read at an instruction, so that comparing a state with a checkpoint ignores the slots no
// path reads again.
//
// The analysis is path-insensitive but call-chain sensitive. For each call chain (the call
// instructions that lead to a function, and the function) it keeps, per instruction of the
// function and per frame of the chain, the slots the instruction may read (a union over every
// path that visited it), the slots it surely writes whole (an intersection), and, computed from
// these by a backward dataflow over the function's control flow graph, the slots live before
// the instruction and the slots the instruction and its successors surely write. What a callee
// reads or surely writes of its callers' frames moves to the call instruction of the caller's
// chain. Reads and writes are recorded as the exploration meets them; the dataflow runs when a
// function returns and when a path ends, so that a state whose paths are all explored has
// every mark of its future recorded when it is compared.

// chainKey is a call chain: the call instructions of frames 0..n-1 and the first instruction of
// the function of frame n.
type chainKey struct {
	n  int8
	cs [maxCallFrames]int32
}

// slotMasks are the marks of one instruction for one frame (bit spi: the 8 bytes at
// fp-8*(spi+1)).
type slotMasks struct {
	mayRead      uint64 // slots the instruction may read
	mustWrite    uint64 // slots the instruction writes whole on every visit
	mustWriteAcc uint64 // slots the instruction and its successors surely write
	liveBefore   uint64 // slots the instruction or its successors may read
}

// funcInstance is a function as one call chain calls it.
type funcInstance struct {
	key     chainKey
	start   int // first instruction of the function
	sp      int // the function's subprogram index
	updated bool
	dropped bool // a mustWrite set shrank: mustWriteAcc starts again from nothing
	frames  [maxCallFrames][]slotMasks
	seen    []bool // mustWrite was set for the instruction
}

type stackLiveness struct {
	instances map[chainKey]*funcInstance
	cur       *funcInstance // the current state's innermost chain; nil when not looked up yet
	writeAcc  [maxCallFrames]uint64
	writeIdx  int
	writing   bool
	// the query's instances, one per frame of the state being cleaned
	query [maxCallFrames]*funcInstance
	// postorder of every function's instructions, for the dataflow
	postorder [][]int
}

func (e *env) chainOf(st *vstate, frame int) chainKey {
	var k chainKey
	k.n = int8(frame)
	for i := 0; i < frame; i++ {
		k.cs[i] = int32(st.frames[i+1].callsite)
	}
	k.cs[frame] = int32(e.subprogs[st.frames[frame].subprog].start)
	return k
}

func (e *env) instance(k chainKey) *funcInstance {
	lv := &e.lv
	if in := lv.instances[k]; in != nil {
		return in
	}
	start := int(k.cs[k.n])
	sp := e.subprogAt(start)
	in := &funcInstance{key: k, start: start, sp: sp, seen: make([]bool, e.subprogs[sp].end-start)}
	if lv.instances == nil {
		lv.instances = map[chainKey]*funcInstance{}
	}
	lv.instances[k] = in
	return in
}

func (e *env) curInstance() *funcInstance {
	if e.lv.cur == nil {
		e.lv.cur = e.instance(e.chainOf(e.cur, e.cur.curframe))
	}
	return e.lv.cur
}

// masks gives the marks of insn for frame of in, allocating them.
func (in *funcInstance) masks(frame, insn int) *slotMasks {
	if in.frames[frame] == nil {
		in.frames[frame] = make([]slotMasks, len(in.seen))
	}
	return &in.frames[frame][insn-in.start]
}

// markStackRead records that the instruction being checked may read the slots of mask in frame.
func (e *env) markStackRead(frame int, mask uint64) {
	if mask == 0 {
		return
	}
	e.markRead(e.curInstance(), frame, e.idx, mask)
}

func (e *env) markRead(in *funcInstance, frame, insn int, mask uint64) {
	m := in.masks(frame, insn)
	if n := m.mayRead | mask; n != m.mayRead && n|m.liveBefore != m.liveBefore {
		in.updated = true
	}
	m.mayRead |= mask
}

// markStackWrite records that the instruction being checked writes the slots of mask of frame
// whole.
func (e *env) markStackWrite(frame int, mask uint64) {
	e.lv.writeAcc[frame] |= mask
}

// resetStackWrites starts the write marks of the instruction at idx.
func (e *env) resetStackWrites(idx int) {
	e.lv.writeIdx = idx
	e.lv.writeAcc = [maxCallFrames]uint64{}
	e.lv.writing = true
}

// commitStackWrites merges the write marks of the instruction just checked into its chain's
// (none when the instruction entered or left a function: the chain is not the same).
func (e *env) commitStackWrites() {
	if e.lv.writing && e.lv.cur != nil {
		e.commitWrites(e.lv.cur)
	}
	e.lv.writing = false
}

func (e *env) commitWrites(in *funcInstance) {
	lv := &e.lv
	rel := lv.writeIdx - in.start
	for f := 0; f <= int(in.key.n); f++ {
		mask := lv.writeAcc[f]
		if mask == 0 && !in.seen[rel] {
			continue
		}
		m := in.masks(f, lv.writeIdx)
		old := m.mustWrite
		if in.seen[rel] {
			mask &= old
		}
		if old != mask {
			m.mustWrite = mask
			in.updated = true
		}
		if old&^mask != 0 {
			in.dropped = true
		}
	}
	in.seen[rel] = true
}

// successors are the instructions control may go to after insn (bpf_insn_successors).
func (e *env) successors(insn int) (a, b int) {
	in := e.insns[insn]
	a, b = -1, -1
	switch {
	case in.Op == vm.OpExit:
	case in.Op == vm.OpLdImm64:
		a = insn + 2
	case in.Op == vm.OpCall:
		a = insn + 1
	default:
		if t, ok := e.jumpTarget(insn); ok {
			if in.Op&0xf0 != vm.JmpJA {
				a = insn + 1
			}
			b = t
		} else {
			a = insn + 1
		}
	}
	return a, b
}

// updateInstance computes liveBefore and mustWriteAcc of a chain to their fixed point and moves
// what the function reads and surely writes of its callers' frames to the call instruction.
func (e *env) updateInstance(in *funcInstance) {
	if in.dropped {
		for f := range in.frames {
			for i := range in.frames[f] {
				in.frames[f][i].mustWriteAcc = 0
			}
		}
	}
	order := e.lv.postorder[in.sp]
	for changed := true; changed; {
		changed = false
		for f := 0; f <= int(in.key.n); f++ {
			ms := in.frames[f]
			if ms == nil {
				continue
			}
			for _, insn := range order {
				a, b := e.successors(insn)
				if a < 0 && b < 0 {
					continue
				}
				m := &ms[insn-in.start]
				var after uint64
				acc := ^uint64(0)
				for _, s := range [2]int{a, b} {
					if s < 0 {
						continue
					}
					sm := &ms[s-in.start]
					after |= sm.liveBefore
					acc &= sm.mustWriteAcc
				}
				acc |= m.mustWrite
				before := after&^m.mustWrite | m.mayRead
				if before != m.liveBefore || acc != m.mustWriteAcc {
					changed = true
				}
				m.liveBefore, m.mustWriteAcc = before, acc
			}
		}
	}
	if in.key.n == 0 {
		return
	}
	// Up to the caller's chain, at the call.
	var ok chainKey
	ok.n = in.key.n - 1
	copy(ok.cs[:ok.n], in.key.cs[:ok.n])
	callsite := int(in.key.cs[ok.n])
	ok.cs[ok.n] = int32(e.subprogs[e.subprogAt(callsite)].start)
	outer := e.instance(ok)
	saved, savedIdx := e.lv.writeAcc, e.lv.writeIdx
	e.lv.writeAcc, e.lv.writeIdx = [maxCallFrames]uint64{}, callsite
	for f := 0; f < int(in.key.n); f++ {
		if in.frames[f] == nil {
			continue
		}
		m := &in.frames[f][0]
		e.lv.writeAcc[f] |= m.mustWriteAcc
		e.markRead(outer, f, callsite, m.liveBefore)
	}
	e.commitWrites(outer)
	e.lv.writeAcc, e.lv.writeIdx = saved, savedIdx
}

// updateLiveStack brings the chains of the current state up to date (bpf_update_live_stack),
// innermost first, so that what a callee learnt reaches its callers.
func (e *env) updateLiveStack() {
	e.lv.cur = nil
	for f := e.cur.curframe; f >= 0; f-- {
		in := e.instance(e.chainOf(e.cur, f))
		if in.updated {
			e.updateInstance(in)
			in.updated, in.dropped = false, false
		}
	}
}

// slotAlive reports whether slot spi of frame may still be read from state st on
// (bpf_stack_slot_alive, with the query's instances prepared for st).
func (e *env) slotAlive(st *vstate, frame, spi int) bool {
	q := &e.lv.query
	cur := q[st.curframe]
	if cur.liveBefore(st.insnIdx, frame, spi) {
		return true
	}
	for i := frame; i < st.curframe; i++ {
		callsite := int(cur.key.cs[i])
		at := callsite + 1
		if e.forceCP[callsite] { // the call calls a callback: it runs again from the call
			at = callsite
		}
		if q[i].liveBefore(at, frame, spi) {
			return true
		}
	}
	return false
}

func (in *funcInstance) liveBefore(insn, frame, spi int) bool {
	ms := in.frames[frame]
	if ms == nil || insn < in.start || insn-in.start >= len(ms) {
		return false
	}
	return ms[insn-in.start].liveBefore&(1<<uint(spi)) != 0
}

// computePostorder lists every function's instructions in postorder of a depth-first walk of
// its control flow graph from its first instruction.
func (e *env) computePostorder() {
	n := len(e.insns)
	seen := make([]bool, n)
	e.lv.postorder = make([][]int, len(e.subprogs))
	type item struct{ pc, next int }
	for si, sp := range e.subprogs {
		var order []int
		stack := []item{{sp.start, 0}}
		seen[sp.start] = true
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			a, b := e.successors(top.pc)
			succ := [2]int{a, b}
			pushed := false
			for top.next < 2 {
				s := succ[top.next]
				top.next++
				if s < 0 || s < sp.start || s >= sp.end || seen[s] {
					continue
				}
				seen[s] = true
				stack = append(stack, item{s, 0})
				pushed = true
				break
			}
			if !pushed {
				order = append(order, top.pc)
				stack = stack[:len(stack)-1]
			}
		}
		e.lv.postorder[si] = order
	}
}
