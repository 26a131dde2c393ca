package verifier

import (
	"errors"

	"fmt"
	"github.com/cilium/ebpf"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
	"github.com/xdpsim/xdpsim/vm/assembly"
)

// The kernel's limits.
const (
	complexityLimit = 1_000_000 // BPF_COMPLEXITY_LIMIT_INSNS
	jmpSeqLimit     = 8192      // BPF_COMPLEXITY_LIMIT_JMP_SEQ
	maxCallFrames   = 8         // MAX_CALL_FRAMES
	maxBPFStack     = 512       // MAX_BPF_STACK
	maxVarOff       = 1 << 29   // BPF_MAX_VAR_OFF
	maxPacketOff    = 0xffff    // MAX_PACKET_OFF
	maxTailCalls    = 33
	beyondPktEnd    = -2
	atPktEnd        = -1
)

// errReject is returned inside the verifier once the error message is logged.
var errReject = errors.New("rejected")

// pending is a path waiting to be explored (an entry of the kernel's branch stack).
type pending struct {
	st      *vstate
	idx     int
	prevIdx int
	logPos  int
}

// explored is a checkpoint at an instruction.
type explored struct {
	st     *vstate
	hits   int
	misses int
}

type insnAux struct {
	// ptrType is the pointer type the load or store was first seen with (for "same insn cannot
	// be used with different pointers"); ctx says it accesses the context, ctxField which
	// field, ldsx a sign-extending load.
	ptrType  regType
	ptrSeen  bool
	ctx      bool
	seen     bool
	callback bool // a helper call whose callback the verifier iterates
	// unconverted: a load the kernel's check allows but its rewrite of such loads does not
	// know (sockReadUnconverted)
	unconverted bool
}

type subprog struct {
	start, end int
	global     bool
	stack      int // deepest stack access, bytes
	fn         *Func
	hasTail    bool
	changesPkt bool
	verified   bool
	called     bool
}

type env struct {
	p     *Program
	insns []vm.Instruction
	pt    *progType
	opts  Options
	limit int

	log      strings.Builder
	lines    []string // per insn, the parsed source line for the log
	prevLine string

	cur     *vstate
	idx     int
	prevIdx int
	stack   []pending
	// explored holds the checkpoints in the kernel's hash table of state lists: one list per
	// bucket (see exploredAt), each list possibly holding states of other instructions.
	explored [][]*explored
	idGen    uint32

	processed, jmps, prevJmps, prevInsns int
	curStates, peakStates, totalStates   int
	maxStatesPerInsn                     int

	prune   []bool
	forceCP []bool
	// jmpPoint marks the instructions the kernel records in a state's jump history when they
	// are reached (branch targets and call return sites: mark_jmp_point).
	jmpPoint []bool
	// iterNext marks the calls of an iterator's next kfunc (checkpoints of their own).
	iterNext []bool
	second   []bool // second slot of a lddw
	live     []uint16
	aux      []insnAux
	subprogs []subprog
	// scratched registers and stack slots of the current frame since the last print
	scratchRegs  uint16
	scratchStack uint64

	err       *Error
	printSt   bool
	lastInsn  int // the last instruction checked, which the kernel's log printed last
	tailCalls bool

	stImm               bool // the store being checked is BPF_ST (an immediate)
	stImmVal            int64
	markDeadFallthrough bool
	innerIdx            map[int32]int32 // map index of a map-in-map -> index of its inner map
	info                progInfo
	popped              bool // the current path was just taken from the stack
	lv                  stackLiveness
	lineOpen            bool // the log's last line is an instruction's, without its newline
}

