package vm

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// traceCounts is what a trace function sees of a run, counted the way a coverage record counts:
// executions per instruction, jumps taken per conditional jump, and the closeness of equality
// tests. It is the oracle the coverage record is held to.
type traceCounts struct {
	progs map[*Program]*traceProg
	// last is the last comparing jump with operands that are no pointers.
	last string
	// lastProg and lastPC are the previous instruction, to see where a jump went.
	lastProg *Program
	lastPC   int
}

type traceProg struct {
	count, taken []uint64
	near         []uint8
}

func newTraceCounts() *traceCounts { return &traceCounts{progs: map[*Program]*traceProg{}, lastPC: -1} }

func (tc *traceCounts) of(p *Program) *traceProg {
	if tc.progs[p] == nil {
		tc.progs[p] = &traceProg{count: make([]uint64, p.Len()), taken: make([]uint64, p.Len()), near: make([]uint8, p.Len())}
	}
	return tc.progs[p]
}

// land notes that p is about to run pc (or stopped before it): a conditional jump just before it
// went there.
func (tc *traceCounts) land(p *Program, pc int) {
	if lp := tc.lastProg; lp != nil && lp == p {
		in := lp.insns[tc.lastPC]
		if condJump(in.Op) && pc == tc.lastPC+int(in.Off)+1 {
			tc.of(lp).taken[tc.lastPC]++
		}
	}
	tc.lastProg, tc.lastPC = nil, -1
}

func (tc *traceCounts) step(p *Program, pc int, regs *[11]uint64) {
	tc.land(p, pc)
	tp := tc.of(p)
	tp.count[pc]++
	if in := p.insns[pc]; condJump(in.Op) && in.Op&0xf0 != JmpJSET {
		b := uint64(int64(in.Imm))
		if in.Op&SrcX != 0 {
			b = regs[in.Src()]
		}
		if n, ok := slowCloseness(in.Op, regs[in.Dst()], b); ok {
			tp.near[pc] = max(tp.near[pc], n)
			a := regs[in.Dst()]
			if in.Class() == ClassJMP32 {
				a, b = a&0xffffffff, b&0xffffffff
			}
			eq := in.Op&0xf0 == JmpJEQ || in.Op&0xf0 == JmpJNE
			tc.last = fmt.Sprintf("last comparison: %s %d %d %#x %#x %v\n", p.Name(), pc, n, a, b, eq)
		}
	}
	tc.lastProg, tc.lastPC = p, pc
}

// dump writes the counts out as dumpCoverage does, programs in name order.
func (tc *traceCounts) dump() string {
	var b strings.Builder
	for _, p := range byName(tc.progs) {
		tp := tc.progs[p]
		var line strings.Builder
		ran := false
		for i := range tp.count {
			if tp.count[i] != 0 {
				fmt.Fprintf(&line, " %d×%d", i, tp.count[i])
				ran = true
			}
			in := p.insns[i]
			if condJump(in.Op) && (i == 0 || p.insns[i-1].Op != OpLdImm64) {
				fmt.Fprintf(&line, " [%d:%d/%d]", i, tp.taken[i], tp.count[i]-tp.taken[i])
			}
			if tp.near[i] != 0 {
				width := 64
				if in.Class() == ClassJMP32 {
					width = 32
				}
				fmt.Fprintf(&line, " {%d:%d/%d}", i, tp.near[i], width)
			}
		}
		if ran {
			fmt.Fprintf(&b, "%s:%s\n", p.Name(), line.String())
		}
	}
	return b.String() + tc.last
}

// slowCloseness is closeness the slow way, with big integers and bit by bit.
func slowCloseness(code uint8, a, b uint64) (uint8, bool) {
	width := 64
	if code&0x07 == ClassJMP32 {
		width = 32
	}
	bit := func(v uint64, i int) uint64 { return v >> i & 1 }
	if ptr := func(v uint64) bool { return v>>32 != 0 && v>>32 < 1<<16 }; width == 64 && (ptr(a) || ptr(b)) {
		return 0, false // pointers
	}
	if code&0xf0 == JmpJEQ || code&0xf0 == JmpJNE {
		n := 0
		for i := range width {
			if bit(a, i) == bit(b, i) {
				n++
			}
		}
		return uint8(n), true
	}
	value := func(v uint64) *big.Int {
		if width == 32 {
			v &= 0xffffffff
		}
		x := new(big.Int).SetUint64(v)
		if signed := code&0xf0 == JmpJSGT || code&0xf0 == JmpJSGE || code&0xf0 == JmpJSLT || code&0xf0 == JmpJSLE; signed && bit(v, width-1) == 1 {
			x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(width)))
		}
		return x
	}
	d := new(big.Int).Sub(value(a), value(b))
	d.Abs(d)
	return uint8(width - d.BitLen()), true
}

