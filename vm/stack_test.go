package vm

import "testing"

// Opcodes the stack tests spell out.
const (
	opStDW   = ClassST | ModeMEM | SizeDW
	opStW    = ClassST | ModeMEM | SizeW
	opStxDW  = ClassSTX | ModeMEM | SizeDW
	opStxW   = ClassSTX | ModeMEM | SizeW
	opLdxDW  = ClassLDX | ModeMEM | SizeDW
	opLdxW   = ClassLDX | ModeMEM | SizeW
	opMovReg = ClassALU64 | AluMov | SrcX
	opMovImm = ClassALU64 | AluMov | SrcK
	opAddImm = ClassALU64 | AluAdd | SrcK
	opAddReg = ClassALU64 | AluAdd | SrcX
	opJeqImm = ClassJMP | JmpJEQ | SrcK
	opJa     = ClassJMP | JmpJA
)

func TestStackUse(t *testing.T) {
	helper := func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) { return 0, nil }
	opts := ProgramOptions{Helpers: map[int32]Helper{1: helper}}
	ret0 := Make(opMovImm, 0, 0, 0, 0)
	tests := []struct {
		name  string
		insns []Instruction
		want  int
	}{
		{"a program that never writes its stack uses none of it", []Instruction{ret0, exit()}, 0},
		{"a 4-byte store at fp-4 uses 8 bytes", []Instruction{Make(opStW, 10, 0, -4, 7), ret0, exit()}, 8},
		{"a store through a copy of the frame pointer counts where it lands", []Instruction{
			Make(opMovReg, 1, 10, 0, 0), Make(opAddImm, 1, 0, 0, -40), Make(opStW, 1, 0, 8, 1), ret0, exit()}, 32},
		{"the deepest of two branches counts", []Instruction{
			Make(opJeqImm, 1, 0, 2, 0), Make(opStDW, 10, 0, -8, 1), Make(opJa, 0, 0, 1, 0), Make(opStDW, 10, 0, -200, 1), ret0, exit()}, 200},
		{"a helper given a pointer into the frame may write from it up", []Instruction{
			Make(opMovReg, 2, 10, 0, 0), Make(opAddImm, 2, 0, 0, -64), Make(OpCall, 0, 0, 0, 1), ret0, exit()}, 64},
		{"a frame pointer spilled and reloaded is followed", []Instruction{
			Make(opMovReg, 1, 10, 0, 0), Make(opAddImm, 1, 0, 0, -48), Make(opStxDW, 10, 1, -8, 0),
			Make(opMovImm, 1, 0, 0, 0), Make(opLdxDW, 3, 10, -8, 0), Make(opStW, 3, 0, 0, 1), ret0, exit()}, 48},
		{"a store at an offset the analysis cannot know uses the whole frame", []Instruction{
			Make(opMovReg, 3, 10, 0, 0), Make(opAddReg, 3, 1, 0, 0), Make(opStW, 3, 0, -8, 1), ret0, exit()}, StackSize},
		{"two frame pointers of different offsets merge into the lower", []Instruction{
			Make(opMovReg, 3, 10, 0, 0), Make(opAddImm, 3, 0, 0, -8), Make(opJeqImm, 1, 0, 1, 0), Make(opAddImm, 3, 0, 0, -8),
			Make(opStW, 3, 0, 0, 1), ret0, exit()}, 16},
		{"a frame pointer merged with a number still counts where it may land", []Instruction{
			Make(opMovImm, 3, 0, 0, 0), Make(opJeqImm, 1, 0, 2, 0), Make(opMovReg, 3, 10, 0, 0), Make(opAddImm, 3, 0, 0, -24),
			Make(opStW, 3, 0, 0, 1), ret0, exit()}, 24},
		{"a pointer walking down the frame in a loop gives up", []Instruction{
			Make(opMovReg, 3, 10, 0, 0), Make(opAddImm, 3, 0, 0, -8), Make(opStW, 3, 0, 0, 1), Make(opJeqImm, 1, 0, -3, 0), ret0, exit()}, StackSize},
		{"a frame pointer stored through a pointer of inexact offset gives up", []Instruction{
			Make(opMovReg, 3, 10, 0, 0), Make(opAddImm, 3, 0, 0, -8), Make(opJeqImm, 1, 0, 1, 0), Make(opAddImm, 3, 0, 0, -8),
			Make(opStxDW, 3, 10, 0, 0), ret0, exit()}, StackSize},
		{"a frame pointer stored outside the frame gives up", []Instruction{
			Make(opMovReg, 3, 10, 0, 0), Make(opStxDW, 1, 3, 0, 0), ret0, exit()}, StackSize},
		{"a frame pointer stored in halves gives up", []Instruction{
			Make(opMovReg, 3, 10, 0, 0), Make(opStxW, 10, 3, -8, 0), ret0, exit()}, StackSize},
		{"a constant that names the stack region gives up", []Instruction{
			Make(OpLdImm64, 1, 0, 0, 0x100), Make(0, 0, 0, 0, RegionStack), Make(opStW, 1, 0, 0, 1), ret0, exit()}, StackSize},
		{"a subprogram's own stores count", []Instruction{
			Make(OpCall, 0, PseudoCall, 0, 1), exit(), Make(opStDW, 10, 0, -96, 1), ret0, exit()}, 96},
		{"what a callee returns after taking a frame pointer may point into the frame", []Instruction{
			Make(opMovReg, 1, 10, 0, 0), Make(opAddImm, 1, 0, 0, -8), Make(OpCall, 0, PseudoCall, 0, 2), Make(opStW, 0, 0, -100, 1), exit(),
			Make(opMovReg, 0, 1, 0, 0), exit()}, StackSize},
		{"a slot a callee may have written yields a pointer of unknown offset", []Instruction{
			Make(opMovReg, 1, 10, 0, 0), Make(opAddImm, 1, 0, 0, -8), Make(OpCall, 0, PseudoCall, 0, 4), Make(opLdxDW, 2, 10, -16, 0), Make(opStW, 2, 0, 0, 1), ret0, exit(),
			ret0, exit()}, StackSize},
		{"a 4-byte load from a slot is never a pointer", []Instruction{
			Make(opMovReg, 1, 10, 0, 0), Make(opStxDW, 10, 1, -8, 0), Make(opLdxW, 2, 10, -8, 0), Make(opStW, 2, 0, 0, 1), ret0, exit()}, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustProgram(t, tt.insns, opts)
			if p.stackUse != tt.want {
				t.Errorf("stack use %d bytes, want %d", p.stackUse, tt.want)
			}
		})
	}
}

