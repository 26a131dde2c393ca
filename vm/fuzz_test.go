package vm

import (
	"errors"
	"testing"
)

// FuzzRun feeds arbitrary bytes as a program and arbitrary bytes as memory to every engine: each run
// must end in a value or a typed error, never a panic or a hang, and all engines must agree.
func FuzzRun(f *testing.F) {
	f.Add(Encode(sumLoop()), []byte{1, 2, 3})
	f.Add(Encode(byteSum()), []byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(Encode([]Instruction{Make(0xdb, 1, 2, 0, AtomicCmpXchg), Make(0x95, 0, 0, 0, 0)}), make([]byte, 8))
	f.Add(Encode([]Instruction{Make(0x85, 0, 0, 0, 1), Make(0x95, 0, 0, 0, 0)}), []byte{})
	helpers := map[int32]Helper{
		1: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			b, err := m.Bytes(r1, int(r2&0xff), true)
			if err != nil {
				return 0, err
			}
			clear(b)
			return uint64(len(b)), nil
		},
		2: func(m *Machine, r1, r2, r3, r4, r5 uint64) (uint64, error) {
			return m.Callback(r1, r2)
		},
	}
	f.Fuzz(func(t *testing.T, prog, mem []byte) {
		if len(prog) > 8*4096 {
			return
		}
		insns, err := Decode(prog[:len(prog)/8*8])
		if err != nil {
			t.Fatal(err)
		}
		p, err := NewProgram(insns, ProgramOptions{Helpers: helpers})
		if err != nil {
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("NewProgram returned %T, want *LoadError", err)
			}
			return
		}
		var first uint64
		var firstErr error
		for i, e := range Engines() {
			m := NewMachine(e)
			m.SetBudget(20000)
			buf := append([]byte(nil), mem...)
			id := m.AddRegion(NewRegion("memory", buf, false))
			r0, err := m.Run(p, Address(id, 0), uint64(len(buf)))
			if err != nil {
				var f *Fault
				var be *BudgetError
				var re *RuntimeError
				if !errors.As(err, &f) && !errors.As(err, &be) && !errors.As(err, &re) {
					t.Fatalf("run returned untyped error %T: %v", err, err)
				}
			}
			if i == 0 {
				first, firstErr = r0, err
			} else if r0 != first || (err == nil) != (firstErr == nil) {
				t.Fatalf("%s: r0 = %d, err = %v; %s: r0 = %d, err = %v", e.Name(), r0, err, Engines()[0].Name(), first, firstErr)
			}
		}
	})
}
