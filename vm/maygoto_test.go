package vm

import (
	"errors"
	"strings"
	"testing"
)

// mayGotoLoop counts in r0 the turns a may_goto loop makes: "l: may_goto out; r0 += 1; goto l".
func mayGotoLoop() []Instruction {
	return []Instruction{
		Make(0xb7, 0, 0, 0, 0),      // r0 = 0
		Make(OpMayGoto, 0, 0, 2, 0), // l: may_goto out
		Make(0x07, 0, 0, 0, 1),      // r0 += 1
		Make(0x05, 0, 0, -3, 0),     // goto l
		Make(OpExit, 0, 0, 0, 0),    // out: exit
	}
}

// TestMayGotoGivesEachFunctionMaxLoopsTurns: may_goto falls through MaxLoops times in a function
// and then jumps, on every engine; each call of a function starts with the whole allowance
// again, and so does each run.
func TestMayGotoGivesEachFunctionMaxLoopsTurns(t *testing.T) {
	// main: r6 = f(); r0 = f(); r0 += r6; exit. f: the loop above.
	loopInsns := mayGotoLoop()
	twoCalls := append([]Instruction{
		Make(OpCall, 0, PseudoCall, 0, 4), // call f
		Make(0xbf, 6, 0, 0, 0),            // r6 = r0
		Make(OpCall, 0, PseudoCall, 0, 2), // call f
		Make(0x0f, 0, 6, 0, 0),            // r0 += r6
		Make(OpExit, 0, 0, 0, 0),
	}, loopInsns...)
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			for run := range 2 {
				r0, err := m.Run(mustProgram(t, loopInsns, ProgramOptions{}))
				if err != nil || r0 != MaxLoops {
					t.Fatalf("run %d: r0 = %d, err %v; want %d turns", run, r0, err, MaxLoops)
				}
			}
			if r0, err := m.Run(mustProgram(t, twoCalls, ProgramOptions{})); err != nil || r0 != 2*MaxLoops {
				t.Fatalf("two calls: r0 = %d, err %v; want %d turns", r0, err, 2*MaxLoops)
			}
		})
	}
}

// TestMayGotoIsABranchForCoverage: coverage counts may_goto's two ways, and records no
// comparison for it.
func TestMayGotoIsABranchForCoverage(t *testing.T) {
	p := mustProgram(t, mayGotoLoop(), ProgramOptions{})
	for _, e := range []Engine{Interpreter, Closures} {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			cov := NewCoverage()
			m.SetCoverage(cov)
			if _, err := m.Run(p); err != nil {
				t.Fatal(err)
			}
			rec := cov.Program(p)
			if !p.IsBranch(1) || p.CompareBits(1) != 0 {
				t.Fatalf("may_goto: branch %v, compare bits %d; want a branch that compares nothing", p.IsBranch(1), p.CompareBits(1))
			}
			if taken, through := rec.Branch(1); taken != 1 || through != MaxLoops {
				t.Fatalf("may_goto jumped %d times and fell through %d; want 1 and %d", taken, through, MaxLoops)
			}
		})
	}
}

// TestMayGotoWithReservedFieldsIsRefused: only source 0, no registers, no immediate and a
// non-zero offset make a may_goto (the kernel's "invalid may_goto off %d imm %d").
func TestMayGotoWithReservedFieldsIsRefused(t *testing.T) {
	for _, in := range []Instruction{
		Make(OpMayGoto, 0, 0, 1, 7),
		Make(OpMayGoto, 1, 0, 1, 0),
		Make(OpMayGoto, 0, 1, 1, 0),
		Make(OpMayGoto, 0, 0, 0, 0),
		Make(ClassJMP32|JmpJCOND, 0, 0, 1, 0),
	} {
		_, err := NewProgram([]Instruction{in, Make(0xb7, 0, 0, 0, 0), Make(OpExit, 0, 0, 0, 0)}, ProgramOptions{})
		var le *LoadError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), "invalid may_goto off") {
			t.Errorf("%v: %v, want a load error for an invalid may_goto", in, err)
		}
	}
}
