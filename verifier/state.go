package verifier

// slotType is what one byte of a stack slot holds (the kernel's enum bpf_stack_slot_type).
type slotType uint8

const (
	stackInvalid slotType = iota // never written
	stackSpill                   // part of a spilled register
	stackMisc                    // some data
	stackZero                    // known zero
	stackDynptr                  // part of a struct bpf_dynptr
	stackIter
	stackIRQFlag // the interrupt flags bpf_local_irq_save keeps
)

var slotTypeChar = [...]byte{stackInvalid: '?', stackSpill: 'r', stackMisc: 'm', stackZero: '0', stackDynptr: 'd', stackIter: 'i', stackIRQFlag: 'f'}

// stackSlot is 8 bytes of stack: slot[0] is the byte just below the slot's top (fp-8*spi-1),
// slot[7] the lowest, as the kernel numbers them; spilled is the register a spill saved.
type stackSlot struct {
	spilled reg
	slot    [8]slotType
	// dynptr: the kind of a dynptr whose first slot this is (dynptrFirst set).
	dynKind     dynptrKind
	dynptrFirst bool
	// iterator (stackIter): whether it may still give elements, and how many it gave on this path.
	iterDrained bool
	iterDepth   int
}

func (s *stackSlot) isSpilled() bool { return s.slot[7] == stackSpill }

// fill makes every byte of the slot t.
func (s *stackSlot) fill(t slotType) { s.slot = [8]slotType{t, t, t, t, t, t, t, t} }

// has says whether some byte of the slot is t; all, whether every byte is.
func (s *stackSlot) has(t slotType) bool {
	for _, b := range s.slot {
		if b == t {
			return true
		}
	}
	return false
}

func (s *stackSlot) all(t slotType) bool {
	for _, b := range s.slot {
		if b != t {
			return false
		}
	}
	return true
}

// miscify makes the slot's written bytes plain data (STACK_MISC), as an overwrite of part of a
// spilled register or special object leaves them.
func (s *stackSlot) miscify() {
	for i, b := range s.slot {
		if b != stackInvalid {
			s.slot[i] = stackMisc
		}
	}
}

type dynptrKind uint8

const (
	dynptrNone dynptrKind = iota
	dynptrLocal
	dynptrRingbuf
	dynptrSkb
	dynptrXdp
)

var dynptrKindNames = [...]string{dynptrNone: "invalid", dynptrLocal: "local", dynptrRingbuf: "ringbuf", dynptrSkb: "skb", dynptrXdp: "xdp"}

// funcState is one frame of the call stack (struct bpf_func_state).
type funcState struct {
	regs     [11]reg
	frameno  int
	callsite int // instruction of the call that made the frame, -1 for the main frame
	subprog  int
	stack    []stackSlot // spi 0 is fp-8 .. fp-1
	// Callbacks: the range the callback's return value must lie in, and whether this frame is
	// a callback the verifier explores as a loop (bpf_loop, for_each_map_elem).
	inCallback bool
	async      bool
	cbRetMin   int32
	cbRetMax   int32
	cbDepth    int
}

func (f *funcState) copy() *funcState {
	c := *f
	c.stack = append([]stackSlot(nil), f.stack...)
	return &c
}

// growStack makes sure the frame tracks size bytes.
func (f *funcState) growStack(size int) {
	n := (size + 7) / 8
	for len(f.stack) < n {
		f.stack = append(f.stack, stackSlot{spilled: reg{mapIdx: -1}})
	}
}

// refState is a reference the program holds (acquired socket, ringbuf record, kfunc object).
type refState struct {
	id   uint32
	insn int
	kind refKind
}

type refKind uint8

const (
	refPtr refKind = iota
	refLock
	refIRQ // a local-interrupt section bpf_local_irq_save opened
)

// vstate is the whole abstract machine state on one path (struct bpf_verifier_state).
type vstate struct {
	frames   []*funcState
	curframe int
	refs     []refState
	// activeLock is the id of the held bpf_spin_lock's object (0: none) and lockMap the map whose
	// value holds it, lockOff its offset.
	activeLock uint32
	lockMap    int32
	lockOff    int64
	// activeRCU: inside a bpf_rcu_read_lock section; activePreempt: how many
	// bpf_preempt_disable calls are not yet matched.
	activeRCU     bool
	activePreempt int
	// activeIRQ is the reference of the innermost open local-interrupt section (0: none).
	activeIRQ uint32
	// Search bookkeeping: the checkpoint this state descends from, and, for a checkpoint, how
	// many paths from it are still being explored.
	parent   *vstate
	branches int
	insnIdx  int
	cleaned  bool // a checkpoint whose dead registers and slots were forgotten
	// loop and callback bookkeeping; mayGotoDepth counts the may_goto fall-throughs (loop
	// turns) on the path
	cbUnrollDepth int
	mayGotoDepth  int
	dfsDepth      int
	// hist lists the instructions processed since the checkpoint parent, for precision
	// backtracking.
	hist []histEntry
	// histCnt is how many entries the kernel's jump history would hold for hist: the
	// instructions at jump points and the stack accesses.
	histCnt int
}

func (s *vstate) cur() *funcState { return s.frames[s.curframe] }

func (s *vstate) copy() *vstate {
	c := *s
	c.frames = make([]*funcState, len(s.frames))
	for i, f := range s.frames {
		c.frames[i] = f.copy()
	}
	c.refs = append([]refState(nil), s.refs...)
	c.hist = append([]histEntry(nil), s.hist...)
	return &c
}

// forEachReg calls fn for every register and spilled register of every frame.
func (s *vstate) forEachReg(fn func(r *reg)) {
	for _, f := range s.frames {
		for i := range f.regs {
			fn(&f.regs[i])
		}
		for i := range f.stack {
			if f.stack[i].isSpilled() {
				fn(&f.stack[i].spilled)
			}
		}
	}
}

func (s *vstate) releaseRef(id uint32) bool {
	for i, r := range s.refs {
		if r.id == id {
			s.refs = append(s.refs[:i], s.refs[i+1:]...)
			return true
		}
	}
	return false
}
