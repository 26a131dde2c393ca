package vm

import (
	"errors"
	"testing"
)

func mustProgram(t *testing.T, insns []Instruction, opts ProgramOptions) *Program {
	t.Helper()
	p, err := NewProgram(insns, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestMemoryFaults(t *testing.T) {
	buf := make([]byte, 16)
	tests := []struct {
		name   string
		insns  []Instruction
		access string
		size   int
		region string
	}{
		{"a load past the end of a region faults", []Instruction{
			Make(0x61, 0, 1, 13, 0), Make(0x95, 0, 0, 0, 0)}, "load", 4, "memory"},
		{"a load below the start of a region faults", []Instruction{
			Make(0x71, 0, 1, -1, 0), Make(0x95, 0, 0, 0, 0)}, "load", 1, "memory"},
		{"a store through a null pointer faults", []Instruction{
			Make(0xb7, 2, 0, 0, 0), Make(0x7a, 2, 0, 0, 1), Make(0x95, 0, 0, 0, 0)}, "store", 8, ""},
		{"a store to a read-only region faults", []Instruction{
			Make(0x72, 3, 0, 0, 1), Make(0x95, 0, 0, 0, 0)}, "store", 1, "rodata"},
		{"an atomic add past the end faults", []Instruction{
			Make(0xdb, 1, 0, 12, AtomicAdd), Make(0x95, 0, 0, 0, 0)}, "atomic", 8, "memory"},
		{"a stack access below the deepest frame faults", []Instruction{
			Make(0x79, 0, 10, -(MaxFrames*StackSize + 8), 0), Make(0x95, 0, 0, 0, 0)}, "load", 8, "stack"},
		{"a stack access above the frame pointer faults", []Instruction{
			Make(0x79, 0, 10, 0, 0), Make(0x95, 0, 0, 0, 0)}, "load", 8, "stack"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMachine(nil)
			id := m.AddRegion(NewRegion("memory", buf, false))
			ro := m.AddRegion(NewRegion("rodata", make([]byte, 4), true))
			p := mustProgram(t, tt.insns, ProgramOptions{Lines: func(pc int) string { return "prog.c:7" }})
			m.regs[3] = Address(ro, 0)
			_, err := m.Run(p, Address(id, 0), 0, Address(ro, 0))
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("got %v, want a *Fault", err)
			}
			if f.Access != tt.access || f.Size != tt.size || f.Region != tt.region {
				t.Errorf("fault = %+v, want %s of %d bytes in %q", f, tt.access, tt.size, tt.region)
			}
			if f.Line != "prog.c:7" {
				t.Errorf("fault line = %q, want the source line", f.Line)
			}
		})
	}
}

func TestMovingWindow(t *testing.T) {
	t.Run("a pointer taken before the window moves keeps its meaning", func(t *testing.T) {
		m := NewMachine(nil)
		buf := []byte{1, 2, 3, 4, 5, 6, 7, 8}
		id := m.AddRegion(Region{Data: buf, Lo: 2, Hi: 6, Name: "packet"})
		p := mustProgram(t, []Instruction{Make(0x71, 0, 1, 0, 0), Make(0x95, 0, 0, 0, 0)}, ProgramOptions{})
		if r0, err := m.Run(p, Address(id, 5)); err != nil || r0 != 6 {
			t.Fatalf("r0 = %d, err = %v; want 6", r0, err)
		}
		m.SetWindow(id, 2, 5)
		if _, err := m.Run(p, Address(id, 5)); err == nil {
			t.Fatal("a load outside the shrunk window succeeded")
		}
	})
}

func TestBudget(t *testing.T) {
	t.Run("an endless loop ends with a budget error", func(t *testing.T) {
		m := NewMachine(nil)
		m.SetBudget(1000)
		p := mustProgram(t, []Instruction{Make(0x05, 0, 0, -1, 0), Make(0x95, 0, 0, 0, 0)}, ProgramOptions{})
		_, err := m.Run(p)
		var be *BudgetError
		if !errors.As(err, &be) || !errors.Is(err, ErrBudget) {
			t.Fatalf("got %v, want a budget error", err)
		}
		if m.Executed() != 1000 {
			t.Errorf("executed %d, want 1000", m.Executed())
		}
	})
}