// Verify checks p as the kernel's verifier would. It returns the result (with the log) in every
// case, and a *Error when the program is rejected; any other error means the input itself is
// unusable.
func Verify(p *Program, opts Options) (*Result, error) {
	if p == nil || len(p.Insns) == 0 {
		return nil, fmt.Errorf("verifier: no instructions")
	}
	pt := lookupProgType(p.Type)
	if pt == nil {
		return nil, fmt.Errorf("verifier: program type %s is not supported", p.Type)
	}
	// The maps a map-in-map holds become maps of their own, so that registers can name them.
	pp := *p
	pp.Maps = append([]Map(nil), p.Maps...)
	e := &env{p: &pp, insns: p.Insns, pt: pt, opts: opts, limit: opts.MaxInsns, innerIdx: map[int32]int32{}}
	for i := range p.Maps {
		if in := p.Maps[i].Inner; in != nil {
			e.innerIdx[int32(i)] = int32(len(pp.Maps))
			pp.Maps = append(pp.Maps, *in)
		}
	}
	if e.limit <= 0 {
		e.limit = complexityLimit
	}
	n := len(p.Insns)
	e.prune = make([]bool, n)
	e.forceCP = make([]bool, n)
	e.jmpPoint = make([]bool, n)
	e.iterNext = make([]bool, n)
	e.second = make([]bool, n)
	e.aux = make([]insnAux, n)
	e.explored = make([][]*explored, n)
	e.prepareLines()
	err := e.run()
	res := &Result{}
	var stack []int
	for _, sp := range e.subprogs {
		stack = append(stack, sp.stack)
	}
	res.Stats = Stats{Processed: e.processed, MaxStatesPerInsn: e.maxStatesPerInsn, TotalStates: e.totalStates,
		PeakStates: e.peakStates, StackDepth: stack}
	if len(stack) > 0 {
		parts := make([]string, len(stack))
		for i, s := range stack {
			parts[i] = fmt.Sprint(s)
		}
		e.log.WriteString("stack depth " + strings.Join(parts, "+") + "\n")
	}
	e.log.WriteString(res.Stats.StatsLine() + "\n")
	res.Log = e.log.String()
	if err != nil {
		if e.err != nil {
			return res, e.err
		}
		return res, err
	}
	x, origin, xerr := e.rewrite()
	if xerr != nil {
		return res, xerr
	}
	res.Xlated, res.Origin = x, origin
	res.TstampTypeAccess, res.DirectWrite = e.info.tstampTypeAccess, e.info.directWrite
	return res, nil
}

func (e *env) line(pc int) string {
	if e.p.Lines == nil || pc < 0 || pc >= len(e.insns) {
		return ""
	}
	return e.p.Lines(pc)
}

// prepareLines turns the loader's "file.c:12: text" lines into the log's "text @ file.c:12".
func (e *env) prepareLines() {
	if e.p.Lines == nil || e.opts.LogLevel == 0 {
		return
	}
	e.lines = make([]string, len(e.insns))
	prev := ""
	for pc := range e.insns {
		l := e.p.Lines(pc)
		if l == prev {
			continue
		}
		prev = l
		if l == "" {
			continue
		}
		// file:line: text
		if i := strings.Index(l, ": "); i > 0 {
			e.lines[pc] = l[i+2:] + " @ " + l[:i]
		} else {
			e.lines[pc] = l
		}
	}
}

// verbose writes to the log when logging.
func (e *env) verbose(format string, args ...any) {
	if e.opts.LogLevel > 0 {
		if e.lineOpen {
			// What an instruction prints goes on lines of its own, after the instruction's.
			e.log.WriteByte('\n')
			e.lineOpen = false
		}
		fmt.Fprintf(&e.log, format, args...)
	}
}

// reject logs the error message (always) and records the rejection at the current instruction.
func (e *env) reject(format string, args ...any) error {
	return e.rejectAt(e.idx, format, args...)
}

func (e *env) rejectAt(pc int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if n := e.log.Len(); n > 0 && e.log.String()[n-1] != '\n' {
		e.log.WriteByte('\n')
	}
	fmt.Fprintf(&e.log, "%s\n", msg)
	if e.err == nil {
		e.err = &Error{Program: e.p.Name, PC: pc, Line: e.line(pc), Msg: msg}
	} else if e.err.PC == pc {
		e.err.Msg += "\n" + msg
	}
	return errReject
}

