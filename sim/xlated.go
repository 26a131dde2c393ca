package sim

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/cilium/ebpf"

	"github.com/xdpsim/xdpsim/verifier"
	"github.com/xdpsim/xdpsim/vm"
)

// Context rewriting: what the kernel's verifier does to the accesses of a program to its context
// before the program runs. An XDP program reads 32-bit fields of struct xdp_md; the kernel hands
// it a struct xdp_buff and rewrites every such load into loads of the real fields
// (xdp_convert_ctx_access in net/core/filter.c). A tc program reads and writes struct __sk_buff,
// which the kernel rewrites into accesses of the struct sk_buff behind it (the rules and rewrites
// live in package verifier, verifier/skb.go). Which instructions access the context is a property
// of the registers, not of the instructions, so finding them takes a dataflow analysis over every
// path of every function, as the verifier's exploration does; the same analysis serves every
// program type, each bringing its rules (ctxRules).
//
// The simulator's machine does not need the rewrite (it serves context accesses through region
// hooks); the rewritten, "xlated" program is what `xdpsim dump --xlated` prints, and the access
// checks are the kernel's, so a program the kernel would refuse for its context accesses fails
// to load here too, with the kernel's words.

// Layout of struct xdp_md, the UAPI context (include/uapi/linux/bpf.h): six __u32 fields.
const (
	xdpMdData           = 0
	xdpMdDataEnd        = 4
	xdpMdDataMeta       = 8
	xdpMdIngressIfindex = 12
	xdpMdRxQueueIndex   = 16
	xdpMdEgressIfindex  = 20
)

// Offsets in the kernel's structures that the rewritten loads use, for Linux 6.18 on x86_64. They
// are read from the simulator's vmlinux BTF (sim/corebtf) by TestKernelStructOffsetsMatchBTF; the
// xdp_buff ones are also in the spec (§1.1).
const (
	xdpBuffData          = 0   // offsetof(struct xdp_buff, data)
	xdpBuffDataEnd       = 8   // offsetof(struct xdp_buff, data_end)
	xdpBuffDataMeta      = 16  // offsetof(struct xdp_buff, data_meta)
	xdpBuffRxq           = 32  // offsetof(struct xdp_buff, rxq)
	xdpBuffTxq           = 40  // offsetof(struct xdp_buff, txq)
	xdpRxqInfoDev        = 0   // offsetof(struct xdp_rxq_info, dev)
	xdpRxqInfoQueueIndex = 8   // offsetof(struct xdp_rxq_info, queue_index)
	xdpTxqInfoDev        = 0   // offsetof(struct xdp_txq_info, dev)
	netDeviceIfindex     = 224 // offsetof(struct net_device, ifindex)
)

// Verifier limits that the analysis shares with the kernel.
const (
	ctxMaxCallFrames = 8   // MAX_CALL_FRAMES
	ctxMaxStack      = 512 // MAX_BPF_STACK
	// ctxMaxSteps bounds the analysis as BPF_COMPLEXITY_LIMIT_INSNS (1M) bounds the verifier's:
	// the analysis visits an instruction once per change of its state, not once per path, so
	// programs the kernel accepts stay far below it.
	ctxMaxSteps = 4 << 20
)

// Helper numbers whose callbacks the analysis follows.
const (
	helperForEachMapElem   = 164
	helperTimerSetCB       = 170
	helperFindVMA          = 180
	helperLoop             = 181
	helperUserRingbufDrain = 209
)

// Xlated is the program after context rewriting, with, for every slot of it, the slot of the
// loaded program it comes from (so that line info and names follow the instructions).
func (p *Program) Xlated() (insns []vm.Instruction, origin []int, err error) {
	if verifier.Supported(p.Type) && p.vprog != nil && len(p.uncheckedKfuncs()) == 0 {
		// The verifier owns the program type's rules: its rewrite is the kernel's.
		res := p.Verification
		if res == nil {
			if res, err = verifier.Verify(p.vprog, verifier.Options{}); err != nil {
				return nil, nil, err
			}
		}
		return res.Xlated, res.Origin, nil
	}
	insns, origin, _, err = rewriteContext(p.VM.Instructions(), p.ctxRules(), p.Line)
	return insns, origin, err
}

// ctxRules are the context rules of the program's type.
func (p *Program) ctxRules() ctxRules {
	if p.Type == ebpf.SchedCLS {
		return skbCtxRules{}
	}
	return xdpCtxRules{devmap: p.AttachType == ebpf.AttachXDPDevMap}
}

// ctxRules are what a program type brings to the context analysis: which accesses the kernel
// allows and what a load gives (is_valid_access), how it rewrites them (convert_ctx_access), and
// what it puts in front of a program that writes packet data directly (gen_prologue).
type ctxRules interface {
	// access checks an access of size bytes at off, a store when write, a sign-extending load
	// when ldsx; pkt says a load gives a pointer into the packet (data or data_meta).
	access(off, size int, write, ldsx bool) (pkt, ok bool)
	// convert rewrites a valid access; info holds what the analysis learnt of the program.
	convert(ins vm.Instruction, info ctxInfo) []vm.Instruction
	// prologue is what the kernel puts in front of the program, given what the analysis learnt;
	// nil for nothing.
	prologue(info ctxInfo) []vm.Instruction
}