// callChain makes a program that calls itself recursively depth times.
func TestCallDepth(t *testing.T) {
	// r1 counts down; each level calls the next while r1 > 0.
	insns := []Instruction{
		Make(0x15, 1, 0, 2, 0),           // 0: if r1 == 0 goto 3
		Make(0x07, 1, 0, 0, -1),          // 1: r1 -= 1
		Make(0x85, 0, PseudoCall, 0, -3), // 2: call 0
		Make(0xb7, 0, 0, 0, 7),           // 3: r0 = 7
		Make(0x95, 0, 0, 0, 0),           // 4: exit
	}
	p := mustProgram(t, insns, ProgramOptions{})
	t.Run("eight frames are allowed", func(t *testing.T) {
		m := NewMachine(nil)
		if r0, err := m.Run(p, MaxFrames-1); err != nil || r0 != 7 {
			t.Fatalf("r0 = %d, err = %v", r0, err)
		}
	})
	t.Run("a ninth frame is an error", func(t *testing.T) {
		m := NewMachine(nil)
		_, err := m.Run(p, MaxFrames)
		if !errors.Is(err, ErrCallDepth) {
			t.Fatalf("got %v, want ErrCallDepth", err)
		}
	})
}

func TestEachFrameHasItsOwnStack(t *testing.T) {
	insns := []Instruction{
		Make(0x7a, 10, 0, -8, 11),       // 0: *(u64 *)(r10 - 8) = 11
		Make(0x85, 0, PseudoCall, 0, 2), // 1: call 4
		Make(0x79, 0, 10, -8, 0),        // 2: r0 = *(u64 *)(r10 - 8)
		Make(0x95, 0, 0, 0, 0),          // 3: exit
		Make(0x7a, 10, 0, -8, 22),       // 4: *(u64 *)(r10 - 8) = 22
		Make(0x95, 0, 0, 0, 0),          // 5: exit
	}
	m := NewMachine(nil)
	if r0, err := m.Run(mustProgram(t, insns, ProgramOptions{})); err != nil || r0 != 11 {
		t.Fatalf("r0 = %d, err = %v; the callee overwrote its caller's stack", r0, err)
	}
}

func TestTailCalls(t *testing.T) {
	// The program counts its runs in r... memory at r1 and tail calls itself; the chain stops
	// after MaxTailCalls tail calls and falls through.
	var self *Program
	helpers := map[int32]Helper{12: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		if m.TailCall(self) {
			return 0, nil
		}
		return ^uint64(0), nil // the kernel's bpf_tail_call returns a negative error on failure
	}}
	insns := []Instruction{
		Make(0xb7, 2, 0, 0, 1),
		Make(0xdb, 1, 2, 0, AtomicAdd), // lock *(u64 *)(r1 + 0) += r2
		Make(0x85, 0, 0, 0, 12),        // call tail_call
		Make(0xb7, 0, 0, 0, 2),
		Make(0x95, 0, 0, 0, 0),
	}
	self = mustProgram(t, insns, ProgramOptions{Helpers: helpers})
	m := NewMachine(nil)
	buf := make([]byte, 8)
	id := m.AddRegion(NewRegion("counter", buf, false))
	r0, err := m.Run(self, Address(id, 0))
	if err != nil || r0 != 2 {
		t.Fatalf("r0 = %d, err = %v", r0, err)
	}
	if got := le.Uint64(buf); got != MaxTailCalls+1 {
		t.Errorf("program ran %d times, want %d (one run and %d tail calls)", got, MaxTailCalls+1, MaxTailCalls)
	}
}

func TestCallback(t *testing.T) {
	// A helper calls the function whose address r1 holds three times with 1, 2, 3 and sums.
	helpers := map[int32]Helper{181: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
		var sum uint64
		for i := uint64(1); i <= 3; i++ {
			r, err := m.Callback(r1, i, r2)
			if err != nil {
				return 0, err
			}
			sum += r
		}
		return sum, nil
	}}
	insns := []Instruction{
		Make(0xb7, 6, 0, 0, 100),        // 0: r6 = 100 (callee-saved, must survive)
		Make(0x18, 1, PseudoFunc, 0, 6), // 1: r1 = &callback (pc 8)
		Make(0, 0, 0, 0, 0),             // 2
		Make(0xb7, 2, 0, 0, 10),         // 3: r2 = 10
		Make(0x85, 0, 0, 0, 181),        // 4: call
		Make(0x0f, 0, 6, 0, 0),          // 5: r0 += r6
		Make(0x95, 0, 0, 0, 0),          // 6: exit
		Make(0x95, 0, 0, 0, 0),          // 7: (padding)
		Make(0xbf, 0, 1, 0, 0),          // 8: callback: r0 = r1
		Make(0x2f, 0, 2, 0, 0),          // 9: r0 *= r2
		Make(0xb7, 6, 0, 0, 0),          // 10: r6 = 0
		Make(0x95, 0, 0, 0, 0),          // 11: exit
	}
	m := NewMachine(nil)
	r0, err := m.Run(mustProgram(t, insns, ProgramOptions{Helpers: helpers}))
	if err != nil || r0 != 10+20+30+100 {
		t.Fatalf("r0 = %d, err = %v; want 160", r0, err)
	}
}