// note adds a line to the current error's message (a second line of the kernel's message).
func (e *env) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(&e.log, "%s\n", msg)
	if e.err != nil {
		e.err.Msg += "\n" + msg
	}
}

func (e *env) run() error {
	if err := e.checkBeforeWalk(); err != nil {
		return err
	}
	if err := e.checkSubprogs(); err != nil {
		return err
	}
	if err := e.checkCFG(); err != nil {
		return err
	}
	e.computeLiveness()
	e.computePostorder()
	if e.opts.LogLevel >= 2 {
		e.logLiveness()
	}
	// The main program, then every global function it calls (lazily, as the kernel does).
	if err := e.checkMain(); err != nil {
		return err
	}
	for {
		progress := false
		for i := range e.subprogs {
			sp := &e.subprogs[i]
			if i == 0 || !sp.global || !sp.called || sp.verified {
				continue
			}
			sp.verified = true
			progress = true
			if err := e.checkGlobal(i); err != nil {
				return err
			}
		}
		if !progress {
			break
		}
	}
	if err := e.checkMaxStackDepth(); err != nil {
		return err
	}
	return e.checkConversions()
}

// checkConversions refuses, after the analysis, a program with a load the kernel allowed but
// cannot rewrite (convert_ctx_accesses fails; the log blames no instruction).
func (e *env) checkConversions() error {
	for pc := range e.aux {
		if e.aux[pc].unconverted {
			return e.rejectAt(-1, "verifier bug: error during ctx access conversion (0)")
		}
	}
	return nil
}

func (e *env) newID() uint32 {
	e.idGen++
	return e.idGen
}

// initFrame makes the frame of subprogram sp entered from callsite.
func (e *env) initFrame(frameno, callsite, sp int) *funcState {
	f := &funcState{frameno: frameno, callsite: callsite, subprog: sp}
	for i := range f.regs {
		f.regs[i].setNotInit()
	}
	f.regs[10].setPointer(ptrToStack)
	f.regs[10].frame = uint8(frameno)
	return f
}

func (e *env) checkMain() error {
	st := &vstate{}
	f := e.initFrame(0, -1, 0)
	f.regs[1].setPointer(ptrToCtx)
	st.frames = []*funcState{f}
	return e.doCheck(st, 0)
}