func byName[V any](m map[*Program]V) []*Program {
	var out []*Program
	for p := range m {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b *Program) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// dumpSorted writes a coverage record out as dumpCoverage does, programs in name order.
func dumpSorted(c *Coverage) string {
	var b strings.Builder
	for _, p := range byName(c.progs) {
		one := &Coverage{progs: map[*Program]*ProgramCoverage{p: c.progs[p]}, order: []*ProgramCoverage{c.progs[p]}}
		b.WriteString(dumpCoverage(one))
	}
	if cmp, ok := c.LastComparison(); ok {
		fmt.Fprintf(&b, "last comparison: %s %d %d %#x %#x %v\n", cmp.Rec.Prog().Name(), cmp.PC, cmp.Near, cmp.A, cmp.B, cmp.Equality)
	}
	return b.String()
}

// TestCoverageCountsWhatATraceSees runs the reference programs and random programs (with calls,
// callbacks, tail calls, faults and budgets that run out) on the interpreter with a trace function
// and a coverage record: the record must count exactly what the trace saw. (The closure engine is
// held to the interpreter's record by every test that uses agree.)
func TestCoverageCountsWhatATraceSees(t *testing.T) {
	var scenarios []scenario
	scenarios = append(scenarios, simple(byteSum(), nil))
	rng := rand.New(rand.NewPCG(5, 6))
	for len(scenarios) < 400 {
		insns := randomProgram(rng)
		if _, err := NewProgram(insns, ProgramOptions{Helpers: callHelpers(new(*Program), nil)(nil)}); err != nil {
			continue
		}
		scenarios = append(scenarios, callScenario(insns, false, nil, rng.Uint64(), uint64(rng.IntN(40))))
	}
	for i, s := range scenarios {
		for _, budget := range []uint64{3, 17, 2000} {
			p, m, args := s(&recorder{}, Interpreter)
			m.SetBudget(budget)
			tc := newTraceCounts()
			m.SetTrace(tc.step)
			cov := NewCoverage()
			m.SetCoverage(cov)
			_, err := m.Run(p, args...)
			if _, ok := err.(*BudgetError); ok {
				// The budget ran out before the instruction at PC: a jump just before it still went there.
				tc.land(m.Program(), m.PC())
			}
			if got, want := dumpSorted(cov), tc.dump(); got != want {
				t.Fatalf("scenario %d, budget %d (%v): coverage record\n%s\ntrace\n%s", i, budget, err, got, want)
			}
		}
	}
}

func TestCoverageNear(t *testing.T) {
	// r1 is compared with 0x64636261 (or -2 for the signed tests).
	tests := []struct {
		name string
		op   uint8
		imm  int32
		r1   uint64
		near int
		bits int
	}{
		{"an equality test counts the agreeing bits", 0x15, 0x64636261, 0x64636260, 63, 64},
		{"agreeing bits anywhere count", 0x15, 0x64636261, 0x00ff6261, 64 - 7, 64},
		{"a pointer has no closeness", 0x15, 0x64636261, 0x00000004_64636261, 0, 64},
		{"equal values agree in all 64 bits", 0x55, 0x64636261, 0x64636261, 64, 64},
		{"a 32-bit equality test looks at 32 bits", 0x16, 0x64636261, 0xffffffff_64636263, 31, 32},
		{"an ordering test counts the leading zeros of the difference", 0x25, 0x64636261, 0x64636261 + 5, 61, 64},
		{"below the bound or above, the distance counts", 0xa5, 0x64636261, 0x64636261 - 300, 55, 64},
		{"a signed test takes the signed distance", 0xc5, -2, 3, 61, 64},
		{"a signed 32-bit test too", 0xc6, -2, 0xffffffff_fffffffd, 31, 32},
		{"an unsigned 32-bit test ignores the upper half", 0xb6, 0x64636261, 0xff000000_64636262, 31, 32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := slowCloseness(tt.op, tt.r1, uint64(int64(tt.imm))); int(got) != tt.near {
				t.Fatalf("the test's own oracle says %d, want %d", got, tt.near)
			}
			for _, e := range Engines() {
				p := mustProgram(t, []Instruction{
					Make(0xb7, 0, 0, 0, 0),
					Make(tt.op, 1, 0, 1, tt.imm),
					Make(0xb7, 0, 0, 0, 1),
					exit(),
				}, ProgramOptions{})
				m := NewMachine(e)
				cov := NewCoverage()
				m.SetCoverage(cov)
				if _, err := m.Run(p, tt.r1); err != nil {
					t.Fatal(err)
				}
				near, bits := cov.Program(p).Near(1)
				if near != tt.near || bits != tt.bits {
					t.Errorf("%s: Near = %d of %d, want %d of %d", e.Name(), near, bits, tt.near, tt.bits)
				}
				if n, b := cov.Program(p).Near(0); n != 0 || b != 0 {
					t.Errorf("%s: Near of a mov = %d of %d, want 0 of 0", e.Name(), n, b)
				}
			}
		})
	}
}