func TestPrepareRejects(t *testing.T) {
	tests := []struct {
		name  string
		insns []Instruction
	}{
		{"an empty program", nil},
		{"an unknown opcode", []Instruction{Make(0xff, 0, 0, 0, 0), Make(0x95, 0, 0, 0, 0)}},
		{"a register above r10", []Instruction{Make(0xb7, 11, 0, 0, 0), Make(0x95, 0, 0, 0, 0)}},
		{"a write to the frame pointer", []Instruction{Make(0xb7, 10, 0, 0, 0), Make(0x95, 0, 0, 0, 0)}},
		{"a jump past the end", []Instruction{Make(0x05, 0, 0, 5, 0), Make(0x95, 0, 0, 0, 0)}},
		{"a jump into the middle of lddw", []Instruction{Make(0x05, 0, 0, 1, 0), Make(0x18, 0, 0, 0, 1), Make(0, 0, 0, 0, 0), Make(0x95, 0, 0, 0, 0)}},
		{"a program that runs off its end", []Instruction{Make(0xb7, 0, 0, 0, 0)}},
		{"a truncated lddw", []Instruction{Make(0x95, 0, 0, 0, 0), Make(0x18, 0, 0, 0, 1)}},
		{"a call to a helper the host lacks", []Instruction{Make(0x85, 0, 0, 0, 1), Make(0x95, 0, 0, 0, 0)}},
		{"a legacy packet load", []Instruction{Make(0x30, 0, 0, 0, 1), Make(0x95, 0, 0, 0, 0)}},
		{"an unknown atomic operation", []Instruction{Make(0xdb, 10, 1, -8, 0x10), Make(0x95, 0, 0, 0, 0)}},
		{"a 64-bit sign-extending load", []Instruction{Make(0x99, 0, 1, 0, 0), Make(0x95, 0, 0, 0, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is rejected", func(t *testing.T) {
			_, err := NewProgram(tt.insns, ProgramOptions{})
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LoadError", err)
			}
		})
	}
}

func TestSteadyStateRunsDoNotAllocate(t *testing.T) {
	m := NewMachine(nil)
	buf := make([]byte, 64)
	id := m.AddRegion(NewRegion("memory", buf, false))
	p := mustProgram(t, byteSum(), ProgramOptions{})
	allocs := testing.AllocsPerRun(100, func() {
		if _, err := m.Run(p, Address(id, 0), 64); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run, want 0", allocs)
	}
}

func TestEveryRunStartsWithAZeroedStack(t *testing.T) {
	// The first run writes into its own frame and a callee's; the second run reads both slots back.
	insns := []Instruction{
		Make(0x15, 1, 0, 4, 0),             // 0: if r1 == 0 goto 5 (the reading run)
		Make(0x7a, 10, 0, -8, 7),           // 1: *(u64 *)(r10 - 8) = 7
		Make(0x85, 0, PseudoCall, 0, 6),    // 2: call 9
		Make(0xb7, 0, 0, 0, 0),             // 3: r0 = 0
		Make(0x95, 0, 0, 0, 0),             // 4: exit
		Make(0x79, 0, 10, -8, 0),           // 5: r0 = *(u64 *)(r10 - 8)
		Make(0x79, 2, 10, -StackSize-8, 0), // 6: r2 = the callee's slot
		Make(0x0f, 0, 2, 0, 0),             // 7: r0 += r2
		Make(0x95, 0, 0, 0, 0),             // 8: exit
		Make(0x7a, 10, 0, -8, 9),           // 9: callee: *(u64 *)(r10 - 8) = 9
		Make(0x95, 0, 0, 0, 0),             // 10: exit
	}
	m := NewMachine(nil)
	p := mustProgram(t, insns, ProgramOptions{})
	if _, err := m.Run(p, 1); err != nil {
		t.Fatal(err)
	}
	if r0, err := m.Run(p, 0); err != nil || r0 != 0 {
		t.Fatalf("r0 = %d, err = %v; the second run saw the first run's stack", r0, err)
	}
}