// ctxInfo is what the analysis learnt of a program as a whole.
type ctxInfo struct {
	// directWrite: the program stores through a packet pointer (the verifier's
	// seen_direct_write).
	directWrite bool
	// tstampTypeAccess: a tc program reads __sk_buff's tstamp_type, which makes tstamp a plain
	// field for it.
	tstampTypeAccess bool
}

// xdpCtxRules are the rules of struct xdp_md.
type xdpCtxRules struct{ devmap bool }

func (r xdpCtxRules) access(off, size int, write, ldsx bool) (bool, bool) {
	return !write && (off == xdpMdData || off == xdpMdDataMeta), validXDPAccess(r.devmap, off, size, write, ldsx)
}

func (xdpCtxRules) convert(ins vm.Instruction, _ ctxInfo) []vm.Instruction {
	if ins.Class() != vm.ClassLDX {
		return []vm.Instruction{ins}
	}
	return convertXDPCtxLoad(ins)
}

func (xdpCtxRules) prologue(ctxInfo) []vm.Instruction { return nil }

// skbCtxRules are the rules of struct __sk_buff for tc programs (verifier/skb.go).
type skbCtxRules struct{}

func (skbCtxRules) access(off, size int, write, ldsx bool) (bool, bool) {
	reg, ok := verifier.SkbTCAccess(off, size, write, ldsx)
	return reg == verifier.SkbPacket || reg == verifier.SkbPacketMeta, ok
}

func (skbCtxRules) convert(ins vm.Instruction, info ctxInfo) []vm.Instruction {
	return verifier.SkbTCConvert(ins, info.tstampTypeAccess)
}

func (skbCtxRules) prologue(info ctxInfo) []vm.Instruction {
	if !info.directWrite {
		return nil
	}
	return verifier.SkbTCPrologue()
}

// RewriteXDPContext checks every access of an XDP program to its context as the kernel's verifier
// does (xdp_is_valid_access) and rewrites the loads of struct xdp_md into loads of the kernel's
// struct xdp_buff and the structures behind it, as convert_ctx_accesses and
// xdp_convert_ctx_access do. attachDevmap says the program is attached to devmap entries
// (expected attach type BPF_XDP_DEVMAP), the only programs that may read egress_ifindex. lines
// gives the source line of an instruction for errors (may be nil).
//
// A load that one instruction turns into three moves the instructions after it: every jump,
// bpf-to-bpf call and function address is adjusted so that the result is consistent. The
// result is what the kernel's `bpftool prog dump xlated` shows for the same program, as far as
// context accesses go: the kernel's other rewrites (helper inlining, dead code removal, map
// pointer loads) are not made. An error is a *vm.LoadError with the kernel's message.
func RewriteXDPContext(insns []vm.Instruction, attachDevmap bool, lines func(pc int) string) (xlated []vm.Instruction, err error) {
	xlated, _, _, err = rewriteContext(insns, xdpCtxRules{devmap: attachDevmap}, lines)
	return xlated, err
}

// rewriteContext checks and rewrites the context accesses of a program under the rules of its type.
func rewriteContext(insns []vm.Instruction, rules ctxRules, lines func(pc int) string) ([]vm.Instruction, []int, ctxInfo, error) {
	a := newCtxAnalysis(insns, rules, lines)
	if err := a.run(); err != nil {
		return nil, nil, ctxInfo{}, err
	}
	x, origin, err := a.rewrite()
	return x, origin, a.info, err
}

// ctxKind is what the analysis knows of a register or a stack slot.
type ctxKind uint8

const (
	ctxOther  ctxKind = iota // a scalar or a pointer that is not the context
	ctxConst                 // a scalar of known value (off)
	ctxPtr                   // the context pointer plus the constant off
	ctxPtrMod                // the context pointer with differing constant offsets; off is one that is not 0
	ctxPtrVar                // the context pointer plus a variable offset
	ctxFP                    // the frame pointer of frame `frame`, plus off
	ctxFunc                  // the address of the function at instruction off
	ctxPkt                   // a pointer into the packet (from data or data_meta), any offset
)

// ctxVal is an abstract value. mixed marks a context pointer on some paths and something else
// on others: the kernel refuses an instruction that dereferences such a register.
type ctxVal struct {
	kind  ctxKind
	mixed bool
	frame uint8
	off   int64
}

func (v ctxVal) isCtx() bool { return v.kind == ctxPtr || v.kind == ctxPtrMod || v.kind == ctxPtrVar }

var ctxUnknown = ctxVal{}

// joinCtxVal is the value that holds on a path where either a or b holds. With a the older
// value, the result is stable once it stops changing, so every loop reaches a fixed point.
func joinCtxVal(a, b ctxVal) ctxVal {
	if a == b {
		return a
	}
	ac, bc := a.isCtx(), b.isCtx()
	switch {
	case ac && bc:
		r := ctxVal{kind: ctxPtrMod, mixed: a.mixed || b.mixed, off: a.off}
		switch {
		case a.kind == ctxPtrVar || b.kind == ctxPtrVar:
			r.kind, r.off = ctxPtrVar, 0
		case a.kind == ctxPtr && b.kind == ctxPtr && a.off == b.off:
			r.kind = ctxPtr
		case r.off == 0:
			r.off = b.off
		}
		return r
	case ac:
		a.mixed = true
		return a
	case bc:
		b.mixed = true
		return b
	case a.kind == ctxPkt || b.kind == ctxPkt:
		// A packet pointer on some path: a store through it is a direct write on that path.
		return ctxVal{kind: ctxPkt, mixed: a.kind != b.kind || a.mixed || b.mixed}
	}
	return ctxUnknown
}

