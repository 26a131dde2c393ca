package vm

import (
	"fmt"
)

// Helper is a function a program calls by number (a BPF helper) or by name (a kfunc). It gets the
// machine, to reach memory through Bytes and regions, and the argument registers r1 to r5; it returns
// the value for r0. An error ends the run (wrapped in a RuntimeError); helpers report ordinary
// failures to the program as negative return values, as the kernel does.
type Helper func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error)

// ProgramOptions is what a host supplies to prepare a program.
type ProgramOptions struct {
	// Name of the program, for messages.
	Name string
	// Helpers by helper number. A call to a number without an entry fails Prepare, naming it.
	Helpers map[int32]Helper
	// HelperName names helper numbers for messages; may be nil.
	HelperName func(id int32) string
	// Kfuncs by the immediate of their call instructions (BPF_PSEUDO_KFUNC_CALL).
	Kfuncs map[int32]Helper
	// ResolveLdImm64 turns a lddw with a pseudo source (a map, a map value, a BTF id) into its
	// 64-bit value. It is called once per such instruction while preparing. Function addresses
	// (BPF_PSEUDO_FUNC) are resolved by the machine itself.
	ResolveLdImm64 func(pc int, src uint8, imm, nextImm int32) (uint64, error)
	// Lines gives the source line for an instruction index ("" when unknown); may be nil.
	Lines func(pc int) string
}

// op is an instruction decoded for execution: registers split out, the immediate sign-extended
// (or the whole 64-bit constant for lddw), and jump offsets turned into absolute targets.
type op struct {
	code uint8
	dst  uint8
	src  uint8
	_    uint8
	off  int32 // memory offset, or absolute jump/call target
	imm  int64
}

// Program is a validated, decoded eBPF program ready to run on any engine. Validation happens once,
// here, so that execution needs no checks beyond memory accesses: every opcode is known, every
// register number is in range, every jump lands on an instruction, and execution cannot run off the
// end.
type Program struct {
	name    string
	insns   []Instruction
	code    []op
	helpers []Helper // indexed by helper number
	kfuncs  map[int32]Helper
	kfnTab  []Helper // indexed by code[i].imm for kfunc calls
	lines   func(int) string
	hname   func(int32) string
	// stackUse is how many bytes below the frame pointer a function may write (see stack.go).
	stackUse int
	// funcStart marks instructions that begin a function (entry and call targets).
	funcStart []bool
	compiled  any // engine-specific form, owned by the engine that made it
	native    nativeCache
}

// Name is the program's name.
func (p *Program) Name() string { return p.name }

// Instructions returns the program's instruction words as given.
func (p *Program) Instructions() []Instruction { return p.insns }

// Len is the number of instruction slots (lddw counts two).
func (p *Program) Len() int { return len(p.insns) }

// LineAt is the source line of instruction pc, or "".
func (p *Program) LineAt(pc int) string {
	if p.lines == nil || pc < 0 || pc >= len(p.insns) {
		return ""
	}
	return p.lines(pc)
}

// HelperName names a helper number for messages.
func (p *Program) HelperName(id int32) string {
	if p.hname != nil {
		if n := p.hname(id); n != "" {
			return fmt.Sprintf("%s#%d", n, id)
		}
	}
	return fmt.Sprintf("helper #%d", id)
}

