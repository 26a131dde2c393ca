package vm

// Machine runs programs. It holds the registers, the stack of MaxFrames frames, the memory regions and
// the per-run state. A Machine is reused from run to run (and should be: steady-state runs do not
// allocate) but is not safe for concurrent use; run one Machine per goroutine.
type Machine struct {
	regs    [16]uint64
	regions []Region
	// persistent is the number of regions that survive from run to run.
	persistent int
	stack      []byte
	frames     [MaxFrames]frame
	// loops is, for the function running at each call depth, the may_goto allowance it has left.
	loops    [MaxFrames]uint64
	depth    int
	maxDepth int // deepest frame the current run reached
	pc       int
	prog     *Program
	engine   Engine

	// stackUse is the most any program of the current run may write below the deepest frame's
	// frame pointer (Program.stackUse): with maxDepth, what the next run must zero.
	stackUse int

	budget   uint64 // instructions a run may execute
	left     uint64 // instructions the current run may still execute
	trace    TraceFunc
	cov      *Coverage
	covCur   *ProgramCoverage // the record of the program running
	covJump  int              // for the interpreter: the conditional jump that just ran, or -1
	running  bool
	pending  uint8 // pendingTail | pendingExit, set by helpers
	tail     *Program
	tails    int
	exitVal  uint64
	entryArg uint64 // r1 at entry: the context a tail call hands on
	nat      natState

	// Host is the host's per-machine state, for helpers to find (the simulated kernel's packet
	// state, say).
	Host any
}

type frame struct {
	prog  *Program
	ret   int
	saved [4]uint64 // r6..r9
	fp    uint64
}

const (
	pendingTail = 1 << iota
	pendingExit
)

// DefaultBudget is the number of instructions a run may execute unless SetBudget says otherwise: far
// more than any program the kernel accepts can execute on one packet, yet small enough that a runaway
// program ends in seconds.
const DefaultBudget = 1 << 32

// MaxLoops is the may_goto allowance a function gets at each entry: the kernel's BPF_MAX_LOOPS,
// which it stores in a stack slot of its own below the function's frame in the function's prologue
// and takes one from at each may_goto (Linux 6.12, kernel/bpf/verifier.c). (Linux 6.18's x86-64
// JIT instead refills a smaller allowance until a quarter of a second has passed: a time no
// simulation can reproduce, so xdpsim counts as the kernel does elsewhere.)
const MaxLoops = 8 * 1024 * 1024

// MaxTailCalls is the kernel's limit on chained tail calls (MAX_TAIL_CALL_CNT).
const MaxTailCalls = 33

// TraceFunc sees every instruction before it executes, with the registers as they are.
type TraceFunc func(p *Program, pc int, regs *[11]uint64)

// NewMachine returns a machine that runs programs on engine e (nil means DefaultEngine).
func NewMachine(e Engine) *Machine {
	if e == nil {
		e = DefaultEngine()
	}
	m := &Machine{engine: e, budget: DefaultBudget, stack: make([]byte, MaxFrames*StackSize), maxDepth: MaxFrames - 1, stackUse: StackSize}
	m.regions = make([]Region, firstHost, 16)
	m.regions[RegionStack] = NewRegion("stack", m.stack, false)
	m.regions[RegionCode] = Region{Name: "code"}
	m.persistent = firstHost
	return m
}

// Engine is the engine the machine runs programs on.
func (m *Machine) Engine() Engine { return m.engine }

// SetEngine makes the machine run programs on e from its next Run on (nil means DefaultEngine). All
// engines give identical results, so a machine may change engines between runs; its regions, budget
// and trace stay as they are.
func (m *Machine) SetEngine(e Engine) {
	if e == nil {
		e = DefaultEngine()
	}
	if !m.running {
		m.engine = e
	}
}

// SetBudget limits the instructions one run may execute (counting those of helpers' callbacks and
// tail-called programs); 0 restores DefaultBudget.
func (m *Machine) SetBudget(n uint64) {
	if n == 0 {
		n = DefaultBudget
	}
	m.budget = n
}

// Budget is the number of instructions one run may execute (see SetBudget).
func (m *Machine) Budget() uint64 { return m.budget }

