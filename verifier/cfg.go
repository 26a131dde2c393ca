package verifier

import (
	"fmt"

	"github.com/xdpsim/xdpsim/kfuncs"
	"sort"
	"strings"

	"github.com/xdpsim/xdpsim/vm"
)

// The checks before exploration: subprograms and jumps (check_subprogs), the control flow graph
// (check_cfg), register liveness (compute_live_registers).

func (e *env) subprogAt(insn int) int {
	i := sort.Search(len(e.subprogs), func(i int) bool { return e.subprogs[i].start > insn }) - 1
	if i < 0 {
		return -1
	}
	return i
}

func (e *env) subprogName(i int) string {
	if f := e.subprogs[i].fn; f != nil && f.Name != "" {
		return f.Name
	}
	return fmt.Sprintf("func#%d", i)
}

func (e *env) jumpTarget(pc int) (int, bool) {
	in := e.insns[pc]
	cls := in.Class()
	if cls != vm.ClassJMP && cls != vm.ClassJMP32 {
		return 0, false
	}
	switch op := in.Op & 0xf0; {
	case op == vm.JmpCall || op == vm.JmpExit:
		return 0, false
	case in.Op == vm.OpJA32:
		return pc + int(in.Imm) + 1, true
	}
	return pc + int(in.Off) + 1, true
}

func (e *env) checkSubprogs() error {
	n := len(e.insns)
	starts := map[int]bool{0: true}
	for pc := 0; pc < n; pc++ {
		in := e.insns[pc]
		if in.Op == vm.OpLdImm64 {
			if pc+1 >= n {
				return e.rejectAt(pc, "invalid bpf_ld_imm64 insn")
			}
			e.second[pc+1] = true
			nx := e.insns[pc+1]
			if nx.Op != 0 || nx.Regs != 0 || nx.Off != 0 {
				return e.rejectAt(pc, "invalid bpf_ld_imm64 insn")
			}
			if in.Src() == vm.PseudoFunc {
				t := pc + int(in.Imm) + 1
				if t < 0 || t >= n {
					return e.rejectAt(pc, "function offset %d is out of range", t)
				}
				starts[t] = true
			}
			pc++
			continue
		}
		if in.Op == vm.OpCall && in.Src() == vm.PseudoCall {
			t := pc + int(in.Imm) + 1
			if t < 0 || t >= n {
				return e.rejectAt(pc, "function offset %d is out of range", t)
			}
			starts[t] = true
		}
	}
	for _, f := range e.p.Funcs {
		if f.Insn >= 0 && f.Insn < n {
			starts[f.Insn] = true
		}
	}
	var ss []int
	for s := range starts {
		ss = append(ss, s)
	}
	sort.Ints(ss)
	for i, s := range ss {
		end := n
		if i+1 < len(ss) {
			end = ss[i+1]
		}
		sp := subprog{start: s, end: end}
		for fi := range e.p.Funcs {
			if e.p.Funcs[fi].Insn == s {
				sp.fn = &e.p.Funcs[fi]
				sp.global = e.p.Funcs[fi].Global && s != 0
			}
		}
		e.subprogs = append(e.subprogs, sp)
	}
	// Jumps stay inside their function; the last instruction of each leaves it.
	for i, sp := range e.subprogs {
		if i > 0 && sp.fn != nil && sp.fn.RetVoid {
			for pc := sp.start; pc < sp.end; pc++ {
				if in := e.insns[pc]; !e.second[pc] && in.Op == vm.OpCall && in.Src() == 0 && in.Imm == fnTailCall {
					return e.rejectAt(-1, "tail_call is only allowed in functions that return 'int'.")
				}
			}
		}
		for pc := sp.start; pc < sp.end; pc++ {
			if e.second[pc] {
				continue
			}
			if t, ok := e.jumpTarget(pc); ok {
				if t < sp.start || t >= sp.end {
					return e.rejectAt(pc, "jump out of range from insn %d to %d", pc, t)
				}
			}
		}
		last := sp.end - 1
		op := e.insns[last].Op
		if e.second[last] {
			op = 0
		}
		if op != vm.OpExit && op != vm.ClassJMP|vm.JmpJA && op != vm.OpJA32 {
			return e.rejectAt(-1, "last insn is not an exit or jmp")
		}
	}
	return nil
}