// NewProgram validates and decodes insns.
func NewProgram(insns []Instruction, opts ProgramOptions) (*Program, error) {
	n := len(insns)
	p := &Program{
		name:      opts.Name,
		insns:     insns,
		code:      make([]op, n),
		kfuncs:    opts.Kfuncs,
		lines:     opts.Lines,
		hname:     opts.HelperName,
		funcStart: make([]bool, n),
		compiled:  new(closureCache),
	}
	bad := func(pc int, format string, args ...any) error {
		return &LoadError{PC: pc, Line: p.LineAt(pc), Msg: fmt.Sprintf(format, args...)}
	}
	if n == 0 {
		return nil, &LoadError{PC: 0, Msg: "program has no instructions"}
	}
	if n > 1<<20 {
		return nil, &LoadError{PC: 0, Msg: fmt.Sprintf("program has %d instructions, more than the limit of %d", n, 1<<20)}
	}
	maxHelper := int32(-1)
	for id := range opts.Helpers {
		if id > maxHelper {
			maxHelper = id
		}
	}
	if maxHelper >= 0 {
		p.helpers = make([]Helper, maxHelper+1)
		for id, h := range opts.Helpers {
			if id >= 0 {
				p.helpers[id] = h
			}
		}
	}
	p.funcStart[0] = true
	// second marks the second word of a lddw, which is not an instruction of its own.
	second := make([]bool, n)
	for pc := 0; pc < n; pc++ {
		in := insns[pc]
		if in.Dst() > 10 || in.Src() > 10 {
			return nil, bad(pc, "invalid register in instruction %#02x", in.Op)
		}
		c := &p.code[pc]
		c.code, c.dst, c.src = in.Op, in.Dst(), in.Src()
		c.off = int32(in.Off)
		c.imm = int64(in.Imm)
		if err := p.check(pc, in, bad); err != nil {
			return nil, err
		}
		switch cls := in.Class(); {
		case in.Op == OpLdImm64:
			if pc+1 >= n {
				return nil, bad(pc, "lddw is missing its second word")
			}
			next := insns[pc+1]
			if next.Op != 0 || next.Regs != 0 || next.Off != 0 {
				return nil, bad(pc+1, "invalid second word of lddw")
			}
			second[pc+1] = true
			v := uint64(uint32(in.Imm)) | uint64(uint32(next.Imm))<<32
			switch in.Src() {
			case 0:
			case PseudoFunc:
				t := pc + int(in.Imm) + 1
				if t < 0 || t >= n {
					return nil, bad(pc, "function address points outside the program (pc%+d)", in.Imm)
				}
				p.funcStart[t] = true
				v = Address(RegionCode, uint32(t))
			default:
				if opts.ResolveLdImm64 == nil {
					return nil, bad(pc, "lddw with pseudo source %d needs a loader to resolve it", in.Src())
				}
				r, err := opts.ResolveLdImm64(pc, in.Src(), in.Imm, next.Imm)
				if err != nil {
					return nil, bad(pc, "%v", err)
				}
				v = r
			}
			c.imm = int64(v)
			p.code[pc+1] = op{code: 0}
			pc++
		case cls == ClassJMP || cls == ClassJMP32:
			if in.Op == OpCall {
				switch in.Src() {
				case 0:
					if in.Imm < 0 || int(in.Imm) >= len(p.helpers) || p.helpers[in.Imm] == nil {
						return nil, bad(pc, "call to %s, which this host does not provide", p.HelperName(in.Imm))
					}
				case PseudoCall:
					t := pc + int(in.Imm) + 1
					if t < 0 || t >= n {
						return nil, bad(pc, "call to pc%+d lands outside the program", in.Imm)
					}
					p.funcStart[t] = true
					c.off = int32(t)
				case PseudoKfuncCall:
					h, ok := opts.Kfuncs[in.Imm]
					if !ok || h == nil {
						return nil, bad(pc, "call to kfunc #%d, which this host does not provide", in.Imm)
					}
					c.imm = int64(len(p.kfnTab))
					p.kfnTab = append(p.kfnTab, h)
				default:
					return nil, bad(pc, "call with unknown source %d", in.Src())
				}
				continue
			}
			if in.Op == OpCallX || in.Op == OpExit {
				continue
			}
			delta := int(in.Off)
			if in.Op == OpJA32 {
				delta = int(in.Imm)
			}
			t := pc + delta + 1
			if t < 0 || t >= n {
				return nil, bad(pc, "jump to pc%+d lands outside the program", delta)
			}
			c.off = int32(t)
		}
	}
	// No jump may land on the second word of a lddw.
	for pc := 0; pc < n; pc++ {
		cls := insns[pc].Class()
		if second[pc] || (cls != ClassJMP && cls != ClassJMP32) {
			continue
		}
		if insns[pc].Op == OpCall && insns[pc].Src() != PseudoCall {
			continue
		}
		if insns[pc].Op == OpCallX || insns[pc].Op == OpExit {
			continue
		}
		if t := int(p.code[pc].off); second[t] {
			return nil, bad(pc, "jump into the middle of lddw at %d", t-1)
		}
	}
	for t, f := range p.funcStart {
		if f && second[t] {
			return nil, bad(t, "function starts in the middle of lddw")
		}
	}
	// Execution must not run off the end: the last instruction has to leave.
	last := insns[n-1]
	if second[n-1] {
		last = insns[n-2]
	}
	if last.Op != OpExit && last.Op != ClassJMP|JmpJA && last.Op != OpJA32 {
		return nil, bad(n-1, "last instruction is not exit or an unconditional jump")
	}
	p.stackUse = stackUse(p)
	return p, nil
}

