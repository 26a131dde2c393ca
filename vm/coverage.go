package vm

import "math/bits"

// Coverage counts what programs execute on a machine: how often each instruction ran and, for every
// conditional jump, how often it jumped and how close its equality tests came to holding. Set one
// on a machine with SetCoverage; both engines record into it (the interpreter instruction by
// instruction, the compiled-blocks engine block by block), and nothing is recorded, or paid for,
// while none is set.
//
// A Coverage keeps counting from run to run until Reset. It holds the programs that ran (entry
// programs, tail-call targets, callbacks' programs) by their *Program. It is not safe for concurrent
// use: give each machine its own and Merge them.
type Coverage struct {
	progs map[*Program]*ProgramCoverage
	order []*ProgramCoverage // in the order programs first ran
	last  *ProgramCoverage
	// lastCmp is the comparing jump that ran last, and how close it came.
	lastCmp Comparison
}

// Comparison is a comparing jump (any conditional jump but jset) as it ran: the record of its
// program, its pc, its operands and how close they came (see ProgramCoverage.Near).
type Comparison struct {
	Rec  *ProgramCoverage
	PC   int
	Near int
	// Bits is the width compared: 64, or 32 for the 32-bit forms.
	Bits int
	// A and B are the operands (dst, and the immediate or src), the low 32 bits of each for the
	// 32-bit forms.
	A, B uint64
	// Equality says the jump tests equality (jeq or jne); Signed that it orders signed numbers
	// (jsgt, jsge, jslt, jsle).
	Equality, Signed bool
}

// NewCoverage returns an empty coverage record.
func NewCoverage() *Coverage {
	return &Coverage{progs: map[*Program]*ProgramCoverage{}}
}

// SetCoverage makes the machine record into c (nil stops recording). Recording costs a few
// nanoseconds per instruction; a machine without coverage pays nothing.
func (m *Machine) SetCoverage(c *Coverage) {
	m.cov = c
	m.covCur = nil
}

// Coverage is the coverage record set on the machine, or nil.
func (m *Machine) Coverage() *Coverage { return m.cov }

// ProgramCoverage is the record of one program.
type ProgramCoverage struct {
	cov  *Coverage
	prog *Program
	// insn counts executions instruction by instruction (the interpreter).
	insn []uint64
	// blocks counts entries into the compiled-blocks engine's blocks of cp; every instruction of
	// a block runs once per entry, except where cut says the block was left early (a fault, the
	// end of the budget).
	cp     *cprog
	blocks []uint64
	cut    []uint64
	// taken counts, at the pc of each conditional jump, the times it jumped.
	taken []uint64
	// near holds, at the pc of each comparing jump, the closest its operands came (see Near),
	// over the runs since the last Reset.
	near []uint8
	// dirty says the program ran since the last Reset.
	dirty bool
}

// Program is the record of p, or nil when p has not run since the coverage was made.
func (c *Coverage) Program(p *Program) *ProgramCoverage { return c.progs[p] }

// Programs lists the records of the programs the machine started to run, in the order it first
// did. (A program the budget stopped before its first instruction may be listed with no counts.)
func (c *Coverage) Programs() []*ProgramCoverage { return c.order }

// Reset zeroes every count, keeping the programs' records (so that resetting between runs does not
// allocate).
func (c *Coverage) Reset() {
	for _, pc := range c.order {
		if !pc.dirty {
			continue
		}
		clear(pc.insn)
		clear(pc.blocks)
		clear(pc.cut)
		clear(pc.taken)
		clear(pc.near)
		pc.dirty = false
	}
	c.lastCmp.Rec = nil
}

// LastComparison returns the comparing jump that ran last since the record was made or reset (not
// counting tests of pointers, see Near); ok is false when none ran. A fuzzer that rewards
// closeness only there, at the test an input's path ends on, climbs towards the next branch of its
// deepest path without keeping inputs that merely come closer to tests they already pass; and
// its operands say what the input would have to hold instead.
func (c *Coverage) LastComparison() (cmp Comparison, ok bool) {
	return c.lastCmp, c.lastCmp.Rec != nil
}