// checkCFG finds unreachable instructions and jumps into the middle of a lddw.
func (e *env) checkCFG() error {
	n := len(e.insns)
	seen := make([]bool, n)
	stack := []int{}
	visit := func(from, to int) error {
		if to < 0 || to >= n {
			return e.rejectAt(from, "jump out of range from insn %d to %d", from, to)
		}
		if e.second[to] {
			return e.rejectAt(to-1, "jump into the middle of ldimm64 insn %d", to-1)
		}
		if !seen[to] {
			seen[to] = true
			stack = append(stack, to)
		}
		return nil
	}
	for _, sp := range e.subprogs {
		if seen[sp.start] {
			continue
		}
		seen[sp.start] = true
		stack = append(stack, sp.start)
		for len(stack) > 0 {
			pc := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			in := e.insns[pc]
			switch {
			case in.Op == vm.OpLdImm64:
				if in.Src() == vm.PseudoFunc {
					// Loading a function's address is walked as a call of it
					// (visit_func_call_insn): the lddw and the instruction after it are
					// prune points, the latter and the function's entry jump points too.
					e.prune[pc] = true
					if pc+2 < n {
						e.prune[pc+2] = true
						e.jmpPoint[pc+2] = true
					}
					if t := pc + int(in.Imm) + 1; t >= 0 && t < n {
						e.prune[t] = true
						e.jmpPoint[t] = true
					}
				}
				if err := visit(pc, pc+2); err != nil {
					return err
				}
			case in.Op == vm.OpExit:
			case in.Op == vm.OpCall:
				if in.Src() == vm.PseudoCall {
					e.prune[pc] = true
					// The callee's first instruction is a branch target of the call
					// (visit_func_call_insn): a prune point and a jump point, so that
					// a call whose callee state is covered stops there.
					if t := pc + int(in.Imm) + 1; t >= 0 && t < n {
						e.prune[t] = true
						e.jmpPoint[t] = true
					}
				}
				if k := e.p.Kfuncs[in.Imm]; in.Src() == vm.PseudoKfuncCall && k != nil && k.Flags&kfuncs.KFIterNext != 0 {
					// Each call of an iterator's next is a checkpoint (mark_force_checkpoint).
					e.prune[pc], e.forceCP[pc], e.iterNext[pc] = true, true, true
				}
				if in.Src() == 0 {
					switch in.Imm {
					case fnLoop, fnForEachMapElem, fnTimerSetCallback, fnFindVMA, fnUserRingbufDrain:
						e.prune[pc] = true
						e.forceCP[pc] = true
					}
				}
				if pc+1 < n {
					e.prune[pc+1] = true
					e.jmpPoint[pc+1] = true
				}
				if err := visit(pc, pc+1); err != nil {
					return err
				}
			default:
				t, ok := e.jumpTarget(pc)
				if !ok {
					if err := visit(pc, pc+1); err != nil {
						return err
					}
					continue
				}
				cond := in.Op&0xf0 != vm.JmpJA
				if cond {
					e.prune[pc] = true
					if in.Op == vm.OpMayGoto {
						e.forceCP[pc] = true // each may_goto is a checkpoint (mark_force_checkpoint)
					}
					if err := visit(pc, pc+1); err != nil {
						return err
					}
				}
				e.prune[t] = true
				e.jmpPoint[t] = true
				if err := visit(pc, t); err != nil {
					return err
				}
			}
		}
	}
	for pc := 0; pc < n; pc++ {
		if !seen[pc] && !e.second[pc] {
			return e.rejectAt(pc, "unreachable insn %d", pc)
		}
	}
	e.markPktChangers()
	return nil
}