// check rejects opcodes the ISA does not define and register uses it forbids.
func (p *Program) check(pc int, in Instruction, bad func(int, string, ...any) error) error {
	code := in.Op
	writesDst := false
	switch in.Class() {
	case ClassALU, ClassALU64:
		o := code & 0xf0
		writesDst = true
		switch o {
		case AluAdd, AluSub, AluMul, AluOr, AluAnd, AluLsh, AluRsh, AluXor, AluArsh:
			if in.Off != 0 {
				return bad(pc, "invalid offset %d in ALU instruction %#02x", in.Off, code)
			}
		case AluDiv, AluMod:
			if in.Off != 0 && in.Off != 1 {
				return bad(pc, "invalid offset %d in division %#02x", in.Off, code)
			}
		case AluNeg:
			if code&SrcX != 0 || in.Off != 0 {
				return bad(pc, "invalid neg %#02x", code)
			}
		case AluMov:
			if code&SrcX == 0 && in.Off != 0 {
				return bad(pc, "invalid offset %d in mov %#02x", in.Off, code)
			}
			if code&SrcX != 0 {
				ok := in.Off == 0 || in.Off == 8 || in.Off == 16
				if in.Class() == ClassALU64 && in.Off == 32 {
					ok = true
				}
				if !ok {
					return bad(pc, "invalid movsx width %d", in.Off)
				}
			}
		case AluEnd:
			if in.Imm != 16 && in.Imm != 32 && in.Imm != 64 {
				return bad(pc, "invalid byte swap width %d", in.Imm)
			}
			if in.Class() == ClassALU64 && code&SrcX != 0 {
				return bad(pc, "invalid opcode %#02x", code)
			}
		default:
			return bad(pc, "invalid ALU opcode %#02x", code)
		}
	case ClassJMP, ClassJMP32:
		o := code & 0xf0
		switch o {
		case JmpJA:
			if code&SrcX != 0 {
				return bad(pc, "invalid opcode %#02x", code)
			}
		case JmpCall:
			if in.Class() == ClassJMP32 {
				return bad(pc, "invalid opcode %#02x", code)
			}
		case JmpExit:
			if in.Class() == ClassJMP32 || code&SrcX != 0 {
				return bad(pc, "invalid opcode %#02x", code)
			}
		case JmpJEQ, JmpJGT, JmpJGE, JmpJSET, JmpJNE, JmpJSGT, JmpJSGE, JmpJLT, JmpJLE, JmpJSLT, JmpJSLE:
		case JmpJCOND:
			if code != OpMayGoto || in.Src() != 0 || in.Dst() != 0 || in.Imm != 0 || in.Off == 0 {
				return bad(pc, "invalid may_goto off %d imm %d", in.Off, in.Imm)
			}
		default:
			return bad(pc, "invalid jump opcode %#02x", code)
		}
	case ClassLD:
		if code != OpLdImm64 {
			return bad(pc, "invalid opcode %#02x (legacy packet loads are not available to this program type)", code)
		}
		writesDst = true
	case ClassLDX:
		mode := code & 0xe0
		if mode != ModeMEM && !(mode == ModeMEMSX && code&0x18 != SizeDW) {
			return bad(pc, "invalid load opcode %#02x", code)
		}
		writesDst = true
	case ClassST:
		if code&0xe0 != ModeMEM {
			return bad(pc, "invalid store opcode %#02x", code)
		}
	case ClassSTX:
		switch code & 0xe0 {
		case ModeMEM:
		case ModeATOMIC:
			if code&0x18 != SizeW && code&0x18 != SizeDW {
				return bad(pc, "invalid atomic width in %#02x", code)
			}
			switch in.Imm {
			case AtomicAdd, AtomicOr, AtomicAnd, AtomicXor:
			case AtomicAdd | AtomicFetch, AtomicOr | AtomicFetch, AtomicAnd | AtomicFetch, AtomicXor | AtomicFetch, AtomicXchg:
				if in.Src() == 10 {
					return bad(pc, "atomic fetch into the frame pointer")
				}
			case AtomicCmpXchg:
			default:
				return bad(pc, "invalid atomic operation %#x", in.Imm)
			}
		default:
			return bad(pc, "invalid store opcode %#02x", code)
		}
	}
	if writesDst && in.Dst() == 10 {
		return bad(pc, "frame pointer is read only")
	}
	return nil
}