// ctxSlot is an 8-byte stack slot that holds something other than an unknown value.
type ctxSlot struct {
	frame uint8
	off   int16 // from the frame pointer, a negative multiple of 8
	v     ctxVal
}

// ctxState is the abstract machine state at an instruction: registers and the stack slots of
// every frame of the call chain (sorted by frame and offset; slots not listed are unknown).
type ctxState struct {
	regs  [11]ctxVal
	slots []ctxSlot
}

func (s *ctxState) clone() *ctxState {
	c := &ctxState{regs: s.regs}
	c.slots = append([]ctxSlot(nil), s.slots...)
	return c
}

func slotLess(af uint8, ao int16, bf uint8, bo int16) bool {
	if af != bf {
		return af < bf
	}
	return ao < bo
}

func (s *ctxState) find(frame uint8, off int16) (int, bool) {
	i := sort.Search(len(s.slots), func(i int) bool { return !slotLess(s.slots[i].frame, s.slots[i].off, frame, off) })
	return i, i < len(s.slots) && s.slots[i].frame == frame && s.slots[i].off == off
}

func (s *ctxState) slot(frame uint8, off int16) ctxVal {
	if i, ok := s.find(frame, off); ok {
		return s.slots[i].v
	}
	return ctxUnknown
}

func (s *ctxState) setSlot(frame uint8, off int16, v ctxVal) {
	i, ok := s.find(frame, off)
	switch {
	case ok && v == ctxUnknown:
		s.slots = append(s.slots[:i], s.slots[i+1:]...)
	case ok:
		s.slots[i].v = v
	case v != ctxUnknown:
		s.slots = append(s.slots, ctxSlot{})
		copy(s.slots[i+1:], s.slots[i:])
		s.slots[i] = ctxSlot{frame: frame, off: off, v: v}
	}
}

// clobber forgets the slots that bytes [off, off+size) of a frame overlap.
func (s *ctxState) clobber(frame uint8, off int64, size int) {
	for o := off &^ 7; o < off+int64(size); o += 8 {
		if o >= -ctxMaxStack && o < 0 {
			s.setSlot(frame, int16(o), ctxUnknown)
		}
	}
}

// forgetConsts forgets the values of scalars, so that a function called with many different
// constants is analysed once: only pointers matter to context accesses.
func (s *ctxState) forgetConsts() {
	for r, v := range s.regs {
		if v.kind == ctxConst {
			s.regs[r] = ctxUnknown
		}
	}
	n := 0
	for _, sl := range s.slots {
		if sl.v.kind != ctxConst {
			s.slots[n] = sl
			n++
		}
	}
	s.slots = s.slots[:n]
}

// dropFrames forgets the slots of frames deeper than depth.
func (s *ctxState) dropFrames(depth int) {
	n := 0
	for _, sl := range s.slots {
		if int(sl.frame) <= depth {
			s.slots[n] = sl
			n++
		}
	}
	s.slots = s.slots[:n]
}

// join merges o into s and reports whether s changed.
func (s *ctxState) join(o *ctxState) bool {
	changed := false
	for r := range s.regs {
		if v := joinCtxVal(s.regs[r], o.regs[r]); v != s.regs[r] {
			s.regs[r], changed = v, true
		}
	}
	var out []ctxSlot
	i, j := 0, 0
	for i < len(s.slots) || j < len(o.slots) {
		var sl ctxSlot
		switch {
		case j >= len(o.slots) || (i < len(s.slots) && slotLess(s.slots[i].frame, s.slots[i].off, o.slots[j].frame, o.slots[j].off)):
			sl = s.slots[i]
			sl.v = joinCtxVal(sl.v, ctxUnknown)
			i++
		case i >= len(s.slots) || slotLess(o.slots[j].frame, o.slots[j].off, s.slots[i].frame, s.slots[i].off):
			sl = o.slots[j]
			sl.v = joinCtxVal(ctxUnknown, sl.v)
			j++
		default:
			sl = s.slots[i]
			sl.v = joinCtxVal(sl.v, o.slots[j].v)
			i++
			j++
		}
		if sl.v != ctxUnknown {
			out = append(out, sl)
		}
	}
	if len(out) != len(s.slots) {
		changed = true
	} else {
		for k := range out {
			if out[k] != s.slots[k] {
				changed = true
				break
			}
		}
	}
	s.slots = out
	return changed
}

// key encodes the state for memoising the analysis of a function per calling context.
func (s *ctxState) key(b *strings.Builder) {
	for _, v := range s.regs {
		fmt.Fprintf(b, "%d.%t.%d.%d,", v.kind, v.mixed, v.frame, v.off)
	}
	for _, sl := range s.slots {
		fmt.Fprintf(b, "%d@%d=%d.%t.%d.%d,", sl.frame, sl.off, sl.v.kind, sl.v.mixed, sl.v.frame, sl.v.off)
	}
}