// doCheck explores every path from st at instruction start.
func (e *env) doCheck(st *vstate, start int) error {
	e.cur = st
	e.lv.cur = nil
	e.popped = false
	e.idx = start
	e.prevIdx = start
	e.stack = e.stack[:0]
	e.printSt = true
	for {
		e.processed++
		if e.processed > e.limit {
			return e.rejectAt(e.lastInsn, "BPF program is too large. Processed %d insn", e.processed)
		}
		idx := e.idx
		if idx < 0 || idx >= len(e.insns) {
			return e.reject("invalid insn idx %d insn_cnt %d", idx, len(e.insns))
		}
		ins := e.insns[idx]
		e.aux[idx].seen = true
		if e.prune[idx] {
			pruned, err := e.isStateVisited(idx)
			if err != nil {
				return err
			}
			if pruned {
				if e.opts.LogLevel > 0 {
					if e.printSt {
						e.verbose("\nfrom %d to %d: safe\n", e.prevIdx, idx)
					} else {
						e.verbose("%d: safe\n", idx)
					}
				}
				done, err := e.processExit()
				if err != nil || done {
					return err
				}
				continue
			}
		}
		if e.opts.LogLevel > 0 {
			if e.printSt && e.opts.LogLevel > 1 && e.popped {
				e.verbose("\nfrom %d to %d:%s\n", e.prevIdx, idx, e.formatState(e.cur, true))
			}
			e.popped = false
			if e.printSt {
				e.verbose("%d:%s\n", idx, e.formatState(e.cur, true))
				e.printSt = false
			}
			if e.lines != nil && e.lines[idx] != "" && e.lines[idx] != e.prevLine {
				l := e.lines[idx]
				e.verbose("; %s\n", l)
				e.prevLine = l
			}
		}
		e.scratchRegs, e.scratchStack = 0, 0
		e.lastInsn = idx
		e.cur.hist = append(e.cur.hist, histEntry{idx: int32(idx), frame: int8(e.cur.curframe), stackFrame: -1})
		if e.jmpPoint[idx] {
			e.cur.histCnt++
		}
		var text string
		if e.opts.LogLevel > 0 {
			text = fmt.Sprintf("%d: %s", idx, assembly.FormatKernel(e.insns, idx, &assembly.KernelOptions{CallName: e.callName, Imm: assembly.BPFToolImm}))
			e.log.WriteString(text)
			e.lineOpen = true
		}
		logMark := e.log.Len()
		e.resetStackWrites(idx)
		exit, err := e.step(idx, ins)
		if err == nil {
			e.commitStackWrites()
		}
		if err != nil {
			if e.opts.LogLevel > 0 && e.log.Len() == logMark {
				// nothing: the error printed its own lines after the instruction
			}
			return err
		}
		e.lineOpen = false
		if e.opts.LogLevel > 0 {
			if e.log.Len() == logMark && !exit {
				s := e.formatState(e.cur, false)
				if s != "" {
					pad := roundUp(max(len(text)+1+4, 40), 8) - (len(text) + 1) - 1
					e.log.WriteString(strings.Repeat(" ", pad) + ";" + s)
				}
			}
			if e.log.Len() == logMark || !strings.HasSuffix(e.log.String()[logMark:], "\n") {
				e.log.WriteString("\n")
			}
		}
		if exit {
			done, err := e.processExit()
			if err != nil || done {
				return err
			}
		}
	}
}

func roundUp(v, to int) int { return (v + to - 1) / to * to }

func (e *env) callName(ins vm.Instruction) string {
	if ins.Src() == vm.PseudoKfuncCall {
		if k, ok := e.p.Kfuncs[ins.Imm]; ok {
			return k.Name
		}
	}
	return ""
}

// processExit ends the current path and takes the next pending one; done reports that none
// is left.
func (e *env) processExit() (done bool, err error) {
	e.updateLiveStack()
	e.updateBranchCounts(e.cur)
	if len(e.stack) == 0 {
		return true, nil
	}
	p := e.stack[len(e.stack)-1]
	e.stack = e.stack[:len(e.stack)-1]
	if e.opts.LogLevel == 1 {
		// Level 1 keeps only the path to an error: the log goes back to where the branch was
		// queued.
		s := e.log.String()[:p.logPos]
		e.log.Reset()
		e.log.WriteString(s)
		e.log.WriteString(" ")
	}
	e.cur = p.st
	e.idx = p.idx
	e.prevIdx = p.prevIdx
	e.printSt = true
	e.popped = true
	e.prevLine = ""
	return false, nil
}

// pushStack queues a copy of the current state to explore from idx (a branch not taken now).
func (e *env) pushStack(idx, prevIdx int) (*vstate, error) {
	st := e.cur.copy()
	st.dfsDepth++
	if st.parent != nil {
		st.parent.branches++
	}
	e.stack = append(e.stack, pending{st: st, idx: idx, prevIdx: prevIdx, logPos: e.log.Len()})
	if len(e.stack) > jmpSeqLimit {
		return nil, e.reject("The sequence of %d jumps is too complex.", len(e.stack))
	}
	return st, nil
}

// updateBranchCounts marks a path finished, and with it every checkpoint all of whose paths are.
func (e *env) updateBranchCounts(st *vstate) {
	for p := st.parent; p != nil; p = p.parent {
		p.branches--
		if p.branches > 0 {
			break
		}
	}
}

func (e *env) innerMapIdx(outer int32) int32 {
	if i, ok := e.innerIdx[outer]; ok {
		return i
	}
	return outer
}

func isXSKMap(m *Map) bool { return m.Type == ebpf.XSKMap }