func TestCoverageResetMergeAndCosts(t *testing.T) {
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			p := mustProgram(t, byteSum(), ProgramOptions{Name: "bytesum"})
			m := NewMachine(e)
			buf := []byte{1, 2, 3, 4}
			id := m.AddRegion(NewRegion("memory", buf, false))
			cov := NewCoverage()
			m.SetCoverage(cov)
			for range 3 {
				if _, err := m.Run(p, Address(id, 0), uint64(len(buf))); err != nil {
					t.Fatal(err)
				}
			}
			pc := cov.Program(p)
			// The loop body (pc 3..6) runs 4 times per run, the jump at 6 jumps back 3 of them.
			if got := pc.Count(3); got != 12 {
				t.Errorf("the loop's first instruction ran %d times, want 12", got)
			}
			if taken, fell := pc.Branch(6); taken != 9 || fell != 3 {
				t.Errorf("the loop's jump: taken %d, fell through %d; want 9 and 3", taken, fell)
			}
			if taken, fell := pc.Branch(2); taken != 0 || fell != 3 {
				t.Errorf("the entry test: taken %d, fell through %d; want 0 and 3", taken, fell)
			}
			if got := pc.Count(8); got != 3 {
				t.Errorf("the exit ran %d times, want 3", got)
			}
			other := NewCoverage()
			other.Merge(cov)
			other.Merge(cov)
			if got := other.Program(p).Count(3); got != 24 {
				t.Errorf("merged twice: %d, want 24", got)
			}
			cov.Reset()
			if got := pc.Count(3); got != 0 {
				t.Errorf("after Reset: %d, want 0", got)
			}
			if allocs := testing.AllocsPerRun(100, func() {
				cov.Reset()
				if _, err := m.Run(p, Address(id, 0), uint64(len(buf))); err != nil {
					t.Fatal(err)
				}
			}); allocs != 0 {
				t.Errorf("%v allocations per run with a coverage record, want 0", allocs)
			}
			if got := pc.Count(3); got != 4 {
				t.Errorf("after Reset and a run: %d, want 4", got)
			}
			m.SetCoverage(nil)
			if _, err := m.Run(p, Address(id, 0), uint64(len(buf))); err != nil {
				t.Fatal(err)
			}
			if got := pc.Count(3); got != 4 {
				t.Errorf("a run without the record counted into it: %d, want 4", got)
			}
		})
	}
}

// TestTheJITHandsCoverageToAnEngineThatRecordsIt: native code records no coverage, so while a
// machine has a coverage record the JIT engine must run the program on the compiled-blocks
// engine, whose record is the interpreter's; once the record is taken away it runs native code
// again.
func TestTheJITHandsCoverageToAnEngineThatRecordsIt(t *testing.T) {
	run := func(e Engine, cov *Coverage) *Program {
		t.Helper()
		p := mustProgram(t, byteSum(), ProgramOptions{})
		m := NewMachine(e)
		id := m.AddRegion(NewRegion("memory", []byte{1, 2, 3}, false))
		m.SetCoverage(cov)
		if r0, err := m.Run(p, Address(id, 0), 3); err != nil || r0 != 6 {
			t.Fatalf("%s: r0 %d, %v; want 6", e.Name(), r0, err)
		}
		return p
	}
	want := NewCoverage()
	run(Interpreter, want)
	// The loop body (instruction 3) ran once per byte; its closing jump (6) was taken twice and
	// fell through once.
	if pc := want.Programs()[0]; pc.Count(3) != 3 || func() bool { taken, fell := pc.Branch(6); return taken != 2 || fell != 1 }() {
		t.Fatalf("the interpreter's record is not what the program did:\n%s", dumpCoverage(want))
	}
	t.Run("with a coverage record, the JIT runs the compiled-blocks engine and records what the interpreter records", func(t *testing.T) {
		got := NewCoverage()
		p := run(JIT, got)
		if g, w := dumpCoverage(got), dumpCoverage(want); g != w {
			t.Fatalf("jit recorded\n%s\ninterpreter recorded\n%s", g, w)
		}
		if p.native.code.Load() != nil {
			t.Error("the JIT compiled native code for a run with a coverage record")
		}
		if c, ok := p.compiled.(*closureCache); !ok || c.cp.Load() == nil {
			t.Error("the compiled-blocks engine did not run the program")
		}
	})
	t.Run("without a coverage record, the JIT runs native code again", func(t *testing.T) {
		if !JITNative() {
			t.Skip("the JIT runs the interpreter on this platform")
		}
		p := mustProgram(t, byteSum(), ProgramOptions{})
		m := NewMachine(JIT)
		id := m.AddRegion(NewRegion("memory", []byte{1, 2, 3}, false))
		cov := NewCoverage()
		m.SetCoverage(cov)
		if _, err := m.Run(p, Address(id, 0), 3); err != nil {
			t.Fatal(err)
		}
		m.SetCoverage(nil)
		if r0, err := m.Run(p, Address(id, 0), 3); err != nil || r0 != 6 {
			t.Fatalf("r0 %d, %v; want 6", r0, err)
		}
		if p.native.code.Load() == nil {
			t.Error("the JIT did not compile native code once the coverage record was gone")
		}
		if progs := cov.Programs(); len(progs) != 1 || progs[0].Count(3) != 3 {
			t.Errorf("the record is not the first run's alone (3 runs of the loop body):\n%s", dumpCoverage(cov))
		}
	})
}