// ctxAccess is what the analysis learnt about one load or store instruction.
type ctxAccess struct {
	ctx   bool // its base was the context on some path (offset 0)
	other bool // its base was something else on some path
}

// ctxError is a refusal, numbered in the order the analysis met it.
type ctxError struct {
	seq int
	pc  int
	msg string
}

// ctxExit is what a function leaves to its caller: r0 and the stack of the frames below it.
type ctxExit struct {
	reached bool
	state   *ctxState
}

type ctxAnalysis struct {
	insns   []vm.Instruction
	rules   ctxRules
	info    ctxInfo
	lines   func(int) string
	leader  []bool // instruction starts a block
	second  []bool // second word of a lddw
	access  map[int]*ctxAccess
	errs    map[int]*ctxError
	seq     int
	memo    map[string]*ctxExit
	callErr error
	steps   int // instructions visited, against ctxMaxSteps
}

func newCtxAnalysis(insns []vm.Instruction, rules ctxRules, lines func(int) string) *ctxAnalysis {
	n := len(insns)
	a := &ctxAnalysis{insns: insns, rules: rules, lines: lines, leader: make([]bool, n+1), second: make([]bool, n+1),
		access: map[int]*ctxAccess{}, errs: map[int]*ctxError{}, memo: map[string]*ctxExit{}}
	if n > 0 {
		a.leader[0] = true
	}
	for pc := 0; pc < n; pc++ {
		in := insns[pc]
		if in.Op == vm.OpLdImm64 {
			if pc+1 < n {
				a.second[pc+1] = true
			}
			pc++
			continue
		}
		if t, ok := a.jumpTarget(pc); ok {
			if t >= 0 && t <= n {
				a.leader[t] = true
			}
			a.leader[pc+1] = true
		} else if in.Op == vm.OpExit {
			a.leader[pc+1] = true
		}
	}
	return a
}

func (a *ctxAnalysis) line(pc int) string {
	if a.lines == nil {
		return ""
	}
	return a.lines(pc)
}

// jumpTarget is the target of a jump at pc (conditional or not), not of calls and exits.
func (a *ctxAnalysis) jumpTarget(pc int) (int, bool) {
	in := a.insns[pc]
	cls := in.Class()
	if cls != vm.ClassJMP && cls != vm.ClassJMP32 {
		return 0, false
	}
	switch op := in.Op & 0xf0; {
	case op == vm.JmpCall || op == vm.JmpExit:
		return 0, false
	case in.Op == vm.OpJA32:
		return pc + int(in.Imm) + 1, true
	case in.Op == vm.ClassJMP|vm.JmpJA|vm.SrcX: // gotox: targets unknown here
		return 0, false
	}
	return pc + int(in.Off) + 1, true
}

func (a *ctxAnalysis) fail(pc int, format string, args ...any) {
	if _, ok := a.errs[pc]; ok {
		return
	}
	a.seq++
	a.errs[pc] = &ctxError{seq: a.seq, pc: pc, msg: fmt.Sprintf(format, args...)}
}

func (a *ctxAnalysis) run() error {
	if len(a.insns) == 0 {
		return nil
	}
	entry := &ctxState{}
	entry.regs[1] = ctxVal{kind: ctxPtr}
	entry.regs[10] = ctxVal{kind: ctxFP}
	a.function(0, entry, 0)
	// Instructions that dereference the context on one path and another pointer on another.
	pcs := make([]int, 0, len(a.access))
	for pc := range a.access {
		pcs = append(pcs, pc)
	}
	sort.Ints(pcs)
	for _, pc := range pcs {
		if acc := a.access[pc]; acc.ctx && acc.other {
			a.fail(pc, "same insn cannot be used with different pointers")
		}
	}
	if a.callErr != nil {
		return a.callErr
	}
	var first *ctxError
	for _, e := range a.errs {
		if first == nil || e.seq < first.seq {
			first = e
		}
	}
	if first != nil {
		return &vm.LoadError{PC: first.pc, Line: a.line(first.pc), Msg: first.msg}
	}
	return nil
}