// SetTrace installs f to see every instruction (nil removes it). Tracing slows the machine down.
func (m *Machine) SetTrace(f TraceFunc) { m.trace = f }

// Executed is the number of instructions the last run executed.
func (m *Machine) Executed() uint64 { return m.budget - m.left }

// PC is the instruction the machine is at: for a helper, its call instruction.
func (m *Machine) PC() int { return m.pc }

// Program is the program the machine is running (the tail-call target after a tail call).
func (m *Machine) Program() *Program { return m.prog }

// Run runs p from its first instruction with args in r1, r2, ... and returns r0.
func (m *Machine) Run(p *Program, args ...uint64) (uint64, error) { return m.run(p, 0, args) }

// RunFunc runs the BPF function at address fn of p (a lddw BPF_PSEUDO_FUNC value, as a helper that
// registers a callback receives) as a run of its own, with args in r1, r2, ..., and returns its r0:
// how a host runs a callback outside any run of the program, as the kernel fires a BPF timer.
// Unlike Run it keeps the temporary regions the host added since DropTemp, so that the arguments
// may point into them.
func (m *Machine) RunFunc(p *Program, fn uint64, args ...uint64) (uint64, error) {
	id, off := SplitAddress(fn)
	if id != RegionCode || int(off) >= len(p.code) || !p.funcStart[off] {
		return 0, &RuntimeError{PC: 0, Line: p.LineAt(0), Err: ErrBadCallTarget}
	}
	return m.runAt(p, int(off), args)
}

// DropTemp removes the temporary regions of the last run, as the start of a Run does.
func (m *Machine) DropTemp() { m.regions = m.regions[:m.persistent] }

// run runs p from instruction pc, a function's first, at call depth 0, dropping the last run's
// temporary regions first.
func (m *Machine) run(p *Program, pc int, args []uint64) (uint64, error) {
	m.DropTemp()
	return m.runAt(p, pc, args)
}

// runAt runs p from instruction pc, a function's first, at call depth 0.
func (m *Machine) runAt(p *Program, pc int, args []uint64) (uint64, error) {
	// Zero what the previous run may have written, so every run starts from the same stack: the
	// frames above the deepest it reached, and what its programs write of that one.
	clear(m.stack[len(m.stack)-m.maxDepth*StackSize-m.stackUse:])
	m.maxDepth, m.stackUse = 0, p.stackUse
	m.regs = [16]uint64{}
	for i, a := range args {
		if i < 5 {
			m.regs[1+i] = a
		}
	}
	m.regs[10] = Address(RegionStack, uint32(len(m.stack)))
	m.entryArg = m.regs[1]
	m.depth, m.pending, m.tail, m.tails = 0, 0, nil, 0
	m.loops[0] = MaxLoops
	m.left = m.budget
	m.prog = p
	m.running = true
	m.covCur = nil
	r0, err := m.engine.exec(m, p, pc, 0)
	m.running = false
	return r0, err
}

// TailCall makes the running program continue in p once the current helper returns, as
// bpf_tail_call does. It reports false, and changes nothing, when the chain already holds
// MaxTailCalls tail calls; the caller then falls through as the kernel does.
func (m *Machine) TailCall(p *Program) bool {
	if m.tails >= MaxTailCalls || p == nil {
		return false
	}
	m.tails++
	m.tail = p
	m.loops[m.depth] = MaxLoops // the program tail-called starts afresh in this frame
	m.stackUse = max(m.stackUse, p.stackUse)
	m.pending |= pendingTail
	return true
}

// Exit ends the run once the current helper returns, with r0 = v.
func (m *Machine) Exit(v uint64) {
	m.exitVal = v
	m.pending |= pendingExit
}

