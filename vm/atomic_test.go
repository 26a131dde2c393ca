package vm

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
)

// TestAtomicsAreAtomicAcrossMachines runs machines on several goroutines at once over one shared
// memory region, as a parallel replay runs programs over one map value, on every engine: every
// atomic operation's update survives (the counts come out exact), and the fetching ones hand each
// machine a value no other machine saw.
func TestAtomicsAreAtomicAcrossMachines(t *testing.T) {
	const (
		machines = 4
		rounds   = 100000
	)
	// loop wraps body (which may use r1 = the shared memory, r6 = a per-machine number, r7) in a
	// loop of rounds iterations counted in r8; r0 is 0 at exit.
	loop := func(body ...Instruction) []Instruction {
		insns := []Instruction{Make(opMovImm, 8, 0, 0, rounds), Make(opMovReg, 6, 2, 0, 0)}
		insns = append(insns, body...)
		insns = append(insns,
			Make(ClassALU64|AluSub|SrcK, 8, 0, 0, 1),
			Make(ClassJMP|JmpJNE|SrcK, 8, 0, int16(-len(body)-2), 0),
			Make(opMovImm, 0, 0, 0, 0),
			exit())
		return insns
	}
	atomicOp := func(size uint8, src uint8, off int16, op int32) Instruction {
		return Make(ClassSTX|ModeATOMIC|size, 1, src, off, op)
	}
	tests := []struct {
		name  string
		insns []Instruction
		check func(mem []byte) string
	}{
		{"64-bit lock adds all count", loop(Make(opMovImm, 2, 0, 0, 1), atomicOp(SizeDW, 2, 0, AtomicAdd)), func(mem []byte) string {
			return wantWord(binary.LittleEndian.Uint64(mem), machines*rounds)
		}},
		{"32-bit lock adds all count", loop(Make(opMovImm, 2, 0, 0, 1), atomicOp(SizeW, 2, 8, AtomicAdd)), func(mem []byte) string {
			return wantWord(uint64(binary.LittleEndian.Uint32(mem[8:])), machines*rounds)
		}},
		{"fetching adds all count", loop(Make(opMovImm, 2, 0, 0, 1), atomicOp(SizeDW, 2, 0, AtomicAdd|AtomicFetch)), func(mem []byte) string {
			return wantWord(binary.LittleEndian.Uint64(mem), machines*rounds)
		}},
		{"increments by compare-and-exchange all count", loop(
			// retry: r0 = *mem (read by adding 0, atomically: a plain load racing with the
			// other machines' stores is a data race to Go); r2 = r0 + 1;
			// r0 = cmpxchg(mem, r0, r2); if r0 != old goto retry
			Make(opMovImm, 0, 0, 0, 0),
			atomicOp(SizeDW, 0, 0, AtomicAdd|AtomicFetch),
			Make(opMovReg, 3, 0, 0, 0),
			Make(opMovReg, 2, 0, 0, 0),
			Make(opAddImm, 2, 0, 0, 1),
			atomicOp(SizeDW, 2, 0, AtomicCmpXchg),
			Make(ClassJMP|JmpJNE|SrcX, 0, 3, -7, 0),
		), func(mem []byte) string {
			return wantWord(binary.LittleEndian.Uint64(mem), machines*rounds)
		}},
		{"32-bit increments by compare-and-exchange all count", loop(
			Make(opMovImm, 0, 0, 0, 0),
			atomicOp(SizeW, 0, 8, AtomicAdd|AtomicFetch),
			Make(opMovReg, 3, 0, 0, 0),
			Make(opMovReg, 2, 0, 0, 0),
			Make(opAddImm, 2, 0, 0, 1),
			atomicOp(SizeW, 2, 8, AtomicCmpXchg),
			Make(ClassJMP32|JmpJNE|SrcX, 0, 3, -7, 0),
		), func(mem []byte) string {
			return wantWord(uint64(binary.LittleEndian.Uint32(mem[8:])), machines*rounds)
		}},
		{"fetching xors flip every bit an even number of times", loop(Make(opMovImm, 2, 0, 0, -1), atomicOp(SizeDW, 2, 0, AtomicXor|AtomicFetch)), func(mem []byte) string {
			return wantWord(binary.LittleEndian.Uint64(mem), 0)
		}},
		{"exchanges of a machine's own number leave one of them", loop(Make(opMovReg, 2, 6, 0, 0), atomicOp(SizeDW, 2, 0, AtomicXchg)), func(mem []byte) string {
			if v := binary.LittleEndian.Uint64(mem); v < 1 || v > machines {
				return wantWord(v, 1)
			}
			return ""
		}},
		{"fetching ors of each machine's bit set them all", loop(
			Make(opMovImm, 2, 0, 0, 1), Make(ClassALU64|AluLsh|SrcX, 2, 6, 0, 0), atomicOp(SizeW, 2, 8, AtomicOr|AtomicFetch),
			Make(opMovImm, 2, 0, 0, 1), Make(ClassALU64|AluLsh|SrcX, 2, 6, 0, 0), Make(ClassALU64|AluXor|SrcK, 2, 0, 0, -1),
			atomicOp(SizeDW, 2, 16, AtomicAnd|AtomicFetch),
		), func(mem []byte) string {
			if s := wantWord(uint64(binary.LittleEndian.Uint32(mem[8:])), 1<<(machines+1)-2); s != "" {
				return s
			}
			return wantWord(binary.LittleEndian.Uint64(mem[16:]), ^uint64(1<<(machines+1)-2))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, e := range Engines() {
				mem := make([]byte, 24)
				binary.LittleEndian.PutUint64(mem[16:], ^uint64(0))
				p := mustProgram(t, tt.insns, ProgramOptions{})
				var wg sync.WaitGroup
				errs := make([]error, machines)
				for i := range machines {
					m := NewMachine(e)
					id := m.AddRegion(NewRegion("shared", mem, false))
					wg.Add(1)
					go func() {
						defer wg.Done()
						// r6 = i+1: programs move arguments there, r1 keeps the region.
						_, errs[i] = m.Run(p, Address(id, 0), uint64(i+1))
					}()
				}
				wg.Wait()
				for _, err := range errs {
					if err != nil {
						t.Fatalf("%s: %v", e.Name(), err)
					}
				}
				if msg := tt.check(mem); msg != "" {
					t.Errorf("%s: %s", e.Name(), msg)
				}
			}
		})
	}
}

func wantWord(got, want uint64) string {
	if got != want {
		return fmt.Sprintf("got %#x, want %#x", got, want)
	}
	return ""
}