// markPktChangers finds the functions that may change packet data for their callers, as the
// kernel decides before it walks the program: a function that calls a helper or kfunc that
// changes packet data, bpf_dynptr_write (whatever its dynptr) or bpf_tail_call, or a function
// that does (measured: a call of such a global function kills the caller's packet pointers).
// Only calls of global functions use it; the walk of the others clears what they change.
func (e *env) markPktChangers() {
	type edge struct{ caller, callee int }
	var calls []edge
	for pc, in := range e.insns {
		if in.Op != vm.OpCall || e.second[pc] {
			continue
		}
		sp := e.subprogAt(pc)
		switch in.Src() {
		case 0:
			if fn := helperProtos[in.Imm]; fn != nil && fn.changesPkt || in.Imm == fnDynptrWrite || in.Imm == fnTailCall {
				e.subprogs[sp].changesPkt = true
			}
		case vm.PseudoKfuncCall:
			if k := e.p.Kfuncs[in.Imm]; k != nil && k.ChangesPacketData {
				e.subprogs[sp].changesPkt = true
			}
		case vm.PseudoCall:
			calls = append(calls, edge{sp, e.subprogAt(pc + int(in.Imm) + 1)})
		}
	}
	for changed := true; changed; {
		changed = false
		for _, c := range calls {
			if e.subprogs[c.callee].changesPkt && !e.subprogs[c.caller].changesPkt {
				e.subprogs[c.caller].changesPkt = true
				changed = true
			}
		}
	}
}

// uses and defs of registers by one instruction, for liveness.
func (e *env) useDef(pc int) (use, def uint16) {
	in := e.insns[pc]
	d, s := uint16(1)<<in.Dst(), uint16(1)<<in.Src()
	switch in.Class() {
	case vm.ClassALU, vm.ClassALU64:
		op := in.Op & 0xf0
		def = d
		if op != vm.AluMov {
			use |= d
		}
		if in.Op&vm.SrcX != 0 && op != vm.AluNeg && op != vm.AluEnd {
			use |= s
		}
	case vm.ClassLDX:
		use, def = s, d
	case vm.ClassLD:
		def = d
		if mode := in.Op & 0xe0; mode == 0x20 || mode == 0x40 { // BPF_ABS, BPF_IND
			use, def = 1<<6, 0x3f
			if mode == 0x40 {
				use |= s
			}
		}
	case vm.ClassST:
		use = d
	case vm.ClassSTX:
		use = d | s
		if in.Op&0xe0 == vm.ModeATOMIC {
			if in.Imm == vm.AtomicCmpXchg {
				use |= 1
				def = 1
			} else if in.Imm&vm.AtomicFetch != 0 {
				def = s
			}
		}
	case vm.ClassJMP, vm.ClassJMP32:
		switch in.Op & 0xf0 {
		case vm.JmpCall:
			use = 0x3e // r1-r5
			if in.Src() == 0 {
				if fn := helperProtos[in.Imm]; fn != nil {
					use = 0
					for i := range fn.args {
						use |= 1 << (i + 1)
					}
				}
			} else if in.Src() == vm.PseudoKfuncCall {
				if k := e.p.Kfuncs[in.Imm]; k != nil {
					use = 0
					for i := range k.Args {
						use |= 1 << (i + 1)
					}
				}
			}
			def = 0x3f
		case vm.JmpExit:
			use = 1
		case vm.JmpJA:
		default:
			use = d
			if in.Op&vm.SrcX != 0 {
				use |= s
			}
		}
	}
	return use &^ (1 << 10), def &^ (1 << 10)
}

// computeLiveness computes, for every instruction, the registers live before it.
func (e *env) computeLiveness() {
	n := len(e.insns)
	e.live = make([]uint16, n)
	use := make([]uint16, n)
	def := make([]uint16, n)
	for pc := 0; pc < n; pc++ {
		if !e.second[pc] {
			use[pc], def[pc] = e.useDef(pc)
		}
	}
	succ := func(pc int) (a, b int) {
		in := e.insns[pc]
		a, b = -1, -1
		switch {
		case in.Op == vm.OpExit:
		case in.Op == vm.OpLdImm64:
			a = pc + 2
		case in.Op == vm.OpCall:
			a = pc + 1
		default:
			if t, ok := e.jumpTarget(pc); ok {
				b = t
				if in.Op&0xf0 != vm.JmpJA {
					a = pc + 1
				}
			} else {
				a = pc + 1
			}
		}
		if a >= n {
			a = -1
		}
		if b >= n {
			b = -1
		}
		return
	}
	for changed := true; changed; {
		changed = false
		for pc := n - 1; pc >= 0; pc-- {
			if e.second[pc] {
				continue
			}
			var out uint16
			a, b := succ(pc)
			if a >= 0 {
				out |= e.live[a]
			}
			if b >= 0 {
				out |= e.live[b]
			}
			in := use[pc] | out&^def[pc]
			if in != e.live[pc] {
				e.live[pc] = in
				changed = true
			}
		}
	}
}