// Merge adds the counts of o to c (the closeness of equality tests keeps the larger).
func (c *Coverage) Merge(o *Coverage) {
	for _, src := range o.order {
		dst := c.of(src.prog)
		dst.dirty = dst.dirty || src.dirty
		for i := range dst.insn {
			dst.insn[i] += src.Count(i)
			dst.taken[i] += src.taken[i]
			dst.near[i] = max(dst.near[i], src.near[i])
		}
	}
}

// of returns p's record, making it on p's first run.
func (c *Coverage) of(p *Program) *ProgramCoverage {
	if pc := c.last; pc != nil && pc.prog == p {
		return pc
	}
	pc := c.progs[p]
	if pc == nil {
		n := len(p.code)
		pc = &ProgramCoverage{cov: c, prog: p, insn: make([]uint64, n), cut: make([]uint64, n), taken: make([]uint64, n), near: make([]uint8, n)}
		c.progs[p] = pc
		c.order = append(c.order, pc)
	}
	c.last = pc
	return pc
}

// forBlocks returns p's record ready for block counts of cp.
func (c *Coverage) forBlocks(p *Program, cp *cprog) *ProgramCoverage {
	pc := c.of(p)
	if pc.cp != cp {
		// A program is compiled once, so this happens once per program; fold what earlier
		// blocks counted into the instruction counts all the same.
		if pc.cp != nil {
			for i := range pc.insn {
				pc.insn[i] = pc.Count(i)
			}
			clear(pc.cut)
		}
		pc.cp = cp
		pc.blocks = make([]uint64, len(cp.blocks))
	}
	pc.dirty = true
	return pc
}

// Prog is the program the record is of.
func (pc *ProgramCoverage) Prog() *Program { return pc.prog }

// Count is the number of times instruction pc ran (0 for the second slot of a lddw).
func (pc *ProgramCoverage) Count(i int) uint64 {
	n := pc.insn[i]
	if pc.cp != nil {
		if b := pc.cp.blockOf[i]; b >= 0 {
			n += pc.blocks[b] - pc.cut[i]
		}
	}
	return n
}

// IsBranch reports whether instruction i is a conditional jump.
func (pc *ProgramCoverage) IsBranch(i int) bool { return pc.prog.IsBranch(i) }

// IsBranch reports whether instruction i is a conditional jump.
func (p *Program) IsBranch(i int) bool { return condJump(p.code[i].code) }

// Branch returns, for the conditional jump at i, how often it jumped and how often it fell
// through. A jump whose target is the next instruction counts as jumping.
func (pc *ProgramCoverage) Branch(i int) (taken, fallthrough_ uint64) {
	n := pc.Count(i)
	return pc.taken[i], n - pc.taken[i]
}

// CompareBits is, for a conditional jump at i that compares two values (all but jset), the bits
// it compares: 64, or 32 for the 32-bit forms; 0 for other instructions.
func (p *Program) CompareBits(i int) int {
	switch code := p.code[i].code; {
	case !condJump(code) || code&0xf0 == JmpJSET || code == OpMayGoto:
		return 0
	case code&0x07 == ClassJMP32:
		return 32
	}
	return 64
}

// Near returns, for the comparing jump at i, how close its operands came when it ran, as a
// number of bits out of bits (CompareBits): for an equality test (jeq, jne), the bits in which
// they agreed; for an ordering test (jgt, jslt, ...), the leading zero bits of their difference.
// bits means equal; 0 for other instructions, when it never ran, or when a 64-bit test had an
// operand that looks like a pointer (the machine's addresses carry their region in the upper half;
// for a bounds check or a NULL test, closeness means nothing). A fuzzer that rewards inputs
// that come closer (as libFuzzer's value profile does) meets a multi-byte magic value or a bound
// a bit at a time instead of by chance.
func (pc *ProgramCoverage) Near(i int) (near, bits int) {
	bits = pc.prog.CompareBits(i)
	if bits == 0 {
		return 0, 0
	}
	return int(pc.near[i]), bits
}

