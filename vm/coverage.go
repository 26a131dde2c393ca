package vm

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
	// near holds, at the pc of each jeq/jne (and their 32-bit forms), the most low-order bytes in
	// which the compared values agreed, over the runs since the last Reset.
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
		pc = &ProgramCoverage{prog: p, insn: make([]uint64, n), cut: make([]uint64, n), taken: make([]uint64, n), near: make([]uint8, n)}
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
func (pc *ProgramCoverage) IsBranch(i int) bool { return condJump(pc.prog.code[i].code) }

// Branch returns, for the conditional jump at i, how often it jumped and how often it fell
// through. A jump whose target is the next instruction counts as jumping.
func (pc *ProgramCoverage) Branch(i int) (taken, fallthrough_ uint64) {
	n := pc.Count(i)
	return pc.taken[i], n - pc.taken[i]
}

// Near returns, for the equality test (jeq, jne) at i, the most low-order bytes in which its
// operands agreed when it ran, out of width (8, or 4 for the 32-bit forms); 0 for other
// instructions or when it never ran. A fuzzer rewards inputs that bring it closer, so that a
// multi-byte comparison can be met a byte at a time.
func (pc *ProgramCoverage) Near(i int) (agree, width int) {
	code := pc.prog.code[i].code
	if !eqJump(code) {
		return 0, 0
	}
	width = 8
	if code&0x07 == ClassJMP32 {
		width = 4
	}
	return int(pc.near[i]), width
}

// eqJump reports whether code is jeq or jne, 64 or 32 bit, with an immediate or a register.
func eqJump(code uint8) bool {
	switch code {
	case 0x15, 0x1d, 0x55, 0x5d, 0x16, 0x1e, 0x56, 0x5e:
		return true
	}
	return false
}

// agreeing counts the low-order bytes, up to width, in which a and b agree, from the lowest up to
// the first that differs.
func agreeing(a, b uint64, width int) uint8 {
	x := a ^ b
	n := uint8(0)
	for ; n < uint8(width) && x&0xff == 0; n++ {
		x >>= 8
	}
	return n
}

// compare records how close the equality test at pc came, before it runs with regs.
func (pc *ProgramCoverage) compare(i int, in *op, regs *[16]uint64) {
	b := uint64(in.imm)
	if in.code&SrcX != 0 {
		b = regs[in.src&0xf]
	}
	width := 8
	if in.code&0x07 == ClassJMP32 {
		width = 4
	}
	if n := agreeing(regs[in.dst&0xf], b, width); n > pc.near[i] {
		pc.near[i] = n
	}
}

// interpStep records, for the interpreter, that instruction i of the record's program is about to
// run. It returns i when it is a conditional jump (for landed), else -1.
func (pc *ProgramCoverage) interpStep(i int, regs *[16]uint64) int {
	pc.insn[i]++
	in := &pc.prog.code[i]
	if !condJump(in.code) {
		return -1
	}
	if eqJump(in.code) {
		pc.compare(i, in, regs)
	}
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
	if eqJump(uint8(u.code)) {
		pc.compare(i, &pc.prog.code[i], regs)
	}
}

// leftBlock records that block b stopped after running its first ran instructions (a fault, or the
// end of the budget): the others did not run this time.
func (pc *ProgramCoverage) leftBlock(b *cblock, ran int) {
	for _, i := range b.pcs[ran:b.n] {
		pc.cut[i]++
	}
}