func (e *env) logLiveness() {
	for i := range e.subprogs {
		e.verbose("func#%d @%d\n", i, e.subprogs[i].start)
	}
	e.verbose("Live regs before insn:\n")
	for pc := 0; pc < len(e.insns); pc++ {
		if e.second[pc] {
			continue
		}
		var b strings.Builder
		for r := 0; r < 10; r++ {
			if e.live[pc]&(1<<r) != 0 {
				fmt.Fprintf(&b, "%d", r)
			} else {
				b.WriteByte('.')
			}
		}
		e.verbose("%7d: %s (%s\n", pc, b.String(), strings.TrimPrefix(e.insnText(pc), "("))
	}
}

// checkGlobal verifies a global function once against its BTF signature.
func (e *env) checkGlobal(sp int) error {
	s := &e.subprogs[sp]
	e.verbose("Validating %s() func#%d...\n", e.subprogName(sp), sp)
	st := &vstate{}
	f := e.initFrame(0, -1, sp)
	if s.fn != nil {
		for i, a := range s.fn.Args {
			if i >= 5 {
				break
			}
			r := &f.regs[i+1]
			switch a.Kind {
			case FuncArgCtx:
				r.setPointer(ptrToCtx)
			case FuncArgScalar:
				r.setUnknown()
			case FuncArgMem:
				r.setPointer(ptrToMem)
				r.rng = int64(a.Size)
				if !a.Nonnull {
					r.flags |= flagMaybeNull
				}
				r.id = e.newID()
			case FuncArgDynptr:
				r.setPointer(constPtrToDynptr)
			default:
				return e.rejectAt(s.start, "Validating %s() func#%d... arg#%d type is not supported", e.subprogName(sp), sp, i)
			}
		}
	}
	st.frames = []*funcState{f}
	if err := e.doCheck(st, s.start); err != nil {
		return err
	}
	e.verbose("Func#%d ('%s') is safe for any args that match its prototype\n", sp, e.subprogName(sp))
	return nil
}

// checkGlobalArgs checks the registers a global function is called with against its signature.
func (e *env) checkGlobalArgs(sp int) error {
	fn := e.subprogs[sp].fn
	if fn == nil {
		return nil
	}
	regs := e.regs()
	for i, a := range fn.Args {
		if i >= 5 {
			break
		}
		regno := uint8(i + 1)
		r := &regs[regno]
		if r.typ == notInit {
			return e.reject("R%d !read_ok", regno)
		}
		switch a.Kind {
		case FuncArgScalar:
			if r.typ != scalarValue {
				return e.reject("R%d is not a scalar", regno)
			}
		case FuncArgCtx:
			if r.typ != ptrToCtx {
				return e.reject("arg#%d expects pointer to ctx", i)
			}
			if err := e.checkPtrOffReg(regno, r, false); err != nil {
				return err
			}
		case FuncArgMem:
			if r.isNull() && !a.Nonnull {
				continue
			}
			if err := e.checkHelperMemAccess(regno, int(a.Size), false, false, nil); err != nil {
				return err
			}
			// The function may write through the pointer as well: a read-only map value
			// (a frozen .rodata, BPF_F_RDONLY_PROG) or map key cannot be passed, and what
			// the caller's stack held there becomes unknown data.
			if err := e.checkHelperMemAccess(regno, int(a.Size), true, false, nil); err != nil {
				return err
			}
			if a.Nonnull && r.maybeNull() {
				return e.reject("arg#%d is expected to be non-NULL", i)
			}
		}
	}
	return nil
}