// function analyses the function starting at start, entered with the state entry in frame
// depth, to a fixed point, and returns what it leaves to its caller. Results are memoised per
// calling context: like the kernel's verifier, which follows every call into its callee, the
// analysis sees a function's body once for each state it can be entered with.
func (a *ctxAnalysis) function(start int, entry *ctxState, depth int) *ctxExit {
	var kb strings.Builder
	fmt.Fprintf(&kb, "%d/%d/", start, depth)
	entry.key(&kb)
	key := kb.String()
	if r, ok := a.memo[key]; ok {
		return r
	}
	// No analysis of the same key can be under way: the key holds the frame depth, which
	// grows with every call (recursion ends at the kernel's limit of frames).
	n := len(a.insns)
	in := map[int]*ctxState{start: entry.clone()}
	work := &pcHeap{start}
	queued := map[int]bool{start: true}
	exit := &ctxExit{}
	push := func(pc int, s *ctxState) {
		if pc < 0 || pc >= n || a.second[pc] {
			return // the kernel refuses such jumps; nothing to analyse there
		}
		if old, ok := in[pc]; ok {
			if !old.join(s) {
				return
			}
		} else {
			in[pc] = s.clone()
		}
		if !queued[pc] {
			queued[pc] = true
			heap.Push(work, pc)
		}
	}
	for work.Len() > 0 && a.callErr == nil {
		// Lowest block first: follows the program's order, as the kernel's exploration mostly does.
		pc := heap.Pop(work).(int)
		queued[pc] = false
		s := in[pc].clone()
		for {
			ins := a.insns[pc]
			if ins.Op == vm.OpExit {
				r := s.clone()
				if v := r.regs[0]; v.kind == ctxFP && int(v.frame) >= depth {
					r.regs[0] = ctxUnknown
				}
				r.dropFrames(depth - 1)
				if !exit.reached {
					exit.reached, exit.state = true, r
				} else {
					exit.state.join(r)
				}
				break
			}
			if t, ok := a.jumpTarget(pc); ok {
				a.transfer(pc, s, depth)
				push(t, s)
				if ins.Op == vm.ClassJMP|vm.JmpJA || ins.Op == vm.OpJA32 {
					break
				}
				push(pc+1, s)
				break
			}
			if ins.Op == vm.ClassJMP|vm.JmpJA|vm.SrcX {
				break
			}
			if !a.transfer(pc, s, depth) {
				break // a call that does not return
			}
			pc++
			if ins.Op == vm.OpLdImm64 {
				pc++
			}
			if pc >= n {
				break
			}
			if a.leader[pc] {
				push(pc, s)
				break
			}
		}
	}
	a.memo[key] = exit
	return exit
}

// pcHeap is a min-heap of instruction indexes.
type pcHeap []int

