package vm

import "testing"

// A host runs a program's callback outside any run of the program (a BPF timer firing between
// packets): RunFunc starts at the function, on every engine, with the stack as a run's.
func TestEveryEngineRunsAFunctionOnItsOwn(t *testing.T) {
	insns := []Instruction{
		Make(0x18, 1, PseudoFunc, 0, 4), // 0: r1 = &callback (pc 5)
		Make(0, 0, 0, 0, 0),             // 1
		Make(0xb7, 0, 0, 0, 7),          // 2: r0 = 7
		exit(),                          // 3
		exit(),                          // 4: (padding)
		Make(0x7b, 10, 1, -8, 0),        // 5: callback: *(u64 *)(r10 - 8) = r1
		Make(0x79, 0, 10, -8, 0),        // 6: r0 = *(u64 *)(r10 - 8)
		Make(0x2f, 0, 2, 0, 0),          // 7: r0 *= r2
		exit(),                          // 8
	}
	for _, e := range Engines() {
		t.Run(e.Name(), func(t *testing.T) {
			m := NewMachine(e)
			p := mustProgram(t, insns, ProgramOptions{})
			m.DropTemp()
			r0, err := m.RunFunc(p, Address(RegionCode, 5), 6, 7)
			if err != nil || r0 != 42 {
				t.Fatalf("r0 = %d, err = %v; want 42", r0, err)
			}
			if _, err := m.RunFunc(p, Address(RegionCode, 6), 1); err == nil {
				t.Error("RunFunc ran from an instruction that starts no function")
			}
			if r0, err := m.Run(p); err != nil || r0 != 7 {
				t.Errorf("a run after it returned %d, %v", r0, err)
			}
		})
	}
}