// closeness measures how close the operands a and b of a comparing jump with opcode code came,
// as Near defines it.
func closeness(code uint8, a, b uint64) (uint8, bool) {
	if code&0x07 == ClassJMP && (pointerLike(a) || pointerLike(b)) {
		// A pointer (a bounds check against data_end, a map lookup's result against NULL):
		// how far apart two addresses are says nothing a fuzzer should chase.
		return 0, false
	}
	if code&0x07 == ClassJMP32 {
		a, b = uint64(uint32(a)), uint64(uint32(b))
		if signedJump(code) {
			a, b = uint64(int64(int32(a))), uint64(int64(int32(b)))
		}
	}
	width := 64
	if code&0x07 == ClassJMP32 {
		width = 32
	}
	switch code & 0xf0 {
	case JmpJEQ, JmpJNE:
		return uint8(width - bits.OnesCount64(a^b)), true
	}
	d := a - b
	if signedJump(code) && int64(a) < int64(b) || !signedJump(code) && a < b {
		d = b - a
	}
	return uint8(bits.LeadingZeros64(d) - (64 - width)), true
}

// pointerLike reports whether v looks like an address of the machine: a region number (the upper
// half) no larger than any machine has, above zero. (Small negative numbers have all upper bits
// set, so they do not.)
func pointerLike(v uint64) bool { return v>>regionShift != 0 && v>>regionShift < 1<<16 }

func signedJump(code uint8) bool {
	switch code & 0xf0 {
	case JmpJSGT, JmpJSGE, JmpJSLT, JmpJSLE:
		return true
	}
	return false
}

// compare records how close the comparing jump at i (in) comes, before it runs with regs.
func (pc *ProgramCoverage) compare(i int, in *op, regs *[16]uint64) {
	if in.code&0xf0 == JmpJSET || in.code == OpMayGoto {
		return
	}
	b := uint64(in.imm)
	if in.code&SrcX != 0 {
		b = regs[in.src&0xf]
	}
	a := regs[in.dst&0xf]
	n, ok := closeness(in.code, a, b)
	if !ok {
		return
	}
	if n > pc.near[i] {
		pc.near[i] = n
	}
	bits := 64
	if in.code&0x07 == ClassJMP32 {
		a, b, bits = uint64(uint32(a)), uint64(uint32(b)), 32
	}
	pc.cov.lastCmp = Comparison{Rec: pc, PC: i, Near: int(n), Bits: bits, A: a, B: b,
		Equality: in.code&0xf0 == JmpJEQ || in.code&0xf0 == JmpJNE, Signed: signedJump(in.code)}
}

// interpStep records, for the interpreter, that instruction i of the record's program is about to
// run. It returns i when it is a conditional jump (for landed), else -1.
func (pc *ProgramCoverage) interpStep(i int, regs *[16]uint64) int {
	pc.insn[i]++
	in := &pc.prog.code[i]
	if !condJump(in.code) {
		return -1
	}
	pc.compare(i, in, regs)
	return i
}

// landed records, for the interpreter, where the conditional jump at j went: to i.
func (pc *ProgramCoverage) landed(j, i int) {
	if int(pc.prog.code[j].off) == i {
		pc.taken[j]++
	}
}

// enterBlock records, for the compiled-blocks engine, an entry into block bi, coming from block
// prev (nil when the engine starts or resumes there rather than jumping).
func (pc *ProgramCoverage) enterBlock(prev *cblock, bi int32, regs *[16]uint64) {
	pc.blocks[bi]++
	if prev == nil {
		return
	}
	last := len(prev.plain) - 1
	u := &prev.plain[last]
	if u.code > 0xff || !condJump(uint8(u.code)) {
		return
	}
	i := int(prev.pcs[last])
	if u.t == bi {
		pc.taken[i]++
	}
	pc.compare(i, &pc.prog.code[i], regs)
}

// leftBlock records that block b stopped after running its first ran instructions (a fault, or the
// end of the budget): the others did not run this time.
func (pc *ProgramCoverage) leftBlock(b *cblock, ran int) {
	for _, i := range b.pcs[ran:b.n] {
		pc.cut[i]++
	}
}