func (h pcHeap) Len() int           { return len(h) }
func (h pcHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h pcHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *pcHeap) Push(x any)        { *h = append(*h, x.(int)) }
func (h *pcHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// transfer applies the instruction at pc to s, recording its memory access. It returns false
// when execution does not continue after it (a call into a function that never returns).
func (a *ctxAnalysis) transfer(pc int, s *ctxState, depth int) bool {
	ins := a.insns[pc]
	dst, src := ins.Dst(), ins.Src()
	if dst > 10 || src > 10 {
		return true // NewProgram refuses it
	}
	if a.steps++; a.steps > ctxMaxSteps && a.callErr == nil {
		a.callErr = &vm.LoadError{PC: pc, Line: a.line(pc),
			Msg: fmt.Sprintf("program too complex: the context analysis visited more than %d instructions", ctxMaxSteps)}
	}
	size := ctxAccessSize(ins.Op)
	switch ins.Class() {
	case vm.ClassALU64, vm.ClassALU:
		a.alu(ins, s)
	case vm.ClassLD:
		switch {
		case ins.Op != vm.OpLdImm64:
			s.regs[0] = ctxUnknown
		case src == vm.PseudoFunc:
			s.regs[dst] = ctxVal{kind: ctxFunc, off: int64(pc + int(ins.Imm) + 1)}
		case src == 0 && pc+1 < len(a.insns):
			v := uint64(uint32(ins.Imm)) | uint64(uint32(a.insns[pc+1].Imm))<<32
			s.regs[dst] = ctxVal{kind: ctxConst, off: int64(v)}
		default:
			s.regs[dst] = ctxUnknown
		}
	case vm.ClassLDX:
		base := s.regs[src]
		pkt := a.check(pc, src, base, size, false, ins.Op&0xe0 == vm.ModeMEMSX, false)
		v := ctxUnknown
		if pkt {
			v = ctxVal{kind: ctxPkt}
		}
		if base.kind == ctxFP && ins.Op&0xe0 == vm.ModeMEM && size == 8 {
			if o := base.off + int64(ins.Off); o%8 == 0 && o >= -ctxMaxStack && o < 0 {
				v = s.slot(base.frame, int16(o))
			}
		}
		s.regs[dst] = v
	case vm.ClassST, vm.ClassSTX:
		atomic := ins.Class() == vm.ClassSTX && ins.Op&0xe0 == vm.ModeATOMIC
		baseReg := dst
		if atomic && ins.Imm == ctxAtomicLoadAcquire {
			baseReg = src
		}
		base := s.regs[baseReg]
		a.check(pc, baseReg, base, size, true, false, atomic)
		if atomic {
			if ins.Imm == ctxAtomicLoadAcquire {
				s.regs[dst] = ctxUnknown
				break
			}
			if base.kind == ctxFP {
				s.clobber(base.frame, base.off+int64(ins.Off), size)
			}
			switch {
			case ins.Imm == vm.AtomicCmpXchg:
				s.regs[0] = ctxUnknown
			case ins.Imm&vm.AtomicFetch != 0:
				s.regs[src] = ctxUnknown
			}
			break
		}
		if base.kind != ctxFP {
			break
		}
		o := base.off + int64(ins.Off)
		if ins.Class() == vm.ClassSTX && size == 8 && o%8 == 0 && o >= -ctxMaxStack && o < 0 {
			v := s.regs[src]
			if ins.Op&0xe0 != vm.ModeMEM {
				v = ctxUnknown
			}
			s.setSlot(base.frame, int16(o), v)
			break
		}
		if ins.Class() == vm.ClassST && size == 8 && o%8 == 0 && o >= -ctxMaxStack && o < 0 {
			s.setSlot(base.frame, int16(o), ctxVal{kind: ctxConst, off: int64(ins.Imm)})
			break
		}
		s.clobber(base.frame, o, size)
	case vm.ClassJMP, vm.ClassJMP32:
		if ins.Op&0xf0 == vm.JmpCall && ins.Class() == vm.ClassJMP {
			return a.call(pc, s, depth)
		}
	}
	return true
}

// ctxAccessSize is the number of bytes a load or store opcode moves.
func ctxAccessSize(op uint8) int {
	switch op & 0x18 {
	case vm.SizeB:
		return 1
	case vm.SizeH:
		return 2
	case vm.SizeW:
		return 4
	}
	return 8
}

// Atomic operations the vm package does not name: load-acquire reads through src.
const ctxAtomicLoadAcquire = 0x100

func (a *ctxAnalysis) alu(ins vm.Instruction, s *ctxState) {
	dst, src := ins.Dst(), ins.Src()
	op := ins.Op & 0xf0
	x := ins.Op&vm.SrcX != 0
	d := s.regs[dst]
	if ins.Class() == vm.ClassALU {
		// 32-bit operations make scalars of pointers.
		if op == vm.AluMov && !x && ins.Off == 0 {
			s.regs[dst] = ctxVal{kind: ctxConst, off: int64(uint32(ins.Imm))}
			return
		}
		s.regs[dst] = ctxUnknown
		return
	}
	var k ctxVal // the operand
	if x {
		k = s.regs[src]
	} else {
		k = ctxVal{kind: ctxConst, off: int64(ins.Imm)}
	}
	switch {
	case op == vm.AluMov && ins.Off == 0:
		s.regs[dst] = k
		return
	case op == vm.AluAdd || op == vm.AluSub:
		if k.kind == ctxConst && !k.mixed {
			delta := k.off
			if op == vm.AluSub {
				delta = -delta
			}
			switch {
			case d.kind == ctxConst || d.kind == ctxFP:
				d.off += delta
				s.regs[dst] = d
				return
			case d.isCtx():
				if d.kind != ctxPtrVar {
					d.off += delta
				}
				s.regs[dst] = d
				return
			}
		}
		if op == vm.AluAdd && k.isCtx() && !d.isCtx() {
			// scalar += ctx: the result is the pointer, moved by the scalar.
			switch {
			case d.kind == ctxConst && k.kind != ctxPtrVar:
				k.off += d.off
			default:
				k.kind, k.off = ctxPtrVar, 0
			}
			s.regs[dst] = k
			return
		}
		if d.isCtx() && !(op == vm.AluSub && k.isCtx()) { // ctx - ctx is a scalar
			d.kind, d.off = ctxPtrVar, 0
			s.regs[dst] = d
			return
		}
		if d.kind == ctxPkt && k.kind != ctxPkt { // pkt + scalar; pkt - pkt is a scalar
			s.regs[dst] = d
			return
		}
		if op == vm.AluAdd && k.kind == ctxPkt && d.kind != ctxPkt {
			s.regs[dst] = k
			return
		}
	}
	s.regs[dst] = ctxUnknown
}

// check records the memory access of the instruction at pc through register reg holding base,
// and refuses it with the kernel's words where the kernel does (check_mem_access for
// PTR_TO_CTX, check_atomic, and the program type's is_valid_access). It reports whether a load
// gives a packet pointer.
func (a *ctxAnalysis) check(pc int, reg uint8, base ctxVal, size int, write, ldsx, atomic bool) bool {
	acc := a.access[pc]
	if acc == nil {
		acc = &ctxAccess{}
		a.access[pc] = acc
	}
	if !base.isCtx() {
		acc.other = true
		if base.kind == ctxPkt && write && !atomic {
			a.info.directWrite = true
		}
		return false
	}
	if base.mixed {
		acc.other = true
	}
	acc.ctx = true
	off := int(a.insns[pc].Off)
	switch {
	case atomic && a.insns[pc].Imm == ctxAtomicLoadAcquire:
		a.fail(pc, "BPF_ATOMIC loads from R%d ctx is not allowed", reg)
	case atomic:
		a.fail(pc, "BPF_ATOMIC stores into R%d ctx is not allowed", reg)
	case base.kind == ctxPtrVar:
		a.fail(pc, "variable ctx access var_off=(unknown) disallowed")
	case base.kind == ctxPtrMod || base.off != 0:
		a.fail(pc, "dereference of modified ctx ptr R%d off=%d disallowed", reg, base.off)
	default:
		pkt, ok := a.rules.access(off, size, write, ldsx)
		if !ok {
			a.fail(pc, "invalid bpf_context access off=%d size=%d", off, size)
			return false
		}
		if _, isSkb := a.rules.(skbCtxRules); isSkb && off == verifier.SkbTstampType {
			a.info.tstampTypeAccess = true
		}
		return pkt && !write
	}
	return false
}

// validXDPAccess is the kernel's xdp_is_valid_access for a program that is not offloaded.
func validXDPAccess(devmap bool, off, size int, write, ldsx bool) bool {
	if off == xdpMdEgressIfindex && !devmap {
		return false
	}
	if write {
		return false
	}
	if ldsx && (off == xdpMdData || off == xdpMdDataEnd || off == xdpMdDataMeta) {
		return false
	}
	// __is_valid_xdp_access: inside struct xdp_md, aligned, and no narrow loads.
	return off >= 0 && off < xdpMdSize && off%size == 0 && size == 4
}

// call applies a call instruction: bpf-to-bpf calls are analysed in their calling context,
// helpers that take a callback have the callback analysed with the arguments the kernel gives
// it.
func (a *ctxAnalysis) call(pc int, s *ctxState, depth int) bool {
	ins := a.insns[pc]
	clobber := func() {
		for r := 0; r <= 5; r++ {
			s.regs[r] = ctxUnknown
		}
	}
	switch {
	case ins.Op == vm.OpCall && ins.Src() == vm.PseudoCall:
		target := pc + int(ins.Imm) + 1
		if target < 0 || target >= len(a.insns) {
			clobber()
			return true
		}
		if depth+1 >= ctxMaxCallFrames {
			if a.callErr == nil {
				a.callErr = &vm.LoadError{PC: pc, Line: a.line(pc), Msg: fmt.Sprintf("the call stack of %d frames is too deep", depth+2)}
			}
			clobber()
			return true
		}
		entry := &ctxState{slots: append([]ctxSlot(nil), s.slots...)}
		copy(entry.regs[1:6], s.regs[1:6])
		entry.regs[10] = ctxVal{kind: ctxFP, frame: uint8(depth + 1)}
		entry.forgetConsts()
		ex := a.function(target, entry, depth+1)
		if !ex.reached {
			return false
		}
		clobber()
		s.regs[0] = ex.state.regs[0]
		s.slots = append([]ctxSlot(nil), ex.state.slots...)
		return true
	case ins.Op == vm.OpCall && ins.Src() == 0:
		a.callbacks(ins.Imm, s, depth, pc)
	}
	clobber()
	return true
}

// callbacks analyses the callback a helper call passes, if any: bpf_loop and the helpers like it
// call it with a pointer the program passed (callback_ctx), which the kernel requires to point
// to the stack; through it, the callback can reach a context pointer kept there.
func (a *ctxAnalysis) callbacks(helper int32, s *ctxState, depth int, pc int) {
	// fn: the register with the callback; args: for each callback argument register, the
	// caller's register it receives (0 for an unknown value).
	var fn uint8
	var args [6]uint8
	switch helper {
	case helperLoop:
		fn, args = 2, [6]uint8{2: 3}
	case helperForEachMapElem:
		fn, args = 2, [6]uint8{4: 3}
	case helperUserRingbufDrain:
		fn, args = 2, [6]uint8{2: 3}
	case helperFindVMA:
		fn, args = 3, [6]uint8{3: 4}
	case helperTimerSetCB:
		fn = 2
	default:
		// Any other helper given a function: analyse it with unknown arguments.
		for r := uint8(1); r <= 5; r++ {
			if v := s.regs[r]; v.kind == ctxFunc && !v.mixed {
				fn = r
			}
		}
	}
	cb := s.regs[fn]
	if fn == 0 || cb.kind != ctxFunc || cb.mixed || int(cb.off) >= len(a.insns) || cb.off < 0 {
		return
	}
	if depth+1 >= ctxMaxCallFrames {
		if a.callErr == nil {
			a.callErr = &vm.LoadError{PC: pc, Line: a.line(pc), Msg: fmt.Sprintf("the call stack of %d frames is too deep", depth+2)}
		}
		return
	}
	// The callback runs any number of times: analyse it until the stack it leaves behind no
	// longer changes.
	for range 64 {
		entry := &ctxState{slots: append([]ctxSlot(nil), s.slots...)}
		for r := 1; r <= 5; r++ {
			if args[r] != 0 {
				entry.regs[r] = s.regs[args[r]]
			}
		}
		entry.regs[10] = ctxVal{kind: ctxFP, frame: uint8(depth + 1)}
		entry.forgetConsts()
		ex := a.function(int(cb.off), entry, depth+1)
		if !ex.reached {
			return
		}
		after := s.clone()
		if !after.join(&ctxState{regs: s.regs, slots: ex.state.slots}) {
			return
		}
		s.slots = after.slots
	}
}

// rewrite expands the context loads the analysis found into the kernel's instruction
// sequences and moves every jump, call and function address to its new place.
func (a *ctxAnalysis) rewrite() ([]vm.Instruction, []int, error) {
	n := len(a.insns)
	out := make([]vm.Instruction, 0, n+8)
	origin := make([]int, 0, n+8)
	newPos := make([]int, n+1)
	prologue := a.rules.prologue(a.info)
	for _, x := range prologue {
		out = append(out, x)
		origin = append(origin, 0)
	}
	for pc := 0; pc < n; pc++ {
		newPos[pc] = len(out)
		ins := a.insns[pc]
		acc := a.access[pc]
		if acc == nil || !acc.ctx {
			out = append(out, ins)
			origin = append(origin, pc)
			continue
		}
		for _, x := range a.rules.convert(ins, a.info) {
			out = append(out, x)
			origin = append(origin, pc)
		}
	}
	newPos[n] = len(out)
	if len(out) == n {
		return out, origin, nil
	}
	// A jump to the first instruction lands on the prologue, as bpf_patch_insn_data leaves it.
	target := func(t int) int {
		if t == 0 {
			return 0
		}
		return newPos[t]
	}
	for pc := 0; pc < n; pc++ {
		if a.second[pc] {
			continue
		}
		ins := a.insns[pc]
		at := newPos[pc]
		retarget := func(delta int) (int, bool) {
			t := pc + delta + 1
			if t < 0 || t > n {
				return delta, false
			}
			return target(t) - at - 1, true
		}
		switch {
		case ins.Op == vm.OpLdImm64 && ins.Src() == vm.PseudoFunc,
			ins.Op == vm.OpCall && ins.Src() == vm.PseudoCall,
			ins.Op == vm.OpJA32:
			if d, ok := retarget(int(ins.Imm)); ok {
				out[at].Imm = int32(d)
			}
		default:
			if _, ok := a.jumpTarget(pc); !ok {
				continue
			}
			d, ok := retarget(int(ins.Off))
			if !ok {
				continue
			}
			if d < math.MinInt16 || d > math.MaxInt16 {
				return nil, nil, &vm.LoadError{PC: pc, Line: a.line(pc),
					Msg: fmt.Sprintf("jump to pc%+d does not fit in 16 bits once context loads are expanded", d)}
			}
			out[at].Off = int16(d)
		}
	}
	return out, origin, nil
}

// convertXDPCtxLoad is the kernel's xdp_convert_ctx_access for a valid load ins from struct
// xdp_md, followed by the sign extension convert_ctx_accesses appends to a BPF_MEMSX load.
func convertXDPCtxLoad(ins vm.Instruction) []vm.Instruction {
	dst, src := ins.Dst(), ins.Src()
	ldx := func(size uint8, d, s uint8, off int16) vm.Instruction {
		return vm.Make(vm.ClassLDX|vm.ModeMEM|size, d, s, off, 0)
	}
	var out []vm.Instruction
	switch ins.Off {
	case xdpMdData:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, xdpBuffData)}
	case xdpMdDataEnd:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, xdpBuffDataEnd)}
	case xdpMdDataMeta:
		out = []vm.Instruction{ldx(vm.SizeDW, dst, src, xdpBuffDataMeta)}
	case xdpMdIngressIfindex:
		out = []vm.Instruction{
			ldx(vm.SizeDW, dst, src, xdpBuffRxq),
			ldx(vm.SizeDW, dst, dst, xdpRxqInfoDev),
			ldx(vm.SizeW, dst, dst, netDeviceIfindex),
		}
	case xdpMdRxQueueIndex:
		out = []vm.Instruction{
			ldx(vm.SizeDW, dst, src, xdpBuffRxq),
			ldx(vm.SizeW, dst, dst, xdpRxqInfoQueueIndex),
		}
	case xdpMdEgressIfindex:
		out = []vm.Instruction{
			ldx(vm.SizeDW, dst, src, xdpBuffTxq),
			ldx(vm.SizeDW, dst, dst, xdpTxqInfoDev),
			ldx(vm.SizeW, dst, dst, netDeviceIfindex),
		}
	default:
		return []vm.Instruction{ins}
	}
	if ins.Op&0xe0 == vm.ModeMEMSX {
		out = append(out, vm.Make(vm.ClassALU64|vm.AluMov|vm.SrcX, dst, dst, 32, 0))
	}
	return out
}