// Callback calls the BPF function at address fn (a lddw BPF_PSEUDO_FUNC value, as bpf_loop and
// bpf_for_each_map_elem receive) with the given arguments, from inside a helper, and returns its r0.
func (m *Machine) Callback(fn uint64, args ...uint64) (uint64, error) {
	id, off := SplitAddress(fn)
	p := m.prog
	if id != RegionCode || int(off) >= len(p.code) || !p.funcStart[off] {
		return 0, &RuntimeError{PC: m.pc, Line: p.LineAt(m.pc), Err: ErrBadCallTarget}
	}
	if m.depth+1 >= MaxFrames {
		return 0, &RuntimeError{PC: m.pc, Line: p.LineAt(m.pc), Err: ErrCallDepth}
	}
	pc := m.pc
	m.pushFrame(p, pc)
	for i := 1; i <= 5; i++ {
		m.regs[i] = 0
	}
	for i, a := range args {
		if i < 5 {
			m.regs[1+i] = a
		}
	}
	r0, err := m.engine.exec(m, p, int(off), m.depth)
	// exec returns at our depth without popping; pop here.
	m.popFrame()
	m.pc, m.prog = pc, p
	return r0, err
}

// Engine runs prepared programs. The interpreter is one; a faster engine slots in behind the same
// interface without changing callers: they pick it when they make the Machine (or with SetEngine).
type Engine interface {
	// Name names the engine as EngineByName knows it ("interp", "closures", "jit").
	Name() string
	// exec runs p from pc until an exit at call depth stop, and returns r0.
	exec(m *Machine, p *Program, pc int, stop int) (uint64, error)
}

// pushFrame enters a bpf-to-bpf call from p, to return to instruction ret: it saves the caller's
// r6-r9 and frame pointer and gives the callee the next 512-byte frame. The caller has checked
// that a frame is free (depth+1 < MaxFrames).
func (m *Machine) pushFrame(p *Program, ret int) {
	f := &m.frames[m.depth]
	if p != m.nat.fillProg && m.depth >= m.nat.fillFrom {
		m.nat.fillFrom = m.depth + 1
	}
	f.prog, f.ret, f.fp = p, ret, m.regs[10]
	f.saved = [4]uint64{m.regs[6], m.regs[7], m.regs[8], m.regs[9]}
	m.depth++
	m.maxDepth = max(m.maxDepth, m.depth)
	m.loops[m.depth] = MaxLoops
	m.regs[10] -= StackSize
}

// popFrame returns from a bpf-to-bpf call: it restores the caller's r6-r9 and frame pointer and
// returns the caller's frame record (its program and return instruction).
func (m *Machine) popFrame() *frame {
	m.depth--
	f := &m.frames[m.depth]
	m.regs[6], m.regs[7], m.regs[8], m.regs[9] = f.saved[0], f.saved[1], f.saved[2], f.saved[3]
	m.regs[10] = f.fp
	return f
}

// callx performs the callx instruction at pc-1 of p for either engine: the register holds a
// function address (lddw BPF_PSEUDO_FUNC), which is called as a bpf-to-bpf call, or a helper number.
// It returns the instruction to continue at, or done with r0 when a helper ended the run, or an
// error. m.left holds the budget before and after.
func (m *Machine) callx(p *Program, pc int) (next int, done bool, r0 uint64, err error) {
	target := m.regs[p.code[pc-1].dst&0xf]
	if id, off := SplitAddress(target); id == RegionCode {
		if int(off) >= len(p.code) || !p.funcStart[off] {
			return 0, false, 0, &RuntimeError{PC: pc - 1, Line: p.LineAt(pc - 1), Err: ErrBadCallTarget}
		}
		if m.depth+1 >= MaxFrames {
			return 0, false, 0, &RuntimeError{PC: pc - 1, Line: p.LineAt(pc - 1), Err: ErrCallDepth}
		}
		m.pushFrame(p, pc)
		return int(off), false, 0, nil
	}
	if target >= uint64(len(p.helpers)) || p.helpers[target] == nil {
		return 0, false, 0, &RuntimeError{PC: pc - 1, Line: p.LineAt(pc - 1), Err: ErrUnknownHelper}
	}
	m.pc = pc - 1
	m.regs[0], err = p.helpers[target](m, m.regs[1], m.regs[2], m.regs[3], m.regs[4], m.regs[5])
	if err != nil {
		return 0, false, 0, m.helperErr(pc-1, err)
	}
	if m.pending&pendingExit != 0 {
		m.pending = 0
		return 0, true, m.exitVal, nil
	}
	return pc, false, 0, nil
}