// checkMaxStackDepth is check_max_stack_depth: the frames of a call chain share 512 bytes and
// are at most maxCallFrames deep. The chains are walked from the entry through every call,
// global functions included: they run on the caller's stack as static ones do.
func (e *env) checkMaxStackDepth() error {
	var walk func(sp, depth, total int) error
	visiting := map[int]bool{}
	walk = func(sp, depth, total int) error {
		s := &e.subprogs[sp]
		// The JIT's granularity: 16 bytes, and nothing for a function without a stack.
		sz := roundUp(s.stack, 16)
		if s.hasTail && depth > 0 && total >= maxBPFStack/2 {
			return e.rejectAt(-1, "tail_calls are not allowed when call stack of previous frames is %d bytes. Too large", total)
		}
		total += sz
		if total > maxBPFStack {
			return e.rejectAt(-1, "combined stack size of %d calls is %d. Too large", depth+1, total)
		}
		if visiting[sp] {
			return nil
		}
		visiting[sp] = true
		defer delete(visiting, sp)
		for pc := s.start; pc < s.end; pc++ {
			in := e.insns[pc]
			if e.second[pc] || !e.aux[pc].seen {
				continue
			}
			var t int
			switch {
			case in.Op == vm.OpCall && in.Src() == vm.PseudoCall:
				t = pc + int(in.Imm) + 1
			case in.Op == vm.OpLdImm64 && in.Src() == vm.PseudoFunc:
				t = pc + int(in.Imm) + 1
			default:
				continue
			}
			c := e.subprogAt(t)
			if c < 0 {
				continue
			}
			if depth+1 >= maxCallFrames {
				return e.rejectAt(-1, "the call stack of %d frames is too deep !", depth+1)
			}
			if err := walk(c, depth+1, total); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(0, 0, 0)
}

// validOpcode is the kernel's bpf_opcode_in_insntable: the opcodes the interpreter knows.
func validOpcode(op uint8) bool {
	cls := op & 7
	code := op & 0xf0
	x := op&vm.SrcX != 0
	switch cls {
	case vm.ClassALU, vm.ClassALU64:
		if code > vm.AluEnd {
			return false
		}
		if code == vm.AluNeg && x {
			return false
		}
		if code == vm.AluEnd && cls == vm.ClassALU64 && x {
			return false
		}
		return true
	case vm.ClassJMP, vm.ClassJMP32:
		switch {
		case code == vm.JmpCall:
			return cls == vm.ClassJMP && !x
		case code == vm.JmpExit:
			return cls == vm.ClassJMP && !x
		case code == vm.JmpJA:
			return !x
		case code == 0xe0: // JCOND
			return cls == vm.ClassJMP && !x
		}
		return code <= vm.JmpJSLE
	case vm.ClassLD:
		switch op {
		case vm.OpLdImm64, 0x20, 0x28, 0x30, 0x40, 0x48, 0x50:
			return true
		}
		return false
	case vm.ClassLDX:
		switch op & 0xe0 {
		case vm.ModeMEM:
			return true
		case vm.ModeMEMSX:
			return op&0x18 != vm.SizeDW
		}
		return false
	case vm.ClassST:
		return op&0xe0 == vm.ModeMEM
	case vm.ClassSTX:
		switch op & 0xe0 {
		case vm.ModeMEM:
			return true
		case vm.ModeATOMIC:
			return true
		}
		return false
	}
	return false
}

// checkBeforeWalk is what the kernel checks before it walks the program, in its order:
// opcodes and 64-bit loads (resolve_pseudo_ldimm64), then kfuncs (add_kfunc_call). Its errors
// name no instruction the walk reached.
func (e *env) checkBeforeWalk() error {
	n := len(e.insns)
	for pc := 0; pc < n; pc++ {
		in := e.insns[pc]
		if !validOpcode(in.Op) {
			return e.rejectAt(-1, "unknown opcode %02x", in.Op)
		}
		if in.Op != vm.OpLdImm64 {
			continue
		}
		if pc+1 >= n {
			return e.rejectAt(-1, "invalid bpf_ld_imm64 insn")
		}
		switch in.Src() {
		case 0, vm.PseudoFunc:
		case vm.PseudoMapFD, vm.PseudoMapIdx, vm.PseudoMapValue, vm.PseudoMapIdxValue:
			if in.Imm < 0 || int(in.Imm) >= len(e.p.Maps) {
				return e.rejectAt(-1, "fd %d is not pointing to valid bpf_map", in.Imm)
			}
		case vm.PseudoBTFID:
		default:
			return e.rejectAt(-1, "unrecognized bpf_ld_imm64 insn")
		}
		pc++
	}
	for pc := 0; pc < n; pc++ {
		in := e.insns[pc]
		if in.Op == vm.OpCall && in.Src() == vm.PseudoKfuncCall {
			if k := e.p.Kfuncs[in.Imm]; k != nil && k.DevBound && !e.p.DevBound {
				return e.rejectAt(-1, "%s", kfuncs.DevBoundMessage)
			}
		}
		if in.Op == vm.OpLdImm64 {
			pc++
		}
	}
	return nil
}