// Verify runs the verifier over the program with opts (for a log at another level, or a program
// loaded with NoVerify). A rejection is a *verifier.Error; the result is there in both cases.
func (p *Program) Verify(opts verifier.Options) (*verifier.Result, error) {
	if unchecked := p.uncheckedKfuncs(); len(unchecked) > 0 {
		return nil, errUncheckedKfuncs(unchecked)
	}
	return verifier.Verify(p.vprog, opts)
}

// VerifierInput is a copy of what the verifier checks for this program (instructions, maps,
// kfuncs, BTF functions and lines), for callers that verify it under other conditions: a
// program that is not bound to a device, another log level.
func (p *Program) VerifierInput() *verifier.Program {
	c := *p.vprog
	return &c
}

// VerifierInput links the program of function name as the kernel would load it and returns what
// the verifier checks, without preparing it for the machine: a program can be verified even
// when it calls helpers the simulator does not provide, or holds instructions the machine
// refuses.
func (o *Object) VerifierInput(name string) (*verifier.Program, error) {
	ps, ok := o.Spec.Programs[name]
	if !ok {
		return nil, &LoadError{Path: o.Path, Err: fmt.Errorf("no program named %q", name)}
	}
	p, _, _, err := o.link(ps)
	if err == nil && len(p.missingKfuncs) > 0 {
		err = &MissingError{Type: p.Type, Calls: p.missingKfuncs}
	}
	if err == nil {
		if unchecked := p.uncheckedKfuncs(); len(unchecked) > 0 {
			err = errUncheckedKfuncs(unchecked)
		}
	}
	if err != nil {
		return nil, &LoadError{Path: o.Path, What: fmt.Sprintf("program %s (section %s)", ps.Name, ps.SectionName), Err: err}
	}
	return p.VerifierInput(), nil
}