// TestRunsDoNotSeeEarlierStacks holds the machine to starting every run from a zeroed stack,
// although it zeroes only what the analysis says the programs write: a run that reads a slot it
// did not write reads zero after a run that wrote it, in the entry frame, in a callee's frame, and
// after a tail call to a program that writes deeper than the caller.
func TestRunsDoNotSeeEarlierStacks(t *testing.T) {
	// r1 == 1: write 0x55 at fp-200 (of the entry frame, or of a callee's); otherwise return it.
	entry := []Instruction{
		Make(opJeqImm, 1, 0, 2, 1),
		Make(opLdxDW, 0, 10, -200, 0),
		exit(),
		Make(opStDW, 10, 0, -200, 0x55),
		Make(opMovImm, 0, 0, 0, 0),
		exit(),
	}
	callee := []Instruction{
		Make(OpCall, 0, PseudoCall, 0, 1),
		exit(),
		Make(opJeqImm, 1, 0, 2, 1),
		Make(opLdxDW, 0, 10, -200, 0),
		exit(),
		Make(opStDW, 10, 0, -200, 0x55),
		Make(opMovImm, 0, 0, 0, 0),
		exit(),
	}
	for _, tt := range []struct {
		name  string
		insns []Instruction
	}{
		{"in the entry frame", entry},
		{"in a callee's frame", callee},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range Engines() {
				p := mustProgram(t, tt.insns, ProgramOptions{})
				m := NewMachine(e)
				for i, arg := range []uint64{1, 0, 1, 1, 0} {
					r0, err := m.Run(p, arg)
					if err != nil {
						t.Fatal(err)
					}
					if r0 != 0 {
						t.Errorf("%s: run %d read %#x from a slot only earlier runs wrote", e.Name(), i+1, r0)
					}
				}
			}
		})
	}
	t.Run("after a tail call to a program that writes deeper", func(t *testing.T) {
		// The tail-called program writes fp-300; the caller, on the next run, reads it.
		deep := mustProgram(t, []Instruction{Make(opStDW, 10, 0, -300, 0x66), Make(opMovImm, 0, 0, 0, 0), exit()}, ProgramOptions{})
		tail := func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			m.TailCall(deep)
			return 0, nil
		}
		caller := mustProgram(t, []Instruction{
			Make(opJeqImm, 1, 0, 2, 1),
			Make(opLdxDW, 0, 10, -300, 0),
			exit(),
			Make(OpCall, 0, 0, 0, 12),
			Make(opMovImm, 0, 0, 0, 1),
			exit(),
		}, ProgramOptions{Helpers: map[int32]Helper{12: tail}})
		for _, e := range Engines() {
			m := NewMachine(e)
			for i, arg := range []uint64{1, 0} {
				r0, err := m.Run(caller, arg)
				if err != nil {
					t.Fatal(err)
				}
				if i == 1 && r0 != 0 {
					t.Errorf("%s: read %#x from a slot only the earlier run's tail call wrote", e.Name(), r0)
				}
			}
		}
	})
}
